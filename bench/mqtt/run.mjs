#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Publish throughput from firmware to mosquitto, next to the npm `mqtt` client in
// Node doing the same, in one run: N messages of 64 bytes to one topic at QoS 0
// and at QoS 1, at most W of them unfinished at a time (batches of W awaited
// together: QoS 0 is finished once written, QoS 1 at its PUBACK). The firmware
// uses AsyncManager.mqtt (release build); each side times itself.
// Usage: node bench/mqtt/run.mjs [--messages N] [--window W]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { buildFirmware, freePort, makeLog, option } from "../lib.mjs";

const MESSAGES = option("--messages", 5000);
const WINDOW = option("--window", 100);
const log = makeLog("bench/mqtt");
const PAYLOAD = "x".repeat(64);

async function startMosquitto(work) {
  const port = await freePort();
  const conf = path.join(work, "mosquitto.conf");
  // Running as root, mosquitto would switch to user "mosquitto". Without
  // set_tcp_nodelay its PUBACKs wait for delayed ACKs (about 40 ms per window):
  // both clients then measured about 2,100 msg/s at QoS 1, the broker's pace.
  fs.writeFileSync(conf, `user ${os.userInfo().username}\nset_tcp_nodelay true\nlistener ${port} 127.0.0.1\nallow_anonymous true\n`);
  const child = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  await new Promise((resolve, reject) => {
    const grow = (d) => {
      text += d;
      if (/mosquitto version .* running/.test(text)) resolve();
    };
    child.stdout.on("data", grow);
    child.stderr.on("data", grow);
    child.on("exit", () => reject(new Error(`mosquitto exited:\n${text}`)));
  });
  return { port, child };
}

function firmwareSource(url) {
  return `
import { AsyncManager } from "mongoose";
import "mongoose/mqtt-client";
const am = new AsyncManager();
await am.start();
const client = am.mqtt(${JSON.stringify(url)}, { clientId: "bench-fw", maxPending: ${WINDOW} });
await client.connected;
const payload = ${JSON.stringify(PAYLOAD)};
for (const qos of [0, 1] as const) {
  const began = Date.now();
  for (let sent = 0; sent < ${MESSAGES}; sent += ${WINDOW}) {
    const batch: Promise<void>[] = [];
    for (let i = sent; i < Math.min(${MESSAGES}, sent + ${WINDOW}); i++) batch.push(client.publish("bench/fw", payload, { qos }));
    await Promise.all(batch);
  }
  console.log("result " + JSON.stringify({ qos, ms: Date.now() - began }));
}
await client.end();
await am.close();
`;
}

async function nodeClient(url) {
  const client = await mqtt.connectAsync(url, { clientId: "bench-node", reconnectPeriod: 0 });
  const results = [];
  for (const qos of [0, 1]) {
    const began = process.hrtime.bigint();
    for (let sent = 0; sent < MESSAGES; sent += WINDOW) {
      const batch = [];
      for (let i = sent; i < Math.min(MESSAGES, sent + WINDOW); i++) batch.push(client.publishAsync("bench/node", PAYLOAD, { qos }));
      await Promise.all(batch);
    }
    results.push({ qos, ms: Number(process.hrtime.bigint() - began) / 1e6 });
  }
  await client.endAsync();
  return results;
}

async function firmwareClient(exe) {
  const child = spawn(exe, [], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise((resolve) => child.on("exit", (c, s) => resolve(c ?? s)));
  const results = out.split("\n").filter((l) => l.startsWith("result ")).map((l) => JSON.parse(l.slice(7)));
  if (results.length !== 2) throw new Error(`the firmware exited (${code}) without its results:\n${out}${err}`);
  return results;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-mqtt-"));
const broker = await startMosquitto(work);
try {
  const url = `mqtt://127.0.0.1:${broker.port}`;
  log(`building the firmware (release)...`);
  const exe = buildFirmware(work, firmwareSource(url));
  log(`${MESSAGES} messages of ${PAYLOAD.length} bytes, window ${WINDOW}: firmware...`);
  const fw = await firmwareClient(exe);
  log("node...");
  const node = await nodeClient(url);
  console.log(`MQTT publish to mosquitto: ${MESSAGES} messages of ${PAYLOAD.length} bytes, at most ${WINDOW} unfinished`);
  console.log("client                       QoS 0 msg/s   QoS 1 msg/s");
  const row = (name, r) => console.log(`${name.padEnd(28)} ${String(Math.round(MESSAGES / (r[0].ms / 1000))).padStart(11)}   ${String(Math.round(MESSAGES / (r[1].ms / 1000))).padStart(11)}`);
  row("firmware (AsyncManager.mqtt)", fw);
  row(`node ${process.version} (mqtt npm)`, node);
} finally {
  broker.child.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
}
