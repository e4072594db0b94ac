// SPDX-License-Identifier: MIT
// The virtual board's tuning: hosts/esp32's, but for lwIP's TCP connection
// count and its hook that enforces it.
//
// hosts/qemu comes first on the board's include path (CMakeLists.txt), so every
// file that includes "xm_host_config.h" gets this one but hosts/esp32's own .c
// files, which find theirs beside them; lwIP's numbers are read only through
// lwipopts.h, which gets this one everywhere, so lwIP agrees with itself.
#ifndef XM_QEMU_HOST_CONFIG_H
#define XM_QEMU_HOST_CONFIG_H

#include "../esp32/xm_host_config.h"

// An AsyncManager's poll task: hosts/esp32 gives it 12 KiB for a built-in TLS
// handshake, unmeasured on a board. Measured here (--stats' board-ram line: the
// demo, and an app answering 200 requests from 16 clients at a time): it never
// used more than 2,012 bytes. No board test runs TLS, so 4 KiB, twice that.
#undef XM_HOST_POLL_STACK
#define XM_HOST_POLL_STACK (4 * 1024)

// The board keeps esp32's socket and mailbox counts (16 sockets, an accept
// mailbox of 6, a tcpip mailbox of 32): a device's, where it once had 64 of
// each for 50 clients at once. A burst beyond them waits: lwIP drops the SYNs
// of clients past the listen backlog (TCP_LISTEN_BACKLOG, mongoose listening
// with the accept mailbox's length) and past the connection count below, and
// the clients send them again. 8 TCP connections, not ESP-IDF's 16: each open
// one holds about 2 KB of the heap (lwIP's pcb, netconn, mailbox and segments,
// mongoose's connection and buffers, the AsyncManager's copy of its request),
// and at --ram 256 about 21 KB of the heap is free after boot. Measured with an
// app answering 200 requests from 16 clients at a time (--stats' board-ram:
// heap of 248,504): with 12, one of three runs was clean (peak 246,224), in
// two the heap filled (248,408) and 2 and 7 requests failed; 10 peaked at
// 246,216 (one run); 8 at 240,696 and 243,256 (two runs, all answered).
// Fewer than the 16 sockets also leaves one each for the listener, a manager's
// wakeup pair and a resolver, so that accept() never fails for want of a
// socket (ENFILE, which makes lwIP reset a client whose request is waiting).
#undef XM_HOST_LWIP_TCP_PCBS
#define XM_HOST_LWIP_TCP_PCBS 8
// A listener's limits are esp32's (XM_HOST_MAX_CONNECTIONS 8 and the timeouts):
// lwIP's 8 TCP connections run out before that cap does.
// tcp_cap.c counts them: stock lwIP does not with MEMP_MEM_MALLOC.
#define LWIP_HOOK_FILENAME "lwip_hooks.h"

#endif
