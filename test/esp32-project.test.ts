// SPDX-License-Identifier: MIT
// `xsmg build --host esp32` on a machine without ESP-IDF: it generates the
// ESP-IDF project, says how to continue, and the project is checked for
// structure (what ESP-IDF would read), since idf.py cannot run here. Every name
// the project takes from ESP-IDF must be one recorded, with the release it was
// read from, in hosts/esp32/idf/esp-idf-names.txt.
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import { pathToFileURL } from "url";
import { CLI, ROOT, makeApp } from "./helpers/sim";

const NAMES = path.join(ROOT, "hosts", "esp32", "idf", "esp-idf-names.txt");
const KEYWORDS = ["SRCS", "INCLUDE_DIRS", "PRIV_INCLUDE_DIRS", "REQUIRES", "PRIV_REQUIRES"];

// ESP-IDF is absent on these machines; a developer's shell may have it set up.
function xsmgWithoutIdf(args: string[], cwd = ROOT) {
  const env = { ...process.env };
  delete env.IDF_PATH;
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function recorded(kind: string) {
  const names = new Map<string, { min?: number; max?: number }>();
  for (const line of fs.readFileSync(NAMES, "utf8").split("\n")) {
    const [k, name, , range] = line.trim().split(/\s+/);
    if (k !== kind) continue;
    const [min, max] = range ? range.split("-").map(Number) : [];
    names.set(name, { min, max });
  }
  return names;
}

// idf_component_register's arguments, keyword by keyword, quotes removed.
function registration(file: string): Record<string, string[]> {
  const text = fs.readFileSync(file, "utf8");
  const m = /idf_component_register\(([^)]*)\)/.exec(text);
  if (!m) throw new Error(`${file} does not call idf_component_register`);
  const args: Record<string, string[]> = {};
  let key = "";
  for (const [, quoted, bare] of m[1].matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    if (bare && KEYWORDS.includes(bare)) args[(key = bare)] = [];
    else args[key].push(quoted ?? bare);
  }
  return args;
}

