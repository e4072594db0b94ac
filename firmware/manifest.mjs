// SPDX-License-Identifier: MIT
// Reads an app's manifest.json (Moddable's format, the subset we build) into the
// list of modules, native sources, defines and the creation profile for one host.
// Native C is kept apart by owner: a built-in module's (a manifest under modules/)
// goes into the host's cached libraries, the app's own into each firmware.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BindgenError, bindgen } from "./bindgen.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// A host is a folder of hosts/ with its recipe (host.mjs): adding one adds a folder.
export const HOSTS = fs.readdirSync(path.join(ROOT, "hosts")).filter((h) => fs.existsSync(path.join(ROOT, "hosts", h, "host.mjs")));
// A host that runs another host's C: the virtual board (hosts/qemu) is the esp32
// host's port on an emulated chip, so a manifest's esp32 entry is its entry
// unless the manifest has one for it by name.
const RUNS_AS = { qemu: "esp32" };
const MODULES = path.join(ROOT, "modules");
const BUILTINS = path.join(MODULES, "manifest.json");
const PROFILES = JSON.parse(fs.readFileSync(path.join(ROOT, "firmware", "profiles.json"), "utf8"));

const TOP_KEYS = ["include", "creation", "defines", "modules", "preload", "platforms", "build", "native"];
const PLATFORM_KEYS = ["include", "creation", "defines", "modules", "preload", "build", "native"];
// Ours, for built-in modules only: the third-party C a module wraps, compiled
// without our warnings, and what every file using the module's C needs; and the
// description its binding is generated from (firmware/bindgen.mjs), top level only.
const NATIVE_KEYS = ["thirdParty", "include", "forceInclude"];
const CREATION_KEYS = ["chunk", "heap", "stack", "keys", "parser", "main", "static"];
const SOURCE_EXTENSIONS = [".ts", ".js", ".c"];

export class ManifestError extends Error {}

function fail(file, message) {
  throw new ManifestError(`${file}: ${message}`);
}

function checkKeys(file, where, object, allowed) {
  if (typeof object !== "object" || object === null || Array.isArray(object))
    fail(file, `${where} must be an object`);
  for (const key of Object.keys(object))
    if (!allowed.includes(key)) fail(file, `unknown key "${key}" in ${where} (allowed: ${allowed.join(", ")})`);
}

// $(XSMG) is this toolchain's folder, $(MODULES) its modules; other $(NAME)s come
// from the build's variables (the environment by default).
function expand(file, text, vars) {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name) => {
    if (vars[name] === undefined) fail(file, `undefined variable $(${name}) in "${text}"`);
    return vars[name];
  });
}

function resolvePattern(file, dir, pattern, vars) {
  const expanded = expand(file, pattern, vars);
  return path.resolve(dir, expanded);
}

// "./lib/*" → every .ts/.js/.c file in lib (not .d.ts); "./main" → main.ts, main.js and main.c as present.
function sourcesFor(file, target) {
  const found = [];
  if (target.endsWith("*")) {
    const dir = path.dirname(target);
    if (!fs.existsSync(dir)) fail(file, `no folder ${dir} for "${target}"`);
    for (const entry of fs.readdirSync(dir).sort()) {
      const ext = path.extname(entry);
      if (SOURCE_EXTENSIONS.includes(ext) && !entry.endsWith(".d.ts")) found.push(path.join(dir, entry));
    }
    return found;
  }
  const ext = path.extname(target);
  if (SOURCE_EXTENSIONS.includes(ext) && fs.existsSync(target)) return [target];
  for (const e of SOURCE_EXTENSIONS) if (fs.existsSync(target + e)) found.push(target + e);
  if (!found.length) fail(file, `module source not found: ${target}(.ts|.js|.c)`);
  return found;
}

function stripExt(p) {
  return p.slice(0, -path.extname(p).length);
}

class Collector {
  constructor(host, vars) {
    this.host = host;
    this.vars = vars;
    this.seen = new Set();
    this.modules = new Map();   // name → { name, source, manifest }
    this.native = new Set();
    this.builtins = new Map();  // module folder → { name, sources, thirdParty, include, forceInclude }
    this.typings = new Set();
    this.defines = {};
    this.creation = undefined;
    this.creationFrom = undefined;
    this.preload = new Map();   // module name → the manifest that asks for it
  }

