// SPDX-License-Identifier: MIT
// The virtual board's UDP gateway (hosts/qemu/udp_gateway.mjs): SNTP from a real
// chronyd on 127.0.0.1 through a restricted slirp network. First driven through
// its real interface, QEMU's dgram netdev (one Ethernet frame per datagram),
// with this test as QEMU; then inside QEMU 7.2 itself, wired as the board will
// be (slirp, the gateway and the NIC on one hub), with a second dgram netdev on
// the hub as the board, since the board has no network driver yet.
import { ChildProcess, spawn } from "child_process";
import dgram from "dgram";
import fs from "fs";
import os from "os";
import path from "path";
import { Chrony, freeUdpPort, startChrony } from "./helpers/chrony";
import {
  arpReply, arpRequest, BOARD_IP, BOARD_MAC, checksum, ntpRequest, parseArp, parseUdp, Segment, SLIRP_MAC, udpFrame,
} from "./helpers/frames";

const GATEWAY_IP = "10.0.2.123";
const GATEWAY_MAC = "52:55:0a:00:02:7b"; // slirp's convention: 52:55 and the address
const SENTINEL_IP = "10.0.2.124";
const SENTINEL_MAC = "52:55:0a:00:02:7c";
const SIZER_IP = "10.0.2.126";
const SIZER_MAC = "52:55:0a:00:02:7e";
const SILENCE_MS = 500;

interface GatewayProcess {
  port: number;
  qemuArgs: string[];
  child: ChildProcess;
  stderr(): string;
  /** Ends its standard input; resolves with its exit code, or "still running" after 3 s (then kills it). */
  stop(): Promise<number | string>;
}

// The gateway in a Node process of its own (test/helpers/udp-gateway.mjs): it is
// an ES module, and its process's exit is what the last test checks.
function startGateway(options: object): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, "helpers", "udp-gateway.mjs"), JSON.stringify(options)]);
  let out = "", err = "";
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const stop = async () => {
    child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<string>((r) => (timer = setTimeout(r, 3000, "still running")))]);
    clearTimeout(timer);
    if (code === "still running") child.kill("SIGKILL");
    return code ?? "killed";
  };
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve({ ...JSON.parse(out), child, stop, stderr: () => err });
    });
    exited.then((code) => reject(new Error(`the gateway exited (${code}) before starting: ${err}`)));
  });
}

