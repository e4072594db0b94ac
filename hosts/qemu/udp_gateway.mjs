// SPDX-License-Identifier: MIT
// The board's UDP to explicit services on the host's 127.0.0.1.
//
// The board's network is QEMU's user network (libslirp) with restrict=on, so no
// packet leaves the machine. In that mode slirp drops all of the guest's UDP but
// DHCP and TFTP, and its guestfwd rules are TCP only: SNTP from a chronyd on
// 127.0.0.1 cannot pass. This gateway is a second host on the board's Ethernet
// segment, beside slirp: a QEMU hub joins the board's NIC, slirp and a dgram
// netdev, which carries each Ethernet frame of the segment as one UDP datagram
// between QEMU and the gateway's socket. The gateway owns a few addresses of
// slirp's 10.0.2.0/24 that slirp leaves alone, answers ARP for them, and relays
// UDP sent to a rule's address:port to 127.0.0.1:hostPort and the replies back.
// It sends to nothing but 127.0.0.1. Every other frame (slirp's to the board,
// TCP, DHCP) is slirp's business and ignored here; slirp in turn ignores ARP
// for the gateway's addresses and drops the UDP it sees addressed to them.
import dgram from "node:dgram";

const LOOPBACK = "127.0.0.1";
// slirp's default network; its own hosts there: .2 the gateway, .3 DNS, and
// .15 to .30 handed out by its DHCP server (.15 first, the board's address).
const NETWORK = "10.0.2.";
const SLIRP_OWN = new Set([0, 2, 3, 255, ...Array.from({ length: 16 }, (_, i) => 15 + i)]);
// A relay for a board port that has been quiet this long is closed: lwIP picks a
// new source port for each new UDP socket (mongoose's SNTP opens one per query).
const IDLE_MS = 60_000;
// At most this many relays (one host socket each) at once; the least recently
// used is closed first, so a firmware cycling through ports holds few sockets.
const MAX_RELAYS = 32;
// What one frame carries: the board's lwIP has a 1500-byte MTU and the gateway
// does not fragment, so a bigger reply is dropped, with a line on stderr (no
// service a board is meant to use sends such replies).
const MAX_PAYLOAD = 1500 - 20 - 8;

const ETH_ARP = 0x0806;
const ETH_IPV4 = 0x0800;
const BROADCAST = Buffer.alloc(6, 0xff);

/**
 * Starts the gateway. rules: [{ address: "10.0.2.123", port: 123, hostPort }]:
 * UDP from the board to address:port goes to 127.0.0.1:hostPort. user: the
 * options of the board's user netdev after its id (e.g. "restrict=on,guestfwd=...");
 * device: the board's NIC. Resolves with qemuArgs (the whole network of the
 * board: slirp, the gateway and the NIC on hub 0), port (the gateway's UDP port
 * on 127.0.0.1, where QEMU's dgram netdev sends) and close(). Its sockets do
 * not keep Node alive: it serves a QEMU that its caller waits for.
 */
