#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Fetches the third-party sources we link, pinned and checked, into deps/.
// Runs from `npm install`, before tests and before every build (npm may skip a
// dependency's install script); a second run only checks stamps.
//   deps/xs/        XS engine sources from the npm package @agoric/xsnap
//   deps/mongoose/  mongoose.c/.h from the PyPI sdist of cymongoose (one call redirected: editMongoose)
// Run as a program, it then reads the built-in modules' manifests, which generates
// their bindings (firmware/bindgen.mjs): type checking a fresh clone needs them.
// Only for the esp32 host (fetchEsp32Deps, called by its cross-build check, not
// by npm install), from crates.io with cargo:
//   deps/freertos/  FreeRTOS-Kernel from the crate freertos-next
//   deps/lwip/      lwIP from the crate lwip
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ManifestError, builtinNative } from "./manifest.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pins = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).xsmg;
const depsDir = path.join(root, "deps");
const cacheDir = path.join(depsDir, ".download");

export class DepsError extends Error {}

function run(cmd, args, what) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (e.code === "ENOENT") throw new DepsError(`${what}: '${cmd}' is not installed`);
    const detail = String(e.stderr || e.message).trim().split("\n").slice(-3).join("\n  ");
    throw new DepsError(`${what}: '${cmd} ${args.join(" ")}' failed:\n  ${detail}`);
  }
}

function stampOk(dir, stamp) {
  try {
    return fs.readFileSync(path.join(dir, ".stamp"), "utf8") === stamp;
  } catch {
    return false;
  }
}

function writeStamp(dir, stamp) {
  fs.writeFileSync(path.join(dir, ".stamp"), stamp);
}

// Unpacked files get the time of unpacking (tar -m), not the archive's: a cached
// library build then sees a changed pin's sources as newer and recompiles them.
function freshDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
}

function fetchXs() {
  const pin = pins.xsnap;
  const dir = path.join(depsDir, "xs");
  const stamp = `${pin.package}@${pin.version} ${pin.integrity}`;
  if (stampOk(dir, stamp)) return false;
  fs.mkdirSync(cacheDir, { recursive: true });
  const what = `XS engine (${pin.package}@${pin.version} from the npm registry)`;
  // npm pack downloads without running the package's install scripts (its own native build).
  const out = run("npm", ["pack", `${pin.package}@${pin.version}`, "--json", "--pack-destination", cacheDir], what);
  const info = JSON.parse(out.slice(out.indexOf("[")))[0];
  const tarball = path.join(cacheDir, info.filename);
  const actual = "sha512-" + createHash("sha512").update(fs.readFileSync(tarball)).digest("base64");
  if (actual !== pin.integrity || info.integrity !== pin.integrity)
    throw new DepsError(`${what}: integrity mismatch\n  pinned   ${pin.integrity}\n  got      ${actual}`);
  freshDir(dir);
  const inner = "package/moddable/xs";
  run("tar", ["-xzmf", tarball, "-C", dir, "--strip-components=3",
    `${inner}/sources`, `${inner}/includes`, `${inner}/platforms/xsPlatform.h`, `${inner}/platforms/xsHost.h`,
    "package/LICENSE"], what);
  for (const f of ["sources/xsAll.h", "includes/xs.h", "includes/xsmc.h", "platforms/xsPlatform.h"])
    if (!fs.existsSync(path.join(dir, f))) throw new DepsError(`${what}: the package has no ${f}`);
  writeStamp(dir, stamp);
  return true;
}

function python() {
  for (const exe of ["python3", "python"]) {
    try {
      execFileSync(exe, ["-m", "pip", "--version"], { stdio: "ignore" });
      return exe;
    } catch { /* try the next name */ }
  }
  throw new DepsError("mongoose (cymongoose sdist from PyPI): python3 with pip is not installed");
}

// The one edit made to mongoose.c: its TLS server signs CertificateVerify through
// XM_MG_TLS_SIGN (modules/mongoose/c/mg_config.h says why). The call must be
// found exactly once, or the pin has moved past what the edit was written for.
const MONGOOSE_EDIT = { find: "mg_uecc_sign_deterministic(tls->ec_key,", replace: "XM_MG_TLS_SIGN(tls->ec_key," };

