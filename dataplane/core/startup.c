/* Start-up file parser. Line based on purpose: an operator edits it by hand
 * on an appliance console, and every error must point at one line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "sl_startup.h"

#define MAX_TOK 24

struct pctx {
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct pctx *c, const char *field, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u: %s: %s", c->name, c->line, field, why);
	return -EINVAL;
}

static int parse_u32(const char *s, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_prob(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= 0.0 && v <= 1.0))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = a.s_addr;
	return 0;
}

static struct sl_port_conf *find_port(struct sl_startup *su, const char *name)
{
	for (unsigned i = 0; i < su->n_ports; i++)
		if (!strcmp(su->ports[i].name, name))
			return &su->ports[i];
	return NULL;
}

static int parse_port(struct pctx *c, struct sl_startup *su, char **t, int n)
{
	struct sl_port_conf *p;
	uint32_t v;
	bool have_dev = false, have_role = false, have_ip = false;

	if (n < 2)
		return fail(c, "port", "missing port name");
	if (strlen(t[1]) >= SL_NAME_LEN)
		return fail(c, "port", "name longer than 31 characters");
	if (find_port(su, t[1]))
		return fail(c, "port", "duplicate port '%s'", t[1]);
	if (su->n_ports == SL_MAX_PORTS)
		return fail(c, "port", "too many ports (max 4)");
	p = &su->ports[su->n_ports];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", t[1]);
	p->mtu = 1500;
	for (int i = 2; i < n; i += 2) {
		const char *k = t[i], *val = i + 1 < n ? t[i + 1] : NULL;

		if (!val)
			return fail(c, k, "missing value");
		if (!strcmp(k, "dev")) {
			if (strlen(val) >= sizeof(p->dev))
				return fail(c, "dev", "device name too long");
			snprintf(p->dev, sizeof(p->dev), "%s", val);
			have_dev = true;
		} else if (!strcmp(k, "role")) {
			if (!strcmp(val, "frontend"))
				p->role = SL_ROLE_FRONTEND;
			else if (!strcmp(val, "backend"))
				p->role = SL_ROLE_BACKEND;
			else if (!strcmp(val, "both"))
				p->role = SL_ROLE_BOTH;
			else
				return fail(c, "role", "'%s' is not frontend, backend or both", val);
			have_role = true;
		} else if (!strcmp(k, "ip")) {
			char buf[32];
			char *slash;

			snprintf(buf, sizeof(buf), "%s", val);
			slash = strchr(buf, '/');
			if (!slash)
				return fail(c, "ip", "'%s' needs a /prefix", val);
			*slash = 0;
			if (parse_ip(buf, &p->ip) || parse_u32(slash + 1, 32, &v) || v < 1)
				return fail(c, "ip", "'%s' is not A.B.C.D/1-32", val);
			p->prefix = (uint8_t)v;
			have_ip = true;
		} else if (!strcmp(k, "gw")) {
			if (parse_ip(val, &p->gw))
				return fail(c, "gw", "'%s' is not an IPv4 address", val);
		} else if (!strcmp(k, "mtu")) {
			if (parse_u32(val, 9000, &v) || v < 576)
				return fail(c, "mtu", "'%s' is not 576-9000", val);
			p->mtu = (uint16_t)v;
		} else if (!strcmp(k, "csum-offload")) {
			if (strcmp(val, "on") && strcmp(val, "off"))
				return fail(c, "csum-offload", "'%s' is not on or off", val);
			p->no_csum_offload = !strcmp(val, "off");
		} else if (!strcmp(k, "rx-ring") || !strcmp(k, "tx-ring")) {
			if (parse_u32(val, 16384, &v) || v < 64 || (v & (v - 1)))
				return fail(c, k, "'%s' is not a power of two 64-16384", val);
			if (k[0] == 'r')
				p->rx_ring = (uint16_t)v;
			else
				p->tx_ring = (uint16_t)v;
		} else if (!strcmp(k, "vlan")) {
			if (parse_u32(val, 4094, &v) || v < 1)
				return fail(c, "vlan", "'%s' is not 1-4094", val);
			p->vlan = (uint16_t)v;
		} else {
			return fail(c, k, "unknown port field '%s'", k);
		}
	}
	if (!have_dev)
		return fail(c, "dev", "required");
	if (!have_role)
		return fail(c, "role", "required");
	if (!have_ip)
		return fail(c, "ip", "required");
	if (p->gw) {
		uint32_t mask = htonl(~0u << (32 - p->prefix));

		if ((p->gw & mask) != (p->ip & mask))
			return fail(c, "gw", "gateway is not inside %s's subnet", p->name);
	}
	su->n_ports++;
	return 0;
}

static int parse_idle(struct pctx *c, struct sl_startup *su, char **t, int n)
{
	if (n < 3 || strcmp(t[1], "backoff"))
		return fail(c, "idle", "expected 'idle backoff on|off [max-sleep-us N]'");
	if (!strcmp(t[2], "on"))
		su->idle_backoff = true;
	else if (!strcmp(t[2], "off"))
		su->idle_backoff = false;
	else
		return fail(c, "backoff", "'%s' is not on or off", t[2]);
	if (n == 3)
		return 0;
	if (n != 5 || strcmp(t[3], "max-sleep-us"))
		return fail(c, "idle", "unexpected '%s'", t[3]);
	if (parse_u32(t[4], 100000, &su->idle_max_sleep_us) || !su->idle_max_sleep_us)
		return fail(c, "max-sleep-us", "'%s' is not 1-100000", t[4]);
	return 0;
}

static int parse_impair(struct pctx *c, struct sl_startup *su, char **t, int n)
{
	struct sl_port_conf *p;
	struct sl_impair_conf *im;
	bool have_seed = false;
	uint32_t v;

	if (n < 3)
		return fail(c, "impair", "expected 'impair PORT rx|tx seed N ...'");
	p = find_port(su, t[1]);
	if (!p)
		return fail(c, "impair", "unknown port '%s' (declare it first)", t[1]);
	if (!strcmp(t[2], "rx"))
		im = &p->impair[SL_DIR_RX];
	else if (!strcmp(t[2], "tx"))
		im = &p->impair[SL_DIR_TX];
	else
		return fail(c, "impair", "'%s' is not rx or tx", t[2]);
	memset(im, 0, sizeof(*im));
	for (int i = 3; i < n; i += 2) {
		const char *k = t[i], *val = i + 1 < n ? t[i + 1] : NULL;
		double *pp = NULL;

		if (!val)
			return fail(c, k, "missing value");
		if (!strcmp(k, "seed")) {
			char *end;

			errno = 0;
			im->seed = strtoull(val, &end, 0);
			if (errno || *end || end == val)
				return fail(c, "seed", "'%s' is not a number", val);
			have_seed = true;
			continue;
		}
		if (!strcmp(k, "delay-us")) {
			if (parse_u32(val, 1000000, &v))
				return fail(c, "delay-us", "'%s' is not 0-1000000", val);
			im->delay_us = v;
			continue;
		}
		if (!strcmp(k, "drop"))
			pp = &im->drop;
		else if (!strcmp(k, "dup"))
			pp = &im->dup;
		else if (!strcmp(k, "reorder"))
			pp = &im->reorder;
		else if (!strcmp(k, "delay"))
			pp = &im->delay;
		else
			return fail(c, k, "unknown impairment '%s'", k);
		if (parse_prob(val, pp))
			return fail(c, k, "'%s' is not a probability 0..1", val);
	}
	if (!have_seed)
		return fail(c, "seed", "required, so a run can be replayed");
	if (im->delay > 0 && !im->delay_us)
		return fail(c, "delay-us", "required when delay > 0");
	im->on = im->drop > 0 || im->dup > 0 || im->reorder > 0 || im->delay > 0;
	return 0;
}

static int parse_test(struct pctx *c, struct sl_startup *su, char **t, int n)
{
	uint32_t v;

	if (n == 3 && !strcmp(t[1], "udp-echo")) {
		if (parse_u32(t[2], 65535, &v))
			return fail(c, "udp-echo", "'%s' is not 0-65535", t[2]);
		su->udp_echo_port = (uint16_t)v;
		return 0;
	}
	if (n == 4 && !strcmp(t[1], "udp-probe")) {
		if (parse_ip(t[2], &su->udp_probe_ip))
			return fail(c, "udp-probe", "'%s' is not an IPv4 address", t[2]);
		if (parse_u32(t[3], 65535, &v) || !v)
			return fail(c, "udp-probe", "'%s' is not 1-65535", t[3]);
		su->udp_probe_port = (uint16_t)v;
		return 0;
	}
	if (n == 3 && (!strcmp(t[1], "tcp-echo") || !strcmp(t[1], "tcp-sink") ||
		       !strcmp(t[1], "tcp-source"))) {
		if (parse_u32(t[2], 65535, &v) || !v)
			return fail(c, t[1], "'%s' is not 1-65535", t[2]);
		if (!strcmp(t[1], "tcp-echo"))
			su->tcp_echo_port = (uint16_t)v;
		else if (!strcmp(t[1], "tcp-sink"))
			su->tcp_sink_port = (uint16_t)v;
		else
			su->tcp_source_port = (uint16_t)v;
		return 0;
	}
	if (n == 3 && !strcmp(t[1], "clock-offset-cycles")) {
		char *end;

		/* at most 2^62: three quarters of the cycle range (200 years at
		 * 2.1 GHz) stay ahead of the clock */
		errno = 0;
		su->clock_offset_cycles = strtoull(t[2], &end, 0);
		if (errno || *end || t[2][0] == '-' || !t[2][0] || su->clock_offset_cycles >> 62)
			return fail(c, "clock-offset-cycles", "'%s' is not 0-2^62", t[2]);
		return 0;
	}
	return fail(c, "test", "expected 'test udp-echo PORT', 'test udp-probe IP PORT', "
		    "'test tcp-echo|tcp-sink|tcp-source PORT' or 'test clock-offset-cycles N'");
}

