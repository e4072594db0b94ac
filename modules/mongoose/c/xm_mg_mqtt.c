// SPDX-License-Identifier: MIT
// MQTT: connecting to a broker, the client's packets (publish, subscribe,
// unsubscribe, ping, disconnect) and MqttMessage. mongoose parses MQTT 3.1.1
// and 5 and acknowledges QoS 1/2 publishes it receives; it does not resend
// unacknowledged packets nor send PINGREQ by itself.
#include <stddef.h>
#include "xm_mg.h"
#include "xm_args.h"
#include "xm_wire.h"

// The largest MQTT "remaining length" (four bytes of varint).
#define MAX_REMAINING 268435455u

// What the readers below keep: the options and every byte they point to, in one
// block for both managers, which free() releases whole (the AsyncManager's
// commands carry it to the poll task). A reader runs twice: first with no block,
// to check the arguments and size it, then to fill it. Each string is copied
// right after it is read, before XS allocates again: its heap may then move.
typedef struct {
	struct mg_mqtt_opts opts;
	_Alignas(max_align_t) char bytes[];
} packed_t;

typedef struct {
	char* block;  // packed_t.bytes; NULL while sizing
	size_t used;
} keep_t;

// size bytes at an offset aligned to align; NULL while sizing.
static void* room(keep_t* k, size_t size, size_t align)
{
	k->used = (k->used + align - 1) / align * align;
	char* at = k->block ? k->block + k->used : NULL;
	k->used += size;
	return at;
}

// A NUL-terminated copy (the block is zeroed).
static struct mg_str keep(keep_t* k, const void* data, size_t size)
{
	char* to = room(k, size + 1, 1);
	if (to && size)
		memcpy(to, data, size);
	return mg_str_n(to, size);
}

// MQTT strings carry a two-byte length.
static struct mg_str keep_string(xsMachine* the, keep_t* k, xsSlot* slot, const char* what)
{
	if (xsTypeOf(*slot) != xsStringType)
		xsTypeError("MQTT %s must be a string", what);
	const char* s = xsToString(*slot);
	size_t size = strlen(s);
	if (size > 0xffff)
		xsRangeError("MQTT %s is %lu bytes, more than 65535", what, (unsigned long)size);
	return keep(k, s, size);
}

static struct mg_str keep_optional(xsMachine* the, keep_t* k, xsSlot* slot, const char* what)
{
	if (xsTypeOf(*slot) == xsUndefinedType)
		return mg_str_n(NULL, 0);
	return keep_string(the, k, slot, what);
}

static struct mg_str keep_bytes(xsMachine* the, keep_t* k, xsSlot* slot, size_t max, const char* what)
{
	const void* data;
	size_t size;
	xm_mg_bytes(the, slot, &data, &size);
	if (size > max)
		xsRangeError("MQTT %s is %lu bytes, more than %lu", what, (unsigned long)size, (unsigned long)max);
	return keep(k, data, size);
}

static struct mg_str keep_topic(xsMachine* the, keep_t* k, xsSlot* slot)
{
	struct mg_str topic = keep_string(the, k, slot, "topic");
	if (!topic.len)
		xsRangeError("MQTT topic must not be empty");
	return topic;
}

static uint8_t qos_of(xsMachine* the, xsSlot* slot)
{
	return (uint8_t)xm_mg_whole(the, xsToNumber(*slot), 2, "MQTT QoS");
}

// The largest value of a number property, by kind from XM_MQTT_PROP_KIND_BYTE on.
static const uint32_t prop_maxima[] = { 0xff, 0xffff, 0xffffffffu, MAX_REMAINING };

