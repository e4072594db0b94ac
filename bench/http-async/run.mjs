#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// HTTP hello world on the AsyncManager: requests per second and mean latency of a
// TypeScript firmware (release) answering on am.serve and on a raw (conn, ev, data)
// handler (conn.reply), next to the C mongoose hello world of bench/http-sync and
// Node's http module, under wrk with keep-alive at 1 and 50 connections.
// Usage: node bench/http-async/run.mjs [--seconds N] [--rounds N] [--poll MS]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const CLI = path.join(ROOT, "firmware", "cli.mjs");
const HELLO_C = path.join(ROOT, "bench", "http-sync", "hello.c");

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = option("--seconds", 5);
const ROUNDS = option("--rounds", 1);
const POLL_MS = option("--poll", 10);
const CONNECTIONS = [1, 50];
const log = (text) => process.stderr.write(`bench/http-async: ${text}\n`);

// Both TypeScript servers live in one firmware, on two ports; /quit on either
// closes the AsyncManager, and the firmware exits.
function firmwareSource(servePort, rawPort) {
  return `
import { AsyncManager, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";
const am = new AsyncManager(undefined, { pollInterval: ${POLL_MS} });
await am.start();
const quit = () => setTimeout(() => am.close(), 20);
await am.serve("http://127.0.0.1:${servePort}", (req) => {
  if (req.uri === "/quit") quit();
  return "hello\\n";
});
await am.listen("http://127.0.0.1:${rawPort}", (conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  if (data.uri === "/quit") quit();
  conn.reply(200, "hello\\n");
});
console.log("ready");
`;
}

const NODE_SERVER = `
const http = require("http");
http.createServer((req, res) => {
  res.writeHead(200, { "Content-Length": 6 });
  res.end("hello\\n");
}).listen(Number(process.argv[2]), "127.0.0.1", () => console.log("ready"));
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().on("error", reject).listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function needWrk() {
  if (spawnSync("wrk", ["--version"]).error) {
    console.error("bench/http-async: wrk is not installed (Debian: apt-get install wrk)");
    process.exit(2);
  }
}

// mongoose.c's flags in release firmware (from the CMake cache), so that the C
// baseline runs the same code the firmware does.
function releaseFlags() {
  const dir = path.join(ROOT, "build", "cache", "linux-sim-release");
  const ninja = path.join(dir, "build.ninja");
  if (fs.existsSync(ninja)) {
    const text = fs.readFileSync(ninja, "utf8");
    const at = text.indexOf("build CMakeFiles/mongoose.dir/");
    const m = at >= 0 && /\n\s+FLAGS = (.*)\n/.exec(text.slice(at, at + 2000));
    if (m) return m[1].trim().split(/\s+/);
  }
  const make = path.join(dir, "CMakeFiles", "mongoose.dir", "flags.make");
  if (fs.existsSync(make)) {
    const m = /^C_FLAGS = (.*)$/m.exec(fs.readFileSync(make, "utf8"));
    if (m) return m[1].trim().split(/\s+/);
  }
  throw new Error(`cannot find the release flags of mongoose.c in ${dir}`);
}

function buildFirmware(work, servePort, rawPort) {
  fs.writeFileSync(path.join(work, "manifest.json"), JSON.stringify({ modules: { "*": ["./main"] } }));
  fs.writeFileSync(path.join(work, "main.ts"), firmwareSource(servePort, rawPort));
  log("building the TypeScript firmware (release)...");
  execFileSync(process.execPath, [CLI, "build", "--manifest", path.join(work, "manifest.json"), "--out", path.join(work, "out"),
    "--variant", "release", "--quiet"], { stdio: "inherit" });
  return path.join(work, "out", "firmware");
}

function buildC(work, flags) {
  const mg = path.join(ROOT, "deps", "mongoose");
  const includes = ["-I", mg, "-I", path.join(ROOT, "modules", "mongoose", "c")];
  const common = flags.filter((f) => f !== "-w");
  const exe = path.join(work, "hello");
  log("building the C server (bench/http-sync/hello.c)...");
  execFileSync("gcc", [...common, "-w", ...includes, "-c", path.join(mg, "mongoose.c"), "-o", path.join(work, "mongoose.o")], { stdio: "inherit" });
  execFileSync("gcc", [...common, ...includes, "-c", HELLO_C, "-o", path.join(work, "hello.o")], { stdio: "inherit" });
  execFileSync("gcc", [path.join(work, "hello.o"), path.join(work, "mongoose.o"), "-o", exe], { stdio: "inherit" });
  return exe;
}

// Resolves once the server printed "ready". stderr goes to a file: mongoose logs
// every connection wrk resets, and an unread pipe would stall the server.
function startServer(cmd, args, logFile) {
  return new Promise((resolve, reject) => {
    const err = fs.openSync(logFile, "w");
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", err] });
    fs.closeSync(err);
    child.logFile = logFile;
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("ready\n")) resolve(child);
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`${cmd} exited (${code}) before it was ready: ${out}`)));
  });
}

function stopServer(child, port, viaQuit) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    if (viaQuit) fetch(`http://127.0.0.1:${port}/quit`).then((r) => r.text()).catch(() => child.kill("SIGTERM"));
    else child.kill("SIGTERM");
  });
}

