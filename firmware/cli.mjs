#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// xsmg: build firmware for a host, build and run it in the simulator (or on the virtual board), flash it to
// a device, measure its size, or start a new app. One table describes the
// commands: parsing and help both read it. What differs between hosts is in
// their recipes (hosts.mjs).
import fs from "node:fs";
import path from "node:path";
import { BuildError, build, outDir } from "./build.mjs";
import { RECIPES } from "./hosts.mjs";
import { HOSTS, ManifestError, ROOT } from "./manifest.mjs";
import { NewError, newApp } from "./new.mjs";

const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;

// The host `xsmg run` runs, and those that write firmware to a board.
const SIMULATOR = HOSTS.find((h) => RECIPES[h].run);
const RUN_HOSTS = HOSTS.filter((h) => RECIPES[h].run);
const DEVICE_HOSTS = HOSTS.filter((h) => RECIPES[h].flash);
const SIZE_HOSTS = HOSTS.filter((h) => RECIPES[h].size);
const per = (what, hosts = HOSTS) => hosts.filter((h) => RECIPES[h][what].length).map((h) => `${h}: ${RECIPES[h][what].join(", ")}`).join("; ");

// name → [argument placeholder or null for a flag, help]
const BUILD_OPTIONS = {
  "--host": ["HOST", `the target: ${HOSTS.join(", ")} (default ${SIMULATOR})`],
  "--manifest": ["PATH", "the app's manifest.json (default: ./manifest.json)"],
  "--out": ["DIR", "where the firmware goes (default: build/HOST/VARIANT beside the manifest)"],
  "--variant": ["NAME", `${per("variants")} (default: the first; debug gives stack traces with .ts lines)`],
  "--target": ["CHIP", `the chip, ${per("targets")} (default: the first)`],
  "--quiet": [null, "print only errors"],
};
const DEVICE_OPTIONS = {
  "--host": ["HOST", `${DEVICE_HOSTS.join(", ")} (default ${DEVICE_HOSTS[0]})`],
  "--manifest": BUILD_OPTIONS["--manifest"],
  "--out": BUILD_OPTIONS["--out"],
  "--variant": ["NAME", `${per("variants", DEVICE_HOSTS)} (default: the first)`],
  "--target": ["CHIP", `the chip, ${per("targets", DEVICE_HOSTS)} (default: the first)`],
  "--port": ["DEVICE", "the board's serial port (default: idf.py's guess), e.g. /dev/ttyUSB0"],
};
const FLASH_OPTIONS = { ...DEVICE_OPTIONS, "--quiet": BUILD_OPTIONS["--quiet"] };
const RUN_OPTIONS = {
  "--host": ["HOST", `${RUN_HOSTS.join(", ")} (default ${SIMULATOR}; qemu is the virtual board, in progress)`],
  "--manifest": BUILD_OPTIONS["--manifest"],
  "--out": BUILD_OPTIONS["--out"],
  "--variant": BUILD_OPTIONS["--variant"],
  "--timeout": ["SECONDS", "stop the firmware after SECONDS (exit code 124)"],
  "--stats": [null, "print the XS heap's peak use when the firmware exits"],
  "--config": ["FILE", "the config store's file (default: the simulator's firmware path + .config; the virtual board's: none, kept in RAM)"],
  "--clock-offset": ["MS", "start with the firmware's calendar clock MS milliseconds off the machine's, as a device's before SNTP (the virtual board's to the second)"],
  "--ram": ["KB", "the virtual board's RAM budget in KiB (qemu only; default 2048)"],
  "--forward": ["HOSTPORT:BOARDPORT", "127.0.0.1:HOSTPORT reaches the virtual board's TCP BOARDPORT (qemu only; repeatable)"],
  "--reach": ["[tcp:|udp:]BOARDIP:PORT=127.0.0.1:HOSTPORT", "what the virtual board sends to BOARDIP:PORT (in 10.0.2.0/24), TCP by default or UDP, reaches 127.0.0.1:HOSTPORT (qemu only; repeatable)"],
  "--quiet": BUILD_OPTIONS["--quiet"],
};
// Options that may be given more than once: each adds a value.
const REPEATABLE = new Set(["--forward", "--reach"]);

const SIZE_OPTIONS = {
  "--host": ["HOST", `${SIZE_HOSTS.join(", ")} (default ${SIZE_HOSTS[0]})`],
  "--manifest": BUILD_OPTIONS["--manifest"],
  "--budget": ["FILE", "the size limits to check (default: hosts/HOST/size-budget.json)"],
  "--quiet": BUILD_OPTIONS["--quiet"],
};

