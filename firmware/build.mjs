// SPDX-License-Identifier: MIT
// Turns an app (manifest + TypeScript) into a firmware executable for a host:
//   libraries  engine, runtime and host port, built once per variant and cached
//   typescript tsc, incremental, with source maps
//   bytecode   xsmgc compile, per module, skipped when the module is unchanged
//   image      xsmgc link: bytecode and module table as C
//   firmware   CMake: the image, the app's native C and the cached libraries
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { createRequire } from "node:module";
import path from "node:path";
import { DepsError, fetchDeps } from "./deps.mjs";
import { ROOT, readManifest } from "./manifest.mjs";

export const VARIANTS = ["debug", "release", "sanitize", "tsan"];
const require = createRequire(import.meta.url);

export class BuildError extends Error {}

// xsmgc is a one-shot tool: in the sanitize variant it is built with ASan too, and
// what it leaves allocated at exit is not a leak worth failing a build for.
const TOOL_ENV = { ...process.env, ASAN_OPTIONS: "detect_leaks=0" };

function sh(cmd, args, what, options = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...options });
  if (r.error?.code === "ENOENT") throw new BuildError(`${what}: '${cmd}' is not installed`);
  if (r.status !== 0) {
    const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
    throw new BuildError(`${what} failed${out ? ":\n" + out : ""}`);
  }
  return r.stdout;
}

