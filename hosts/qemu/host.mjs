// SPDX-License-Identifier: MIT
// The virtual board: hosts/esp32's port, app_main and the
// built-in modules' esp32 C on FreeRTOS and lwIP in QEMU's RISC-V virt machine,
// standing in for an ESP32-C3, on QEMU's user network. See board.c and netif.c.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DepsError, fetchDeps, fetchEsp32Deps } from "../../firmware/deps.mjs";
import { builtinNative } from "../../firmware/manifest.mjs";
import { modulesCmake } from "../../firmware/native.mjs";
import { ensure } from "../../firmware/requirements.mjs";
import { BuildError, cacheRoot, cmakeCache, runToExit, sh } from "../../firmware/shell.mjs";
import { compileImage, compileWithEngine } from "../esp32/check/cross.mjs";
import { checkRules, startUdpGateway } from "./udp_gateway.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOOLCHAIN = path.join(HERE, "..", "esp32", "check", "rv32imc.cmake");

export const variants = ["release"];
export const targets = [];

// The device's memory map in QEMU's RAM (virt has no flash that -kernel loads
// into): a 4 MiB "flash" region for code and constants from 0x80000000, then the
// RAM budget. The heap (the C library's, from which the kernel allocates too) is
// what the budget leaves after data, bss and the startup stack.
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
    "the engine, runtime, built-in modules, lwIP, FreeRTOS and the board for rv32imc",
    { "xsmg_modules.cmake": modulesCmake(builtinNative("qemu"), "qemu") });
}

// The app's own C (its manifest's modules with a .c), compiled as the image is,
// with the app's defines; the built-in modules' headers are not offered.
function compileNative(app, out) {
  const defines = Object.entries(app.defines).map(([k, v]) => `-D${k}=${typeof v === "string" ? JSON.stringify(v) : Number(v)}`);
  return compileWithEngine(app.native, out, ["-Wall", "-Wextra", ...defines]);
}

/** Links the image in out/gen, the app's C and the libraries into out/firmware-<ram>k.elf. */
export function link({ app, out, libs, ramKb = RAM_DEFAULT_KB }) {
  const objects = [...compileImage(path.join(out, "gen"), path.join(out, "image")), ...compileNative(app, path.join(out, "native"))];
  const archives = fs.readdirSync(libs).filter((f) => f.endsWith(".a")).map((f) => path.join(libs, f));
  return linkObjects(objects, archives, path.join(out, `firmware-${ramKb}k.elf`), ramKb);
}

/** Links objects and archives into elf on the board's memory map (also bench/board's C server, without XS). */
export function linkObjects(objects, archives, elf, ramKb = RAM_DEFAULT_KB) {
  sh("riscv64-unknown-elf-gcc", ["-march=rv32imc", "-mabi=ilp32", "--specs=picolibc.specs", "--crt0=hosted", "--oslib=semihost",
    // The board's C library locks (libc_locks.c) before picolibc's no-op ones.
    "-Wl,--gc-sections", "-Wl,--wrap=port_fatal", "-Wl,--wrap=xm_run", "-Wl,--wrap=vTaskDelete", "-Wl,--undefined=__retarget_lock_acquire_recursive",
    `-Wl,--defsym=__flash=${FLASH},--defsym=__flash_size=${FLASH_SIZE}`,
    `-Wl,--defsym=__ram=${FLASH + FLASH_SIZE},--defsym=__ram_size=${ramKb * 1024},--defsym=__stack_size=4096`,
    // The kernel's interrupts and exceptions run on the startup stack (FreeRTOSConfig.h).
    "-Wl,--defsym=__freertos_irq_stack_top=__stack",
    "-o", elf, ...objects, "-Wl,--start-group", ...archives, "-Wl,--end-group"], `linking the firmware for ${ramKb} KiB of RAM`);
  return elf;
}

export function firmware({ app, out, libs }) {
  // What xsmg run needs to relink for another RAM budget.
  fs.writeFileSync(path.join(out, "app.json"), JSON.stringify({ native: app.native, defines: app.defines }));
  return { path: link({ app, out, libs }) };
}

// What `xsmg run --host qemu` takes besides --timeout (cli.mjs refuses the rest).
export const runOptions = ["stats", "config", "clock-offset", "ram", "forward", "reach"];

