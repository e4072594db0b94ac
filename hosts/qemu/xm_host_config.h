// SPDX-License-Identifier: MIT
// The virtual board's tuning: hosts/esp32's, but for lwIP's connection counts.
// The board stands for a 2 MB ESP32-S3-class device serving many clients at once
// (the tests hold 50 connections open together); ESP-IDF's defaults (16 sockets,
// 6 connections waiting for accept) refuse or reset such a burst: with 12 connects
// at once lwIP reset 6, and past about 13 connections accept() failed with ENFILE.
// A board build would set the same through sdkconfig. All of it comes out of the
// --ram budget: sockets, pcbs and mailboxes are malloc'd (MEMP_MEM_MALLOC) or
// taken from the kernel's heap (the mailboxes are FreeRTOS queues).
//
// hosts/qemu comes first on the board's include path (CMakeLists.txt), so every
// file that includes "xm_host_config.h" gets this one but hosts/esp32's own .c
// files, which find theirs beside them; lwIP's numbers are read only through
// lwipopts.h, which gets this one everywhere, so lwIP agrees with itself.
#ifndef XM_QEMU_HOST_CONFIG_H
#define XM_QEMU_HOST_CONFIG_H

#include "../esp32/xm_host_config.h"

// 50 clients, a listener, a manager's wakeup pair and a resolver, with room; at
// most 64, picolibc's FD_SETSIZE, as mongoose waits in select().
#undef XM_HOST_LWIP_MAX_SOCKETS
#define XM_HOST_LWIP_MAX_SOCKETS 64
#undef XM_HOST_LWIP_TCP_PCBS
#define XM_HOST_LWIP_TCP_PCBS 64
// A burst of 50 connects completes in lwIP before mongoose accepts the first:
// each must find room in the accept mailbox (4 bytes an entry).
#undef XM_HOST_LWIP_ACCEPTMBOX
#define XM_HOST_LWIP_ACCEPTMBOX 64
// Received frames reach lwIP's tcpip task through this mailbox too, posted by the
// receive task (priority 23) faster than the tcpip task (18) takes them: 50
// connects at once overflowed it at 64 (11 frames dropped, counted with a
// temporary print in netif.c), and slirp resends a lost SYN only after seconds.
// None were dropped at 256 (six bursts of 50). 4 bytes an entry.
#undef XM_HOST_LWIP_TCPIP_MBOX
#define XM_HOST_LWIP_TCPIP_MBOX 256

#endif
