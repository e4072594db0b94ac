// SPDX-License-Identifier: MIT
// The config module's natives (config.js): the same name and value rules on
// every host, so that an app that runs in the simulator runs on the board.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xs.h"
#include "xm_config.h"

// Throws a new `constructor` (TypeError...) with the message. Not xsTypeError
// and friends: they cut messages at 128 bytes, too short for a store's path,
// and prefix the function's name in debug builds only.
static void throw_error(xsMachine* the, const char* constructor, const char* format, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
static void throw_error(xsMachine* the, const char* constructor, const char* format, ...)
{
	char message[XM_CONFIG_ERROR_SIZE + 100];
	va_list args;
	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	xsResult = xsNew1(xsGlobal, xsID(constructor), xsString(message));
	xsThrow(xsResult);
}

// The name in argument i, copied into name (XM_CONFIG_NAME_MAX + 1 bytes).
static void arg_name(xsMachine* the, int i, const char* what, char* name)
{
	if (xsTypeOf(xsArg(i)) != xsStringType)
		throw_error(the, "TypeError", "the config %s must be a string", what);
	const char* s = xsToString(xsArg(i));
	size_t n = strlen(s);
	if (n == 0)
		throw_error(the, "RangeError", "the config %s is empty; NVS names have 1 to %d characters", what, XM_CONFIG_NAME_MAX);
	if (n > XM_CONFIG_NAME_MAX)
		throw_error(the, "RangeError", "config %s \"%.40s%s\" is %lu bytes long; NVS allows at most %d", what, s, n > 40 ? "..." : "",
			(unsigned long)n, XM_CONFIG_NAME_MAX);
	for (size_t j = 0; j < n; j++)
		if (s[j] < '!' || s[j] > '~')
			throw_error(the, "RangeError", "config %s \"%s\" has a character other than ASCII '!' to '~' at offset %lu", what, s,
				(unsigned long)j);
	memcpy(name, s, n + 1);
}

// The (namespace, key) arguments of a call that takes count arguments.
static void args_names(xsMachine* the, int count, const char* call, char* ns, char* key)
{
	if (xsToInteger(xsArgc) < count)
		throw_error(the, "TypeError", "%s needs %d arguments", call, count);
	arg_name(the, 0, "namespace", ns);
	arg_name(the, 1, "key", key);
}

static void fail(xsMachine* the, const char* error) __attribute__((noreturn));
static void fail(xsMachine* the, const char* error)
{
	throw_error(the, "Error", "%s", error);
}

// XS keeps U+0000 as C0 80 and a lone surrogate as ED A0..BF xx: neither is
// UTF-8 that an NVS string (a C string) can hold.
static const char* string_problem(const unsigned char* s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] == 0xc0 && s[i + 1] == 0x80)
			return "contains U+0000";
		if (s[i] == 0xed && s[i + 1] >= 0xa0)
			return "contains a lone surrogate";
	}
	return NULL;
}

// get(namespace, key): the value, or undefined
void xm_config_get(xsMachine* the)
{
	char ns[XM_CONFIG_NAME_MAX + 1], key[XM_CONFIG_NAME_MAX + 1], error[XM_CONFIG_ERROR_SIZE];
	args_names(the, 2, "Config.get(namespace, key)", ns, key);
	xm_config_value_t value;
	xm_config_status_t status = xm_config_backend_get(ns, key, &value, error);
	if (status == XM_CONFIG_ABSENT)
		return;
	if (status != XM_CONFIG_OK)
		fail(the, error);
	switch (value.type) {
	case XM_CONFIG_NUMBER:
		xsResult = xsNumber(value.number);
		return;
	case XM_CONFIG_BOOLEAN:
		xsResult = xsBoolean(value.boolean);
		return;
	case XM_CONFIG_STRING:
	case XM_CONFIG_BYTES:
		break;
	}
	// The backend's copy must be freed even when the XS heap is full.
	xsTry {
		if (value.type == XM_CONFIG_STRING) {
			xsResult = xsStringBuffer(NULL, (xsIntegerValue)value.size);
			memcpy(xsToString(xsResult), value.data, value.size + 1);
		} else {
			xsResult = xsArrayBuffer(NULL, (xsIntegerValue)value.size);
			if (value.size)
				memcpy(xsToArrayBuffer(xsResult), value.data, value.size);
			xsResult = xsNew1(xsGlobal, xsID("Uint8Array"), xsResult);
		}
	}
	xsCatch {
		free((void*)value.data);
		xsThrow(xsException);
	}
	free((void*)value.data);
}

