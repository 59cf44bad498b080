/* Health probes: what control asks a worker to check and what the worker saw.
 *
 * Control allocates a probe, fills the request part and hands it to one worker through the engine's
 * hm_submit hook; the worker runs it through its own stack (TCP connect, ICMP echo, UDP query), fills
 * the outcome part and gives the same pointer back (hm_collect). Control judges the content (expected
 * bytes, HTTP status class, DNS rcode/answer) and frees the probe. Workers only read the request part,
 * write the outcome part, and never allocate for it. */
#ifndef SL_HM_H
#define SL_HM_H

#include <stdint.h>

enum sl_hm_kind { SL_HM_PING = 1, SL_HM_TCP, SL_HM_HTTP, SL_HM_DNS };

enum sl_hm_outcome {
	SL_HM_DONE = 1,     /* the exchange finished (echo reply, connect [+ expected bytes or status line], DNS
			       reply with our id, or the server closed); resp holds what came back */
	SL_HM_REFUSED,      /* TCP connection refused (RST to our SYN) */
	SL_HM_RESET,        /* connection reset after it was established */
	SL_HM_TIMEOUT,      /* nothing conclusive within timeout_ms (resp holds any partial answer) */
	SL_HM_NO_ROUTE,     /* no port routes to the address */
	SL_HM_BUSY,         /* the worker had no probe slot, TCB, port or mbuf: no verdict */
};

#define SL_HM_RESP_MAX 512

struct sl_hm_probe {
	/* request: written by control before submit, read-only for the worker */
	uint8_t kind;               /* enum sl_hm_kind */
	uint16_t port;              /* host order; TCP/HTTP/DNS */
	uint32_t ip;                /* network order */
	uint32_t timeout_ms;
	const uint8_t *req;         /* TCP/HTTP: bytes sent once connected; DNS: the query */
	uint32_t req_len;
	const uint8_t *expect;      /* TCP: done as soon as the response contains these bytes */
	uint32_t expect_len;
	/* outcome: written by the worker */
	uint8_t outcome;            /* enum sl_hm_outcome */
	uint16_t resp_len;
	uint16_t status;            /* HTTP: the status of a valid status line (strict parser), 0 = none */
	uint32_t rtt_us;
	uint8_t resp[SL_HM_RESP_MAX];
	/* control's bookkeeping */
	uint32_t target, tgen, worker;
	struct sl_hm_probe *prev, *next;
	uint8_t data[];             /* req and expect bytes */
};

#endif
