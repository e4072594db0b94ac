// SPDX-License-Identifier: MIT
// AsyncManager MQTT and SNTP against real peers: a mosquitto broker started by the
// test with the `mqtt` npm package as the other client, a firmware mqttListen
// server for an `mqtt` client, and chronyd for SNTP. The firmware's two MQTT
// clients (3.1.1 and 5) read JSON commands from a control topic with
// mqttMessages(); the test publishes them and reads what the firmware prints.
import dgram from "dgram";
import net from "net";
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, startFirmware, sanitizerReports, type Running, listenFresh } from "./helpers/net";
import { FIRMWARE_HELPERS, Peer, all, driveMqttServer, expectPublishedBothQos, line, startBroker, type Broker } from "./helpers/mqtt";
import { startChrony, startLossyRelay, type Chrony, type LossyRelay } from "./helpers/chrony";

// XSMG_TEST_VARIANT=sanitize (ASan+UBSan) or tsan runs these firmwares under a sanitizer.
const VARIANT = process.env.XSMG_TEST_VARIANT;

function build(source: string): string {
  return buildApp(makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }), "main.ts": source }), VARIANT);
}

/** SIGTERM stops a firmware with its poll task running: a clean 143 and no sanitizer report. */
async function stopClean(fw: Running | undefined): Promise<void> {
  if (!fw) return;
  const code = await fw.stop();
  expect(sanitizerReports(fw.stderr())).toEqual([]);
  // ThreadSanitizer exits 66 after reporting the known runtime race.
  expect(VARIANT === "tsan" ? [143, 66] : [143]).toContain(code);
}

// Firmware source: report() prints "<name> <json>", { ok, ms, value } or { ok, ms, error } (out() is FIRMWARE_HELPERS').
const REPORT = `
async function report(name: string, fn: () => Promise<unknown>): Promise<void> {
  const began = Date.now();
  try {
    const value = await fn();
    out(name, { ok: true, ms: Date.now() - began, value });
  } catch (error) {
    out(name, { ok: false, ms: Date.now() - began, error: (error as Error).message });
  }
}
`;

/** The one "<name> {ok, ms, value | error}" line a firmware's report() printed. */
function reportOf(fw: Running, name: string): { ok: boolean; ms: number; value?: unknown; error?: string } {
  const found = all<{ ok: boolean; ms: number; value?: unknown; error?: string }>(fw, name);
  if (found.length !== 1) throw new Error(`${found.length} "${name}" lines in:\n${fw.stdout()}\n${fw.stderr()}`);
  return found[0];
}

/** A line the firmware printed: which client, and what it said. */
type Row = { c?: string; topic?: string; id: number; [field: string]: unknown };

interface MqttPorts {
  url: string;      // the broker, anonymous
  secure: string;   // the broker, alice / s3cret
  closed: number;   // nobody listens
  silent: number;   // a TCP server that never answers
  listen: number;   // the firmware's mqttListen
}

