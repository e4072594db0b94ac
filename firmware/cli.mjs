#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// xsmg: build firmware for a host, or build and run it in the simulator.
import { spawn } from "node:child_process";
import path from "node:path";
import { BuildError, build } from "./build.mjs";
import { ManifestError } from "./manifest.mjs";

const USAGE = `usage:
  xsmg build [--host linux-sim|esp32] [--manifest PATH] [--out DIR] [--variant debug|release|sanitize|tsan]
  xsmg run   [--manifest PATH] [--out DIR] [--variant ...] [--timeout SECONDS] [--stats] [-- ARGS...]

  --manifest  the app's manifest.json (default: ./manifest.json, or this repo's demo)
  --variant   debug (default: stack traces with .ts lines), release, sanitize (ASan+UBSan), tsan
  --timeout   stop the firmware after SECONDS (exit code 124)
  --stats     print the XS heap's peak use when the firmware exits
  --quiet     print only errors`;

function parse(argv) {
  const [command, ...rest] = argv;
  const opts = { command, host: "linux-sim", variant: "debug", passthrough: [] };
  const takes = { "--host": "host", "--manifest": "manifest", "--out": "out", "--variant": "variant", "--timeout": "timeout" };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--") {
      opts.passthrough = rest.slice(i + 1);
      break;
    }
    if (a === "--quiet") opts.quiet = true;
    else if (a === "--stats") opts.stats = true;
    else if (takes[a] && i + 1 < rest.length) opts[takes[a]] = rest[++i];
    else throw new BuildError(`unknown or incomplete option "${a}"\n${USAGE}`);
  }
  if (opts.timeout !== undefined && !(Number(opts.timeout) > 0))
    throw new BuildError(`--timeout takes a number of seconds, got "${opts.timeout}"`);
  return opts;
}

function defaultManifest() {
  return path.resolve("manifest.json");
}

function run(exe, opts) {
  const args = [...(opts.timeout ? ["--timeout", String(opts.timeout)] : []), ...(opts.stats ? ["--stats"] : []), ...(opts.passthrough.length ? ["--", ...opts.passthrough] : [])];
  // Forward stop signals, SIGINT too: a process manager (or kill) signals xsmg alone.
  // After a terminal's Ctrl-C the firmware gets SIGINT twice, which it handles as once.
  // Installed before the spawn: the firmware may print, and be signalled, at once.
  let child;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child = spawn(exe, args, { stdio: "inherit" });
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (signal ? { SIGINT: 2, SIGTERM: 15, SIGKILL: 9, SIGHUP: 1 }[signal] ?? 0 : 0)));
}

try {
  const opts = parse(process.argv.slice(2));
  if (opts.command !== "build" && opts.command !== "run") {
    console.log(USAGE);
    process.exit(opts.command === "help" || opts.command === "--help" ? 0 : 2);
  }
  const manifest = opts.manifest ?? defaultManifest();
  const log = opts.quiet ? () => {} : (line) => process.stderr.write(line + "\n");
  const exe = build({ manifest, host: opts.host, out: opts.out, variant: opts.variant, log });
  if (opts.command === "run") run(exe, opts);
} catch (e) {
  if (!(e instanceof BuildError || e instanceof ManifestError)) throw e;
  process.stderr.write(`xsmg: ${e.message}\n`);
  process.exit(2);
}
