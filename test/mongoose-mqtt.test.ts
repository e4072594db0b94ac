// SPDX-License-Identifier: MIT
// MQTT in the mongoose module against real peers: a mosquitto broker started by
// the test (anonymous listener, and a password-protected one) with the `mqtt`
// npm package as the other client, and the `mqtt` client talking to a firmware
// mqttListen server. The firmware clients are driven through a control topic:
// the test publishes JSON commands to it and reads what the firmware prints.
import net from "net";
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, listenFresh, sanitizerReports, startFirmware, type Running } from "./helpers/net";
import { FIRMWARE_HELPERS, Peer, all, driveMqttServer, expectPublishedBothQos, line, startBroker, type Broker } from "./helpers/mqtt";

// ---------------------------------------------------------------------------
// The firmware MQTT client

interface FirmwareConfig {
  url: string;
  clientId: string;
  version?: 4 | 5;
  username?: string;
  password?: string;
  keepalive?: number;
  cleanSession?: boolean;
  will?: { topic: string; message: string; qos?: 0 | 1 | 2; retain?: boolean };
  /** Subscribed at MQTT_OPEN, before "ready". */
  subs?: Array<[string, 0 | 1 | 2]>;
}

// Prints "<kind> <json>" lines. Commands arrive as JSON on ctl/<clientId>.
function clientFirmware(config: FirmwareConfig): string {
  return `
import {
  Manager, MqttMessage, type Connection, type MqttProperty, MG_EV_MQTT_OPEN, MG_EV_MQTT_MSG, MG_EV_MQTT_CMD,
  MG_EV_ERROR, MG_EV_CLOSE, MQTT_CMD_PUBLISH, MQTT_CMD_SUBACK,
} from "mongoose";

const CONFIG: {
  url: string; clientId: string; version?: 4 | 5; username?: string; password?: string; keepalive?: number;
  cleanSession?: boolean; will?: { topic: string; message: string; qos?: 0 | 1 | 2; retain?: boolean };
  subs?: Array<[string, 0 | 1 | 2]>;
} = ${JSON.stringify(config)};
const CTL = "ctl/" + CONFIG.clientId;

${FIRMWARE_HELPERS}
function attempt(label: string, action: () => unknown): void {
  try {
    out("attempt", { label, result: action() });
  } catch (e) {
    out("attempt", { label, error: (e as Error).name + ": " + (e as Error).message });
  }
}

let kept: MqttMessage | undefined;
let ctlSub = -1;
const mgr = new Manager();

interface Command {
  op: string; topic?: string; message?: string; hex?: string; qos?: 0 | 1 | 2; retain?: boolean;
  props?: Array<{ id: number; value: number | string; key?: string; hex?: boolean }>;
}

function command(conn: Connection, c: Command): void {
  if (c.op === "pub") {
    const properties = c.props?.map((p) => ({ id: p.id, key: p.key,
      value: p.hex ? bytesOf(String(p.value)) : p.value })) as MqttProperty[] | undefined;
    const message = c.hex !== undefined ? bytesOf(c.hex) : c.message ?? "";
    out("pubid", { topic: c.topic, id: conn.mqttPub(c.topic!, message, { qos: c.qos, retain: c.retain, properties }) });
  } else if (c.op === "sub") {
    out("subid", { topic: c.topic, id: conn.mqttSub(c.topic!, c.qos ?? 0) });
  } else if (c.op === "unsub") {
    out("unsubid", { topic: c.topic, id: conn.mqttUnsub(c.topic!) });
  } else if (c.op === "ping") {
    conn.mqttPing();
    out("pinged", {});
  } else if (c.op === "kept") {
    out("kept", kept ? describe(kept) : {});
  } else if (c.op === "bad") {
    attempt("qos 3", () => conn.mqttPub("t/x", "m", { qos: 3 as 0 }));
    attempt("empty topic", () => conn.mqttSub(""));
    attempt("unknown property", () => conn.mqttPub("t/x", "m", { properties: [{ id: 0x7f, value: 1 }] }));
    attempt("property type", () => conn.mqttPub("t/x", "m", { properties: [{ id: 0x03, value: 5 }] }));
    attempt("byte range", () => conn.mqttPub("t/x", "m", { properties: [{ id: 0x01, value: 256 }] }));
    attempt("no user key", () => conn.mqttPub("t/x", "m", { properties: [{ id: 0x26, value: "v" }] }));
    attempt("version", () => mgr.mqttConnect(CONFIG.url, { version: 6 as 5 }));
    attempt("keepalive", () => mgr.mqttConnect(CONFIG.url, { keepalive: 70000 }));
    attempt("will qos", () => mgr.mqttConnect(CONFIG.url, { will: { topic: "w", message: "m", qos: 7 as 0 } }));
    attempt("v4 properties", () => conn.mqttPub("t/x", "m", { properties: [{ id: 0x03, value: "a/b" }] }));
    attempt("bad url", () => mgr.mqttConnect(""));
  } else if (c.op === "disconnect") {
    conn.mqttDisconnect();
    conn.drain();
    out("disconnecting", {});
  }
}

function handler(conn: Connection, ev: number, data: unknown): void {
  if (ev === MG_EV_MQTT_OPEN) {
    out("open", { code: data });
    if (data !== 0) return;
    for (const [topic, qos] of CONFIG.subs ?? []) out("subid", { topic, id: conn.mqttSub(topic, qos) });
    ctlSub = conn.mqttSub(CTL, 1);
  } else if (ev === MG_EV_MQTT_MSG && data instanceof MqttMessage) {
    if (data.topic === CTL) {
      command(conn, JSON.parse(data.text) as Command);
      return;
    }
    out("msg", describe(data));
    kept = data;
  } else if (ev === MG_EV_MQTT_CMD && data instanceof MqttMessage) {
    if (data.cmd === MQTT_CMD_PUBLISH) return;
    out("cmd", { cmd: data.cmd, id: data.id, ack: data.ack, qos: data.qos });
    if (data.cmd === MQTT_CMD_SUBACK && data.id === ctlSub) out("ready", {});
  } else if (ev === MG_EV_ERROR) {
    out("error", { message: data });
  } else if (ev === MG_EV_CLOSE) {
    out("close", { isClosing: conn.isClosing });
    mgr.close();
  }
}

mgr.mqttConnect(CONFIG.url, {
  handler, clientId: CONFIG.clientId, version: CONFIG.version, username: CONFIG.username, password: CONFIG.password,
  keepalive: CONFIG.keepalive, cleanSession: CONFIG.cleanSession, will: CONFIG.will,
});
// The runtime's loop serves the Manager, so SIGTERM stops the firmware at once.
mgr.run(10);
`;
}

