#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The soak: one release firmware (bench/soak/app.mjs) answers a long mixed load,
// keep-alive HTTP, connection-per-request HTTP and WebSocket echo, and its XS
// heap and RSS are read at every 10% of the way; growth after the first 10%
// (the warm-up) beyond the thresholds below, any wrong answer or error, sockets
// left open, or the firmware's exit (out of memory in a fixed heap) fails it.
// Usage: node bench/soak/run.mjs [--requests N] [--heap fixed|growing] [--concurrency N] [--leak BYTES]
// Exit code 0: no growth; 1: failed (the reason is printed); 2: could not run.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { buildFirmware, freePort, makeLog, option, startServer, stopServer } from "../lib.mjs";
import { firmwareSource } from "./app.mjs";

const REQUESTS = option("--requests", 1_000_000);
const CONCURRENCY = option("--concurrency", 8);
const LEAK = option("--leak", 0);
const heapAt = process.argv.indexOf("--heap");
const HEAP = heapAt > 0 ? process.argv[heapAt + 1] : "growing";
const log = makeLog("bench/soak");
if (!["fixed", "growing"].includes(HEAP) || !(REQUESTS >= 1000) || !(CONCURRENCY >= 1)) {
  console.error("usage: node bench/soak/run.mjs [--requests N >= 1000] [--heap fixed|growing] [--concurrency N] [--leak BYTES]");
  process.exit(2);
}
// fixed: the esp32 creation profile (incremental 0: a leak ends in the
// firmware's out-of-memory exit, code 3); growing: desktop, which a leak grows.
const CREATION = HEAP === "fixed" ? "esp32" : "desktop";

// Growth allowed between the end of the warm-up and the end. Both XS readings
// come right after a compacting collection with the load stopped and every
// client connection closed, so they are the app's live heap and repeat to the
// byte (13,824 B of slots, 2,592 B of chunks here, at every checkpoint of
// every run measured). 1 KiB is 32 slots on this 64-bit host: less than one
// request's worth of objects; an app that kept even one slot in every 1,000
// requests would cross it within 32,000 requests. RSS includes malloc's arenas,
// which keep freed pages around: 1 MiB, a sixth to a quarter of the firmware's
// RSS (4.7 MiB in the fixed heap, 6.9 MiB in the growing one).
const LIMITS = { slot: 1024, chunk: 1024, rss: 1024 * 1024 };
// Of every 10 requests: 6 keep-alive GETs, 2 POSTs on a connection of their own,
// 2 WebSocket echoes. A WebSocket is reopened after this many messages.
const KINDS = ["keep", "keep", "keep", "keep", "keep", "keep", "close", "close", "ws", "ws"];
const WS_MESSAGES = 100;
const TIMEOUT_MS = 10000;

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

// One HTTP exchange; resolves with status and body, rejects after TIMEOUT_MS.
function exchange(port, options, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, ...options }, (res) => {
      const parts = [];
      res.on("data", (d) => parts.push(d));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`${options.method ?? "GET"} ${options.path}: no answer in ${TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

// A WebSocket client that sends one message at a time and awaits its echo.
class Echo {
  constructor(port) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    this.sent = 0;
    this.waiting = null;
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("error", reject);
    });
    this.ws.on("message", (data) => this.waiting?.resolve(String(data)));
    this.ws.on("error", (e) => this.waiting?.reject(e));
    this.ws.on("close", () => this.waiting?.reject(new Error("the WebSocket closed")));
  }

  async echo(text) {
    await this.opened;
    this.sent++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`WebSocket: no echo in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      this.waiting = {
        resolve: (t) => { clearTimeout(timer); this.waiting = null; resolve(t); },
        reject: (e) => { clearTimeout(timer); this.waiting = null; reject(e); },
      };
      this.ws.send(text);
    });
  }

  close() {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once("close", resolve);
      this.ws.close(1000);
      setTimeout(() => { this.ws.terminate(); resolve(); }, TIMEOUT_MS).unref();
    });
  }
}