describe("xsmg build --host esp32 --target esp32c3 without ESP-IDF", () => {
  let app: string;
  let project: string;
  let result: { code: number | null; stdout: string; stderr: string };
  const components = () => [path.join(project, "main"),
    ...fs.readdirSync(path.join(project, "components")).map((c) => path.join(project, "components", c))];

  beforeAll(() => {
    app = makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
      "main.ts": `import { Manager } from "mongoose";\nconst mgr = new Manager(() => {});\nmgr.listen("http://0.0.0.0:80");\n`,
    });
    result = xsmgWithoutIdf(["build", "--host", "esp32", "--target", "esp32c3", "--manifest", path.join(app, "manifest.json")]);
    project = path.join(app, "build", "esp32", "release", "esp32c3");
  }, 300_000);

  test("exits 0 and prints the steps to install ESP-IDF and continue", () => {
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`generated the ESP-IDF project in ${project}`);
    expect(result.stdout).toContain("IDF_PATH is not set");
    expect(result.stdout).toContain("git clone -b v5.5.5 --recursive https://github.com/espressif/esp-idf.git ~/esp/esp-idf");
    expect(result.stdout).toContain("~/esp/esp-idf/install.sh esp32c3");
    expect(result.stdout).toContain(". ~/esp/esp-idf/export.sh");
    const where = `--manifest ${path.join(app, "manifest.json")} --target esp32c3`;
    for (const step of [`xsmg build --host esp32 ${where}`, `xsmg flash ${where}`, `xsmg monitor ${where}`])
      expect(result.stdout).toContain(step);
  });

  test("every source and include folder a component lists exists, and the app image is in the project", () => {
    const generated = new Set(components().map((c) => path.basename(c)));
    expect([...generated].sort()).toEqual(["main", "mongoose", "xs", "xsmg_app", "xsmg_modules", "xsmg_runtime"]);
    const espIdf = recorded("component");
    const missing: string[] = [];
    for (const dir of components()) {
      const file = path.join(dir, "CMakeLists.txt");
      const args = registration(file);
      expect({ [dir]: args.SRCS?.length > 0 }).toEqual({ [dir]: true });
      for (const src of args.SRCS) if (!fs.statSync(path.resolve(dir, src), { throwIfNoEntry: false })?.isFile()) missing.push(`${file}: ${src}`);
      for (const inc of [...(args.INCLUDE_DIRS ?? []), ...(args.PRIV_INCLUDE_DIRS ?? [])])
        if (!fs.statSync(path.resolve(dir, inc), { throwIfNoEntry: false })?.isDirectory()) missing.push(`${file}: ${inc}`);
      for (const c of [...(args.REQUIRES ?? []), ...(args.PRIV_REQUIRES ?? [])])
        if (!generated.has(c) && !espIdf.has(c)) missing.push(`${file}: component ${c}`);
      // Paths outside the registration (a forced include, per-file options) too.
      for (const [, p] of fs.readFileSync(file, "utf8").matchAll(/"(\/[^"]+)"/g)) if (!fs.existsSync(p)) missing.push(`${file}: ${p}`);
    }
    expect(missing).toEqual([]);

    const gen = path.join(app, "build", "esp32", "release", "gen");
    for (const f of ["modules.c", "app_config.c"])
      expect(fs.readFileSync(path.join(project, "components", "xsmg_app", f), "utf8")).toBe(fs.readFileSync(path.join(gen, f), "utf8"));
    expect(fs.readFileSync(path.join(project, "components", "xsmg_app", "modules.c"), "utf8")).toContain('{ "main", ');
    expect(fs.readFileSync(path.join(project, "CMakeLists.txt"), "utf8")).toContain("include($ENV{IDF_PATH}/tools/cmake/project.cmake)");
  });

  test("each component's CMake runs with a stand-in for idf_component_register (hosts/esp32/check/idf-project)", () => {
    const out = fs.mkdtempSync(path.join(app, "idf-check-"));
    const r = spawnSync("cmake", ["-S", path.join(ROOT, "hosts", "esp32", "check", "idf-project"), "-B", out,
      `-DPROJECT_DIR=${project}`, `-DIDF_COMPONENTS=${[...recorded("component").keys()].join(";")}`], { encoding: "utf8" });
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
  }, 60_000);

  test("the app's image compiles for rv32imc with ESP-IDF's warnings as errors (as xsmg size compiles it)", () => {
    const cross = pathToFileURL(path.join(ROOT, "hosts", "esp32", "check", "cross.mjs")).href;
    const out = fs.mkdtempSync(path.join(app, "image-"));
    const r = spawnSync(process.execPath, ["--input-type=module", "-e",
      `import { compileImage } from ${JSON.stringify(cross)}; compileImage(process.argv[1], process.argv[2]);`,
      path.join(project, "components", "xsmg_app"), out], { encoding: "utf8" });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(fs.readdirSync(out).sort()).toEqual(["0-modules.o", "1-app_config.o"]);
  }, 60_000);

  test("every sdkconfig.defaults key is a recorded ESP-IDF option, within its range", () => {
    const options = recorded("config");
    const settings = new Map<string, string>();
    for (const line of fs.readFileSync(path.join(project, "sdkconfig.defaults"), "utf8").split("\n")) {
      if (!line.trim() || line.startsWith("#")) continue;
      const m = /^CONFIG_(\w+)=(.*)$/.exec(line);
      expect({ line, ok: !!m }).toEqual({ line, ok: true });
      settings.set(m![1], m![2]);
    }
    const unknown = [...settings.keys()].filter((k) => !options.has(k));
    expect(unknown).toEqual([]);
    for (const [k, v] of settings) {
      const { min, max } = options.get(k)!;
      if (min !== undefined) expect({ [k]: Number(v) >= min && Number(v) <= max! }).toEqual({ [k]: true });
    }
    expect(settings.get("IDF_TARGET")).toBe('"esp32c3"');
    expect(settings.get("FREERTOS_HZ")).toBe("1000");
    // The sizes xm_host_config.h chooses are the ones ESP-IDF is given.
    const config = fs.readFileSync(path.join(ROOT, "hosts", "esp32", "xm_host_config.h"), "utf8");
    expect(settings.get("LWIP_MAX_SOCKETS")).toBe(/#define XM_HOST_LWIP_MAX_SOCKETS (\d+)/.exec(config)![1]);
  });

  test("the partition table has a factory app partition of at least 2 MiB within 4 MB of flash", () => {
    const table = path.join(project, JSON.parse(/CONFIG_PARTITION_TABLE_CUSTOM_FILENAME=(.*)/.exec(
      fs.readFileSync(path.join(project, "sdkconfig.defaults"), "utf8"))![1]));
    const rows = fs.readFileSync(table, "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"))
      .map((l) => l.split(",").map((f) => f.trim()));
    const factory = rows.find((r) => r[1] === "app" && r[2] === "factory")!;
    expect(factory).toBeDefined();
    const [offset, size] = [Number(factory[3]), Number(factory[4])];
    expect(size).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect(offset + size).toBeLessThanOrEqual(4 * 1024 * 1024);
  });
});

describe("xsmg flash and monitor without ESP-IDF", () => {
  test.each(["flash", "monitor"])("xsmg %s exits 2 and says exactly what to install", (command) => {
    const r = xsmgWithoutIdf([command, "--target", "esp32s3"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`ESP-IDF is not set up here (IDF_PATH is not set), and xsmg ${command} runs its idf.py.`);
    expect(r.stderr).toContain("sudo apt-get install -y git wget flex bison gperf python3 python3-pip python3-venv cmake ninja-build ccache libffi-dev libssl-dev dfu-util libusb-1.0-0");
    expect(r.stderr).toContain("git clone -b v5.5.5 --recursive https://github.com/espressif/esp-idf.git ~/esp/esp-idf");
    expect(r.stderr).toContain("~/esp/esp-idf/install.sh esp32s3");
    expect(r.stderr).toContain(". ~/esp/esp-idf/export.sh");
    expect(r.stderr).toContain(`run xsmg ${command} again`);
  });

  test("flash is for a board: the simulator is refused with the usage", () => {
    const r = xsmgWithoutIdf(["flash", "--host", "linux-sim"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('xsmg flash is for esp32, not "linux-sim"');
  });
});
