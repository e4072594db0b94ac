// SPDX-License-Identifier: MIT
// The AsyncManager's MQTT and SNTP commands. On the XS task the arguments are
// read and copied by the sync binding's readers (xm_mg_mqtt.c) into one block that
// travels with the command; on the poll task the same mongoose calls as the sync
// Manager's run with it.
#include "xm_am.h"
#include "xm_args.h"

// A PUBLISH command's size: its packet id is the caller's, and this is not a
// re-send. mongoose marks every PUBLISH with a given id as one (DUP).
#define FIRST_SEND 1
#define MQTT_DUP 0x08

// mqttConnect(am, url, clientId, user, pass, clean, keepalive, version,
//             willTopic, willMessage, willQos, willRetain, request[, ca, cert, key,
//             name, skipVerification]): with the TLS options, mqtts://
void xm_am_mqtt_connect(xsMachine* the)
{
	xm_am_mqtt_connect_in_t a = xm_am_mqtt_connect_in(the);
	xm_am_t* am = xm_am_running(the);
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_CONNECT, XM_AM_KIND_MQTT, 0, a.request);
	struct mg_mqtt_opts* volatile mqtt = NULL;  // volatile: read after a longjmp
	struct mg_tls_opts* volatile tls = NULL;
	xsTry {
		mqtt = xm_mg_mqtt_connect_args(the, 2);
		if (xsToInteger(xsArgc) > 13)
			tls = xm_mg_tls_options(the, 13);
		xm_am_mqtt_open_t* mq = malloc(sizeof(xm_am_mqtt_open_t));
		if (!mq)
			xsUnknownError("no memory for the MQTT connect");
		*mq = (xm_am_mqtt_open_t) { mqtt, tls };
		cmd.extra = mq;
		xm_am_post_open(the, am, &cmd, &xsArg(1), &(xm_core_limits_t) { 0 });  // frees mq, not its parts, when it throws
	}
	xsCatch {
		free(mqtt);
		free(tls);
		xsThrow(xsException);
	}
}

void xm_am_mqtt_open_free(xm_am_mqtt_open_t* mq)
{
	free(mq->mqtt);
	free(mq->tls);
	free(mq);
}

// mqttPub(am, conn, topic, message, qos, retain, properties, request[, packetId, dup]):
// with a packet id of its own (the binding checked it is 0..65535), the caller
// need not wait for the command's result to learn it.
void xm_am_mqtt_pub(xsMachine* the)
{
	xm_am_mqtt_pub_in_t a = xm_am_mqtt_pub_in(the);
	xm_am_t* am = xm_am_running(the);
	xsVars(2);
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_MQTT, XM_CORE_MQTT_PUB, a.conn, a.request);
	struct mg_mqtt_opts* opts = xm_mg_mqtt_pub_args(the, 2, &xsVar(0));
	if (a.packetId) {
		opts->retransmit_id = (uint16_t)a.packetId;
		cmd.size = a.dup ? 0 : FIRST_SEND;
	}
	cmd.extra = opts;
	xm_am_post(the, am, &cmd);
}

// mqttSub(am, conn, topic, qos, request), or mqttUnsub(am, conn, topic, undefined, request)
void xm_am_mqtt_sub(xsMachine* the)
{
	xm_am_mqtt_sub_in_t a = xm_am_mqtt_sub_in(the);
	xm_am_t* am = xm_am_running(the);
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_MQTT, 0, a.conn, a.request);
	xm_core_mqtt_op_t op;
	cmd.extra = xm_mg_mqtt_sub_args(the, 2, &op);
	cmd.flag = (uint8_t)op;
	xm_am_post(the, am, &cmd);
}

// mqttControl(am, conn, cmd, request): PINGREQ, PINGRESP or DISCONNECT, as mongoose makes them
void xm_am_mqtt_control(xsMachine* the)
{
	xm_am_mqtt_control_in_t a = xm_am_mqtt_control_in(the);
	xm_am_t* am = xm_am_running(the);
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_MQTT, xm_mg_mqtt_control_args(the, 2), a.conn, a.request);
	xm_am_post(the, am, &cmd);
}

