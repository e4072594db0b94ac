// SPDX-License-Identifier: MIT
// The network main.c waits for before it starts the app: Wi-Fi on a board
// (wifi.c), virtio-net on the virtual board (hosts/qemu/netif.c).
#ifndef XM_NET_H
#define XM_NET_H

#include <stdbool.h>

// app_main, after NVS is initialised: brings the network up and calls ready
// once, on a system task (ESP-IDF's event task, lwIP's tcpip task), when the
// first IPv4 address is up; later losses are the network's to recover from,
// without calling ready again. Returns false, saying why on the console, when
// there is no network to wait for: ready is then never called.
bool xm_net_start(void (*ready)(void));

#endif