function mqttFirmware(p: MqttPorts): string {
  return `
import {
  AsyncManager, AsyncConnection, AbortController, MqttMessage, type EventData, type MqttProperty,
  MG_EV_MQTT_OPEN, MG_EV_MQTT_CMD, MG_EV_MQTT_MSG, MG_EV_CLOSE, MQTT_CMD_CONNECT, MQTT_CMD_CONNACK,
  MQTT_CMD_PUBLISH, MQTT_CMD_SUBSCRIBE, MQTT_CMD_SUBACK, MQTT_CMD_PINGREQ,
} from "mongoose";
const P = ${JSON.stringify(p)};
${FIRMWARE_HELPERS}
${REPORT}
// 1. The new members before start() and after close().
const members: Record<string, (am: AsyncManager) => Promise<unknown>> = {
  mqttConnect: (am) => am.mqttConnect(P.url),
  mqttListen: (am) => am.mqttListen("mqtt://127.0.0.1:0"),
  sntpConnect: (am) => am.sntpConnect("udp://127.0.0.1:123"),
  sntpTime: (am) => am.sntpTime("udp://127.0.0.1:123"),
};
async function attempt(when: string, am: AsyncManager): Promise<void> {
  for (const [name, member] of Object.entries(members)) {
    try {
      await member(am);
      out("notstarted", { when, name, error: "did not throw" });
    } catch (error) {
      out("notstarted", { when, name, error: (error as Error).message });
    }
  }
}
{
  const idle = new AsyncManager();
  await attempt("before", idle);
  await idle.start();
  const conn = await idle.mqttConnect(P.url, { clientId: "fw-idle" });
  await idle.close();
  await attempt("after", idle);
  try {
    await conn.mqttPub("t/x", "m");
  } catch (error) {
    out("notstarted", { when: "after", name: "conn.mqttPub", error: (error as Error).message });
  }
}

const am = new AsyncManager();
await am.start();

// 2. An MQTT server: mongoose parses, the handler answers with the async methods.
const server = await am.mqttListen("mqtt://127.0.0.1:" + P.listen, async (conn: AsyncConnection, ev: number, data: EventData) => {
  if (ev === MG_EV_MQTT_CMD && data instanceof MqttMessage) {
    const packet = data.packet;
    out("srv-cmd", { cmd: data.cmd, id: data.id, qos: data.qos, packet: hex(packet) });
    if (data.cmd === MQTT_CMD_CONNECT) {
      conn.mqttSendHeader(MQTT_CMD_CONNACK, 0, 2);
      await conn.send(new Uint8Array([0, 0]));  // no session present, accepted
    } else if (data.cmd === MQTT_CMD_SUBSCRIBE) {
      const topics = filters(packet);
      out("srv-subscribe", { id: data.id, topics });
      conn.mqttSendHeader(MQTT_CMD_SUBACK, 0, 2 + topics.length);
      conn.send(new Uint8Array([data.id >> 8, data.id & 0xff, ...topics.map(() => 0)]));
      out("srv-pubid", { id: await conn.mqttPub("x/back", "welcome " + topics.join(","), { qos: 1 }) });
    } else if (data.cmd === MQTT_CMD_PINGREQ) {
      await conn.mqttPong();
    }
  } else if (ev === MG_EV_MQTT_MSG && data instanceof MqttMessage) {
    out("srv-msg", { topic: data.topic, text: data.text, qos: data.qos, id: data.id });
  } else if (ev === MG_EV_CLOSE && !conn.isListening) {
    out("srv-close", { id: conn.id });
  }
});
out("srv-ready", { listening: server.isListening, port: server.localAddr?.port });

// 3. Connects that fail, and what a closed connection answers.
const wrong = { username: "alice", password: "wrong" };
await report("refused", () => am.mqttConnect(P.secure, { clientId: "fw-mallory", ...wrong }));
await report("refused5", () => am.mqttConnect(P.secure, { clientId: "fw-mallory5", version: 5, ...wrong }));
await report("unreachable", () => am.mqttConnect("mqtt://127.0.0.1:" + P.closed));
// Refused rather than sending the credentials to a server nobody vouched for, or in plain text.
await report("mqtts", () => am.mqttConnect("mqtts://127.0.0.1:" + P.closed, { username: "u", password: "p" }));
await report("mqtts-listen", () => am.mqttListen("mqtts://127.0.0.1:" + P.closed));
// This firmware does not import "mongoose/mqtt-client": am.mqtt() says so.
await report("mqtt-unimported", async () => am.mqtt(P.url));
// This firmware does not import mongoose/mqtt-broker: it carries no broker.
await report("no-broker", () => am.mqttBroker("mqtt://127.0.0.1:" + P.closed));
await report("timeout", () => am.mqttConnect("mqtt://127.0.0.1:" + P.silent, { timeout: 300 }));
await report("abort", () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("stopped by the firmware")), 100);
  return am.mqttConnect("mqtt://127.0.0.1:" + P.silent, { signal: controller.signal });
});
await report("bad-version", () => am.mqttConnect(P.url, { version: 6 as 5 }));
await report("alice", async () => {
  const events: string[] = [];
  const conn = await am.mqttConnect(P.secure, {
    clientId: "fw-alice", username: "alice", password: "s3cret", cleanSession: false,
    handler: (_c, ev, data) => void events.push(ev + ":" + String(data)),
  });
  const seen = events.filter((e) => e.startsWith(MG_EV_MQTT_OPEN + ":"));
  await conn.mqttDisconnect();
  await conn.close();
  return { seen, client: conn.isClient, port: conn.remoteAddr?.port };
});
await report("closed-conn", async () => {
  const conn = await am.mqttConnect(P.url, { clientId: "fw-short" });
  await conn.mqttDisconnect();
  await conn.close();
  const errors: string[] = [];
  const actions = [
    () => conn.mqttPub("t/x", "m"), () => conn.mqttSub("t/x"), () => conn.mqttUnsub("t/x"), () => conn.mqttPing(),
    () => conn.mqttPong(), () => conn.mqttDisconnect(), () => conn.mqttSendHeader(12, 0, 0), () => conn.sntpRequest(),
  ];
  for (const action of actions) {
    try {
      await action();
      errors.push("resolved");
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  return { id: conn.id, closed: conn.isClosed, errors };
});
await report("not-mqtt", async () => {
  // MQTT packets on a listener would sit in its send buffer forever: refused.
  try {
    await server.mqttPing();
    return "resolved";
  } catch (error) {
    return (error as Error).message;
  }
});

// 4. Two clients driven through their control topics.
interface Command {
  op: string; topic?: string; message?: string; hex?: string; qos?: 0 | 1 | 2; retain?: boolean;
  props?: Array<{ id: number; value: number | string; key?: string; hex?: boolean }>;
}
async function bad(c: string, label: string, action: () => Promise<unknown>): Promise<void> {
  try {
    out("attempt", { c, label, result: await action() });
  } catch (e) {
    out("attempt", { c, label, error: (e as Error).name + ": " + (e as Error).message });
  }
}
async function command(conn: AsyncConnection, c: string, cmd: Command): Promise<void> {
  if (cmd.op === "pub") {
    const properties = cmd.props?.map((q) => ({ id: q.id, key: q.key, value: q.hex ? bytesOf(String(q.value)) : q.value }));
    const message = cmd.hex !== undefined ? bytesOf(cmd.hex) : cmd.message ?? "";
    out("pubid", { c, topic: cmd.topic, id: await conn.mqttPub(cmd.topic!, message, { qos: cmd.qos, retain: cmd.retain, properties }) });
  } else if (cmd.op === "sub") {
    out("subid", { c, topic: cmd.topic, id: await conn.mqttSub(cmd.topic!, cmd.qos ?? 0) });
  } else if (cmd.op === "unsub") {
    out("unsubid", { c, topic: cmd.topic, id: await conn.mqttUnsub(cmd.topic!) });
  } else if (cmd.op === "ping") {
    out("pinged", { c, value: await conn.mqttPing() });
  } else if (cmd.op === "bad") {
    await bad(c, "qos 3", () => conn.mqttPub("t/x", "m", { qos: 3 as 0 }));
    await bad(c, "empty topic", () => conn.mqttSub(""));
    await bad(c, "unknown property", () => conn.mqttPub("t/x", "m", { properties: [{ id: 0x7f, value: 1 }] }));
    await bad(c, "properties", () => conn.mqttPub("t/x", "m", { properties: [{ id: 0x03, value: "a/b" }] }));
    await bad(c, "header", () => conn.mqttSendHeader(0, 0, 0));
    await bad(c, "sntp", () => conn.sntpRequest());
    out("bad-done", { c });
  } else if (cmd.op === "bye") {
    await conn.mqttDisconnect();
    await conn.close();
    out("bye", { c, closed: conn.isClosed });
  }
}
async function client(c: string, version: 4 | 5): Promise<void> {
  const seen: string[] = [];
  const conn = await am.mqttConnect(P.url, {
    clientId: c, version,
    handler: (_conn, ev, data) => {
      if (ev === MG_EV_MQTT_OPEN) {
        seen.push("open " + typeof data + " " + String(data));
      } else if (ev === MG_EV_MQTT_CMD && data instanceof MqttMessage && data.cmd !== MQTT_CMD_PUBLISH) {
        out("cmd", { c, cmd: data.cmd, id: data.id, qos: data.qos });
      } else if (ev === MG_EV_CLOSE) {
        out("close", { c });
      }
    },
  });
  out("connected", { c, id: conn.id, seen, isClient: conn.isClient });
  const messages = conn.mqttMessages();
  const ctl = "ctl/" + c;
  out("ctl", { c, id: await conn.mqttSub(ctl, 1) });
  for await (const m of messages) {
    if (m.topic !== ctl) {
      out("msg", { c, ...describe(m) });
      continue;
    }
    const cmd = JSON.parse(m.text) as Command;
    try {
      await command(conn, c, cmd);
    } catch (error) {
      out("failed", { c, op: cmd.op, error: (error as Error).message });
    }
  }
  out("ended", { c, closed: conn.isClosed });
}
for (const [c, version] of [["fw-main", 4], ["fw-five", 5]] as const)
  client(c, version).catch((error) => out("client-failed", { c, error: (error as Error).message }));
out("setup-done", {});
`;
}

