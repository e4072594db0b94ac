#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// HTTP hello world, synchronous Manager: requests per second and mean latency of
// the TypeScript firmware (release, Manager.poll), a C server on the same
// mongoose.c built with the same flags, and Node's http module, under wrk with
// keep-alive at 1 and 50 connections.
// Usage: node bench/http-sync/run.mjs [--seconds N] [--rounds N] [--poll MS]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const CLI = path.join(ROOT, "firmware", "cli.mjs");

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = option("--seconds", 5);
const POLL_MS = option("--poll", 10);
const ROUNDS = option("--rounds", 1);
const CONNECTIONS = [1, 50];
const log = (text) => process.stderr.write(`bench/http-sync: ${text}\n`);

const FIRMWARE = `
import { Manager, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";
const mgr: Manager = new Manager((conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  if (data.uri === "/quit") {
    conn.reply(200, "bye\\n");
    conn.drain();
    mgr.timerAdd(20, () => mgr.close());
  } else conn.reply(200, "hello\\n");
});
mgr.listen("http://127.0.0.1:" + PORT);
console.log("ready");
mgr.run(${POLL_MS});
`;

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
  const r = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (r.error) {
    console.error("bench/http-sync: wrk is not installed (Debian: apt-get install wrk)");
    process.exit(2);
  }
}

// The flags CMake compiles mongoose.c with for release firmware (build/cache), so
// that the C baseline runs the very same code.
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
  throw new Error(`cannot find the release flags of mongoose.c in ${dir}: build a release firmware first`);
}

// The port is compiled in: firmware takes no command-line arguments.
function buildFirmware(work, port) {
  fs.writeFileSync(path.join(work, "manifest.json"), JSON.stringify({ modules: { "*": ["./main"] } }));
  fs.writeFileSync(path.join(work, "main.ts"), `const PORT = ${port};\n${FIRMWARE}`);
  log("building the TypeScript firmware (release)...");
  execFileSync(process.execPath, [CLI, "build", "--manifest", path.join(work, "manifest.json"), "--out", path.join(work, "out"),
    "--variant", "release", "--quiet"], { stdio: "inherit" });
  return path.join(work, "out", "firmware");
}

function buildC(work, flags) {
  const mg = path.join(ROOT, "deps", "mongoose");
  const includes = ["-I", mg, "-I", path.join(ROOT, "modules", "mongoose", "c")];
  const exe = path.join(work, "hello");
  log(`building the C server: gcc ${flags.join(" ")} ...`);
  const common = flags.filter((f) => f !== "-w");
  execFileSync("gcc", [...common, "-w", ...includes, "-c", path.join(mg, "mongoose.c"), "-o", path.join(work, "mongoose.o")], { stdio: "inherit" });
  execFileSync("gcc", [...common, "-Wall", "-Wextra", ...includes, "-c", path.join(HERE, "hello.c"), "-o", path.join(work, "hello.o")], { stdio: "inherit" });
  execFileSync("gcc", [path.join(work, "hello.o"), path.join(work, "mongoose.o"), "-o", exe], { stdio: "inherit" });
  return exe;
}

// Starts a server and resolves once it printed "ready". Its stderr goes to a file
// (child.logFile): mongoose logs every connection wrk resets, one write() per
// character, and an unread pipe would stall the server while wrk runs (spawnSync).
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
    child.on("exit", (code) => reject(new Error(`${cmd} exited (${code}) before it was ready: ${out}${fs.readFileSync(logFile, "utf8")}`)));
  });
}

function stopServer(child, port) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    // The firmware's run() loop ends on /quit; the others on SIGTERM.
    fetch(`http://127.0.0.1:${port}/quit`).then((r) => r.text()).catch(() => {}).finally(() => child.kill("SIGTERM"));
  });
}

const UNITS = { us: 1e-3, ms: 1, s: 1000 };

// The run with the median req/s (its own latency with it).
function median(runs) {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return sorted[(sorted.length - 1) >> 1];
}

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

needWrk();
const work = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-http-"));
try {
  const ports = { fw: await freePort(), c: await freePort(), node: await freePort() };
  const firmware = buildFirmware(work, ports.fw);
  const flags = releaseFlags();
  const hello = buildC(work, flags);
  fs.writeFileSync(path.join(work, "node-hello.js"), NODE_SERVER);

  const subjects = [
    { name: "TS firmware (release, Manager.poll)", port: ports.fw, cmd: firmware, args: [] },
    { name: "C, same mongoose.c and flags", port: ports.c, cmd: hello, args: [String(ports.c), String(POLL_MS)] },
    { name: `Node ${process.version} http`, port: ports.node, cmd: process.execPath, args: [path.join(work, "node-hello.js"), String(ports.node)] },
  ];
  // All three run at once (idle but for the one under test) and take turns, round
  // by round, so that each sees the same share of a busy machine.
  const children = [];
  try {
    for (const s of subjects) {
      children.push(await startServer(s.cmd, s.args, path.join(work, `stderr-${s.port}.txt`)));
      wrk(s.port, 10, 1);  // warm-up
      s.runs = CONNECTIONS.map(() => []);
    }
    for (let round = 1; round <= ROUNDS; round++)
      CONNECTIONS.forEach((c, i) => {
        for (const s of subjects) {
          log(`round ${round}/${ROUNDS}: ${s.name}, ${c} connection(s), ${SECONDS} s`);
          s.runs[i].push(wrk(s.port, c, SECONDS));
        }
      });
  } finally {
    await Promise.all(children.map((child, i) => stopServer(child, subjects[i].port)));
  }
  subjects.forEach((s, i) => {
    s.results = s.runs.map(median);
    const unexpected = fs.readFileSync(children[i].logFile, "utf8").split("\n").filter((l) => l && !/socket error/.test(l));
    if (unexpected.length) log(`${s.name} wrote to stderr:\n${unexpected.slice(0, 10).join("\n")}`);
  });

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const rounds = ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : "";
  console.log(`HTTP hello world, keep-alive, wrk -t1 for ${SECONDS} s per cell${rounds} (${os.cpus().length} x ${cpu}, load average ${os.loadavg()[0].toFixed(1)})`);
  console.log(`C flags (as the release firmware's mongoose.c): ${flags.join(" ")}; poll interval ${POLL_MS} ms`);
  console.log("");
  const header = ["", ...CONNECTIONS.flatMap((c) => [`${c} conn req/s`, "mean latency"])];
  const rows = subjects.map((s) => [s.name, ...s.results.flatMap((r) => [r.rps.toFixed(0), `${r.latencyMs.toFixed(3)} ms`])]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log("");
  const [fw, c] = subjects;
  console.log(`firmware / C req/s: ${CONNECTIONS.map((n, i) => `${(fw.results[i].rps / c.results[i].rps).toFixed(2)} at ${n} conn`).join(", ")}`);
  for (const s of subjects) {
    const problems = s.results.map((r, i) => r.problems && `${CONNECTIONS[i]} conn: ${r.problems}`).filter(Boolean);
    if (problems.length) console.log(`${s.name}: ${problems.join("; ")}`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
