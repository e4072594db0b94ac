// SPDX-License-Identifier: MIT
// The simulator's process: the main thread is the XS task; a small thread owns
// the signals (Ctrl-C, SIGTERM) and the --timeout limit, and turns either into a
// stop message on the XS task's queue.
#define _GNU_SOURCE
#include "xm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

// The config store's file (modules/config/lin/), from --config FILE.
const char* xm_sim_config_file;
// port_linux.c's calendar clock is this far from the machine's, from --clock-offset MS.
extern int64_t port_linux_clock_offset_ms;

static sigset_t stop_signals;
static double timeout_seconds;

static void* watch(void* arg)
{
	(void)arg;
	struct timespec limit = { 0, 0 };
	if (timeout_seconds > 0) {
		limit.tv_sec = (time_t)timeout_seconds;
		limit.tv_nsec = (long)((timeout_seconds - (double)limit.tv_sec) * 1e9);
	}
	for (;;) {
		int sig = timeout_seconds > 0 ? sigtimedwait(&stop_signals, NULL, &limit) : sigwaitinfo(&stop_signals, NULL);
		if (sig < 0 && errno == EINTR)
			continue;
		if (sig < 0) {
			static const char why[] = "xsmg: run time limit reached, stopping\n";
			port_console_write(2, why, sizeof(why) - 1);
			xm_stop(XM_EXIT_TIMEOUT);
		}
		else
			xm_stop(128 + sig);
		return NULL;
	}
}

static int usage(void)
{
	static const char text[] = "usage: firmware [--timeout SECONDS] [--stats] [--config FILE] [--clock-offset MS]\n";
	port_console_write(2, text, sizeof(text) - 1);
	return 2;
}

int main(int argc, char** argv)
{
	xm_options_t options = { false };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			xm_sim_config_file = argv[++i];
		else if (!strcmp(argv[i], "--clock-offset") && i + 1 < argc)
			port_linux_clock_offset_ms = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--stats"))
			options.stats = true;
		else if (!strcmp(argv[i], "--"))
			break;
		else
			return usage();
	}
	// Block the stop signals everywhere; only the watcher receives them.
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_t watcher;
	pthread_create(&watcher, NULL, watch, NULL);
	pthread_detach(watcher);
	return xm_run(&options);
}