const UNITS = { us: 1e-3, ms: 1, s: 1000 };

function wrk(port, connections, seconds) {
  const r = spawnSync("wrk", ["-t", "1", "-c", String(connections), "-d", `${seconds}s`, `http://127.0.0.1:${port}/`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}${r.stdout}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const latency = /Latency\s+([\d.]+)(us|ms|s)\b/.exec(r.stdout);
  const errors = /Socket errors: (.*)/.exec(r.stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  if (!rps || !latency) throw new Error(`cannot read wrk's output:\n${r.stdout}`);
  return {
    rps: Number(rps[1]),
    latencyMs: Number(latency[1]) * UNITS[latency[2]],
    problems: [errors && `socket errors: ${errors[1]}`, non2xx && `${non2xx[1]} non-2xx`].filter(Boolean).join("; "),
  };
}

function median(runs) {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return sorted[(sorted.length - 1) >> 1];
}

needWrk();
const work = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-http-async-"));
try {
  const ports = { serve: await freePort(), raw: await freePort(), c: await freePort(), node: await freePort() };
  const firmware = buildFirmware(work, ports.serve, ports.raw);
  const flags = releaseFlags();
  const hello = buildC(work, flags);
  fs.writeFileSync(path.join(work, "node-hello.js"), NODE_SERVER);

  const fwChild = await startServer(firmware, [], path.join(work, "stderr-fw.txt"));
  const subjects = [
    { name: "TS am.serve (release)", port: ports.serve, child: fwChild },
    { name: "TS AsyncManager raw handler", port: ports.raw, child: fwChild },
    { name: "C mongoose (http-sync/hello.c)", port: ports.c, child: await startServer(hello, [String(ports.c), String(POLL_MS)], path.join(work, "stderr-c.txt")) },
    { name: `Node ${process.version} http`, port: ports.node, child: await startServer(process.execPath, [path.join(work, "node-hello.js"), String(ports.node)], path.join(work, "stderr-node.txt")) },
  ];
  try {
    for (const s of subjects) {
      wrk(s.port, 10, 1);  // warm-up
      s.runs = CONNECTIONS.map(() => []);
    }
    // Servers take turns, round by round, so that each sees the same machine load.
    for (let round = 1; round <= ROUNDS; round++)
      CONNECTIONS.forEach((c, i) => {
        for (const s of subjects) {
          log(`round ${round}/${ROUNDS}: ${s.name}, ${c} connection(s), ${SECONDS} s`);
          s.runs[i].push(wrk(s.port, c, SECONDS));
        }
      });
  } finally {
    const fwExit = await stopServer(fwChild, ports.serve, true);
    await Promise.all(subjects.slice(2).map((s) => stopServer(s.child, s.port, false)));
    if (fwExit !== 0) log(`the firmware exited with ${fwExit} after /quit (expected 0)`);
  }
  for (const s of subjects) s.results = s.runs.map(median);
  const unexpected = fs.readFileSync(fwChild.logFile, "utf8").split("\n").filter((l) => l && !/socket error/.test(l));
  if (unexpected.length) log(`the firmware wrote to stderr:\n${unexpected.slice(0, 10).join("\n")}`);

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const rounds = ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : "";
  console.log(`HTTP hello world on the AsyncManager, keep-alive, wrk -t1 for ${SECONDS} s per cell${rounds}`);
  console.log(`(${os.cpus().length} x ${cpu}, load average ${os.loadavg()[0].toFixed(1)}; poll interval ${POLL_MS} ms; C flags ${flags.join(" ")})`);
  console.log("");
  const header = ["", ...CONNECTIONS.flatMap((c) => [`${c} conn req/s`, "mean latency"])];
  const rows = subjects.map((s) => [s.name, ...s.results.flatMap((r) => [r.rps.toFixed(0), `${r.latencyMs.toFixed(3)} ms`])]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log("");
  const [serve, raw, c, node] = subjects;
  const ratio = (a, b, i) => (a.results[i].rps / b.results[i].rps).toFixed(2);
  for (const s of [serve, raw]) {
    console.log(`${s.name}: ${CONNECTIONS.map((n, i) => `${ratio(s, c, i)} of C's req/s at ${n} conn`).join(", ")}; ` +
      `${ratio(s, node, 1)} of Node's at 50 conn; mean latency ${(s.results[0].latencyMs / c.results[0].latencyMs).toFixed(2)}x C's at 1 conn`);
  }
  for (const s of subjects) {
    const problems = s.results.map((r, i) => r.problems && `${CONNECTIONS[i]} conn: ${r.problems}`).filter(Boolean);
    if (problems.length) console.log(`${s.name}: ${problems.join("; ")}`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
