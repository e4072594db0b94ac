// SPDX-License-Identifier: MIT
// The in-RAM NVS (nvs_ram.c) beyond ESP-IDF's API: what test/config-nvs looks at.
#ifndef XM_QEMU_NVS_RAM_H
#define XM_QEMU_NVS_RAM_H

#include <stdbool.h>
#include <stddef.h>

// How a get of a key stored with another type fails: ESP_ERR_NVS_NOT_FOUND
// (false, the default) or ESP_ERR_NVS_TYPE_MISMATCH (true); ESP-IDF versions differ.
extern bool nvs_ram_type_mismatch;

// The type a key is stored with ("u8", "i32", "u64", "str", "blob"), or "none".
const char* nvs_ram_type(const char* ns, const char* key);
size_t nvs_ram_namespaces(void);
int nvs_ram_open_handles(void);

#endif
