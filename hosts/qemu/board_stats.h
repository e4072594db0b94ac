// SPDX-License-Identifier: MIT
// --stats on the board: where its RAM went, printed at exit (board_stats.c).
#ifndef XM_QEMU_BOARD_STATS_H
#define XM_QEMU_BOARD_STATS_H

// Prints the board-ram line on the console: from the XS task, after xm_run or
// on the way to port_fatal.
void board_stats_print(void);

#endif
