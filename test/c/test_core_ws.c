// SPDX-License-Identifier: MIT
// The WebSocket frame check (core/ws_frame_check.c) on mongoose's WebSocket handler.
#include "check.h"
#include "core_support.h"

static const char upgrade[] = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// A server connection mongoose has upgraded, its 101 already gone.
static struct mg_connection* upgraded(struct mg_mgr* mgr, recorder_t* rec)
{
	struct mg_http_message hm;
	struct mg_connection* c = core_accepted(mgr, NULL, rec);
	CHECK(mg_http_parse(upgrade, sizeof(upgrade) - 1, &hm) > 0);
	mg_ws_upgrade(c, &hm, NULL);
	CHECK(c->is_websocket);
	c->send.len = 0;
	return c;
}

// A frame as a client sends it: masked with a zero key, so the payload reads as is.
static size_t client_frame(uint8_t* out, uint8_t first, const char* payload)
{
	size_t n = strlen(payload);
	out[0] = first;
	out[1] = (uint8_t)(0x80 | n);
	memset(out + 2, 0, 4);
	memcpy(out + 6, payload, n);
	return 6 + n;
}

static bool closed_with(const struct mg_connection* c, int code)
{
	return c->send.len >= 4 && c->send.buf[0] == 0x88 && c->send.buf[1] == 2 &&
		c->send.buf[2] == (uint8_t)(code >> 8) && c->send.buf[3] == (uint8_t)code;
}

static void test_mongoose_takes_unmasked(void)
{
	struct mg_mgr mgr;
	recorder_t rec = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* c = upgraded(&mgr, &rec);
	static const uint8_t unmasked[] = { 0x81, 2, 'h', 'i' };
	core_receive(c, unmasked, sizeof(unmasked));
	CHECK_EQ(core_seen(&rec, MG_EV_WS_MSG), 1);  // RFC 6455 5.1: the server must close instead
	core_drop(c);
	core_free(&rec);
	mg_mgr_free(&mgr);
}

static void test_frames_pass(void)
{
	struct mg_mgr mgr;
	recorder_t rec = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* c = upgraded(&mgr, &rec);
	xm_core_ws_frame_check(c);
	mg_event_handler_t wrapped = c->pfn;
	xm_core_ws_frame_check(c);
	CHECK(c->pfn == wrapped);
	uint8_t frame[64];
	core_receive(c, frame, client_frame(frame, 0x81, "hi"));
	CHECK_EQ(core_seen(&rec, MG_EV_WS_MSG), 1);
	CHECK(mg_strcmp(rec.data, mg_str("hi")) == 0);
	// A fragmented message over two reads: the second starts inside the message.
	core_receive(c, frame, client_frame(frame, 0x01, "ab"));
	core_receive(c, frame, client_frame(frame, 0x80, "cd"));
	CHECK_EQ(core_seen(&rec, MG_EV_WS_MSG), 2);
	CHECK(mg_strcmp(rec.data, mg_str("abcd")) == 0);
	CHECK_EQ(c->send.len, 0);
	CHECK_EQ(core_seen(&rec, MG_EV_ERROR), 0);
	core_drop(c);
	core_free(&rec);
	mg_mgr_free(&mgr);
}

static void refused(const uint8_t* bytes, size_t size, int code, const char* why)
{
	struct mg_mgr mgr;
	recorder_t rec = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* c = upgraded(&mgr, &rec);
	xm_core_ws_frame_check(c);
	core_receive(c, bytes, size);
	CHECK(closed_with(c, code));
	CHECK(c->is_draining);
	CHECK(c->pfn == xm_core_drop_input);
	CHECK_EQ(core_seen(&rec, MG_EV_ERROR), 1);
	CHECK(strcmp(rec.error, why) == 0);
	CHECK_EQ(core_seen(&rec, MG_EV_WS_MSG) + core_seen(&rec, MG_EV_WS_CTL), 0);
	core_receive(c, bytes, size);  // dropped
	CHECK_EQ(c->recv.len, 0);
	CHECK_EQ(core_seen(&rec, MG_EV_ERROR), 1);
	core_drop(c);
	core_free(&rec);
	mg_mgr_free(&mgr);
}

static void test_frames_refused(void)
{
	static const uint8_t unmasked[] = { 0x81, 2, 'h', 'i' };
	refused(unmasked, sizeof(unmasked), 1002, "unmasked WebSocket frame from a client");
	// 1 GiB announced: mongoose would wait for it.
	static const uint8_t huge[] = { 0x82, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0 };
	refused(huge, sizeof(huge), 1009, "WebSocket frame too big for the receive buffer");
	uint8_t frame[64];
	refused(frame, client_frame(frame, 0xc1, "x"), 1002, "WebSocket frame with reserved bits set");
	// A good frame, then a bad one in the same read: nothing is delivered.
	size_t n = client_frame(frame, 0x81, "ok");
	n += client_frame(frame + n, 0x83, "?");
	refused(frame, n, 1002, "WebSocket frame with an unknown opcode");
}

