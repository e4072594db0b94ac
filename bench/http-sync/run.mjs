#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// HTTP hello world, synchronous Manager: requests per second and mean latency of
// the TypeScript firmware (release, Manager.poll; its handler asking for
// MG_EV_HTTP_MSG only, and the same taking every event), a C server on the same
// mongoose.c built with the same flags, and Node's http module, under wrk with
// keep-alive at 1 and 50 connections.
// Usage: node bench/http-sync/run.mjs [--seconds N] [--rounds N] [--poll MS]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildCServer, buildFirmware, freePort, makeLog, measureRounds, median, needWrk, NODE_HELLO, option, printProblems, printTable,
  releaseFlags, startServer, wrk,
} from "../lib.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));

const SECONDS = option("--seconds", 5);
const POLL_MS = option("--poll", 10);
const ROUNDS = option("--rounds", 1);
const CONNECTIONS = [1, 50];
const log = makeLog("bench/http-sync");

// events: the Manager's options, "{ events: [MG_EV_HTTP_MSG] }" or "{}" (every event).
const firmware = (events) => `
import { Manager, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";
const mgr: Manager = new Manager((conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  if (data.uri === "/quit") {
    conn.reply(200, "bye\\n");
    conn.drain();
    mgr.timerAdd(20, () => mgr.close());
  } else conn.reply(200, "hello\\n");
}, ${events});
mgr.listen("http://127.0.0.1:" + PORT);
console.log("ready");
mgr.run(${POLL_MS});
`;

// The firmware's run() loop ends on /quit; the others on SIGTERM.
function stopServer(child, port) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    fetch(`http://127.0.0.1:${port}/quit`).then((r) => r.text()).catch(() => {}).finally(() => child.kill("SIGTERM"));
  });
}

needWrk("bench/http-sync");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-http-"));
try {
  const ports = { fw: await freePort(), fwAll: await freePort(), c: await freePort(), node: await freePort() };
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
    { name: "TS, Manager.poll, events: [HTTP_MSG]", port: ports.fw, cmd: httpMsgOnly, args: [] },
    { name: "TS, Manager.poll, every event", port: ports.fwAll, cmd: everyEvent, args: [] },
    { name: "C, same mongoose.c and flags", port: ports.c, cmd: hello, args: [String(ports.c), String(POLL_MS)] },
    { name: `Node ${process.version} http`, port: ports.node, cmd: process.execPath, args: [path.join(work, "node-hello.js"), String(ports.node)] },
  ];
  // All run at once (idle but for the one under test) and take turns, round
  // by round, so that each sees the same share of a busy machine.
  const children = [];
  try {
    for (const s of subjects) {
      children.push(await startServer(s.cmd, s.args, path.join(work, `stderr-${s.port}.txt`)));
      wrk(s.port, 10, 1);  // warm-up
      s.runs = CONNECTIONS.map(() => []);
    }
    measureRounds(subjects, CONNECTIONS, ROUNDS, SECONDS, log);
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
  printTable(subjects, CONNECTIONS);
  console.log("");
  const c = subjects[2];
  for (const fw of subjects.slice(0, 2))
    console.log(`${fw.name} / C req/s: ${CONNECTIONS.map((n, i) => `${(fw.results[i].rps / c.results[i].rps).toFixed(2)} at ${n} conn`).join(", ")}`);
  printProblems(subjects, CONNECTIONS);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