function build(source: string): string {
  return buildApp(makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }), "main.ts": source }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------

describe("mongoose MQTT client against mosquitto", () => {
  let broker: Broker;
  let url: string;
  const running: Running[] = [];
  const peers: Peer[] = [];

  beforeAll(async () => {
    broker = await startBroker();
    url = `mqtt://127.0.0.1:${broker.port}`;
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((fw) => fw.stop()));
    await Promise.all(peers.splice(0).map((p) => p.end()));
  });
  afterAll(async () => {
    await broker?.stop();
  });

  async function firmware(config: Omit<FirmwareConfig, "url"> & { url?: string }): Promise<Running> {
    const fw = startFirmware(build(clientFirmware({ url, ...config })));
    running.push(fw);
    return fw;
  }
  async function peer(version: 4 | 5 = 4): Promise<Peer> {
    const p = await Peer.connect(url, version);
    peers.push(p);
    return p;
  }

  test.each([4, 5] as const)("MQTT %i: connects, subscribes and receives what a Node client publishes", async (version) => {
    const id = `fw-recv-${version}`;
    const fw = await firmware({ clientId: id, version, subs: [["t/in/#", 1]] });
    expect(await line(fw, "open")).toEqual({ code: 0 });
    await fw.waitFor(/^ready /);
    const subs = all<{ topic: string; id: number }>(fw, "subid");
    expect(subs).toHaveLength(1);
    const suback = await line<{ cmd: number; id: number; qos: number }>(fw, "cmd", (c) => c.cmd === 9 && c.id === subs[0].id);
    expect(suback.id).toBeGreaterThan(0);
    await broker.waitLog(new RegExp(`as ${id} \\(p${version === 5 ? 5 : 2}, c1, k0\\)`));

    const node = await peer(version);
    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
    await node.client.publishAsync("t/in/binary", binary, { qos: 1 });
    await node.client.publishAsync("t/in/text", "héllo wörld", { qos: 0 });
    await node.client.publishAsync("t/in/one", "1", { qos: 1 });  // MQTT 5: mongoose alone reads it as "\0" + "1"
    await node.client.publishAsync("t/in/empty", "", { qos: 1 });

    type Msg = { topic: string; hex: string; text: string; qos: number; id: number; cmd: number; retain: boolean; props: object[] };
    const bin = await line<Msg>(fw, "msg", (m) => m.topic === "t/in/binary");
    expect(bin).toMatchObject({ hex: binary.toString("hex"), qos: 1, cmd: 3, retain: false, props: [] });
    expect(bin.id).toBeGreaterThan(0);
    const text = await line<Msg>(fw, "msg", (m) => m.topic === "t/in/text");
    expect(text).toMatchObject({ text: "héllo wörld", hex: Buffer.from("héllo wörld").toString("hex"), qos: 0, id: 0, cmd: 3 });
    expect(await line<Msg>(fw, "msg", (m) => m.topic === "t/in/one")).toMatchObject({ text: "1", hex: "31", qos: 1 });
    expect(await line<Msg>(fw, "msg", (m) => m.topic === "t/in/empty")).toMatchObject({ text: "", hex: "", qos: 1 });
  });

  test("MQTT 5: properties of a received PUBLISH are decoded", async () => {
    const id = "fw-props-in";
    const fw = await firmware({ clientId: id, version: 5, subs: [["p/in", 1]] });
    await fw.waitFor(/^ready /);
    const node = await peer(5);
    await node.client.publishAsync("p/in", "with properties", {
      qos: 1,
      properties: {
        contentType: "text/plain",
        responseTopic: "p/reply",
        correlationData: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
        payloadFormatIndicator: true,
        userProperties: { colour: "blue", "ключ": "значение" },
      },
    });
    const msg = await line<{ text: string; props: Array<{ id: number; key?: string; value: unknown }> }>(fw, "msg");
    expect(msg.text).toBe("with properties");
    const byId = (pid: number) => msg.props.filter((p) => p.id === pid);
    expect(byId(0x03)).toEqual([{ id: 0x03, value: "text/plain" }]);
    expect(byId(0x08)).toEqual([{ id: 0x08, value: "p/reply" }]);
    expect(byId(0x09)).toEqual([{ id: 0x09, value: "hex:deadbeef" }]);
    expect(byId(0x01)).toEqual([{ id: 0x01, value: 1 }]);
    expect(byId(0x26)).toEqual([{ id: 0x26, key: "colour", value: "blue" }, { id: 0x26, key: "ключ", value: "значение" }]);
  });

  test("firmware publishes with QoS 0 and 1 (PUBACK carries the returned id); a Node client receives them", async () => {
    const id = "fw-pub";
    const fw = await firmware({ clientId: id });
    await fw.waitFor(/^ready /);
    await expectPublishedBothQos(await peer(), id);

    expect(await line(fw, "pubid", (p) => p.topic === "t/out/zero")).toEqual({ topic: "t/out/zero", id: 0 });
    const { id: pubId } = await line<{ id: number; topic: string }>(fw, "pubid", (p) => p.topic === "t/out/one");
    expect(pubId).toBeGreaterThan(0);
    await line(fw, "cmd", (c) => c.cmd === 4 && c.id === pubId);
  });

  test("MQTT 5: firmware publishes with properties; a Node MQTT 5 client receives them", async () => {
    const id = "fw-props-out";
    const fw = await firmware({ clientId: id, version: 5 });
    await fw.waitFor(/^ready /);
    const node = await peer(5);
    await node.client.subscribeAsync("p/out", { qos: 1 });
    await node.command(id, {
      op: "pub", topic: "p/out", message: "m", qos: 1, props: [
        { id: 0x26, key: "site", value: "lab" },
        { id: 0x03, value: "application/json" },
        { id: 0x09, value: "0102", hex: true },
        { id: 0x02, value: 120 },
      ],
    });
    const got = await node.message("p/out");
    expect(got.payload.toString()).toBe("m");
    const p = got.packet.properties!;
    expect(p.userProperties).toEqual({ site: "lab" });
    expect(p.contentType).toBe("application/json");
    expect([...(p.correlationData as Buffer)]).toEqual([1, 2]);
    expect(p.messageExpiryInterval).toBeGreaterThan(100);
    expect(p.messageExpiryInterval).toBeLessThanOrEqual(120);
  });

  test("retain: a Node client subscribing later gets the firmware's retained message, flagged", async () => {
    const id = "fw-retain";
    const fw = await firmware({ clientId: id });
    await fw.waitFor(/^ready /);
    const node = await peer();
    await node.command(id, { op: "pub", topic: "r/kept", message: "stored", qos: 1, retain: true });
    await line(fw, "pubid", (p) => p.topic === "r/kept");
    await broker.waitLog(/Received PUBLISH from fw-retain \(d0, q1, r1, m\d+, 'r\/kept'/);
    const late = await peer();
    await late.client.subscribeAsync("r/kept", { qos: 1 });
    const got = await late.message("r/kept");
    expect(got.payload.toString()).toBe("stored");
    expect(got.packet.retain).toBe(true);
    // The firmware sees the retain flag on what the broker stored, too.
    await node.client.publishAsync("r/echo", "x", { qos: 0, retain: true });
    await node.command(id, { op: "sub", topic: "r/echo", qos: 0 });
    await line(fw, "msg", (m) => m.topic === "r/echo" && m.retain === true);
    await node.client.publishAsync("r/echo", "", { qos: 0, retain: true });  // clears it
    await node.client.publishAsync("r/kept", "", { qos: 0, retain: true });
  });

  test("will: delivered when the firmware dies; not after mqttDisconnect()", async () => {
    const node = await peer();
    await node.client.subscribeAsync("w/#", { qos: 1 });

    const fw = await firmware({ clientId: "fw-will", will: { topic: "w/killed", message: "gone", qos: 1 } });
    await fw.waitFor(/^ready /);
    await broker.waitLog(/Will message specified \(4 bytes\) \(r0, q1\)\./);
    fw.child.kill("SIGKILL");
    const will = await node.message("w/killed");
    expect(will.payload.toString()).toBe("gone");
    expect(will.packet.qos).toBe(1);
    expect(will.packet.retain).toBe(false);

    const polite = await firmware({ clientId: "fw-polite", will: { topic: "w/polite", message: "should not come" } });
    await polite.waitFor(/^ready /);
    await node.command("fw-polite", { op: "disconnect" });
    await line(polite, "close");
    await broker.waitLog(/Client fw-polite disconnected\./);
    // A marker after the disconnect: if a will were coming it would come first.
    await node.client.publishAsync("w/marker", "m", { qos: 1 });
    await node.message("w/marker");
    await sleep(300);
    expect(node.received.map((r) => r.topic)).not.toContain("w/polite");
    expect(await polite.exited).toBe(0);
  });

  test("mqttPing gets the broker's PINGRESP", async () => {
    const fw = await firmware({ clientId: "fw-ping", keepalive: 30 });
    await fw.waitFor(/^ready /);
    await broker.waitLog(/as fw-ping \(p2, c1, k30\)/);
    const node = await peer();
    await node.command("fw-ping", { op: "ping" });
    await line(fw, "pinged");
    await line(fw, "cmd", (c) => c.cmd === 13);
    await broker.waitLog(/Received PINGREQ from fw-ping/);
  });

  test("mqttUnsub: UNSUBACK carries its id, and delivery stops", async () => {
    for (const version of [4, 5] as const) {
      const id = `fw-unsub-${version}`;
      const fw = await firmware({ clientId: id, version, subs: [["u/a/#", 0], ["u/sync", 0]] });
      await fw.waitFor(/^ready /);
      const node = await peer();
      await node.client.publishAsync("u/a/1", "before", { qos: 0 });
      await line(fw, "msg", (m) => m.topic === "u/a/1");

      await node.command(id, { op: "unsub", topic: "u/a/#" });
      const { id: unsubId } = await line<{ id: number }>(fw, "unsubid");
      expect(unsubId).toBeGreaterThan(0);
      await line(fw, "cmd", (c) => c.cmd === 11 && c.id === unsubId);
      await broker.waitLog(new RegExp(`Received UNSUBSCRIBE from ${id}`));

      await node.client.publishAsync("u/a/2", "after", { qos: 0 });
      await node.client.publishAsync("u/sync", "sync", { qos: 0 });
      await line(fw, "msg", (m) => m.topic === "u/sync");
      expect(all<{ topic: string }>(fw, "msg").map((m) => m.topic)).toEqual(["u/a/1", "u/sync"]);
    }
  });

  test("a MqttMessage kept past its handler reads as empty", async () => {
    const id = "fw-kept";
    const fw = await firmware({ clientId: id, version: 5, subs: [["k/t", 1]] });
    await fw.waitFor(/^ready /);
    const node = await peer(5);
    await node.client.publishAsync("k/t", "payload", { qos: 1, properties: { contentType: "x/y" } });
    const live = await line<{ text: string; packet: number; props: unknown[] }>(fw, "msg");
    expect(live.text).toBe("payload");
    expect(live.packet).toBeGreaterThan(10);
    expect(live.props).toHaveLength(1);
    await node.command(id, { op: "kept" });
    expect(await line(fw, "kept")).toEqual({
      topic: "", hex: "", text: "", qos: 0, id: 0, cmd: 0, ack: 0, retain: false, packet: 0, props: [],
    });
  });

  test("username, password and CONNACK codes: accepted, refused (MQTT_OPEN 5, then closed)", async () => {
    const secure = `mqtt://127.0.0.1:${broker.securePort}`;
    const ok = await firmware({ url: secure, clientId: "fw-alice", username: "alice", password: "s3cret", cleanSession: false });
    expect(await line(ok, "open")).toEqual({ code: 0 });
    await ok.waitFor(/^ready /);
    await broker.waitLog(/as fw-alice \(p2, c0, k0, u'alice'\)/);

    const bad = await firmware({ url: secure, clientId: "fw-mallory", username: "alice", password: "wrong" });
    expect(await line(bad, "open")).toEqual({ code: 5 });
    await line(bad, "close");
    expect(await bad.exited).toBe(0);
    expect(bad.stdout()).not.toMatch(/^ready /m);
  });

  test("bad arguments throw errors that name them", async () => {
    const id = "fw-bad";
    const fw = await firmware({ clientId: id, version: 4 });
    await fw.waitFor(/^ready /);
    const node = await peer();
    await node.command(id, { op: "bad" });
    await line(fw, "attempt", (a) => a.label === "bad url");
    // Debug builds of XS put the native function's name in front: "RangeError: connMqttPub: ...".
    const errors = Object.fromEntries(all<{ label: string; error?: string }>(fw, "attempt")
      .map((a) => [a.label, a.error?.replace(/^(\w+): \w+: /, "$1: ")]));
    expect(errors).toEqual({
      "qos 3": "RangeError: MQTT QoS must be a whole number from 0 to 2",
      "empty topic": "RangeError: MQTT topic must not be empty",
      "unknown property": "RangeError: unknown MQTT property id 0x7f",
      "property type": expect.stringMatching(/^TypeError: MQTT property value must be a string/),
      "byte range": "RangeError: MQTT property value must be a whole number from 0 to 255",
      "no user key": "TypeError: MQTT user property key must be a string",
      "version": "RangeError: MQTT version must be 4 (3.1.1) or 5, not 6",
      "keepalive": "RangeError: MQTT keepalive must be a whole number from 0 to 65535",
      "will qos": "RangeError: MQTT QoS must be a whole number from 0 to 2",
      // Properties need MQTT 5: on a 3.1.1 connection they are refused rather than dropped.
      "v4 properties": expect.stringMatching(/^TypeError: MQTT properties need MQTT 5 .* on connection \d+$/),
      "bad url": "Error: mqttConnect : invalid URL or no resources",
    });
    // The connection is still usable.
    await node.command(id, { op: "ping" });
    await line(fw, "cmd", (c) => c.cmd === 13);
  });
});