static int parse_arp(struct pctx *c, struct sl_startup *su, char **t, int n)
{
	uint32_t v;

	if (n != 3 || strcmp(t[1], "ttl-s"))
		return fail(c, "arp", "expected 'arp ttl-s SECONDS'");
	if (parse_u32(t[2], 86400, &v) || !v)
		return fail(c, "ttl-s", "'%s' is not 1-86400", t[2]);
	su->arp_ttl_s = v;
	return 0;
}

static int parse_tcp(struct pctx *c, struct sl_startup *su, char **t, int n)
{
	uint32_t v;

	if (n < 3 || n % 2 == 0)
		return fail(c, "tcp", "expected 'tcp SETTING VALUE ...' (max-conns, syncookie-threshold, "
			    "data-retries, rto-max-ms)");
	for (int i = 1; i < n; i += 2) {
		if (!strcmp(t[i], "max-conns")) {
			if (parse_u32(t[i + 1], 1000000, &v) || v < 16)
				return fail(c, "max-conns", "'%s' is not 16-1000000", t[i + 1]);
			su->tcp_max_conns = v;
		} else if (!strcmp(t[i], "data-retries")) {
			if (parse_u32(t[i + 1], 255, &v) || !v)
				return fail(c, "data-retries", "'%s' is not 1-255", t[i + 1]);
			su->tcp_data_retries = v;
		} else if (!strcmp(t[i], "rto-max-ms")) {
			if (parse_u32(t[i + 1], 600000, &v) || v < 200)
				return fail(c, "rto-max-ms", "'%s' is not 200-600000", t[i + 1]);
			su->tcp_rto_max_ms = v;
		} else if (!strcmp(t[i], "syncookie-threshold")) {
			if (parse_u32(t[i + 1], 1000000, &v) || !v)
				return fail(c, "syncookie-threshold", "'%s' is not 1-1000000", t[i + 1]);
			su->tcp_syncookie_threshold = v;
		} else {
			return fail(c, t[i], "unknown tcp setting '%s'", t[i]);
		}
	}
	return 0;
}

