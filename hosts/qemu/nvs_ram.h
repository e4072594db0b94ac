// SPDX-License-Identifier: MIT
// The in-RAM NVS (nvs_ram.c) beyond ESP-IDF's API: what test/config-nvs looks at.
#ifndef XM_QEMU_NVS_RAM_H
#define XM_QEMU_NVS_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"

// ESP-IDF's generic failure, which the check build's esp_err.h leaves out: a
// --config file the board cannot write (nvs_file.c).
#define ESP_FAIL -1

// How a get of a key stored with another type fails: ESP_ERR_NVS_NOT_FOUND
// (false, the default) or ESP_ERR_NVS_TYPE_MISMATCH (true); ESP-IDF versions differ.
extern bool nvs_ram_type_mismatch;

// The type a key is stored with ("u8", "i32", "u64", "str", "blob"), or "none".
const char* nvs_ram_type(const char* ns, const char* key);
size_t nvs_ram_namespaces(void);

// Called by nvs_commit when set (the board's --config file, nvs_file.c); its
// error is nvs_commit's.
extern esp_err_t (*nvs_ram_committed)(void);

// The i-th item stored (any namespace), false past the last: its type as
// nvs_ram_type names it, a number's value (an i32 sign-extended), or a string's
// (with its NUL) or blob's bytes.
bool nvs_ram_item(size_t i, const char** ns, const char** key, const char** type, uint64_t* number,
	const uint8_t** data, size_t* size);
int nvs_ram_open_handles(void);

#endif