  include(file) {
    file = path.resolve(file);
    if (this.seen.has(file)) return;
    this.seen.add(file);
    let manifest;
    try {
      manifest = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new ManifestError(e.code === "ENOENT" ? `manifest not found: ${file}` : `${file}: ${e.message}`);
    }
    checkKeys(file, "the manifest", manifest, TOP_KEYS);
    // The generated modules and headers must exist before the sections name them.
    if (manifest.native?.binding !== undefined) {
      const { binding, ...native } = manifest.native;
      if (!this.builtin(file) || typeof binding !== "string") fail(file, "native.binding names a built-in module's binding description");
      try {
        bindgen(resolvePattern(file, path.dirname(file), binding, this.vars));
      } catch (e) {
        throw e instanceof BindgenError ? new ManifestError(`${file}: native.binding: ${e.message}`) : e;
      }
      manifest = { ...manifest, native };
    }
    this.section(file, manifest, "the manifest");
    if (manifest.platforms !== undefined) {
      checkKeys(file, "platforms", manifest.platforms, [...HOSTS, "..."]);
      const own = manifest.platforms[this.host] ?? manifest.platforms[RUNS_AS[this.host]] ?? manifest.platforms["..."];
      if (own !== undefined) {
        checkKeys(file, `platforms.${this.host}`, own, PLATFORM_KEYS);
        this.section(file, own, `platforms.${this.host}`);
      }
    }
  }

  section(file, section, where) {
    const dir = path.dirname(file);
    for (const inc of [section.include ?? []].flat()) {
      if (typeof inc !== "string") fail(file, `${where}.include entries must be strings`);
      this.include(resolvePattern(file, dir, inc, this.vars));
    }
    if (section.modules !== undefined) this.addModules(file, dir, section.modules, where);
    if (section.native !== undefined) this.addNative(file, dir, section.native, where);
    if (section.defines !== undefined) {
      checkKeys(file, `${where}.defines`, section.defines, Object.keys(section.defines));
      Object.assign(this.defines, section.defines);
    }
    if (section.preload !== undefined) {
      if (!Array.isArray(section.preload) || section.preload.some((p) => typeof p !== "string"))
        fail(file, `${where}.preload must be a list of module names`);
      for (const name of section.preload) if (!this.preload.has(name)) this.preload.set(name, file);
    }
    if (section.creation !== undefined) {
      this.creation = section.creation;
      this.creationFrom = file;
    }
  }

  addModules(file, dir, modules, where) {
    checkKeys(file, `${where}.modules`, modules, Object.keys(modules));
    for (const [key, value] of Object.entries(modules)) {
      for (const pattern of [value].flat()) {
        if (typeof pattern !== "string") fail(file, `${where}.modules["${key}"] must be a string or strings`);
        const target = resolvePattern(file, dir, pattern, this.vars);
        for (const source of sourcesFor(file, target)) {
          if (source.endsWith(".c")) {
            const builtin = this.builtin(file);
            if (builtin) {
              builtin.sources.add(source);
              // Moddable's way: a module's C folders are on its include path.
              builtin.include.add(path.dirname(source));
            } else this.native.add(source);
            continue;
          }
          const typing = stripExt(source) + ".d.ts";
          if (source.endsWith(".js") && fs.existsSync(typing)) this.typings.add(typing);
          this.addModule(file, this.moduleName(key, dir, source), source);
        }
      }
    }
  }

  // The built-in module a manifest under modules/ belongs to (its folder's name);
  // undefined for the app's own manifests and for modules/manifest.json itself.
  builtin(file) {
    const rel = path.relative(MODULES, file);
    if (rel.startsWith("..") || path.isAbsolute(rel) || !rel.includes(path.sep)) return undefined;
    const name = rel.split(path.sep)[0];
    if (!this.builtins.has(name))
      this.builtins.set(name, { name, manifest: file, sources: new Set(), thirdParty: new Set(), include: new Set(), forceInclude: new Set() });
    return this.builtins.get(name);
  }

  addNative(file, dir, native, where) {
    const builtin = this.builtin(file);
    if (!builtin) fail(file, `${where}.native is for built-in modules (manifests under ${MODULES}); an app names its C in "modules"`);
    checkKeys(file, `${where}.native`, native, NATIVE_KEYS);
    for (const key of NATIVE_KEYS) {
      for (const entry of [native[key] ?? []].flat()) {
        if (typeof entry !== "string") fail(file, `${where}.native.${key} entries must be strings`);
        const target = resolvePattern(file, dir, entry, this.vars);
        if (!fs.existsSync(target)) fail(file, `${where}.native.${key}: ${target} not found${target.includes(`${path.sep}deps${path.sep}`) ? " (run `npm install` or node firmware/deps.mjs)" : ""}`);
        builtin[key].add(target);
      }
    }
  }

  // "*" names a module by its path from the manifest's folder ("main", "lib/util"),
  // or by its file name when it lives elsewhere; "prefix/*" puts it under prefix.
  moduleName(key, dir, source) {
    const base = path.basename(stripExt(source));
    if (key === "*") {
      const rel = path.relative(dir, stripExt(source)).split(path.sep).join("/");
      return rel.startsWith("..") ? base : rel;
    }
    if (key.endsWith("/*")) return key.slice(0, -1) + base;
    return key;
  }