// mqttHeader(am, conn, cmd, flags, length, request)
void xm_am_mqtt_header(xsMachine* the)
{
	xm_am_mqtt_header_in_t a = xm_am_mqtt_header_in(the);
	xm_am_t* am = xm_am_running(the);
	uint32_t length;
	uint8_t first = xm_mg_mqtt_header_args(the, 2, &length);
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_MQTT, XM_CORE_MQTT_HEADER, a.conn, a.request);
	cmd.size = length;
	cmd.header = first;
	xm_am_post(the, am, &cmd);
}

// sntpRequest(am, conn, request)
void xm_am_sntp_request(xsMachine* the)
{
	xm_am_sntp_request_in_t a = xm_am_sntp_request_in(the);
	xm_am_t* am = xm_am_running(the);
	xm_am_cmd_t cmd = xm_am_cmd(XM_AM_SNTP, 0, a.conn, a.request);
	xm_am_post(the, am, &cmd);
}

// Poll task from here on.

static bool sntp_request(struct mg_connection* c, char* why, size_t size)
{
	if (!c->is_udp) {
		snprintf(why, size, "connection %lu is not UDP: sntpRequest needs a connection from sntpConnect", c->id);
		return false;
	}
	mg_sntp_request(c);
	return true;
}

bool xm_am_mqtt_run(struct mg_connection* c, const xm_am_cmd_t* cmd, uint32_t* value, char* why, size_t size)
{
	if (cmd->op == XM_AM_SNTP)
		return sntp_request(c, why, size);
	if (c->is_listening || c->is_udp) {
		snprintf(why, size, "connection %lu is %s: MQTT packets go over a TCP client or accepted connection",
			c->id, c->is_listening ? "listening" : "UDP");
		return false;
	}
	const struct mg_mqtt_opts* opts = cmd->extra;
	if (cmd->flag == XM_CORE_MQTT_PUB && opts->num_props && !c->is_mqtt5) {
		snprintf(why, size, "MQTT properties need MQTT 5 (mqttConnect with version: 5) on connection %lu", c->id);
		return false;
	}
	size_t before = c->send.len;
	bool first = cmd->flag == XM_CORE_MQTT_PUB && cmd->size == FIRST_SEND;
	*value = xm_core_mqtt_send(c, cmd->flag, opts, cmd->header, first ? 0 : (uint32_t)cmd->size);
	// Every packet is two bytes at least: none queued means mg_send found no memory.
	if (c->send.len == before) {
		snprintf(why, size, "no memory for the send buffer of connection %lu", c->id);
		return false;
	}
	if (first)
		c->send.buf[before] &= (uint8_t)~MQTT_DUP;  // the fixed header's first byte
	return true;
}

static const char* refusal_reason(int code, bool mqtt5)
{
	static const char* const v311[] = {
		NULL, "unacceptable protocol version", "client identifier rejected", "server unavailable",
		"bad user name or password", "not authorized",
	};
	if (!mqtt5)
		return code > 0 && code < 6 ? v311[code] : "unknown code";
	switch (code) {
	case 0x80: return "unspecified error";
	case 0x81: return "malformed packet";
	case 0x82: return "protocol error";
	case 0x83: return "implementation specific error";
	case 0x84: return "unsupported protocol version";
	case 0x85: return "client identifier not valid";
	case 0x86: return "bad user name or password";
	case 0x87: return "not authorized";
	case 0x88: return "server unavailable";
	case 0x89: return "server busy";
	case 0x8a: return "banned";
	case 0x8c: return "bad authentication method";
	case 0x90: return "topic name invalid";
	case 0x95: return "packet too large";
	case 0x97: return "quota exceeded";
	case 0x99: return "payload format invalid";
	case 0x9a: return "retain not supported";
	case 0x9b: return "QoS not supported";
	case 0x9c: return "use another server";
	case 0x9d: return "server moved";
	case 0x9f: return "connection rate exceeded";
	default: return "unknown code";
	}
}

const char* xm_am_mqtt_refusal(struct mg_connection* c, int code, char* why, size_t size)
{
	snprintf(why, size, "the broker refused the connection: CONNACK %s %d (%s)",
		c->is_mqtt5 ? "reason code" : "return code", code, refusal_reason(code, c->is_mqtt5));
	return why;
}
