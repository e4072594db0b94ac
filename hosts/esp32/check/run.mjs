#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The esp32 host's cross-build check (CMakeLists.txt beside this file, driven by
// cross.mjs): fetches FreeRTOS-Kernel and lwIP when deps/ lacks them, compiles
// the engine, runtime, mongoose and the port for rv32imc into build/esp32-check
// (kept: a second run recompiles only what changed), and prints each library's
// size. `xsmg size --host esp32` reads the same build per firmware component.
//   node hosts/esp32/check/run.mjs [--json]
// Exit 0 when everything compiled; 1 with the compiler's output otherwise.
import path from "node:path";
import { BuildError } from "../../../firmware/shell.mjs";
import { LIBRARIES, OUT, crossBuild, library, sectionSizes } from "./cross.mjs";

let built;
try {
  built = crossBuild();
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  console.error(`esp32 check: ${e.message}`);
  process.exit(1);
}
const { seconds, fetched } = built;
const table = Object.fromEntries(LIBRARIES.map((c) => [c, sectionSizes(library(c))]));
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ seconds, fetched, sizes: table }));
} else {
  console.log(`esp32 check: compiled for rv32imc (-Os) in ${seconds.toFixed(1)} s into ${path.relative(process.cwd(), OUT) || "."}` +
    (fetched.length ? ` (fetched ${fetched.join(" and ")} first)` : ""));
  console.log(`  ${"bytes".padEnd(12)}${["text", "rodata", "data", "bss", "total"].map((h) => h.padStart(9)).join("")}`);
  for (const [name, s] of Object.entries(table)) {
    const cells = [s.text, s.rodata, s.data, s.bss, s.text + s.rodata + s.data + s.bss];
    console.log(`  ${name.padEnd(12)}${cells.map((n) => String(n).padStart(9)).join("")}`);
  }
  console.log("  (objects before linking: unused sections not yet dropped)");
}
