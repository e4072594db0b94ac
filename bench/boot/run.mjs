#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Boot time: from exec to the first line on stdout, for a release firmware whose
// main prints one line (creation esp32), with its machine prepared at build time
// (the default) and built in RAM at boot (XSMG_PRELOAD=0), and, for scale, for
// `node -e`.
// Usage: node bench/boot/run.mjs [--runs N]
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CLI, option } from "../lib.mjs";

const RUNS = option("--runs", 20);

// Milliseconds from spawn() to the first newline on the child's stdout.
function firstLine(cmd, args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    let ms;
    child.stdout.on("data", (d) => {
      text += d;
      if (ms === undefined && text.includes("\n")) ms = Number(process.hrtime.bigint() - started) / 1e6;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0 || ms === undefined) reject(new Error(`${cmd} exited ${code} after printing ${JSON.stringify(text)}`));
      else resolve(ms);
    });
  });
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { min: s[0], median: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, p90: at(0.9) };
}

const app = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-bench-boot-"));
try {
  fs.writeFileSync(path.join(app, "manifest.json"), JSON.stringify({ creation: "esp32", modules: { "*": ["./main"] } }));
  fs.writeFileSync(path.join(app, "main.ts"), `console.log("ready");\n`);
  process.stderr.write("bench/boot: building the firmware (release, creation esp32), preload on and off...\n");
  const build = (preload) => {
    const out = path.join(app, `out-${preload}`);
    execFileSync(process.execPath, [CLI, "build", "--manifest", path.join(app, "manifest.json"), "--out", out, "--variant", "release", "--quiet"],
      { stdio: "inherit", env: { ...process.env, XSMG_PRELOAD: preload === "on" ? "1" : "0" } });
    return path.join(out, "firmware");
  };

  const subjects = [
    { name: "firmware (release, esp32, preload on)", cmd: build("on"), args: [] },
    { name: "node -e console.log", cmd: process.execPath, args: ["-e", "console.log('ready')"] },
    { name: "firmware (release, esp32, preload off)", cmd: build("off"), args: [] },
  ];
  for (const s of subjects) s.samples = [];
  // One warm-up each (page cache), then alternate so both see the same machine state.
  for (const s of subjects) await firstLine(s.cmd, s.args);
  for (let i = 0; i < RUNS; i++) for (const s of subjects) s.samples.push(await firstLine(s.cmd, s.args));

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(`Boot to first stdout line, ${RUNS} runs each (${os.cpus().length} x ${cpu}, node ${process.version})`);
  console.log("");
  const header = ["", "min ms", "median ms", "p90 ms"];
  const rows = subjects.map((s) => {
    const { min, median, p90 } = stats(s.samples);
    return [s.name, min.toFixed(2), median.toFixed(2), p90.toFixed(2)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const ratio = stats(subjects[1].samples).median / stats(subjects[0].samples).median;
  console.log("");
  console.log(`median ratio node / firmware: ${ratio.toFixed(1)}`);
} finally {
  fs.rmSync(app, { recursive: true, force: true });
}