// How the value of each MQTT 5 property is encoded (MQTT 5.0, 2.2.2.2): the one
// table of them, which the broker's reader (mqtt-packets.ts) asks through mqttPropKind.
static const uint8_t prop_kinds[] = {
	[MQTT_PROP_PAYLOAD_FORMAT_INDICATOR] = XM_MQTT_PROP_KIND_BYTE,
	[MQTT_PROP_REQUEST_PROBLEM_INFORMATION] = XM_MQTT_PROP_KIND_BYTE,
	[MQTT_PROP_REQUEST_RESPONSE_INFORMATION] = XM_MQTT_PROP_KIND_BYTE,
	[MQTT_PROP_MAXIMUM_QOS] = XM_MQTT_PROP_KIND_BYTE,
	[MQTT_PROP_RETAIN_AVAILABLE] = XM_MQTT_PROP_KIND_BYTE,
	[MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE] = XM_MQTT_PROP_KIND_BYTE,
	[MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE] = XM_MQTT_PROP_KIND_BYTE,
	[MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE] = XM_MQTT_PROP_KIND_BYTE,
	[MQTT_PROP_SERVER_KEEP_ALIVE] = XM_MQTT_PROP_KIND_TWO_BYTES,
	[MQTT_PROP_RECEIVE_MAXIMUM] = XM_MQTT_PROP_KIND_TWO_BYTES,
	[MQTT_PROP_TOPIC_ALIAS_MAXIMUM] = XM_MQTT_PROP_KIND_TWO_BYTES,
	[MQTT_PROP_TOPIC_ALIAS] = XM_MQTT_PROP_KIND_TWO_BYTES,
	[MQTT_PROP_MESSAGE_EXPIRY_INTERVAL] = XM_MQTT_PROP_KIND_FOUR_BYTES,
	[MQTT_PROP_SESSION_EXPIRY_INTERVAL] = XM_MQTT_PROP_KIND_FOUR_BYTES,
	[MQTT_PROP_WILL_DELAY_INTERVAL] = XM_MQTT_PROP_KIND_FOUR_BYTES,
	[MQTT_PROP_MAXIMUM_PACKET_SIZE] = XM_MQTT_PROP_KIND_FOUR_BYTES,
	[MQTT_PROP_SUBSCRIPTION_IDENTIFIER] = XM_MQTT_PROP_KIND_VARINT,
	[MQTT_PROP_CONTENT_TYPE] = XM_MQTT_PROP_KIND_STRING,
	[MQTT_PROP_RESPONSE_TOPIC] = XM_MQTT_PROP_KIND_STRING,
	[MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER] = XM_MQTT_PROP_KIND_STRING,
	[MQTT_PROP_AUTHENTICATION_METHOD] = XM_MQTT_PROP_KIND_STRING,
	[MQTT_PROP_RESPONSE_INFORMATION] = XM_MQTT_PROP_KIND_STRING,
	[MQTT_PROP_SERVER_REFERENCE] = XM_MQTT_PROP_KIND_STRING,
	[MQTT_PROP_REASON_STRING] = XM_MQTT_PROP_KIND_STRING,
	[MQTT_PROP_CORRELATION_DATA] = XM_MQTT_PROP_KIND_BINARY,
	[MQTT_PROP_AUTHENTICATION_DATA] = XM_MQTT_PROP_KIND_BINARY,
	[MQTT_PROP_USER_PROPERTY] = XM_MQTT_PROP_KIND_PAIR,
};

static int prop_kind(unsigned id)
{
	return id < sizeof(prop_kinds) ? prop_kinds[id] : XM_MQTT_PROP_KIND_UNKNOWN;
}

// mqttPropKind(id): XM_MQTT_PROP_KIND_* (the prologue keeps id within 0..255).
void xm_mg_mqtt_prop_kind(xsMachine* the)
{
	xsResult = xsInteger(prop_kind((unsigned)xm_mg_mqtt_prop_kind_in(the).id));
}

// Reads [{ id, value, key? }, ...] into C properties; *count is 0 for undefined.
// *encoded: their size in the packet, at most. Uses the two slots given.
static struct mg_mqtt_prop* keep_props(xsMachine* the, keep_t* k, xsSlot* array, size_t* count, size_t* encoded,
	xsSlot* item, xsSlot* field)
{
	*count = 0;
	*encoded = 4;  // the properties' length
	if (xsTypeOf(*array) == xsUndefinedType)
		return NULL;
	if (!xsIsInstanceOf(*array, xsArrayPrototype))
		xsTypeError("MQTT properties must be an array of { id, value }");
	double length = xsToNumber(xsGet(*array, xsID("length")));
	if (length > 1024)
		xsRangeError("too many MQTT properties (%g)", length);
	size_t n = (size_t)length;
	if (!n)
		return NULL;
	struct mg_mqtt_prop* props = room(k, n * sizeof(struct mg_mqtt_prop), _Alignof(struct mg_mqtt_prop));
	for (size_t i = 0; i < n; i++) {
		struct mg_mqtt_prop sizing = { 0 };
		struct mg_mqtt_prop* prop = props ? &props[i] : &sizing;
		*item = xsGetIndex(*array, (xsIntegerValue)i);
		if (xsTypeOf(*item) != xsReferenceType)
			xsTypeError("MQTT property %lu is not an object { id, value }", (unsigned long)i);
		*field = xsGet(*item, xsID("id"));
		unsigned id = (unsigned)xm_mg_whole(the, xsToNumber(*field), 0xff, "MQTT property id");
		int kind = prop_kind(id);
		prop->id = (uint8_t)id;
		*field = xsGet(*item, xsID("value"));
		switch (kind) {
		case XM_MQTT_PROP_KIND_UNKNOWN:
			xsRangeError("unknown MQTT property id 0x%02x", id);
		case XM_MQTT_PROP_KIND_STRING:
			prop->val = keep_string(the, k, field, "property value");
			break;
		case XM_MQTT_PROP_KIND_BINARY:
			prop->val = keep_bytes(the, k, field, 0xffff, "property value");
			break;
		case XM_MQTT_PROP_KIND_PAIR:
			prop->val = keep_string(the, k, field, "user property value");
			*field = xsGet(*item, xsID("key"));
			prop->key = keep_string(the, k, field, "user property key");
			break;
		default:
			if (xsTypeOf(*field) != xsIntegerType && xsTypeOf(*field) != xsNumberType)
				xsTypeError("MQTT property 0x%02x takes a number", id);
			prop->iv = (uint32_t)xm_mg_whole(the, xsToNumber(*field), prop_maxima[kind - XM_MQTT_PROP_KIND_BYTE], "MQTT property value");
			break;
		}
		*encoded += 1 + 4 + 4 + prop->key.len + prop->val.len;
	}
	*count = n;
	return props;
}

