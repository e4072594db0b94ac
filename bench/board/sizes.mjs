// SPDX-License-Identifier: MIT
// What a board ELF takes, read from its symbols and sections: flash (text with
// rodata, and data's initial values, which the startup copies to RAM) and the
// RAM no heap can use (data, bss, the startup stack).
import { execFileSync } from "node:child_process";

const run = (cmd, args) => execFileSync(cmd, args, { encoding: "utf8" });

export function boardSizes(elf) {
  const [, berkeley] = run("riscv64-unknown-elf-size", ["-B", "-d", elf]).trim().split("\n");
  const [text, data] = berkeley.trim().split(/\s+/).map(Number);
  // picolibc's linker script: the C heap runs from __heap_start to __heap_end in a RAM of __ram_size.
  const symbols = {};
  for (const line of run("riscv64-unknown-elf-nm", ["-S", elf]).split("\n")) {
    const f = line.trim().split(/\s+/);
    symbols[f[f.length - 1]] = f;
  }
  const value = (name) => {
    if (!symbols[name]) throw new Error(`${elf} has no symbol ${name}`);
    return parseInt(symbols[name][0], 16);
  };
  return { text, data, staticRam: value("__ram_size") - (value("__heap_end") - value("__heap_start")) };
}
