// SPDX-License-Identifier: MIT
// Runs the platform layer's C unit tests and prints "N passed, M failed".
// Tests marked isolated run in a forked child: the run loop keeps process-wide
// state and may run only once per process. Every test has a watchdog
// (XSMG_TEST_TIMEOUT seconds, 60 by default) so a deadlock fails instead of hanging.
#define _GNU_SOURCE
#include "check.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int check_failures;

static const char* current_test = "";

void check_fail(const char* file, int line, const char* what)
{
	check_failures++;
	fprintf(stderr, "  %s:%d: %s: check failed: %s\n", file, line, current_test, what);
	fflush(stderr);
}

void sleep_ms(unsigned ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) != 0)
		;
}

static void timed_out(int sig)
{
	(void)sig;
	static const char a[] = "FAIL - ";
	static const char b[] = ": timed out (deadlock?)\n";
	write(STDOUT_FILENO, a, sizeof(a) - 1);
	write(STDOUT_FILENO, current_test, strlen(current_test));
	write(STDOUT_FILENO, b, sizeof(b) - 1);
	_exit(3);
}

static unsigned watchdog_seconds(void)
{
	const char* s = getenv("XSMG_TEST_TIMEOUT");
	int n = s ? atoi(s) : 0;
	return n > 0 ? (unsigned)n : 60;
}

static bool run_isolated(const test_case_t* t)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		check_fail(__FILE__, __LINE__, "fork failed");
		return false;
	}
	if (pid == 0) {
		alarm(watchdog_seconds());
		check_failures = 0;
		t->fn();
		fflush(stdout);
		fflush(stderr);
		// exit, not _exit: LeakSanitizer (or valgrind) checks the child too,
		// and reports a leak through the exit status.
		exit(check_failures ? 1 : 0);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "  %s: child killed by signal %d\n", t->name, WTERMSIG(status));
		return false;
	}
	if (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)
		fprintf(stderr, "  %s: child exited with status %d\n", t->name, WEXITSTATUS(status));
	return WEXITSTATUS(status) == 0;
}

int main(void)
{
	signal(SIGALRM, timed_out);
	setvbuf(stdout, NULL, _IOLBF, 0);
	const test_case_t* suites[] = { port_contract_tests, port_linux_tests, loop_tests, core_wrap_tests,
		core_http_tests, core_ws_tests, core_mqtt_tests, core_dns_tests, core_copy_tests, core_json_tests,
		core_open_tests, core_http_reply_tests, core_conn_tests, core_limits_tests, core_send_tests };
	int passed = 0, failed = 0;
	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (const test_case_t* t = suites[s]; t->name; t++) {
			current_test = t->name;
			bool ok;
			if (!t->fn) {
				printf("skip - %s\n", t->name);
				continue;
			}
			if (t->isolated)
				ok = run_isolated(t);
			else {
				alarm(watchdog_seconds());
				check_failures = 0;
				t->fn();
				alarm(0);
				ok = check_failures == 0;
			}
			printf("%s - %s\n", ok ? "ok" : "FAIL", t->name);
			if (ok)
				passed++;
			else
				failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
