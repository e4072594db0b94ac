// SPDX-License-Identifier: MIT
// Moving bytes between JavaScript values and mongoose buffers.
#include "xm_mg.h"
#include "xsmc.h"  // for xsmcGetBufferReadable; it replaces xs.h's macros in this file

// The pointer is into the XS heap for strings: use it before anything allocates.
void xm_mg_bytes(xsMachine* the, xsSlot* slot, const void** data, size_t* size)
{
	if (xsmcTypeOf(*slot) == xsStringType) {
		*data = xsmcToString(*slot);
		*size = strlen(*data);
		return;
	}
	void* buffer;
	xsUnsignedValue count;
	if (xsmcTypeOf(*slot) != xsReferenceType)
		xsTypeError("expected a string, ArrayBuffer or typed array");
	xsmcGetBufferReadable(*slot, &buffer, &count);
	*data = buffer;
	*size = count;
}

void xm_mg_new_bytes(xsMachine* the, xsSlot* result, const void* data, size_t size)
{
	xsmcSetArrayBuffer(*result, (void*)data, (xsIntegerValue)size);
	xsmcNew(*result, xsGlobal, fxID(the, "Uint8Array"), result, NULL);  // the argument list ends with NULL
}

void xm_mg_new_string(xsMachine* the, xsSlot* result, struct mg_str s)
{
	xsmcSetStringBuffer(*result, (char*)s.buf, (xsIntegerValue)s.len);
}
