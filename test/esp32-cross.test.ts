// SPDX-License-Identifier: MIT
// The esp32 host, checked the only way these machines allow: cross-compiled for
// ESP32-C3's ISA (rv32imc, -Os) against the real FreeRTOS-Kernel and lwIP
// headers, our own files with -Wall -Wextra -Werror (hosts/esp32/check/run.mjs).
// No ESP-IDF, no link, no board.
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import { ROOT } from "./helpers/sim";

const COMPONENTS = ["xs_engine", "mongoose", "xm_runtime", "xm_mongoose", "xm_host"];
type Sizes = Record<string, { text: number; rodata: number; data: number; bss: number }>;

describe("hosts/esp32 cross-build for rv32imc", () => {
  let sizes: Sizes;

  beforeAll(() => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "hosts", "esp32", "check", "run.mjs"), "--json"], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`cross-build failed (${r.status}):\n${r.stderr}${r.stdout}`);
    sizes = JSON.parse(r.stdout).sizes;
  }, 600_000);

  test("the engine, mongoose, the runtime, the binding and the port all compile", () => {
    for (const c of COMPONENTS) expect({ [c]: sizes[c].text > 0 }).toEqual({ [c]: true });
  });

  test("the port defines every function of runtime/port.h, app_main and mongoose's custom clock and random", () => {
    const header = fs.readFileSync(path.join(ROOT, "runtime", "port.h"), "utf8");
    const wanted = [...header.matchAll(/^[A-Za-z_][\w\s*]*?\b(port_\w+)\(/gm)].map((m) => m[1]);
    expect(wanted.length).toBeGreaterThanOrEqual(12);
    const nm = spawnSync("riscv64-unknown-elf-nm", ["-g", "--defined-only", path.join(ROOT, "build", "esp32-check", "libxm_host.a")], {
      encoding: "utf8",
    });
    expect(nm.status).toBe(0);
    const defined = new Set(nm.stdout.split("\n").map((l) => l.trim().split(/\s+/)[2]).filter(Boolean));
    const missing = [...wanted, "app_main", "mg_millis", "mg_random"].filter((f) => !defined.has(f));
    expect(missing).toEqual([]);
  });

  test("the port contract suite compiles for rv32imc, and the port defines every port_ function it calls (compiled, not run)", () => {
    const nm = (lib: string, flag: string) => {
      const r = spawnSync("riscv64-unknown-elf-nm", [flag, path.join(ROOT, "build", "esp32-check", lib)], { encoding: "utf8" });
      expect(r.status).toBe(0);
      // Symbol lines only, not the "member.obj:" headers.
      return new Set(r.stdout.split("\n").filter((l) => /^\s*[0-9a-f]*\s+[A-Za-z]\s+\w+$/.test(l)).map((l) => l.trim().split(/\s+/).pop()!));
    };
    expect(nm("libxm_port_contract.a", "--defined-only").has("port_contract_tests")).toBe(true);
    const ports = [...nm("libxm_port_contract.a", "-u")].filter((s) => s.startsWith("port_"));
    expect(ports.length).toBeGreaterThanOrEqual(9);
    const host = nm("libxm_host.a", "--defined-only");
    expect(ports.filter((s) => !host.has(s))).toEqual([]);
  });
});
