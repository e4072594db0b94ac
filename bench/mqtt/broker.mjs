#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The firmware's MQTT broker (am.mqttBroker) next to mosquitto, in one run:
//   fan-out: 50 subscribers of "bench/#" (QoS 0), one publisher sends N QoS 0
//     messages of 16 bytes to "bench/t" as fast as its socket takes them; the
//     rate is the copies the subscribers received over the time from the first
//     message sent to the last copy received;
//   per client: XS heap (after a collection) and resident memory of the broker's
//     process, with 1 client connected and with C more idle ones (each subscribed
//     to a filter of its own), the growth divided by C.
// Peers are raw sockets with packets made here: counting bytes, not parsing, so
// that the clients cost little next to the brokers.
// Usage: node bench/mqtt/broker.mjs [--messages N] [--subscribers S] [--clients C]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqttPacket from "mqtt-packet";
import { CLI, freePort, makeLog, option } from "../lib.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const log = makeLog("bench/mqtt/broker");
const MESSAGES = option("--messages", 20000);
const SUBSCRIBERS = option("--subscribers", 50);
const CLIENTS = option("--clients", 200);

const TOPIC = "bench/t";
const PAYLOAD = Buffer.alloc(16, 0x61);

// Packets made by mqtt-packet, as the broker's tests make theirs.
const connect = (clientId) => mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 0, clientId });
const subscribe = (filter) => mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: filter, qos: 0 }] });
const publishTo = (topic, payload) => mqttPacket.generate({ cmd: "publish", topic, payload, qos: 0, dup: false, retain: false });
const publish = publishTo(TOPIC, PAYLOAD);
const CONNACK_SUBACK = 4 + 5;

/** A client that connects, subscribes to filter, and counts the bytes that follow. */
function subscriber(port, id, filter) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    const sub = { socket: s, bytes: 0, last: 0 };
    s.setNoDelay(true);
    s.on("error", reject);
    s.on("connect", () => s.write(Buffer.concat([connect(id), subscribe(filter)])));
    s.on("data", (d) => {
      sub.bytes += d.length;
      sub.last = performance.now();
      if (sub.bytes === CONNACK_SUBACK) resolve(sub);
    });
  });
}

async function fanout(port) {
  const subs = [];
  for (let i = 0; i < SUBSCRIBERS; i++) subs.push(await subscriber(port, `sub-${i}`, "bench/#"));
  const pub = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => pub.once("connect", resolve));
  pub.write(connect("publisher"));
  await new Promise((resolve) => pub.once("data", resolve));  // CONNACK
  const expected = CONNACK_SUBACK + MESSAGES * publish.length;
  const began = performance.now();
  pub.write(Buffer.concat(Array.from({ length: MESSAGES }, () => publish)));
  // Done when every copy came, or when none came for 2 s (a broker that dropped some).
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const last = Math.max(...subs.map((s) => s.last));
    if (subs.every((s) => s.bytes >= expected) || performance.now() - last > 2000) break;
  }
  const copies = subs.reduce((n, s) => n + Math.floor((s.bytes - CONNACK_SUBACK) / publish.length), 0);
  const seconds = (Math.max(...subs.map((s) => s.last)) - began) / 1000;
  for (const s of [...subs.map((x) => x.socket), pub]) s.destroy();
  return { copies, of: MESSAGES * SUBSCRIBERS, seconds, rate: copies / seconds };
}

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
}

// Resident memory (and the firmware's heap line, through heap()) with 1 client,
// then with CLIENTS more.
async function perClient(port, pid, heap) {
  const probe = await subscriber(port, "probe", "probe/#");
  await new Promise((r) => setTimeout(r, 300));
  const before = { rss: rssKiB(pid), heap: await heap?.() };
  const idle = [];
  for (let i = 0; i < CLIENTS; i++) idle.push(await subscriber(port, `idle-${i}`, `idle/${i}/#`));
  await new Promise((r) => setTimeout(r, 300));
  const after = { rss: rssKiB(pid), heap: await heap?.() };
  for (const s of [probe, ...idle]) s.socket.destroy();
  return { before, after };
}