const COMMANDS = {
  build: { args: "", operands: [0, 0], summary: "build the firmware of an app", options: BUILD_OPTIONS },
  run: { args: "[-- ARGS...]", operands: [0, 0], summary: "build the app and run it in the simulator, or on the virtual board with --host qemu (Ctrl-C stops it)", options: RUN_OPTIONS },
  flash: { args: "", operands: [0, 0], summary: "build the app for a board and write it there (esp32: idf.py flash)", options: FLASH_OPTIONS },
  monitor: { args: "", operands: [0, 0], summary: "show the board's console (esp32: idf.py monitor; Ctrl-] quits)", options: DEVICE_OPTIONS },
  size: { args: "", operands: [0, 0], summary: "flash and static RAM per firmware component, checked against a budget (exit 1 when over)", options: SIZE_OPTIONS },
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
  // A flag too long for the column has its help on the next line.
  const rows = opts.map(([flag, [arg, help]]) => {
    const text = flag + (arg ? " " + arg : "");
    return text.length < 20 ? `  ${text.padEnd(20)} ${help}` : `  ${text}\n  ${"".padEnd(20)} ${help}`;
  });
  return [`usage: ${line}`, `  ${c.summary}`, ...(rows.length ? ["options:", ...rows] : [])].join("\n");
}

function usage() {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return ["usage: xsmg COMMAND [options]", "commands:", ...rows,
    "  xsmg --version           print the toolchain's version",
    "  xsmg help COMMAND        that command's options"].join("\n");
}

function parse(argv) {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h") return { command: "help", positional: [] };
  if (command === "--version" || command === "-v") return { command: "version" };
  if (!COMMANDS[command])
    throw new UsageError(command === undefined ? "no command given" : `unknown command "${command}"`);
  const { options } = COMMANDS[command];
  const opts = { command, passthrough: [], positional: [] };
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
      else if (i + 1 < rest.length) opts[key] = REPEATABLE.has(a) ? [...(opts[key] ?? []), rest[++i]] : rest[++i];
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

async function main(argv) {
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
  const log = opts.quiet ? () => {} : (line) => process.stderr.write(line + "\n");
  const where = { manifest, out: opts.out, variant: opts.variant, target: opts.target, log };
  const buildFor = (host) => {
    if (!fs.existsSync(manifest))
      throw new ManifestError(`no manifest at ${manifest}: run xsmg in an app's folder, pass --manifest PATH, or start one with xsmg new DIR`);
    return build({ ...where, host });
  };
  if (opts.command === "build") {
    const { next } = buildFor(opts.host);
    if (next) console.log(next);
  } else if (opts.command === "run") {
    const host = opts.host ?? SIMULATOR;
    const recipe = RECIPES[host];
    if (!recipe?.run) throw new UsageError(`xsmg run is for ${RUN_HOSTS.join(", ")}, not "${host}"`, "run");
    // A host that lists its run options (runOptions) refuses the others.
    const given = ["stats", "config", "clock-offset", "ram", "forward", "reach", ...(opts.passthrough?.length ? ["--"] : [])].filter((k) => opts[k] !== undefined || k === "--");
    const refused = given.filter((k) => !(recipe.runOptions ?? ["stats", "config", "clock-offset", "--"]).includes(k));
    if (refused.length) throw new UsageError(`xsmg run --host ${host} does not take ${refused.map((k) => k === "--" ? "-- ARGS" : `--${k}`).join(", ")}`, "run");
    if (opts["clock-offset"] !== undefined && !/^-?\d+$/.test(opts["clock-offset"]))
      throw new UsageError(`--clock-offset takes a whole number of ms, got "${opts["clock-offset"]}"`, "run");
    if (opts.ram !== undefined && !(Number.isInteger(Number(opts.ram)) && Number(opts.ram) >= 64))
      throw new UsageError(`--ram takes a whole number of KiB (64 or more), got "${opts.ram}"`, "run");
    recipe.checkRunOptions?.(opts);
    await recipe.run(buildFor(host).path, opts);
  } else if (opts.command === "size") {
    const host = opts.host ?? SIZE_HOSTS[0];
    if (!RECIPES[host]?.size) throw new UsageError(`xsmg size is for ${SIZE_HOSTS.join(", ")}, not "${host}"`, "size");
    const over = RECIPES[host].size({ build: () => buildFor(host), out: outDir({ ...where, host }), budget: opts.budget, log });
    if (over.length) {
      process.stderr.write(over.map((line) => `xsmg size: ${line}\n`).join(""));
      process.exitCode = 1;
    }
  } else {
    const host = opts.host ?? DEVICE_HOSTS[0];
    if (!RECIPES[host]?.[opts.command])
      throw new UsageError(`xsmg ${opts.command} is for ${DEVICE_HOSTS.join(", ")}, not "${host}"`, opts.command);
    RECIPES[host][opts.command]({ build: () => buildFor(host), out: outDir({ ...where, host }), target: opts.target, port: opts.port, quiet: opts.quiet });
  }
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`xsmg: ${e.message}\n${e.command ? commandUsage(e.command) : usage()}\n`);
    process.exit(2);
  }
  if (!(e instanceof BuildError || e instanceof ManifestError || e instanceof NewError)) throw e;
  process.stderr.write(`xsmg: ${e.message}\n`);
  process.exit(2);
}
