// SPDX-License-Identifier: MIT
// Moving bytes between JavaScript values and mongoose buffers.
#include "xm_mg.h"
#include "xsmc.h"  // for xsmcGetBufferReadable; it replaces xs.h's macros in this file

// Strings are sent as standard UTF-8; when the engine's own bytes differ (a NUL,
// a surrogate) *slot is replaced by an ArrayBuffer of the UTF-8. The pointer is
// into the XS heap: use it before anything allocates.
void xm_mg_bytes(xsMachine* the, xsSlot* slot, const void** data, size_t* size)
{
	if (xsmcTypeOf(*slot) == xsStringType) {
		const unsigned char* s = (const unsigned char*)xsmcToString(*slot);
		size_t n = strlen((const char*)s);
		size_t utf8 = xm_core_xs_to_utf8(s, n, NULL);
		// A NUL or a pair shortens the text; a lone surrogate (as U+FFFD) does not.
		bool same = utf8 == n;
		for (size_t i = 0; same && i + 1 < n; i++)
			same = !(s[i] == 0xed && s[i + 1] >= 0xa0);
		if (same) {
			*data = s;
			*size = n;
			return;
		}
		xsSlot converted;
		xsmcSetArrayBuffer(converted, NULL, (xsIntegerValue)utf8);
		s = (const unsigned char*)xsmcToString(*slot);  // the allocation may have moved it
		void* out;
		xsUnsignedValue count;
		xsmcGetBufferWritable(converted, &out, &count);
		xm_core_xs_to_utf8(s, n, out);
		*slot = converted;
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
	// s is mongoose's memory (never the XS heap), so it stays put while we allocate.
	size_t size = xm_core_text_size(s.buf, s.len, false, false);
	xsmcSetStringBuffer(*result, NULL, (xsIntegerValue)size);
	xm_core_text_fill(xsmcToString(*result), s.buf, s.len, false);
}
