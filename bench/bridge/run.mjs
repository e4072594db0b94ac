#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The AsyncManager's bridge between the poll task and the XS task, and its memory:
//   1. TCP echo round trip seen from a Node client (µs, p50/p99/mean): AsyncManager
//      raw handler, synchronous Manager, C mongoose (echo.c). One echo through the
//      AsyncManager is one event crossing (READ) and one command crossing (send).
//   2. Inside the firmware (Date.now() over many iterations, so means only): a
//      wakeup round trip (command out, WAKEUP event back, promise resolved) and a
//      TCP ping-pong between the firmware's own client and server.
//   3. Wakeup throughput: a 100,000 burst with a command queue that holds it, and
//      100,000 paced so that at most 500 are outstanding (the default queue).
//   4. Memory: VmRSS of the sim idle and with 100 open keep-alive connections, and
//      XS heap per open connection (--stats at exit with 100 open vs none).
// Usage: node bench/bridge/run.mjs [--iterations N] [--poll MS]
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildCServer, buildFirmware as buildFirmwareIn, freePort, makeLog, option, releaseFlags } from "../lib.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));

const ITERATIONS = option("--iterations", 10000);
const POLL_MS = option("--poll", 10);
const log = makeLog("bench/bridge");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Each firmware in its own folder below work, with its creation (a profile name or
// the sizes themselves).
function buildFirmware(work, name, source, creation = "desktop") {
  const label = typeof creation === "string" ? creation : "custom";
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  log(`building ${name} (release, creation ${label})...`);
  return buildFirmwareIn(dir, source, { creation });
}

// A running process; ready resolves at its "ready" line.
function launch(cmd, args = []) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.out = "";
  child.err = "";
  child.stderr.on("data", (d) => (child.err += d));
  child.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  child.ready = new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      child.out += d;
      if (/^ready/m.test(child.out)) resolve();
    });
    child.exited.then((code) => reject(new Error(`${cmd} exited (${code}) before it was ready:\n${child.out}${child.err}`)));
  });
  child.ready.catch(() => {});  // an error only for those who wait for it
  return child;
}

async function terminate(child) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
  const code = await child.exited;
  clearTimeout(killer);
  return code;
}

function percentiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

// Round trips of a 16-byte message on one TCP connection, timed with hrtime.
async function echoRoundTrips(port, iterations) {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => (socket.once("connect", resolve), socket.once("error", reject)));
  const message = Buffer.from("0123456789abcdef");
  let pending;
  let got = 0;
  socket.on("data", (d) => {
    got += d.length;
    if (got >= message.length && pending) {
      got -= message.length;
      const done = pending;
      pending = undefined;
      done();
    }
  });
  const once = () => new Promise((resolve) => {
    pending = resolve;
    socket.write(message);
  });
  for (let i = 0; i < Math.min(1000, iterations); i++) await once();  // warm-up
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    await once();
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  socket.destroy();
  return percentiles(samples);
}

// The esp32 profile's sizes, but allowed to grow: what an AsyncManager app needs.
const SMALL = {
  chunk: { initial: 78848, incremental: 16384 },
  heap: { initial: 4928, incremental: 1024 },
  stack: 512,
  keys: { initial: 256, incremental: 128, name: 127, symbol: 61 },
  parser: { buffer: 1024, table: 17 },
};

const AM_ECHO = (port) => `
import { AsyncManager, MG_EV_READ } from "mongoose";
const am = new AsyncManager(undefined, { pollInterval: ${POLL_MS} });
await am.start();
await am.listen("tcp://127.0.0.1:${port}", (conn, ev) => {
  if (ev === MG_EV_READ) conn.send(conn.recv());
});
console.log("ready");
`;

const SYNC_ECHO = (port) => `
import { Manager, MG_EV_READ } from "mongoose";
const mgr = new Manager((conn, ev) => {
  if (ev === MG_EV_READ) conn.send(conn.recv());
});
mgr.listen("tcp://127.0.0.1:${port}");
console.log("ready");
mgr.run(${POLL_MS});
`;

