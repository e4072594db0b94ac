#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// A --reach rule's far end: QEMU (guestfwd=...-cmd:) starts this once per
// connection the board opens to the rule's address, with that connection as
// standard input and output, and it carries the bytes both ways to
// 127.0.0.1:PORT. A refused or reset connection closes the board's.
//   node relay.mjs PORT
import net from "node:net";

const socket = net.connect(Number(process.argv[2]), "127.0.0.1");
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on("error", () => process.exit(1));
process.stdin.on("error", () => socket.destroy());
