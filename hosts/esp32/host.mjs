// SPDX-License-Identifier: MIT
// The esp32 host's recipe for firmware/build.mjs. Its firmware is an ESP-IDF
// project, generated from the templates in idf/ into OUT/<target>: one component
// each for the XS engine, mongoose, the runtime with this port, the built-in
// native modules and the app's image, and main (app_main). ESP-IDF builds the
// libraries itself, with its own compiler and flags, so nothing is cached here.
// `idf.py` builds, flashes and monitors when ESP-IDF is set up (IDF_PATH);
// without it the project is generated and the steps to continue are printed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "../../firmware/manifest.mjs";
import { cmakeString } from "../../firmware/native.mjs";
import { BuildError, writeIfChanged } from "../../firmware/shell.mjs";

export { size } from "./size.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TEMPLATES = path.join(HERE, "idf");
// The ESP-IDF release whose names idf/esp-idf-names.txt records.
const IDF_TAG = "v5.5.5";

// Only release: what the rv32imc cross-build check compiles (hosts/esp32/check).
export const variants = ["release"];
export const targets = ["esp32", "esp32s3", "esp32c3"];

export function libraries() {
  return "built by ESP-IDF with the project";
}

function fill(template, values) {
  return fs.readFileSync(path.join(TEMPLATES, template), "utf8").replace(/@(\w+)@/g, (_, key) => {
    if (values[key] === undefined) throw new BuildError(`hosts/esp32/idf/${template}: nothing to put in @${key}@`);
    return values[key];
  });
}

// The engine's sources are listed once, in the CMake file every other build reads.
function xsSources() {
  const file = path.join(ROOT, "firmware", "cmake", "xs_sources.cmake");
  const m = /set\(XS_RUN_SOURCES\s([^)]*)\)/.exec(fs.readFileSync(file, "utf8"));
  if (!m) throw new BuildError(`${file} no longer sets XS_RUN_SOURCES`);
  return m[1].trim().split(/\s+/).map((f) => path.join(ROOT, "deps", "xs", "sources", f));
}

function runtimeSources() {
  const file = path.join(ROOT, "runtime", "runtime.cmake");
  return [...fs.readFileSync(file, "utf8").matchAll(/\$\{CMAKE_CURRENT_LIST_DIR\}\/(\w+\.c)/g)].map((m) => path.join(ROOT, "runtime", m[1]));
}

// lwIP's sizes are chosen, with their reasons, in xm_host_config.h; sdkconfig
// is where ESP-IDF takes them from.
function lwipSizes() {
  const file = path.join(HERE, "xm_host_config.h");
  const text = fs.readFileSync(file, "utf8");
  const sizes = {};
  for (const name of ["XM_HOST_LWIP_MAX_SOCKETS", "XM_HOST_LWIP_UDP_RECVMBOX", "XM_HOST_LWIP_TCP_RECVMBOX", "XM_HOST_LWIP_TCPIP_MBOX"]) {
    const m = new RegExp(`^#define ${name} (\\d+)\\s*$`, "m").exec(text);
    if (!m) throw new BuildError(`${file} does not define ${name} as a number, which sdkconfig.defaults needs`);
    sizes[name] = m[1];
  }
  // A manager's wakeup pair (2), a listener and a resolver's socket (1 each).
  sizes.CONNECTIONS = String(Number(sizes.XM_HOST_LWIP_MAX_SOCKETS) - 4);
  return sizes;
}

// This port's part of a built-in module's third-party code, by module.
const PORTS = {
  mongoose: {
    why: "over lwIP's BSD sockets, configured by hosts/esp32/mongoose_config.h",
    srcs: [path.join(HERE, "mg_arch.c")],
    include: [HERE],
    requires: ["lwip"],
    privRequires: ["xsmg_runtime", "esp_hw_support"],
  },
};