// A UDP socket on 127.0.0.1 that records what arrives: the host service of a
// rule, to show what the gateway sends to the host and what it does not.
// With answer, it replies to each datagram with what answer makes of it.
async function listener(answer?: (request: Buffer) => Buffer): Promise<{ port: number; got: Buffer[]; close(): void }> {
  const socket = dgram.createSocket("udp4");
  const got: Buffer[] = [];
  socket.on("message", (m, from) => {
    got.push(m);
    if (answer) socket.send(answer(m), from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  return { port: socket.address().port, got, close: () => socket.close() };
}

const arpReplyFor = (ip: string) => (f: Buffer) => {
  const a = parseArp(f);
  return a && a.op === 2 && a.senderIp === ip ? a : undefined;
};
const udpTo = (port: number) => (f: Buffer) => {
  const u = parseUdp(f);
  return u && u.dstPort === port ? u : undefined;
};

// What a valid answer of an NTP server to `request` looks like (RFC 5905):
// version 4, mode 4 (server), a stratum, our transmit time as its origin.
function expectNtpReply(reply: Buffer, request: Buffer) {
  expect(reply.length).toBeGreaterThanOrEqual(48);
  expect({ version: (reply[0] >> 3) & 7, mode: reply[0] & 7, stratumSet: reply[1] > 0 && reply[1] < 16, origin: reply.subarray(24, 32).toString("hex") })
    .toEqual({ version: 4, mode: 4, stratumSet: true, origin: request.subarray(40, 48).toString("hex") });
}

let chrony: Chrony;
beforeAll(async () => {
  chrony = await startChrony();
});
afterAll(async () => {
  await chrony?.stop();
});

describe("the UDP gateway, with this test as QEMU", () => {
  let gateway: GatewayProcess;
  let sentinel: Awaited<ReturnType<typeof listener>>;
  let sizer: Awaited<ReturnType<typeof listener>>;
  let qemu: Segment;
  beforeAll(async () => {
    sentinel = await listener();
    // Answers "N" with N bytes.
    sizer = await listener((request) => Buffer.alloc(Number(String(request)), 0x5a));
    gateway = await startGateway({ rules: [
      { address: GATEWAY_IP, port: 123, hostPort: chrony.port },
      { address: SENTINEL_IP, port: 9, hostPort: sentinel.port },
      { address: SIZER_IP, port: 7, hostPort: sizer.port },
    ] });
    qemu = await Segment.open(gateway.port);
  });
  afterAll(async () => {
    qemu?.close();
    sentinel?.close();
    sizer?.close();
    await gateway?.stop();
  });

  test("it answers an ARP request for its address with its MAC, to the requester", async () => {
    const reply = await qemu.exchange(arpRequest(GATEWAY_IP), arpReplyFor(GATEWAY_IP), 3000);
    expect(reply).toEqual({
      ethDst: BOARD_MAC, ethSrc: GATEWAY_MAC, op: 2,
      senderMac: GATEWAY_MAC, senderIp: GATEWAY_IP, targetMac: BOARD_MAC, targetIp: BOARD_IP,
    });
  });

  test("an NTP request to 10.0.2.123:123 is answered by chronyd, from 10.0.2.123:123 to the board's port", async () => {
    const request = ntpRequest();
    const frame = udpFrame({ ethDst: GATEWAY_MAC, dst: GATEWAY_IP, srcPort: 50123, dstPort: 123, payload: request });
    const reply = await qemu.exchange(frame, udpTo(50123), 3000);
    expect(reply).toBeDefined();
    expect({ ...reply!, payload: undefined }).toEqual({
      ethDst: BOARD_MAC, ethSrc: GATEWAY_MAC, src: GATEWAY_IP, dst: BOARD_IP, srcPort: 123, dstPort: 50123,
      payload: undefined, ipChecksumOk: true, udpChecksumOk: true,
    });
    expectNtpReply(reply!.payload, request);
  });

  test("two board ports get their own replies (the relay is per source port)", async () => {
    const requests = [ntpRequest(), ntpRequest()];
    const ports = [50200, 50201];
    ports.forEach((port, i) => qemu.send(udpFrame({ ethDst: GATEWAY_MAC, dst: GATEWAY_IP, srcPort: port, dstPort: 123, payload: requests[i] })));
    const replies = await Promise.all(ports.map((port) => qemu.exchange(undefined, udpTo(port), 3000)));
    replies.forEach((reply, i) => expectNtpReply(reply!.payload, requests[i]));
  });

  test("a board cycling through 40 ports is answered on each, and the gateway holds at most 32 relay sockets", async () => {
    // The gateway process's UDP sockets: its descriptors whose inode /proc/net/udp lists.
    const udpSockets = () => {
      const inodes = new Set(fs.readFileSync("/proc/net/udp", "utf8").split("\n").slice(1).map((l) => l.trim().split(/\s+/)[9]));
      return fs.readdirSync(`/proc/${gateway.child.pid}/fd`)
        .filter((fd) => inodes.has(/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${gateway.child.pid}/fd/${fd}`))?.[1] ?? "")).length;
    };
    const answered: number[] = [];
    for (let port = 51000; port < 51040; port++) {
      const request = ntpRequest();
      const reply = await qemu.exchange(udpFrame({ ethDst: GATEWAY_MAC, dst: GATEWAY_IP, srcPort: port, dstPort: 123, payload: request }), udpTo(port), 3000);
      if (reply && reply.payload.subarray(24, 32).equals(request.subarray(40, 48))) answered.push(port);
    }
    expect(answered.length).toBe(40);
    // The segment's socket and 32 relays, the least recently used closed to open the next.
    expect(udpSockets()).toBe(1 + 32);
  });

  test("a reply of 1472 bytes comes back in one 1514-byte frame; one of 1473 would need two and is dropped with a line", async () => {
    const ask = (srcPort: number, size: number) => qemu.exchange(
      udpFrame({ ethDst: SIZER_MAC, dst: SIZER_IP, srcPort, dstPort: 7, payload: Buffer.from(String(size)) }), udpTo(srcPort), 1000);
    const fits = await ask(50500, 1472);
    expect(fits && { payload: fits.payload.length, ipChecksumOk: fits.ipChecksumOk, udpChecksumOk: fits.udpChecksumOk })
      .toEqual({ payload: 1472, ipChecksumOk: true, udpChecksumOk: true });
    expect(qemu.frames.find(udpTo(50500))?.length).toBe(1514);
    expect(await ask(50501, 1473)).toBeUndefined();
    expect(gateway.stderr()).toContain(`xsmg: udp gateway: dropped a 1473-byte reply from 127.0.0.1:${sizer.port} (more than one frame; the gateway does not fragment)`);
  });

  test("UDP with no rule, to someone else or broken reaches no host port and gets no reply; a ruled one does", async () => {
    const before = qemu.frames.length;
    const payload = Buffer.from("must not pass");
    const refused = [
      udpFrame({ ethDst: GATEWAY_MAC, dst: GATEWAY_IP, srcPort: 50300, dstPort: 9, payload }), // a port with no rule
      udpFrame({ ethDst: SENTINEL_MAC, dst: SENTINEL_IP, srcPort: 50301, dstPort: 123, payload }), // an owned address, another rule's port
      udpFrame({ ethDst: "52:55:0a:00:02:7d", dst: "10.0.2.125", srcPort: 50302, dstPort: 9, payload }), // an address with no rule
      udpFrame({ ethDst: SLIRP_MAC, dst: "10.0.2.2", srcPort: 50303, dstPort: 9, payload }), // slirp's
      udpFrame({ ethDst: SLIRP_MAC, dst: SENTINEL_IP, srcPort: 50304, dstPort: 9, payload }), // a frame for another MAC
      udpFrame({ ethDst: BOARD_MAC, ethSrc: SLIRP_MAC, src: "10.0.2.2", dst: BOARD_IP, srcPort: 9, dstPort: 50307, payload }), // slirp's to the board
      udpFrame({ ethDst: SENTINEL_MAC, dst: SENTINEL_IP, srcPort: 50305, dstPort: 9, payload, ipChecksum: 0x1234 }), // a bad IPv4 checksum
    ];
    for (const frame of refused) qemu.send(frame);
    await new Promise((r) => setTimeout(r, SILENCE_MS));
    expect({ toHost: sentinel.got, toBoard: qemu.frames.slice(before) }).toEqual({ toHost: [], toBoard: [] });
    // The same socket does receive what a rule sends it: the silence above is the gateway's.
    qemu.send(udpFrame({ ethDst: SENTINEL_MAC, dst: SENTINEL_IP, srcPort: 50306, dstPort: 9, payload: Buffer.from("ruled") }));
    await new Promise((r) => setTimeout(r, SILENCE_MS));
    expect(sentinel.got.map(String)).toEqual(["ruled"]);
  });

  test("an ARP request for another address (slirp's, the board's, an unowned one) gets no reply", async () => {
    const before = qemu.frames.length;
    for (const ip of ["10.0.2.2", "10.0.2.15", "10.0.2.125"]) qemu.send(arpRequest(ip));
    await new Promise((r) => setTimeout(r, SILENCE_MS));
    expect(qemu.frames.slice(before)).toEqual([]);
  });

  test("frames from a second QEMU port are ignored: the gateway answers the first one only", async () => {
    const intruder = await Segment.open(gateway.port);
    try {
      expect(await intruder.exchange(arpRequest(GATEWAY_IP), arpReplyFor(GATEWAY_IP), SILENCE_MS)).toBeUndefined();
    } finally {
      intruder.close();
    }
  });

  test("its process exits by itself once the test lets go (the gateway keeps nothing alive)", async () => {
    expect(await gateway.stop()).toBe(0);
  });
});

describe("rules the gateway refuses", () => {
  test.each([
    [{ rules: [] }, "udp gateway: no rules"],
    [{ rules: [{ address: "10.0.3.5", port: 123, hostPort: 1 }] }, "must be in slirp's network 10.0.2.0/24"],
    [{ rules: [{ address: "10.0.2.2", port: 123, hostPort: 1 }] }, "10.0.2.2 is slirp's"],
    [{ rules: [{ address: "10.0.2.20", port: 123, hostPort: 1 }] }, "10.0.2.20 is slirp's"],
    [{ rules: [{ address: "10.0.2.100", port: 123, hostPort: 1 }], user: "restrict=on,guestfwd=tcp:10.0.2.100:1883-tcp:127.0.0.1:1883" }, "10.0.2.100 is slirp's"],
    [{ rules: [{ address: "10.0.2.123", port: 123, hostPort: 0 }] }, "ports are 1 to 65535"],
    [{ rules: [{ address: "10.0.2.123", port: 123, hostPort: 1 }, { address: "10.0.2.123", port: 123, hostPort: 2 }] }, "a second rule for 10.0.2.123:123"],
    [{ rules: [{ address: "10.0.2.123", port: 123, hostPort: 1 }], user: "restrict=on,net=192.168.7.0/24" }, "change its network"],
  ])("%j", async (options, message) => {
    await expect(startGateway(options)).rejects.toThrow(message);
  });
});

// QEMU 7.2 with the gateway's wiring. The CPU runs a two-instruction kernel
// (wfi; j back): a stopped machine (-S) passes no frames at all.
describe("the gateway's wiring in qemu-system-riscv32 -M virt (restrict=on slirp, the gateway and the NIC on hub 0)", () => {
  let gateway: GatewayProcess;
  let board: Segment;
  let qemu: ChildProcess;
  let qemuLog = "";
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-udpgw-"));
    const kernel = path.join(dir, "wfi.bin");
    fs.writeFileSync(kernel, Buffer.from([0x73, 0x00, 0x50, 0x10, 0x6f, 0xf0, 0xdf, 0xff]));
    gateway = await startGateway({ rules: [{ address: GATEWAY_IP, port: 123, hostPort: chrony.port }], user: "restrict=on" });
    board = await Segment.open();
    const boardPort = await freeUdpPort();
    board.connectTo(boardPort);
    // As a board would, it tells slirp its MAC (slirp asks before it sends to the board).
    board.socket.on("message", (f) => {
      const a = parseArp(f);
      if (a?.op === 1 && a.targetIp === BOARD_IP) board.send(arpReply(a));
    });
    qemu = spawn("qemu-system-riscv32", ["-M", "virt", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "none", "-kernel", kernel,
      ...gateway.qemuArgs,
      "-netdev", `dgram,id=board,local.type=inet,local.host=127.0.0.1,local.port=${boardPort},remote.type=inet,remote.host=127.0.0.1,remote.port=${board.port}`,
      "-netdev", "hubport,id=board-port,hubid=0,netdev=board"], { stdio: ["ignore", "pipe", "pipe"] });
    qemu.stdout!.on("data", (d) => (qemuLog += d));
    qemu.stderr!.on("data", (d) => (qemuLog += d));
  });
  afterAll(async () => {
    if (qemu && qemu.exitCode === null) {
      qemu.kill("SIGKILL");
      await new Promise((r) => qemu.on("exit", r));
    }
    board?.close();
    await gateway?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("QEMU accepts the arguments and keeps running", async () => {
    await new Promise((r) => setTimeout(r, 1000));
    expect({ running: qemu.exitCode === null && qemu.signalCode === null, log: qemuLog }).toEqual({ running: true, log: "" });
  });

  test("ARP for 10.0.2.123 across the hub: one reply, the gateway's (slirp does not answer for it)", async () => {
    const reply = await board.exchange(arpRequest(GATEWAY_IP), arpReplyFor(GATEWAY_IP), 10000);
    expect(reply?.senderMac).toBe(GATEWAY_MAC);
    await new Promise((r) => setTimeout(r, SILENCE_MS));
    // The board sent its request until answered, so there may be several replies: all the gateway's.
    expect([...new Set(board.frames.map(arpReplyFor(GATEWAY_IP)).filter((a) => a).map((a) => a!.senderMac))]).toEqual([GATEWAY_MAC]);
  });

  test("SNTP across the hub: 10.0.2.123:123 answers from chronyd on the host's 127.0.0.1", async () => {
    const request = ntpRequest();
    const reply = await board.exchange(udpFrame({ ethDst: GATEWAY_MAC, dst: GATEWAY_IP, srcPort: 50400, dstPort: 123, payload: request }), udpTo(50400), 10000);
    expect(reply && { src: reply.src, srcPort: reply.srcPort, dst: reply.dst, ipChecksumOk: reply.ipChecksumOk, udpChecksumOk: reply.udpChecksumOk })
      .toEqual({ src: GATEWAY_IP, srcPort: 123, dst: BOARD_IP, ipChecksumOk: true, udpChecksumOk: true });
    expectNtpReply(reply!.payload, request);
  });

  test("the problem it solves: restricted slirp drops the same request sent to the host through 10.0.2.2", async () => {
    // slirp maps 10.0.2.2 to the host's loopback: with restrict=off, this passes to chronyd and back.
    const reply = await board.exchange(udpFrame({ ethDst: SLIRP_MAC, dst: "10.0.2.2", srcPort: 50401, dstPort: chrony.port, payload: ntpRequest() }),
      udpTo(50401), 2000);
    expect(reply).toBeUndefined();
  });
});

// The checksums the tests above read are the test's own: checked on RFC 1071's example.
test("the test's Internet checksum: RFC 1071's example sums to 0xddf2 before inversion", () => {
  expect(checksum(Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]))).toBe(~0xddf2 & 0xffff);
});
