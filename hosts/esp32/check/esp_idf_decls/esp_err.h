// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF 5.x's esp_err.h, the part the port uses.
#pragma once

typedef int esp_err_t;

#define ESP_OK 0
#define ESP_ERR_NO_MEM 0x101

// The code's name ("ESP_ERR_NVS_NOT_FOUND"), for messages.
const char* esp_err_to_name(esp_err_t code);