// The board's side of QEMU's user network (slirp): its own address, and the
// addresses slirp keeps for itself (the gateway, DNS), which a --reach rule
// cannot take.
const BOARD_NET = "10.0.2.";
const SLIRP_OWN = ["10.0.2.0", "10.0.2.2", "10.0.2.3", "10.0.2.15", "10.0.2.255"];
const port = (text) => /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535 ? Number(text) : undefined;

// --forward HOSTPORT:BOARDPORT: 127.0.0.1:HOSTPORT on this machine reaches the board's BOARDPORT.
export function parseForward(text) {
  const [host, board] = text.split(":").map(port);
  if (text.split(":").length !== 2 || !host || !board)
    throw new BuildError(`--forward takes HOSTPORT:BOARDPORT (ports 1-65535), got "${text}"`);
  return { host, board };
}

// --reach [tcp:|udp:]BOARDIP:PORT=[127.0.0.1:]HOSTPORT: what the board sends to
// BOARDIP:PORT reaches a service on this machine's loopback (a broker, a test
// server, an NTP server). Loopback only: restrict=on keeps the board off every
// other network. TCP (the default) goes through slirp's guestfwd, UDP through
// the gateway of udp_gateway.mjs, which takes a few more addresses for itself.
export function parseReach(text) {
  const m = /^(?:(tcp|udp):)?(\d+\.\d+\.\d+\.\d+):(\d+)=(?:127\.0\.0\.1:)?(\d+)$/.exec(text);
  const [protocol, address, boardPort, hostPort] = m ? [m[1] ?? "tcp", m[2], port(m[3]), port(m[4])] : [];
  if (!m || !boardPort || !hostPort)
    throw new BuildError(`--reach takes BOARDIP:PORT=127.0.0.1:HOSTPORT, got "${text}" (udp: before BOARDIP for UDP; tcp:, the default, for TCP)`);
  if (!address.startsWith(BOARD_NET) || Number(address.slice(BOARD_NET.length)) > 255 || SLIRP_OWN.includes(address))
    throw new BuildError(`--reach: ${address} must be in the board's network 10.0.2.0/24, but not ${SLIRP_OWN.join(", ")} (the network's own)`);
  return { protocol, address, port: boardPort, hostPort };
}

/** The network options of xsmg run, checked before the build (cli.mjs); throws a BuildError naming the bad one. */
export function checkRunOptions({ forward = [], reach = [] }) {
  const forwards = [forward].flat().map(parseForward);
  const all = [reach].flat().map(parseReach);
  const reaches = all.filter((r) => r.protocol === "tcp");
  const udp = all.filter((r) => r.protocol === "udp");
  const twice = (keys) => keys.find((k, i) => keys.indexOf(k) !== i);
  const hostPort = twice(forwards.map((f) => f.host));
  if (hostPort) throw new BuildError(`--forward: 127.0.0.1:${hostPort} is forwarded twice`);
  const target = twice(all.map((r) => `${r.protocol}:${r.address}:${r.port}`));
  if (target) throw new BuildError(`--reach: ${target} has two rules`);
  if (udp.length) {
    try {
      checkRules(udp, userNetdev({ forwards, reaches }));
    } catch (e) {
      throw new BuildError(`--reach: ${e.message}`);
    }
  }
  const taken = portsInUse(forwards.map((f) => f.host));
  if (taken.length) throw new BuildError(`--forward: 127.0.0.1:${taken.join(", 127.0.0.1:")} in use on this machine`);
  return { forwards, reaches, udp };
}

// QEMU would stop with exit code 1 on a port it cannot bind, which reads as the
// firmware's uncaught exception: the ports are tried first (a child, since
// binding is asynchronous in Node and this check is not).
function portsInUse(ports) {
  if (!ports.length) return [];
  const probe = `const net = require("net"); const ports = ${JSON.stringify(ports)}; const taken = [];
    let left = ports.length; for (const p of ports) { const s = net.createServer();
    const done = () => { if (--left === 0) console.log(JSON.stringify(taken)); };
    s.once("error", () => { taken.push(p); done(); }); s.listen(p, "127.0.0.1", () => s.close(done)); }`;
  const r = spawnSync(process.execPath, ["-e", probe], { encoding: "utf8" });
  return r.status === 0 ? JSON.parse(r.stdout) : [];
}

// QEMU parses the rule's command as a shell would (quotes) and its -netdev
// value splits at commas (a comma in a path is written twice).
function relayCommand(hostPort) {
  const quote = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  return [process.execPath, path.join(HERE, "relay.mjs"), String(hostPort)].map(quote).join(" ").replace(/,/g, ",,");
}

