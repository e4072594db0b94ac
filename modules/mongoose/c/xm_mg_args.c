// SPDX-License-Identifier: MIT
// xm_args_read (xm_mg_args.h): the argument checks of every native, out of line.
#include <math.h>
#include "xm_mg_args.h"

static const char* const host_names[XM_MG_PROTO_COUNT] = {
	[XM_MG_PROTO_MANAGER] = "a Manager", [XM_MG_PROTO_CONNECTION] = "a Connection",
	[XM_MG_PROTO_HTTP] = "an HttpMessage", [XM_MG_PROTO_WS] = "a WsMessage",
	[XM_MG_PROTO_MQTT] = "an MqttMessage", [XM_MG_PROTO_TIMER] = "a Timer",
};

struct mg_str xm_mg_arg_bytes(xsMachine* the, int i)
{
	const void* data;
	size_t size;
	xm_mg_bytes(the, &xsArg(i), &data, &size);
	return mg_str_n(data, size);
}

double xm_mg_whole(xsMachine* the, double n, double max, const char* what)
{
	if (!(n >= 0 && n <= max) || n != floor(n))
		xsRangeError("%s must be a whole number from 0 to %.0f", what, max);
	return n;
}

// What xm_mg_bytes takes, converting a string then (see xm_args_read). A view
// of elements wider than a byte, which XS gives no bytes of, becomes a
// Uint8Array of the same memory (only when xm_mg_bytes refused it: no cost otherwise).
static bool is_bytes(xsMachine* the, xsSlot* slot)
{
	const void* data;
	size_t size;
	if (xsTypeOf(*slot) == xsStringType) {
		xm_mg_bytes(the, slot, &data, &size);
		return true;
	}
	if (xsTypeOf(*slot) != xsReferenceType)
		return false;
	volatile bool ok = true;  // set after the setjmp of xsTry
	xsTry {
		xm_mg_bytes(the, slot, &data, &size);  // no string here: allocates nothing
	}
	xsCatch {
		ok = false;
	}
	if (!ok && xsIsInstanceOf(*slot, xsTypedArrayPrototype)) {
		xsSlot buffer = xsGet(*slot, xsID("buffer"));  // held by the view, so kept from the collector
		xsSlot offset = xsGet(*slot, xsID("byteOffset")), length = xsGet(*slot, xsID("byteLength"));
		*slot = xsNew3(xsGlobal, xsID("Uint8Array"), buffer, offset, length);
		ok = true;
	}
	return ok;
}

// An optional argument that is undefined or left out.
static bool absent(xsMachine* the, const xm_arg_t* a, int i, int argc)
{
	return a->optional && (i >= argc || xsTypeOf(xsArg(i)) == xsUndefinedType);
}

static bool is_number(xsMachine* the, xsSlot* slot)
{
	return xsTypeOf(*slot) == xsIntegerType || xsTypeOf(*slot) == xsNumberType;
}

static bool is_kind(xsMachine* the, xsSlot* slot, const xm_arg_t* a)
{
	switch (a->kind) {
	case XM_ARG_ANY: return true;
	case XM_ARG_STRING: return xsTypeOf(*slot) == xsStringType;
	case XM_ARG_BYTES: return is_bytes(the, slot);
	case XM_ARG_BOOL: return xsTypeOf(*slot) == xsBooleanType;
	case XM_ARG_NUMBER: return is_number(the, slot);
	case XM_ARG_INT: {
		if (!is_number(the, slot))
			return false;
		double n = xsToNumber(*slot);
		return n == floor(n) && (a->max ? n >= 0 && n <= a->max : n >= INT32_MIN && n <= INT32_MAX);
	}
	case XM_ARG_FUNCTION: return xsTypeOf(*slot) == xsReferenceType && xsIsInstanceOf(*slot, xsFunctionPrototype);
	case XM_ARG_OBJECT: return xsTypeOf(*slot) == xsReferenceType;
	default: return xm_mg_is_host(slot, a->kind - XM_ARG_HOST);
	}
}

static void fail(xsMachine* the, const char* names, const xm_arg_t* a, int i)
{
	const char* name = names;
	for (int j = 0; j <= i; j++)
		name += strlen(name) + 1;
	static const char* const kinds[] = { "", "a string", "a string, ArrayBuffer or view", "a boolean",
		"a number", "a 32-bit integer", "a function", "an object" };
	const char* what = a->kind >= XM_ARG_HOST ? host_names[a->kind - XM_ARG_HOST] : kinds[a->kind];
	const char* or_undefined = a->optional ? " or undefined" : "";
	char native[64] = "";
#ifndef mxDebug
	snprintf(native, sizeof(native), "%s: ", names);  // a debug engine starts the message with it itself
#endif
	if (a->kind == XM_ARG_INT && a->max)
		xsTypeError("%s%s must be an integer from 0 to %u%s", native, name, (unsigned)a->max, or_undefined);
	xsTypeError("%s%s must be %s%s", native, name, what, or_undefined);
}

void xm_args_read(xsMachine* the, const char* names, const xm_arg_t* args, int count, xm_arg_value_t* values)
{
	int argc = xsToInteger(xsArgc);
	for (int i = 0; i < count; i++)
		if (!absent(the, &args[i], i, argc) && !is_kind(the, &xsArg(i), &args[i]))
			fail(the, names, &args[i], i);
	for (int i = 0; i < count; i++) {
		xm_arg_value_t* v = &values[i];
		memset(v, 0, sizeof(*v));
		if (absent(the, &args[i], i, argc))
			continue;
		switch (args[i].kind) {
		case XM_ARG_STRING: v->s = xsToString(xsArg(i)); break;
		case XM_ARG_BYTES: v->b = xm_mg_arg_bytes(the, i); break;
		case XM_ARG_NUMBER: v->n = xsToNumber(xsArg(i)); break;
		case XM_ARG_INT: v->i = (int32_t)xsToNumber(xsArg(i)); break;
		case XM_ARG_BOOL: v->f = xsToBoolean(xsArg(i)); break;
		default: break;  // objects: the native reads xsArg(i)
		}
	}
}
