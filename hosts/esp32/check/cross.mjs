// SPDX-License-Identifier: MIT
// The rv32imc cross-build (CMakeLists.txt beside this file) and the reading of
// its sizes, shared by the check (run.mjs) and `xsmg size --host esp32`.
// Errors are BuildErrors naming the step that failed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DepsError, fetchDeps, fetchEsp32Deps } from "../../../firmware/deps.mjs";
import { builtinNative } from "../../../firmware/manifest.mjs";
import { modulesCmake } from "../../../firmware/native.mjs";
import { ensure } from "../../../firmware/requirements.mjs";
import { BuildError, generator, sh, withLock, writeIfChanged } from "../../../firmware/shell.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..", "..");
export const OUT = path.join(root, "build", "esp32-check");
// The libraries of CMakeLists.txt that go into a firmware (not the contract tests).
export const LIBRARIES = ["xs_engine", "mongoose", "xm_runtime", "xm_mongoose", "xm_host", "xm_config"];

const run = (cmd, args, what) => sh(cmd, args, what, { maxBuffer: 64 * 1024 * 1024 });

/**
 * Fetches what deps/ lacks, then compiles (or recompiles what changed) into OUT.
 * Returns { seconds, fetched }.
 */
export function crossBuild() {
  const problem = ensure(["esp32"]);
  if (problem) throw new BuildError(problem);
  const started = performance.now();
  let fetched;
  try {
    fetched = [...fetchDeps(), ...fetchEsp32Deps()];
  } catch (e) {
    throw e instanceof DepsError ? new BuildError(e.message) : e;
  }
  // The check and xsmg size may run at once (parallel tests, two terminals).
  withLock(OUT, () => {
    // The built-in modules' C, from their manifests (CMakeLists.txt includes it).
    writeIfChanged(path.join(OUT, "xsmg_modules.cmake"), modulesCmake(builtinNative("esp32"), "esp32"));
    if (!fs.existsSync(path.join(OUT, "CMakeCache.txt")))
      run("cmake", ["-S", here, "-B", OUT, ...generator(), `-DCMAKE_TOOLCHAIN_FILE=${path.join(here, "rv32imc.cmake")}`],
        "configuring the rv32imc build");
    run("cmake", ["--build", OUT, "-j", "2"], "cross-compiling for rv32imc");
  });
  checkConfigBackend();
  return { seconds: (performance.now() - started) / 1000, fetched };
}

// Nothing is linked here, so a backend function the config natives call but no
// file defines would go unnoticed until a board build: look for one.
function checkConfigBackend() {
  const symbols = (flags) => new Set(run("riscv64-unknown-elf-nm", [...flags, library("xm_config")], "nm")
    .split("\n").map((l) => l.trim().split(/\s+/).pop()).filter((s) => s?.startsWith("xm_config_")));
  const defined = symbols(["-g", "--defined-only"]);
  const missing = [...symbols(["-u"])].filter((s) => !defined.has(s));
  if (missing.length) throw new BuildError(`the config store's esp32 backend does not define ${missing.join(", ")}`);
}

export function library(name) {
  return path.join(OUT, `lib${name}.a`);
}

// The toolchain file's compile flags and the check's -Os: the app's image is
// compiled as the libraries are.
export function compileFlags() {
  const m = /set\(CMAKE_C_FLAGS_INIT "([^"]*)"\)/.exec(fs.readFileSync(path.join(here, "rv32imc.cmake"), "utf8"));
  if (!m) throw new BuildError(`${path.join(here, "rv32imc.cmake")} no longer sets CMAKE_C_FLAGS_INIT`);
  return [...m[1].split(/\s+/), "-Os"];
}

/**
 * Compiles C that sees the engine (an app's image, an app's own C) for rv32imc
 * into out, with the release variant's engine settings (the esp32 recipe's xs
 * component) and the given warnings and defines. Returns the objects' paths.
 */
export function compileWithEngine(sources, out, flags) {
  const xs = path.join(root, "deps", "xs");
  fs.mkdirSync(out, { recursive: true });
  return sources.map((source, i) => {
    const object = path.join(out, `${i}-${path.basename(source, ".c")}.o`);
    run("riscv64-unknown-elf-gcc", [...compileFlags(), ...flags,
      "-DmxRun=1", "-DINCLUDE_XSPLATFORM=1", '-DXSPLATFORM="xm_platform.h"', "-DmxBoundsCheck=1",
      "-I", path.join(xs, "includes"), "-I", path.join(xs, "sources"), "-I", path.join(xs, "platforms"), "-I", path.join(root, "runtime"),
      "-c", "-o", object, source], `compiling ${source} for rv32imc`);
    return object;
  });
}

/**
 * Compiles an app's image (modules.c and app_config.c in gen, from xsmg build)
 * for rv32imc into out, with the warnings ESP-IDF turns into errors.
 */
export function compileImage(gen, out) {
  return compileWithEngine(["modules.c", "app_config.c"].map((f) => path.join(gen, f)), out,
    ["-Wall", "-Werror", "-Wextra", "-Wno-unused-parameter", "-Wno-sign-compare"]);
}

/**
 * Bytes per kind of section, summed over the objects of archives or object
 * files (`size -A`): before a link drops unused sections, so an upper bound of
 * what reaches the firmware.
 */
export function sectionSizes(...files) {
  const total = { text: 0, rodata: 0, data: 0, bss: 0 };
  for (const file of files)
    for (const line of run("riscv64-unknown-elf-size", ["-A", "-d", file], "size").split("\n")) {
      const [name, bytes] = line.trim().split(/\s+/);
      const kind = /^\.(s?rodata)/.test(name) ? "rodata" : /^\.text/.test(name) ? "text"
        : /^\.s?data/.test(name) ? "data" : /^\.s?bss/.test(name) ? "bss" : undefined;
      if (kind) total[kind] += Number(bytes);
    }
  return total;
}
