#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Builds and runs the platform layer's C unit tests (test/c):
//   1. platform_tests under AddressSanitizer + UndefinedBehaviorSanitizer;
//   2. platform_tests_valgrind (no sanitizers) under valgrind (firmware/requirements.mjs
//      makes sure it is installed).
// Output streams through; the exit code is the first failure's (0 when all pass).
// Usage: node test/c/run.mjs [--no-valgrind]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const BUILD = path.join(ROOT, "build", "test-c");
const noValgrind = process.argv.includes("--no-valgrind");

function say(line) {
  process.stdout.write(`platform-c: ${line}\n`);
}

function works(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  return !r.error && r.status === 0;
}

// Runs a command with inherited stdio; returns its exit code (1 if it died of a signal).
function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { stdio: "inherit", env: env ?? process.env, cwd: ROOT });
  if (r.error) {
    say(`cannot run ${cmd}: ${r.error.message}`);
    return 127;
  }
  if (r.signal) {
    say(`${path.basename(cmd)} killed by ${r.signal}`);
    return 1;
  }
  return r.status;
}

function generator() {
  const wanted = works("ninja", ["--version"]) ? "Ninja" : "Unix Makefiles";
  // A build directory configured with another generator cannot be reused.
  const cache = path.join(BUILD, "CMakeCache.txt");
  if (fs.existsSync(cache)) {
    const m = /^CMAKE_GENERATOR:INTERNAL=(.*)$/m.exec(fs.readFileSync(cache, "utf8"));
    if (m && m[1] !== wanted) fs.rmSync(BUILD, { recursive: true, force: true });
  }
  return wanted;
}

function main() {
  if (!works("cmake", ["--version"])) {
    say("cmake is not installed: cannot build the C tests");
    return 1;
  }
  say("building (build/test-c)");
  let code = run("cmake", ["-S", HERE, "-B", BUILD, "-G", generator(), "-DCMAKE_BUILD_TYPE=Debug"]);
  if (code) return code;
  const jobs = String(os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  code = run("cmake", ["--build", BUILD, "-j", jobs]);
  if (code) return code;

  say("running platform_tests (AddressSanitizer + UndefinedBehaviorSanitizer)");
  // Ours first: options the caller already set come later and win.
  const env = {
    ...process.env,
    ASAN_OPTIONS: ["detect_leaks=1", "detect_stack_use_after_return=1", "strict_string_checks=1",
      "check_initialization_order=1", process.env.ASAN_OPTIONS].filter(Boolean).join(":"),
    UBSAN_OPTIONS: ["print_stacktrace=1", "halt_on_error=1", process.env.UBSAN_OPTIONS].filter(Boolean).join(":"),
  };
  const asan = run(path.join(BUILD, "platform_tests"), [], env);
  say(asan === 0 ? "sanitizer run passed" : `sanitizer run FAILED (exit code ${asan})`);

  let grind = 0;
  if (noValgrind) say("valgrind run skipped (--no-valgrind)");
  else {
    say("running platform_tests_valgrind under valgrind --error-exitcode=1 --leak-check=full");
    grind = run("valgrind", ["-q", "--error-exitcode=1", "--leak-check=full",
      path.join(BUILD, "platform_tests_valgrind")],
    // Everything is slower under valgrind: a longer watchdog per test.
    { ...process.env, XSMG_TEST_TIMEOUT: process.env.XSMG_TEST_TIMEOUT ?? "120" });
    say(grind === 0 ? "valgrind run passed (no errors, no leaks)" : `valgrind run FAILED (exit code ${grind})`);
  }
  return asan || grind;
}

process.exitCode = main();
