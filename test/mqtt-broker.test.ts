// SPDX-License-Identifier: MIT
// The firmware's MQTT broker (am.mqttBroker) against real peers started here:
// mosquitto_pub and mosquitto_sub, the `mqtt` npm client (3.1.1 and 5), and raw
// sockets speaking packets made by `mqtt-packet` where a test needs a client
// that misbehaves (does not acknowledge, goes silent, sends garbage).
import { spawn, spawnSync, type ChildProcess } from "child_process";
import fs from "fs";
import net from "net";
import os from "os";
import path from "path";
import mqtt, { type MqttClient, type IClientOptions } from "mqtt";
import mqttPacket, { type Packet } from "mqtt-packet";
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, sanitizerReports, startFirmware, type Running } from "./helpers/net";
import { all, line } from "./helpers/mqtt";
import { makeCert, type KeyPair } from "./helpers/tls";

const VARIANT = process.env.XSMG_TEST_VARIANT;

interface Ports { main: number; small: number; secure: number }

function firmware(p: Ports, tls: KeyPair): string {
  return `
import { AsyncManager, type BrokerMessage } from "mongoose";
import "mongoose/mqtt-broker";
const P = ${JSON.stringify(p)};
const TLS = ${JSON.stringify(tls)};
function out(kind: string, fields: object): void {
  console.log(kind + " " + JSON.stringify(fields));
}
const am = new AsyncManager();
await am.start();
// An async authenticate: packets that follow a CONNECT wait for its answer.
const broker = await am.mqttBroker("mqtt://127.0.0.1:" + P.main, {
  maxClients: 150,
  authenticate: (client) => Promise.resolve(client.username !== "mallory"),
});
const small = await am.mqttBroker("mqtt://127.0.0.1:" + P.small, { maxClients: 2, maxInflight: 2, maxQueued: 3 });
const secure = await am.mqttBroker("mqtts://127.0.0.1:" + P.secure, { tls: { cert: TLS.cert, key: TLS.key } });

// The firmware's own hooks: a retained greeting, and an echo of fw/in/# to fw/out/#.
broker.publish("fw/hello", "from the firmware", { retain: true });
broker.subscribe("fw/in/#", (m: BrokerMessage) => {
  out("fw-got", { topic: m.topic, text: m.text, qos: m.qos, retain: m.retain, clientId: m.clientId });
  broker.publish("fw/out/" + m.topic.slice("fw/in/".length), m.text.toUpperCase(), { qos: 1 });
});
for (const [name, b] of [["main", broker], ["small", small], ["secure", secure]] as const)
  broker.subscribe("stats/" + name, () => out("stats", { name, clients: b.clients, sessions: b.sessions, retained: b.retained,
    dropped: b.dropped }));
broker.subscribe("ctl/close-small", () => {
  small.close().then(() => out("small-closed", { clients: small.clients, sessions: small.sessions }));
});
out("ready", {});
`;
}

let fw: Running;
let ports: Ports;
let tls: KeyPair;
let dir: string;
const clients: MqttClient[] = [];
const children: ChildProcess[] = [];

function url(port = ports.main): string {
  return `mqtt://127.0.0.1:${port}`;
}

async function client(options: IClientOptions = {}, port = ports.main): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url(port), { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  clients.push(c);
  return c;
}

/** Messages a client receives from now on, by arrival. */
function collect(c: MqttClient): Array<{ topic: string; text: string; qos: number; retain: boolean; dup: boolean }> {
  const got: Array<{ topic: string; text: string; qos: number; retain: boolean; dup: boolean }> = [];
  c.on("message", (topic, payload, p) => got.push({ topic, text: payload.toString(), qos: p.qos, retain: p.retain, dup: p.dup }));
  return got;
}

