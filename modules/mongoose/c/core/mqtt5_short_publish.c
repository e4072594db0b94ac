// SPDX-License-Identifier: MIT
// mongoose bug (seen in 7.23): mg_mqtt_parse reads an MQTT 5 PUBLISH's
// properties only when more than two bytes follow the topic (and packet id),
// so a payload of 0 or 1 byte comes with the property length byte in front
// ("1" reads as "\0" "1") and props_start stays 0.
// Events: MG_EV_READ; mqtt_cb parses each packet and fires MG_EV_MQTT_CMD,
// then for a PUBLISH MG_EV_MQTT_MSG, with the same message.
// Fix: wrap mqtt_cb; at those two events on an MQTT 5 connection, parse the
// properties of such a PUBLISH again (mongoose calls the protocol handler
// before the application's, so the application sees the repaired message).
#include "xm_core.h"

void xm_core_mqtt5_repair(struct mg_mqtt_message* mm)
{
	if (mm->cmd != MQTT_CMD_PUBLISH || mm->props_start || !mm->topic.buf)
		return;
	const uint8_t* base = (const uint8_t*)mm->dgram.buf;
	const uint8_t* end = base + mm->dgram.len;
	const uint8_t* p = (const uint8_t*)mm->topic.buf + mm->topic.len + (mm->qos ? 2 : 0);
	size_t size = 0, shift = 0;
	for (;;) {
		if (p >= end || shift > 21) {  // no property length: an empty payload
			mm->data = mg_str_n((const char*)end, 0);
			return;
		}
		size |= (size_t)(*p & 0x7f) << shift;
		shift += 7;
		if (!(*p++ & 0x80))
			break;
	}
	if (size > (size_t)(end - p))
		size = (size_t)(end - p);
	mm->props_start = (size_t)(p - base);
	mm->props_size = size;
	mm->data = mg_str_n((const char*)p + size, (size_t)(end - p) - size);
}

static void repair(struct mg_connection* c, int ev, void* ev_data)
{
	if (c->is_mqtt5 && (ev == MG_EV_MQTT_MSG || ev == MG_EV_MQTT_CMD))
		xm_core_mqtt5_repair(ev_data);
	xm_core_unwrapped(XM_CORE_MQTT, c, ev, ev_data);
}

void xm_core_mqtt5_short_publish(struct mg_connection* c)
{
	if (c && c->is_mqtt5)
		xm_core_wrap(c, XM_CORE_MQTT, repair, true);
}
