#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The esp32 host's cross-build check (CMakeLists.txt beside this file): fetches
// FreeRTOS-Kernel and lwIP when deps/ lacks them, compiles the engine, runtime,
// mongoose and the port for rv32imc into build/esp32-check (kept: a second run
// recompiles only what changed), and prints each component's size.
//   node hosts/esp32/check/run.mjs [--json]
// Exit 0 when everything compiled; 1 with the compiler's output otherwise.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DepsError, fetchDeps, fetchEsp32Deps } from "../../../firmware/deps.mjs";
import { builtinNative } from "../../../firmware/manifest.mjs";
import { modulesCmake } from "../../../firmware/native.mjs";
import { writeIfChanged } from "../../../firmware/shell.mjs";
import { ensure } from "../../../firmware/requirements.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..", "..");
const out = path.join(root, "build", "esp32-check");
const COMPONENTS = ["xs_engine", "mongoose", "xm_runtime", "xm_mongoose", "xm_host", "xm_config"];

function fail(message) {
  console.error(`esp32 check: ${message}`);
  process.exit(1);
}

function sh(cmd, args, what) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) fail(`${what}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} failed:\n${`${r.stdout}${r.stderr}`.trim()}`);
  return r.stdout;
}

// Bytes per kind of section, summed over an archive's objects (`size -A`):
// before a link drops unused sections, so an upper bound of what reaches flash.
function sizes(archive) {
  const total = { text: 0, rodata: 0, data: 0, bss: 0 };
  for (const line of sh("riscv64-unknown-elf-size", ["-A", "-d", archive], "size").split("\n")) {
    const [name, bytes] = line.trim().split(/\s+/);
    const kind = /^\.(s?rodata)/.test(name) ? "rodata" : /^\.text/.test(name) ? "text"
      : /^\.s?data/.test(name) ? "data" : /^\.s?bss/.test(name) ? "bss" : undefined;
    if (kind) total[kind] += Number(bytes);
  }
  return total;
}

const problem = ensure(["esp32"]);
if (problem) fail(problem);
const started = performance.now();
let fetched;
try {
  fetched = [...fetchDeps(), ...fetchEsp32Deps()];
} catch (e) {
  if (!(e instanceof DepsError)) throw e;
  fail(e.message);
}
// The built-in modules' C, from their manifests (CMakeLists.txt includes it).
fs.mkdirSync(out, { recursive: true });
writeIfChanged(path.join(out, "xsmg_modules.cmake"), modulesCmake(builtinNative("esp32"), "esp32"));
if (!fs.existsSync(path.join(out, "CMakeCache.txt"))) {
  const ninja = spawnSync("ninja", ["--version"], { stdio: "ignore" }).status === 0;
  sh("cmake", ["-S", here, "-B", out, ...(ninja ? ["-G", "Ninja"] : []),
    `-DCMAKE_TOOLCHAIN_FILE=${path.join(here, "rv32imc.cmake")}`], "configuring the rv32imc build");
}
sh("cmake", ["--build", out, "-j", "2"], "cross-compiling for rv32imc");
const seconds = (performance.now() - started) / 1000;

// Nothing is linked here, so a backend function the config natives call but no
// file defines would go unnoticed until a board build: look for one.
const symbols = (flags) => new Set(sh("riscv64-unknown-elf-nm", [...flags, path.join(out, "libxm_config.a")], "nm")
  .split("\n").map((l) => l.trim().split(/\s+/).pop()).filter((s) => s?.startsWith("xm_config_")));
const defined = symbols(["-g", "--defined-only"]);
const missing = [...symbols(["-u"])].filter((s) => !defined.has(s));
if (missing.length) fail(`the config store's esp32 backend does not define ${missing.join(", ")}`);

const table = Object.fromEntries(COMPONENTS.map((c) => [c, sizes(path.join(out, `lib${c}.a`))]));
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ seconds, fetched, sizes: table }));
} else {
  console.log(`esp32 check: compiled for rv32imc (-Os) in ${seconds.toFixed(1)} s into ${path.relative(process.cwd(), out) || "."}` +
    (fetched.length ? ` (fetched ${fetched.join(" and ")} first)` : ""));
  console.log(`  ${"bytes".padEnd(12)}${["text", "rodata", "data", "bss", "total"].map((h) => h.padStart(9)).join("")}`);
  for (const [name, s] of Object.entries(table)) {
    const cells = [s.text, s.rodata, s.data, s.bss, s.text + s.rodata + s.data + s.bss];
    console.log(`  ${name.padEnd(12)}${cells.map((n) => String(n).padStart(9)).join("")}`);
  }
  console.log("  (objects before linking: unused sections not yet dropped)");
}
