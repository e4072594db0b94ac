// SPDX-License-Identifier: MIT
// Builds small apps with the real toolchain (xsmg) and runs them in the simulator.
import { ChildProcess, spawn, spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const CLI = path.join(ROOT, "firmware", "cli.mjs");

export type Files = Record<string, string>;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// App folders live in the system's temp folder; they are removed when the test
// file ends unless XSMG_KEEP_APPS is set (to inspect a failing build).
const apps: string[] = [];
if (typeof afterAll === "function")
  afterAll(() => {
    if (!process.env.XSMG_KEEP_APPS) for (const dir of apps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

/** Writes files into a fresh folder (outside the repo) and returns its path. */
export function makeApp(files: Files): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-app-"));
  apps.push(dir);
  writeFiles(dir, files);
  return dir;
}

/** Writes (or rewrites) files in an app folder. */
export function writeFiles(dir: string, files: Files): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

/** Runs the xsmg CLI synchronously (with extra environment variables, e.g. XSMG_PRELOAD). */
export function xsmg(args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The variant every test firmware is built as, unless a test asks for one:
 * XSMG_TEST_VARIANT=sanitize (ASan+UBSan) or tsan (ThreadSanitizer) runs the whole
 * suite under a sanitizer.
 */
export const TEST_VARIANT = process.env.XSMG_TEST_VARIANT || "debug";

/** Builds an app and returns the firmware executable; throws with the build output on failure. */
export function buildApp(dir: string, variant = TEST_VARIANT, env: NodeJS.ProcessEnv = {}): string {
  const r = xsmg(["build", "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"), "--variant", variant, "--quiet"], env);
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return path.join(dir, "out", "firmware");
}

/** A running process with its output collected as it comes. */
export interface Running {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first complete line of stdout (rejects if the process ends first). */
  firstLine: Promise<string>;
  /** Resolves when the process has exited and its output is closed. */
  done: Promise<RunResult>;
}

/**
 * Starts a process with piped output, in a process group of its own (signal the
 * group with process.kill(-pid)); the group gets SIGKILL after timeoutMs, so that
 * nothing it started (xsmg run's firmware) outlives the test.
 */
export function start(cmd: string, args: string[] = [], timeoutMs = 30000): Running {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  const out = { stdout: "", stderr: "" };
  let gotLine: (line: string) => void = () => {};
  let noLine: (e: Error) => void = () => {};
  const firstLine = new Promise<string>((resolve, reject) => ((gotLine = resolve), (noLine = reject)));
  firstLine.catch(() => {});  // only an error for callers that wait for it
  child.stdout!.on("data", (d) => {
    out.stdout += d;
    if (out.stdout.includes("\n")) gotLine(out.stdout.slice(0, out.stdout.indexOf("\n")));
  });
  child.stderr!.on("data", (d) => (out.stderr += d));
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  const done = new Promise<RunResult>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      noLine(new Error(`exited (${code ?? signal}) before printing a line; stderr: ${out.stderr}`));
      resolve({ code, signal, ...out });
    }),
  );
  return {
    child,
    get stdout() { return out.stdout; },
    get stderr() { return out.stderr; },
    firstLine,
    done,
  };
}

/** Runs a firmware executable to completion (or until timeoutMs, then SIGKILL). */
export function runFirmware(exe: string, args: string[] = [], timeoutMs = 30000): Promise<RunResult> {
  return start(exe, args, timeoutMs).done;
}

/** A one-module app: main.ts with the given source, optional creation profile. */
export function mainApp(source: string, extra: Files = {}, creation?: string): string {
  const manifest = { ...(creation ? { creation } : {}), modules: { "*": ["./main"] } };
  return makeApp({ "manifest.json": JSON.stringify(manifest), "main.ts": source, ...extra });
}

/** Builds and runs a one-module app. */
export async function runMain(
  source: string,
  opts: { creation?: string; args?: string[]; extra?: Files; variant?: string } = {},
): Promise<RunResult> {
  const exe = buildApp(mainApp(source, opts.extra ?? {}, opts.creation), opts.variant);
  return runFirmware(exe, opts.args ?? []);
}

/** The non-empty lines of a firmware's output. */
export function lines(output: string): string[] {
  return output.split("\n").filter(Boolean);
}