describe("AsyncManager MQTT against mosquitto and the mqtt npm client", () => {
  let broker: Broker;
  let fw: Running;
  let ports: MqttPorts;
  let silent: net.Server;
  const silentClosed: number[] = [];
  const peers: Peer[] = [];

  beforeAll(async () => {
    broker = await startBroker();
    silent = net.createServer((socket) => {
      const began = Date.now();
      socket.on("data", () => undefined);  // takes the CONNECT, never answers
      socket.on("close", () => silentClosed.push(Date.now() - began));
    });
    await listenFresh(silent);
    ports = {
      url: `mqtt://127.0.0.1:${broker.port}`, secure: `mqtt://127.0.0.1:${broker.securePort}`,
      closed: await freePort(), silent: (silent.address() as net.AddressInfo).port, listen: await freePort(),
    };
    fw = startFirmware(build(mqttFirmware(ports)));
    await fw.waitFor(/^setup-done /, 30000);
    await line(fw, "ctl", (v) => v.c === "fw-main");
    await line(fw, "ctl", (v) => v.c === "fw-five");
  }, 90000);

  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.end()));
  });

  afterAll(async () => {
    if (process.env.XSMG_DUMP) console.log(fw?.stdout(), fw?.stderr());
    try {
      await stopClean(fw);
    } finally {
      silent?.close();
      await broker?.stop();
    }
  });

  async function peer(version: 4 | 5 = 4): Promise<Peer> {
    const p = await Peer.connect(ports.url, version);
    peers.push(p);
    return p;
  }

  /** Waits until the client's control subscription is acknowledged. */
  async function ready(c: string): Promise<void> {
    const { id } = await line<Row>(fw, "ctl", (v) => v.c === c);
    await line(fw, "cmd", (v) => v.c === c && v.cmd === 9 && v.id === id);
  }

  it.each(["mqttConnect", "mqttListen", "sntpConnect", "sntpTime"])("%s throws 'AsyncManager is not started' before start() and after close()", (name) => {
    const lines = all<{ when: string; name: string; error: string }>(fw, "notstarted").filter((l) => l.name === name);
    expect(lines).toEqual([
      { when: "before", name, error: "AsyncManager is not started" },
      { when: "after", name, error: "AsyncManager is not started" },
    ]);
  });

  it("a connection's MQTT methods throw 'AsyncManager is not started' after close()", () => {
    expect(all(fw, "notstarted").filter((l) => l.name === "conn.mqttPub"))
      .toEqual([{ when: "after", name: "conn.mqttPub", error: "AsyncManager is not started" }]);
  });

  it("mqttConnect resolves once the broker's CONNACK accepted it; the handler had MQTT_OPEN with the code first", async () => {
    for (const [c, v] of [["fw-main", 2], ["fw-five", 5]] as const) {
      const connected = await line<Row & { seen: string[]; isClient: boolean }>(fw, "connected", (l) => l.c === c);
      expect(connected.seen).toEqual(["open number 0"]);
      expect(connected.isClient).toBe(true);
      await broker.waitLog(new RegExp(`as ${c} \\(p${v}, c1, k0\\)`));
    }
    const alice = reportOf(fw, "alice");
    expect(alice).toMatchObject({ ok: true, value: { seen: [`17:0`], client: true, port: broker.securePort } });
    await broker.waitLog(/as fw-alice \(p2, c0, k0, u'alice'\)/);
  });

  it("firmware publishes with QoS 0 and 1; a Node subscriber gets them; the PUBACK carries the resolved id", async () => {
    await ready("fw-main");
    await expectPublishedBothQos(await peer(), "fw-main");

    expect(await line(fw, "pubid", (p) => p.topic === "t/out/zero")).toEqual({ c: "fw-main", topic: "t/out/zero", id: 0 });
    const { id } = await line<Row>(fw, "pubid", (p) => p.topic === "t/out/one");
    expect(id).toBeGreaterThan(0);
    await line(fw, "cmd", (c) => c.c === "fw-main" && c.cmd === 4 && c.id === id);
  });

  it("firmware subscribes (SUBACK carries the resolved id) and receives what a Node client publishes", async () => {
    await ready("fw-main");
    const node = await peer();
    await node.command("fw-main", { op: "sub", topic: "t/in/#", qos: 1 });
    const { id } = await line<Row>(fw, "subid", (s) => s.topic === "t/in/#");
    expect(id).toBeGreaterThan(0);
    await line(fw, "cmd", (c) => c.c === "fw-main" && c.cmd === 9 && c.id === id);

    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
    await node.client.publishAsync("t/in/binary", binary, { qos: 1 });
    await node.client.publishAsync("t/in/text", "héllo wörld", { qos: 0 });
    const bin = await line<Row>(fw, "msg", (m) => m.c === "fw-main" && m.topic === "t/in/binary");
    expect(bin).toMatchObject({ hex: binary.toString("hex"), qos: 1 });
    expect(bin.id).toBeGreaterThan(0);
    expect(await line<Row>(fw, "msg", (m) => m.c === "fw-main" && m.topic === "t/in/text"))
      .toMatchObject({ text: "héllo wörld", qos: 0, id: 0 });
  });

  it("MQTT 5: publishes properties a Node client reads; reads the properties and a 1-byte payload a Node client sends", async () => {
    await ready("fw-five");
    const node = await peer(5);
    await node.client.subscribeAsync("p/out", { qos: 1 });
    await node.command("fw-five", {
      op: "pub", topic: "p/out", message: "m", qos: 1, props: [
        { id: 0x26, key: "site", value: "lab" },
        { id: 0x03, value: "application/json" },
        { id: 0x09, value: "0102", hex: true },
      ],
    });
    const got = await node.message("p/out");
    expect(got.payload.toString()).toBe("m");
    expect(got.packet.properties?.userProperties).toEqual({ site: "lab" });
    expect(got.packet.properties?.contentType).toBe("application/json");
    expect([...(got.packet.properties?.correlationData as Buffer)]).toEqual([1, 2]);

    await node.command("fw-five", { op: "sub", topic: "p/in/#", qos: 1 });
    const { id } = await line<Row>(fw, "subid", (s) => s.c === "fw-five" && s.topic === "p/in/#");
    await line(fw, "cmd", (c) => c.c === "fw-five" && c.cmd === 9 && c.id === id);
    await node.client.publishAsync("p/in", "with properties", { qos: 1, properties: { contentType: "text/plain", userProperties: { k: "v" } } });
    const msg = await line<Row>(fw, "msg", (m) => m.c === "fw-five" && m.topic === "p/in");
    expect(msg.text).toBe("with properties");
    expect(msg.props).toEqual([{ id: 0x03, value: "text/plain" }, { id: 0x26, key: "k", value: "v" }]);
    // One byte and no properties: mongoose alone reads "\0" + "1" (see xm_mg_mqtt.c's repair).
    await node.client.publishAsync("p/in/one", "1", { qos: 1 });
    expect(await line<Row>(fw, "msg", (m) => m.c === "fw-five" && m.topic === "p/in/one")).toMatchObject({ text: "1", hex: "31", props: [] });
  });

  it("mqttUnsub: the UNSUBACK carries the resolved id, and delivery stops", async () => {
    await ready("fw-main");
    const node = await peer();
    await node.command("fw-main", { op: "sub", topic: "u/a/#", qos: 0 });
    await node.command("fw-main", { op: "sub", topic: "u/sync", qos: 0 });
    const { id: syncId } = await line<Row>(fw, "subid", (s) => s.topic === "u/sync");
    await line(fw, "cmd", (c) => c.c === "fw-main" && c.cmd === 9 && c.id === syncId);
    await node.client.publishAsync("u/a/1", "before", { qos: 0 });
    await line(fw, "msg", (m) => m.topic === "u/a/1");

    await node.command("fw-main", { op: "unsub", topic: "u/a/#" });
    const { id } = await line<Row>(fw, "unsubid", (s) => s.topic === "u/a/#");
    expect(id).toBeGreaterThan(0);
    await line(fw, "cmd", (c) => c.c === "fw-main" && c.cmd === 11 && c.id === id);
    await broker.waitLog(/Received UNSUBSCRIBE from fw-main/);

    await node.client.publishAsync("u/a/2", "after", { qos: 0 });
    await node.client.publishAsync("u/sync", "sync", { qos: 0 });
    await line(fw, "msg", (m) => m.topic === "u/sync");
    expect(all<{ topic: string }>(fw, "msg").map((m) => m.topic).filter((t) => t.startsWith("u/"))).toEqual(["u/a/1", "u/sync"]);
  });

  it("mqttPing resolves; the broker's PINGRESP reaches the handler", async () => {
    await ready("fw-main");
    const node = await peer();
    const before = all(fw, "cmd").filter((c) => c.c === "fw-main" && c.cmd === 13).length;
    await node.command("fw-main", { op: "ping" });
    expect(await line(fw, "pinged", (p) => p.c === "fw-main")).toEqual({ c: "fw-main" });
    await broker.waitLog(/Received PINGREQ from fw-main/);
    for (let i = 0; i < 100 && all(fw, "cmd").filter((c) => c.c === "fw-main" && c.cmd === 13).length === before; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(all(fw, "cmd").filter((c) => c.c === "fw-main" && c.cmd === 13).length).toBe(before + 1);
  });

  it("bad arguments reject with errors that name them", async () => {
    await ready("fw-main");
    const node = await peer();
    await node.command("fw-main", { op: "bad" });
    await line(fw, "bad-done", (b) => b.c === "fw-main");
    // Debug builds of XS put the native function's name in front: "RangeError: mqttPub: ...".
    const errors = Object.fromEntries(all<{ c: string; label: string; error?: string }>(fw, "attempt")
      .filter((a) => a.c === "fw-main").map((a) => [a.label, a.error?.replace(/^(\w+): \w+: /, "$1: ")]));
    expect(errors).toEqual({
      "qos 3": "RangeError: MQTT QoS must be a whole number from 0 to 2",
      "empty topic": "RangeError: MQTT topic must not be empty",
      "unknown property": "RangeError: unknown MQTT property id 0x7f",
      "properties": expect.stringMatching(/^Error: MQTT properties need MQTT 5 \(mqttConnect with version: 5\) on connection \d+$/),
      "header": "RangeError: MQTT command 0 is reserved",
      "sntp": expect.stringMatching(/^Error: connection \d+ is not UDP: sntpRequest needs a connection from sntpConnect$/),
    });
    expect(reportOf(fw, "bad-version")).toMatchObject({ ok: false, error: expect.stringMatching(/MQTT version must be 4 \(3\.1\.1\) or 5, not 6$/) });
  });

  it("a refused CONNACK rejects naming the URL and the code; the connection is closed", () => {
    expect(reportOf(fw, "refused")).toMatchObject({
      ok: false, error: `mqttConnect ${ports.secure}: the broker refused the connection: CONNACK return code 5 (not authorized)`,
    });
    expect(reportOf(fw, "refused5")).toMatchObject({
      ok: false, error: expect.stringMatching(new RegExp(`^mqttConnect ${ports.secure}: the broker refused the connection: ` +
        "CONNACK reason code 13[45] \\((bad user name or password|not authorized)\\)$")),
    });
  });

  it("a port nobody listens on rejects naming the URL and the reason", () => {
    expect(reportOf(fw, "unreachable")).toMatchObject({
      ok: false, error: `mqttConnect mqtt://127.0.0.1:${ports.closed}: Connection refused (socket error)`,
    });
  });

  it("mqtts:// without tls options is refused by mqttConnect (it would trust anyone); mqttListen wants a cert", () => {
    expect(reportOf(fw, "mqtts")).toMatchObject({
      ok: false, error: `mqttConnect mqtts://127.0.0.1:${ports.closed}: a TLS client needs tls.ca (the CA its server's certificate must lead to), or tls.skipVerification: true not to verify its certificate (the name is still checked)`,
    });
    expect(reportOf(fw, "mqtts-listen")).toMatchObject({
      ok: false, error: `listen mqtts://127.0.0.1:${ports.closed}: a TLS server needs tls: { cert, key }`,
    });
  });

  it("am.mqtt() in a firmware that does not import \"mongoose/mqtt-client\" throws saying so", () => {
    expect(reportOf(fw, "mqtt-unimported")).toMatchObject({
      ok: false, error: `mqtt ${ports.url}: not in this firmware, which links it in with import "mongoose/mqtt-client" once`,
    });
  });

  it("mqttBroker says how to link the broker in when the firmware did not", () => {
    expect(reportOf(fw, "no-broker")).toMatchObject({
      ok: false, error: `mqttBroker mqtt://127.0.0.1:${ports.closed}: not in this firmware, which links it in with import "mongoose/mqtt-broker" once`,
    });
  });

  it("a broker that never answers CONNECT: timeout and abort reject, and the connections are closed", async () => {
    const timeout = reportOf(fw, "timeout");
    expect(timeout).toMatchObject({ ok: false, error: `mqttConnect mqtt://127.0.0.1:${ports.silent}: timed out after 300 ms` });
    expect(timeout.ms).toBeGreaterThanOrEqual(295);
    expect(timeout.ms).toBeLessThan(1500);
    const abort = reportOf(fw, "abort");
    expect(abort).toMatchObject({ ok: false, error: "stopped by the firmware" });
    expect(abort.ms).toBeLessThan(1000);
    // Both connections were closed by the firmware right after giving up.
    expect(silentClosed.length).toBe(2);
    expect(Math.max(...silentClosed)).toBeLessThan(1500);
  });

  it("every action on a closed connection rejects 'connection N is closed'; on a listener, a clear refusal", () => {
    const r = reportOf(fw, "closed-conn") as { ok: boolean; value: { id: number; closed: boolean; errors: string[] } };
    expect(r.ok).toBe(true);
    expect(r.value.closed).toBe(true);
    expect(r.value.errors).toEqual(Array(8).fill(`connection ${r.value.id} is closed`));
    expect(reportOf(fw, "not-mqtt").value).toMatch(/^connection \d+ is listening: MQTT packets go over a TCP client or accepted connection$/);
  });

  it("mqttListen serves a real mqtt client: CONNECT/CONNACK, PUBLISH (acknowledged), SUBSCRIBE/SUBACK and a publish back", async () => {
    expect(await line(fw, "srv-ready")).toEqual({ listening: true, port: ports.listen });
    // The server publishes x/back with QoS 1: mqttPub resolved to the id the client's PUBACK carries.
    expect(await driveMqttServer(fw, ports.listen, "srv-")).toBe(1);
    const { id } = await line<Row>(fw, "srv-pubid");
    expect(id).toBeGreaterThan(0);
    expect(all(fw, "srv-cmd").filter((c) => c.cmd === 4 && c.id === id)).toHaveLength(1);
  });

  // Last: it ends fw-main.
  it("mqttDisconnect + close: the broker drops the client, and mqttMessages() ends", async () => {
    await ready("fw-main");
    const node = await peer();
    await node.command("fw-main", { op: "bye" });
    expect(await line(fw, "bye")).toEqual({ c: "fw-main", closed: true });
    expect(await line(fw, "ended", (e) => e.c === "fw-main")).toEqual({ c: "fw-main", closed: true });
    await line(fw, "close", (e) => e.c === "fw-main");
    await broker.waitLog(/Client fw-main disconnected\./);
    expect(fw.stdout()).not.toMatch(/^(client-failed|failed) /m);
  });
});

