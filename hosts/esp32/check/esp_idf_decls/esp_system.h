// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF 5.x's esp_system.h, the part the port uses.
#pragma once

#include <stdint.h>

#include "esp_err.h"

void esp_restart(void) __attribute__((__noreturn__));

uint32_t esp_get_free_heap_size(void);
