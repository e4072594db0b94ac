#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Fetches the two third-party sources we link, pinned and checked, into deps/.
// Runs from `npm install`, before tests and before every build (npm may skip a
// dependency's install script); a second run only checks stamps.
//   deps/xs/        XS engine sources from the npm package @agoric/xsnap
//   deps/mongoose/  mongoose.c/.h from the PyPI sdist of cymongoose (one call redirected: editMongoose)
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

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

/** Fetches what deps/ lacks; returns the names fetched (none when the stamps match). */
export function fetchDeps() {
  return [fetchXs() && "XS", fetchMongoose() && "mongoose"].filter(Boolean);
}

// Run as a program (also through a symlinked path, as npm runs a dependency's scripts).
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const fetched = fetchDeps();
    if (fetched.length) console.log(`deps: fetched ${fetched.join(" and ")} into ${path.relative(process.cwd(), depsDir) || "."}`);
  } catch (e) {
    if (!(e instanceof DepsError)) throw e;
    console.error(`deps: ${e.message}`);
    process.exit(1);
  }
}
