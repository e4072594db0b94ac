#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// XS RAM of a firmware, preloading on and off side by side: the `xs-ram` line that
// `--stats` prints at exit (release builds). Two apps: an empty one (one
// console.log) and one importing mongoose that serves HTTP with am.serve (one
// request answered, then stopped), each in the esp32 and desktop creation profiles.
// Usage: node bench/ram/run.mjs
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CLI, freePort, makeLog } from "../lib.mjs";

const log = makeLog("bench/ram");
const XS_RAM = /^xs-ram: boot=(\d+) peak=(\d+) slots=(\d+)\/(\d+) chunks=(\d+)\/(\d+)$/m;

function build(dir, preload) {
  const out = path.join(dir, `out-${preload}`);
  execFileSync(process.execPath, [CLI, "build", "--manifest", path.join(dir, "manifest.json"), "--out", out, "--variant", "release", "--quiet"],
    { stdio: "inherit", env: { ...process.env, XSMG_PRELOAD: preload === "on" ? "1" : "0" } });
  return path.join(out, "firmware");
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
  const apps = {
    empty: `console.log("ready");\n`,
    "am.serve": `import { AsyncManager } from "mongoose";
const am = new AsyncManager();
await am.start();
await am.serve("http://127.0.0.1:${port}", () => "hello");
console.log("serving");
`,
  };
  const rows = [];
  for (const [name, source] of Object.entries(apps)) {
    for (const creation of ["esp32", "desktop"]) {
      const dir = path.join(root, `${name.replace(".", "-")}-${creation}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ creation, modules: { "*": ["./main"] } }));
      fs.writeFileSync(path.join(dir, "main.ts"), source);
      for (const preload of ["on", "off"]) {
        log(`${name}, ${creation}, preload ${preload}`);
        const r = await measure(build(dir, preload), name === "empty" ? 0 : port);
        rows.push([name, creation, preload, ...(typeof r === "string" ? [r] : [r[0], r[1], `${r[2]}/${r[3]}`, `${r[4]}/${r[5]}`])]);
      }
    }
  }
  console.log(`XS RAM at exit (--stats), release, bytes on this ${os.arch()} simulator`);
  console.log("");
  const header = ["app", "creation", "preload", "boot", "peak", "slots live/max", "chunks used/max"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  const line = (cells) => cells.map((c, i) => String(c ?? "").padEnd(widths[i])).join("  ").trimEnd();
  console.log(line(header));
  for (const r of rows) console.log(line(r));
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