// The readers: a call's arguments from xsArg(first) on into opts; scratch: two
// slots (only PUBLISH's properties use them).
typedef void reader_t(xsMachine* the, keep_t* k, struct mg_mqtt_opts* opts, int first, xsSlot* scratch);

// mqttConnect's: clientId, user, pass, clean, keepalive, version, willTopic,
// willMessage, willQos, willRetain.
static void read_connect(xsMachine* the, keep_t* k, struct mg_mqtt_opts* opts, int first, xsSlot* scratch)
{
	(void)scratch;
	opts->client_id = keep_optional(the, k, &xsArg(first), "clientId");
	opts->user = keep_optional(the, k, &xsArg(first + 1), "username");
	opts->pass = keep_optional(the, k, &xsArg(first + 2), "password");
	opts->clean = xsTest(xsArg(first + 3));
	opts->keepalive = (uint16_t)xm_mg_whole(the, xsToNumber(xsArg(first + 4)), 0xffff, "MQTT keepalive");
	double version = xsToNumber(xsArg(first + 5));
	if (version != 4 && version != 5)
		xsRangeError("MQTT version must be 4 (3.1.1) or 5, not %g", version);
	opts->version = (uint8_t)version;
	if (xsTypeOf(xsArg(first + 6)) != xsUndefinedType) {
		opts->topic = keep_topic(the, k, &xsArg(first + 6));
		opts->message = keep_bytes(the, k, &xsArg(first + 7), 0xffff, "will message");
		opts->qos = qos_of(the, &xsArg(first + 8));
		opts->retain = xsTest(xsArg(first + 9));
	}
}

// mqttPub's: topic, message, qos, retain, properties.
static void read_pub(xsMachine* the, keep_t* k, struct mg_mqtt_opts* opts, int first, xsSlot* scratch)
{
	opts->topic = keep_topic(the, k, &xsArg(first));
	opts->message = keep_bytes(the, k, &xsArg(first + 1), MAX_REMAINING, "message");
	opts->qos = qos_of(the, &xsArg(first + 2));
	opts->retain = xsTest(xsArg(first + 3));
	size_t props;
	opts->props = keep_props(the, k, &xsArg(first + 4), &opts->num_props, &props, &scratch[0], &scratch[1]);
	size_t size = 2 + opts->topic.len + 2 + opts->message.len + props;
	if (size > MAX_REMAINING)
		xsRangeError("MQTT PUBLISH packet of %lu bytes is too large (at most %u)", (unsigned long)size, MAX_REMAINING);
}

// mqttSub's: topic, qos (undefined: an UNSUBSCRIBE, which has none).
static void read_sub(xsMachine* the, keep_t* k, struct mg_mqtt_opts* opts, int first, xsSlot* scratch)
{
	(void)scratch;
	opts->topic = keep_topic(the, k, &xsArg(first));
	if (xsTypeOf(xsArg(first + 1)) != xsUndefinedType)
		opts->qos = qos_of(the, &xsArg(first + 1));
}

// mqttConnect(manager, url, events, clientId, user, pass, clean, keepalive, version,
//             willTopic, willMessage, willQos, willRetain)
void xm_mg_manager_mqtt_connect(xsMachine* the)
{
	xm_mg_t* m = xm_mg_manager(the, &xsArg(0));
	int32_t events = xsToInteger(xsArg(2));
	struct mg_mqtt_opts* volatile opts = xm_mg_mqtt_connect_args(the, 3);  // volatile: read after a longjmp
	xsTry {
		xm_mg_open(the, m, xsToString(xsArg(1)), events, NULL, XM_CORE_OPEN_MQTT, opts);
	}
	xsCatch {
		free(opts);
		xsThrow(xsException);
	}
	free(opts);
}

