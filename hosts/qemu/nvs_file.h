// SPDX-License-Identifier: MIT
// The board's NVS (nvs_ram.c) kept in a file of this machine: xsmg run --config FILE.
#ifndef XM_QEMU_NVS_FILE_H
#define XM_QEMU_NVS_FILE_H

#include <stdbool.h>

// Loads the file into NVS (none yet is an empty store) and writes it back at
// every nvs_commit from then on; false, having said why, for a file that is
// not a store. Before the scheduler starts; path must last the whole run.
bool nvs_file_open(const char* path);

#endif