// Request number n of the given kind; returns an error message, or "" when the
// answer was right.
async function one(port, agent, worker, n) {
  const kind = KINDS[n % KINDS.length];
  const tag = `n=${n}`;
  if (kind === "keep") {
    const r = await exchange(port, { path: `/hello?${tag}`, agent });
    return r.status === 200 && r.body === `hello ${tag}` ? "" : `GET /hello?${tag}: ${r.status} ${JSON.stringify(r.body.slice(0, 80))}`;
  }
  if (kind === "close") {
    const body = `echo ${tag} ${"x".repeat(n % 200)}`;
    const r = await exchange(port, { method: "POST", path: "/echo", agent: false, headers: { "Content-Length": Buffer.byteLength(body) } }, body);
    return r.status === 200 && r.body === body ? "" : `POST /echo (${tag}): ${r.status} ${JSON.stringify(r.body.slice(0, 80))}`;
  }
  if (worker.ws && worker.ws.sent >= WS_MESSAGES) {
    await worker.ws.close();
    worker.ws = null;
  }
  worker.ws ??= new Echo(port);
  const text = `ws ${tag}`;
  const got = await worker.ws.echo(text);
  return got === text ? "" : `WebSocket echo of ${JSON.stringify(text)}: ${JSON.stringify(got.slice(0, 80))}`;
}

// The firmware's counters, read after a collection on a connection of their own
// (so that every reading counts the same sockets), the smallest of three reads.
async function health(port) {
  const reads = [];
  for (let i = 0; i < 3; i++) {
    const r = await exchange(port, { path: "/health", agent: false });
    if (r.status !== 200) throw new Error(`GET /health: ${r.status} ${r.body}`);
    reads.push(JSON.parse(r.body));
  }
  const min = (name) => Math.min(...reads.map((h) => h[name]));
  return { slot: min("XS Slot Heap Used"), chunk: min("XS Chunk Heap Used"), gc: reads[2]["XS Garbage Collection Count"],
    sockets: min("Network Sockets"), timers: min("Timers") };
}

