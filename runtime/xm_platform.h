// SPDX-License-Identifier: MIT
// Our XS platform header (the engine includes it through -DXSPLATFORM). The same
// header serves every host: what differs between hosts lives behind port.h.
#ifndef XM_PLATFORM_H
#define XM_PLATFORM_H

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

// Only with compare-and-swap in hardware; ESP32-C3's rv32imc has none, and with a
// single machine per firmware (no mxThreads) the engine's own shared-chunk locks
// (mxUseDefaultSharedChunks, xsAtomics.c) are no-ops: a host defining them too
// fails to link.
#if defined(__GCC_HAVE_SYNC_COMPARE_AND_SWAP_4)
#define mxUseGCCAtomics 1
#endif

// The engine's own exception reports would print to stdout, the firmware's output.
#define mxNoConsole 1

#define mxUseDefaultBuildKeys 1
#define mxUseDefaultChunkAllocation 1
#define mxUseDefaultSlotAllocation 1
#define mxUseDefaultSharedChunks 1
#define mxUseDefaultCStackLimit 0
#define mxUseDefaultDebug 1

// Date's clock is the runtime's (xm_clock.c), which SNTP can set: the engine's
// default is the C library's gettimeofday.
typedef struct timeval c_timeval;
#define c_timezone timezone
int xm_gettimeofday(struct timeval* tv, void* tz);
#define c_gettimeofday xm_gettimeofday

// mxMachinePlatform must not name txMachine: this header is read before it exists.
#define mxMachinePlatform \
	void* host; \
	int promiseJobs;

#endif
