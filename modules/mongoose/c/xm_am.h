// SPDX-License-Identifier: MIT
// AsyncManager (xm_am_*): mongoose on its own poll task, JavaScript on the XS task.
//
// Two queues, one each way, and nothing else crosses:
//   commands  XS task -> poll task: am->commands (port_queue), then a wakeup
//             datagram that only interrupts mg_mgr_poll; one datagram is in flight
//             at most (am->wake_pending), so a burst never overflows lwIP's small
//             socket queue, and delivery never depends on it; none is sent while
//             the poll task spins for an answer (await_answer). A wakeup(conn, data)
//             command becomes an MG_EV_WAKEUP event right there, in command order.
//   events    poll task -> XS task: batches of events, posted with xm_post() onto
//             the XS task's own queue; when it is full the poll task waits
//             (back-pressure: mongoose stops reading meanwhile) and gives up only
//             when asked to stop.
// The poll task owns the mg_mgr: no mg_* call happens elsewhere (mg_wakeup is
// thread-safe). The XS task owns the machine: the poll task never touches it.
// Event data is copied once, at the crossing; the copy then belongs to the JS
// message object and is freed by the garbage collector. The memory budget
// (xm_mg_budget.c) is decided on the XS task alone, as each message arrives: one
// it refuses goes back as a REFUSE command, so no count is shared between tasks.
#ifndef XM_AM_H
#define XM_AM_H

#include <stdatomic.h>
#include "xm_mg.h"
#include "xm_wire.h"  // the numbers TypeScript shares, generated from ../binding.json

enum {
	XM_AM_LISTEN, XM_AM_CONNECT, XM_AM_SEND, XM_AM_WS_SEND, XM_AM_CLOSE,
	XM_AM_WS_UPGRADE, XM_AM_WAKEUP, XM_AM_STALL,
	XM_AM_MQTT, XM_AM_SNTP,  // flag: XM_CORE_MQTT_* (core/xm_core.h)
	XM_AM_REFUSE,            // flag: the MG_EV_* of input JavaScript had no memory for (xm_mg_budget.c): a message, READ: a raw connection's bytes, OPEN: the connection
	XM_AM_FANOUT,            // data: a PUBLISH and its targets (xm_am_broker.c)
};

// LISTEN/CONNECT kinds: XM_AM_KIND_* (xm_wire.h). data is an xm_core_limits_t
// (a listener's), then the URL. CONNECT MQTT: extra is one of these (the poll
// task frees mqtt once the CONNECT is queued, and the connection takes tls), as
// mqtts:// needs both and a command carries one block.
typedef struct {
	struct mg_mqtt_opts* mqtt;  // packed (xm_mg_mqtt_connect_args)
	struct mg_tls_opts* tls;    // xm_mg_tls_options, or NULL for mqtt://
} xm_am_mqtt_open_t;
// Frees one whole (a CONNECT left in the queue at shutdown).
void xm_am_mqtt_open_free(xm_am_mqtt_open_t* mq);

// SEND flags: plain bytes, a reply's whole response, a chunked reply's head (the
// handler writes the chunks and the end), or one chunk of it.
enum { XM_AM_SEND_BYTES, XM_AM_SEND_RESPONSE, XM_AM_SEND_OPEN_RESPONSE, XM_AM_SEND_CHUNK };

// A command: fixed size, copied through the queue; data is owned by the command
// until the poll task has executed it.
typedef struct {
	uint8_t op;
	uint8_t flag;           // LISTEN/CONNECT: kind, WS_SEND: opcode, SEND: XM_AM_SEND_*, CLOSE: drain first
	uint8_t header;         // MQTT HEADER: the fixed header's first byte (size: the remaining length)
	uint32_t request;       // promise to settle with a RESULT event (0: none)
	unsigned long conn;     // target connection id
	void* data;             // malloc'd bytes: limits and URL, payload, header lines
	size_t size;
	void* extra;            // WS_UPGRADE: a copy of the request it answers, owned like data;
	                        // LISTEN/CONNECT: TLS options (xm_mg_tls_options), taken by the
	                        // connection; MQTT connect: an xm_am_mqtt_open_t
} xm_am_cmd_t;

// XM_AM_EV_RESULT (xm_wire.h), the event the poll task makes itself: a command's
// outcome, value 0 ok, else payload is the error text.

typedef struct xm_am xm_am_t;

