// SPDX-License-Identifier: MIT
// What the benchmark scripts (bench/*/run.mjs) share: options, ports, building the
// firmware and the C baselines on the release flags, running wrk, and the table.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { libraries } from "../hosts/linux-sim/host.mjs";
import { ensure } from "../firmware/requirements.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CLI = path.join(ROOT, "firmware", "cli.mjs");

// The scripts take numeric options, as `--name N`, and flags, as `--name`;
// anything else is ignored.
export function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : fallback;
}
export function flag(name) {
  return process.argv.includes(name);
}

// Progress goes to stderr, prefixed with the script's name, so that stdout holds
// only the results.
export function makeLog(name) {
  return (text) => process.stderr.write(`${name}: ${text}\n`);
}

// Each server gets a port nobody listens on, so that runs never collide.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().on("error", reject).listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Fails early, before minutes of building, when wrk is missing (installs it where it can).
export function needWrk(name) {
  const problem = ensure(["bench"]);
  if (problem) {
    console.error(`${name}: ${problem}`);
    process.exit(2);
  }
}

// The flags CMake compiles mongoose.c with for release firmware (build/cache), so
// that the C baselines run the very same code.
export function releaseFlags() {
  return cmakeFlags(libraries("release"), "mongoose");
}

// The options CMake compiles a target's C with in the build folder dir: its
// flags and, with includes, its -I options (build.ninja, or flags.make with Make).
export function cmakeFlags(dir, target, { includes = false } = {}) {
  const ninja = path.join(dir, "build.ninja");
  if (fs.existsSync(ninja)) {
    const text = fs.readFileSync(ninja, "utf8");
    const at = text.indexOf(`build CMakeFiles/${target}.dir/`);
    const edge = at >= 0 ? text.slice(at, at + 4000) : "";
    const flags = /\n\s+FLAGS = (.*)\n/.exec(edge);
    const dirs = /\n\s+INCLUDES = (.*)\n/.exec(edge);
    if (flags && (!includes || dirs)) return [flags[1], includes ? dirs[1] : ""].join(" ").trim().split(/\s+/);
  }
  const make = path.join(dir, "CMakeFiles", `${target}.dir`, "flags.make");
  if (fs.existsSync(make)) {
    const text = fs.readFileSync(make, "utf8");
    const flags = /^C_FLAGS = (.*)$/m.exec(text);
    const dirs = /^C_INCLUDES = (.*)$/m.exec(text);
    if (flags && (!includes || dirs)) return [flags[1], includes ? dirs[1] : ""].join(" ").trim().split(/\s+/);
  }
  throw new Error(`cannot find the flags of ${target}'s C in ${dir}: build a release firmware first`);
}

// A release firmware from one main.ts in dir (manifest fields such as creation
// come first); returns the executable. Ports are compiled into the source: a
// firmware takes no command-line arguments.
export function buildFirmware(dir, source, manifest = {}) {
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ ...manifest, modules: { "*": ["./main"] } }));
  fs.writeFileSync(path.join(dir, "main.ts"), source);
  execFileSync(process.execPath, [CLI, "build", "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"),
    "--variant", "release", "--quiet"], { stdio: "inherit" });
  return path.join(dir, "out", "firmware");
}

// A C server (source.c) linked with deps/mongoose/mongoose.c, both compiled with
// the given (release) flags, in work; returns the executable, named after the
// source. mongoose.c itself is compiled with -w; warnings are for the server.
export function buildCServer(work, flags, source, warnings = []) {
  const mg = path.join(ROOT, "deps", "mongoose");
  const includes = ["-I", mg, "-I", path.join(ROOT, "modules", "mongoose", "c")];
  const name = path.basename(source, ".c");
  const exe = path.join(work, name);
  const common = flags.filter((f) => f !== "-w");
  execFileSync("gcc", [...common, "-w", ...includes, "-c", path.join(mg, "mongoose.c"), "-o", path.join(work, "mongoose.o")], { stdio: "inherit" });
  execFileSync("gcc", [...common, ...warnings, ...includes, "-c", source, "-o", path.join(work, `${name}.o`)], { stdio: "inherit" });
  execFileSync("gcc", [path.join(work, `${name}.o`), path.join(work, "mongoose.o"), "-o", exe], { stdio: "inherit" });
  return exe;
}

