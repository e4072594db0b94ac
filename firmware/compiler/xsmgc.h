// SPDX-License-Identifier: MIT
// What xsmgc's link step (xsmgc.c) shares with its preloader (preload.c) and the
// writer of the prepared heap (prepare.c).
#ifndef XSMGC_H
#define XSMGC_H

#include "xsAll.h"

typedef struct {
	const char* name;
	const char* path;
	txByte* symbols;
	txByte* code;
	txByte* hosts;
	uint32_t codeSize;
	uint32_t hostsSize;
	txID* ids;
	int index;         // its xm_code_<index> array in the image
} Module;

typedef struct {
	Module* modules;
	int count;
} Image;

// Runs each named module's body (and what it imports) in the machine; returns 0,
// or prints which module cannot be preloaded and why, and returns 1.
int preload_modules(txMachine* the, Image* image, int count, char** names);

// The C name of a native function a preloaded module holds, NULL if none.
const char* preload_native_name(txSlot* slot);

// What a preloaded module cannot leave behind in the heap (a phrase such as
// "a Map"), NULL if the slot can be written as const data.
const char* prepare_unsupported(txSlot* slot);

// Writes the machine's heap, stack, keys and tables as a const txPreparation
// named xm_preparation; returns 0, or prints what cannot be written and returns 1.
int prepare_write(txMachine* the, Image* image, FILE* out);

#endif
