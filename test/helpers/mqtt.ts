// SPDX-License-Identifier: MIT
// MQTT peers for the tests: a mosquitto broker started on free ports (an
// anonymous listener, and one that wants user alice, password "s3cret"), the
// `mqtt` npm client, and reading the "<kind> {json}" lines firmwares print.
import { ChildProcess, spawn, spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import mqtt, { type MqttClient, type IPublishPacket } from "mqtt";
import { freePort, type Running } from "./net";

/**
 * Firmware source to paste into a main.ts that imports MqttMessage and type
 * MqttProperty from "mongoose": out(kind, fields) prints "<kind> <json>"; hex and
 * bytesOf convert; describe(message) is what tests compare; filters(packet) reads
 * the topic filters of a SUBSCRIBE.
 */
export const FIRMWARE_HELPERS = `
function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
function out(kind: string, fields: object): void {
  console.log(kind + " " + JSON.stringify(fields));
}
function props(list: MqttProperty[]): object[] {
  return list.map((p) => ({ id: p.id, key: p.key, value: p.value instanceof Uint8Array ? "hex:" + hex(p.value) : p.value }));
}
function describe(m: MqttMessage): object {
  return { topic: m.topic, hex: hex(m.data), text: m.text, qos: m.qos, id: m.id, cmd: m.cmd, ack: m.ack,
    retain: m.retain, packet: m.packet.length, props: props(m.properties) };
}
function bytesOf(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
// The topic filters of a SUBSCRIBE: after the fixed header and the packet id,
// (length, filter, options) until the end.
function filters(packet: Uint8Array): string[] {
  let i = 1;
  while (packet[i] & 0x80) i++;
  i += 3;
  const list: string[] = [];
  while (i + 2 <= packet.length) {
    const n = (packet[i] << 8) | packet[i + 1];
    list.push(String.fromCharCode(...packet.subarray(i + 2, i + 2 + n)));
    i += 3 + n;
  }
  return list;
}
`;

export interface Broker {
  port: number;         // anonymous
  securePort: number;   // user alice, password "s3cret"
  log(): string;
  waitLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startBroker(): Promise<Broker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-mosquitto-"));
  const port = await freePort();
  const securePort = await freePort();
  const passwd = path.join(dir, "passwd");
  const made = spawnSync("mosquitto_passwd", ["-b", "-c", passwd, "alice", "s3cret"], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
  // Running as root, mosquitto would switch to user "mosquitto", who cannot read our files.
  fs.writeFileSync(path.join(dir, "mosquitto.conf"), [
    "per_listener_settings true",
    `user ${os.userInfo().username}`,
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    `listener ${securePort} 127.0.0.1`,
    "allow_anonymous false",
    `password_file ${passwd}`,
    "",
  ].join("\n"));
  const child: ChildProcess = spawn("mosquitto", ["-c", path.join(dir, "mosquitto.conf"), "-v"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const waiters: Array<() => void> = [];
  const grow = (d: Buffer) => {
    text += d;
    waiters.splice(0).forEach((w) => w());
  };
  child.stdout!.on("data", grow);
  child.stderr!.on("data", grow);
  const exited = new Promise<void>((resolve) => child.on("exit", () => {
    waiters.splice(0).forEach((w) => w());
    resolve();
  }));
  let gone = false;
  exited.then(() => (gone = true));
  const waitLog = (pattern: RegExp, timeoutMs = 10000) => new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mosquitto never logged ${pattern}; its log:\n${text}`)), timeoutMs);
    const check = () => {
      const line = text.split("\n").find((l) => pattern.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      } else if (gone) {
        clearTimeout(timer);
        reject(new Error(`mosquitto exited; its log:\n${text}`));
      } else waiters.push(check);
    };
    check();
  });
  await waitLog(/mosquitto version .* running/);
  return {
    port,
    securePort,
    log: () => text,
    waitLog,
    stop: async () => {
      if (!gone) {
        child.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The JSON of the first firmware line "<kind> {...}" whose JSON satisfies test. */
export async function line<T = Record<string, unknown>>(fw: Running, kind: string, test: (v: T) => boolean = () => true,
  timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const l of fw.stdout().split("\n")) {
      if (!l.startsWith(kind + " ")) continue;
      const value = JSON.parse(l.slice(kind.length + 1)) as T;
      if (test(value)) return value;
    }
    if (Date.now() > deadline)
      throw new Error(`no "${kind}" line as expected; stdout:\n${fw.stdout()}\nstderr:\n${fw.stderr()}`);
    await Promise.race([fw.exited, new Promise((r) => setTimeout(r, 20))]);
  }
}

export function all<T = Record<string, unknown>>(fw: Running, kind: string): T[] {
  return fw.stdout().split("\n").filter((l) => l.startsWith(kind + " ")).map((l) => JSON.parse(l.slice(kind.length + 1)) as T);
}

export interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

export class Peer {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];
  constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) => {
      this.received.push({ topic, payload, packet });
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  static async connect(url: string, version: 4 | 5 = 4, clientId?: string): Promise<Peer> {
    const client = await mqtt.connectAsync(url, { protocolVersion: version, reconnectPeriod: 0, clientId, connectTimeout: 5000 });
    return new Peer(client);
  }
  message(topic: string, timeoutMs = 10000): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic}; got ${this.received.map((r) => r.topic)}`)), timeoutMs);
      const check = () => {
        const hit = this.received.find((r) => r.topic === topic);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else this.waiters.push(check);
      };
      check();
    });
  }
  command(clientId: string, c: object): Promise<unknown> {
    return this.client.publishAsync(`ctl/${clientId}`, JSON.stringify(c), { qos: 1 });
  }
  end(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/**
 * Has the firmware client clientId (driven through ctl/<clientId>) publish "qos
 * zero" to t/out/zero at QoS 0 and bytes 00 ff 10 to t/out/one at QoS 1, and checks
 * what node's subscription receives.
 */
export async function expectPublishedBothQos(node: Peer, clientId: string): Promise<void> {
  await node.client.subscribeAsync("t/out/#", { qos: 1 });
  await node.command(clientId, { op: "pub", topic: "t/out/zero", message: "qos zero", qos: 0 });
  await node.command(clientId, { op: "pub", topic: "t/out/one", hex: "00ff10", qos: 1 });
  const zero = await node.message("t/out/zero");
  expect(zero.payload.toString()).toBe("qos zero");
  expect(zero.packet.qos).toBe(0);
  const one = await node.message("t/out/one");
  expect([...one.payload]).toEqual([0, 0xff, 0x10]);
  expect(one.packet.qos).toBe(1);
}

/**
 * Plays a real `mqtt` client against a firmware mqttListen server that prints
 * "<prefix>cmd {cmd, id, qos, packet}" per packet, "<prefix>msg" per PUBLISH,
 * "<prefix>subscribe {topics}" and "<prefix>close", answers CONNECT and SUBSCRIBE
 * and publishes "welcome <filters>" to x/back. CONNECT, PUBLISH (QoS 1),
 * SUBSCRIBE, keepalive pings (1 s) and DISCONNECT; returns the QoS of x/back.
 */
export async function driveMqttServer(fw: Running, port: number, prefix = ""): Promise<number> {
  const clients: MqttClient[] = [];
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 4, clientId: "node-client", keepalive: 1, reconnectPeriod: 0, connectTimeout: 5000,
    });
    clients.push(client);
    const connect = await line<{ cmd: number; packet: string }>(fw, prefix + "cmd", (c) => c.cmd === 1);
    const packet = Buffer.from(connect.packet, "hex");
    expect(packet.includes(Buffer.from("\x00\x04MQTT\x04"))).toBe(true);
    expect(packet.includes(Buffer.from("node-client"))).toBe(true);

    // QoS 1: publishAsync resolves on the PUBACK mongoose sends by itself.
    await client.publishAsync("hello/fw", "hi there", { qos: 1 });
    const msg = await line<{ topic: string; text: string; qos: number; id: number }>(fw, prefix + "msg");
    expect(msg).toMatchObject({ topic: "hello/fw", text: "hi there", qos: 1 });
    expect(msg.id).toBeGreaterThan(0);

    const received = new Promise<[string, string, number]>((resolve) =>
      client.once("message", (topic, payload, p) => resolve([topic, payload.toString(), p.qos])));
    const granted = await client.subscribeAsync("x/#", { qos: 0 });
    expect(granted).toEqual([{ topic: "x/#", qos: 0 }]);
    expect(await line(fw, prefix + "subscribe")).toMatchObject({ topics: ["x/#"] });
    const [topic, text, qos] = await received;
    expect([topic, text]).toEqual(["x/back", "welcome x/#"]);

    // keepalive 1 s: the client pings; without a PINGRESP it would give up.
    await line(fw, prefix + "cmd", (c) => c.cmd === 12, 5000);
    await new Promise((r) => setTimeout(r, 2500));
    expect(client.connected).toBe(true);
    expect(all(fw, prefix + "cmd").filter((c) => c.cmd === 12).length).toBeGreaterThanOrEqual(2);

    await client.endAsync();
    clients.length = 0;
    await line(fw, prefix + "cmd", (c) => c.cmd === 14);
    await line(fw, prefix + "close");
    return qos;
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
  }
}
