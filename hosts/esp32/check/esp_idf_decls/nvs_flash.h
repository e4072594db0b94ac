// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF 5.x's nvs_flash.h, the part the port uses. Like
// ESP-IDF's, it includes nvs.h (which has the NVS error codes).
#pragma once

#include "nvs.h"

esp_err_t nvs_flash_init(void);
esp_err_t nvs_flash_erase(void);
