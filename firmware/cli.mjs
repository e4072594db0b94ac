#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// xsmg: build firmware for a host, build and run it in the simulator, or start a
// new app. One table describes the commands: parsing and help both read it.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BuildError, VARIANTS, build } from "./build.mjs";
import { HOSTS, ManifestError, ROOT } from "./manifest.mjs";
import { NewError, newApp } from "./new.mjs";

const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;

// name → [argument placeholder or null for a flag, help]
const BUILD_OPTIONS = {
  "--host": ["HOST", `the target: ${HOSTS.join(", ")} (default linux-sim)`],
  "--manifest": ["PATH", "the app's manifest.json (default: ./manifest.json)"],
  "--out": ["DIR", "where the firmware goes (default: build/HOST/VARIANT beside the manifest)"],
  "--variant": ["NAME", `${VARIANTS.join(", ")} (default debug: stack traces with .ts lines)`],
  "--quiet": [null, "print only errors"],
};
const RUN_OPTIONS = {
  "--manifest": BUILD_OPTIONS["--manifest"],
  "--out": BUILD_OPTIONS["--out"],
  "--variant": BUILD_OPTIONS["--variant"],
  "--timeout": ["SECONDS", "stop the firmware after SECONDS (exit code 124)"],
  "--stats": [null, "print the XS heap's peak use when the firmware exits"],
  "--quiet": BUILD_OPTIONS["--quiet"],
};

const COMMANDS = {
  build: { args: "", operands: [0, 0], summary: "build the firmware of an app", options: BUILD_OPTIONS },
  run: { args: "[-- ARGS...]", operands: [0, 0], summary: "build the app and run it in the simulator (Ctrl-C stops it)", options: RUN_OPTIONS },
  new: { args: "DIR", operands: [1, 1], summary: "write a minimal app (manifest, main.ts, tsconfig) into a new or empty DIR", options: {} },
  help: { args: "[COMMAND]", operands: [0, 1], summary: "show the commands, or one command's options", options: {} },
};

class UsageError extends Error {
  constructor(message, command) {
    super(message);
    this.command = command;
  }
}

function commandUsage(name) {
  const c = COMMANDS[name];
  const opts = Object.entries(c.options);
  const line = `xsmg ${name}${opts.length ? " [options]" : ""}${c.args ? " " + c.args : ""}`;
  const rows = opts.map(([flag, [arg, help]]) => `  ${(flag + (arg ? " " + arg : "")).padEnd(20)} ${help}`);
  return [`usage: ${line}`, `  ${c.summary}`, ...(rows.length ? ["options:", ...rows] : [])].join("\n");
}

function usage() {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(6)} ${c.summary}`);
  return ["usage: xsmg COMMAND [options]", "commands:", ...rows,
    "  xsmg --version         print the toolchain's version",
    "  xsmg help COMMAND      that command's options"].join("\n");
}

function parse(argv) {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h") return { command: "help", positional: [] };
  if (command === "--version" || command === "-v") return { command: "version" };
  if (!COMMANDS[command])
    throw new UsageError(command === undefined ? "no command given" : `unknown command "${command}"`);
  const { options } = COMMANDS[command];
  const opts = { command, host: "linux-sim", variant: "debug", passthrough: [], positional: [] };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--help" || a === "-h") return { command: "help", positional: [command] };
    if (a === "--" && command === "run") {
      opts.passthrough = rest.slice(i + 1);
      break;
    }
    if (a.startsWith("-")) {
      if (!options[a]) throw new UsageError(`unknown option "${a}" for xsmg ${command}`, command);
      const key = a.slice(2);
      if (options[a][0] === null) opts[key] = true;
      else if (i + 1 < rest.length) opts[key] = rest[++i];
      else throw new UsageError(`option ${a} needs a value (${options[a][0]})`, command);
    } else opts.positional.push(a);
  }
  const [least, most] = COMMANDS[command].operands;
  if (opts.positional.length > most) throw new UsageError(`unexpected argument "${opts.positional[most]}"`, command);
  if (opts.positional.length < least) throw new UsageError(`xsmg ${command} needs ${COMMANDS[command].args}`, command);
  if (opts.timeout !== undefined && !(Number(opts.timeout) > 0))
    throw new UsageError(`--timeout takes a number of seconds, got "${opts.timeout}"`, command);
  return opts;
}

function runFirmware(exe, opts) {
  const args = [...(opts.timeout ? ["--timeout", String(opts.timeout)] : []), ...(opts.stats ? ["--stats"] : []), ...(opts.passthrough.length ? ["--", ...opts.passthrough] : [])];
  // Forward stop signals, SIGINT too: a process manager (or kill) signals xsmg alone.
  // After a terminal's Ctrl-C the firmware gets SIGINT twice, which it handles as once.
  // Installed before the spawn: the firmware may print, and be signalled, at once.
  let child;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child = spawn(exe, args, { stdio: "inherit" });
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (signal ? { SIGINT: 2, SIGTERM: 15, SIGKILL: 9, SIGHUP: 1 }[signal] ?? 0 : 0)));
}

function main(argv) {
  const opts = parse(argv);
  if (opts.command === "version") {
    console.log(`xsmg ${VERSION}`);
    return;
  }
  if (opts.command === "help") {
    const [topic] = opts.positional;
    if (topic !== undefined && !COMMANDS[topic]) throw new UsageError(`unknown command "${topic}"`);
    console.log(topic ? commandUsage(topic) : usage());
    return;
  }
  if (opts.command === "new") {
    const app = newApp(opts.positional[0]);
    console.log(`xsmg: wrote ${app.files.join(", ")} into ${app.dir}\n` +
      `  cd ${path.relative(process.cwd(), app.dir) || "."} && ${app.xsmg} run`);
    return;
  }
  const manifest = path.resolve(opts.manifest ?? "manifest.json");
  if (!fs.existsSync(manifest))
    throw new ManifestError(`no manifest at ${manifest}: run xsmg in an app's folder, pass --manifest PATH, or start one with xsmg new DIR`);
  const log = opts.quiet ? () => {} : (line) => process.stderr.write(line + "\n");
  const exe = build({ manifest, host: opts.host, out: opts.out, variant: opts.variant, log });
  if (opts.command === "run") runFirmware(exe, opts);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`xsmg: ${e.message}\n${e.command ? commandUsage(e.command) : usage()}\n`);
    process.exit(2);
  }
  if (!(e instanceof BuildError || e instanceof ManifestError || e instanceof NewError)) throw e;
  process.stderr.write(`xsmg: ${e.message}\n`);
  process.exit(2);
}
