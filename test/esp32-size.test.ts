// SPDX-License-Identifier: MIT
// `xsmg size --host esp32`: the demo's components measured from the rv32imc
// cross-build (hosts/esp32/check) and held to hosts/esp32/size-budget.json.
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { CLI, ROOT } from "./helpers/sim";

const COMPONENTS = ["engine", "mongoose", "runtime", "port", "modules", "app"];

function xsmg(args: string[]) {
  const env = { ...process.env };
  delete env.IDF_PATH;
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// component → its flash and RAM columns.
function table(stdout: string) {
  const rows: Record<string, { flash: number; ram: number }> = {};
  for (const [, name, cells] of stdout.matchAll(/^ {2}(\w+)((?:\s+(?:[\d,]+|-)){8})$/gm)) {
    const n = cells.trim().split(/\s+/).map((c) => Number(c.replace(/,/g, "")));
    rows[name] = { flash: n[4], ram: n[6] };
  }
  return rows;
}

describe("xsmg size --host esp32 on the demo", () => {
  let result: ReturnType<typeof xsmg>;

  beforeAll(() => {
    result = xsmg(["size", "--host", "esp32", "--quiet"]);
  }, 600_000);

  test("exits 0, prints every component and a total under 900 KB of flash, and says how it measured", () => {
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    const rows = table(result.stdout);
    expect(Object.keys(rows)).toEqual([...COMPONENTS, "total"]);
    for (const c of COMPONENTS) expect({ [c]: rows[c].flash > 0 }).toEqual({ [c]: true });
    expect(rows.total.flash).toBe(COMPONENTS.reduce((sum, c) => sum + rows[c].flash, 0));
    expect(rows.total.ram).toBe(COMPONENTS.reduce((sum, c) => sum + rows[c].ram, 0));
    expect(rows.total.flash).toBeLessThan(900 * 1024);
    expect(result.stdout).toContain("flash = text + rodata + data");
    expect(result.stdout).toContain("Objects before linking");
  });

  test("a component past its budget fails the check: exit 1, naming it with its size and limit", () => {
    const { flash } = table(result.stdout).mongoose;
    const budget = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-budget-")), "budget.json");
    fs.writeFileSync(budget, JSON.stringify({ components: { mongoose: { flash: flash - 1 } }, total: { flash: 921600 } }));
    const r = xsmg(["size", "--host", "esp32", "--quiet", "--budget", budget]);
    fs.rmSync(path.dirname(budget), { recursive: true, force: true });
    expect(r.code).toBe(1);
    const bytes = (n: number) => n.toLocaleString("en-US");
    expect(r.stderr).toBe(`xsmg size: mongoose: flash ${bytes(flash)} bytes is over its budget of ${bytes(flash - 1)}\n`);
  }, 300_000);

  test("a budget naming an unknown component is refused", () => {
    const budget = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-budget-")), "budget.json");
    fs.writeFileSync(budget, JSON.stringify({ components: { engin: { flash: 1 } } }));
    const r = xsmg(["size", "--host", "esp32", "--quiet", "--budget", budget]);
    fs.rmSync(path.dirname(budget), { recursive: true, force: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown component "engin"');
  });

  test("the simulator has no size check: refused with the usage", () => {
    const r = xsmg(["size", "--host", "linux-sim"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('xsmg size is for esp32, not "linux-sim"');
    expect(r.stderr).toContain("usage: xsmg size");
  });
});
