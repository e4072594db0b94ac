// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF 5.x's nvs_flash.h, the part the port uses, with the
// two error codes ESP-IDF declares in nvs.h (which nvs_flash.h includes).
#pragma once

#include "esp_err.h"

#define ESP_ERR_NVS_BASE 0x1100
#define ESP_ERR_NVS_NO_FREE_PAGES (ESP_ERR_NVS_BASE + 0x0d)
#define ESP_ERR_NVS_NEW_VERSION_FOUND (ESP_ERR_NVS_BASE + 0x10)

esp_err_t nvs_flash_init(void);
esp_err_t nvs_flash_erase(void);