int sl_startup_parse(const char *name, const char *text, struct sl_startup *su,
		     char *err, size_t errlen)
{
	struct pctx c = { .name = name, .err = err, .errlen = errlen };
	const char *s = text;
	int rc = 0;

	memset(su, 0, sizeof(*su));
	su->idle_backoff = true;
	su->idle_max_sleep_us = 200;
	su->tcp_max_conns = 8192;
	su->tcp_syncookie_threshold = 1024;
	su->arp_ttl_s = 300;
	while (*s && !rc) {
		char line[512], *t[MAX_TOK], *save = NULL, *tok;
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		int n = 0;

		c.line++;
		if (len >= sizeof(line))
			return fail(&c, "line", "longer than 511 characters");
		memcpy(line, s, len);
		line[len] = 0;
		s += len + (nl ? 1 : 0);
		if ((tok = strchr(line, '#')))
			*tok = 0;
		for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
			if (n == MAX_TOK)
				return fail(&c, "line", "too many words");
			t[n++] = tok;
		}
		if (!n)
			continue;
		if (!strcmp(t[0], "port"))
			rc = parse_port(&c, su, t, n);
		else if (!strcmp(t[0], "idle"))
			rc = parse_idle(&c, su, t, n);
		else if (!strcmp(t[0], "impair"))
			rc = parse_impair(&c, su, t, n);
		else if (!strcmp(t[0], "test"))
			rc = parse_test(&c, su, t, n);
		else if (!strcmp(t[0], "tcp"))
			rc = parse_tcp(&c, su, t, n);
		else if (!strcmp(t[0], "arp"))
			rc = parse_arp(&c, su, t, n);
		else
			rc = fail(&c, t[0], "unknown directive '%s'", t[0]);
	}
	if (!rc && !su->n_ports) {
		snprintf(err, errlen, "%s: no 'port' line: the engine needs at least one port", name);
		rc = -EINVAL;
	}
	return rc;
}

int sl_startup_load(const char *path, struct sl_startup *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long sz;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || sz > 1 << 20 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		snprintf(err, errlen, "%s: unreadable or larger than 1 MiB", path);
		return -EFBIG;
	}
	buf = malloc((size_t)sz + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		fclose(f);
		snprintf(err, errlen, "%s: read error", path);
		return -EIO;
	}
	buf[sz] = 0;
	fclose(f);
	if (memchr(buf, 0, (size_t)sz)) {
		free(buf);
		snprintf(err, errlen, "%s: contains a NUL byte: not a text file", path);
		return -EINVAL;
	}
	rc = sl_startup_parse(path, buf, out, err, errlen);
	free(buf);
	return rc;
}
