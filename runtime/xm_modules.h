// SPDX-License-Identifier: MIT
// The firmware image's modules, as emitted by `xsmgc link` (firmware/compiler).
#ifndef XM_MODULES_H
#define XM_MODULES_H

#include <stdint.h>
#include "xs.h"

typedef struct {
	const char* name;            // module specifier, e.g. "main", "lib/util", "timer"
	const uint8_t* code;         // bytecode with final key IDs, executed in place
	uint32_t size;
	void (*hosts)(xsMachine* the);  // builds the module's `@ "c_name"` functions
} xm_module_t;

typedef struct {
	int first_name;              // key ID the first new name must get at boot
	int name_count;
	const char* const* names;    // names the engine does not know, in ID order
	int module_count;
	const xm_module_t* modules;
	// The machine at boot, as xsmgc prepared it (a txPreparation): the built-ins
	// and preloaded modules as const data. NULL when preloading is off: the
	// machine then builds its built-ins in RAM.
	const void* const* preparation;
} xm_image_t;

extern const xm_image_t xm_image;

#endif