// cymongoose, the Python binding this project started from, at the version
// package.json pins (xsmg.cymongoose, the one firmware/deps.mjs takes mongoose
// from), in a venv of its own under the git-ignored deps/ (reused while it holds
// that version). Returns the venv's python, or a sentence saying why there is
// none: the benchmarks then run without it.
export function cymongoosePython(log) {
  const pin = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).xsmg.cymongoose.version;
  const venv = path.join(ROOT, "deps", "bench-venv");
  const python = path.join(venv, "bin", "python");
  const version = () => spawnSync(python, ["-c", "import cymongoose; print(cymongoose.__version__)"], { encoding: "utf8" }).stdout?.trim();
  if (fs.existsSync(python) && version() === pin) return { python };
  log(`installing cymongoose==${pin} into ${path.relative(ROOT, venv)} (pip)...`);
  const steps = [["python3", ["-m", "venv", "--clear", venv]], [python, ["-m", "pip", "install", "--quiet", `cymongoose==${pin}`]]];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0)
      return { problem: `cannot install cymongoose==${pin} (${cmd} ${args.join(" ")}: ${(r.error?.message ?? r.stderr).trim().split("\n").pop()})` };
  }
  const got = version();
  return got === pin ? { python } : { problem: `cymongoose==${pin} installed, but the venv's python imports ${got || "nothing"}` };
}

// The cymongoose server (bench/cymongoose_hello.py) on its Manager ("sync") or
// its AsyncManager ("async"): the command and arguments for startServer.
export function cymongooseServer(python, mode, port, pollMs) {
  return { cmd: python, args: [path.join(ROOT, "bench", "cymongoose_hello.py"), mode, String(port), String(pollMs)] };
}

// Node's own hello world, the baseline of the HTTP benchmarks: node FILE PORT.
export const NODE_HELLO = `
const http = require("http");
http.createServer((req, res) => {
  res.writeHead(200, { "Content-Length": 6 });
  res.end("hello\\n");
}).listen(Number(process.argv[2]), "127.0.0.1", () => console.log("ready"));
`;

// The HTTP benchmarks give wrk a CPU of its own and their servers the others,
// where this process may use two or more and taskset is there: a device's
// clients are other machines, and a server whose two tasks share the CPUs with
// wrk measures where the scheduler puts three threads more than its own work
// (bench/http-async/README.md). `--shared-cpus`: no split, every process on every CPU.
let split;

// Chooses the split for startServer and wrk; returns how the CPUs are used, for the
// results' header.
export function isolateLoad() {
  const taskset = spawnSync("taskset", ["-cp", String(process.pid)], { encoding: "utf8" });
  const list = /list:\s*([\d,-]+)/.exec(taskset.stdout ?? "");
  const cpus = list ? list[1].split(",").flatMap((r) => {
    const [a, b = a] = r.split("-").map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }) : [];
  if (!list) return "wrk and the servers share the CPUs (no taskset)";
  if (flag("--shared-cpus") || cpus.length < 2)
    return `wrk and the servers share ${cpus.length < 2 ? `CPU ${cpus[0]}` : `${cpus.length} CPUs`}`;
  split = { load: String(cpus.at(-1)), servers: cpus.slice(0, -1).join(",") };
  return `wrk on CPU ${split.load}, the servers on CPU${cpus.length > 2 ? "s" : ""} ${split.servers} (taskset)`;
}

// cmd and args, run on the CPUs of the split (if any) for what.
function onCpus(what, cmd, args) {
  return split ? ["taskset", ["-c", split[what], cmd, ...args]] : [cmd, args];
}

