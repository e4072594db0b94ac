// SPDX-License-Identifier: MIT
// bench/board's view of the board's RAM from JavaScript (xs_memory.c).
export function memory() @ "bench_board_memory";
