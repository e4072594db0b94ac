// SPDX-License-Identifier: MIT
// The build machine's XS platform header for xsmgc (through -DXSPLATFORM). The
// engine's defaults, except module loading and promise jobs: `xsmgc link` runs the
// preloaded modules from the image it is linking (preload.c).
#ifndef XSMGC_PLATFORM_H
#define XSMGC_PLATFORM_H

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#define mxUseGCCAtomics 1

#define mxMachinePlatform \
	int promiseJobs;

#define mxUseDefaultMachinePlatform 1
#define mxUseDefaultBuildKeys 1
#define mxUseDefaultChunkAllocation 1
#define mxUseDefaultSlotAllocation 1
#define mxUseDefaultParseScript 1
#define mxUseDefaultSharedChunks 1
#define mxUseDefaultAbort 1
#define mxUseDefaultDebug 1

#endif