  addModule(file, name, source) {
    const previous = this.modules.get(name);
    if (previous && previous.source !== source && stripExt(previous.source) !== stripExt(source))
      fail(file, `module "${name}" is defined twice: ${previous.source} and ${source}`);
    if (previous && previous.source.endsWith(".ts")) return;  // main.ts wins over a stale main.js
    this.modules.set(name, { name, source, manifest: file });
  }
}

const CREATION_FIELDS = {
  chunk: ["initial", "incremental"],
  heap: ["initial", "incremental"],
  keys: ["initial", "available", "incremental", "name", "symbol"],
  parser: ["buffer", "table"],
};

function creationProfile(file, creation) {
  let name = "custom";
  if (creation === undefined) creation = "desktop";
  if (typeof creation === "string") {
    if (!PROFILES[creation]) fail(file, `unknown creation profile "${creation}" (known: ${Object.keys(PROFILES).join(", ")})`);
    name = creation;
    creation = PROFILES[creation];
  }
  checkKeys(file, "creation", creation, CREATION_KEYS);
  const base = structuredClone(PROFILES.desktop);
  for (const [group, fields] of Object.entries(CREATION_FIELDS)) {
    if (creation[group] === undefined) continue;
    checkKeys(file, `creation.${group}`, creation[group], fields);
    Object.assign(base[group], creation[group]);
  }
  if (creation.stack !== undefined) base.stack = creation.stack;
  const number = (v, what) => {
    if (!Number.isInteger(v) || v < 0) fail(file, `creation.${what} must be a whole number, got ${JSON.stringify(v)}`);
    return v;
  };
  return {
    name,
    main: creation.main ?? "main",
    chunk: { initial: number(base.chunk.initial, "chunk.initial"), incremental: number(base.chunk.incremental, "chunk.incremental") },
    heap: { initial: number(base.heap.initial, "heap.initial"), incremental: number(base.heap.incremental, "heap.incremental") },
    stack: number(base.stack, "stack"),
    keys: {
      initial: number(base.keys.available ?? base.keys.initial, "keys.initial"),
      incremental: number(base.keys.incremental, "keys.incremental"),
      name: number(base.keys.name, "keys.name"),
      symbol: number(base.keys.symbol, "keys.symbol"),
    },
    parser: { buffer: number(base.parser.buffer, "parser.buffer"), table: number(base.parser.table, "parser.table") },
  };
}

function collector(host, extraVars) {
  if (!HOSTS.includes(host)) throw new ManifestError(`unknown host "${host}" (known: ${HOSTS.join(", ")})`);
  const vars = { ...process.env, XSMG: ROOT, MODULES, ...extraVars };
  const c = new Collector(host, vars);
  c.include(BUILTINS);
  return c;
}

function builtinList(c) {
  return [...c.builtins.values()].filter((b) => b.sources.size || b.thirdParty.size).map((b) => ({
    name: b.name,
    manifest: b.manifest,
    sources: [...b.sources],
    thirdParty: [...b.thirdParty],
    include: [...b.include],
    forceInclude: [...b.forceInclude],
  }));
}

// The built-in modules' native C for a host (modules/manifest.json and what it
// includes), one entry per module folder: what a host's libraries(variant) compiles
// once into its cache, whatever the app.
export function builtinNative(host) {
  return builtinList(collector(host, {}));
}

export function readManifest(file, host, extraVars = {}) {
  const c = collector(host, extraVars);
  const always = new Set(c.builtins.keys());
  c.include(file);
  // The host's libraries hold the C of what modules/manifest.json includes, whatever the app.
  for (const b of builtinList(c))
    if (!always.has(b.name))
      throw new ManifestError(`${b.manifest}: the built-in module "${b.name}" has native C but ${BUILTINS} does not include its manifest, so the host's libraries lack it: include it there`);
  const creation = creationProfile(c.creationFrom ?? file, c.creation);
  if (!c.modules.has(creation.main))
    throw new ManifestError(`${file}: the main module "${creation.main}" is not among the modules (${[...c.modules.keys()].join(", ")})`);
  for (const [k, v] of Object.entries(c.defines))
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || !["string", "number", "boolean"].includes(typeof v))
      throw new ManifestError(`${file}: defines.${k} must be a C identifier with a string, number or boolean value`);
  return {
    file: path.resolve(file),
    dir: path.dirname(path.resolve(file)),
    host,
    modules: [...c.modules.values()],
    native: [...c.native],      // the app's own C, compiled per firmware
    builtins: builtinList(c),   // the built-in modules' C, from the host's libraries
    typings: [...c.typings],
    defines: c.defines,
    creation,
    // Modules run at build time into the prepared machine: { name, manifest, builtin }.
    preload: [...c.preload].map(([name, manifest]) => ({ name, manifest, builtin: !path.relative(MODULES, manifest).startsWith("..") })),
  };
}