function waitLine(child, pattern, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in:\n${text}`)), timeoutMs);
    const on = (d) => {
      text += d;
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        child.stdout.off("data", on);
        resolve(m);
      }
    };
    child.stdout.on("data", on);
  });
}

const FIRMWARE = (port) => `
import { AsyncManager } from "mongoose";
import "mongoose/mqtt-broker";
import { heap } from "broker_heap";
const am = new AsyncManager();
await am.start();
const broker = await am.mqttBroker("mqtt://127.0.0.1:${port}", { maxClients: ${CLIENTS + SUBSCRIBERS + 10} });
broker.subscribe("heap/now", () => console.log("heap " + heap() + " clients=" + broker.clients));
console.log("ready");
`;

async function firmwareBroker(dir) {
  const port = await freePort();
  const app = path.join(dir, "fw");
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, "manifest.json"), JSON.stringify({ modules: { "*": ["./main", path.join(HERE, "broker_heap")] } }));
  fs.writeFileSync(path.join(app, "main.ts"), FIRMWARE(port));
  log("building the firmware (release)");
  execFileSync(process.execPath, [CLI, "build", "--manifest", path.join(app, "manifest.json"), "--out", path.join(app, "out"),
    "--variant", "release", "--quiet"], { stdio: "inherit" });
  const child = spawn(path.join(app, "out", "firmware"), [], { stdio: ["ignore", "pipe", "inherit"] });
  child.stdout.setEncoding("utf8");
  await waitLine(child, /^ready$/m);
  const heap = async () => {
    const line = waitLine(child, /heap slots=(\d+) chunks=(\d+)/);
    const s = net.connect(port, "127.0.0.1");
    s.on("connect", () => s.write(Buffer.concat([connect("heap-probe"), publishTo("heap/now", "?")])));
    const m = await line;
    s.destroy();
    return Number(m[1]) + Number(m[2]);
  };
  return { name: "firmware am.mqttBroker", port, pid: child.pid, heap, stop: () => child.kill("SIGTERM") };
}

async function mosquitto(dir) {
  const port = await freePort();
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(conf, [`user ${os.userInfo().username}`, `listener ${port} 127.0.0.1`, "allow_anonymous true", ""].join("\n"));
  // mosquitto -h prints its version and exits 3.
  const version = /mosquitto version (\S+)/.exec(spawnSync("mosquitto", ["-h"], { encoding: "utf8" }).stdout)?.[1] ?? "?";
  const child = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => net.connect(port, "127.0.0.1").on("connect", function () {
      this.destroy();
      resolve(true);
    }).on("error", () => resolve(false)));
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name: `mosquitto ${version}`, port, pid: child.pid, stop: () => child.kill("SIGTERM") };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-broker-"));
const results = [];
try {
  for (const start of [firmwareBroker, mosquitto]) {
    const b = await start(dir);
    try {
      // Memory first: after the fan-out, the freed buffers of its burst make the resident size move on its own.
      log(`${b.name}: memory with ${CLIENTS} idle clients`);
      const m = await perClient(b.port, b.pid, b.heap);
      log(`${b.name}: fan-out, ${MESSAGES} messages to ${SUBSCRIBERS} subscribers`);
      const f = await fanout(b.port);
      results.push({ name: b.name, f, m });
    } finally {
      b.stop();
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`Fan-out: 1 publisher, ${SUBSCRIBERS} subscribers, ${MESSAGES} QoS 0 messages of ${PAYLOAD.length} bytes`);
for (const { name, f } of results)
  console.log(`  ${name.padEnd(26)} ${Math.round(f.rate).toString().padStart(9)} copies/s  (${f.copies} of ${f.of} in ${f.seconds.toFixed(3)} s)`);
console.log(`  firmware / mosquitto: ${(results[0].f.rate / results[1].f.rate).toFixed(2)}`);
console.log(`Per connected client (${CLIENTS} idle clients, each subscribed to one filter)`);
for (const { name, m } of results) {
  const rss = ((m.after.rss - m.before.rss) * 1024) / CLIENTS;
  const heap = m.before.heap === undefined ? "" : `, XS heap ${Math.round((m.after.heap - m.before.heap) / CLIENTS)} B` +
    ` (${m.before.heap} -> ${m.after.heap} B live)`;
  console.log(`  ${name.padEnd(26)} RSS ${Math.round(rss)} B (${m.before.rss} -> ${m.after.rss} KiB)${heap}`);
}
