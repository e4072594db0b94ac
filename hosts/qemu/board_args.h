// SPDX-License-Identifier: MIT
// The firmware's run options, as xsmg run passes them (hosts/qemu/host.mjs).
#ifndef XM_QEMU_BOARD_ARGS_H
#define XM_QEMU_BOARD_ARGS_H

#include <stdbool.h>

typedef struct {
	bool stats;              // --stats: the XS heap's peak use at exit
	const char* config_file; // --config FILE: where NVS persists (nvs_file.c); NULL: in RAM only
	double timeout;          // --timeout SECONDS: the run's limit (board.c); 0: none
} board_args_t;

extern board_args_t board_args;

// Reads them from the semihosting command line; false (having said why) for
// one it does not know. Before the scheduler starts.
bool board_args_read(void);

#endif