// ---------------------------------------------------------------------------
// SNTP

interface SntpPorts {
  chrony: number;
  relay: number;    // drops the first request, relays the rest to chronyd
  silent: number;   // a UDP socket that never answers
}

function sntpFirmware(p: SntpPorts): string {
  return `
import { AsyncManager, AsyncConnection, MG_EV_SNTP_TIME, MG_EV_CLOSE, MG_EV_ERROR } from "mongoose";
const P = ${JSON.stringify(p)};
function out(kind: string, fields: object): void {
  console.log(kind + " " + JSON.stringify(fields));
}
${REPORT}
const am = new AsyncManager();
await am.start();

await report("connect", async () => {
  const events: string[] = [];
  let done!: () => void;
  const closed = new Promise<void>((resolve) => (done = resolve));
  const conn = await am.sntpConnect("udp://127.0.0.1:" + P.chrony, (_c, ev, data) => {
    if (ev === MG_EV_SNTP_TIME) events.push("time " + typeof data + " " + String(data) + " " + Date.now());
    else if (ev === MG_EV_ERROR) events.push("error " + String(data));
    else if (ev === MG_EV_CLOSE) done();
  });
  const udp = conn.isUdp;
  await closed;
  let after = "";
  try {
    await conn.sntpRequest();
  } catch (error) {
    after = (error as Error).message;
  }
  return { udp, id: conn.id, events, after };
});
await report("time", async () => {
  const time = await am.sntpTime("udp://127.0.0.1:" + P.chrony);
  return { time, type: typeof time, now: Date.now(), date: new Date(time).getFullYear() };
});
await report("again", async () => {
  // The relay loses the first request: ask again until the time comes.
  let time = 0;
  let asked = 0;
  const conn = await am.sntpConnect("udp://127.0.0.1:" + P.relay, (_c, ev, data) => {
    if (ev === MG_EV_SNTP_TIME && typeof data === "number") time = data;
  });
  const began = Date.now();
  while (!time && asked < 5) {
    await am.sleep(300);
    if (time) break;
    await conn.sntpRequest();
    asked++;
  }
  return { time, asked, began };
});
await report("silent", () => am.sntpTime("udp://127.0.0.1:" + P.silent, { timeout: 300 }));
await report("no-reply", () => am.sntpTime("udp://127.0.0.1:" + P.silent));
out("sntp-done", {});
`;
}

