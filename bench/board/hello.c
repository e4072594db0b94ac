// SPDX-License-Identifier: MIT
// The C baseline of bench/board: a mongoose hello world for the virtual board,
// without XS. It takes the place of hosts/esp32/main.c's app_main (the link
// leaves main.c out, as nothing else calls into it): the network comes up
// through the board's xm_net_start, then mongoose's own loop runs in a task
// with the AsyncManager's poll task's stack and priority. It answers every
// request with "hello\n" on port 80, and GET /mem with board_memory_line.
#include "board_memory.h"
#include "net.h"
#include "xm_host_config.h"

#include <stdio.h>
#include <stdlib.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "mongoose.h"

// The AsyncManager's default poll interval: mongoose wakes for its timers this often when idle.
#define POLL_MS 100

static void on_event(struct mg_connection* c, int ev, void* ev_data)
{
	if (ev != MG_EV_HTTP_MSG)
		return;
	struct mg_http_message* hm = ev_data;
	if (mg_match(hm->uri, mg_str("/mem"), NULL)) {
		char line[160];
		board_memory_line(line, sizeof(line));
		mg_http_reply(c, 200, "", "%s\n", line);
	} else
		mg_http_reply(c, 200, "", "hello\n");
}

static void serve_task(void* arg)
{
	(void)arg;
	struct mg_mgr mgr;
	// Before mg_mgr_init, whose own line would otherwise be the console's first.
	mg_log_set(MG_LL_ERROR);
	mg_mgr_init(&mgr);
	if (!mg_http_listen(&mgr, "http://0.0.0.0:80", on_event, NULL)) {
		printf("cannot listen on port 80\n");
		exit(1);
	}
	printf("listening\n");
	fflush(stdout);
	for (;;)
		mg_mgr_poll(&mgr, POLL_MS);
}

// On lwIP's tcpip task, once the board's address is up.
static void start_server(void)
{
	if (xTaskCreatePinnedToCore(serve_task, "hello", XM_HOST_POLL_STACK, NULL, XM_HOST_POLL_PRIORITY, NULL,
			XM_HOST_TASK_CORE) != pdPASS) {
		printf("cannot create the server's task (not enough memory)\n");
		exit(1);
	}
}

// The board's --timeout task (hosts/qemu/board.c) asks the XS run loop to stop;
// this server has none (the link leaves the runtime out), so the board ends
// there, with the code, as the run loop's end would.
void xm_stop(int code)
{
	fflush(stdout);
	exit(code);
}

void app_main(void)
{
	if (!xm_net_start(start_server))
		exit(1);
}
