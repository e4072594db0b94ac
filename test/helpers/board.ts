// SPDX-License-Identifier: MIT
// Booting an app on the virtual board (hosts/qemu) from a test: `xsmg run --host
// qemu` with the test's --forward/--reach options and a --timeout, so that a hung
// board fails its test instead of blocking the suite.
import path from "path";
import { CLI, makeApp, start, type Files, type Running } from "./sim";

// A profile whose XS heap grows (by 4,096 slots and 64 KiB of chunks at a
// time), for the tests of an app running the board's RAM out through XS's own
// growth; the others run in the esp32 profile, fixed, as a device does.
export const GROWING_CREATION = {
  chunk: { initial: 262144, incremental: 65536 },
  heap: { initial: 16384, incremental: 4096 },
  stack: 1024,
  keys: { initial: 1024, incremental: 128, name: 127, symbol: 61 },
  parser: { buffer: 1024, table: 17 },
};

/** A one-module app (main.ts) in a fresh folder; returns its manifest's path. */
export function boardApp(source: string, creation: object | string = "esp32", extra: Files = {}): string {
  const dir = makeApp({ "manifest.json": JSON.stringify({ creation, modules: { "*": ["./main"] } }), "main.ts": source, ...extra });
  return path.join(dir, "manifest.json");
}

/**
 * Builds and boots manifest on the board. The board stops itself after
 * timeoutS (exit 124); the test's own kill comes 10 s later, for a build that hangs.
 */
export function bootBoard(manifest: string, options: string[], timeoutS = 45, out = path.join(path.dirname(manifest), "out")): Running {
  return start(process.execPath, [CLI, "run", "--host", "qemu", "--quiet", "--timeout", String(timeoutS),
    "--manifest", manifest, "--out", out, ...options], (timeoutS + 10) * 1000);
}