export async function startUdpGateway({ rules, user = "restrict=on", device = "virtio-net-device" }) {
  const owned = checkRules(rules, user);
  const socket = dgram.createSocket("udp4");
  await new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, LOOPBACK, () => (socket.off("error", reject), resolve()));
  });
  socket.unref();
  // A failed send loses a frame, as a wire would; the board's protocols retry.
  socket.on("error", () => {});
  // QEMU's end binds an ephemeral port (local.port=0: no port to guess or race
  // for); its first frame names it, and the gateway answers only that port.
  let qemuPort;
  const relays = new Map();
  const toBoard = (frame) => socket.send(frame, qemuPort, LOOPBACK);

  socket.on("message", (frame, from) => {
    if (from.address !== LOOPBACK) return;
    qemuPort ??= from.port;
    if (from.port !== qemuPort || frame.length < 14) return;
    const type = frame.readUInt16BE(12);
    if (type === ETH_ARP) {
      const reply = arpReply(frame, owned);
      if (reply) toBoard(reply);
    } else if (type === ETH_IPV4) {
      const datagram = boardUdp(frame, owned);
      const rule = datagram && rules.find((r) => r.address === datagram.to.address && r.port === datagram.to.port);
      if (rule) relay(rule, datagram);
    }
  });

  function relay(rule, datagram) {
    const key = `${datagram.mac.toString("hex")}/${datagram.from.address}:${datagram.from.port}>${rule.address}:${rule.port}`;
    let entry = relays.get(key);
    if (entry) relays.delete(key); // re-inserted last: the Map's order is the order of use
    else {
      if (relays.size >= MAX_RELAYS) closeRelay(relays.keys().next().value);
      entry = openRelay(key, rule, datagram);
    }
    relays.set(key, entry);
    entry.timer.refresh();
    entry.host.send(datagram.payload, rule.hostPort, LOOPBACK);
  }

  // A socket of its own per board port, so that replies find their way back:
  // those from the rule's service (127.0.0.1:hostPort) only go to the board, as
  // from the rule's address:port. (Sends wait for the bind; a connected socket
  // would filter the same way but refuses sends until its connect completes.)
  function openRelay(key, rule, datagram) {
    const host = dgram.createSocket("udp4");
    host.bind(0, LOOPBACK);
    host.unref();
    // A failed send is a lost datagram: the board sees no reply and retries.
    host.on("error", () => {});
    host.on("message", (payload, from) => {
      if (from.address !== LOOPBACK || from.port !== rule.hostPort) return;
      if (payload.length > MAX_PAYLOAD) {
        process.stderr.write(`xsmg: udp gateway: dropped a ${payload.length}-byte reply from ${LOOPBACK}:${rule.hostPort} ` +
          `(more than one frame; the gateway does not fragment)\n`);
        return;
      }
      const entry = relays.get(key);
      if (entry) entry.timer.refresh();
      toBoard(udpFrame({ mac: datagram.mac, from: { address: rule.address, port: rule.port }, to: datagram.from, payload }));
    });
    const timer = setTimeout(() => closeRelay(key), IDLE_MS);
    timer.unref();
    return { host, timer };
  }

  function closeRelay(key) {
    const entry = relays.get(key);
    relays.delete(key);
    clearTimeout(entry.timer);
    entry.host.close();
  }

  const port = socket.address().port;
  return {
    port,
    qemuArgs: [
      "-netdev", `user,id=xsmg-slirp,${user}`,
      "-netdev", "hubport,id=xsmg-slirp-port,hubid=0,netdev=xsmg-slirp",
      "-netdev", `dgram,id=xsmg-udpgw,local.type=inet,local.host=${LOOPBACK},local.port=0,` +
        `remote.type=inet,remote.host=${LOOPBACK},remote.port=${port}`,
      "-netdev", "hubport,id=xsmg-udpgw-port,hubid=0,netdev=xsmg-udpgw",
      "-netdev", "hubport,id=xsmg-nic,hubid=0",
      "-device", `${device},netdev=xsmg-nic`,
    ],
    close() {
      for (const key of [...relays.keys()]) closeRelay(key);
      socket.close();
    },
  };
}

// The gateway's addresses as 4-byte buffers keyed by their dotted form; refuses
// what would clash with slirp (its hosts, its DHCP pool, a guestfwd address) or
// lie outside the only network the gateway knows. Exported for xsmg run, which
// checks its options before the build.
export function checkRules(rules, user) {
  if (!rules.length) throw new Error("udp gateway: no rules (nothing for the board to reach)");
  if (/(^|,)(net|host|dhcpstart|dns)=/.test(user))
    throw new Error(`udp gateway: slirp options "${user}" change its network; the gateway knows only ${NETWORK}0/24`);
  const guestfwd = new Set([...user.matchAll(/guestfwd=(?:tcp)?:([\d.]+):/g)].map((m) => m[1]));
  const owned = new Map();
  const seen = new Set();
  for (const rule of rules) {
    const name = `udp ${rule.address}:${rule.port} -> ${LOOPBACK}:${rule.hostPort}`;
    const last = rule.address.startsWith(NETWORK) ? Number(rule.address.slice(NETWORK.length)) : NaN;
    if (!(Number.isInteger(last) && String(last) === rule.address.slice(NETWORK.length) && last >= 0 && last <= 255))
      throw new Error(`udp gateway: ${name}: the address must be in slirp's network ${NETWORK}0/24`);
    if (SLIRP_OWN.has(last) || guestfwd.has(rule.address))
      throw new Error(`udp gateway: ${name}: ${rule.address} is slirp's (its gateway, DNS, DHCP pool .15-.30 or a guestfwd address)`);
    for (const p of [rule.port, rule.hostPort])
      if (!(Number.isInteger(p) && p > 0 && p < 65536)) throw new Error(`udp gateway: ${name}: ports are 1 to 65535`);
    if (seen.has(`${rule.address}:${rule.port}`)) throw new Error(`udp gateway: ${name}: a second rule for ${rule.address}:${rule.port}`);
    seen.add(`${rule.address}:${rule.port}`);
    owned.set(rule.address, Buffer.from(rule.address.split(".").map(Number)));
  }
  return owned;
}

// slirp's own convention for its virtual hosts' MACs: 52:55 then the IPv4 address.
function macOf(ip) {
  return Buffer.concat([Buffer.from([0x52, 0x55]), ip]);
}

