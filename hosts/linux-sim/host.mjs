// SPDX-License-Identifier: MIT
// The simulator's recipe for firmware/build.mjs: the engine, runtime, port and
// the built-in modules' C (mongoose among it) built with CMake once per variant
// into the library cache; the
// firmware linked as a Linux executable (firmware/CMakeLists.txt); `xsmg run`
// runs it as a child process.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { builtinNative } from "../../firmware/manifest.mjs";
import { moduleLibraries, modulesCmake } from "../../firmware/native.mjs";
import { cacheRoot, cmakeCache, generator, runToExit, sh } from "../../firmware/shell.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const variants = ["debug", "release", "sanitize", "tsan"];
export const targets = [];

// The built-in modules' C is compiled here, once per variant, not per firmware.
export function libraries(variant) {
  const modules = modulesCmake(builtinNative("linux-sim"), "linux-sim");
  return cmakeCache(HERE, path.join(cacheRoot(), `linux-sim-${variant}`), [`-DXSMG_VARIANT=${variant}`],
    "the engine, runtime and built-in modules", { "xsmg_modules.cmake": modules });
}

export function firmware({ app, out, libs, variant }) {
  const dir = path.join(out, "cmake");
  const source = path.join(HERE, "firmware");
  const defines = Object.entries(app.defines).map(([k, v]) => `${k}=${typeof v === "string" ? JSON.stringify(v) : Number(v)}`);
  const args = [
    `-DXSMG_VARIANT=${variant}`,
    `-DXSMG_LIBS=${libs}`,
    `-DXSMG_GEN=${path.join(out, "gen")}`,
    `-DXSMG_OUT=${out}`,
    `-DXSMG_NATIVE=${app.native.join(";")}`,
    // What the app's own C needs to use a built-in module's (xm_mg.h, say), and its libraries.
    `-DXSMG_MODULE_INCLUDES=${app.builtins.flatMap((b) => b.include).join(";")}`,
    `-DXSMG_MODULE_FORCE_INCLUDES=${app.builtins.flatMap((b) => b.forceInclude).join(";")}`,
    `-DXSMG_MODULE_LIBS=${moduleLibraries(app.builtins).map((l) => `lib${l}.a`).join(";")}`,
    `-DXSMG_APP_DEFINES=${defines.join(";")}`,
  ];
  const stamp = path.join(dir, "args.json");
  const wanted = JSON.stringify({ source, args });
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8") !== wanted) {
    // A build folder configured from another source folder (the link project
    // lived in firmware/cmake/app before) is refused by CMake: start it afresh.
    fs.rmSync(path.join(dir, "CMakeCache.txt"), { force: true });
    sh("cmake", ["-S", source, "-B", dir, ...generator(), ...args], "configuring the firmware");
    fs.writeFileSync(stamp, wanted);
  }
  sh("cmake", ["--build", dir], "linking the firmware");
  return { path: path.join(out, "firmware") };
}

// The firmware enforces --timeout itself (exit 124), so that it can stop cleanly.
export function run(exe, { timeout, stats, config, "clock-offset": clockOffset, passthrough }) {
  const args = [...(timeout ? ["--timeout", String(timeout)] : []), ...(stats ? ["--stats"] : []),
    ...(clockOffset !== undefined ? ["--clock-offset", String(clockOffset)] : []),
    ...(config ? ["--config", path.resolve(config)] : []),
    ...(passthrough.length ? ["--", ...passthrough] : [])];
  runToExit(exe, args);
}
