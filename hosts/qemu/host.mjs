// SPDX-License-Identifier: MIT
// The virtual board (in progress): hosts/esp32's port on FreeRTOS in QEMU's
// RISC-V virt machine, standing in for an ESP32-C3. See board.c.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DepsError, fetchDeps, fetchEsp32Deps } from "../../firmware/deps.mjs";
import { ensure } from "../../firmware/requirements.mjs";
import { BuildError, cacheRoot, cmakeCache, sh } from "../../firmware/shell.mjs";
import { compileImage } from "../esp32/check/cross.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOOLCHAIN = path.join(HERE, "..", "esp32", "check", "rv32imc.cmake");

export const variants = ["release"];
export const targets = [];

// The device's memory map in QEMU's RAM (virt has no flash that -kernel loads
// into): a 4 MiB "flash" region for code and constants from 0x80000000, then the
// RAM budget. The C library's heap is what the budget leaves after data, bss
// (the kernel's heap among it) and the startup stack.
const FLASH = 0x80000000;
const FLASH_SIZE = 4 * 1024 * 1024;
export const RAM_DEFAULT_KB = 2048;

export function libraries() {
  const problem = ensure(["qemu"]);
  if (problem) throw new BuildError(problem);
  try {
    fetchDeps();
    fetchEsp32Deps();
  } catch (e) {
    throw e instanceof DepsError ? new BuildError(e.message) : e;
  }
  return cmakeCache(HERE, path.join(cacheRoot(), "qemu-release"), [`-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}`, "-DCMAKE_BUILD_TYPE=Release"],
    "the engine, runtime, FreeRTOS and the board for rv32imc");
}

/** Links the image in out/gen with the libraries into out/firmware-<ram>k.elf. */
export function link({ out, libs, ramKb = RAM_DEFAULT_KB }) {
  const objects = compileImage(path.join(out, "gen"), path.join(out, "image"));
  const archives = fs.readdirSync(libs).filter((f) => f.endsWith(".a")).map((f) => path.join(libs, f));
  const elf = path.join(out, `firmware-${ramKb}k.elf`);
  sh("riscv64-unknown-elf-gcc", ["-march=rv32imc", "-mabi=ilp32", "--specs=picolibc.specs", "--crt0=hosted", "--oslib=semihost",
    "-Wl,--gc-sections", "-Wl,--wrap=port_fatal",
    `-Wl,--defsym=__flash=${FLASH},--defsym=__flash_size=${FLASH_SIZE}`,
    `-Wl,--defsym=__ram=${FLASH + FLASH_SIZE},--defsym=__ram_size=${ramKb * 1024},--defsym=__stack_size=4096`,
    "-o", elf, ...objects, "-Wl,--start-group", ...archives, "-Wl,--end-group"], `linking the firmware for ${ramKb} KiB of RAM`);
  return elf;
}

export function firmware({ out, libs }) {
  return { path: link({ out, libs }) };
}
