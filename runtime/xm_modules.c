// SPDX-License-Identifier: MIT
// Module loading from the firmware image: specifiers resolve against the table
// that xsmgc emitted, and bytecode runs from where it sits (flash on a device).
#include "xsAll.h"
#include "xm.h"
#include "xm_modules.h"
#include "xm_resolve.h"

// xsmgc numbered every symbol the modules use; recreate the new names in the
// same order so that the IDs inside the bytecode mean the same keys here.
void xm_modules_check(xsMachine* the)
{
	for (int i = 0; i < xm_image.name_count; i++) {
		txID id = fxNewNameX(the, (txString)xm_image.names[i]);
		if (id != (txID)(xm_image.first_name + i)) {
			static const char why[] = "xsmg: fatal: the firmware image was linked for another engine build (key IDs differ)\n";
			port_console_write(2, why, sizeof(why) - 1);
			port_fatal(XM_EXIT_FATAL);
		}
	}
}

static const xm_module_t* lookup(const char* name)
{
	for (int i = 0; i < xm_image.module_count; i++)
		if (!strcmp(xm_image.modules[i].name, name))
			return &xm_image.modules[i];
	return NULL;
}

txID fxFindModule(txMachine* the, txSlot* realm, txID from, txSlot* slot)
{
	(void)realm;
	char spec[128], name[128];
	fxToStringBuffer(the, slot, spec, sizeof(spec));
	if (!xm_resolve(from == XS_NO_ID ? NULL : fxGetKeyName(the, from), spec, name, sizeof(name)))
		return XS_NO_ID;
	const xm_module_t* module = lookup(name);
	return module ? fxNewNameX(the, (txString)module->name) : XS_NO_ID;
}

void fxLoadModule(txMachine* the, txSlot* module, txID id)
{
	const xm_module_t* entry = lookup(fxGetKeyName(the, id));
	if (!entry)
		return;
	txScript script = { 0 };
	script.callback = entry->hosts;
	script.codeBuffer = (txByte*)entry->code;
	script.codeSize = (txSize)entry->size;
	script.path = (txString)entry->name;
	fxResolveModule(the, module, id, &script, C_NULL, C_NULL);
}