function components(app, gen) {
  const host = (f) => path.join(HERE, f);
  const xs = path.join(ROOT, "deps", "xs");
  const defines = Object.entries(app.defines).map(([k, v]) => cmakeString(`${k}=${typeof v === "string" ? JSON.stringify(v) : Number(v)}`));
  return {
    xs: {
      why: "The XS engine (deps/xs) without its parser, on our platform header; the runtime supplies its hooks.",
      srcs: xsSources(),
      include: [path.join(xs, "includes"), path.join(xs, "sources"), path.join(xs, "platforms"), path.join(ROOT, "runtime")],
      privRequires: ["xsmg_runtime"],
      // The release variant's engine settings (firmware/cmake/variant.cmake).
      extra: [`target_compile_definitions(\${COMPONENT_LIB} PUBLIC mxRun=1 INCLUDE_XSPLATFORM=1 ${cmakeString('XSPLATFORM="xm_platform.h"')} mxBoundsCheck=1)`,
        "# Third-party code: its warnings are not ours to fix.",
        "target_compile_options(${COMPONENT_LIB} PRIVATE -w)"],
    },
    xsmg_runtime: {
      why: "The portable runtime (runtime/) and its FreeRTOS port (hosts/esp32/port_freertos.c).",
      srcs: [...runtimeSources(), host("port_freertos.c")],
      include: [path.join(ROOT, "runtime")],
      privInclude: [HERE],
      requires: ["xs"],
      privRequires: ["xsmg_app", "freertos", "esp_timer", "esp_system"],
    },
    // The third-party C a built-in module wraps (mongoose), with this port's part of it.
    ...Object.fromEntries(app.builtins.filter((b) => b.thirdParty.length).map((b) => {
      const port = PORTS[b.name] ?? {};
      return [b.name, {
        why: `${b.name}'s third-party C, as ${path.relative(ROOT, b.manifest)} names it${port.why ? `, ${port.why}` : ""}.`,
        srcs: [...b.thirdParty, ...(port.srcs ?? [])],
        include: [...b.include, ...(port.include ?? [])],
        requires: port.requires,
        privRequires: port.privRequires,
        extra: [...b.forceInclude.flatMap((f) => [`# Every file using ${b.name} must agree on ${path.basename(f)}.`,
          `target_compile_options(\${COMPONENT_LIB} PUBLIC -include ${cmakeString(f)})`]),
        ...b.thirdParty.map((f) => `set_source_files_properties(${cmakeString(f)} PROPERTIES COMPILE_OPTIONS -w)`)],
      }];
    })),
    xsmg_modules: {
      why: `The built-in modules' native code, as their manifests name it for esp32: ${app.builtins.filter((b) => b.sources.length).map((b) => path.relative(ROOT, path.dirname(b.manifest))).join(", ")}.`,
      srcs: app.builtins.flatMap((b) => b.sources),
      include: [...new Set(app.builtins.filter((b) => !b.thirdParty.length).flatMap((b) => b.include))],
      // nvs_flash: the config store's backend (modules/config/esp32).
      requires: [...app.builtins.filter((b) => b.thirdParty.length).map((b) => b.name), "xsmg_runtime", "nvs_flash"],
    },
    xsmg_app: {
      why: `The app's image from ${app.file}: its modules as XS bytecode (modules.c), its creation profile (app_config.c) and its native C.`,
      srcs: ["modules.c", "app_config.c", ...app.native],
      copy: [path.join(gen, "modules.c"), path.join(gen, "app_config.c")],
      // Only the app's own C: the built-in modules' is in xsmg_modules.
      requires: ["xsmg_runtime", "xsmg_modules", "mongoose"],
      extra: [...(defines.length ? [`target_compile_definitions(\${COMPONENT_LIB} PRIVATE ${defines.join(" ")})`] : []),
        "# The runtime reads the image and the image calls the runtime and the modules:",
        "# a cycle among static libraries, which the linker needs to see more than twice.",
        "set_property(TARGET ${COMPONENT_LIB} APPEND PROPERTY LINK_INTERFACE_MULTIPLICITY 3)"],
    },
    main: {
      why: "app_main (hosts/esp32/main.c): NVS, the network (net.h, here Wi-Fi: wifi.c), then the XS task once an address is up.",
      srcs: [host("main.c"), host("wifi.c")],
      // ESP-IDF reads a component's Kconfig.projbuild from its own folder.
      copy: [host("Kconfig.projbuild")],
      privInclude: [HERE],
      privRequires: ["xsmg_runtime", "nvs_flash", "freertos", "esp_wifi", "esp_netif", "esp_event", "esp_timer"],
    },
  };
}

function componentText(c) {
  const lists = { SRCS: c.srcs, INCLUDE_DIRS: c.include, PRIV_INCLUDE_DIRS: c.privInclude };
  const args = Object.entries(lists).filter(([, paths]) => paths?.length)
    .map(([key, paths]) => [`  ${key}`, ...paths.map((p) => `    ${cmakeString(p)}`)].join("\n"));
  if (c.requires) args.push(`  REQUIRES ${c.requires.join(" ")}`);
  if (c.privRequires) args.push(`  PRIV_REQUIRES ${c.privRequires.join(" ")}`);
  return fill("component.cmake", { WHY: c.why, ARGS: args.join("\n"), EXTRA: (c.extra ?? []).join("\n") });
}

