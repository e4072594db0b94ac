// SPDX-License-Identifier: MIT
// The argument check behind gen/xm_args.h's prologues (XS task only): one
// function for every native, driven by a table per native that bindgen.mjs
// writes from binding.json, so that no native carries its own copy of the checks.
#ifndef XM_MG_ARGS_H
#define XM_MG_ARGS_H

#include "xm_mg.h"

// An argument's kind; a host object's is its prototype, XM_ARG_HOST + XM_MG_PROTO_*.
enum {
	XM_ARG_ANY, XM_ARG_STRING, XM_ARG_BYTES, XM_ARG_BOOL, XM_ARG_NUMBER, XM_ARG_INT,
	XM_ARG_FUNCTION, XM_ARG_OBJECT, XM_ARG_HOST,
};

// Four bytes an argument: the tables of every native stay small on a device.
typedef struct {
	uint8_t kind;
	bool optional;   // undefined (or left out) is taken too, read as 0, NULL or empty
	uint16_t max;    // XM_ARG_INT: 0..max, or any int32 when 0
} xm_arg_t;

typedef union {
	const char* s;       // XM_ARG_STRING
	struct mg_str b;     // XM_ARG_BYTES
	double n;            // XM_ARG_NUMBER
	int32_t i;           // XM_ARG_INT
	bool f;              // XM_ARG_BOOL
} xm_arg_value_t;

// names: the native's name, then its arguments', each ending with NUL. Throws the
// one TypeError "native: argument must be ..." for the first argument that is
// not of its kind, then reads the strings, bytes, numbers and booleans into
// values. Every argument is checked before any is read: a string that bytes are
// read from is converted while checking when its engine bytes are not UTF-8, so
// no pointer read moves until the native itself allocates.
void xm_args_read(xsMachine* the, const char* names, const xm_arg_t* args, int count, xm_arg_value_t* values);

// n, when it is a whole number from 0 to max; else throws the RangeError "what must be ...".
double xm_mg_whole(xsMachine* the, double n, double max, const char* what);

// The bytes of argument i once xm_args_read has taken it: reading them again
// allocates nothing; the pointer is valid until something allocates.
struct mg_str xm_mg_arg_bytes(xsMachine* the, int i);

#endif
