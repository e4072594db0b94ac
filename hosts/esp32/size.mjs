// SPDX-License-Identifier: MIT
// `xsmg size --host esp32`: flash and static RAM per firmware component, from the
// rv32imc cross-build (check/cross.mjs) and the app's image compiled the same
// way, checked against a budget file (size-budget.json beside this file unless
// --budget names another).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BuildError } from "../../firmware/shell.mjs";
import { LIBRARIES, crossBuild, compileImage, library, sectionSizes } from "./check/cross.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BUDGET = path.join(HERE, "size-budget.json");

// The cross-build's libraries per component; "app" is the image, compiled apart.
const COMPONENTS = {
  engine: ["xs_engine"],
  mongoose: ["mongoose"],
  runtime: ["xm_runtime"],
  // port_freertos.c, app_main, Wi-Fi and mongoose's clock and random.
  port: ["xm_host"],
  // Every built-in module's C, whether or not the app imports the module.
  modules: ["xm_mongoose", "xm_config"],
  app: [],
};

function readBudget(file) {
  let budget;
  try {
    budget = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new BuildError(`budget ${file}: ${e.message}`);
  }
  const limit = (where, v) => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new BuildError(`budget ${file}: ${where} must be a whole number of bytes, got ${JSON.stringify(v)}`);
  };
  for (const [name, l] of Object.entries(budget.components ?? {})) {
    if (!COMPONENTS[name]) throw new BuildError(`budget ${file}: unknown component "${name}" (known: ${Object.keys(COMPONENTS).join(", ")})`);
    limit(`components.${name}.flash`, l.flash);
    limit(`components.${name}.ram`, l.ram);
  }
  limit("total.flash", budget.total?.flash);
  limit("total.ram", budget.total?.ram);
  return budget;
}

const bytes = (n) => (n === undefined ? "-" : n.toLocaleString("en-US"));

/**
 * Prints the table to stdout; returns one line per component (or the total) over
 * its budget, empty when everything fits.
 */
export function size({ build, out, budget = BUDGET, log = () => {} }) {
  // A library added to the check must not fall silently out of the total.
  const unlisted = LIBRARIES.filter((l) => !Object.values(COMPONENTS).flat().includes(l));
  if (unlisted.length) throw new BuildError(`hosts/esp32/size.mjs: no component holds ${unlisted.join(", ")}`);
  budget = path.resolve(budget);
  const limits = readBudget(budget);
  build();
  const { seconds } = crossBuild();
  log(`xsmg: cross-build for rv32imc up to date in ${seconds.toFixed(1)} s`);
  const image = compileImage(path.join(out, "gen"), path.join(out, "size"));

  const rows = Object.entries(COMPONENTS).map(([name, libs]) => {
    const s = sectionSizes(...(name === "app" ? image : libs.map(library)));
    return { name, ...s, flash: s.text + s.rodata + s.data, ram: s.data + s.bss, limit: limits.components?.[name] ?? {} };
  });
  const total = { name: "total", limit: limits.total ?? {} };
  for (const k of ["text", "rodata", "data", "bss", "flash", "ram"]) total[k] = rows.reduce((sum, r) => sum + r[k], 0);

  const heads = ["text", "rodata", "data", "bss", "flash", "limit", "RAM", "limit"];
  console.log(`xsmg size: esp32 firmware in bytes, compiled for rv32imc (ESP32-C3, -Os); budget ${path.relative(process.cwd(), budget) || budget}`);
  console.log(`  ${"component".padEnd(10)}${heads.map((h) => h.padStart(10)).join("")}`);
  for (const r of [...rows, total]) {
    const cells = [r.text, r.rodata, r.data, r.bss, r.flash, r.limit.flash, r.ram, r.limit.ram];
    console.log(`  ${r.name.padEnd(10)}${cells.map((n) => bytes(n).padStart(10)).join("")}`);
  }
  console.log([
    "  flash = text + rodata + data (data's initial values are stored in flash and copied to RAM at boot);",
    "  RAM = data + bss (static only: no heap, no task stacks).",
    "  Objects before linking (nothing links here without ESP-IDF): a link drops unused sections, so these",
    "  are upper bounds, and the total is their sum. ESP-IDF's own code (C library, FreeRTOS, lwIP, Wi-Fi,",
    "  drivers) is not counted.",
  ].join("\n"));

  const over = [];
  for (const r of [...rows, total])
    for (const [key, what] of [["flash", "flash"], ["ram", "RAM"]])
      if (r.limit[key] !== undefined && r[key] > r.limit[key])
        over.push(`${r.name}: ${what} ${bytes(r[key])} bytes is over its budget of ${bytes(r.limit[key])}`);
  return over;
}
