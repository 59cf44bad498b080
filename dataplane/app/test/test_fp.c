/* Test endpoints on the interface addresses (start-up file `test
 * tcp-echo|tcp-sink|tcp-source PORT`), for the benchmarks and tests only:
 * echo sends the very mbufs it received back (the input queue relayed onto
 * the same connection), sink discards, source sends a byte pattern (byte i
 * of the stream is i & 0xff) until the peer closes. */
#include <errno.h>
#include <string.h>

#include "../app_priv.h"

#define SOURCE_CHUNK 1448
/* any chunk of the pattern is a slice of this table */
static uint8_t source_pattern[256 + SOURCE_CHUNK];

struct echo_state { bool fin_sent; };
struct source_state { uint64_t sent; };

int sl_app_test_init(struct sl_app_worker *aw)
{
	(void)aw;
	for (unsigned i = 0; i < sizeof(source_pattern); i++)
		source_pattern[i] = (uint8_t)i;
	return 0;
}

/* ---- echo */
static void echo_flush(struct sl_app_conn *c)
{
	struct echo_state *e = sl_app_priv(c, struct echo_state);
	uint32_t moved;
	int rc = sl_app_in_relay(c, c, UINT32_MAX, &moved);

	if (rc && rc != -EAGAIN) {
		sl_app_abort(c);
		return;
	}
	if (!sl_app_in_len(c) && c->eof && !e->fin_sent) {
		e->fin_sent = true;
		sl_app_close(c);
	}
}

static int echo_accept(struct sl_app_conn *c, const struct sl_gen_vs *vs)
{
	(void)vs;
	memset(c->priv, 0, sizeof(struct echo_state));
	return 0;
}

const struct sl_app_ops sl_app_echo_ops = {
	.name = "echo", .accept = echo_accept, .data = echo_flush, .writable = echo_flush, .eof = echo_flush,
};

/* ---- sink */
static void sink_data(struct sl_app_conn *c)
{
	sl_app_in_consume(c, sl_app_in_len(c));
}

const struct sl_app_ops sl_app_sink_ops = { .name = "sink", .data = sink_data };

/* ---- source */
static void source_fill(struct sl_app_conn *c)
{
	struct source_state *s = sl_app_priv(c, struct source_state);

	/* until the stack refuses: only that arms the writable callback */
	for (;;) {
		int n = sl_app_write(c, source_pattern + (s->sent & 0xff), SOURCE_CHUNK);

		if (n <= 0)
			return;
		s->sent += (uint32_t)n;
		if (n < SOURCE_CHUNK)
			return;
	}
}

static int source_accept(struct sl_app_conn *c, const struct sl_gen_vs *vs)
{
	(void)vs;
	memset(c->priv, 0, sizeof(struct source_state));
	source_fill(c);
	return 0;
}

static void source_writable(struct sl_app_conn *c)
{
	if (!c->eof)
		source_fill(c);
}

const struct sl_app_ops sl_app_source_ops = {
	.name = "source", .accept = source_accept, .data = sink_data, .writable = source_writable,
};
