// SPDX-License-Identifier: MIT
// AsyncManager.mqtt, the resilient MQTT client, against a real mosquitto (plain
// and TLS listeners) with the `mqtt` npm client as the other party. One firmware
// runs the scenarios one after another and prints "<kind> {json}" lines; the test
// acts on the broker (cuts a connection, freezes it with SIGSTOP, restarts it in
// the middle of a stream) when the firmware says it is ready for it.
import net from "net";
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, sanitizerReports, startFirmware, type Running } from "./helpers/net";
import { FIRMWARE_HELPERS, Peer, line } from "./helpers/mqtt";
import { startMosquitto, type Mosquitto } from "./helpers/mosquitto";

// XSMG_TEST_VARIANT=sanitize (ASan+UBSan) or tsan runs the firmware under a sanitizer.
const VARIANT = process.env.XSMG_TEST_VARIANT;
const STREAM = 1000;

interface Ports {
  url: string;
  tls: string;
  cert: string;
  proxy: string;   // the broker through a TCP relay the test can cut
  scripted: string;  // a broker that sends one QoS 2 PUBLISH twice (scripted())
  ids: string;  // a broker that never acknowledges a PUBLISH and notes packet ids (idsBroker())
  closed: string;  // nobody listens
}

function firmware(p: Ports): string {
  return `
import { AsyncManager, MqttMessage, MQTT_PROP_USER_PROPERTY, MQTT_PROP_CONTENT_TYPE, type MqttClient, type MqttProperty } from "mongoose";
import "mongoose/mqtt-client";
const P = ${JSON.stringify(p)};
const STREAM = ${STREAM};
${FIRMWARE_HELPERS}
function watch(name: string, client: MqttClient): void {
  client.on("connect", (info) => out(name + "-event", { event: "connect", sessionPresent: info.sessionPresent }));
  client.on("offline", (why) => out(name + "-event", { event: "offline", why: why.message }));
  client.on("reconnect", (attempt) => out(name + "-event", { event: "reconnect", attempt }));
  client.on("error", (error) => out(name + "-event", { event: "error", error: error.message }));
}
async function take(sub: AsyncIterableIterator<MqttMessage>, n: number): Promise<object[]> {
  const got: object[] = [];
  for await (const m of sub) {
    got.push(describe(m));
    if (got.length === n) break;
  }
  return got;
}
const fast = { minDelay: 100, maxDelay: 400 };

async function basics(am: AsyncManager): Promise<void> {
  const client = am.mqtt(P.url, { clientId: "fw-basic" });
  await client.connected;
  const loop = client.subscribe("fw/loop/+", { qos: 2 });
  out("basic-granted", { qos: await loop.ready });
  const reading = take(loop, 4);
  await client.publish("fw/loop/q0", "zero", { qos: 0 });
  await client.publish("fw/loop/q1", "one", { qos: 1 });
  await client.publish("fw/loop/q2", "two", { qos: 2 });
  out("basic-published", {});
  out("basic-loop", { got: await reading });  // the test's peer publishes the fourth (QoS 2) once it saw the line above
  await client.unsubscribe("fw/loop/+");  // resolves at mosquitto's UNSUBACK
  out("basic-unsubscribed", {});
  await client.publish("fw/retained", "kept", { qos: 1, retain: true });
  const retained = client.subscribe("fw/retained", { qos: 1 });
  out("basic-retained", { got: await take(retained, 1) });
  out("basic-pending", { pending: client.pending });
  await client.end();
  out("basic-ended", { connected: client.isConnected });
}

async function five(am: AsyncManager): Promise<void> {
  const client = am.mqtt(P.url, { clientId: "fw-five", version: 5 });
  await client.connected;
  const sub = client.subscribe("fw/five/in", { qos: 1 });
  await sub.ready;
  out("five-ready", {});
  const got = await take(sub, 1);
  await client.publish("fw/five/out", "props", { qos: 1, properties: [
    { id: MQTT_PROP_CONTENT_TYPE, value: "text/plain" }, { id: MQTT_PROP_USER_PROPERTY, key: "k", value: "v" }] });
  out("five-got", { got });
  await client.end();
}

async function duplicates(am: AsyncManager): Promise<void> {
  const client = am.mqtt(P.scripted, { clientId: "fw-dup", reconnect: false });
  const sub = client.subscribe("dup/#", { qos: 2 });
  const granted = await sub.ready;
  const got = (await take(sub, 3)).map((m) => (m as { text: string }).text);
  const began = Date.now();
  await client.unsubscribe("dup/#");  // the script answers 300 ms late
  out("dup", { granted, got, unsubackAwaited: Date.now() - began >= 250 });
  await client.end();
}

// A manager of its own: mongoose's SUBSCRIBE counter starts afresh, at the id
// the client's first PUBLISH takes too.
async function ids(): Promise<void> {
  const own = new AsyncManager();
  await own.start();
  const client = own.mqtt(P.ids, { clientId: "fw-ids", reconnect: false });
  await client.connected;
  const held = client.publish("ids/held", "never acknowledged", { qos: 1 }).then(() => "delivered", () => "ended");
  const sub = client.subscribe("ids/#", { qos: 1 });
  await sub.ready;
  await client.unsubscribe("ids/#");
  await client.end({ force: true });
  out("ids", { held: await held });
  await own.close();
}

async function bound(am: AsyncManager): Promise<void> {
  const client = am.mqtt(P.closed, { clientId: "fw-bound", maxPending: 3, reconnect: fast, connectTimeout: 500 });
  const kept = [1, 2, 3].map((i) => client.publish("fw/bound", String(i), { qos: 1 }).then(() => "delivered", (e: Error) => e.message));
  const refused = await client.publish("fw/bound", "4", { qos: 1 }).then(() => "delivered", (e: Error) => e.message);
  await am.sleep(300);
  const connected = await Promise.race([client.connected.then(() => "yes", (e: Error) => e.message), am.sleep(10).then(() => "not yet")]);
  await client.end();
  out("bound", { refused, kept: await Promise.all(kept), connected, pending: client.pending });
}

async function tls(am: AsyncManager): Promise<void> {
  const client = am.mqtt(P.tls, { clientId: "fw-tls", tls: { ca: P.cert } });
  await client.connected;
  const sub = client.subscribe("fw/tls", { qos: 1 });
  await sub.ready;
  const reading = take(sub, 1);
  await client.publish("fw/tls", "over tls", { qos: 1 });
  out("tls", { got: await reading });
  await client.end();
  try {
    am.mqtt(P.url, { tls: { ca: P.cert } });
    out("tls-plain", { error: "none" });
  } catch (error) {
    out("tls-plain", { error: (error as Error).message });
  }
}

async function will(am: AsyncManager): Promise<void> {
  const client = am.mqtt(P.proxy, { clientId: "fw-will", reconnect: fast, clean: false,
    will: { topic: "fw/will", message: "gone", qos: 1 } });
  watch("will", client);
  const sub = client.subscribe("fw/after", { qos: 1 });
  await sub.ready;
  out("will-ready", {});  // the test cuts the relay now: the broker publishes the will
  const got = await take(sub, 1);  // after the reconnect, through the resumed subscription
  out("will-after", { got });
  await client.end();
}

async function keepalive(am: AsyncManager): Promise<void> {
  const client = am.mqtt(P.url, { clientId: "fw-ka", keepalive: 1, reconnect: fast, connectTimeout: 1000 });
  watch("ka", client);
  await client.connected;
  await am.sleep(2500);  // pings keep it up meanwhile
  const offline = new Promise<void>((resolve) => client.on("offline", () => resolve()));
  out("ka-ready", { connected: client.isConnected });  // the test freezes the broker
  await offline;
  await client.publish("fw/ka", "while frozen", { qos: 1 });
  out("ka-delivered", {});
  await client.end();
}

async function stream(am: AsyncManager, qos: 1 | 2): Promise<void> {
  const topic = "fw/stream/" + qos;
  const sub = am.mqtt(P.url, { clientId: "fw-sub" + qos, clean: false, reconnect: fast, keepalive: 2, maxPending: STREAM });
  const pub = am.mqtt(P.url, { clientId: "fw-pub" + qos, clean: false, reconnect: fast, keepalive: 2, maxPending: STREAM });
  watch("pub" + qos, pub);
  watch("sub" + qos, sub);
  const messages = sub.subscribe(topic, { qos });
  await messages.ready;
  await pub.connected;
  const seen: number[] = [];
  const ids: number[] = [];  // the broker's packet ids, for a failure's message
  const reading = (async () => {
    const distinct = new Set<number>();
    for await (const m of messages) {
      const n = Number(m.text);
      seen.push(n);
      ids.push(m.id);
      distinct.add(n);
      if (distinct.size === STREAM) break;
    }
  })();
  // What a stalled stream waits for, in the test's failure message.
  const status = am.timerAdd(5000, () => {
    const missing: number[] = [];
    for (let i = 0; i < STREAM && missing.length < 10; i++) if (!seen.includes(i)) missing.push(i);
    out("stream-status", { qos, pending: pub.pending, received: seen.length, missing });
  }, { repeat: true });
  const sends: Promise<void>[] = [];
  for (let i = 0; i < STREAM; i++) {
    sends.push(pub.publish(topic, String(i), { qos }));
    if (i === 300) out("stream-progress", { qos });  // the test restarts the broker now
    if (i % 10 === 9) await am.sleep(5);
  }
  const results = await Promise.allSettled(sends);
  await reading;
  status.cancel();
  let order = 0;
  let max = -1;
  for (const n of seen) {
    if (n > max + 1) order++;  // a first arrival that skipped one
    if (n > max) max = n;
  }
  out("stream", { qos, failed: results.filter((r) => r.status === "rejected").length, count: seen.length,
    distinct: new Set(seen).size, skips: order, first: seen.slice(0, 3),
    again: seen.map((n, i) => ({ n, id: ids[i] })).filter(({ n }, i) => seen.indexOf(n) !== i) });
  await pub.end();
  await sub.end();
}

const am = new AsyncManager();
await am.start();
for (const [name, run] of [["duplicates", duplicates], ["ids", ids], ["basics", basics], ["five", five], ["bound", bound], ["tls", tls], ["will", will],
  ["keepalive", keepalive], ["stream1", (a: AsyncManager) => stream(a, 1)], ["stream2", (a: AsyncManager) => stream(a, 2)]] as const) {
  try {
    await run(am);
  } catch (error) {
    out("failed", { name, error: String(error) });
  }
}
out("all-done", {});
await am.close();
`;
}

