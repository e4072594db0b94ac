// SPDX-License-Identifier: MIT
// A mosquitto broker the tests can stop, restart on the same ports with its
// persisted sessions, and freeze (SIGSTOP): a plain listener, and a TLS one with a
// P-256 certificate for localhost made at test time.
import { ChildProcess, spawn } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { freePort } from "./net";
import { makeCert } from "./tls";

export interface Mosquitto {
  port: number;
  tlsPort: number;
  /** The TLS listener's certificate (PEM), the CA its clients trust. */
  cert: string;
  /** SIGTERM (mosquitto saves its sessions and queued messages), then the same broker again. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing answers. */
  freeze(): void;
  thaw(): void;
  log(): string;
  stop(): Promise<void>;
}

export async function startMosquitto(): Promise<Mosquitto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-mosquitto-"));
  const port = await freePort();
  const tlsPort = await freePort();
  const { cert } = makeCert(dir, "broker");
  const conf = path.join(dir, "mosquitto.conf");
  // Running as root, mosquitto would switch to user "mosquitto", who cannot read our files.
  fs.writeFileSync(conf, [
    `user ${os.userInfo().username}`,
    "persistence true",
    `persistence_location ${dir}/`,
    "max_queued_messages 10000",
    // No window on messages in flight to a client: with one, mosquitto 2.0.11 lost
    // QoS 2 messages it had to queue for a session restored after a restart (seen:
    // 180 of 1,000, each acknowledged to the publisher with PUBREC and PUBCOMP).
    "max_inflight_messages 0",
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    `listener ${tlsPort} 127.0.0.1`,
    `certfile ${path.join(dir, "broker.crt")}`,
    `keyfile ${path.join(dir, "broker.key")}`,
    "",
  ].join("\n"));
  let text = "";
  let child: ChildProcess;
  let exited: Promise<void>;
  const launch = async () => {
    child = spawn("mosquitto", ["-c", conf, "-v"], { stdio: ["ignore", "pipe", "pipe"] });
    let up = "";
    const ready = new Promise<void>((resolve, reject) => {
      const grow = (d: Buffer) => {
        text += d;
        up += d;
        if (/mosquitto version .* running/.test(up)) resolve();
      };
      child.stdout!.on("data", grow);
      child.stderr!.on("data", grow);
      child.on("exit", () => reject(new Error(`mosquitto exited; its log:\n${text}`)));
    });
    exited = new Promise((resolve) => child.on("exit", () => resolve()));
    await ready;
  };
  const terminate = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT");
      child.kill("SIGTERM");
    }
    await exited;
  };
  await launch();
  return {
    port,
    tlsPort,
    cert,
    restart: async () => {
      await terminate();
      await launch();
    },
    freeze: () => child.kill("SIGSTOP"),
    thaw: () => child.kill("SIGCONT"),
    log: () => text,
    stop: async () => {
      await terminate();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
