// SPDX-License-Identifier: MIT
// The Linux simulator's tuning, in one place: each value with its reason. The
// first section holds what the runtime and the modules read: every host states
// each of these under the same name (hosts/esp32/xm_host_config.h), and nothing
// supplies a default for one a host leaves out. The XS task is the process's
// main thread, so its stack (ulimit -s), priority and CPU are Linux's to choose.
#ifndef XM_HOST_CONFIG_H
#define XM_HOST_CONFIG_H

// ---- read by the runtime and the modules --------------------------------------

// The AsyncManager's poll task (xm_am_xs.c) runs mongoose's frames only, no
// JavaScript; 64 KiB holds a built-in TLS handshake with room for the larger
// frames of the sanitizer builds.
#define XM_HOST_POLL_STACK (64 * 1024)
// As on the device, above the XS task; the sim's port leaves scheduling to Linux.
#define XM_HOST_POLL_PRIORITY 5
// The poll task's wait for the XS task's answer to an event (xm_am_poll.c): a
// handler that answers at once does so well within 30 µs, and waking a sleeping
// thread costs tens of microseconds (port_queue_spin).
#define XM_HOST_POLL_SPIN_US 30
// The XS task's wait for the next message after a turn (xm_loop.c): about one
// request's round trip through the poll task.
#define XM_HOST_XS_SPIN_US 50
// Kept free below the engine's stack limit (port_stack_limit): the engine checks
// the limit only when it calls, and C code below its last check (printf,
// mongoose) still needs stack. AddressSanitizer's frames are several times larger.
#if defined(__SANITIZE_ADDRESS__)
#define XM_HOST_STACK_SPARE (256 * 1024)
#else
#define XM_HOST_STACK_SPARE (64 * 1024)
#endif
// The XS task's own queue (posted work, the poll task's event batches): 64
// messages of 8 bytes. A full queue makes a poster wait (xm_post), never drops;
// the same length as a device, so back-pressure shows up here first.
#define XM_HOST_XS_QUEUE 64

// An AsyncManager's command queue (XS task to poll task) when the app does not
// choose (commandQueueLength): a burst of sends past it throws, and memory is
// plentiful here.
#define XM_HOST_AM_COMMANDS 1024

// Bytes of message copies handed to JavaScript after which the AsyncManager has
// XS collect before the next event (xm_am_xs.c). Memory is plentiful here: about
// every few thousand small requests, so collections stay rare beside serving.
#define XM_HOST_AM_GARBAGE_BYTES (4 * 1024 * 1024)

// A listener's limits when the app does not choose (listen's headersTimeout,
// idleTimeout, maxConnections; core/conn_limits.c). A request head gets Node's
// default of 60 s to arrive whole. A connection quiet both ways for 2 minutes is
// closed: longer than browsers keep an idle HTTP connection open on their side,
// and memory is plentiful here. 4,096 accepted connections per listener: well
// above the benchmarks' and the soak's clients, below the file descriptors a
// session usually allows (ulimit -n), so accept() does not fail first.
#define XM_HOST_HEADERS_TIMEOUT_MS 60000
#define XM_HOST_IDLE_TIMEOUT_MS 120000
#define XM_HOST_MAX_CONNECTIONS 4096

// The share of a fixed-size XS chunk heap that network messages may not take
// (xm_mg_budget.c), as a divisor: 8 keeps an eighth for the handlers' own work
// (their response strings, promises, the headers they read), enough for a few
// small answers even when the rest holds request bodies.
#define XM_HOST_HEAP_RESERVE 8

#endif
