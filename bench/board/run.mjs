#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The virtual board (hosts/qemu), issue 13: boot time, HTTP hello world under wrk
// at 1 and 8 keep-alive connections (the board's connection count) through QEMU's
// user network, RAM idle and with 8 open connections, and flash, for two TypeScript apps (am.serve, the
// synchronous Manager) and a C mongoose server on the same board without XS.
// QEMU's speed is not a device's: the ratios against the C server are what count.
// Usage: node bench/board/run.mjs [--seconds N] [--rounds N] [--boots N]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensure } from "../../firmware/requirements.mjs";
import { libraries, linkObjects } from "../../hosts/qemu/host.mjs";
import { CLI, cmakeFlags, freePort, makeLog, median, option, printProblems, printTable, wrk } from "../lib.mjs";
import { BOARD_CONNECTIONS, boot, connect, memory, parseLine, stop } from "./board.mjs";
import { boardSizes } from "./sizes.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = option("--seconds", 5);
const ROUNDS = option("--rounds", 3);
const BOOTS = option("--boots", 5);
const CONNECTIONS = [1, BOARD_CONNECTIONS];
const log = makeLog("bench/board");

// A device's XS budget, as the board's tests use: preloaded, both apps fit it.
const CREATION = "esp32";

// Both answer "hello\n", and GET /mem with xs_memory's line, on the board's port 80.
const APPS = {
  "TS am.serve": `
import { AsyncManager } from "mongoose";
import { memory } from "xs_memory";
const am = new AsyncManager();
await am.start();
await am.serve("http://0.0.0.0:80", (req) => (req.uri === "/mem" ? memory() + "\\n" : "hello\\n"));
console.log("listening");
`,
  "TS Manager (sync)": `
import { Manager, HttpMessage, MG_EV_HTTP_MSG } from "mongoose";
import { memory } from "xs_memory";
const mgr = new Manager((conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) conn.reply(200, data.uri === "/mem" ? memory() + "\\n" : "hello\\n");
});
mgr.listen("http://0.0.0.0:80");
console.log("listening");
mgr.run(100);
`,
};

// xsmg build --host qemu of one app, with bench/board's native for /mem; returns the ELF.
function buildApp(dir, source) {
  fs.mkdirSync(dir);
  const modules = ["./main", path.join(HERE, "xs_memory"), path.join(HERE, "board_memory")];
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ creation: CREATION, modules: { "*": modules } }));
  fs.writeFileSync(path.join(dir, "main.ts"), source);
  execFileSync(process.execPath, [CLI, "build", "--host", "qemu", "--quiet", "--manifest", path.join(dir, "manifest.json"),
    "--out", path.join(dir, "out")], { stdio: "inherit" });
  return path.join(dir, "out", "firmware-2048k.elf");
}

// hello.c with the flags and include folders the board's mongoose.c is compiled
// with (warnings on), linked by the board's own link with its kernel, lwIP,
// mongoose and stand-ins, but not the engine, the runtime or the modules.
function buildC(dir) {
  const libs = libraries();
  const flags = [...cmakeFlags(libs, "mongoose", { includes: true }).filter((f) => f !== "-w"), "-Wall", "-Wextra", "-Werror"];
  fs.mkdirSync(dir);
  const objects = ["hello.c", "board_memory.c"].map((source) => {
    const object = path.join(dir, source.replace(/\.c$/, ".o"));
    execFileSync("riscv64-unknown-elf-gcc", [...flags, "-c", path.join(HERE, source), "-o", object], { stdio: "inherit" });
    return object;
  });
  const archives = ["freertos_kernel", "lwip", "mongoose", "xm_host"].map((name) => path.join(libs, `lib${name}.a`));
  return linkObjects(objects, archives, path.join(dir, "hello.elf"));
}

function printBoots(subjects) {
  console.log(`Boot: QEMU's start to the first console line ("listening"), ${BOOTS} boots each`);
  for (const s of subjects) {
    const ms = [...s.boots].sort((a, b) => a - b);
    console.log(`  ${s.name.padEnd(22)} median ${ms[(ms.length - 1) >> 1].toFixed(0)} ms (${ms[0].toFixed(0)}-${ms[ms.length - 1].toFixed(0)})`);
  }
}

function printRatios(subjects) {
  const c = subjects[subjects.length - 1];
  for (const s of subjects.slice(0, -1)) {
    const parts = CONNECTIONS.map((n, i) => `${(s.results[i].rps / c.results[i].rps).toFixed(2)} of C's req/s and ` +
      `${(s.results[i].latencyMs / c.results[i].latencyMs).toFixed(2)}x its mean latency at ${n} conn`);
    console.log(`${s.name}: ${parts.join("; ")}`);
  }
}

