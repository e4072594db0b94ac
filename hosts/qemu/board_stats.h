// SPDX-License-Identifier: MIT
// --stats on the board: where its RAM went, printed at exit (board_stats.c).
#ifndef XM_QEMU_BOARD_STATS_H
#define XM_QEMU_BOARD_STATS_H

// Prints the board-ram line on the console. From the XS task, after xm_run.
void board_stats_print(void);

#endif
