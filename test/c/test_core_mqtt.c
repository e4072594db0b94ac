// SPDX-License-Identifier: MIT
// The MQTT 5 PUBLISH repair (core/mqtt5_short_publish.c) on mongoose's MQTT handler,
// and the client packets both managers send (core/mqtt_send.c).
#include "check.h"
#include "core_support.h"

// A connection with mongoose's MQTT handler (from an mg_mqtt_connect that is
// never polled), fed by hand; wrapped: with the repair.
static struct mg_connection* mqtt5_client(struct mg_mgr* mgr, recorder_t* rec, bool wrapped)
{
	struct mg_mqtt_opts opts;
	memset(&opts, 0, sizeof(opts));
	opts.version = 5;
	struct mg_connection* real = mg_mqtt_connect(mgr, "mqtt://127.0.0.1:1", &opts, NULL, NULL);
	CHECK(real != NULL && real->is_mqtt5);
	struct mg_connection* c = core_accepted(mgr, real, rec);
	c->is_accepted = 0;
	c->is_client = 1;
	c->is_mqtt5 = 1;
	if (wrapped)
		xm_core_mqtt5_short_publish(c);
	return c;
}

static const uint8_t one_byte[] = { 0x30, 5, 0, 1, 't', 0, '1' };  // topic t, no properties, payload "1"

static void test_mongoose_misreads_short_payload(void)
{
	struct mg_mgr mgr;
	recorder_t rec = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* c = mqtt5_client(&mgr, &rec, false);
	core_receive(c, one_byte, sizeof(one_byte));
	CHECK_EQ(core_seen(&rec, MG_EV_MQTT_MSG), 1);
	CHECK(mg_strcmp(rec.data, mg_str_n("\0" "1", 2)) == 0);
	core_drop(c);
	core_free(&rec);
	mg_mgr_free(&mgr);
}

static void expect_payload(const uint8_t* packet, size_t size, struct mg_str payload)
{
	struct mg_mgr mgr;
	recorder_t rec = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* c = mqtt5_client(&mgr, &rec, true);
	core_receive(c, packet, size);
	CHECK_EQ(core_seen(&rec, MG_EV_MQTT_MSG), 1);
	CHECK(mg_strcmp(rec.data, payload) == 0);
	core_drop(c);
	core_free(&rec);
	mg_mgr_free(&mgr);
}

static void test_short_payload_repaired(void)
{
	expect_payload(one_byte, sizeof(one_byte), mg_str("1"));
	static const uint8_t empty[] = { 0x30, 4, 0, 1, 't', 0 };
	expect_payload(empty, sizeof(empty), mg_str(""));
	static const uint8_t qos1[] = { 0x32, 7, 0, 1, 't', 0, 7, 0, 'z' };
	expect_payload(qos1, sizeof(qos1), mg_str("z"));
	// Properties (payload format 1) and a 1-byte payload; mongoose reads these itself.
	static const uint8_t props[] = { 0x30, 7, 0, 1, 't', 2, 0x01, 0x01, 'x' };
	expect_payload(props, sizeof(props), mg_str("x"));
	static const uint8_t longer[] = { 0x30, 7, 0, 1, 't', 0, 'a', 'b', 'c' };
	expect_payload(longer, sizeof(longer), mg_str("abc"));
}

static void test_repair_fields(void)
{
	struct mg_mqtt_message mm;
	CHECK_EQ(mg_mqtt_parse(one_byte, sizeof(one_byte), 5, &mm), MQTT_OK);
	CHECK_EQ(mm.props_start, 0);
	xm_core_mqtt5_repair(&mm);
	CHECK_EQ(mm.props_start, 6);  // after the length, as mongoose counts it
	CHECK_EQ(mm.props_size, 0);
	CHECK(mg_strcmp(mm.data, mg_str("1")) == 0);
	xm_core_mqtt5_repair(&mm);  // once repaired, left alone
	CHECK(mg_strcmp(mm.data, mg_str("1")) == 0);

	// A property length that claims more than is there: cut to the packet.
	static const uint8_t claims[] = { 0x30, 5, 0, 1, 't', 9, '1' };
	CHECK_EQ(mg_mqtt_parse(claims, sizeof(claims), 5, &mm), MQTT_OK);
	xm_core_mqtt5_repair(&mm);
	CHECK_EQ(mm.props_size, 1);
	CHECK_EQ(mm.data.len, 0);

	// Not a PUBLISH: untouched.
	static const uint8_t suback[] = { 0x90, 4, 0, 1, 0, 0 };
	CHECK_EQ(mg_mqtt_parse(suback, sizeof(suback), 5, &mm), MQTT_OK);
	struct mg_mqtt_message before = mm;
	xm_core_mqtt5_repair(&mm);
	CHECK(memcmp(&before, &mm, sizeof(mm)) == 0);
}

