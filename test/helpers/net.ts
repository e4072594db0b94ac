// SPDX-License-Identifier: MIT
// Running a firmware that serves, from a test: free ports, waiting for its log
// lines, and stopping it at the end.
import { ChildProcess, spawn } from "child_process";
import fs from "fs";
import net from "net";

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
// Ports handed out by this process: the kernel may give a just-freed port again,
// and two servers of one test must not be handed the same one.
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.on("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/**
 * Binds server to a port of 127.0.0.1 that freePort() has not handed out (a
 * firmware may be about to bind that one); returns the port.
 */
export async function listenFresh(server: net.Server): Promise<number> {
  for (;;) {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as net.AddressInfo).port;
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface Running {
  child: ChildProcess;
  /** Everything the firmware printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching, or rejects after timeoutMs or on exit. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or 128+signal). */
  exited: Promise<number>;
  /** SIGTERM (then SIGKILL after 3 s); resolves with the exit code. */
  stop(): Promise<number>;
}

/** Starts a firmware executable; stop() it in afterAll/afterEach. */
export function startFirmware(exe: string, args: string[] = []): Running {
  const child = spawn(exe, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.setEncoding("utf8");  // a character split across reads stays whole
  child.stderr!.setEncoding("utf8");
  let out = "";
  let err = "";
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout!.on("data", (d) => {
    out += d;
    wake();
  });
  child.stderr!.on("data", (d) => {
    err += d;
  });
  // "close", not "exit": at "exit" the pipes may still hold the last lines, which
  // a test that reads stdout() once the firmware ended would miss.
  const exited = new Promise<number>((resolve) => {
    child.on("close", (code, signal) => {
      wake();
      resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 0));
    });
  });
  let done = false;
  exited.then(() => (done = true));

  const waitFor = (pattern: RegExp, timeoutMs = 10000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
      const check = () => {
        const line = out.split("\n").find((l) => pattern.test(l));
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(line);
        } else if (done) {
          clearTimeout(timer);
          reject(new Error(`firmware exited before ${pattern}; stdout:\n${out}\nstderr:\n${err}`));
        } else waiters.push(check);
      };
      check();
    });

  const stop = async () => {
    if (!done) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    }
    return exited;
  };
  return { child, stdout: () => out, stderr: () => err, waitFor, exited, stop };
}

/** The accept queue of the listening socket on port (rx_queue of its LISTEN row in
 * /proc/net/tcp): non-zero means connections wait that nobody has accepted. */
export function acceptQueue(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of fs.readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 4 && f[1].endsWith(":" + hex) && f[3] === "0A") return parseInt(f[4].split(":")[1], 16);
  }
  throw new Error(`no listening socket on port ${port}`);
}

export interface Exchange {
  /** Everything received, as latin1. */
  data: string;
  /** How it ended: the server closed it ("end"), reset it ("error: ECONNRESET"), or we gave up ("timeout"). */
  ended: string;
}

/** Opens a socket to 127.0.0.1:port, runs talk(socket), collects what comes back until the server ends it or timeoutMs passes. */
export function exchange(port: number, talk: (s: net.Socket) => void | Promise<void>, timeoutMs = 1500): Promise<Exchange> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let data = "";
    let ended = "";
    const finish = (how: string) => {
      if (!ended) ended = how;
    };
    const timer = setTimeout(() => {
      finish("timeout");
      s.destroy();
    }, timeoutMs);
    s.on("data", (d) => (data += d.toString("latin1")));
    s.on("end", () => finish("end"));
    s.on("error", (e: NodeJS.ErrnoException) => finish(`error: ${e.code}`));
    s.on("close", () => {
      clearTimeout(timer);
      resolve({ data, ended });
    });
    s.on("connect", async () => {
      try {
        await talk(s);
      } catch {
        // the server may close while we write; what came back tells the story
      }
    });
  });
}

/** Sanitizer reports (ASan, UBSan, TSan) in a firmware's stderr. */
export function sanitizerReports(stderr: string): string[] {
  return stderr.split(/^=+$/m)
    .filter((b) => /WARNING: ThreadSanitizer|ERROR: \w+Sanitizer|runtime error/.test(b));
}

/** POSTs a size-byte body (Content-Length set) to 127.0.0.1:port over a raw socket, in 10 kB writes; what comes back. */
export function postBody(port: number, path: string, size: number, timeoutMs = 5000): Promise<Exchange> {
  return exchange(port, (s) => {
    s.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
    for (let sent = 0; sent < size; sent += 10_000) s.write(Buffer.alloc(Math.min(10_000, size - sent), 0x41));
  }, timeoutMs);
}