static const char* fault(bool client, const uint8_t* buf, size_t len, bool in_message, int* code)
{
	*code = 0;
	return xm_core_ws_frames_fault(client, buf, 0, len, in_message, code);
}

static void test_frames_fault(void)
{
	int code;
	static const uint8_t ping126[] = { 0x89, 0xfe, 0, 126 };
	CHECK(fault(false, ping126, sizeof(ping126), false, &code) != NULL);
	CHECK_EQ(code, 1002);
	static const uint8_t ping_fragment[] = { 0x09, 0x80, 0, 0, 0, 0 };
	CHECK(fault(false, ping_fragment, sizeof(ping_fragment), false, &code) != NULL);
	static const uint8_t continuation[] = { 0x80, 0x80, 0, 0, 0, 0 };
	CHECK(fault(false, continuation, sizeof(continuation), false, &code) != NULL);
	CHECK(fault(false, continuation, sizeof(continuation), true, &code) == NULL);
	static const uint8_t text[] = { 0x81, 0x80, 0, 0, 0, 0 };
	CHECK(fault(false, text, sizeof(text), true, &code) != NULL);
	// A ping between fragments is allowed.
	static const uint8_t ping_inside[] = { 0x01, 0x80, 0, 0, 0, 0, 0x89, 0x80, 0, 0, 0, 0, 0x80, 0x80, 0, 0, 0, 0 };
	CHECK(fault(false, ping_inside, sizeof(ping_inside), false, &code) == NULL);
	// A server's frames are not masked.
	CHECK(fault(true, text, sizeof(text), false, &code) != NULL);
	static const uint8_t from_server[] = { 0x81, 0 };
	CHECK(fault(true, from_server, sizeof(from_server), false, &code) == NULL);
	// A length still on its way, a frame still arriving: wait.
	static const uint8_t partial_length[] = { 0x82, 0xfe, 1 };
	CHECK(fault(false, partial_length, sizeof(partial_length), false, &code) == NULL);
	static const uint8_t partial_frame[] = { 0x82, 0xfe, 1, 0, 0, 0, 0, 0, 'x' };
	CHECK(fault(false, partial_frame, sizeof(partial_frame), false, &code) == NULL);
	// The limit counts the frame's place in the buffer.
	uint8_t at_limit[14] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint64_t most = MG_MAX_RECV_SIZE - 14;
	for (int i = 0; i < 8; i++)
		at_limit[2 + i] = (uint8_t)(most >> (8 * (7 - i)));
	CHECK(fault(false, at_limit, sizeof(at_limit), false, &code) == NULL);
	at_limit[9]++;
	CHECK(fault(false, at_limit, sizeof(at_limit), false, &code) != NULL);
	CHECK_EQ(code, 1009);
}

// A server that refuses every message for lack of memory (core/message_refuse.c),
// dropping what xm_core_http_before drops, counting what reaches it.
typedef struct {
	xm_core_http_state_t s;
	int messages, controls;
} ws_refusing_t;

static void refuse_messages(struct mg_connection* c, int ev, void* ev_data)
{
	ws_refusing_t* r = c->fn_data;
	if (xm_core_http_before(c, ev, ev_data, &r->s))
		return;
	if (ev == MG_EV_WS_CTL)
		r->controls++;
	if (ev != MG_EV_WS_MSG)
		return;
	r->messages++;
	xm_core_refuse_message(c, ev, &r->s);
}

static void test_refuse_message_1009(void)
{
	struct mg_mgr mgr;
	core_mgr_init(&mgr);
	struct mg_connection* c = upgraded(&mgr, NULL);
	ws_refusing_t r = { 0 };
	c->fn = refuse_messages;
	c->fn_data = &r;
	uint8_t frame[64];
	size_t n = client_frame(frame, 0x81, "one");
	n += client_frame(frame + n, 0x81, "two");
	core_receive(c, frame, n);
	CHECK_EQ(r.messages, 1);  // the second is dropped: one close frame
	CHECK(c->send.len > 4 && c->send.buf[0] == 0x88 && c->send.buf[2] == 0x03 && c->send.buf[3] == 0xf1);
	CHECK(!c->is_draining);  // still reading: the peer's close frame ends it
	size_t sent = c->send.len;
	core_receive(c, frame, client_frame(frame, 0x88, ""));
	CHECK_EQ(r.controls, 1);
	CHECK(c->send.len > sent);  // mongoose's answer to the close
	CHECK(c->is_draining);
	core_drop(c);
	mg_mgr_free(&mgr);
}

const test_case_t core_ws_tests[] = {
	{ "core: mongoose takes an unmasked client frame", test_mongoose_takes_unmasked, false },
	{ "core: ws_frame_check lets good frames through to mongoose", test_frames_pass, false },
	{ "core: ws_frame_check closes with 1002 or 1009", test_frames_refused, false },
	{ "core: ws frames fault, frame by frame", test_frames_fault, false },
	{ "core: refuse_message closes a WebSocket with 1009, then drops its messages", test_refuse_message_1009, false },
	{ NULL, NULL, false },
};
