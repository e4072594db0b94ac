// SPDX-License-Identifier: MIT
// Turns an app (manifest + TypeScript) into firmware for a host. The common steps
// are here; the host's recipe (hosts/<host>/host.mjs, see hosts.mjs) does the rest:
//   libraries  the host's: engine, runtime, port and the built-in modules' C (as
//              their manifests name it), built once per variant and cached
//   typescript tsc, incremental, with source maps; the built-in modules once per
//              content, into the cache
//   bytecode   xsmgc compile, per module, skipped when the cache has its content
//   image      xsmgc link: bytecode and module table as C
//   firmware   the host's: the image, the app's native C and the libraries, linked
//              (linux-sim) or made into a project for the vendor's build (esp32)
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { DepsError, fetchDeps } from "./deps.mjs";
import { RECIPES } from "./hosts.mjs";
import { ROOT, readManifest } from "./manifest.mjs";
import { BuildError, cacheRoot, cmakeCache, sh, withLock, writeIfChanged } from "./shell.mjs";

export { BuildError };
const require = createRequire(import.meta.url);

// xsmgc runs on the build machine whatever the firmware is for: one build serves every host.
function tools() {
  const dir = cmakeCache(path.join(ROOT, "firmware", "compiler"), path.join(cacheRoot(), "tools"), [], "the compiler (xsmgc)");
  return { xsmgc: path.join(dir, "xsmgc") };
}

function commonDir(files) {
  let dir = path.dirname(files[0]);
  for (const f of files) while (path.relative(dir, f).startsWith("..")) dir = path.dirname(dir);
  return dir;
}

function isBuiltin(m) {
  return !path.relative(path.join(ROOT, "modules"), m.manifest).startsWith("..");
}

const TSC = require.resolve("typescript/lib/tsc.js");
const TS_BASE = path.join(ROOT, "firmware", "tsconfig.base.json");
const TS_GLOBALS = path.join(ROOT, "firmware", "types", "globals.d.ts");

function tsc(config, file, what) {
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  const r = spawnSync(process.execPath, [TSC, "-p", file, "--pretty", "false"], { encoding: "utf8" });
  if (r.status !== 0) throw new BuildError(`TypeScript errors${what}:\n${(r.stdout + r.stderr).trim()}`);
}

// A module's source for the checker: its .ts, or the typing beside its .js glue.
function typingOf(m) {
  if (m.source.endsWith(".ts")) return m.source;
  const typing = m.source.replace(/\.js$/, ".d.ts");
  return fs.existsSync(typing) ? typing : undefined;
}

// The built-in modules' TypeScript is the same for every app of a host: it is
// checked and compiled once per content into the cache, with declarations, and
// apps are checked against those (a third of an app's build went into checking
// them again). Returns the paths that name them and their compiled outputs.
function builtinTypescript(app) {
  const modules = app.modules.filter(isBuiltin);
  const paths = {};
  for (const m of modules) {
    const typing = typingOf(m);
    if (typing) paths[m.name] = [typing];
  }
  const sources = modules.filter((m) => m.source.endsWith(".ts")).map((m) => m.source);
  if (!sources.length) return { paths, outputs: new Map(), fresh: false };
  const builtinTypings = app.typings.filter((t) => !path.relative(path.join(ROOT, "modules"), t).startsWith(".."));
  const key = createHash("sha256").update(JSON.stringify(paths))
    .update(fileHash(TS_BASE, TS_GLOBALS, require.resolve("typescript/package.json"), ...sources, ...builtinTypings))
    .digest("hex").slice(0, 16);
  const cache = path.join(cacheRoot(), "ts");
  const dir = path.join(cache, key);
  const rootDir = path.join(ROOT, "modules");
  // Under the lock, so that parallel builds (tests) do not all compile it at once.
  const fresh = withLock(cache, () => cacheEntry(dir, (temp) => {
    fs.mkdirSync(temp);
    // temp is dir's sibling: the source maps' relative paths hold once it is renamed.
    tsc({
      extends: TS_BASE,
      compilerOptions: { rootDir, outDir: path.join(temp, "js"), declaration: true, noEmitOnError: true, paths },
      files: [...sources, ...builtinTypings, TS_GLOBALS],
    }, path.join(temp, "tsconfig.json"), " in the built-in modules");
  }));
  if (fresh) prune(cache);
  const outputs = new Map();
  for (const source of sources) {
    const compiled = path.join(dir, "js", path.relative(rootDir, source)).replace(/\.ts$/, "");
    outputs.set(source, `${compiled}.js`);
    paths[modules.find((m) => m.source === source).name] = [`${compiled}.d.ts`];
  }
  return { paths, outputs, fresh };
}

