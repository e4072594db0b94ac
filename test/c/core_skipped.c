// SPDX-License-Identifier: MIT
// Built instead of test_core_*.c when mongoose (deps/mongoose) is missing: the
// mongoose core's tests are listed as skipped.
#include "check.h"

const test_case_t core_wrap_tests[] = {
	{ "core: all tests (deps/mongoose missing: run `node firmware/deps.mjs`)", NULL, false },
	{ NULL, NULL, false },
};
const test_case_t core_http_tests[] = { { NULL, NULL, false } };
const test_case_t core_ws_tests[] = { { NULL, NULL, false } };
const test_case_t core_mqtt_tests[] = { { NULL, NULL, false } };
const test_case_t core_dns_tests[] = { { NULL, NULL, false } };
const test_case_t core_copy_tests[] = { { NULL, NULL, false } };
const test_case_t core_json_tests[] = { { NULL, NULL, false } };
const test_case_t core_open_tests[] = { { NULL, NULL, false } };
const test_case_t core_http_reply_tests[] = { { NULL, NULL, false } };
const test_case_t core_conn_tests[] = { { NULL, NULL, false } };
const test_case_t core_limits_tests[] = { { NULL, NULL, false } };
const test_case_t core_send_tests[] = { { NULL, NULL, false } };
