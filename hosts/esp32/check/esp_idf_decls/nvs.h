// SPDX-License-Identifier: MIT
// Check build only: ESP-IDF 5.x's nvs.h, the part the port and the config
// store (modules/config/esp32) use, with ESP-IDF's names, values and signatures.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "esp_err.h"

#define ESP_ERR_NVS_BASE 0x1100
#define ESP_ERR_NVS_NOT_FOUND (ESP_ERR_NVS_BASE + 0x02)
#define ESP_ERR_NVS_INVALID_LENGTH (ESP_ERR_NVS_BASE + 0x0c)
#define ESP_ERR_NVS_NO_FREE_PAGES (ESP_ERR_NVS_BASE + 0x0d)
#define ESP_ERR_NVS_NEW_VERSION_FOUND (ESP_ERR_NVS_BASE + 0x10)

typedef uint32_t nvs_handle_t;

typedef enum {
	NVS_READONLY,
	NVS_READWRITE,
} nvs_open_mode_t;

typedef enum {
	NVS_TYPE_U8 = 0x01,
	NVS_TYPE_I8 = 0x11,
	NVS_TYPE_U16 = 0x02,
	NVS_TYPE_I16 = 0x12,
	NVS_TYPE_U32 = 0x04,
	NVS_TYPE_I32 = 0x14,
	NVS_TYPE_U64 = 0x08,
	NVS_TYPE_I64 = 0x18,
	NVS_TYPE_STR = 0x21,
	NVS_TYPE_BLOB = 0x42,
	NVS_TYPE_ANY = 0xff,
} nvs_type_t;

esp_err_t nvs_open(const char* namespace_name, nvs_open_mode_t open_mode, nvs_handle_t* out_handle);
void nvs_close(nvs_handle_t handle);
esp_err_t nvs_commit(nvs_handle_t handle);
esp_err_t nvs_find_key(nvs_handle_t handle, const char* key, nvs_type_t* out_type);
esp_err_t nvs_erase_key(nvs_handle_t handle, const char* key);

esp_err_t nvs_set_u8(nvs_handle_t handle, const char* key, uint8_t value);
esp_err_t nvs_set_i32(nvs_handle_t handle, const char* key, int32_t value);
esp_err_t nvs_set_u64(nvs_handle_t handle, const char* key, uint64_t value);
esp_err_t nvs_set_str(nvs_handle_t handle, const char* key, const char* value);
esp_err_t nvs_set_blob(nvs_handle_t handle, const char* key, const void* value, size_t length);

esp_err_t nvs_get_u8(nvs_handle_t handle, const char* key, uint8_t* out_value);
esp_err_t nvs_get_i32(nvs_handle_t handle, const char* key, int32_t* out_value);
esp_err_t nvs_get_u64(nvs_handle_t handle, const char* key, uint64_t* out_value);
// With out_value NULL, *length is set to the size needed (for strings, with the NUL).
esp_err_t nvs_get_str(nvs_handle_t handle, const char* key, char* out_value, size_t* length);
esp_err_t nvs_get_blob(nvs_handle_t handle, const char* key, void* out_value, size_t* length);