// Starts a server and resolves once it printed "ready". Its stderr goes to a file
// (child.logFile): mongoose logs every connection wrk resets, one write() per
// character, and an unread pipe would stall the server while wrk runs (spawnSync).
export function startServer(cmd, args, logFile) {
  return new Promise((resolve, reject) => {
    const err = fs.openSync(logFile, "w");
    // taskset execs the server: child.pid is the server's, whose CPU time wrk() reads.
    const child = spawn(...onCpus("servers", cmd, args), { stdio: ["ignore", "pipe", err] });
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

// Stops a server with SIGTERM (SIGKILL if it is still there after 2 s); resolves
// with its exit code once it is gone.
export function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill("SIGTERM");
  });
}

const UNITS = { us: 1e-3, ms: 1, s: 1000 };

// The CPU time (user and system, all threads) a process has used, in seconds:
// what a request costs the server, which a busy machine disturbs less than req/s.
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");  // from field 3, the state
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;  // utime, stime
}

// One wrk run (one thread, keep-alive) against http://127.0.0.1:port/: req/s,
// mean latency in ms, the server's (process pid's) CPU µs per request, and socket
// errors or non-2xx answers, which void a figure.
export function wrk(port, connections, seconds, pid) {
  const cpuBefore = pid && cpuSeconds(pid);
  const r = spawnSync(...onCpus("load", "wrk", ["-t", "1", "-c", String(connections), "-d", `${seconds}s`, `http://127.0.0.1:${port}/`]),
    { encoding: "utf8" });
  const cpu = pid && cpuSeconds(pid) - cpuBefore;
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}${r.stdout}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const requests = /(\d+) requests in/.exec(r.stdout);
  const latency = /Latency\s+([\d.]+)(us|ms|s)\b/.exec(r.stdout);
  const errors = /Socket errors: (.*)/.exec(r.stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  if (!rps || !latency || !requests) throw new Error(`cannot read wrk's output:\n${r.stdout}`);
  return {
    rps: Number(rps[1]),
    latencyMs: Number(latency[1]) * UNITS[latency[2]],
    cpuUs: pid ? (cpu * 1e6) / Number(requests[1]) : NaN,
    problems: [errors && `socket errors: ${errors[1]}`, non2xx && `${non2xx[1]} non-2xx`].filter(Boolean).join("; "),
  };
}

// The run with the median req/s (its own latency with it), so that one figure
// never mixes two runs.
export function median(runs) {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return sorted[(sorted.length - 1) >> 1];
}

// Servers take turns, round by round, so that each sees the same share of a busy
// machine; s.runs[i] collects the wrk results at connections[i], s.pid (if set)
// is the server's process.
export function measureRounds(subjects, connections, rounds, seconds, log) {
  for (let round = 1; round <= rounds; round++)
    connections.forEach((c, i) => {
      for (const s of subjects) {
        log(`round ${round}/${rounds}: ${s.name}, ${c} connection(s), ${seconds} s`);
        s.runs[i].push(wrk(s.port, c, seconds, s.pid));
      }
    });
}

// The results table of the HTTP benchmarks: a row per subject (s.results), req/s,
// mean latency and the server's CPU µs per request, per connection count.
export function printTable(subjects, connections) {
  const header = ["", ...connections.flatMap((c) => [`${c} conn req/s`, "mean latency", "CPU/req"])];
  const rows = subjects.map((s) => [s.name, ...s.results.flatMap((r) =>
    [r.rps.toFixed(0), `${r.latencyMs.toFixed(3)} ms`, Number.isNaN(r.cpuUs) ? "-" : `${r.cpuUs.toFixed(2)} µs`])]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

// A line per subject whose runs saw socket errors or non-2xx answers, so that a
// figure is not trusted unawares.
export function printProblems(subjects, connections) {
  for (const s of subjects) {
    const problems = s.results.map((r, i) => r.problems && `${connections[i]} conn: ${r.problems}`).filter(Boolean);
    if (problems.length) console.log(`${s.name}: ${problems.join("; ")}`);
  }
}