function dotted(buf, at) {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

// The reply to an ARP request (Ethernet, IPv4) for one of the gateway's addresses.
function arpReply(frame, owned) {
  if (frame.length < 42 || frame.readUInt16BE(14) !== 1 || frame.readUInt16BE(16) !== ETH_IPV4 ||
      frame[18] !== 6 || frame[19] !== 4 || frame.readUInt16BE(20) !== 1) return undefined;
  const ip = owned.get(dotted(frame, 38));
  if (!ip) return undefined;
  const mac = macOf(ip);
  const dst = frame.subarray(0, 6);
  if (!dst.equals(BROADCAST) && !dst.equals(mac)) return undefined;
  const reply = Buffer.alloc(60); // the Ethernet minimum, zero padded
  frame.copy(reply, 0, 22, 28); // to the requester's hardware address
  mac.copy(reply, 6);
  reply.writeUInt16BE(ETH_ARP, 12);
  frame.copy(reply, 14, 14, 20); // hardware and protocol types and sizes
  reply.writeUInt16BE(2, 20);
  mac.copy(reply, 22);
  ip.copy(reply, 28);
  frame.copy(reply, 32, 22, 32); // the requester's hardware and protocol addresses
  return reply;
}

// { mac, from, to, payload } of an unfragmented IPv4/UDP frame sent to one of
// the gateway's addresses and its MAC, with valid checksums; else undefined.
function boardUdp(frame, owned) {
  if (frame.length < 14 + 20) return undefined;
  const ip = frame.subarray(14);
  const headerLength = (ip[0] & 0x0f) * 4;
  const totalLength = ip.readUInt16BE(2);
  if (ip[0] >> 4 !== 4 || headerLength < 20 || totalLength < headerLength + 8 || totalLength > ip.length || ip[9] !== 17) return undefined;
  if ((ip.readUInt16BE(6) & 0x3fff) !== 0) return undefined; // a fragment (MF set or an offset)
  if (checksum(ip.subarray(0, headerLength)) !== 0) return undefined;
  const to = owned.get(dotted(ip, 16));
  if (!to || !frame.subarray(0, 6).equals(macOf(to))) return undefined;
  const udp = ip.subarray(headerLength, totalLength);
  const udpLength = udp.readUInt16BE(4);
  if (udpLength < 8 || udpLength > udp.length) return undefined;
  if (udp.readUInt16BE(6) !== 0 && checksum(pseudoHeader(ip.subarray(12, 16), ip.subarray(16, 20), udpLength), udp.subarray(0, udpLength)) !== 0)
    return undefined;
  return {
    mac: Buffer.from(frame.subarray(6, 12)),
    from: { address: dotted(ip, 12), port: udp.readUInt16BE(0) },
    to: { address: dotted(ip, 16), port: udp.readUInt16BE(2) },
    payload: Buffer.from(udp.subarray(8, udpLength)),
  };
}

let ipId = 0;

// An Ethernet/IPv4/UDP frame from one of the gateway's addresses to the board.
function udpFrame({ mac, from, to, payload }) {
  const src = Buffer.from(from.address.split(".").map(Number));
  const dst = Buffer.from(to.address.split(".").map(Number));
  const udpLength = 8 + payload.length;
  const frame = Buffer.alloc(Math.max(60, 14 + 20 + udpLength));
  mac.copy(frame, 0);
  macOf(src).copy(frame, 6);
  frame.writeUInt16BE(ETH_IPV4, 12);
  const ip = frame.subarray(14, 14 + 20 + udpLength);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udpLength, 2);
  ip.writeUInt16BE((ipId = (ipId + 1) & 0xffff), 4);
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64;
  ip[9] = 17;
  src.copy(ip, 12);
  dst.copy(ip, 16);
  ip.writeUInt16BE(checksum(ip.subarray(0, 20)), 10);
  const udp = ip.subarray(20);
  udp.writeUInt16BE(from.port, 0);
  udp.writeUInt16BE(to.port, 2);
  udp.writeUInt16BE(udpLength, 4);
  payload.copy(udp, 8);
  // 0 means "no checksum" in UDP over IPv4, so a computed 0 is sent as 0xffff.
  udp.writeUInt16BE(checksum(pseudoHeader(src, dst, udpLength), udp) || 0xffff, 6);
  return frame;
}

function pseudoHeader(src, dst, udpLength) {
  const header = Buffer.alloc(12);
  src.copy(header, 0);
  dst.copy(header, 4);
  header[9] = 17;
  header.writeUInt16BE(udpLength, 10);
  return header;
}

// The Internet checksum (RFC 1071) over the buffers in order, each of even
// length but the last: 0 when the data carries a correct checksum.
function checksum(...buffers) {
  let sum = 0;
  for (const b of buffers) {
    for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
    if (b.length % 2) sum += b[b.length - 1] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
