// SPDX-License-Identifier: MIT
// The board's RAM as bench/board reads it: one line of name=bytes pairs, which
// the C server answers on GET /mem and the TypeScript apps' native returns.
#ifndef BOARD_MEMORY_H
#define BOARD_MEMORY_H

#include <stddef.h>

// Writes the board's heap (bytes allocated now, and how far it has grown) into
// buf, as snprintf does; returns snprintf's count. Any task may call it.
int board_memory_line(char* buf, size_t size);

#endif