function hasNinja() {
  try {
    execFileSync("ninja", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Several builds (parallel tests, two terminals) share the library cache.
function withLock(dir, fn) {
  const lock = path.join(dir, ".lock");
  fs.mkdirSync(dir, { recursive: true });
  for (let waited = 0; ; waited += 100) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      let owner = 0;
      try {
        owner = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
      } catch { /* being created or removed */ }
      let alive = true;
      if (owner) {
        try {
          process.kill(owner, 0);
        } catch {
          alive = false;
        }
      }
      if (!alive || waited > 600_000) fs.rmSync(lock, { recursive: true, force: true });
      sleep(100);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function generator() {
  return hasNinja() ? ["-G", "Ninja"] : [];
}

// The library cache lives in the toolchain's folder, or in the user's cache when
// that folder is read-only (a global npm install used by another user).
function cacheRoot() {
  try {
    fs.mkdirSync(path.join(ROOT, "build"), { recursive: true });
    fs.accessSync(path.join(ROOT, "build"), fs.constants.W_OK);
    return path.join(ROOT, "build", "cache");
  } catch {
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
    return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "xsmg", version);
  }
}

export function libraries(host, variant) {
  const dir = path.join(cacheRoot(), `${host}-${variant}`);
  return withLock(dir, () => {
    if (!fs.existsSync(path.join(dir, "CMakeCache.txt")))
      sh("cmake", ["-S", path.join(ROOT, "hosts", host), "-B", dir, ...generator(), `-DXSMG_VARIANT=${variant}`],
        "configuring the engine and runtime");
    sh("cmake", ["--build", dir, "-j", "2"], "building the engine and runtime");
    return dir;
  });
}

function commonDir(files) {
  let dir = path.dirname(files[0]);
  for (const f of files) while (path.relative(dir, f).startsWith("..")) dir = path.dirname(dir);
  return dir;
}

function isBuiltin(m) {
  return !path.relative(path.join(ROOT, "modules"), m.manifest).startsWith("..");
}

function typescript(app, out) {
  const sources = app.modules.filter((m) => m.source.endsWith(".ts")).map((m) => m.source);
  if (!sources.length) return new Map();
  const rootDir = commonDir(sources);
  // Bare imports ("mongoose", "mongoose/native") resolve to the manifest's modules.
  const paths = {};
  for (const m of app.modules) {
    const typing = m.source.replace(/\.js$/, ".d.ts");
    if (m.source.endsWith(".ts")) paths[m.name] = [m.source];
    else if (fs.existsSync(typing)) paths[m.name] = [typing];
  }
  // The app's own modules are the roots; tsc pulls in the built-in ones they import.
  const roots = app.modules.filter((m) => m.source.endsWith(".ts") && !isBuiltin(m)).map((m) => m.source);
  const config = {
    extends: path.join(ROOT, "firmware", "tsconfig.base.json"),
    compilerOptions: {
      rootDir,
      outDir: path.join(out, "js"),
      incremental: true,
      tsBuildInfoFile: path.join(out, "tsbuildinfo"),
      noEmitOnError: true,
      paths,
    },
    files: [...roots, ...app.typings, path.join(ROOT, "firmware", "types", "globals.d.ts")],
  };
  const tsconfig = path.join(out, "tsconfig.json");
  fs.writeFileSync(tsconfig, JSON.stringify(config, null, 2));
  const r = spawnSync(process.execPath, [require.resolve("typescript/lib/tsc.js"), "-p", tsconfig, "--pretty", "false"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new BuildError(`TypeScript errors:\n${(r.stdout + r.stderr).trim()}`);
  const outputs = new Map();
  for (const source of sources) {
    const rel = path.relative(rootDir, source).replace(/\.ts$/, ".js");
    outputs.set(source, path.join(out, "js", rel));
  }
  return outputs;
}

// Static imports sit at the start of a line in tsc's output and in our glue; a
// dynamic import() may be anywhere and may name a module that is absent.
const STATIC_IMPORT = /^[ \t]*(?:import|export)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']|^[ \t]*import\s*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

// The specifier as the runtime resolves it (runtime/xm_modules.c).
function resolveSpecifier(from, spec) {
  spec = spec.replace(/\.(m?js|m?ts)$/, "");
  if (!spec.startsWith(".")) return spec;
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), spec)).replace(/^\.\//, "");
}

// Only what main reaches goes into the image (and so into flash). A static import
// of a module the firmware lacks is an error now, not at boot (tsc does not check
// .js modules).
function reachable(app, jsFor) {
  const byName = new Map(app.modules.map((m) => [m.name, m]));
  const seen = new Set();
  const pending = [app.creation.main];
  while (pending.length) {
    const name = pending.pop();
    if (seen.has(name) || !byName.has(name)) continue;
    seen.add(name);
    const m = byName.get(name);
    const js = jsFor.get(m.source) ?? m.source;
    if (!fs.existsSync(js)) throw new BuildError(`module "${name}" has no compiled output (${js})`);
    const text = fs.readFileSync(js, "utf8");
    for (const match of text.matchAll(STATIC_IMPORT)) {
      const spec = match[1] ?? match[2];
      const target = resolveSpecifier(name, spec);
      if (!byName.has(target))
        throw new BuildError(`module "${name}" (${m.source}) imports "${spec}", which is not among the firmware's modules`);
      pending.push(target);
    }
    for (const match of text.matchAll(DYNAMIC_IMPORT)) pending.push(resolveSpecifier(name, match[1]));
  }
  return app.modules.filter((m) => seen.has(m.name));
}

function fileHash(...files) {
  const h = createHash("sha256");
  for (const f of files) if (f && fs.existsSync(f)) h.update(f).update(fs.readFileSync(f));
  return h.digest("hex");
}

function bytecode(modules, jsFor, out, xsmgc) {
  const dir = path.join(out, "xmb");
  fs.mkdirSync(dir, { recursive: true });
  let compiled = 0;
  const specs = [];
  for (const m of modules) {
    const js = jsFor.get(m.source) ?? m.source;
    const xmb = path.join(dir, m.name.replace(/[^A-Za-z0-9_.-]/g, "_") + ".xmb");
    const stamp = xmb + ".hash";
    const hash = fileHash(js, js + ".map", xsmgc);
    const cached = fs.existsSync(xmb) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === hash;
    if (!cached) {
      const r = spawnSync(xsmgc, ["compile", js, xmb], { encoding: "utf8", env: TOOL_ENV });
      if (r.status !== 0) throw new BuildError(`JavaScript errors in module "${m.name}":\n${r.stderr.trim()}`);
      fs.writeFileSync(stamp, hash);
      compiled++;
    }
    specs.push(`${m.name}=${xmb}`);
  }
  return { specs, compiled };
}

function cString(s) {
  return JSON.stringify(s);
}

function appConfig(app, gen) {
  const c = app.creation;
  const text = `// Generated by xsmg build from ${app.file}. Do not edit.
#include "xm.h"

const xm_app_t xm_app = {
	${cString(c.main)},
	{ ${cString(c.name)}, ${c.chunk.initial}, ${c.chunk.incremental}, ${c.heap.initial}, ${c.heap.incremental},
	  ${c.stack}, ${c.keys.initial}, ${c.keys.incremental}, ${c.keys.name}, ${c.keys.symbol},
	  ${c.parser.buffer}, ${c.parser.table} },
	64,
};
`;
  writeIfChanged(path.join(gen, "app_config.c"), text);
}

function writeIfChanged(file, text) {
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
  fs.writeFileSync(file, text);
}

function firmware(app, out, libs, variant) {
  const dir = path.join(out, "cmake");
  const defines = Object.entries(app.defines).map(([k, v]) => `${k}=${typeof v === "string" ? JSON.stringify(v) : Number(v)}`);
  const args = [
    `-DXSMG_VARIANT=${variant}`,
    `-DXSMG_LIBS=${libs}`,
    `-DXSMG_GEN=${path.join(out, "gen")}`,
    `-DXSMG_OUT=${out}`,
    `-DXSMG_NATIVE=${app.native.join(";")}`,
    `-DXSMG_APP_DEFINES=${defines.join(";")}`,
  ];
  const stamp = path.join(dir, "args.json");
  const same = fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === JSON.stringify(args);
  if (!same) {
    sh("cmake", ["-S", path.join(ROOT, "firmware", "cmake", "app"), "-B", dir, ...generator(), ...args], "configuring the firmware");
    fs.writeFileSync(stamp, JSON.stringify(args));
  }
  sh("cmake", ["--build", dir], "linking the firmware");
  return path.join(out, "firmware");
}

export function build({ manifest, host = "linux-sim", out, variant = "debug", log = () => {} }) {
  if (host === "esp32")
    throw new BuildError("the esp32 host is not yet supported by `xsmg build` (the simulator is: --host linux-sim)");
  if (!VARIANTS.includes(variant)) throw new BuildError(`unknown variant "${variant}" (known: ${VARIANTS.join(", ")})`);
  const started = performance.now();
  const app = readManifest(manifest, host);
  out = path.resolve(out ?? path.join(app.dir, "build", host, variant));
  fs.mkdirSync(path.join(out, "gen"), { recursive: true });
  log(`xsmg: building ${path.relative(process.cwd(), app.file) || app.file} for ${host} (${variant}, creation ${app.creation.name}) into ${out}`);

  let stepStart = performance.now();
  const step = (name, detail) => {
    const now = performance.now();
    log(`  ${name.padEnd(11)} ${((now - stepStart) / 1000).toFixed(2).padStart(6)} s  ${detail}`);
    stepStart = now;
  };
  let fetched;
  try {
    fetched = fetchDeps();
  } catch (e) {
    throw e instanceof DepsError ? new BuildError(e.message) : e;
  }
  const libs = libraries(host, variant);
  step("libraries", libs + (fetched.length ? ` (fetched ${fetched.join(" and ")} first)` : ""));
  const jsFor = typescript(app, out);
  step("typescript", `${jsFor.size} module${jsFor.size === 1 ? "" : "s"} checked`);
  const xsmgc = path.join(libs, "xsmgc");
  const modules = reachable(app, jsFor);
  const { specs, compiled } = bytecode(modules, jsFor, out, xsmgc);
  step("bytecode", `${compiled} compiled, ${specs.length - compiled} unchanged`);
  sh(xsmgc, ["link", path.join(out, "gen", "modules.c"), ...specs], "linking the module image", { env: TOOL_ENV });
  appConfig(app, path.join(out, "gen"));
  step("image", `${specs.length} modules`);
  const exe = firmware(app, out, libs, variant);
  step("firmware", exe);
  log(`xsmg: built in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return exe;
}