const mib = (b) => `${(b / 1048576).toFixed(2)} MiB`;
const kib = (b) => `${b >= 0 ? "+" : ""}${(b / 1024).toFixed(1)} KiB`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-soak-"));
const failures = [];
try {
  const port = await freePort();
  log(`building the firmware (release, creation ${CREATION}${LEAK ? `, leaking ${LEAK} bytes per GET` : ""})...`);
  const firmware = buildFirmware(work, firmwareSource(port, LEAK), { creation: CREATION });
  const child = await startServer(firmware, [], path.join(work, "stderr.txt"));
  // How the firmware ended, if it did before the soak asked it to with /quit.
  let exited = null;
  let quitting = false;
  child.on("exit", (code, signal) => {
    if (!quitting) exited = signal ?? code;
  });

  const errors = { count: 0, first: [] };
  const error = (message) => {
    errors.count++;
    if (errors.first.length < 5) errors.first.push(message);
  };
  const checkpoints = [];
  let next = 0;  // the number of the next request: the progress, shared by the clients
  const began = Date.now();
  const loadBefore = os.loadavg()[0];
  try {
    const idle = await health(port);
    checkpoints.push({ done: 0, ...idle, rss: rssBytes(child.pid) });
    console.log(`soak: ${REQUESTS} requests (6/10 keep-alive GET, 2/10 POST on a connection each, 2/10 WebSocket echo), ` +
      `${CONCURRENCY} clients, heap ${HEAP} (creation ${CREATION})${LEAK ? `, leak ${LEAK} B per GET` : ""}; ${os.cpus().length} CPUs, load ${loadBefore.toFixed(1)}`);
    console.log(`idle: XS slots ${idle.slot} B, chunks ${idle.chunk} B, GCs ${idle.gc}, sockets ${idle.sockets}, timers ${idle.timers}, RSS ${mib(checkpoints[0].rss)}`);
    for (let tenth = 1; tenth <= 10 && exited === null && errors.count < 100; tenth++) {
      const end = Math.round((REQUESTS * tenth) / 10);
      const start = next;
      const phaseBegan = Date.now();
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const worker = async () => {
        const self = { ws: null };
        while (next < end && exited === null && errors.count < 100) {
          const n = next++;
          try {
            const problem = await one(port, agent, self, n);
            if (problem) error(problem);
          } catch (e) {
            error(`request ${n} (${KINDS[n % KINDS.length]}): ${e.message}`);
            if (self.ws) await self.ws.close().catch(() => {});
            self.ws = null;
          }
        }
        if (self.ws) await self.ws.close();
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      agent.destroy();
      const rps = (next - start) / ((Date.now() - phaseBegan) / 1000);
      if (exited !== null) break;
      // Every client connection is closed: wait until the firmware has let go of them.
      let h = await health(port);
      for (let waited = 0; h.sockets > idle.sockets && waited < 50; waited++) {
        await new Promise((r) => setTimeout(r, 100));
        h = await health(port);
      }
      const c = { done: next, rps, ...h, rss: rssBytes(child.pid) };
      checkpoints.push(c);
      console.log(`${String(tenth * 10).padStart(3)}%: ${c.done} requests, ${rps.toFixed(0)} req/s, XS slots ${c.slot} B, chunks ${c.chunk} B, ` +
        `GCs ${c.gc}, sockets ${c.sockets}, timers ${c.timers}, RSS ${mib(c.rss)}, errors ${errors.count}`);
      if (h.sockets > idle.sockets) failures.push(`${h.sockets} sockets open at ${tenth * 10}% with every client closed (${idle.sockets} when idle)`);
    }
  } catch (e) {
    if (exited === null) failures.push(`reading the firmware's health: ${e.message}`);
  } finally {
    quitting = exited === null;
    const quit = quitting ? await exchange(port, { path: "/quit", agent: false }).catch((e) => ({ status: 0, body: e.message })) : null;
    // /quit closes the AsyncManager 20 ms after it answered; the firmware then ends by itself.
    for (let waited = 0; quit && child.exitCode === null && child.signalCode === null && waited < 30; waited++)
      await new Promise((r) => setTimeout(r, 100));
    const code = await stopServer(child);
    if (quit && (quit.status !== 200 || code !== 0)) failures.push(`the firmware did not end cleanly on /quit (${quit.status} ${quit.body}, exit ${code})`);
  }
  const seconds = (Date.now() - began) / 1000;
  const stderr = fs.readFileSync(child.logFile, "utf8").trim();
  if (exited !== null) failures.unshift(`the firmware exited (${exited}) after ${next} requests had been sent: ${stderr.split("\n").slice(-3).join(" | ") || "nothing on stderr"}`);
  if (errors.count) failures.push(`${errors.count} request(s) failed; first: ${errors.first.join("; ")}`);

  console.log(`${next} requests sent in ${seconds.toFixed(0)} s; load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after`);
  if (checkpoints.length === 11) {
    const [warm, last] = [checkpoints[1], checkpoints[10]];
    const growth = { slot: last.slot - warm.slot, chunk: last.chunk - warm.chunk, rss: last.rss - warm.rss };
    console.log(`growth after warm-up (${warm.done} to ${last.done} requests): XS slots ${kib(growth.slot)} (limit ${kib(LIMITS.slot)}), ` +
      `chunks ${kib(growth.chunk)} (limit ${kib(LIMITS.chunk)}), RSS ${kib(growth.rss)} (limit ${kib(LIMITS.rss)})`);
    for (const k of ["slot", "chunk", "rss"])
      if (growth[k] > LIMITS[k]) failures.push(`${k === "rss" ? "RSS" : `XS ${k} heap`} grew by ${kib(growth[k])} after warm-up (limit ${kib(LIMITS[k])})`);
  } else if (!failures.length) failures.push("the soak stopped before its end");
  console.log(failures.length ? `verdict: FAIL\n${failures.map((f) => `- ${f}`).join("\n")}` : "verdict: ok, no growth");
} catch (e) {
  console.error(`bench/soak: ${e.stack ?? e}`);
  process.exitCode = 2;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
if (process.exitCode !== 2) process.exitCode = failures.length ? 1 : 0;
