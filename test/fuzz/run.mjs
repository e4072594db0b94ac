#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Builds the libFuzzer targets of the mongoose core (test/fuzz) with clang and
// runs each for a bounded time from its seeds (seeds.mjs) and the corpus kept
// in build/fuzz/corpus. A crash, leak or sanitizer report fails the run: the
// report, the input (hex and base64) and the command that reproduces it are
// printed. The targets run side by side, one per CPU, each for its whole time.
// Installs clang and libFuzzer first when it can (firmware/requirements.mjs).
// Usage: node test/fuzz/run.mjs [--seconds N] [fuzz_http fuzz_ws ...]
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensure } from "../../firmware/requirements.mjs";
import { SEEDS } from "./seeds.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const BUILD = path.join(ROOT, "build", "fuzz");

function say(line) {
  process.stdout.write(`fuzz: ${line}\n`);
}

function args() {
  const argv = process.argv.slice(2);
  let seconds = 20;
  const targets = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--seconds") seconds = Number(argv[++i]);
    else targets.push(argv[i]);
  }
  if (!(seconds > 0)) throw new Error(`--seconds wants a positive number, got ${argv[argv.indexOf("--seconds") + 1]}`);
  for (const t of targets) if (!SEEDS[t]) throw new Error(`unknown fuzz target ${t} (known: ${Object.keys(SEEDS).join(", ")})`);
  return { seconds, targets: targets.length ? targets : Object.keys(SEEDS) };
}

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { stdio: "inherit", cwd: ROOT });
  return r.error ? 127 : r.status ?? 1;
}

function build() {
  const ninja = spawnSync("ninja", ["--version"], { stdio: "ignore" }).status === 0;
  const generator = ninja ? "Ninja" : "Unix Makefiles";
  const cache = path.join(BUILD, "CMakeCache.txt");
  if (fs.existsSync(cache) && !fs.readFileSync(cache, "utf8").includes(`CMAKE_GENERATOR:INTERNAL=${generator}`))
    fs.rmSync(BUILD, { recursive: true, force: true });
  return run("cmake", ["-S", HERE, "-B", BUILD, "-G", generator, "-DCMAKE_C_COMPILER=clang", "-DCMAKE_BUILD_TYPE=Debug"]) ||
    run("cmake", ["--build", BUILD, "-j", "2"]);
}

// libFuzzer's final stats ("stat::name: value").
function stat(text, name) {
  const m = new RegExp(`^stat::${name}:\\s+(\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

function fuzz(target, seconds) {
  const seeds = path.join(BUILD, "seeds", target);
  const corpus = path.join(BUILD, "corpus", target);
  const crashes = path.join(BUILD, "crashes");
  fs.rmSync(seeds, { recursive: true, force: true });
  for (const dir of [seeds, corpus, crashes]) fs.mkdirSync(dir, { recursive: true });
  SEEDS[target].forEach((bytes, i) => fs.writeFileSync(path.join(seeds, `seed-${i}`), bytes));
  const exe = path.join(BUILD, target);
  const child = spawn(exe, [`-max_total_time=${seconds}`, "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
    `-artifact_prefix=${path.join(crashes, `${target}-`)}`, corpus, seeds], {
    cwd: ROOT,
    env: { ...process.env, ASAN_OPTIONS: ["detect_leaks=1", process.env.ASAN_OPTIONS].filter(Boolean).join(":") },
  });
  let log = "";
  child.stdout.setEncoding("utf8").on("data", (d) => (log += d));
  child.stderr.setEncoding("utf8").on("data", (d) => (log += d));
  return new Promise((resolve) => {
    child.on("error", (e) => resolve(report(target, seconds, exe, e.message, `${log}${e.message}\n`)));
    child.on("close", (code, signal) => resolve(report(target, seconds, exe, code ?? signal, log)));
  });
}

function report(target, seconds, exe, status, log) {
  const corpus = path.join(BUILD, "corpus", target);
  const execs = stat(log, "number_of_executed_units");
  const perSecond = stat(log, "average_exec_per_sec");
  const units = fs.readdirSync(corpus).length;
  if (status === 0) {
    say(`${target}: ${execs} runs in ${seconds} s (${perSecond}/s), corpus ${units} inputs, no crash`);
    return true;
  }
  say(`${target}: FAILED (exit ${status}) after ${execs} runs`);
  process.stdout.write(log.split("\n").filter((l) => !/^#\d+\s+(NEW|REDUCE|pulse|INITED|RELOAD)/.test(l)).slice(-80).join("\n") + "\n");
  const artifact = /Test unit written to (\S+)/.exec(log)?.[1];
  if (artifact && fs.existsSync(artifact)) {
    const bytes = fs.readFileSync(artifact);
    say(`${target}: reproducer ${path.relative(ROOT, artifact)} (${bytes.length} bytes)`);
    say(`  hex: ${bytes.subarray(0, 512).toString("hex")}${bytes.length > 512 ? "…" : ""}`);
    say(`  base64: ${bytes.toString("base64")}`);
    say(`  run it: ${path.relative(ROOT, exe)} ${path.relative(ROOT, artifact)}`);
  }
  return false;
}

async function main() {
  const { seconds, targets } = args();
  const missing = ensure(["fuzz"]);
  if (missing) {
    say(missing);
    return 1;
  }
  say("building (build/fuzz, clang -fsanitize=fuzzer,address,undefined)");
  if (build()) return 1;
  const waiting = [...targets];
  let ok = true;
  const lane = async () => {
    while (waiting.length) ok = (await fuzz(waiting.shift(), seconds)) && ok;
  };
  await Promise.all(Array.from({ length: Math.min(os.availableParallelism(), targets.length) }, lane));
  return ok ? 0 : 1;
}

process.exitCode = await main();
