// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF 5.x's esp_random.h, the part the port uses.
#pragma once

#include <stddef.h>
#include <stdint.h>

void esp_fill_random(void* buf, size_t len);