// set(namespace, key, value)
void xm_config_set(xsMachine* the)
{
	char ns[XM_CONFIG_NAME_MAX + 1], key[XM_CONFIG_NAME_MAX + 1], error[XM_CONFIG_ERROR_SIZE];
	args_names(the, 3, "Config.set(namespace, key, value)", ns, key);
	xm_config_value_t value = { XM_CONFIG_NUMBER, 0, false, NULL, 0 };
	xsVars(1);
	switch (xsTypeOf(xsArg(2))) {
	case xsIntegerType:
	case xsNumberType:
		value.number = xsToNumber(xsArg(2));
		break;
	case xsBooleanType:
		value.type = XM_CONFIG_BOOLEAN;
		value.boolean = xsToBoolean(xsArg(2));
		break;
	case xsStringType: {
		value.type = XM_CONFIG_STRING;
		const char* s = xsToString(xsArg(2));
		value.size = strlen(s);
		if (value.size > XM_CONFIG_STRING_MAX)
			throw_error(the, "RangeError", "config value \"%s/%s\": the string is %lu bytes of UTF-8; an NVS string holds at most %d", ns, key,
				(unsigned long)value.size, XM_CONFIG_STRING_MAX);
		const char* problem = string_problem((const unsigned char*)s, value.size);
		if (problem)
			throw_error(the, "TypeError", "config value \"%s/%s\": the string %s, which an NVS string cannot hold (store it as a Uint8Array)",
				ns, key, problem);
		break;
	}
	case xsReferenceType:
		xsVar(0) = xsGet(xsGlobal, xsID("Uint8Array"));
		xsVar(0) = xsGet(xsVar(0), xsID("prototype"));
		if (xsIsInstanceOf(xsArg(2), xsVar(0))) {
			value.type = XM_CONFIG_BYTES;
			value.size = (size_t)xsToInteger(xsGet(xsArg(2), xsID("byteLength")));
			if (value.size > XM_CONFIG_BYTES_MAX)
				throw_error(the, "RangeError", "config value \"%s/%s\": the Uint8Array has %lu bytes; at most %d are stored", ns, key,
					(unsigned long)value.size, XM_CONFIG_BYTES_MAX);
			break;
		}
		// fall through
	default:
		throw_error(the, "TypeError", "config value \"%s/%s\": not storable (strings, numbers, booleans and Uint8Array only)", ns, key);
	}
	// Pointers into the XS heap last from here to the backend's return: nothing
	// in between allocates.
	if (value.type == XM_CONFIG_STRING) {
		value.data = xsToString(xsArg(2));
	} else if (value.type == XM_CONFIG_BYTES) {
		xsIntegerValue offset = xsToInteger(xsGet(xsArg(2), xsID("byteOffset")));
		xsVar(0) = xsGet(xsArg(2), xsID("buffer"));
		value.data = (const char*)xsToArrayBuffer(xsVar(0)) + offset;
	}
	if (xm_config_backend_set(ns, key, &value, error) != XM_CONFIG_OK)
		fail(the, error);
}

// delete(namespace, key): true if the key was set
void xm_config_delete(xsMachine* the)
{
	char ns[XM_CONFIG_NAME_MAX + 1], key[XM_CONFIG_NAME_MAX + 1], error[XM_CONFIG_ERROR_SIZE];
	args_names(the, 2, "Config.delete(namespace, key)", ns, key);
	xm_config_status_t status = xm_config_backend_delete(ns, key, error);
	if (status == XM_CONFIG_FAILED)
		fail(the, error);
	xsResult = xsBoolean(status == XM_CONFIG_OK);
}
