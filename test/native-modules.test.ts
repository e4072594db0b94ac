// SPDX-License-Identifier: MIT
// Built-in modules name their C in their manifests (per platform where it
// differs); it goes into the host's cached libraries, the app's own C into each
// firmware, and no host lists module sources.
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import { ROOT, buildApp, makeApp, xsmg } from "./helpers/sim";

interface Builtin { name: string; sources: string[]; thirdParty: string[]; include: string[]; forceInclude: string[] }
interface App { native: string[]; builtins: Builtin[] }

// firmware/manifest.mjs's answer, read in a child (it is an ES module).
function manifest(file: string, host: string): App {
  const script = `import("${path.join(ROOT, "firmware", "manifest.mjs")}").then((m) =>
    console.log(JSON.stringify(m.readManifest(${JSON.stringify(file)}, ${JSON.stringify(host)}))))`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const rel = (files: string[]) => files.map((f) => path.relative(ROOT, f)).sort();

describe("built-in modules' C comes from their manifests", () => {
  const dir = makeApp({
    "manifest.json": JSON.stringify({ modules: { "*": ["./main", "./helper"] } }),
    "main.ts": `console.log("no mongoose, no config");\n`,
    // The app's own C may use a built-in module's headers, configured as its library is.
    "helper.c": `#include "xm_mg.h"\nint app_helper(void);\nint app_helper(void) { return MG_IO_SIZE > 0; }\n`,
  });

  test("config's and instrumentation's C is picked per platform; mongoose brings its third-party source, includes and mg_config.h", () => {
    for (const host of ["linux-sim", "esp32"]) {
      const app = manifest(path.join(dir, "manifest.json"), host);
      expect(app.native).toEqual([path.join(dir, "helper.c")]);
      const byName = Object.fromEntries(app.builtins.map((b) => [b.name, b]));
      expect(Object.keys(byName).sort()).toEqual(["config", "instrumentation", "mongoose"]);
      expect(rel(byName.config.sources)).toEqual(["modules/config/c/xm_config.c",
        host === "esp32" ? "modules/config/esp32/xm_config_nvs.c" : "modules/config/lin/xm_config_file.c"]);
      expect(rel(byName.instrumentation.sources)).toEqual(["modules/instrumentation/c/xm_instrumentation.c",
        host === "esp32" ? "modules/instrumentation/esp32/xm_sockets_lwip.c" : "modules/instrumentation/lin/xm_sockets_proc.c"]);
      const cFiles = (dir: string) => fs.readdirSync(path.join(ROOT, "modules", "mongoose", dir)).filter((f) => f.endsWith(".c")).length;
      expect(byName.mongoose.sources.length).toBe(cFiles("c") + cFiles("c/core"));
      expect(rel(byName.mongoose.thirdParty)).toEqual(["deps/mongoose/mongoose.c"]);
      expect(rel(byName.mongoose.forceInclude)).toEqual(["modules/mongoose/c/mg_config.h"]);
      expect(rel(byName.mongoose.include)).toEqual(["deps/mongoose", "modules/mongoose/c", "modules/mongoose/c/core", "modules/mongoose/gen"]);
    }
  });

  test("a firmware that imports none of the modules links none of their C; the app's C is compiled into it", () => {
    const exe = buildApp(dir);
    const symbols = spawnSync("nm", [exe], { encoding: "utf8" }).stdout;
    expect(symbols).toMatch(/ T app_helper$/m);
    expect(symbols).not.toMatch(/ T (mg_|xm_mg_|xm_am_|xm_config_|xm_instrumentation_)/m);
  });

  test("the esp32 project gets the modules' C in xsmg_modules and only the app's own C in xsmg_app", () => {
    const out = path.join(dir, "out-esp32");
    const env = { ...process.env };
    delete env.IDF_PATH;
    const r = spawnSync(process.execPath, [path.join(ROOT, "firmware", "cli.mjs"), "build", "--host", "esp32", "--quiet",
      "--manifest", path.join(dir, "manifest.json"), "--out", out], { env, encoding: "utf8" });
    expect(r.status).toBe(0);
    const component = (name: string) => fs.readFileSync(path.join(out, "esp32", "components", name, "CMakeLists.txt"), "utf8");
    expect(component("xsmg_modules")).toContain(path.join(ROOT, "modules", "config", "esp32", "xm_config_nvs.c"));
    expect(component("xsmg_modules")).toContain(path.join(ROOT, "modules", "mongoose", "c", "xm_mg_http.c"));
    expect(component("xsmg_app")).toContain(path.join(dir, "helper.c"));
    expect(component("xsmg_app")).not.toContain(path.join(ROOT, "modules"));
    expect(component("mongoose")).toContain(path.join(ROOT, "deps", "mongoose", "mongoose.c"));
  });

  test("an app's manifest cannot use the built-in modules' native key", () => {
    const bad = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] }, native: { include: ["."] } }),
      "main.ts": `console.log(1);\n`,
    });
    const r = xsmg(["build", "--quiet", "--manifest", path.join(bad, "manifest.json"), "--out", path.join(bad, "out")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("native is for built-in modules");
  });
});
