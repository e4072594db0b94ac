#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// HTTP hello world on the AsyncManager: requests per second and mean latency of a
// TypeScript firmware (release) answering on am.serve and on a raw (conn, ev, data)
// handler (conn.reply), next to the C mongoose hello world of bench/http-sync,
// cymongoose's AsyncManager (the pinned version, installed by lib.mjs) and Node's
// http module, under wrk with keep-alive at 1 and 50 connections.
// Usage: node bench/http-async/run.mjs [--seconds N] [--rounds N] [--poll MS] [--shared-cpus]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  buildCServer, buildFirmware, cymongoosePython, cymongooseServer, freePort, isolateLoad, makeLog, measureRounds, median, needWrk,
  NODE_HELLO, option, printProblems, printTable, releaseFlags, ROOT, startServer, stopServer, wrk,
} from "../lib.mjs";

const HELLO_C = path.join(ROOT, "bench", "http-sync", "hello.c");

const SECONDS = option("--seconds", 5);
const ROUNDS = option("--rounds", 1);
const POLL_MS = option("--poll", 10);
const CONNECTIONS = [1, 50];
const log = makeLog("bench/http-async");

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

// The firmware ends on /quit, and its exit code is checked; the others stop on
// SIGTERM (lib.mjs).
function quitFirmware(child, port) {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    fetch(`http://127.0.0.1:${port}/quit`).then((r) => r.text()).catch(() => child.kill("SIGTERM"));
  });
}

needWrk("bench/http-async");
const cpuUse = isolateLoad();
const work = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-http-async-"));
try {
  const ports = { serve: await freePort(), raw: await freePort(), c: await freePort(), py: await freePort(), node: await freePort() };
  const cymongoose = cymongoosePython(log);
  if (cymongoose.problem) log(`${cymongoose.problem}: running without cymongoose`);
  log("building the TypeScript firmware (release)...");
  const firmware = buildFirmware(work, firmwareSource(ports.serve, ports.raw));
  const flags = releaseFlags();
  log("building the C server (bench/http-sync/hello.c)...");
  const hello = buildCServer(work, flags, HELLO_C);
  fs.writeFileSync(path.join(work, "node-hello.js"), NODE_HELLO);

  const fwChild = await startServer(firmware, [], path.join(work, "stderr-fw.txt"));
  const subjects = [
    { name: "TS am.serve (release)", port: ports.serve, child: fwChild },
    { name: "TS AsyncManager raw handler", port: ports.raw, child: fwChild },
    { name: "C mongoose (http-sync/hello.c)", port: ports.c, child: await startServer(hello, [String(ports.c), String(POLL_MS)], path.join(work, "stderr-c.txt")) },
  ];
  if (cymongoose.python) {
    const { cmd, args } = cymongooseServer(cymongoose.python, "async", ports.py, POLL_MS);
    subjects.push({ name: "cymongoose AsyncManager", port: ports.py, child: await startServer(cmd, args, path.join(work, "stderr-py.txt")) });
  }
  subjects.push({ name: `Node ${process.version} http`, port: ports.node,
    child: await startServer(process.execPath, [path.join(work, "node-hello.js"), String(ports.node)], path.join(work, "stderr-node.txt")) });
  let loadBefore;
  try {
    for (const s of subjects) {
      s.pid = s.child.pid;
      wrk(s.port, 10, 1);  // warm-up
      s.runs = CONNECTIONS.map(() => []);
    }
    loadBefore = os.loadavg()[0];
    measureRounds(subjects, CONNECTIONS, ROUNDS, SECONDS, log);
  } finally {
    const fwExit = await quitFirmware(fwChild, ports.serve);
    await Promise.all(subjects.slice(2).map((s) => stopServer(s.child)));
    if (fwExit !== 0) log(`the firmware exited with ${fwExit} after /quit (expected 0)`);
  }
  for (const s of subjects) s.results = s.runs.map(median);
  const unexpected = fs.readFileSync(fwChild.logFile, "utf8").split("\n").filter((l) => l && !/socket error/.test(l));
  if (unexpected.length) log(`the firmware wrote to stderr:\n${unexpected.slice(0, 10).join("\n")}`);

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const rounds = ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : "";
  console.log(`HTTP hello world on the AsyncManager, keep-alive, wrk -t1 for ${SECONDS} s per cell${rounds}`);
  console.log(`(${os.cpus().length} x ${cpu}, load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after; ${cpuUse}; poll interval ${POLL_MS} ms; C flags ${flags.join(" ")})`);
  console.log("");
  printTable(subjects, CONNECTIONS);
  console.log("");
  const [serve, raw, c] = subjects;
  const node = subjects.at(-1);
  const py = subjects.find((s) => s.name.startsWith("cymongoose"));
  const ratio = (a, b, i) => (a.results[i].rps / b.results[i].rps).toFixed(2);
  for (const s of [serve, raw]) {
    console.log(`${s.name}: ${CONNECTIONS.map((n, i) => `${ratio(s, c, i)} of C's req/s at ${n} conn`).join(", ")}; ` +
      `${ratio(s, node, 1)} of Node's at 50 conn; mean latency ${(s.results[0].latencyMs / c.results[0].latencyMs).toFixed(2)}x C's at 1 conn`);
    if (py) console.log(`${s.name} / cymongoose AsyncManager req/s: ${CONNECTIONS.map((n, i) => `${ratio(s, py, i)} at ${n} conn`).join(", ")}; ` +
      `by CPU per request: ${CONNECTIONS.map((n, i) => `${(py.results[i].cpuUs / s.results[i].cpuUs).toFixed(2)} at ${n} conn`).join(", ")}`);
  }
  if (!py) console.log(`no cymongoose: ${cymongoose.problem}`);
  printProblems(subjects, CONNECTIONS);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