// Runs to completion and prints "name value" lines.
const INSIDE = (port, iterations) => `
import { AsyncManager, AsyncConnection, MG_EV_READ, MG_EV_WAKEUP } from "mongoose";
const N = ${iterations};
const am = new AsyncManager(undefined, { pollInterval: ${POLL_MS}, commandQueueLength: 100001 });
await am.start();

let woken: (() => void) | undefined;
let wakeups = 0;
const target = await am.listen("tcp://127.0.0.1:0", (c: AsyncConnection, ev: number) => {
  if (ev !== MG_EV_WAKEUP) return;
  wakeups++;
  const w = woken;
  woken = undefined;
  w?.();
});
async function wakeRoundTrip(): Promise<void> {
  const p = new Promise<void>((r) => (woken = r));
  am.wakeup(target.id);
  await p;
}
for (let i = 0; i < 1000; i++) await wakeRoundTrip();
let t = Date.now();
for (let i = 0; i < N; i++) await wakeRoundTrip();
console.log("wakeup-rt-us", (Date.now() - t) * 1000 / N);

await am.listen("tcp://127.0.0.1:${port}", (c: AsyncConnection, ev: number) => {
  if (ev === MG_EV_READ) c.send(c.recv());
});
let echoed: (() => void) | undefined;
const client = await am.connect("tcp://127.0.0.1:${port}", (c: AsyncConnection, ev: number) => {
  if (ev !== MG_EV_READ || c.recv().length === 0) return;
  const e = echoed;
  echoed = undefined;
  e?.();
});
async function ping(): Promise<void> {
  const p = new Promise<void>((r) => (echoed = r));
  client.send("ping");
  await p;
}
for (let i = 0; i < 1000; i++) await ping();
t = Date.now();
for (let i = 0; i < N; i++) await ping();
console.log("tcp-pingpong-us", (Date.now() - t) * 1000 / N);

async function until(count: number): Promise<void> {
  while (wakeups < count) await am.sleep(1);
}
const BURST = 100000;
wakeups = 0;
t = Date.now();
for (let i = 0; i < BURST; i++) am.wakeup(target.id, "w");
const posted = Date.now() - t;
await until(BURST);
console.log("wakeup-burst-per-s", BURST * 1000 / Math.max(1, Date.now() - t), "post-ms", posted);
wakeups = 0;
t = Date.now();
for (let i = 0; i < BURST; i++) {
  am.wakeup(target.id, "w");
  if (i % 500 === 499) await until(i + 1 - 500);
}
await until(BURST);
console.log("wakeup-paced-per-s", BURST * 1000 / Math.max(1, Date.now() - t));
await am.close();
console.log("done");
`;

// An HTTP server answering "ok" on kept-alive connections: AsyncManager or Manager.
const MEMORY = (port, kind) => kind === "async" ? `
import { AsyncManager, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";
const am = new AsyncManager();
await am.start();
await am.listen("http://127.0.0.1:${port}", (conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) conn.reply(200, "ok");
});
console.log("ready");
` : `
import { Manager, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";
const mgr = new Manager((conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) conn.reply(200, "ok");
});
mgr.listen("http://127.0.0.1:${port}");
console.log("ready");
mgr.run(100);
`;

function rssKb(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m[1]);
}

// 100 keep-alive connections, one request each; resolves with the open sockets.
async function openConnections(port, count) {
  return Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    let text = "";
    socket.on("data", (d) => {
      text += d;
      if (text.endsWith("ok")) resolve(socket);
    });
    socket.on("error", reject);
    // A 503 from the memory budget closes the connection: say so, not hang.
    socket.on("close", () => reject(new Error(`a connection closed after ${JSON.stringify(text.split("\r\n")[0])}`)));
  })));
}

// A txSlot on the simulator (a 64-bit host): four pointer-sized words.
const SLOT_BYTES = 32;

// --stats' "xs-ram: ... slots=<live>/<max> chunks=<used>/<max>": live at exit.
function heapNow(stderr) {
  const m = /^xs-ram: boot=\d+ peak=\d+ slots=(\d+)\/\d+ chunks=(\d+)\/\d+$/m.exec(stderr);
  if (!m) throw new Error(`no --stats line in:\n${stderr}`);
  return { slots: Number(m[1]), chunks: Number(m[2]), slotBytes: SLOT_BYTES };
}