// Sends op's packet on c: PUBLISH, SUBSCRIBE and UNSUBSCRIBE give their packet
// id. opts (packed) is freed here; the callers read it after finding c live, so
// that a closed connection is the error reported first.
static void conn_send(xsMachine* the, struct mg_connection* c, xm_core_mqtt_op_t op, struct mg_mqtt_opts* opts,
	uint8_t header, uint32_t length)
{
	if (opts && opts->num_props && !c->is_mqtt5) {
		free(opts);
		xsTypeError("MQTT properties need MQTT 5 (mqttConnect with version: 5) on connection %lu", c->id);
	}
	uint16_t id = xm_core_mqtt_send(c, op, opts, header, length);
	free(opts);
	if (op <= XM_CORE_MQTT_UNSUB)
		xsResult = xsInteger(id);
}

// mqttPub(conn, topic, message, qos, retain, properties): the packet id (0 for QoS 0)
void xm_mg_conn_mqtt_pub(xsMachine* the)
{
	struct mg_connection* c = xm_mg_live(the, &xsArg(0));
	xsVars(2);
	conn_send(the, c, XM_CORE_MQTT_PUB, xm_mg_mqtt_pub_args(the, 1, &xsVar(0)), 0, 0);
}

// mqttSub(conn, topic, qos), an UNSUBSCRIBE when qos is undefined: the packet id,
// which the SUBACK or UNSUBACK carries.
void xm_mg_conn_mqtt_sub(xsMachine* the)
{
	struct mg_connection* c = xm_mg_live(the, &xsArg(0));
	xm_core_mqtt_op_t op;
	struct mg_mqtt_opts* opts = xm_mg_mqtt_sub_args(the, 1, &op);
	conn_send(the, c, op, opts, 0, 0);
}

// Checks and sizes with a reader above, then fills a block with it (see keep_t).
static struct mg_mqtt_opts* read_packed(xsMachine* the, reader_t* read, int first, xsSlot* scratch)
{
	keep_t k = { NULL, 0 };
	struct mg_mqtt_opts sizing = { 0 };
	read(the, &k, &sizing, first, scratch);  // throws for a bad argument: nothing to free yet
	packed_t* volatile p = calloc(1, sizeof(packed_t) + k.used);  // volatile: read after a longjmp
	if (!p)
		xsUnknownError("no memory for MQTT arguments");
	k.block = p->bytes;
	k.used = 0;
	xsTry {
		read(the, &k, &p->opts, first, scratch);
	}
	xsCatch {
		free(p);
		xsThrow(xsException);
	}
	return &p->opts;
}

struct mg_mqtt_opts* xm_mg_mqtt_connect_args(xsMachine* the, int first)
{
	return read_packed(the, read_connect, first, NULL);
}

struct mg_mqtt_opts* xm_mg_mqtt_pub_args(xsMachine* the, int first, xsSlot* scratch)
{
	return read_packed(the, read_pub, first, scratch);
}

struct mg_mqtt_opts* xm_mg_mqtt_sub_args(xsMachine* the, int first, xm_core_mqtt_op_t* op)
{
	*op = xsTypeOf(xsArg(first + 1)) != xsUndefinedType ? XM_CORE_MQTT_SUB : XM_CORE_MQTT_UNSUB;
	return read_packed(the, read_sub, first, NULL);
}

xm_core_mqtt_op_t xm_mg_mqtt_control_args(xsMachine* the, int first)
{
	int cmd = xsToInteger(xsArg(first));
	switch (cmd) {
	case MQTT_CMD_PINGREQ: return XM_CORE_MQTT_PING;
	case MQTT_CMD_PINGRESP: return XM_CORE_MQTT_PONG;
	case MQTT_CMD_DISCONNECT: return XM_CORE_MQTT_DISCONNECT;
	default: xsRangeError("MQTT command %d is not PINGREQ, PINGRESP or DISCONNECT", cmd);
	}
}

// mqttControl(conn, cmd): PINGREQ, PINGRESP or DISCONNECT, as mongoose makes them
void xm_mg_conn_mqtt_control(xsMachine* the)
{
	struct mg_connection* c = xm_mg_live(the, &xsArg(0));
	conn_send(the, c, xm_mg_mqtt_control_args(the, 1), NULL, 0, 0);
}