typedef struct xm_am_event {
	struct xm_am_event* next;
	xm_am_t* am;
	unsigned long conn;
	int ev;
	uint32_t request;
	int32_t value;          // byte count, CONNACK code, result status, connection flags
	double number;          // SNTP epoch ms; RESULT: the new connection's id
	int kind;               // XM_MG_MSG_* when payload is a message copy, 0 for bytes/text
	void* payload;          // owned copy, or NULL
	size_t size;
	char addrs[112];        // "local|remote" for OPEN, ACCEPT, CONNECT and listen results
} xm_am_event_t;

struct xm_am {
	struct mg_mgr mgr;            // first: a connection's c->mgr is its AsyncManager
	xsSlot dispatch;              // JS (conn, ev, data, value, extra) for every event; remembered
	port_queue_t* commands;
	port_task_t* task;            // from start() to finish(): a started manager has it or is closed
	atomic_bool ready;            // the wakeup pipe exists: commands may wake the poll task
	atomic_int waking;            // other tasks inside xm_am_interrupt: the pipe must stay open
	atomic_bool orphaned;         // the XS machine is going away: post no more events
	atomic_bool wake_pending;
	atomic_bool stop;             // ask the poll task to finish
	atomic_bool done;             // the poll task has freed the mg_mgr and returned
	atomic_int activity;          // XM_AM_DOING_*: what the poll task is doing (for shutdown warnings)
	int poll_ms;
	unsigned long pipe_id;        // mongoose's wakeup pipe connection
	xm_am_event_t* batch;         // events of this poll iteration (poll task)
	xm_am_event_t** batch_tail;
	xm_mg_log_line_t log_line;    // mongoose's log lines of the poll task
	// Poll task only: connections whose send buffer a command filled from empty,
	// written once the commands are run (core/send_now.c).
	xm_core_fresh_t fresh;
	bool closed;
	// XS task only, lists that grow in the C heap, which a full XS heap leaves
	// alone (xm_am_xs.c): connections whose events JavaScript is not to get, and
	// refusals the full command queue did not take, posted again before the next batch.
	struct mg_iobuf silenced, unsent;
};
_Static_assert(offsetof(struct xm_am, mgr) == 0, "the poll task finds a connection's AsyncManager at c->mgr");

enum { XM_AM_DOING_POLL, XM_AM_DOING_COMMANDS, XM_AM_DOING_POSTING, XM_AM_DOING_STALL, XM_AM_DOING_EXIT };

// Poll task side (xm_am_poll.c).
void xm_am_poll_main(void* arg);
// XS task side (xm_am_xs.c): a batch arrived.
void xm_am_deliver(xsMachine* the, void* batch);
void xm_am_event_free(xm_am_event_t* e);

// Any task: queue a command and wake the poll task. false when the queue is full.
bool xm_am_command(xm_am_t* am, const xm_am_cmd_t* cmd);
// Any task but the poll task: interrupt mg_mgr_poll (safe while the pipe is being closed).
void xm_am_interrupt(xm_am_t* am);

// MQTT and SNTP commands (xm_am_mqtt.c), on the poll task. run: false with the
// reason in why when it cannot; else *value is what the promise resolves to (a
// packet id) once what it queued is written. refusal: a refused CONNACK's text.
bool xm_am_mqtt_run(struct mg_connection* c, const xm_am_cmd_t* cmd, uint32_t* value, char* why, size_t size);
const char* xm_am_mqtt_refusal(struct mg_connection* c, int code, char* why, size_t size);
// The broker's fan-out (xm_am_broker.c), on the poll task: writes the PUBLISH of
// cmd->data to each target connection still open.
void xm_am_mqtt_fanout_run(xm_am_t* am, const xm_am_cmd_t* cmd);
// XS task side helpers of xm_am_xs.c for the commands of other files.
xm_am_t* xm_am_running(xsMachine* the);  // the AsyncManager of xsArg(0); throws unless started
void xm_am_post(xsMachine* the, xm_am_t* am, xm_am_cmd_t* cmd);  // frees data and extra when it throws
// A command for connection conn whose promise is request (0: none), as the prologues read them.
xm_am_cmd_t xm_am_cmd(uint8_t op, uint8_t flag, double conn, double request);
// A LISTEN or CONNECT: copies limits and the URL into cmd->data, then posts (frees extra when it throws).
void xm_am_post_open(xsMachine* the, xm_am_t* am, xm_am_cmd_t* cmd, xsSlot* url, const xm_core_limits_t* limits);

#endif