async function memory(exe, port) {
  const result = {};
  for (const keepOpen of [true, false]) {
    const child = launch(exe, ["--stats"]);
    await child.ready;
    await sleep(300);
    const idle = rssKb(child.pid);
    const sockets = await openConnections(port, 100);
    await sleep(300);
    const open = rssKb(child.pid);
    if (!keepOpen) {
      for (const s of sockets) s.destroy();
      await sleep(500);
    }
    await terminate(child);
    const heap = heapNow(child.err);
    if (keepOpen) Object.assign(result, { idle, open, heapOpen: heap });
    else result.heapClosed = heap;
    for (const s of sockets) s.destroy();
  }
  const { heapOpen: a, heapClosed: b } = result;
  result.perConnection = ((a.slots - b.slots) * a.slotBytes + (a.chunks - b.chunks)) / 100;
  result.perConnectionSlots = (a.slots - b.slots) / 100;
  result.perConnectionChunks = (a.chunks - b.chunks) / 100;
  result.slotBytes = a.slotBytes;
  result.baseline = b;
  return result;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-bridge-"));
try {
  const ports = { am: await freePort(), sync: await freePort(), c: await freePort(), inside: await freePort(), mem: await freePort() };
  const amEcho = buildFirmware(work, "am-echo", AM_ECHO(ports.am));
  const syncEcho = buildFirmware(work, "sync-echo", SYNC_ECHO(ports.sync));
  const inside = buildFirmware(work, "inside", INSIDE(ports.inside, ITERATIONS));
  const memAsync = buildFirmware(work, "mem-async", MEMORY(ports.mem, "async"));
  const memAsyncEsp = buildFirmware(work, "mem-async-esp32", MEMORY(ports.mem, "async"), "esp32");
  const memAsyncSmall = buildFirmware(work, "mem-async-small", MEMORY(ports.mem, "async"), SMALL);
  const memSync = buildFirmware(work, "mem-sync", MEMORY(ports.mem, "sync"));
  const cFlags = releaseFlags();
  log("building the C echo...");
  const cEcho = buildCServer(work, cFlags, path.join(HERE, "echo.c"));

  // 1. Echo round trips from Node.
  const echo = [];
  for (const [name, cmd, args, port] of [
    ["AsyncManager raw handler (TS)", amEcho, [], ports.am],
    ["Manager, synchronous (TS)", syncEcho, [], ports.sync],
    ["C mongoose (echo.c)", cEcho, [String(ports.c), String(POLL_MS)], ports.c],
  ]) {
    log(`echo round trips: ${name}`);
    const child = launch(cmd, args);
    await child.ready;
    echo.push({ name, ...(await echoRoundTrips(port, ITERATIONS)) });
    await terminate(child);
  }

  // 2 and 3. Inside the firmware.
  log("inside the firmware: wakeup and TCP round trips, wakeup throughput");
  const child = launch(inside);
  const code = await child.exited;
  if (code !== 0 || !/^done$/m.test(child.out)) throw new Error(`the inside firmware failed (${code}):\n${child.out}${child.err}`);
  const figure = (name) => {
    const line = child.out.split("\n").find((l) => l.startsWith(name + " "));
    return Number(line.split(" ")[1]);
  };

  // 4. Memory.
  const mem = [];
  for (const [name, exe] of [
    ["AsyncManager, creation desktop", memAsync],
    ["AsyncManager, creation esp32", memAsyncEsp],
    ["AsyncManager, esp32 sizes that grow", memAsyncSmall],
    ["Manager (sync), creation desktop", memSync],
  ]) {
    log(`memory: ${name}`);
    try {
      mem.push({ name, ...(await memory(exe, ports.mem)) });
    } catch (error) {
      mem.push({ name, error: error.message.split("\n").slice(0, 3).join(" ") });
    }
  }

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(`AsyncManager bridge (${os.cpus().length} x ${cpu}, load average ${os.loadavg()[0].toFixed(1)}, node ${process.version}); ` +
    `release firmware, poll interval ${POLL_MS} ms, ${ITERATIONS} iterations`);
  console.log("");
  console.log("1. TCP echo round trip from a Node client, 16 bytes, µs");
  const pad = Math.max(...echo.map((e) => e.name.length));
  console.log(`   ${"".padEnd(pad)}     p50     p99    mean`);
  for (const e of echo) console.log(`   ${e.name.padEnd(pad)}  ${e.p50.toFixed(1).padStart(6)}  ${e.p99.toFixed(1).padStart(6)}  ${e.mean.toFixed(1).padStart(6)}`);
  const [am, sync] = echo;
  console.log(`   bridge cost (one event in, one command out), AsyncManager - Manager: p50 ${(am.p50 - sync.p50).toFixed(1)} µs, p99 ${(am.p99 - sync.p99).toFixed(1)} µs`);
  console.log("");
  console.log("2. Inside the firmware (Date.now() over the whole run: means)");
  console.log(`   wakeup round trip (command -> poll task -> WAKEUP event -> promise)  ${figure("wakeup-rt-us").toFixed(1)} µs`);
  console.log(`   TCP ping-pong, own client and server (2 commands, 2 events, loopback)  ${figure("tcp-pingpong-us").toFixed(1)} µs`);
  console.log("");
  console.log("3. Wakeup throughput, 100,000 wakeups");
  console.log(`   burst (command queue of 100,001)    ${Math.round(figure("wakeup-burst-per-s"))} /s`);
  console.log(`   paced (<= 500 outstanding, default queue of 1024)  ${Math.round(figure("wakeup-paced-per-s"))} /s`);
  console.log("");
  console.log("4. Memory: VmRSS idle and with 100 open keep-alive connections; XS heap per open connection");
  for (const m of mem) {
    if (m.error) console.log(`   ${m.name}: failed: ${m.error}`);
    else {
      console.log(`   ${m.name}: VmRSS idle ${(m.idle / 1024).toFixed(1)} MB, with 100 connections ${(m.open / 1024).toFixed(1)} MB`);
      console.log(`      XS heap per open connection: ${m.perConnectionSlots.toFixed(1)} slots + ${Math.round(m.perConnectionChunks)} chunk bytes = ` +
        `${Math.round(m.perConnection)} bytes with this host's ${m.slotBytes}-byte slots, ` +
        `${Math.round(m.perConnectionSlots * 16 + m.perConnectionChunks)} bytes with a 32-bit device's 16-byte slots`);
      console.log(`      XS heap in use with no connection (after GC): ${m.baseline.slots} slots, ${m.baseline.chunks} chunk bytes`);
    }
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