describe("AsyncManager SNTP against chronyd", () => {
  let chrony: Chrony;
  let fw: Running;
  let relay: LossyRelay;
  let silent: dgram.Socket;
  let silentRequests = 0;

  beforeAll(async () => {
    chrony = await startChrony();
    relay = await startLossyRelay(chrony.port);
    silent = dgram.createSocket("udp4");
    silent.on("message", () => silentRequests++);
    await new Promise<void>((r) => silent.bind(0, "127.0.0.1", r));
    fw = startFirmware(build(sntpFirmware({ chrony: chrony.port, relay: relay.port, silent: silent.address().port })));
    await fw.waitFor(/^sntp-done /, 30000);
  }, 90000);

  afterAll(async () => {
    if (process.env.XSMG_DUMP) console.log(fw?.stdout(), fw?.stderr());
    try {
      await stopClean(fw);
    } finally {
      relay?.close();
      silent?.close();
      await chrony?.stop();
    }
  });

  it("sntpConnect resolves to a UDP connection; SNTP_TIME brings epoch ms as a number; then mongoose closes it", () => {
    const r = reportOf(fw, "connect") as { ok: boolean; value: { udp: boolean; id: number; events: string[]; after: string } };
    expect(r.ok).toBe(true);
    expect(r.value.udp).toBe(true);
    expect(r.value.events).toHaveLength(1);
    const [, type, ms, now] = r.value.events[0].split(" ");
    expect(type).toBe("number");
    // chronyd serves this machine's clock, which the firmware's Date.now() reads too.
    expect(Math.abs(Number(ms) - Number(now))).toBeLessThan(1000);
    expect(Math.abs(Number(now) - Date.now())).toBeLessThan(60000);
    expect(r.value.after).toBe(`connection ${r.value.id} is closed`);
  });

  it("sntpTime resolves to epoch milliseconds close to Date.now()", () => {
    const r = reportOf(fw, "time") as { ok: boolean; value: { time: number; type: string; now: number; date: number } };
    expect(r.ok).toBe(true);
    expect(r.value.type).toBe("number");
    expect(Math.abs(r.value.time - r.value.now)).toBeLessThan(1000);
    expect(Math.abs(r.value.now - Date.now())).toBeLessThan(60000);
    expect(r.value.date).toBe(new Date().getFullYear());
  });

  it("sntpRequest asks again: through a link that drops the first request, the second gets the time", () => {
    const r = reportOf(fw, "again") as { ok: boolean; value: { time: number; asked: number; began: number } };
    expect(r.ok).toBe(true);
    expect(r.value.asked).toBeGreaterThanOrEqual(1);
    expect(Math.abs(r.value.time - r.value.began)).toBeLessThan(5000);
    expect(relay.requests.length).toBe(r.value.asked + 1);
    for (const q of relay.requests) {
      expect(q.length).toBe(48);
      expect(q[0] & 7).toBe(3);          // mode: client
      expect((q[0] >> 3) & 7).toBe(4);   // version 4
    }
  });

  it("sntpTime rejects on its timeout, and when no reply comes before mongoose gives up (3 s)", () => {
    const silentReport = reportOf(fw, "silent");
    expect(silentReport).toMatchObject({ ok: false, error: `sntpTime udp://127.0.0.1:${silent.address().port}: timed out after 300 ms` });
    expect(silentReport.ms).toBeLessThan(1500);
    const noReply = reportOf(fw, "no-reply");
    expect(noReply).toMatchObject({ ok: false, error: `sntpTime udp://127.0.0.1:${silent.address().port}: no valid reply (mongoose waits 3 s)` });
    expect(noReply.ms).toBeGreaterThanOrEqual(2900);
    expect(noReply.ms).toBeLessThan(6000);
    expect(silentRequests).toBe(2);
  });
});
