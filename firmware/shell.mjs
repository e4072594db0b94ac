// SPDX-License-Identifier: MIT
// What the build steps and the host recipes (hosts/<host>/host.mjs) share: running
// a tool or the firmware, CMake's generator, the library cache and its lock.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./manifest.mjs";

export class BuildError extends Error {}

export function sh(cmd, args, what, options = {}) {
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

export function generator() {
  return hasNinja() ? ["-G", "Ninja"] : [];
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Several builds (parallel tests, two terminals) share the library cache.
export function withLock(dir, fn) {
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

// The library cache lives in the toolchain's folder, or in the user's cache when
// that folder is read-only (a global npm install used by another user).
export function cacheRoot() {
  try {
    fs.mkdirSync(path.join(ROOT, "build"), { recursive: true });
    fs.accessSync(path.join(ROOT, "build"), fs.constants.W_OK);
    return path.join(ROOT, "build", "cache");
  } catch {
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
    return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "xsmg", version);
  }
}

// A CMake project built into the cache: configured once, then rebuilt as its
// sources change. files: generated files the project reads from its build folder
// (name → text), written under the lock; a changed one makes CMake configure again.
export function cmakeCache(source, dir, args, what, files = {}) {
  return withLock(dir, () => {
    for (const [name, text] of Object.entries(files)) writeIfChanged(path.join(dir, name), text);
    if (!fs.existsSync(path.join(dir, "CMakeCache.txt")))
      sh("cmake", ["-S", source, "-B", dir, ...generator(), ...args], `configuring ${what}`);
    sh("cmake", ["--build", dir, "-j", "2"], `building ${what}`);
    return dir;
  });
}

// Unchanged files keep their dates, so that make or ninja rebuilds nothing for
// them. Returns whether the file was written.
export function writeIfChanged(file, text) {
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return true;
}

/**
 * xsmg run's end: runs the firmware (or what boots it) on this terminal and exits
 * with its code, 128 + the signal's number when a signal ended it, or when it
 * ended with 0 after one was passed on. Stop signals
 * are forwarded, SIGINT too: a process manager (or kill) signals xsmg alone; after
 * a terminal's Ctrl-C the child gets SIGINT twice, which the firmware handles as
 * once. Installed before the spawn: the child may print, and be signalled, at
 * once. With timeoutMs, the child is killed then and xsmg exits 124.
 */
export function runToExit(cmd, args, { timeoutMs, stdio = "inherit" } = {}) {
  let child;
  // QEMU ends with 0 on a stop signal ("terminating on signal 2"), which would
  // read as a firmware with nothing left to do: the first signal passed on says.
  let stoppedBy;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"])
    process.on(sig, () => {
      stoppedBy ??= sig;
      child.kill(sig);
    });
  child = spawn(cmd, args, { stdio });
  let timedOut = false;
  const timer = timeoutMs ? setTimeout(() => {
    timedOut = true;
    process.stderr.write("xsmg: run time limit reached, stopping\n");
    // SIGKILL: nothing in the child to stop gracefully, and QEMU prints a line at SIGTERM.
    child.kill("SIGKILL");
  }, timeoutMs) : undefined;
  child.on("exit", (code, signal) => {
    clearTimeout(timer);
    if (timedOut) process.exit(124);
    const by = signal ?? (code === 0 ? stoppedBy : undefined);
    process.exit(by ? 128 + (os.constants.signals[by] ?? 0) : code);
  });
}