// ---------------------------------------------------------------------------
// mqttListen: mongoose parses, the handler answers. Not a broker: this firmware
// serves one client the bare minimum (CONNACK, SUBACK, PINGRESP, one publish).

function serverFirmware(port: number): string {
  return `
import {
  Manager, MqttMessage, type MqttProperty, MG_EV_MQTT_CMD, MG_EV_MQTT_MSG, MG_EV_CLOSE, MQTT_CMD_CONNECT, MQTT_CMD_CONNACK,
  MQTT_CMD_SUBSCRIBE, MQTT_CMD_SUBACK, MQTT_CMD_PINGREQ,
} from "mongoose";

${FIRMWARE_HELPERS}

const mgr = new Manager();
const listener = mgr.mqttListen("mqtt://127.0.0.1:${port}", (conn, ev, data) => {
  if (ev === MG_EV_MQTT_CMD && data instanceof MqttMessage) {
    const packet = data.packet;
    out("cmd", { cmd: data.cmd, id: data.id, qos: data.qos, packet: hex(packet) });
    if (data.cmd === MQTT_CMD_CONNECT) {
      conn.mqttSendHeader(MQTT_CMD_CONNACK, 0, 2);
      conn.send(new Uint8Array([0, 0]));  // no session present, accepted
    } else if (data.cmd === MQTT_CMD_SUBSCRIBE) {
      const topics = filters(packet);
      out("subscribe", { id: data.id, topics });
      conn.mqttSendHeader(MQTT_CMD_SUBACK, 0, 2 + topics.length);
      conn.send(new Uint8Array([data.id >> 8, data.id & 0xff, ...topics.map(() => 0)]));
      out("pubid", { id: conn.mqttPub("x/back", "welcome " + topics.join(",")) });
    } else if (data.cmd === MQTT_CMD_PINGREQ) {
      conn.mqttPong();
    }
  } else if (ev === MG_EV_MQTT_MSG && data instanceof MqttMessage) {
    out("msg", { topic: data.topic, text: data.text, qos: data.qos, id: data.id });
  } else if (ev === MG_EV_CLOSE && !conn.isListening) {
    out("close", { id: conn.id });
  }
});
out("ready", { listening: listener.isListening });
mgr.run(10);
`;
}

