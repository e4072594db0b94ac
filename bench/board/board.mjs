// SPDX-License-Identifier: MIT
// bench/board's side of a running board: boot it (timing the first console
// line), stop it, and ask its GET /mem over keep-alive connections.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { qemuArgs } from "../../hosts/qemu/host.mjs";

// Boots an ELF with the board's port 80 at 127.0.0.1:port; resolves with the
// child and the milliseconds from spawn to the first console line. The console
// goes to a file, watched (inotify) for that line: wrk runs synchronously, and a
// pipe nobody reads meanwhile could stall the board on its next line.
export function boot(elf, port, consoleFile) {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(consoleFile, "w");
    const started = process.hrtime.bigint();
    const child = spawn("qemu-system-riscv32", qemuArgs(elf, { forwards: [{ host: port, board: 80 }] }), { stdio: ["ignore", fd, fd] });
    fs.closeSync(fd);
    const watcher = fs.watch(consoleFile, () => {
      const out = fs.readFileSync(consoleFile, "utf8");
      if (!out.includes("\n")) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      watcher.close();
      if (out.startsWith("listening\n")) resolve({ child, ms });
      else fail(`the first line is not "listening": ${out}`);
    });
    function fail(why) {
      watcher.close();
      child.kill("SIGTERM");
      reject(new Error(`${path.basename(elf)}: ${why}`));
    }
    child.on("error", reject);
    child.on("exit", (code) => fail(`QEMU exited (${code}) before it listened: ${fs.readFileSync(consoleFile, "utf8")}`));
  });
}

export function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners("exit");
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

// One keep-alive connection to the board; get(uri) sends a GET and resolves with
// the body (mongoose and am.serve both send Content-Length).
export function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve({ socket, get }));
    socket.once("error", reject);
    let pending;
    let buffer = Buffer.alloc(0);
    socket.on("data", (d) => {
      buffer = Buffer.concat([buffer, d]);
      const end = buffer.indexOf("\r\n\r\n");
      const length = /content-length:\s*(\d+)/i.exec(buffer.subarray(0, end).toString());
      if (end < 0 || !length || buffer.length < end + 4 + Number(length[1])) return;
      const body = buffer.subarray(end + 4, end + 4 + Number(length[1])).toString();
      buffer = buffer.subarray(end + 4 + Number(length[1]));
      pending.resolve(body);
    });
    function get(uri) {
      return new Promise((res, rej) => {
        pending = { resolve: res };
        socket.once("error", rej);
        socket.write(`GET ${uri} HTTP/1.1\r\nHost: board\r\n\r\n`);
      });
    }
  });
}

export const parseLine = (line) => Object.fromEntries(line.trim().split(/\s+/).map((kv) => kv.split("=")).map(([k, v]) => [k, Number(v)]));

// The board's TCP connection count (hosts/qemu/xm_host_config.h): a keep-alive
// connection past it waits, its SYN dropped, until one of them closes.
export const BOARD_CONNECTIONS = 8;

// The board's memory line with only the asking connection open, then with
// BOARD_CONNECTIONS (opened one after the other, each answered once, so that
// none waits in lwIP's accept mailbox of 6), the last asking.
export async function memory(port) {
  const one = await connect(port);
  const idle = parseLine(await one.get("/mem"));
  one.socket.destroy();
  const open = [];
  for (let i = 0; i < BOARD_CONNECTIONS - 1; i++) {
    open.push(await connect(port));
    await open[i].get("/");
  }
  open.push(await connect(port));
  const busy = parseLine(await open[BOARD_CONNECTIONS - 1].get("/mem"));
  for (const c of open) c.socket.destroy();
  return { idle, busy };
}