// The options of the board's user netdev (slirp) after its id: restricted to
// the forwards and TCP reaches given.
function userNetdev({ forwards = [], reaches = [] }) {
  return ["restrict=on",
    ...forwards.map(({ host, board }) => `hostfwd=tcp:127.0.0.1:${host}-:${board}`),
    ...reaches.map(({ address, port, hostPort }) => `guestfwd=tcp:${address}:${port}-cmd:${relayCommand(hostPort)}`)].join(",");
}

// What the firmware reads at boot as its semihosting command line (cmdline.c):
// xsmg's run options, each a word. QEMU joins the arg= values with spaces and
// splits its option at commas (doubled here), so a space, a comma or a % in a
// path travels as %XX.
function semihostingArgs(words) {
  return words.map((w) => `,arg=${w.replace(/[%\s,]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}`).join("");
}

// QEMU's virt machine with one hart and no firmware of its own (-bios none: the
// ELF's entry runs first), semihosting for the console, the exit code, the
// command line (cmdline: the firmware's options, after "xsmg") and --config's
// file, and no serial port or monitor on the terminal. picolibc writes stdout
// and stderr alike to the semihosting console, one stream as on a board's UART:
// it goes to QEMU's standard output (QEMU's own default would be its standard
// error). network: the board's netdevs and NIC when they are not slirp's alone
// (the UDP gateway's hub).
export function qemuArgs(elf, { forwards = [], reaches = [], network, cmdline = [], clockOffset = 0 } = {}) {
  network ??= ["-netdev", `user,id=n0,${userNetdev({ forwards, reaches })}`, "-device", "virtio-net-device,netdev=n0"];
  // The board's RTC (rtc.c) starts at -rtc's base, to the second, and follows the host's clock from there.
  const rtc = clockOffset ? ["-rtc", `base=${new Date(Date.now() + clockOffset).toISOString().slice(0, 19)}`] : [];
  return ["-M", "virt", "-smp", "1", "-m", "128M", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "none", ...rtc,
    "-chardev", "stdio,id=console", "-semihosting-config", `enable=on,target=native,chardev=console${semihostingArgs(["xsmg", ...cmdline])}`,
    ...network, "-kernel", elf];
}

const BACKSTOP_S = 3;

/**
 * xsmg run --host qemu: relinks for --ram when it is not the default, starts
 * the UDP gateway for --reach udp: rules, boots the board and exits with the
 * firmware's code (the simulator's codes: 0 nothing left to do, 1 uncaught
 * exception, 3 out of memory, 5 a CPU exception; 124 at --timeout).
 */
export async function run(elf, { timeout, stats, config, "clock-offset": clockOffset, ram, forward, reach }) {
  const { forwards, reaches, udp } = checkRunOptions({ forward, reach });
  const ramKb = ram === undefined ? RAM_DEFAULT_KB : Number(ram);
  if (ramKb !== RAM_DEFAULT_KB)
    elf = link({ app: JSON.parse(fs.readFileSync(path.join(path.dirname(elf), "app.json"), "utf8")), out: path.dirname(elf),
      libs: path.join(cacheRoot(), "qemu-release"), ramKb });
  for (const f of forwards) process.stderr.write(`xsmg: forwarding 127.0.0.1:${f.host} -> board:${f.board}\n`);
  for (const r of [...reaches, ...udp])
    process.stderr.write(`xsmg: the board reaches 127.0.0.1:${r.hostPort} at ${r.protocol === "udp" ? "udp:" : ""}${r.address}:${r.port}\n`);
  // The gateway lives in this process, as long as QEMU (runToExit ends both).
  const gateway = udp.length ? await startUdpGateway({ rules: udp, user: userNetdev({ forwards, reaches }) }) : undefined;
  const cmdline = [...(timeout ? ["--timeout", String(timeout)] : []), ...(stats ? ["--stats"] : []),
    ...(config ? ["--config", path.resolve(config)] : [])];
  // The board stops itself at --timeout (exit 124), as the simulator's firmware
  // does; xsmg kills QEMU BACKSTOP_S later should the firmware not get there (a
  // loop in the app's C, an XS task that never returns to its loop).
  runToExit("qemu-system-riscv32", qemuArgs(elf, { forwards, reaches, network: gateway?.qemuArgs, cmdline, clockOffset: Number(clockOffset ?? 0) }),
    { stdio: ["ignore", "inherit", "inherit"], timeoutMs: timeout ? (Number(timeout) + BACKSTOP_S) * 1000 : undefined });
}
