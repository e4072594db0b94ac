// SPDX-License-Identifier: MIT
// The esp32 host's tuning, in one place: each value with its reason. Stacks are
// in bytes (ESP-IDF counts them so); priorities are FreeRTOS priorities, which
// under ESP-IDF 5.x run from 0 (idle) to 24. Nothing here was measured on a
// board yet: the stack sizes in particular are to be checked there with
// uxTaskGetStackHighWaterMark. The first section holds what the runtime and the
// modules read: every host states each of these under the same name
// (hosts/linux-sim/xm_host_config.h), and nothing supplies a default.
#ifndef XM_HOST_CONFIG_H
#define XM_HOST_CONFIG_H

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

// ---- read by the runtime and the modules --------------------------------------

// The AsyncManager's poll task (xm_am_xs.c) runs mongoose's frames only, no
// JavaScript; a built-in TLS handshake is the deepest of them. 12 KiB, not the
// simulator's 64 (a fifth of an ESP32-C3's RAM), until measured on a board.
#define XM_HOST_POLL_STACK (12 * 1024)
// Above the XS task (4), so events are read while JavaScript runs, and below
// lwIP's tcpip task (18), which the poll task waits for.
#define XM_HOST_POLL_PRIORITY 5
// No spinning (xm_am_poll.c, xm_loop.c): a blocked FreeRTOS task wakes within
// microseconds of a post, and port_queue_spin here only looks at the queue.
#define XM_HOST_POLL_SPIN_US 0
#define XM_HOST_XS_SPIN_US 0
// Kept free below the engine's stack limit (port_stack_limit): the engine
// checks the limit only when it calls, and what runs below its last check
// (console formatting, a synchronous mg_mgr_poll with a TLS handshake) needs it.
#define XM_HOST_STACK_SPARE (6 * 1024)
// An AsyncManager's command queue when the app does not choose
// (commandQueueLength): 256 commands of 24 bytes hold a burst of sends in 6 KiB,
// where the simulator's 1,024 would take 24 KiB.
#define XM_HOST_AM_COMMANDS 256

// Bytes of message copies (requests, WebSocket and MQTT messages) handed to
// JavaScript after which the AsyncManager has XS collect before the next event
// (xm_am_xs.c): answered requests free their copies then, not when XS's own heap
// is full. About two small requests: on the virtual board at --ram 256, where
// about 15 KB of the C heap was left for serving, 8 KiB of garbage copies and four
// connections' buffers already ran out; a collection of the esp32 profile's heap
// is short beside a request. With 16 clients at a time and 12 connections open
// on the board (one heap of 248,504 bytes), 1 KiB and 4 KiB did no better than 2
// KiB (two runs each: both and one out of memory): that peak is the open
// connections', not the copies' (hosts/qemu/xm_host_config.h).
#define XM_HOST_AM_GARBAGE_BYTES (2 * 1024)

// A listener's limits when the app does not choose (listen's headersTimeout,
// idleTimeout, maxConnections; core/conn_limits.c): each connection holds one of
// lwIP's few sockets (XM_HOST_LWIP_MAX_SOCKETS), so one that is slow or silent
// gives it back sooner than on the simulator. 10 s for a request head, 30 s of
// silence both ways. 8 accepted connections per listener: with the
// AsyncManager's wakeup pair (2 sockets) and the listener (1), 11 of the 16
// sockets, which leaves 5 for the resolver and outgoing connections (MQTT,
// fetch, SNTP) however many clients come.
#define XM_HOST_HEADERS_TIMEOUT_MS 10000
#define XM_HOST_IDLE_TIMEOUT_MS 30000
#define XM_HOST_MAX_CONNECTIONS 8

// The share of a fixed-size XS chunk heap that network messages may not take
// (xm_mg_budget.c), as a divisor: 8 keeps an eighth for the handlers' own work
// (their response strings, promises, the headers they read), enough for a few
// small answers even when the rest holds request bodies.
#define XM_HOST_HEAP_RESERVE 8

// ---- the XS task (main.c) -------------------------------------------------

// Moddable's XS task priority: above ESP-IDF's main task (1), below lwIP's
// tcpip task (18) and Wi-Fi (23), so JavaScript never delays the network.
#define XM_HOST_XS_PRIORITY 4
// Moddable gives its XS task about 10 KiB. Ours also runs mongoose's poll when
// an app uses the synchronous Manager (TLS handshakes included), so 16 KiB, as
// MicroPython gives its task.
#define XM_HOST_XS_STACK (16 * 1024)
// Dual-core chips (ESP32, S3): core 1, as MicroPython pins its task, away from
// core 0 where ESP-IDF runs Wi-Fi. One core (C3): no affinity to ask for.
#if portNUM_PROCESSORS > 1
#define XM_HOST_XS_CORE 1
#else
#define XM_HOST_XS_CORE tskNO_AFFINITY
#endif

// ---- other tasks (port_task_create) --------------------------------------------

// Either core: the poll task mostly waits in lwIP's select.
#define XM_HOST_TASK_CORE tskNO_AFFINITY
// For a caller that asks for no particular size (0): ESP-IDF's own small tasks
// (esp_http_server) get 4 KiB. Other requests are taken as they are: a task
// that does not fit in memory is not created (port_task_create returns NULL).
#define XM_HOST_TASK_STACK_DEFAULT (4 * 1024)
// Requested priorities are clamped to this range: at idle priority (0) a busy
// task would starve the idle task and trip the task watchdog; at or above
// lwIP's tcpip task (18) it could starve the network it waits for.
#define XM_HOST_PRIORITY_MIN 1
#define XM_HOST_PRIORITY_MAX 17

// ---- queues ------------------------------------------------------------------
// The XS task's own queue (timers' peers, the poll task's event batches, posted
// work): 64 messages of 8 bytes, 512 bytes. A full queue makes a poster wait
// (xm_post), never drops: 64 covers a burst of batches from one poll round.
#define XM_HOST_XS_QUEUE 64

// The lengths below are lwIP's, set through a board build's sdkconfig
// (CONFIG_LWIP_*); the check build's lwipopts.h reads them.

// mongoose uses a BSD socket per connection and listener, plus two for each
// manager's wakeup pair: ESP-IDF's default of 10 leaves about 6 connections.
#define XM_HOST_LWIP_MAX_SOCKETS 16
// Datagrams queued per UDP socket (ESP-IDF's default). mongoose's wakeup pair is
// one: the AsyncManager keeps at most one wakeup datagram in flight, so 6 holds.
#define XM_HOST_LWIP_UDP_RECVMBOX 6
// Segments queued per TCP socket before lwIP stops acknowledging (ESP-IDF's default).
#define XM_HOST_LWIP_TCP_RECVMBOX 6
// Messages queued for lwIP's tcpip task from every socket call (ESP-IDF's default).
#define XM_HOST_LWIP_TCPIP_MBOX 32
// Connections lwIP has completed that wait for accept() (ESP-IDF's
// CONFIG_LWIP_TCP_ACCEPTMBOX_SIZE default): lwIP resets those beyond it.
#define XM_HOST_LWIP_ACCEPTMBOX 6
// TCP connections lwIP keeps at once (ESP-IDF's CONFIG_LWIP_MAX_ACTIVE_TCP default).
#define XM_HOST_LWIP_TCP_PCBS 16

// ---- fatal errors ------------------------------------------------------------

// 1: port_fatal restarts the chip (a field device recovers by itself). 0: the
// failing task stops where it is, for a debugger to look at.
#define XM_HOST_FATAL_RESTART 1

#endif