// The app's own modules, checked against the built-in ones' declarations.
function typescript(app, out) {
  const builtin = builtinTypescript(app);
  const outputs = new Map(builtin.outputs);
  const sources = app.modules.filter((m) => m.source.endsWith(".ts") && !isBuiltin(m)).map((m) => m.source);
  if (sources.length) {
    const rootDir = commonDir(sources);
    // Bare imports ("mongoose", "mongoose/native") resolve to the manifest's modules.
    const paths = { ...builtin.paths };
    for (const m of app.modules) {
      const typing = isBuiltin(m) ? undefined : typingOf(m);
      if (typing) paths[m.name] = [typing];
    }
    tsc({
      extends: TS_BASE,
      compilerOptions: {
        rootDir,
        outDir: path.join(out, "js"),
        incremental: true,
        tsBuildInfoFile: path.join(out, "tsbuildinfo"),
        noEmitOnError: true,
        paths,
      },
      files: [...sources, ...app.typings, TS_GLOBALS],
    }, path.join(out, "tsconfig.json"), "");
    for (const source of sources)
      outputs.set(source, path.join(out, "js", path.relative(rootDir, source).replace(/\.ts$/, ".js")));
  }
  return { outputs, detail: `${sources.length} checked, ${builtin.outputs.size} built-in ${builtin.fresh ? "compiled into the cache" : "from the cache"}` };
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

// Entries of a cache folder unused for a day (their sources since edited): no build takes them any more.
function prune(dir) {
  const now = Date.now();
  for (const entry of fs.readdirSync(dir)) {
    const file = path.join(dir, entry);
    if (!entry.startsWith(".") && now - fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs > 86_400_000)
      fs.rmSync(file, { recursive: true, force: true });
  }
}

// A cache entry (file or folder) made once: make writes it under a temporary
// name, and the rename puts it in place whole, so that a build beside this one
// sees all of it or none. Marks it used; returns whether this build made it.
function cacheEntry(entry, make) {
  const now = new Date();
  try {
    fs.utimesSync(entry, now, now);
    return false;
  } catch {
    // not made yet
  }
  const temp = `${entry}.${process.pid}`;
  fs.rmSync(temp, { recursive: true, force: true });
  try {
    make(temp);
    fs.renameSync(temp, entry);
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;  // else made beside us meanwhile
  }
  return true;
}

// Bytecode is kept in the cache by content (the JavaScript where it lies, its
// source map, the compiler, debug), shared by every build: a built-in module is
// compiled once, an app's module again only when it changed. debug: with the file
// and line records of stack traces, which an engine without mxDebug (the release
// variant's, see firmware/cmake/variant.cmake) never reads.
function bytecode(modules, jsFor, out, xsmgc, debug) {
  const cache = path.join(cacheRoot(), "xmb");
  const dir = path.join(out, "xmb");
  fs.mkdirSync(cache, { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  let compiled = 0;
  const specs = [];
  const tool = fileHash(xsmgc) + (debug ? "" : " --no-debug");
  for (const m of modules) {
    const js = jsFor.get(m.source) ?? m.source;
    const key = createHash("sha256").update(tool).update(fileHash(js, js + ".map")).digest("hex").slice(0, 32);
    const cached = path.join(cache, `${key}.xmb`);
    if (cacheEntry(cached, (temp) => {
      const r = spawnSync(xsmgc, ["compile", ...(debug ? [] : ["--no-debug"]), js, temp], { encoding: "utf8" });
      if (r.status !== 0) throw new BuildError(`JavaScript errors in module "${m.name}":\n${r.stderr.trim()}`);
    })) compiled++;
    const xmb = path.join(dir, m.name.replace(/[^A-Za-z0-9_.-]/g, "_") + ".xmb");  // what xsmgc link reads
    fs.copyFileSync(cached, xmb);
    specs.push(`${m.name}=${xmb}`);
  }
  if (compiled) prune(cache);
  return { specs, compiled };
}

// The prepared machine (xsmgc link --prepare): the built-ins, and the manifests'
// "preload" modules that the image holds, built at build time as const data.
// A built-in module's manifest asks for it whatever the app imports; an app's
// manifest naming a module the image lacks is an error. XSMG_PRELOAD=0 turns
// preparation off: the machine then builds its built-ins in RAM at boot.
export function preloadEnabled() {
  return !["0", "off", "false", "no"].includes((process.env.XSMG_PRELOAD ?? "").toLowerCase());
}

function preloadArgs(app, modules) {
  if (!preloadEnabled()) return { args: [], detail: "preload off (XSMG_PRELOAD)" };
  const linked = new Set(modules.map((m) => m.name));
  const names = [];
  for (const p of app.preload) {
    if (linked.has(p.name)) names.push(p.name);
    else if (!p.builtin) throw new BuildError(`${p.manifest}: preload names module "${p.name}", which main does not import (not in the image)`);
  }
  const keys = app.creation.keys;
  return {
    args: ["--prepare", `${keys.name},${keys.symbol}`, ...names.flatMap((n) => ["--preload", n])],
    detail: names.length ? `preloaded ${names.join(", ")}` : "built-ins prepared",
  };
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
};
`;
  writeIfChanged(path.join(gen, "app_config.c"), text);
}

// Where a build goes: --out, or build/HOST/VARIANT beside the manifest. A host's
// first variant is its default.
export function outDir({ manifest, host = "linux-sim", out, variant = RECIPES[host]?.variants[0] }) {
  return path.resolve(out ?? path.join(path.dirname(path.resolve(manifest)), "build", host, variant));
}

// Returns the host's firmware: { path, next? }.
export function build({ manifest, host = "linux-sim", out, variant, target, log = () => {} }) {
  const recipe = RECIPES[host];
  variant ??= recipe?.variants[0];
  if (recipe && !recipe.variants.includes(variant))
    throw new BuildError(`unknown variant "${variant}" for ${host} (known: ${recipe.variants.join(", ")})`);
  if (recipe && target !== undefined && !recipe.targets.includes(target))
    throw new BuildError(recipe.targets.length ? `unknown target "${target}" for ${host} (known: ${recipe.targets.join(", ")})`
      : `--target is not used by the ${host} host`);
  const started = performance.now();
  const app = readManifest(manifest, host);
  out = outDir({ manifest, host, out, variant });
  const gen = path.join(out, "gen");
  fs.mkdirSync(gen, { recursive: true });
  log(`xsmg: building ${path.relative(process.cwd(), app.file) || app.file} for ${host} (${target ? `${target}, ` : ""}${variant}, creation ${app.creation.name}) into ${out}`);

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
  const { xsmgc } = tools();
  const libs = recipe.libraries(variant);
  step("libraries", (libs ?? xsmgc) + (fetched.length ? ` (fetched ${fetched.join(" and ")} first)` : ""));
  const { outputs: jsFor, detail } = typescript(app, out);
  step("typescript", detail);
  const modules = reachable(app, jsFor);
  const { specs, compiled } = bytecode(modules, jsFor, out, xsmgc, variant !== "release");
  step("bytecode", `${compiled} compiled, ${specs.length - compiled} unchanged`);
  const prepare = preloadArgs(app, modules);
  sh(xsmgc, ["link", path.join(gen, "modules.c"), ...prepare.args, ...specs], "linking the module image");
  appConfig(app, gen);
  step("image", `${specs.length} modules, ${prepare.detail}`);
  const result = recipe.firmware({ app, out, gen, libs, variant, target });
  step("firmware", result.path);
  log(`xsmg: built in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return result;
}
