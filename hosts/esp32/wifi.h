// SPDX-License-Identifier: MIT
// Wi-Fi station bring-up (wifi.c).
#ifndef XM_WIFI_H
#define XM_WIFI_H

#include <stdbool.h>

// app_main, after NVS is initialised: starts the station with the stored or
// built-in credentials and calls ready once, on ESP-IDF's event task, when the
// first IPv4 address is up; later losses are retried with backoff, without
// calling ready again. Returns false, saying why on the console, when there
// are no credentials or Wi-Fi cannot start: ready is then never called.
bool xm_wifi_start(void (*ready)(void));

#endif
