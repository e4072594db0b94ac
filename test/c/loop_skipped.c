// SPDX-License-Identifier: MIT
// Built instead of test_loop.c when the XS headers (deps/xs) are missing: the
// run loop's tests are listed as skipped.
#include "check.h"

const test_case_t loop_tests[] = {
	{ "loop: all tests (deps/xs missing: run `node firmware/deps.mjs`)", NULL, false },
	{ NULL, NULL, false },
};
