// SPDX-License-Identifier: MIT
// Builds small apps with the real toolchain (xsmg) and runs them in the simulator.
import { spawn, spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "firmware", "cli.mjs");

export type Files = Record<string, string>;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Writes files into a fresh folder (outside the repo) and returns its path. */
export function makeApp(files: Files): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-app-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Runs the xsmg CLI synchronously. */
export function xsmg(args: string[]): RunResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Builds an app and returns the firmware executable; throws with the build output on failure. */
export function buildApp(dir: string, variant = "debug"): string {
  const r = xsmg(["build", "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"), "--variant", variant, "--quiet"]);
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return path.join(dir, "out", "firmware");
}

/** Runs a firmware executable to completion (or until timeoutMs, then SIGKILL). */
export function runFirmware(exe: string, args: string[] = [], timeoutMs = 30000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(exe, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A one-module app: main.ts with the given source, optional creation profile. */
export function mainApp(source: string, extra: Files = {}, creation?: string): string {
  const manifest = { ...(creation ? { creation } : {}), modules: { "*": ["./main"] } };
  return makeApp({ "manifest.json": JSON.stringify(manifest), "main.ts": source, ...extra });
}

/** Builds and runs a one-module app. */
export async function runMain(source: string, opts: { creation?: string; args?: string[]; extra?: Files } = {}): Promise<RunResult> {
  const exe = buildApp(mainApp(source, opts.extra ?? {}, opts.creation));
  return runFirmware(exe, opts.args ?? []);
}