function editMongoose(dir, what) {
  const file = path.join(dir, "mongoose.c");
  const text = fs.readFileSync(file, "utf8");
  const found = text.split(MONGOOSE_EDIT.find).length - 1;
  if (found !== 1)
    throw new DepsError(`${what}: expected "${MONGOOSE_EDIT.find}" once in mongoose.c, found it ${found} times`);
  fs.writeFileSync(file, text.replace(MONGOOSE_EDIT.find, MONGOOSE_EDIT.replace));
}

function fetchMongoose() {
  const pin = pins.cymongoose;
  const dir = path.join(depsDir, "mongoose");
  const stamp = `cymongoose==${pin.version} ${pin.sha256} ${MONGOOSE_EDIT.replace}`;
  if (stampOk(dir, stamp)) return false;
  fs.mkdirSync(cacheDir, { recursive: true });
  const what = `mongoose (cymongoose==${pin.version} sdist from PyPI)`;
  const sdist = path.join(cacheDir, `cymongoose-${pin.version}.tar.gz`);
  if (!fs.existsSync(sdist))
    run(python(), ["-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", "cymongoose",
      `cymongoose==${pin.version}`, "-d", cacheDir], what);
  const actual = createHash("sha256").update(fs.readFileSync(sdist)).digest("hex");
  if (actual !== pin.sha256) {
    fs.rmSync(sdist);
    throw new DepsError(`${what}: sha256 mismatch\n  pinned ${pin.sha256}\n  got    ${actual}`);
  }
  freshDir(dir);
  const inner = `cymongoose-${pin.version}/thirdparty/mongoose`;
  run("tar", ["-xzmf", sdist, "-C", dir, "--strip-components=3", `${inner}/mongoose.c`, `${inner}/mongoose.h`], what);
  const header = fs.readFileSync(path.join(dir, "mongoose.h"), "utf8");
  const version = /#define MG_VERSION "([^"]+)"/.exec(header)?.[1];
  if (version !== pin.mgVersion)
    throw new DepsError(`${what}: expected MG_VERSION ${pin.mgVersion}, found ${version ?? "none"}`);
  editMongoose(dir, what);
  writeStamp(dir, stamp);
  return true;
}

function cargoHome() {
  return process.env.CARGO_HOME || path.join(os.homedir(), ".cargo");
}

// The .crate files cargo keeps, one folder per registry index: the one with the
// pinned sha256, else the sha256s found (none when cargo has not fetched it).
function cachedCrate(pin) {
  const cache = path.join(cargoHome(), "registry", "cache");
  let indexes = [];
  try {
    indexes = fs.readdirSync(cache);
  } catch { /* nothing fetched yet */ }
  const found = [];
  for (const index of indexes) {
    const file = path.join(cache, index, `${pin.crate}-${pin.version}.crate`);
    if (!fs.existsSync(file)) continue;
    const sha256 = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    if (sha256 === pin.sha256) return { file, found };
    found.push(sha256);
  }
  return { found };
}

// cargo has no command that downloads one crate: a throwaway project that depends
// on the pinned versions, and `cargo fetch`, put their .crate files in cargo's cache
// (with the crates' own Rust dependencies, which we do not use: about 10 MB, once;
// --target leaves out those only a desktop OS would need).
function cargoFetch(crates, what) {
  const project = path.join(cacheDir, "cargo");
  fs.mkdirSync(path.join(project, "src"), { recursive: true });
  const deps = crates.map((p) => `${JSON.stringify(p.crate)} = { version = "=${p.version}", default-features = false }`);
  fs.writeFileSync(path.join(project, "Cargo.toml"),
    `[package]\nname = "xsmg-deps"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n${deps.join("\n")}\n`);
  fs.writeFileSync(path.join(project, "src", "lib.rs"), "");
  run("cargo", ["fetch", "--quiet", "--target", "riscv32imc-unknown-none-elf",
    "--manifest-path", path.join(project, "Cargo.toml")], what);
}