/** A TCP relay to port; cut() closes every connection through it (an abrupt loss). */
async function relay(port: number): Promise<{ port: number; cut(): void; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => sockets.forEach((s) => s.destroy()),
    close: () => server.close(),
  };
}

/** An MQTT 3.1.1 packet whose remaining length is below 128, as the scripted brokers' all are. */
const packet = (first: number, ...body: number[]) => Buffer.from([first, body.length, ...body]);

/**
 * A broker played by a script: it accepts every CONNECT, answers PINGREQ, and
 * hands every other packet (type, body after the fixed header) to onPacket.
 */
async function scriptedBroker(onPacket: (socket: net.Socket, type: number, body: Buffer) => void):
  Promise<{ port: number; close(): void }> {
  const server = net.createServer((socket) => {
    let buffer = Buffer.alloc(0);
    socket.on("error", () => undefined);
    socket.on("data", (data) => {
      buffer = Buffer.concat([buffer, data]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer[1]) {
        const type = buffer[0] >> 4;
        const body = buffer.subarray(2, 2 + buffer[1]);
        buffer = buffer.subarray(2 + body.length);
        if (type === 1) socket.write(packet(0x20, 0, 0));
        else if (type === 12) socket.write(packet(0xd0));
        else onPacket(socket, type, body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/**
 * A broker that acts as one re-sending a QoS 2 message would after a reconnect:
 * it grants the client's SUBSCRIBE QoS 2, sends PUBLISH id 7 "once", the same
 * again with DUP, then PUBREL 7, then a new PUBLISH id 7 "again"; then PUBREL 7
 * and "again" with DUP once more (as mosquitto 2.0.11 re-sent after a restart),
 * and a new "third". It answers UNSUBSCRIBE 300 ms late.
 */
function scripted(): Promise<{ port: number; close(): void }> {
  const publish = (flags: number, text: string) => packet(0x30 | flags, 0, 5, ...Buffer.from("dup/a"), 0, 7, ...Buffer.from(text));
  return scriptedBroker((socket, type, body) => {
    if (type === 10) setTimeout(() => socket.write(packet(0xb0, body[0], body[1])), 300);
    else if (type === 8) {
      socket.write(packet(0x90, body[0], body[1], 2));
      socket.write(Buffer.concat([publish(0x04, "once"), publish(0x0c, "once"), packet(0x62, 0, 7), publish(0x04, "again"),
        packet(0x62, 0, 7), publish(0x0c, "again"), publish(0x04, "third")]));
    }
  });
}

/** A broker that never acknowledges a PUBLISH; seen: the kind and packet id of each PUBLISH, SUBSCRIBE and UNSUBSCRIBE. */
async function idsBroker(): Promise<{ port: number; seen: Array<[string, number]>; close(): void }> {
  const seen: Array<[string, number]> = [];
  const broker = await scriptedBroker((socket, type, body) => {
    if (type === 3) seen.push(["PUBLISH", body.readUInt16BE(2 + body.readUInt16BE(0))]);
    else if (type === 8) {
      seen.push(["SUBSCRIBE", body.readUInt16BE(0)]);
      socket.write(packet(0x90, body[0], body[1], 1));
    } else if (type === 10) {
      seen.push(["UNSUBSCRIBE", body.readUInt16BE(0)]);
      socket.write(packet(0xb0, body[0], body[1]));
    }
  });
  return { ...broker, seen };
}

type Row = Record<string, unknown>;

describe("AsyncManager.mqtt against mosquitto", () => {
  let broker: Mosquitto;
  let fw: Running;
  let cutter: Awaited<ReturnType<typeof relay>>;
  let script: Awaited<ReturnType<typeof scripted>>;
  let idScript: Awaited<ReturnType<typeof idsBroker>>;
  let peer: Peer;

  beforeAll(async () => {
    broker = await startMosquitto();
    cutter = await relay(broker.port);
    script = await scripted();
    idScript = await idsBroker();
    peer = await Peer.connect(`mqtt://127.0.0.1:${broker.port}`, 5, "test-peer");
    await peer.client.subscribeAsync(["fw/five/out", "fw/will", "fw/ka"], { qos: 1 });
    const exe = buildApp(makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
      "main.ts": firmware({
        url: `mqtt://127.0.0.1:${broker.port}`, tls: `mqtts://127.0.0.1:${broker.tlsPort}`, cert: broker.cert,
        proxy: `mqtt://127.0.0.1:${cutter.port}`, scripted: `mqtt://127.0.0.1:${script.port}`,
        ids: `mqtt://127.0.0.1:${idScript.port}`, closed: `mqtt://127.0.0.1:${await freePort()}`,
      }),
    }), VARIANT);
    fw = startFirmware(exe);
  }, 120000);

  afterAll(async () => {
    if (process.env.XSMG_DUMP) console.log(fw?.stdout(), fw?.stderr(), broker?.log());
    await peer?.end();
    const code = await fw?.stop();
    cutter?.close();
    script?.close();
    idScript?.close();
    await broker?.stop();
    expect(sanitizerReports(fw?.stderr() ?? "")).toEqual([]);
    // 0 once it has run every scenario (143 if stopped before).
    expect([0, 143, ...(VARIANT === "tsan" ? [66] : [])]).toContain(code);
  });

  const get = (kind: string, timeoutMs = 20000) => line<Row>(fw, kind, () => true, timeoutMs);

  test("QoS 0, 1 and 2 out and back, an incoming QoS 2 delivered once, retained messages, end()", async () => {
    expect(await get("basic-granted")).toEqual({ qos: 2 });
    await get("basic-published");
    await peer.client.publishAsync("fw/loop/peer", "from node", { qos: 2 });
    const loop = (await get("basic-loop")).got as Row[];
    await get("basic-unsubscribed");
    expect(loop.map((m) => [m.topic, m.text, m.qos])).toEqual([
      ["fw/loop/q0", "zero", 0], ["fw/loop/q1", "one", 1], ["fw/loop/q2", "two", 2], ["fw/loop/peer", "from node", 2]]);
    const retained = (await get("basic-retained")).got as Row[];
    expect(retained.map((m) => [m.topic, m.text, m.retain])).toEqual([["fw/retained", "kept", true]]);
    expect(await get("basic-pending")).toEqual({ pending: 0 });
    expect(await get("basic-ended")).toEqual({ connected: false });
  }, 60000);

  test("MQTT 5 properties both ways", async () => {
    await get("five-ready");
    await peer.client.publishAsync("fw/five/in", "with props", { qos: 1,
      properties: { contentType: "application/json", userProperties: { who: "node" } } });
    const got = ((await get("five-got")).got as Row[])[0];
    expect(got.text).toBe("with props");
    expect(got.props).toEqual(expect.arrayContaining([{ id: 3, value: "application/json" }, { id: 0x26, key: "who", value: "node" }]));
    const out = await peer.message("fw/five/out");
    expect(out.payload.toString()).toBe("props");
    expect(out.packet.properties?.contentType).toBe("text/plain");
    expect(out.packet.properties?.userProperties).toEqual({ k: "v" });
  }, 60000);

  test("an incoming QoS 2 PUBLISH sent again (DUP) is delivered once, before its PUBREL and just after; its id is new after PUBREL", async () => {
    expect(await get("dup")).toEqual({ granted: 2, got: ["once", "again", "third"], unsubackAwaited: true });
  }, 60000);

  test("SUBSCRIBE and UNSUBSCRIBE take packet ids no PUBLISH in flight holds", async () => {
    expect(await get("ids")).toEqual({ held: "ended" });
    expect(idScript.seen.map(([kind]) => kind)).toEqual(["PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE"]);
    expect(new Set(idScript.seen.map(([, id]) => id)).size).toBe(3);
  }, 60000);

  test("offline: messages wait up to maxPending, the next is refused with a clear error, end() rejects the waiting", async () => {
    const bound = await get("bound");
    expect(bound.refused).toMatch(/fw\/bound: 3 messages already wait for delivery \(the client's maxPending\)/);
    expect(bound.kept).toEqual(Array(3).fill(expect.stringContaining("the client ended before the message was delivered")));
    expect(bound.connected).toBe("not yet");
    expect(bound.pending).toBe(0);
  }, 60000);

  test("mqtts:// against mosquitto's TLS listener; tls options on a plain URL throw", async () => {
    const tls = await get("tls");
    expect((tls.got as Row[]).map((m) => m.text)).toEqual(["over tls"]);
    expect((await get("tls-plain")).error).toMatch(/tls options need a TLS URL/);
  }, 60000);

  test("a connection lost without DISCONNECT: the will is published, the client reconnects and its subscription works again", async () => {
    await get("will-ready");
    cutter.cut();
    const will = await peer.message("fw/will");
    expect(will.payload.toString()).toBe("gone");
    await line(fw, "will-event", (e) => e.event === "connect" && e.sessionPresent === true, 10000);
    await peer.client.publishAsync("fw/after", "again", { qos: 1 });
    expect(((await get("will-after")).got as Row[]).map((m) => m.text)).toEqual(["again"]);
    const events = fw.stdout().split("\n").filter((l) => l.startsWith("will-event ")).map((l) => JSON.parse(l.slice(11)).event);
    expect(events.slice(0, 4)).toEqual(["connect", "offline", "reconnect", "connect"]);
  }, 60000);

  test("a broker that stops answering (SIGSTOP) is dropped within 1.5 keepalives; the message waits and is delivered after", async () => {
    expect(await get("ka-ready")).toEqual({ connected: true });
    broker.freeze();
    const frozen = Date.now();
    try {
      const offline = await line<Row>(fw, "ka-event", (e) => e.event === "offline", 5000);
      const took = Date.now() - frozen;
      expect(offline.why).toMatch(/the broker was silent for \d+ ms \(keepalive 1 s\)/);
      expect(took).toBeLessThan(1500 + 300);  // 1.5 keepalives, and the pipe's delay
    } finally {
      broker.thaw();
    }
    await get("ka-delivered", 15000);
    expect((await peer.message("fw/ka")).payload.toString()).toBe("while frozen");
  }, 60000);

  for (const qos of [1, 2]) {
    test(`a broker restarted in the middle of a QoS ${qos} stream of ${STREAM}: every message arrives${qos === 2 ? " exactly once" : ""}, in order`, async () => {
      await line(fw, "stream-progress", (v) => v.qos === qos, 30000);
      await broker.restart();
      const result = await line<Row>(fw, "stream", (v) => v.qos === qos, 60000);
      expect(result.failed).toBe(0);
      expect(result.distinct).toBe(STREAM);
      expect(result.skips).toBe(0);
      if (qos === 2) expect(result.count).toBe(STREAM);
      expect(result.first).toEqual([0, 1, 2]);
      const events = fw.stdout().split("\n").filter((l) => l.startsWith(`pub${qos}-event `)).map((l) => JSON.parse(l.slice(11)).event);
      const dropped = events.indexOf("offline");  // the restart, then a connect (and end()'s offline)
      expect(dropped).toBeGreaterThan(0);
      expect(events.indexOf("connect", dropped)).toBeGreaterThan(dropped);
    }, 90000);
  }

  test("every scenario ran to its end", async () => {
    await get("all-done", 30000);
    expect(fw.stdout()).not.toMatch(/^failed /m);
  }, 40000);
});

describe("AsyncManager.mqtt subscriptions a broker refuses", () => {
  // The firmware's own broker refuses shared subscriptions ($share/...) with
  // 0x80: no mosquitto needed to see a refusal end an iteration.
  test("a read in progress rejects; with none, the next read rejects, once, and then the iteration is over", async () => {
    const port = await freePort();
    const exe = buildApp(makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
      "main.ts": `
import { AsyncManager } from "mongoose";
import "mongoose/mqtt-broker";
import "mongoose/mqtt-client";
const settle = (p: Promise<IteratorResult<unknown>>) => p.then((r) => "done " + r.done, (e: Error) => e.message);
const am = new AsyncManager();
await am.start();
const url = "mqtt://127.0.0.1:${port}";
await am.mqttBroker(url);
const client = am.mqtt(url, { reconnect: false });
await client.connected;
const granted = client.subscribe("fw/ok");
const waiting = client.subscribe("$share/g/a");
const read = settle(waiting.next());
const ready = await waiting.ready.then(String, (e: Error) => e.message);
console.log("waiting " + JSON.stringify({ read: await read, ready, granted: await granted.ready }));
const idle = client.subscribe("$share/g/b");
await idle.ready.catch(() => {});
console.log("idle " + JSON.stringify({ first: await settle(idle.next()), second: await settle(idle.next()) }));
await client.end();
await am.close();
`,
    }), VARIANT);
    const fw = startFirmware(exe);
    try {
      const waiting = await line<{ read: string; ready: string; granted: number }>(fw, "waiting", () => true, 20000);
      expect(waiting.read).toMatch(/MQTT subscribe \$share\/g\/a: the broker refused it \(code 0x80\)/);
      expect(waiting.ready).toBe(waiting.read);
      expect(waiting.granted).toBe(0);
      const idle = await line<{ first: string; second: string }>(fw, "idle", () => true, 20000);
      expect(idle.first).toMatch(/MQTT subscribe \$share\/g\/b: the broker refused it \(code 0x80\)/);
      expect(idle.second).toBe("done true");
      expect(await fw.exited).toBe(0);  // end() and close() leave nothing behind
    } finally {
      await fw.stop();
    }
    expect(sanitizerReports(fw.stderr())).toEqual([]);
  }, 60000);
});
