// SPDX-License-Identifier: MIT
// console.log/info/debug (stdout), console.warn/error (stderr), and Moddable's
// trace() (stdout, no newline added). Values are shown the way a firmware
// developer reads them in a log: strings raw, objects as JSON, errors with stack.
#include "xm.h"

typedef struct {
	char* data;
	size_t length, capacity;
} line_t;

static void append(line_t* line, const char* text, size_t length)
{
	if (line->length + length + 2 > line->capacity) {
		size_t capacity = (line->length + length + 2) * 2;
		char* data = realloc(line->data, capacity);
		if (!data)
			return;  // dropping log text beats aborting the firmware
		line->data = data;
		line->capacity = capacity;
	}
	memcpy(line->data + line->length, text, length);
	line->length += length;
}

static void append_string(line_t* line, const char* text)
{
	append(line, text, strlen(text));
}

// Appends a readable form of value. Uses xsVar(0) and xsVar(1) of the caller's frame.
static void append_value(xsMachine* the, line_t* line, xsSlot* value)
{
	xsVar(0) = *value;
	switch (xsTypeOf(xsVar(0))) {
	case xsStringType:
		append_string(line, xsToString(xsVar(0)));
		return;
	case xsReferenceType:
		if (xsIsInstanceOf(xsVar(0), xsErrorPrototype)) {
			// The engine's stack starts with "Name: message".
			xsVar(1) = xsGet(xsVar(0), xsID("stack"));
			append_string(line, xsToString(xsTypeOf(xsVar(1)) == xsStringType ? xsVar(1) : xsVar(0)));
			return;
		}
		if (!xsIsInstanceOf(xsVar(0), xsFunctionPrototype)) {
			xsTry {
				xsVar(1) = xsGet(xsGlobal, xsID("JSON"));
				xsVar(1) = xsCall1(xsVar(1), xsID("stringify"), xsVar(0));
			}
			xsCatch {
				xsVar(1) = xsUndefined;  // cyclic or throwing toJSON: fall back to String()
			}
			if (xsTypeOf(xsVar(1)) == xsStringType) {
				append_string(line, xsToString(xsVar(1)));
				return;
			}
		}
		break;
	default:
		break;
	}
	xsTry {
		append_string(line, xsToString(xsVar(0)));
	}
	xsCatch {
		append_string(line, "[value without a string form]");
	}
}

static void write_args(xsMachine* the, int stream, bool newline)
{
	line_t line = { NULL, 0, 0 };
	int argc = xsToInteger(xsArgc);
	xsVars(2);
	for (int i = 0; i < argc; i++) {
		if (i)
			append(&line, " ", 1);
		append_value(the, &line, &xsArg(i));
	}
	if (newline)
		append(&line, "\n", 1);
	if (line.data)
		port_console_write(stream, line.data, line.length);
	free(line.data);
}

static void console_out(xsMachine* the)
{
	write_args(the, 1, true);
}

static void console_err(xsMachine* the)
{
	write_args(the, 2, true);
}

static void trace(xsMachine* the)
{
	write_args(the, 1, false);
}

void xm_describe(xsMachine* the, xsSlot* value, char* buffer, size_t size)
{
	line_t line = { NULL, 0, 0 };
	xsBeginHost(the);
	{
		xsVars(2);
		xsTry {
			append_value(the, &line, value);
		}
		xsCatch {
		}
	}
	xsEndHost(the);
	snprintf(buffer, size, "%.*s", (int)line.length, line.data ? line.data : "");
	free(line.data);
}

void xm_uncaught(xsMachine* the, const char* what)
{
	char text[2048];
	xsSlot exception = xsException;
	xsException = xsUndefined;
	xm_describe(the, &exception, text, sizeof(text));
	char head[64];
	int n = snprintf(head, sizeof(head), "xsmg: %s: ", what);
	port_console_write(2, head, (size_t)n);
	port_console_write(2, text, strlen(text));
	port_console_write(2, "\n", 1);
	port_fatal(XM_EXIT_UNCAUGHT);
}

void xm_console_install(xsMachine* the)
{
	static const struct {
		const char* name;
		xsCallback fn;
	} methods[] = {
		{ "log", console_out }, { "info", console_out }, { "debug", console_out },
		{ "warn", console_err }, { "error", console_err },
	};
	xsVar(0) = xsNewObject();
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		xsVar(1) = xsNewHostFunction(methods[i].fn, 0);
		xsDefine(xsVar(0), xsID(methods[i].name), xsVar(1), xsDontEnum);
	}
	xsDefine(xsGlobal, xsID("console"), xsVar(0), xsDontEnum);
	xsVar(1) = xsNewHostFunction(trace, 0);
	xsDefine(xsGlobal, xsID("trace"), xsVar(1), xsDontEnum);
}