describe("mongoose mqttListen with the mqtt npm client", () => {
  test("CONNECT is seen and answered; PUBLISH is parsed and acknowledged; SUBSCRIBE, PINGREQ answered", async () => {
    const port = await freePort();
    const fw = startFirmware(build(serverFirmware(port)));
    try {
      expect(await line(fw, "ready")).toEqual({ listening: true });
      expect(await driveMqttServer(fw, port)).toBe(0);
    } finally {
      await fw.stop();
    }
  });
});

// PUBLISH packets (QoS 0) with MQTT 5 properties that lie about their lengths:
// the firmware decodes the well-formed properties in front of the first bad
// one and reads nothing past the packet (run with XSMG_TEST_VARIANT=sanitize).
describe("MQTT 5 properties from a broker that sends malformed ones", () => {
  function publish(topic: string, props: number[], payload: string): Buffer {
    const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), Buffer.from(topic),
      Buffer.from([props.length]), Buffer.from(props), Buffer.from(payload)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
  const str = (text: string) => [text.length >> 8, text.length & 0xff, ...Buffer.from(text)];
  const cases: Array<[string, number[], object[]]> = [
    ["m/user-key-past-end", [0x26, 0x00, 0x10, 0x6b], []],
    ["m/user-value-past-end", [0x03, ...str("ok"), 0x26, ...str("k"), 0x00, 0x20, 0x76], [{ id: 0x03, value: "ok" }]],
    ["m/string-past-end", [0x08, 0x00, 0x09, 0x61], []],
    ["m/int-cut-short", [0x01, 0x01, 0x02, 0x00, 0x00], [{ id: 0x01, value: 1 }]],
    ["m/varint-cut-short", [0x0b, 0x80], []],
    ["m/unknown-id", [0x7f, 0x03, ...str("ok")], []],
    ["m/well-formed", [0x03, ...str("text/plain"), 0x26, ...str("k"), ...str("v")],
      [{ id: 0x03, value: "text/plain" }, { id: 0x26, key: "k", value: "v" }]],
  ];

  test("well-formed properties before a malformed one are decoded; nothing past the packet is read", async () => {
    const server = net.createServer((socket) => {
      socket.once("data", () => {
        socket.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]));  // CONNACK, MQTT 5, no properties
        for (const [topic, props] of cases) socket.write(publish(topic, props, "p"));
      });
      socket.on("error", () => undefined);
    });
    const port = await listenFresh(server);
    const fw = startFirmware(build(clientFirmware({ url: `mqtt://127.0.0.1:${port}`, clientId: "fw-bad-props", version: 5 })));
    try {
      for (const [topic, , props] of cases)
        expect(await line(fw, "msg", (m) => m.topic === topic)).toMatchObject({ text: "p", props });
    } finally {
      await fw.stop();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(sanitizerReports(fw.stderr())).toEqual([]);
  });
});
