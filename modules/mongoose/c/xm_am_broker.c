// SPDX-License-Identifier: MIT
// The broker's fan-out (mqtt-broker.ts): one PUBLISH written to many accepted
// connections by one command. One command per subscriber would cost a crossing,
// a promise and a result event each: with 50 subscribers that is most of the
// broker's time per message.
#include "xm_am.h"
#include "xm_args.h"

// A target: the connection, then the XM_AM_FANOUT_* word of its copy (xm_wire.h).
// Native byte order: both ends are this machine.
typedef struct {
	uint32_t conn;
	uint32_t word;
} target_t;

typedef struct {
	size_t topic_len, message_len, count;
	target_t targets[];   // then the topic's bytes, then the message's
} fanout_t;

// A subscriber this far behind loses QoS 0 messages rather than grow its send
// buffer without end; QoS 1 ones are bounded by the broker's inflight window.
#define SLOW_SUBSCRIBER_BYTES (256 * 1024)

// mqttFanout(am, topic, message, targets)
void xm_am_mqtt_fanout(xsMachine* the)
{
	xm_am_t* am = xm_am_running(the);
	xm_am_mqtt_fanout_in_t a = xm_am_mqtt_fanout_in(the);
	if (a.targets.len % sizeof(target_t))
		xsRangeError("mqttFanout: targets are (connection, word) pairs of 32-bit numbers");
	size_t count = a.targets.len / sizeof(target_t);
	fanout_t* f = malloc(sizeof(fanout_t) + a.targets.len + a.topic.len + a.message.len);
	if (!f)
		xsUnknownError("no memory for a message of %u bytes to %u subscribers", (unsigned)a.message.len, (unsigned)count);
	f->topic_len = a.topic.len;
	f->message_len = a.message.len;
	f->count = count;
	char* p = (char*)f->targets;
	if (a.targets.len)
		memcpy(p, a.targets.buf, a.targets.len);
	if (a.topic.len)
		memcpy(p + a.targets.len, a.topic.buf, a.topic.len);
	if (a.message.len)
		memcpy(p + a.targets.len + a.topic.len, a.message.buf, a.message.len);
	xm_am_cmd_t cmd = { 0 };
	cmd.op = XM_AM_FANOUT;
	cmd.data = f;
	xm_am_post(the, am, &cmd);
}

// Poll task from here on.

static int by_conn(const void* a, const void* b)
{
	uint32_t x = ((const target_t*)a)->conn, y = ((const target_t*)b)->conn;
	return x < y ? -1 : x > y;
}

static void publish(struct mg_connection* c, uint32_t word, struct mg_str topic, struct mg_str message)
{
	uint8_t qos = word & XM_AM_FANOUT_QOS;
	uint8_t flags = (uint8_t)(qos << 1 | (word & XM_AM_FANOUT_DUP ? 8 : 0) | (word & XM_AM_FANOUT_RETAIN ? 1 : 0));
	if (!qos && c->send.len > SLOW_SUBSCRIBER_BYTES)
		return;
	uint8_t head[5] = { (uint8_t)(topic.len >> 8), (uint8_t)topic.len, (uint8_t)(word >> (XM_AM_FANOUT_ID_SHIFT + 8)),
		(uint8_t)(word >> XM_AM_FANOUT_ID_SHIFT), 0 };
	size_t id = qos ? 2 : 0, props = c->is_mqtt5 ? 1 : 0;
	size_t length = 2 + topic.len + id + props + message.len, before = c->send.len;
	size_t whole = 1 + (length < 128 ? 1 : length < 16384 ? 2 : length < 2097152 ? 3 : 4) + length;
	mg_mqtt_send_header(c, MQTT_CMD_PUBLISH, flags, (uint32_t)length);
	mg_send(c, head, 2);
	mg_send(c, topic.buf, topic.len);
	mg_send(c, head + 2, id + props);  // the packet id, then MQTT 5's empty properties
	mg_send(c, message.buf, message.len);
	if (c->send.len != before + whole) {
		// A part did not fit in memory: the part that did would break the stream.
		// Taken back, and the client closed (a QoS 1 copy goes again if it resumes).
		c->send.len = before;
		mg_error(c, "no memory for a PUBLISH of %lu bytes", (unsigned long)whole);
	}
}

// Each connection is looked up in the sorted targets, in one pass over the
// manager's connections: a target that has closed meanwhile is skipped.
void xm_am_mqtt_fanout_run(xm_am_t* am, const xm_am_cmd_t* cmd)
{
	fanout_t* f = cmd->data;
	const char* p = (const char*)f->targets + f->count * sizeof(target_t);
	struct mg_str topic = mg_str_n(p, f->topic_len), message = mg_str_n(p + f->topic_len, f->message_len);
	qsort(f->targets, f->count, sizeof(target_t), by_conn);
	for (struct mg_connection* c = am->mgr.conns; c; c = c->next) {
		if (!c->is_accepted || c->is_closing || !c->fn_data)
			continue;
		target_t key = { (uint32_t)c->id, 0 };
		const target_t* t = bsearch(&key, f->targets, f->count, sizeof(target_t), by_conn);
		if (t) {
			size_t before = c->send.len;
			publish(c, t->word, topic, message);
			xm_core_fresh_add(&am->fresh, c, before);
		}
	}
}