static void test_mqtt311_left_alone(void)
{
	struct mg_mgr mgr;
	struct mg_mqtt_opts opts;
	core_mgr_init(&mgr);
	memset(&opts, 0, sizeof(opts));
	opts.version = 4;
	struct mg_connection* c = mg_mqtt_connect(&mgr, "mqtt://127.0.0.1:1", &opts, NULL, NULL);
	mg_event_handler_t before = c->pfn;
	xm_core_mqtt5_short_publish(c);
	CHECK(c->pfn == before);
	xm_core_mqtt5_short_publish(NULL);
	mg_mgr_free(&mgr);
}

// UNSUBSCRIBE, which mongoose lacks, as MQTT 3.1.1 and 5 frame it; its packet
// id follows SUBSCRIBE's, from the manager's one counter.
static void test_unsubscribe_framed(void)
{
	for (int version = 4; version <= 5; version++) {
		struct mg_mgr mgr;
		recorder_t rec = { 0 };
		core_mgr_init(&mgr);
		struct mg_connection* c = mqtt5_client(&mgr, &rec, false);
		c->is_mqtt5 = version == 5;
		struct mg_mqtt_opts opts;
		memset(&opts, 0, sizeof(opts));
		opts.topic = mg_str("a/b");
		uint16_t sub = xm_core_mqtt_send(c, XM_CORE_MQTT_SUB, &opts, 0, 0);
		c->send.len = 0;
		uint16_t unsub = xm_core_mqtt_send(c, XM_CORE_MQTT_UNSUB, &opts, 0, 0);
		CHECK_EQ(unsub, sub + 1);
		const uint8_t v4[] = { 0xa2, 7, 0, (uint8_t)unsub, 0, 3, 'a', '/', 'b' };
		const uint8_t v5[] = { 0xa2, 8, 0, (uint8_t)unsub, 0, 0, 3, 'a', '/', 'b' };
		struct mg_str want = version == 5 ? mg_str_n((const char*)v5, sizeof(v5)) : mg_str_n((const char*)v4, sizeof(v4));
		CHECK(mg_strcmp(mg_str_n((const char*)c->send.buf, c->send.len), want) == 0);
		core_drop(c);
		core_free(&rec);
		mg_mgr_free(&mgr);
	}
}

// HEADER: a fixed header from its first byte and remaining length.
static void test_header_framed(void)
{
	struct mg_mgr mgr;
	recorder_t rec = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* c = mqtt5_client(&mgr, &rec, false);
	CHECK_EQ(xm_core_mqtt_send(c, XM_CORE_MQTT_HEADER, NULL, 0x32, 200), 0);
	const uint8_t want[] = { 0x32, 0xc8, 0x01 };  // 200 as a varint
	CHECK(mg_strcmp(mg_str_n((const char*)c->send.buf, c->send.len), mg_str_n((const char*)want, sizeof(want))) == 0);
	core_drop(c);
	core_free(&rec);
	mg_mgr_free(&mgr);
}

const test_case_t core_mqtt_tests[] = {
	{ "core: mongoose reads an MQTT 5 1-byte payload with a byte in front", test_mongoose_misreads_short_payload, false },
	{ "core: mqtt5_short_publish repairs 0- and 1-byte payloads", test_short_payload_repaired, false },
	{ "core: mqtt5 repair's fields", test_repair_fields, false },
	{ "core: mqtt5_short_publish leaves MQTT 3.1.1 alone", test_mqtt311_left_alone, false },
	{ "core: UNSUBSCRIBE framed for MQTT 3.1.1 and 5, its id after SUBSCRIBE's", test_unsubscribe_framed, false },
	{ "core: an MQTT fixed header from its first byte and length", test_header_framed, false },
	{ NULL, NULL, false },
};
