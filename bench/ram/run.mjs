#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// XS RAM of a firmware, preloading on and off side by side: the `xs-ram` line that
// `--stats` prints at exit (release builds). Two apps: an empty one (one
// console.log) and one importing mongoose that serves HTTP with am.serve (one
// request answered, then stopped), each in the esp32 and desktop creation profiles,
// on the 64-bit simulator and on the 32-bit virtual board (xsmg run --host qemu).
// Then the board's boot time to its first console line, preload on and off.
// Usage: node bench/ram/run.mjs [--boots N]
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CLI, freePort, makeLog, option } from "../lib.mjs";
import { qemuArgs } from "../../hosts/qemu/host.mjs";

const log = makeLog("bench/ram");
const XS_RAM = /^xs-ram: boot=(\d+) peak=(\d+) slots=(\d+)\/(\d+) chunks=(\d+)\/(\d+)$/m;

const BOOTS = option("--boots", 5);
const env = (preload) => ({ ...process.env, XSMG_PRELOAD: preload === "on" ? "1" : "0" });

function build(dir, preload) {
  const out = path.join(dir, `out-${preload}`);
  execFileSync(process.execPath, [CLI, "build", "--manifest", path.join(dir, "manifest.json"), "--out", out, "--variant", "release", "--quiet"],
    { stdio: "inherit", env: env(preload) });
  return path.join(out, "firmware");
}

// The board's firmware (release is its only variant); returns the out folder.
function buildBoard(dir, preload) {
  const out = path.join(dir, `out-qemu-${preload}`);
  execFileSync(process.execPath, [CLI, "build", "--host", "qemu", "--manifest", path.join(dir, "manifest.json"), "--out", out, "--quiet"],
    { stdio: "inherit", env: env(preload) });
  return out;
}

const result = (code, text) => {
  const m = XS_RAM.exec(text);
  return m ? m.slice(1).map(Number) : code === 3 || /out of memory/.test(text) ? "out of memory" : `no xs-ram line (exit ${code})`;
};

// xsmg run --host qemu --stats on the board. A server is stopped by the board's
// own --timeout (the xs-ram line follows "run time limit reached" on its console)
// after it answered one request through --forward; the empty app exits by itself.
function measureBoard(dir, out, preload, hostPort) {
  return new Promise((resolve) => {
    const args = [CLI, "run", "--host", "qemu", "--quiet", "--stats", "--timeout", hostPort ? "20" : "60",
      "--manifest", path.join(dir, "manifest.json"), "--out", out, ...(hostPort ? ["--forward", `${hostPort}:80`] : [])];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: env(preload) });
    let out_ = "";
    let asked = false;
    child.stdout.on("data", async (d) => {
      out_ += d;
      if (hostPort && !asked && out_.includes("serving\n")) {
        asked = true;
        const answer = await fetch(`http://127.0.0.1:${hostPort}/`).then((r) => r.text()).catch((e) => `fetch failed: ${e.message}`);
        if (answer !== "hello") log(`board answered: ${answer}`);
      }
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => {
      if (hostPort && !asked && code !== 3) log(`the board never printed "serving" (exit ${code})`);
      resolve(result(code, out_ + err));
    });
  });
}

// Milliseconds from QEMU's start (spawning qemu-system-riscv32 on the linked ELF,
// as xsmg run does) to the first line on the board's console.
function bootOnce(elf) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn("qemu-system-riscv32", qemuArgs(elf), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let ms;
    child.stdout.on("data", (d) => {
      out += d;
      if (ms === undefined && out.includes("\n")) ms = Number(process.hrtime.bigint() - t0) / 1e6;
    });
    child.on("error", reject);
    child.on("close", () => (ms === undefined ? reject(new Error(`no console line: ${out}`)) : resolve(ms)));
  });
}

// Runs the firmware with --stats; for a server, answers one request and stops it.
function measure(firmware, port) {
  return new Promise((resolve) => {
    const child = spawn(firmware, ["--stats"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", async (d) => {
      out += d;
      if (port && out.includes("serving\n")) {
        out = "";
        await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()).catch(() => undefined);
        child.kill("SIGTERM");
      }
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("close", () => {
      const m = XS_RAM.exec(err);
      resolve(m ? m.slice(1).map(Number) : /out of memory/.test(err) ? "out of memory" : "no xs-ram line");
    });
  });
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-ram-"));
try {
  const port = await freePort();
  const boardPort = await freePort();
  const serve = (url) => `import { AsyncManager } from "mongoose";
const am = new AsyncManager();
await am.start();
await am.serve("${url}", () => "hello");
console.log("serving");
`;
  const apps = {
    empty: { sim: `console.log("ready");\n`, board: `console.log("ready");\n` },
    "am.serve": { sim: serve(`http://127.0.0.1:${port}`), board: serve("http://0.0.0.0:80") },
  };
  const cells = (r) => (typeof r === "string" ? [r, "", "", ""] : [r[0], r[1], `${r[2]}/${r[3]}`, `${r[4]}/${r[5]}`]);
  const rows = [];
  const boardOut = {};
  for (const [name, source] of Object.entries(apps)) {
    for (const creation of ["esp32", "desktop"]) {
      const dir = path.join(root, `${name.replace(".", "-")}-${creation}`);
      const boardDir = `${dir}-board`;
      for (const [d, text] of [[dir, source.sim], [boardDir, source.board]]) {
        fs.mkdirSync(d);
        fs.writeFileSync(path.join(d, "manifest.json"), JSON.stringify({ creation, modules: { "*": ["./main"] } }));
        fs.writeFileSync(path.join(d, "main.ts"), text);
      }
      for (const preload of ["on", "off"]) {
        log(`${name}, ${creation}, preload ${preload}: simulator`);
        const sim = await measure(build(dir, preload), name === "empty" ? 0 : port);
        log(`${name}, ${creation}, preload ${preload}: board`);
        const out = buildBoard(boardDir, preload);
        boardOut[`${name} ${creation} ${preload}`] = out;
        const board = await measureBoard(boardDir, out, preload, name === "empty" ? 0 : boardPort);
        rows.push([name, creation, preload, ...cells(sim), "|", ...cells(board)]);
      }
    }
  }
  // Boot time on the board: the empty app, desktop profile, boots taking turns.
  const boots = { on: [], off: [] };
  for (let i = 1; i <= BOOTS; i++)
    for (const preload of ["on", "off"]) {
      log(`board boot ${i}/${BOOTS}, preload ${preload}`);
      boots[preload].push(await bootOnce(path.join(boardOut[`empty desktop ${preload}`], "firmware-2048k.elf")));
    }
  const median = (a) => [...a].sort((x, y) => x - y)[(a.length - 1) >> 1];

  console.log(`XS RAM at exit (--stats), release, bytes: simulator (${os.arch()}, 32-byte slots) | virtual board (qemu rv32, 16-byte slots)`);
  console.log("");
  const header = ["app", "creation", "preload", "sim boot", "peak", "slots live/max", "chunks used/max", "|", "board boot", "peak", "slots live/max", "chunks used/max"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  const line = (c) => c.map((x, i) => String(x ?? "").padEnd(widths[i])).join("  ").trimEnd();
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log("");
  console.log(`Board boot to first console line, empty app, desktop profile, from QEMU's start (median of ${BOOTS}, ms):`);
  for (const preload of ["on", "off"])
    console.log(`  preload ${preload}: ${median(boots[preload]).toFixed(0)} ms  (all: ${boots[preload].map((x) => x.toFixed(0)).join(", ")})`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
