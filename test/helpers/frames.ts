// SPDX-License-Identifier: MIT
// The board's side of an Ethernet segment, for tests that play the board or
// QEMU: ARP and IPv4/UDP frames written and read byte by byte (RFC 826, 791, 768).
import dgram from "dgram";

export const BOARD_MAC = "52:54:00:12:34:56"; // QEMU's default NIC address
export const BOARD_IP = "10.0.2.15"; // what slirp's DHCP gives the board first
export const SLIRP_MAC = "52:55:0a:00:02:02"; // slirp's gateway, 10.0.2.2
export const BROADCAST_MAC = "ff:ff:ff:ff:ff:ff";

const mac = (s: string) => Buffer.from(s.replace(/:/g, ""), "hex");
const ip = (s: string) => Buffer.from(s.split(".").map(Number));
const macText = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
const ipText = (b: Buffer) => [...b].join(".");

/** The Internet checksum over the buffers in order; 0 over data that carries a correct one. */
export function checksum(...buffers: Buffer[]): number {
  const all = Buffer.concat(buffers);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += (all[i] << 8) | (all[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudo(src: Buffer, dst: Buffer, length: number): Buffer {
  const p = Buffer.alloc(12);
  src.copy(p, 0);
  dst.copy(p, 4);
  p[9] = 17;
  p.writeUInt16BE(length, 10);
  return p;
}

/** An ARP request from the board for target's hardware address (broadcast). */
export function arpRequest(target: string, from = { mac: BOARD_MAC, ip: BOARD_IP }): Buffer {
  const f = Buffer.alloc(42);
  mac(BROADCAST_MAC).copy(f, 0);
  mac(from.mac).copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  Buffer.from([0, 1, 8, 0, 6, 4, 0, 1]).copy(f, 14);
  mac(from.mac).copy(f, 22);
  ip(from.ip).copy(f, 28);
  ip(target).copy(f, 38);
  return f;
}

/** The board's answer to an ARP request for its own address. */
export function arpReply(request: Arp, from = { mac: BOARD_MAC, ip: BOARD_IP }): Buffer {
  const f = Buffer.alloc(42);
  mac(request.senderMac).copy(f, 0);
  mac(from.mac).copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  Buffer.from([0, 1, 8, 0, 6, 4, 0, 2]).copy(f, 14);
  mac(from.mac).copy(f, 22);
  ip(from.ip).copy(f, 28);
  mac(request.senderMac).copy(f, 32);
  ip(request.senderIp).copy(f, 38);
  return f;
}

export interface Arp { op: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string; ethDst: string; ethSrc: string }

export function parseArp(f: Buffer): Arp | undefined {
  if (f.length < 42 || f.readUInt16BE(12) !== 0x0806) return undefined;
  return {
    ethDst: macText(f.subarray(0, 6)), ethSrc: macText(f.subarray(6, 12)), op: f.readUInt16BE(20),
    senderMac: macText(f.subarray(22, 28)), senderIp: ipText(f.subarray(28, 32)),
    targetMac: macText(f.subarray(32, 38)), targetIp: ipText(f.subarray(38, 42)),
  };
}

export interface Udp {
  ethDst: string; ethSrc: string; src: string; dst: string; srcPort: number; dstPort: number; payload: Buffer;
  ipChecksumOk: boolean; udpChecksumOk: boolean;
}

/** An Ethernet/IPv4/UDP frame; ipChecksum overrides the computed one (to send a bad one). */
export function udpFrame(u: { ethDst: string; ethSrc?: string; src?: string; dst: string; srcPort: number; dstPort: number; payload: Buffer; ipChecksum?: number }): Buffer {
  const src = ip(u.src ?? BOARD_IP), dst = ip(u.dst);
  const length = 8 + u.payload.length;
  const f = Buffer.alloc(14 + 20 + length);
  mac(u.ethDst).copy(f, 0);
  mac(u.ethSrc ?? BOARD_MAC).copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  const h = f.subarray(14, 34);
  h[0] = 0x45;
  h.writeUInt16BE(20 + length, 2);
  h[8] = 64;
  h[9] = 17;
  src.copy(h, 12);
  dst.copy(h, 16);
  h.writeUInt16BE(u.ipChecksum ?? checksum(h), 10);
  const d = f.subarray(34);
  d.writeUInt16BE(u.srcPort, 0);
  d.writeUInt16BE(u.dstPort, 2);
  d.writeUInt16BE(length, 4);
  u.payload.copy(d, 8);
  d.writeUInt16BE(checksum(pseudo(src, dst, length), d) || 0xffff, 6);
  return f;
}

export function parseUdp(f: Buffer): Udp | undefined {
  if (f.length < 42 || f.readUInt16BE(12) !== 0x0800 || f[23] !== 17) return undefined;
  const h = f.subarray(14, 14 + (f[14] & 15) * 4);
  const d = f.subarray(14 + h.length, 14 + f.readUInt16BE(16));
  const length = d.readUInt16BE(4);
  return {
    ethDst: macText(f.subarray(0, 6)), ethSrc: macText(f.subarray(6, 12)),
    src: ipText(h.subarray(12, 16)), dst: ipText(h.subarray(16, 20)), srcPort: d.readUInt16BE(0), dstPort: d.readUInt16BE(2),
    payload: d.subarray(8, length), ipChecksumOk: checksum(h) === 0,
    udpChecksumOk: d.readUInt16BE(6) === 0 || checksum(pseudo(h.subarray(12, 16), h.subarray(16, 20), length), d.subarray(0, length)) === 0,
  };
}

/** An NTP v4 client request whose transmit timestamp is 8 random bytes (the reply's originate timestamp). */
export function ntpRequest(): Buffer {
  const r = Buffer.alloc(48);
  r[0] = (4 << 3) | 3;
  for (let i = 40; i < 48; i++) r[i] = Math.floor(Math.random() * 256);
  return r;
}

/** One end of QEMU's dgram netdev: frames in, frames out, on 127.0.0.1. */
export class Segment {
  readonly frames: Buffer[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: dgram.Socket, private peer?: number) {
    socket.on("message", (f) => {
      this.frames.push(f);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(peer?: number): Promise<Segment> {
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
    return new Segment(socket, peer);
  }
  get port(): number {
    return this.socket.address().port;
  }
  connectTo(peer: number): void {
    this.peer = peer;
  }
  send(frame: Buffer): void {
    this.socket.send(frame, this.peer!, "127.0.0.1");
  }
  /** Sends frame every 250 ms (QEMU may not be listening yet) until a received frame passes pick; undefined after timeoutMs. */
  async exchange<T>(frame: Buffer | undefined, pick: (f: Buffer) => T | undefined, timeoutMs: number): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      if (frame) this.send(frame);
      const next = Math.min(deadline, Date.now() + 250);
      while (Date.now() < next) {
        for (; seen < this.frames.length; seen++) {
          const found = pick(this.frames[seen]);
          if (found !== undefined) return found;
        }
        await new Promise<void>((r) => {
          const t = setTimeout(r, next - Date.now());
          this.waiters.push(() => (clearTimeout(t), r()));
        });
      }
      if (Date.now() >= deadline) return undefined;
    }
  }
  close(): void {
    this.socket.close();
  }
}
