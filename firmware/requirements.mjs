#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Makes sure the programs a task needs are on PATH before it starts: the build
// tools, the real peers the tests talk to, the load generator of the benchmarks.
// As root with apt-get it installs what is missing (Debian packages) and says so;
// otherwise it stops with one line naming the missing programs and the command
// that installs them. `npm test` and .ci/run both run it, so a missing peer never
// shows up as a cryptic test failure.
//   node firmware/requirements.mjs [build|esp32|qemu|test|fuzz|bench ...]   (default: test)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// program → Debian package, by what needs it. `test` includes `build`, `esp32` and `qemu`.
// An absolute path stands for a package that installs no program (a file is looked
// for); a null package is not to be had from Debian here (Debian 12's cargo 1.65
// cannot read crates.io's sparse index): the message says where it comes from.
const GROUPS = {
  build: { cmake: "cmake", gcc: "gcc", make: "make", python3: "python3" },
  // The rv32imc cross-build check of hosts/esp32 (ESP32-C3's ISA), and cargo for
  // the FreeRTOS-Kernel and lwIP crates it compiles against.
  esp32: { "riscv64-unknown-elf-gcc": "gcc-riscv64-unknown-elf",
    "/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs": "picolibc-riscv64-unknown-elf", cargo: null },
  // The virtual board (hosts/qemu): the esp32 port on FreeRTOS in QEMU's RISC-V virt machine.
  qemu: { "qemu-system-riscv32": "qemu-system-misc" },
  test: { curl: "curl", openssl: "openssl", mosquitto: "mosquitto", mosquitto_passwd: "mosquitto",
    mosquitto_pub: "mosquitto-clients", mosquitto_sub: "mosquitto-clients", chronyd: "chrony", valgrind: "valgrind" },
  // libFuzzer targets of the mongoose core (test/fuzz): clang 14, Debian 12's, and
  // its libFuzzer runtime (looked for by a header of that package, the same on every arch).
  fuzz: { clang: "clang", "/usr/lib/llvm-14/lib/clang/14.0.6/include/fuzzer/FuzzedDataProvider.h": "libclang-rt-14-dev" },
  bench: { wrk: "wrk" },
};
const INCLUDES = { build: [], esp32: [], qemu: ["build", "esp32"], test: ["build", "esp32", "qemu"], fuzz: ["build"], bench: ["build"] };
const ELSEWHERE = { cargo: "Rust's cargo from rustup (https://rustup.rs)" };

function onPath(program) {
  if (path.isAbsolute(program)) return fs.existsSync(program);
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, program), fs.constants.X_OK);
      return true;
    } catch { /* not in this folder */ }
  }
  return false;
}

function wanted(groups) {
  const programs = {};
  const add = (g) => {
    for (const inner of INCLUDES[g]) add(inner);
    Object.assign(programs, GROUPS[g]);
  };
  for (const g of groups) add(g);
  return programs;
}

/** The missing programs of groups, each with its Debian package. */
export function missing(groups) {
  return Object.entries(wanted(groups)).filter(([program]) => !onPath(program));
}

function installCommand(packages, root) {
  return `${root ? "" : "sudo "}apt-get update && ${root ? "" : "sudo "}apt-get install -y --no-install-recommends ${packages.join(" ")}`;
}

/**
 * Installs what groups lack when it can (root and apt-get); otherwise returns the
 * one-line reason. Returns undefined when everything is there afterwards.
 */
export function ensure(groups, log = (line) => process.stderr.write(line + "\n")) {
  let absent = missing(groups);
  if (!absent.length) return undefined;
  let packages = [...new Set(absent.map(([, pkg]) => pkg).filter(Boolean))];
  const root = process.getuid?.() === 0;
  if (packages.length && root && onPath("apt-get")) {
    log(`requirements: installing ${packages.join(" ")} (Debian packages) for ${absent.map(([p]) => p).join(", ")}`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", ...packages]]) {
      const r = spawnSync("apt-get", args, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
      if (r.status !== 0) return `apt-get ${args.join(" ")} failed: ${(r.stderr ?? "").trim().split("\n").pop()}`;
    }
    absent = missing(groups);
    if (!absent.length) return undefined;
  }
  packages = [...new Set(absent.map(([, pkg]) => pkg).filter(Boolean))];
  const how = packages.length ? [`install with: ${installCommand(packages, root)}`] : [];
  for (const [program, pkg] of absent) if (!pkg) how.push(`install ${ELSEWHERE[program] ?? program}`);
  return `missing ${absent.map(([p]) => p).join(", ")}; ${how.join("; ")}`;
}

// Run as a program (also through a symlinked path, as npm runs a dependency's scripts).
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const groups = process.argv.slice(2);
  if (!groups.length) groups.push("test");
  const unknown = groups.filter((g) => !GROUPS[g]);
  if (unknown.length) {
    console.error(`requirements: unknown group ${unknown.join(", ")} (known: ${Object.keys(GROUPS).join(", ")})`);
    process.exit(2);
  }
  const problem = ensure(groups);
  if (problem) {
    console.error(`requirements: ${problem}`);
    process.exit(1);
  }
}