function generate(app, gen, project, target) {
  writeIfChanged(path.join(project, "CMakeLists.txt"), fill("CMakeLists.txt", { APP: app.file, ROOT, PROJECT: "firmware" }));
  // ESP-IDF reads the defaults only when it writes sdkconfig: new defaults (an
  // lwIP size changed in xm_host_config.h) must not be shadowed by an old sdkconfig.
  if (writeIfChanged(path.join(project, "sdkconfig.defaults"), fill("sdkconfig.defaults", { TARGET: target, ...lwipSizes() })))
    fs.rmSync(path.join(project, "sdkconfig"), { force: true });
  writeIfChanged(path.join(project, "partitions.csv"), fill("partitions.csv", {}));
  const all = components(app, gen);
  for (const [name, c] of Object.entries(all)) {
    const dir = name === "main" ? path.join(project, "main") : path.join(project, "components", name);
    writeIfChanged(path.join(dir, "CMakeLists.txt"), componentText(c));
    for (const f of c.copy ?? []) writeIfChanged(path.join(dir, path.basename(f)), fs.readFileSync(f, "utf8"));
  }
  // A component dropped from the list must not linger in the build.
  for (const name of fs.readdirSync(path.join(project, "components")))
    if (!all[name]) fs.rmSync(path.join(project, "components", name), { recursive: true, force: true });
}

function setupSteps(target) {
  return [
    `Install ESP-IDF 5.x once (Debian or Ubuntu; about 2 GB; ${IDF_TAG} is the release this project's settings were checked against):`,
    "  sudo apt-get install -y git wget flex bison gperf python3 python3-pip python3-venv cmake ninja-build ccache libffi-dev libssl-dev dfu-util libusb-1.0-0",
    `  git clone -b ${IDF_TAG} --recursive https://github.com/espressif/esp-idf.git ~/esp/esp-idf`,
    `  ~/esp/esp-idf/install.sh ${target}`,
    "then, in every new shell:",
    "  . ~/esp/esp-idf/export.sh",
  ].join("\n");
}

// Runs idf.py in the project. Its output goes to stderr (to nowhere with --quiet,
// unless it fails), so that stdout keeps only xsmg's own result.
function idf(project, args, { quiet = false, interactive = false } = {}) {
  const r = spawnSync("idf.py", ["-C", project, ...args], interactive ? { stdio: "inherit" }
    : { stdio: ["ignore", quiet ? "pipe" : 2, quiet ? "pipe" : 2], encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.error?.code === "ENOENT")
    throw new BuildError(`IDF_PATH is set (${process.env.IDF_PATH}) but idf.py is not on PATH: run \`. ${process.env.IDF_PATH}/export.sh\` in this shell first`);
  if (r.status !== 0)
    throw new BuildError(`idf.py ${args.join(" ")} failed in ${project} (exit ${r.status})${quiet ? `:\n${`${r.stdout}${r.stderr}`.trim()}` : ""}`);
}

function requireIdf(command, target) {
  if (!process.env.IDF_PATH)
    throw new BuildError(`ESP-IDF is not set up here (IDF_PATH is not set), and xsmg ${command} runs its idf.py.\n${setupSteps(target)}\nand run xsmg ${command} again.`);
}

export function firmware({ app, out, gen, target = targets[0] }) {
  const project = path.join(out, target);
  fs.mkdirSync(path.join(project, "components"), { recursive: true });
  generate(app, gen, project, target);
  if (process.env.IDF_PATH) {
    idf(project, ["build"]);
    return { path: project };
  }
  const defaultOut = path.join(app.dir, "build", "esp32", variants[0]);
  const where = `--manifest ${app.file}${out === defaultOut ? "" : ` --out ${out}`} --target ${target}`;
  return {
    path: project,
    next: [
      `xsmg: generated the ESP-IDF project in ${project}; ESP-IDF is not set up here (IDF_PATH is not set), so it was not built.`,
      setupSteps(target),
      "and continue with:",
      `  xsmg build --host esp32 ${where}     (generates the project again and runs idf.py build)`,
      `  xsmg flash ${where} --port /dev/ttyUSB0`,
      `  xsmg monitor ${where} --port /dev/ttyUSB0     (Ctrl-] quits)`,
    ].join("\n"),
  };
}

export function flash({ build, target = targets[0], port, quiet }) {
  requireIdf("flash", target);
  const { path: project } = build();
  idf(project, [...(port ? ["-p", port] : []), "flash"], { quiet });
}

export function monitor({ out, target = targets[0], port }) {
  if (!targets.includes(target)) throw new BuildError(`unknown target "${target}" for esp32 (known: ${targets.join(", ")})`);
  requireIdf("monitor", target);
  const project = path.join(out, target);
  if (!fs.existsSync(path.join(project, "CMakeLists.txt")))
    throw new BuildError(`no ESP-IDF project for ${target} in ${out}: run xsmg flash --target ${target} first`);
  idf(project, [...(port ? ["-p", port] : []), "monitor"], { interactive: true });
}
