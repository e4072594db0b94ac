// SPDX-License-Identifier: MIT
// The MQTT client packets, sent the same way by both front ends: the Manager on
// the XS task, the AsyncManager on its poll task.
#include "xm_core.h"

// The packet id mongoose gives the next SUBSCRIBE or UNSUBSCRIBE (mgr->mqtt_id,
// shared by every connection of the manager).
static uint16_t next_id(struct mg_connection* c)
{
	if (++c->mgr->mqtt_id == 0)
		++c->mgr->mqtt_id;
	return c->mgr->mqtt_id;
}

// mongoose has no UNSUBSCRIBE: it is a header, the id, (MQTT 5: no properties) and the filter.
static uint16_t unsubscribe(struct mg_connection* c, struct mg_str topic)
{
	uint16_t id = next_id(c);
	uint8_t head[5] = { (uint8_t)(id >> 8), (uint8_t)id, 0, 0, 0 };
	size_t props = c->is_mqtt5 ? 1 : 0;
	head[2 + props] = (uint8_t)(topic.len >> 8);
	head[3 + props] = (uint8_t)topic.len;
	mg_mqtt_send_header(c, MQTT_CMD_UNSUBSCRIBE, 2, (uint32_t)(4 + props + topic.len));
	mg_send(c, head, 4 + props);
	mg_send(c, topic.buf, topic.len);
	return id;
}

uint16_t xm_core_mqtt_send(struct mg_connection* c, xm_core_mqtt_op_t op, const struct mg_mqtt_opts* opts,
	uint8_t header, uint32_t length)
{
	struct mg_mqtt_opts none;
	switch (op) {
	case XM_CORE_MQTT_PUB:
		return mg_mqtt_pub(c, opts);
	case XM_CORE_MQTT_SUB:
		mg_mqtt_sub(c, opts);
		return c->mgr->mqtt_id;  // mg_mqtt_sub took the next id
	case XM_CORE_MQTT_UNSUB:
		return unsubscribe(c, opts->topic);
	case XM_CORE_MQTT_PING:
		mg_mqtt_ping(c);
		break;
	case XM_CORE_MQTT_PONG:
		mg_mqtt_pong(c);
		break;
	case XM_CORE_MQTT_DISCONNECT:
		memset(&none, 0, sizeof(none));
		mg_mqtt_disconnect(c, &none);
		break;
	case XM_CORE_MQTT_HEADER:
		mg_mqtt_send_header(c, header >> 4, header & 15, length);
		break;
	}
	return 0;
}
