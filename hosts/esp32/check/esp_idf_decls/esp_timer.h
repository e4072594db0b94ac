// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF 5.x's esp_timer.h, the part the port uses.
#pragma once

#include <stdint.h>
#include "esp_err.h"

// Microseconds since boot (ESP-IDF: components/esp_timer/include/esp_timer.h).
int64_t esp_timer_get_time(void);