uint8_t xm_mg_mqtt_header_args(xsMachine* the, int first, uint32_t* length)
{
	unsigned cmd = (unsigned)xm_mg_whole(the, xsToNumber(xsArg(first)), 15, "MQTT command");
	unsigned flags = (unsigned)xm_mg_whole(the, xsToNumber(xsArg(first + 1)), 15, "MQTT header flags");
	*length = (uint32_t)xm_mg_whole(the, xsToNumber(xsArg(first + 2)), MAX_REMAINING, "MQTT remaining length");
	if (!cmd)
		xsRangeError("MQTT command 0 is reserved");
	return (uint8_t)(cmd << 4 | flags);
}

// mqttSendHeader(conn, cmd, flags, length): a fixed header; the caller sends the rest
void xm_mg_conn_mqtt_send_header(xsMachine* the)
{
	struct mg_connection* c = xm_mg_live(the, &xsArg(0));
	uint32_t length;
	uint8_t header = xm_mg_mqtt_header_args(the, 1, &length);
	conn_send(the, c, XM_CORE_MQTT_HEADER, NULL, header, length);
}

void xm_mg_mm_topic(xsMachine* the)
{
	struct mg_mqtt_message* mm = xm_mg_mm_topic_in(the).msg;
	xm_mg_new_string(the, &xsResult, mm ? mm->topic : mg_str_n(NULL, 0));
}

// data(msg, asText): the payload of a PUBLISH
void xm_mg_mm_data(xsMachine* the)
{
	xm_mg_mm_data_in_t a = xm_mg_mm_data_in(the);
	struct mg_str data = a.msg ? a.msg->data : mg_str_n(NULL, 0);
	if (a.asText)
		xm_mg_new_string(the, &xsResult, data);
	else
		xm_mg_new_bytes(the, &xsResult, data.buf, data.len);
}

// The whole packet, fixed header included.
void xm_mg_mm_packet(xsMachine* the)
{
	struct mg_mqtt_message* mm = xm_mg_mm_packet_in(the).msg;
	xm_mg_new_bytes(the, &xsResult, mm ? mm->dgram.buf : NULL, mm ? mm->dgram.len : 0);
}

// field(msg, n): id, cmd, qos, ack, the fixed header's flags
void xm_mg_mm_field(xsMachine* the)
{
	xm_mg_mm_field_in_t a = xm_mg_mm_field_in(the);
	struct mg_mqtt_message* mm = a.msg;
	if (!mm) {
		xsResult = xsInteger(0);
		return;
	}
	int fields[] = { mm->id, mm->cmd, mm->qos, mm->ack, mm->dgram.len ? (uint8_t)mm->dgram.buf[0] & 0x0f : 0 };  // n is 0..4
	xsResult = xsInteger(fields[a.n]);
}

// One decoded property into *object, using *value.
static void decode_prop(xsMachine* the, const struct mg_mqtt_prop* prop, xsSlot* object, xsSlot* value)
{
	*object = xsNewObject();
	*value = xsInteger(prop->id);
	xsSet(*object, xsID("id"), *value);
	switch (prop_kind(prop->id)) {
	case XM_MQTT_PROP_KIND_STRING:
		xm_mg_new_string(the, value, prop->val);
		break;
	case XM_MQTT_PROP_KIND_BINARY:
		xm_mg_new_bytes(the, value, prop->val.buf, prop->val.len);
		break;
	case XM_MQTT_PROP_KIND_PAIR:
		xm_mg_new_string(the, value, prop->key);
		xsSet(*object, xsID("key"), *value);
		xm_mg_new_string(the, value, prop->val);
		break;
	default:  // a number (mg_mqtt_next_prop stops at an unknown id)
		*value = xsNumber((double)prop->iv);
		break;
	}
	xsSet(*object, xsID("value"), *value);
}

// properties(msg): the MQTT 5 properties of a PUBLISH, [{ id, value, key? }], up
// to the first malformed one (mg_mqtt_next_prop checks each against the property
// section and the packet, and stops at an unknown id).
void xm_mg_mm_properties(xsMachine* the)
{
	struct mg_mqtt_message* mm = xm_mg_mm_properties_in(the).msg;
	xsResult = xsNewArray(0);
	if (!mm)
		return;
	xsVars(2);
	struct mg_mqtt_prop prop;
	int n = 0;
	for (size_t pos = 0, next; (next = mg_mqtt_next_prop(mm, &prop, pos)) > pos; pos = next) {
		decode_prop(the, &prop, &xsVar(0), &xsVar(1));
		xsSetIndex(xsResult, n++, xsVar(0));
	}
}