async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What the broker reports about itself (the firmware prints it when stats/<name> is published). */
async function stats(name: string): Promise<{ clients: number; sessions: number; retained: number; dropped: number }> {
  const before = all(fw, "stats").length;
  spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(ports.main), "-t", `stats/${name}`, "-m", ""]);
  await until("stats", () => all(fw, "stats").length > before);
  return all<{ clients: number; sessions: number; retained: number; dropped: number }>(fw, "stats")[before];
}

function mosquitto(program: string, args: string[]): { child: ChildProcess; output: () => string; done: Promise<number> } {
  // stdbuf: mosquitto_sub's output to a pipe would otherwise wait in its buffer until it exits.
  const child = spawn("stdbuf", ["-oL", program, "-h", "127.0.0.1", "-p", String(ports.main), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const done = new Promise<number>((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 0))));
  return { child, output: () => output, done };
}

/** A raw MQTT client: sends packets made by mqtt-packet, collects the packets it receives. */
class Raw {
  readonly packets: Packet[] = [];
  closed = false;
  private constructor(readonly socket: net.Socket, version: number) {
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on("packet", (p) => this.packets.push(p));
    socket.on("data", (d) => parser.parse(d));
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => undefined);
  }
  static async open(port = ports.main, version = 4): Promise<Raw> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    return new Raw(socket, version);
  }
  send(p: Packet, version = 4): void {
    this.socket.write(mqttPacket.generate(p, { protocolVersion: version }));
  }
  async next(cmd: string, timeoutMs = 5000): Promise<Packet> {
    await until(`a ${cmd}`, () => this.packets.some((p) => p.cmd === cmd), timeoutMs);
    const i = this.packets.findIndex((p) => p.cmd === cmd);
    return this.packets.splice(i, 1)[0];
  }
  connect(clientId: string, extra: Record<string, unknown> = {}): void {
    this.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId, keepalive: 0, ...extra } as Packet);
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-broker-"));
  tls = makeCert(dir, "broker");
  ports = { main: await freePort(), small: await freePort(), secure: await freePort() };
  const app = makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }), "main.ts": firmware(ports, tls) });
  fw = startFirmware(buildApp(app, VARIANT));
  await fw.waitFor(/^ready /, 20000);
}, 240000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

