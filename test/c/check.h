// SPDX-License-Identifier: MIT
// A tiny test harness for the platform layer's C unit tests: CHECK records a
// failure (and the test goes on), TEST_MAIN-style registration lives in main.c.
#ifndef CHECK_H
#define CHECK_H

#include <stdbool.h>
#include <stdio.h>

// Failed checks of the current test (reset by the runner before each test).
extern int check_failures;

void check_fail(const char* file, int line, const char* what);

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			check_fail(__FILE__, __LINE__, #cond); \
	} while (0)

// Compare two integers and show both values on failure.
#define CHECK_EQ(a, b) \
	do { \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
		if (check_a_ != check_b_) { \
			char check_buf_[256]; \
			snprintf(check_buf_, sizeof(check_buf_), "%s == %s (%lld != %lld)", #a, #b, check_a_, check_b_); \
			check_fail(__FILE__, __LINE__, check_buf_); \
		} \
	} while (0)

typedef struct {
	const char* name;
	void (*fn)(void);
	bool isolated;  // run in a forked child (for code with process-wide state)
} test_case_t;

// Each test file exports a NULL-terminated table.
extern const test_case_t port_contract_tests[];  // port_contract.c: every port
extern const test_case_t port_linux_tests[];     // test_port_linux.c
extern const test_case_t loop_tests[];
// The mongoose core (test_core_*.c, or core_skipped.c without mongoose).
extern const test_case_t core_wrap_tests[], core_http_tests[], core_ws_tests[], core_mqtt_tests[],
	core_dns_tests[], core_copy_tests[], core_json_tests[], core_open_tests[],
	core_http_reply_tests[], core_conn_tests[], core_limits_tests[], core_send_tests[];

// Milliseconds slept, for tests that need another thread to get somewhere.
void sleep_ms(unsigned ms);

#endif
