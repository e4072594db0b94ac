// SPDX-License-Identifier: MIT
// The config store's NVS backend (modules/config/esp32/xm_config_nvs.c),
// compiled for this machine with ASan and UBSan against the virtual board's
// in-RAM NVS (hosts/qemu/nvs_ram.c), which behaves as ESP-IDF documents. It checks the
// type mapping and the calls made, not NVS itself: nothing here ran on a board.
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { ROOT } from "./helpers/sim";

const EXPECTED = `unknown namespace: absent
namespaces after a get: 0
delete in unknown namespace: 1
namespaces after a delete: 0
n0 stored as i32; n0: number 0
n1 stored as u64; n1: number -0
n2 stored as i32; n2: number 1
n3 stored as i32; n3: number -2147483648
n4 stored as i32; n4: number 2147483647
n5 stored as u64; n5: number 2147483648
n6 stored as u64; n6: number 1.5
n7 stored as u64; n7: number nan
n8 stored as u64; n8: number inf
t stored as u8; t: boolean true
s stored as str; s: string 3 [104,195,169] nul
e: string 0 [] nul
b stored as blob; b: bytes 3 [0,1,255]
z: bytes 0 []
s retyped as i32; s: number 7
absent key: absent
delete s: 0
deleted s: absent
delete s again: 1
handles left open: 0
`;

describe("config store on NVS (against an in-memory NVS)", () => {
  let exe: string;
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-nvs-"));
    exe = path.join(dir, "nvs_backend");
    const r = spawnSync("gcc", ["-std=gnu11", "-g", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
      "-fno-sanitize-recover=undefined", `-I${path.join(ROOT, "modules", "config", "c")}`,
      `-I${path.join(ROOT, "hosts", "esp32", "check", "esp_idf_decls")}`, `-I${path.join(ROOT, "hosts", "qemu")}`,
      path.join(ROOT, "test", "config-nvs", "nvs_backend.c"), path.join(ROOT, "hosts", "qemu", "nvs_ram.c"), path.join(ROOT, "modules", "config", "esp32", "xm_config_nvs.c"),
      "-lm", "-o", exe], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`compile failed:\n${r.stderr}`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([
    ["reports another type as not found", {}],
    ["reports another type as a type mismatch", { FAKE_NVS_MISMATCH: "1" }],
  ])("every type maps onto an NVS type and back when NVS %s", (_, env) => {
    const r = spawnSync(exe, [], { encoding: "utf8", env: { ...process.env, ...env } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stdout).toBe(EXPECTED);
  });
});
