#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// HTTP hello world, synchronous Manager: requests per second and mean latency of
// the TypeScript firmware (release, Manager.run; its handler asking for
// MG_EV_HTTP_MSG only, and the same taking every event), a C server on the same
// mongoose.c built with the same flags, cymongoose's Manager (the pinned version,
// installed by lib.mjs) and Node's http module, under wrk with keep-alive at 1
// and 50 connections.
// Usage: node bench/http-sync/run.mjs [--seconds N] [--rounds N] [--poll MS] [--shared-cpus]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildCServer, buildFirmware, cymongoosePython, cymongooseServer, freePort, isolateLoad, makeLog, measureRounds, median, needWrk,
  NODE_HELLO, option, printProblems, printTable, releaseFlags, startServer, stopServer, wrk,
} from "../lib.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));

const SECONDS = option("--seconds", 5);
const POLL_MS = option("--poll", 10);
const ROUNDS = option("--rounds", 1);
const CONNECTIONS = [1, 50];
const log = makeLog("bench/http-sync");

// events: the Manager's options, "{ events: [MG_EV_HTTP_MSG] }" or "{}" (every
// event). The handler does what hello.c's does, no more: it answers HTTP_MSG.
// run() returns on SIGTERM, as the other servers stop.
const firmware = (events) => `
import { Manager, MG_EV_HTTP_MSG } from "mongoose";
const mgr = new Manager((conn, ev) => {
  if (ev === MG_EV_HTTP_MSG) conn.reply(200, "hello\\n");
}, ${events});
mgr.listen("http://127.0.0.1:" + PORT);
console.log("ready");
mgr.run(${POLL_MS});
`;

needWrk("bench/http-sync");
const cpuUse = isolateLoad();
const work = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-http-"));
try {
  const ports = { fw: await freePort(), fwAll: await freePort(), c: await freePort(), py: await freePort(), node: await freePort() };
  const cymongoose = cymongoosePython(log);
  if (cymongoose.problem) log(`${cymongoose.problem}: running without cymongoose`);
  log("building the TypeScript firmwares (release)...");
  // Firmware takes no arguments: the port is built in.
  for (const dir of ["http-msg", "every"]) fs.mkdirSync(path.join(work, dir));
  const httpMsgOnly = buildFirmware(path.join(work, "http-msg"), `const PORT = ${ports.fw};\n${firmware("{ events: [MG_EV_HTTP_MSG] }")}`);
  const everyEvent = buildFirmware(path.join(work, "every"), `const PORT = ${ports.fwAll};\n${firmware("{}")}`);
  const flags = releaseFlags();
  log(`building the C server: gcc ${flags.join(" ")} ...`);
  const hello = buildCServer(work, flags, path.join(HERE, "hello.c"), ["-Wall", "-Wextra"]);
  fs.writeFileSync(path.join(work, "node-hello.js"), NODE_HELLO);

  const subjects = [
    { name: "TS, Manager.run, events: [HTTP_MSG]", port: ports.fw, cmd: httpMsgOnly, args: [] },
    { name: "TS, Manager.run, every event", port: ports.fwAll, cmd: everyEvent, args: [] },
    { name: "C, same mongoose.c and flags", port: ports.c, cmd: hello, args: [String(ports.c), String(POLL_MS)] },
    ...(cymongoose.python ? [{ name: "cymongoose Manager.run", port: ports.py, ...cymongooseServer(cymongoose.python, "sync", ports.py, POLL_MS) }] : []),
    { name: `Node ${process.version} http`, port: ports.node, cmd: process.execPath, args: [path.join(work, "node-hello.js"), String(ports.node)] },
  ];
  // All run at once (idle but for the one under test) and take turns, round
  // by round, so that each sees the same share of a busy machine.
  const children = [];
  let loadBefore;
  try {
    for (const s of subjects) {
      children.push(await startServer(s.cmd, s.args, path.join(work, `stderr-${s.port}.txt`)));
      s.pid = children.at(-1).pid;
      wrk(s.port, 10, 1);  // warm-up
      s.runs = CONNECTIONS.map(() => []);
    }
    loadBefore = os.loadavg()[0];
    measureRounds(subjects, CONNECTIONS, ROUNDS, SECONDS, log);
  } finally {
    await Promise.all(children.map(stopServer));
  }
  subjects.forEach((s, i) => {
    s.results = s.runs.map(median);
    const unexpected = fs.readFileSync(children[i].logFile, "utf8").split("\n").filter((l) => l && !/socket error/.test(l));
    if (unexpected.length) log(`${s.name} wrote to stderr:\n${unexpected.slice(0, 10).join("\n")}`);
  });

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const rounds = ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : "";
  console.log(`HTTP hello world, keep-alive, wrk -t1 for ${SECONDS} s per cell${rounds} (${os.cpus().length} x ${cpu}, load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after)`);
  console.log(`C flags (as the release firmware's mongoose.c): ${flags.join(" ")}; poll interval ${POLL_MS} ms; ${cpuUse}`);
  console.log("");
  printTable(subjects, CONNECTIONS);
  console.log("");
  const c = subjects[2];
  const py = subjects.find((s) => s.name.startsWith("cymongoose"));
  const ratios = (fw, base) => CONNECTIONS.map((n, i) => `${(fw.results[i].rps / base.results[i].rps).toFixed(2)} at ${n} conn`).join(", ");
  // The req/s a server bound by its own CPU would reach, relative to the other's.
  const cpuRatios = (fw, base) => CONNECTIONS.map((n, i) => `${(base.results[i].cpuUs / fw.results[i].cpuUs).toFixed(2)} at ${n} conn`).join(", ");
  for (const fw of subjects.slice(0, 2)) {
    console.log(`${fw.name} / C req/s: ${ratios(fw, c)}; by CPU per request: ${cpuRatios(fw, c)}`);
    if (py) console.log(`${fw.name} / cymongoose req/s: ${ratios(fw, py)}; by CPU per request: ${cpuRatios(fw, py)}`);
  }
  if (!py) console.log(`no cymongoose: ${cymongoose.problem}`);
  printProblems(subjects, CONNECTIONS);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
