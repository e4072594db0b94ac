// SPDX-License-Identifier: MIT
// libFuzzer target: packets an MQTT 5 broker sends, through mongoose's mqtt_cb
// (mg_mqtt_parse) and the core's PUBLISH repair (core/mqtt5_short_publish.c);
// each message's properties are then read with mg_mqtt_next_prop, as the
// binding does, and the message is copied (core/message_copy.c) and compared.
// The first byte picks how the rest is split into reads (bit 7: MQTT 3.1.1).
#include "core_support.h"

#include <stdlib.h>

static void on_event(struct mg_connection* c, int ev, void* ev_data)
{
	(void)c;
	if (ev != MG_EV_MQTT_MSG && ev != MG_EV_MQTT_CMD)
		return;
	struct mg_mqtt_message* mm = ev_data;
	const char* end = mm->dgram.buf + mm->dgram.len;
	if (mm->data.len && (mm->data.buf < mm->dgram.buf || mm->data.buf + mm->data.len > end))
		__builtin_trap();  // a payload lies inside its packet
	struct mg_mqtt_prop prop;
	for (size_t ofs = 0; (ofs = mg_mqtt_next_prop(mm, &prop, ofs)) > 0;)
		;
	size_t size;
	struct mg_mqtt_message* m = xm_core_copy_mqtt(mm, &size);
	if (!m)
		return;
	core_same_or_trap(m->dgram, mm->dgram);
	core_same_or_trap(m->topic, mm->topic);
	core_same_or_trap(m->data, mm->data);
	free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	static struct mg_mgr mgr;
	static struct mg_connection* real;
	if (!real) {
		core_mgr_init(&mgr);
		struct mg_mqtt_opts opts;
		memset(&opts, 0, sizeof(opts));
		opts.version = 5;
		real = mg_mqtt_connect(&mgr, "mqtt://127.0.0.1:1", &opts, NULL, NULL);  // never polled: its handler only
	}
	if (size < 1)
		return 0;
	size_t chunk = (data[0] & 0x7f) + 1;
	struct mg_connection* c = core_accepted(&mgr, real, NULL);
	c->fn = on_event;
	c->is_accepted = 0;
	c->is_client = 1;
	c->is_mqtt5 = !(data[0] & 0x80);
	xm_core_mqtt5_short_publish(c);
	core_receive_chunks(c, data + 1, size - 1, chunk);
	core_drop(c);
	return 0;
}