afterAll(async () => {
  if (!fw) return;
  const code = await fw.stop();
  expect(sanitizerReports(fw.stderr())).toEqual([]);
  expect(VARIANT === "tsan" ? [143, 66] : [143]).toContain(code);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the firmware's MQTT broker", () => {
  it("routes by wildcard to mosquitto_sub, and keeps retained messages for later subscribers", async () => {
    const sub = mosquitto("mosquitto_sub", ["-t", "w/+/temp", "-t", "w/house/#", "-v", "-C", "3", "-W", "10", "-d"]);
    await until("the SUBACK", () => sub.output().includes("received SUBACK"));
    for (const [topic, message] of [["w/garden/temp", "12"], ["w/garden/hum", "80"], ["w/house/kitchen/temp", "21"], ["w/house", "all"]])
      spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(ports.main), "-t", topic, "-m", message]);
    expect(await sub.done).toBe(0);
    const messages = sub.output().trim().split("\n").filter((l) => !/^(Client |Subscribed )/.test(l));
    expect(messages).toEqual(["w/garden/temp 12", "w/house/kitchen/temp 21", "w/house all"]);

    spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(ports.main), "-t", "r/one", "-m", "kept", "-r", "-q", "1"]);
    spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(ports.main), "-t", "r/two", "-m", "gone", "-r"]);
    spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(ports.main), "-t", "r/two", "-n", "-r"]);  // empty: forgets it
    const later = spawnSync("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(ports.main), "-t", "r/#", "-t", "fw/hello",
      "-v", "-W", "2", "-F", "%t %p %r"], { encoding: "utf8" });
    expect(later.stdout.trim().split("\n").sort()).toEqual(["fw/hello from the firmware 1", "r/one kept 1"]);
  });

  it("delivers QoS 1 with acknowledgements, to and from the firmware's own subscription", async () => {
    const a = await client({ clientId: "qos-a" });
    const b = await client({ clientId: "qos-b" });
    const got = collect(a);
    expect(await a.subscribeAsync("fw/out/#", { qos: 1 })).toEqual([{ topic: "fw/out/#", qos: 1 }]);
    expect(await a.subscribeAsync("q/#", { qos: 2 })).toEqual([{ topic: "q/#", qos: 1 }]);  // QoS 2 granted as 1
    await b.publishAsync("q/one", "one", { qos: 1 });
    await b.publishAsync("q/two", "two", { qos: 2 });  // mongoose answers PUBREC, then PUBCOMP
    await b.publishAsync("fw/in/x", "shout", { qos: 1 });
    await until("3 messages", () => got.length === 3);
    expect(got.map(({ topic, text, qos }) => ({ topic, text, qos })).sort((x, y) => x.topic.localeCompare(y.topic))).toEqual([
      { topic: "fw/out/x", text: "SHOUT", qos: 1 }, { topic: "q/one", text: "one", qos: 1 }, { topic: "q/two", text: "two", qos: 1 },
    ]);
    expect(await line(fw, "fw-got")).toEqual({ topic: "fw/in/x", text: "shout", qos: 1, retain: false, clientId: "qos-b" });
    // mqtt.js leaves nothing unacknowledged: the broker's window is empty again.
    expect((a as unknown as { outgoing: object }).outgoing).toEqual({});
  });

  it("UNSUBSCRIBE stops delivery; MQTT 5 clients get reason codes, no-local, and properties-less PUBLISHes", async () => {
    const v5 = await client({ clientId: "five", protocolVersion: 5 });
    const got = collect(v5);
    const three = await client({ clientId: "three" });
    const got3 = collect(three);
    await three.subscribeAsync("u/#", { qos: 1 });
    await v5.subscribeAsync("u/#", { qos: 1, nl: true });
    await v5.publishAsync("u/mine", "x", { qos: 1 });  // one-byte payload: mongoose's short-PUBLISH repair
    await until("three's copy", () => got3.length === 1);
    expect(got3[0]).toMatchObject({ topic: "u/mine", text: "x", qos: 1 });
    await three.publishAsync("u/theirs", "", { qos: 0 });
    await until("five's copy", () => got.length === 1);
    expect(got).toEqual([expect.objectContaining({ topic: "u/theirs", text: "" })]);  // not its own u/mine

    const reply = await v5.unsubscribeAsync(["u/#", "never/subscribed"]);
    expect((reply as { granted?: number[] } | undefined)?.granted).toEqual([0, 0x11]);  // mqtt-packet's name for them
    await three.unsubscribeAsync("u/#");
    await three.publishAsync("u/after", "late", { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(got.length).toBe(1);
    expect(got3.map((m) => m.topic)).toEqual(["u/mine", "u/theirs"]);  // 3.1.1 has no no-local: its own too
  });

  it("resumes a persistent session: queued messages, then the unacknowledged one again with DUP", async () => {
    const raw = await Raw.open();
    raw.connect("keeper", { clean: false });
    expect(await raw.next("connack")).toMatchObject({ sessionPresent: false, returnCode: 0 });
    raw.send({ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "p/#", qos: 1 }] } as Packet);
    expect(await raw.next("suback")).toMatchObject({ messageId: 7, granted: [1] });
    const pub = await client({ clientId: "p-pub" });
    await pub.publishAsync("p/1", "first", { qos: 1 });
    const first = await raw.next("publish") as mqttPacket.IPublishPacket;
    expect(first).toMatchObject({ topic: "p/1", qos: 1, dup: false });
    raw.socket.destroy();  // gone without acknowledging it
    await until("the broker sees it go", () => raw.closed);
    await new Promise((r) => setTimeout(r, 200));
    await pub.publishAsync("p/2", "second", { qos: 1 });
    await pub.publishAsync("p/3", "third", { qos: 0 });  // QoS 0 is not kept for a client away

    const back = await Raw.open();
    back.connect("keeper", { clean: false });
    expect(await back.next("connack")).toMatchObject({ sessionPresent: true, returnCode: 0 });
    const again = await back.next("publish") as mqttPacket.IPublishPacket;
    expect(again).toMatchObject({ topic: "p/1", qos: 1, dup: true, messageId: first.messageId });
    back.send({ cmd: "puback", messageId: again.messageId } as Packet);
    const second = await back.next("publish") as mqttPacket.IPublishPacket;
    expect(second).toMatchObject({ topic: "p/2", qos: 1, dup: false });
    expect(second.payload.toString()).toBe("second");
    back.send({ cmd: "puback", messageId: second.messageId } as Packet);
    await new Promise((r) => setTimeout(r, 200));
    expect(back.packets.filter((p) => p.cmd === "publish")).toEqual([]);

    // A clean session throws the old one away.
    back.socket.destroy();
    const fresh = await Raw.open();
    fresh.connect("keeper", { clean: true });
    expect(await fresh.next("connack")).toMatchObject({ sessionPresent: false });
    fresh.socket.destroy();
  });

  it("publishes the will of a killed client, not of one that said DISCONNECT", async () => {
    const watcher = await client({ clientId: "watcher" });
    const got = collect(watcher);
    await watcher.subscribeAsync("will/#", { qos: 1 });
    const polite = spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(ports.main), "-t", "x", "-m", "y", "-i", "polite",
      "--will-topic", "will/polite", "--will-payload", "should not"]);
    expect(polite.status).toBe(0);
    const victim = mosquitto("mosquitto_sub", ["-t", "nothing", "-i", "victim", "--will-topic", "will/victim", "--will-payload",
      "it died", "--will-qos", "1"]);
    await new Promise((r) => setTimeout(r, 300));
    victim.child.kill("SIGKILL");
    await until("the will", () => got.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual([expect.objectContaining({ topic: "will/victim", text: "it died", qos: 1 })]);
  });

  it("closes a client silent for 1.5 keepalives, and publishes its will", async () => {
    const watcher = await client({ clientId: "ka-watcher" });
    const got = collect(watcher);
    await watcher.subscribeAsync("ka/#");
    const raw = await Raw.open();
    raw.connect("sleepy", { keepalive: 1, will: { topic: "ka/sleepy", payload: Buffer.from("timed out"), qos: 0, retain: false } });
    await raw.next("connack");
    const began = Date.now();
    await until("the broker closes it", () => raw.closed, 4000);
    expect(Date.now() - began).toBeGreaterThanOrEqual(1400);
    await until("the will", () => got.length === 1);
    expect(got[0]).toMatchObject({ topic: "ka/sleepy", text: "timed out" });
  });

  it("fans a message out to 100 clients", async () => {
    const subs = await Promise.all(Array.from({ length: 100 }, (_, i) => client({ clientId: `fan-${i}` })));
    const got = subs.map(collect);
    await Promise.all(subs.map((s) => s.subscribeAsync("fan/#", { qos: 1 })));
    const pub = await client({ clientId: "fan-pub" });
    const began = Date.now();
    for (let i = 0; i < 10; i++) await pub.publishAsync(`fan/${i}`, `m${i}`, { qos: i % 2 as 0 | 1 });
    await until("every copy", () => got.every((g) => g.length === 10), 10000);
    expect(Date.now() - began).toBeLessThan(5000);
    for (const g of got) expect(g.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect((await stats("main")).clients).toBeGreaterThanOrEqual(101);
  }, 30000);

  it("closes only the client that sends a malformed packet", async () => {
    const bystander = await client({ clientId: "bystander" });
    const got = collect(bystander);
    await bystander.subscribeAsync("m/#");
    const cases: Array<[string, Buffer]> = [
      ["a remaining length of 5 bytes (mongoose)", Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])],
      ["a SUBSCRIBE with wrong flags", Buffer.from([0x80, 0x06, 0, 1, 0, 1, 0x61, 0])],
      ["a SUBSCRIBE with a bad filter length", Buffer.from([0x82, 0x05, 0, 1, 0, 9, 0x61])],
      ["a packet type the server never gets", Buffer.from([0x20, 0x02, 0, 0])],
      ["a PUBLISH to a wildcard", Buffer.from([0x30, 0x05, 0, 3, 0x6d, 0x2f, 0x23])],
    ];
    for (const [what, bytes] of cases) {
      const raw = await Raw.open();
      raw.connect(`bad-${what.length}`);
      await raw.next("connack");
      raw.socket.write(bytes);
      await until(`${what}: closed`, () => raw.closed, 3000);
    }
    const first = await Raw.open();
    first.socket.write(Buffer.from([0x82, 0x06, 0, 1, 0, 1, 0x61, 0]));  // not CONNECT first
    await until("closed", () => first.closed, 3000);
    await bystander.publishAsync("m/still", "here", { qos: 1 });
    await until("the bystander's message", () => got.length === 1);
    expect(bystander.connected).toBe(true);
  });

  it("reads an MQTT 5 CONNECT's properties of every kind, and closes a client whose CONNECT has an unknown one", async () => {
    // Bytes, two bytes, four bytes and a user property's pair before the session expiry (four bytes), which must read 60.
    const properties = {
      requestProblemInformation: true, receiveMaximum: 10, maximumPacketSize: 4096, userProperties: { k: "v" },
      sessionExpiryInterval: 60,
    };
    const first = await Raw.open(ports.main, 5);
    first.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clean: false, clientId: "props", keepalive: 0,
      properties } as Packet, 5);
    expect(await first.next("connack")).toMatchObject({ reasonCode: 0, sessionPresent: false });
    first.socket.destroy();
    await until("the broker sees it go", () => first.closed);
    const again = await Raw.open(ports.main, 5);
    again.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clean: false, clientId: "props", keepalive: 0,
      properties } as Packet, 5);
    expect(await again.next("connack")).toMatchObject({ reasonCode: 0, sessionPresent: true });  // kept: expiry 60 s
    again.socket.destroy();

    // A string property: an authentication method, which the broker has none of (0x8C).
    const auth = await Raw.open(ports.main, 5);
    auth.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clean: true, clientId: "auth", keepalive: 0,
      properties: { authenticationMethod: "SCRAM-SHA-1" } } as Packet, 5);
    expect(await auth.next("connack")).toMatchObject({ reasonCode: 0x8c });

    // Property 0x7f does not exist: "MQTT", level 5, clean start, keepalive 0, properties [0x7f 0], client id "u".
    const unknown = await Raw.open(ports.main, 5);
    unknown.socket.write(Buffer.from([0x10, 16, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 0x02, 0, 0, 2, 0x7f, 0, 0, 1, 0x75]));
    await until("closed", () => unknown.closed, 3000);
    expect(unknown.packets).toEqual([]);
  });

  it("holds at most maxInflight unacknowledged copies per client, queues maxQueued more, and drops the rest", async () => {
    const slow = await Raw.open(ports.small);
    slow.connect("slow");
    await slow.next("connack");
    slow.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "win/#", qos: 1 }] } as Packet);
    await slow.next("suback");
    const before = (await stats("small")).dropped;
    const pub = await client({ clientId: "win-pub" }, ports.small);
    for (let i = 0; i < 7; i++) await pub.publishAsync(`win/${i}`, `m${i}`, { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    const sent = () => slow.packets.filter((p) => p.cmd === "publish") as mqttPacket.IPublishPacket[];
    expect(sent().map((p) => p.topic)).toEqual(["win/0", "win/1"]);  // maxInflight 2
    expect((await stats("small")).dropped - before).toBe(2);  // 7 = 2 in flight + 3 queued + 2 dropped
    // Each PUBACK opens the window for the next queued copy.
    for (let acked = 0; acked < 5; acked++) {
      await until(`copy ${acked}`, () => sent().length > acked);
      slow.send({ cmd: "puback", messageId: sent()[acked].messageId } as Packet);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(sent().map((p) => p.topic)).toEqual(["win/0", "win/1", "win/2", "win/3", "win/4"]);
    slow.socket.destroy();
    await pub.endAsync();
  });

  it("refuses clients over maxClients, and bad credentials, with the protocol's codes", async () => {
    await client({ clientId: "one" }, ports.small);
    await client({ clientId: "two" }, ports.small);
    for (const [version, code] of [[4, 3], [5, 0x89]]) {
      const raw = await Raw.open(ports.small, version);
      raw.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: version, clean: true, clientId: "three", keepalive: 0 } as Packet, version);
      const ack = await raw.next("connack");
      expect(version === 4 ? (ack as mqttPacket.IConnackPacket).returnCode : (ack as mqttPacket.IConnackPacket).reasonCode).toBe(code);
      await until("closed", () => raw.closed);
    }
    // The same client id again is a takeover, not one more.
    const again = await client({ clientId: "two" }, ports.small);
    expect(again.connected).toBe(true);

    const mallory = spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(ports.main), "-t", "x", "-m", "y", "-u", "mallory",
      "-P", "pw"], { encoding: "utf8" });
    expect(mallory.status).not.toBe(0);
    expect(mallory.stderr).toMatch(/bad user name or password/i);
    const old = await Raw.open();
    // CONNECT of protocol level 6, client id "future".
    old.socket.write(Buffer.from([0x10, 18, 0, 4, ...Buffer.from("MQTT"), 6, 2, 0, 0, 0, 6, ...Buffer.from("future")]));
    expect(await old.next("connack")).toMatchObject({ returnCode: 1 });
    // A name that does not go with its level: "MQTT" is 3.1.1 and 5, "MQIsdp" is 3.1 alone.
    for (const [name, level] of [["MQTT", 3], ["MQIsdp", 4]] as const) {
      const mismatched = await Raw.open();
      mismatched.socket.write(Buffer.from([0x10, 12 + name.length, 0, name.length, ...Buffer.from(name), level, 2, 0, 0, 0, 4,
        ...Buffer.from("odd1")]));
      expect(await mismatched.next("connack")).toMatchObject({ returnCode: 1 });
    }
  });

  it("close() ends the listener and every client, without their wills", async () => {
    const watcher = await client({ clientId: "close-watcher" });
    const got = collect(watcher);
    await watcher.subscribeAsync("bye/#");
    const member = await client({ clientId: "member", will: { topic: "bye/member", payload: Buffer.from("x"), qos: 0, retain: false } },
      ports.small);
    const closed = new Promise<void>((resolve) => member.once("close", () => resolve()));
    const fresh = await Raw.open(ports.small);  // connected, no CONNECT yet
    await new Promise((r) => setTimeout(r, 200));  // accepted by mongoose, not only by the kernel
    await watcher.publishAsync("ctl/close-small", "", { qos: 1 });
    expect(await line(fw, "small-closed")).toEqual({ clients: 0, sessions: 0 });
    await closed;
    await until("the fresh connection closed", () => fresh.closed);
    const refused = await new Promise<string>((resolve) =>
      net.connect(ports.small, "127.0.0.1").on("connect", () => resolve("connected")).on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "")));
    expect(refused).toBe("ECONNREFUSED");
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual([]);
  });

  it("speaks TLS on mqtts://", async () => {
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${ports.secure}`, { ca: tls.cert, servername: "localhost", reconnectPeriod: 0,
      clientId: "tls", connectTimeout: 5000 });
    clients.push(c);
    const got = collect(c);
    await c.subscribeAsync("s/#", { qos: 1 });
    await c.publishAsync("s/x", "secret", { qos: 1 });
    await until("its own message", () => got.length === 1);
    expect(got[0]).toMatchObject({ topic: "s/x", text: "secret" });
  });
});
