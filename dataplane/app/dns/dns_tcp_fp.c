/* DNS over TCP on DNS virtual services (RFC 7766): 2-byte length framing,
 * several queries per connection answered in order, idle connections
 * closed. Queries are answered by the current generation's VS for the
 * connection's VIP:port (the same answers UDP gets); a query split across
 * segments is read through a contiguous view of the input queue. */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_cycles.h>

#include "../app_priv.h"
#include "sl_dns.h"

#define DNS_TCP_MAX 1024         /* largest query accepted over TCP */
#define DNS_TCP_IDLE_US (10ull * 1000000)

struct dns_tcp_state { uint64_t last_us; };

static void dns_answer_one(struct sl_app_conn *c, const uint8_t *q, uint16_t qlen)
{
	struct sl_app_worker *aw = c->aw;
	const struct sl_app_env *env = sl_app_env(aw);
	const struct sl_gen *g = sl_app_current_gen(aw);
	const struct sl_gen_vs *vs = g ? sl_gen_lookup(g, c->lip, IPPROTO_UDP, c->lport) : NULL;
	uint8_t *resp = aw->out;
	uint64_t t0 = rte_rdtsc();
	struct sl_dns_qlog ql;
	size_t rlen;
	int n;

	aw->st.dns_tcp_queries++;
	if (!vs || vs->app_type != SL_APP_DNS || !vs->app) {
		/* the VS went away under an open connection */
		sl_app_close(c);
		return;
	}
	rlen = sl_dns_answer(vs->app, env->worker_id, q, qlen, resp + 2, sizeof(aw->out) - 2, c->rip, true, &ql);
	if (env->dns_done)
		env->dns_done(env->arg, vs, &ql, rlen, c->rip, c->rport, t0);
	if (!rlen) {
		aw->st.dns_tcp_dropped++;
		return;
	}
	resp[0] = (uint8_t)(rlen >> 8);
	resp[1] = (uint8_t)rlen;
	n = sl_app_write(c, resp, (uint32_t)rlen + 2);
	/* a client that does not read its answers loses its connection */
	if (n != (int)rlen + 2)
		sl_app_abort(c);
}

static void dns_data(struct sl_app_conn *c)
{
	struct dns_tcp_state *d = sl_app_priv(c, struct dns_tcp_state);

	d->last_us = sl_app_now(c);
	while (sl_app_in_len(c) >= 2) {
		const uint8_t *h = sl_app_in_view(c, 2, c->aw->scratch);
		uint32_t qlen = (uint32_t)h[0] << 8 | h[1];
		const uint8_t *q;

		if (qlen < 12 || qlen > DNS_TCP_MAX) {
			sl_app_abort(c);
			return;
		}
		if (sl_app_in_len(c) < 2 + qlen)
			return;
		q = sl_app_in_view(c, 2 + qlen, c->aw->scratch);
		dns_answer_one(c, q + 2, (uint16_t)qlen);
		if (c->dead)
			return;
		sl_app_in_consume(c, 2 + qlen);
	}
}

static void dns_timer(struct sl_app_conn *c)
{
	struct dns_tcp_state *d = sl_app_priv(c, struct dns_tcp_state);
	uint64_t now = sl_app_now(c);

	if (now - d->last_us >= DNS_TCP_IDLE_US) {
		c->aw->st.idle_closed++;
		sl_app_close(c);
		return;
	}
	sl_app_timer_set(c, d->last_us + DNS_TCP_IDLE_US);
}

static int dns_accept(struct sl_app_conn *c, const struct sl_gen_vs *vs)
{
	struct dns_tcp_state *d = sl_app_priv(c, struct dns_tcp_state);

	(void)vs;
	d->last_us = sl_app_now(c);
	sl_app_timer_set(c, d->last_us + DNS_TCP_IDLE_US);
	return 0;
}

const struct sl_app_ops sl_app_dns_ops = {
	.name = "dns", .accept = dns_accept, .data = dns_data, .timer = dns_timer,
};
