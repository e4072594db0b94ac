// SPDX-License-Identifier: MIT
// The seed inputs of each fuzz target (test/fuzz/fuzz_*.c says what its first
// byte means): well-formed traffic, and the cases the core's workarounds are for.
const b = (...parts) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

// A DNS response to one question for fuzz.test (id 0: the target sets it).
function dns(qtype, answers) {
  const name = [4, ..."fuzz".split("").map((c) => c.charCodeAt(0)), 4, ..."test".split("").map((c) => c.charCodeAt(0)), 0];
  const head = [0, 0, 0x81, 0x80, 0, 1, 0, answers.length, 0, 0, 0, 0];
  return b(head, name, [0, qtype, 0, 1], ...answers.map((rdata) =>
    b([0xc0, 12, 0, qtype, 0, 1, 0, 0, 0, 60, 0, rdata.length], rdata)));
}
const withLength = (first, rest) => b([first.length], first, rest);

export const SEEDS = {
  fuzz_http: [
    b([0x7f], "GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    b([0x84], "POST /x?y=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\n\r\n"),
    b([0x7f], "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
    b([0x7f], "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    b([0x10], "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    b([0x7f], "PUT /big HTTP/1.1\r\nContent-Length: 999999\r\n\r\nxyz"),
    b([0x7f], "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
  ],
  fuzz_ws: [
    b([0x3f], [0x81, 0x82, 1, 2, 3, 4], [0x69 ^ 1, 0x69 ^ 2]),
    b([0x02], [0x01, 0x81, 0, 0, 0, 0, 0x61, 0x89, 0x80, 0, 0, 0, 0, 0x80, 0x81, 0, 0, 0, 0, 0x62]),
    b([0x3f], [0x88, 0x84, 0, 0, 0, 0, 0x03, 0xe8, 0x6f, 0x6b]),
    b([0x3f], [0x82, 0xfe, 0, 130, 0, 0, 0, 0], Buffer.alloc(130, 0x41)),
    b([0x7f], [0x81, 0x02, 0x68, 0x69, 0x8a, 0x00]),
    b([0x3f], [0x81, 0x02, 0x68, 0x69]),
  ],
  fuzz_mqtt: [
    b([0x7f], [0x20, 3, 0, 0, 0]),
    b([0x7f], [0x30, 5, 0, 1, 0x74, 0, 0x31]),
    b([0x7f], [0x30, 4, 0, 1, 0x74, 0]),
    b([0x01], [0x32, 7, 0, 1, 0x74, 0, 7, 0, 0x7a]),
    b([0x7f], [0x30, 15, 0, 1, 0x74, 10, 0x26, 0, 1, 0x6b, 0, 1, 0x76, 0x01, 0x01, 0x78]),
    b([0x7f], [0x90, 4, 0, 1, 0, 0, 0xd0, 0]),
    b([0xff], [0x30, 6, 0, 1, 0x74, 0x61, 0x62, 0x63]),
  ],
  fuzz_dns: [
    withLength(dns(1, [[93, 184, 216, 34]]), b()),
    withLength(dns(1, []), dns(28, [])),
    withLength(dns(1, []), dns(28, [[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]])),
  ],
  fuzz_json: [
    b('"Zo\\u00eb"'),
    b('{"a":"\\ud83d\\ude00","b":[1,2]}'),
    b('"\\u0000\\n\\t\\"\\\\"'),
    b('"bad \\x"'),
    b('"\\ud83dx\xff"'),
  ],
};
