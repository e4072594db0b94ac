// SPDX-License-Identifier: MIT
// mongoose (7.23) parses a server's packets as MQTT 3.1.1 whatever the client
// said in its CONNECT: is_mqtt5 is set only by mg_mqtt_login, on clients. Then an
// MQTT 5 client's PUBLISH has its properties read as payload, and the PUBACKs
// mongoose sends for it lack their reason code.
// Events: MG_EV_READ; mqtt_cb parses each packet in turn and fires MG_EV_MQTT_CMD
// (then MG_EV_MQTT_MSG for a PUBLISH), calling the protocol handler first.
// Fix: wrap an MQTT listener's mqtt_cb (accepted connections inherit it); at an
// accepted connection's CONNECT, take the protocol level from it, before the
// next packet in the buffer is parsed; from then on repair as a client's
// (mqtt5_short_publish.c).
#include "xm_core.h"

// A CONNECT: the fixed header, then the protocol name "MQTT" (or 3.1's "MQIsdp")
// with its length, then the level byte.
static int protocol_level(const struct mg_str packet)
{
	const uint8_t* p = (const uint8_t*)packet.buf;
	size_t i = 1;
	while (i < packet.len && (p[i] & 0x80))
		i++;
	i++;
	if (i + 2 > packet.len)
		return 0;
	size_t name = (size_t)p[i] << 8 | p[i + 1];
	i += 2 + name;
	return i < packet.len ? p[i] : 0;
}

static void server_cb(struct mg_connection* c, int ev, void* ev_data)
{
	if (ev == MG_EV_MQTT_CMD && c->is_accepted) {
		struct mg_mqtt_message* mm = ev_data;
		if (mm->cmd == MQTT_CMD_CONNECT)
			c->is_mqtt5 = protocol_level(mm->dgram) == 5;
	}
	if (c->is_mqtt5 && (ev == MG_EV_MQTT_MSG || ev == MG_EV_MQTT_CMD))
		xm_core_mqtt5_repair(ev_data);
	xm_core_unwrapped(XM_CORE_MQTT, c, ev, ev_data);
}

void xm_core_mqtt_server_version(struct mg_connection* listener)
{
	xm_core_wrap(listener, XM_CORE_MQTT, server_cb, true);
}