// RAM: what is reserved before the heap (data, bss, the startup stack), the
// heap's allocated bytes (the XS machine's reserve and the tasks' stacks among
// them) and their sum; "grown" is how far the heap went (sbrk), the least RAM
// budget that held the run so far.
function printMemory(subjects) {
  const k = (n) => (n / 1024).toFixed(1);
  const header = [`KiB, idle / ${BOARD_CONNECTIONS} conn`, "XS live", "XS reserved", "heap used", "RAM in use", "heap grown"];
  const rows = subjects.map((s) => {
    const cell = (f) => `${f(s.mem.idle)} / ${f(s.mem.busy)}`;
    const xs = (f) => (s.mem.idle.xs_slots === undefined ? "-" : cell(f));
    return [s.name, xs((m) => k(m.xs_slots + m.xs_chunks)), xs((m) => k(m.xs_reserved)), cell((m) => k(m.heap_used)),
      cell((m) => k(s.sizes.staticRam + m.heap_used)), cell((m) => k(m.heap_arena))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  for (const s of subjects)
    console.log(`  ${s.name}: static ${k(s.sizes.staticRam)} KiB; after the last round's load, the heap grown to ${k(s.after.heap_arena)} KiB`);
}

function printFlash(subjects) {
  console.log("Flash (text with rodata, plus data's initial values):");
  for (const s of subjects)
    console.log(`  ${s.name.padEnd(22)} ${s.sizes.text.toLocaleString("en")} + ${s.sizes.data.toLocaleString("en")} = ${(s.sizes.text + s.sizes.data).toLocaleString("en")} bytes`);
}

const problem = ensure(["bench", "qemu"]);
if (problem) {
  console.error(`bench/board: ${problem}`);
  process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-board-"));
const subjects = [];
try {
  for (const [name, source] of Object.entries(APPS)) {
    log(`building ${name} for the board...`);
    subjects.push({ name, elf: buildApp(path.join(work, `app${subjects.length}`), source) });
  }
  log("building the C server (bench/board/hello.c) for the board...");
  subjects.push({ name: "C mongoose (no XS)", elf: buildC(path.join(work, "c")) });
  for (const s of subjects) {
    s.sizes = boardSizes(s.elf);
    s.port = await freePort();
    s.boots = [];
    s.runs = CONNECTIONS.map(() => []);
    for (let i = 0; i < BOOTS; i++) {
      const { child, ms } = await boot(s.elf, s.port, path.join(work, "console.txt"));
      s.boots.push(ms);
      await stop(child);
    }
  }
  // One board at a time, so that boards and wrk do not compete for the cores:
  // boards take turns, round by round.
  for (let round = 1; round <= ROUNDS; round++)
    for (const s of subjects) {
      s.child = (await boot(s.elf, s.port, path.join(work, "console.txt"))).child;
      try {
        if (round === 1) s.mem = await memory(s.port);
        wrk(s.port, BOARD_CONNECTIONS, 1);  // warm-up
        CONNECTIONS.forEach((c, i) => {
          log(`round ${round}/${ROUNDS}: ${s.name}, ${c} connection(s), ${SECONDS} s`);
          s.runs[i].push(wrk(s.port, c, SECONDS));
        });
        const last = await connect(s.port);
        s.after = parseLine(await last.get("/mem"));
        last.socket.destroy();
      } finally {
        await stop(s.child);
      }
    }
  for (const s of subjects) s.results = s.runs.map(median);

  const qemu = execFileSync("qemu-system-riscv32", ["--version"], { encoding: "utf8" }).split("\n")[0];
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const rounds = ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : "";
  console.log(`The virtual board: ${qemu}, virt, one rv32imc hart (TCG) on ${os.cpus().length} x ${cpu}, load average ${os.loadavg()[0].toFixed(1)}`);
  console.log("QEMU's speed is not a device's: the ratios against the C server are what count.");
  console.log("");
  printBoots(subjects);
  console.log("");
  console.log(`HTTP hello world, keep-alive, wrk -t1 through QEMU's user network (hostfwd), ${SECONDS} s per cell${rounds}`);
  printTable(subjects, CONNECTIONS);
  printRatios(subjects);
  printProblems(subjects, CONNECTIONS);
  console.log("");
  printMemory(subjects);
  console.log("");
  printFlash(subjects);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