// Unpacks the kept paths of a pinned crate into deps/<name>; the crate's sha256 is
// the checksum crates.io publishes (and Cargo.lock records).
function fetchCrates(entries) {
  const todo = entries.filter((e) => !stampOk(e.dir, e.stamp));
  if (!todo.length) return [];
  const what = todo.map((e) => `${e.name} (crate ${e.pin.crate}@${e.pin.version} from crates.io)`).join(" and ");
  fs.mkdirSync(cacheDir, { recursive: true });
  if (todo.some((e) => !cachedCrate(e.pin).file)) cargoFetch(todo.map((e) => e.pin), what);
  for (const e of todo) {
    const { file, found } = cachedCrate(e.pin);
    if (!file) {
      const crate = `${e.pin.crate}-${e.pin.version}.crate`;
      throw new DepsError(found.length
        ? `${e.name}: sha256 mismatch for ${crate}\n  pinned ${e.pin.sha256}\n  got    ${found.join(", ")}`
        : `${e.name}: cargo fetch left no ${crate} in ${path.join(cargoHome(), "registry", "cache")}`);
    }
    freshDir(e.dir);
    const top = [`${e.pin.crate}-${e.pin.version}`, e.inner].filter(Boolean).join("/");
    run("tar", ["-xzmf", file, "-C", e.dir, `--strip-components=${top.split("/").length}`,
      ...e.keep.map((k) => `${top}/${k}`)], e.name);
    e.check();
    writeStamp(e.dir, e.stamp);
  }
  return todo.map((e) => e.name);
}

function crateEntry(name, pin, dir, inner, keep, check) {
  return { name, pin, dir, inner, keep, check, stamp: `${pin.crate}@${pin.version} ${pin.sha256} ${keep.join(" ")}` };
}

function freertosEntry() {
  const pin = pins.freertos;
  const dir = path.join(depsDir, "freertos");
  // The kernel, its RISC-V port and heaps; the POSIX port runs it on Linux.
  const keep = ["include", "tasks.c", "queue.c", "list.c", "timers.c", "event_groups.c", "stream_buffer.c",
    "portable/GCC/RISC-V", "portable/MemMang", "portable/ThirdParty/GCC/Posix", "LICENSE.md"];
  return crateEntry("FreeRTOS-Kernel", pin, dir, "FreeRTOS-Kernel", keep, () => {
    const header = fs.readFileSync(path.join(dir, "include", "task.h"), "utf8");
    const version = /#define tskKERNEL_VERSION_NUMBER\s+"([^"]+)"/.exec(header)?.[1];
    if (version !== pin.kernelVersion)
      throw new DepsError(`FreeRTOS-Kernel: expected ${pin.kernelVersion}, found ${version ?? "none"}`);
  });
}

function lwipEntry() {
  const pin = pins.lwip;
  const dir = path.join(depsDir, "lwip");
  const keep = ["src", "contrib/ports/freertos", "COPYING"];
  return crateEntry("lwIP", pin, dir, "", keep, () => {
    const header = fs.readFileSync(path.join(dir, "src", "include", "lwip", "init.h"), "utf8");
    const part = (name) => new RegExp(`#define LWIP_VERSION_${name}\\s+(\\d+)`).exec(header)?.[1];
    const version = ["MAJOR", "MINOR", "REVISION"].map(part).join(".");
    if (version !== pin.lwipVersion) throw new DepsError(`lwIP: expected ${pin.lwipVersion}, found ${version}`);
  });
}

/** The esp32 host's sources (FreeRTOS-Kernel, lwIP), fetched only when an esp32 build or check needs them. */
export function fetchEsp32Deps() {
  return fetchCrates([freertosEntry(), lwipEntry()]);
}

/** Fetches what deps/ lacks; returns the names fetched (none when the stamps match). */
export function fetchDeps() {
  return [fetchXs() && "XS", fetchMongoose() && "mongoose"].filter(Boolean);
}

// Run as a program (also through a symlinked path, as npm runs a dependency's scripts).
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    // `node firmware/deps.mjs esp32` also fetches the esp32 host's sources.
    const fetched = [...fetchDeps(), ...(process.argv.includes("esp32") ? fetchEsp32Deps() : [])];
    if (fetched.length) console.log(`deps: fetched ${fetched.join(" and ")} into ${path.relative(process.cwd(), depsDir) || "."}`);
    builtinNative("linux-sim");
  } catch (e) {
    if (!(e instanceof DepsError) && !(e instanceof ManifestError)) throw e;
    console.error(`deps: ${e.message}`);
    process.exit(1);
  }
}
