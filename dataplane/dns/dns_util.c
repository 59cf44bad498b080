/* Counter names and stats accounting (no allocation; callable per query). */
#include "dns_priv.h"

static const char *const drop_names[SL_DNS_DROP_MAX] = {
	[SL_DNS_DROP_NONE] = "none",
	[SL_DNS_DROP_SHORT] = "dns_short",
	[SL_DNS_DROP_QR] = "dns_qr",
	[SL_DNS_DROP_NOT_AUTH] = "dns_not_auth",
	[SL_DNS_DROP_GSLB_DOWN] = "dns_gslb_down",
	[SL_DNS_DROP_TCP_DISABLED] = "dns_tcp_disabled",
	[SL_DNS_DROP_NO_SPACE] = "dns_no_space",
};

static const char *const err_names[SL_DNS_ERR_MAX] = {
	[SL_DNS_ERR_NONE] = "none",
	[SL_DNS_ERR_OPCODE] = "opcode",
	[SL_DNS_ERR_QDCOUNT] = "qdcount",
	[SL_DNS_ERR_COUNTS] = "counts",
	[SL_DNS_ERR_TRUNCATED] = "truncated",
	[SL_DNS_ERR_LABEL_TYPE] = "label_type",
	[SL_DNS_ERR_NAME_LONG] = "name_long",
	[SL_DNS_ERR_PTR_BAD] = "ptr_bad",
	[SL_DNS_ERR_PTR_LOOP] = "ptr_loop",
	[SL_DNS_ERR_TRAILING] = "trailing",
	[SL_DNS_ERR_OPT_DUP] = "opt_dup",
	[SL_DNS_ERR_OPT_NAME] = "opt_name",
	[SL_DNS_ERR_OPT_OPTION] = "opt_option",
	[SL_DNS_ERR_BADVERS] = "badvers",
	[SL_DNS_ERR_QTYPE] = "qtype",
	[SL_DNS_ERR_CLASS] = "class",
	[SL_DNS_ERR_XFR] = "xfr",
};

const char *sl_dns_drop_name(unsigned d)
{
	return d < SL_DNS_DROP_MAX ? drop_names[d] : "unknown";
}

const char *sl_dns_err_name(unsigned e)
{
	return e < SL_DNS_ERR_MAX ? err_names[e] : "unknown";
}

void sl_dns_stats_add(struct sl_dns_stats *s, const struct sl_dns_qlog *ql, size_t resp_len)
{
	s->queries++;
	if (!resp_len) {
		s->drops++;
		s->drop[ql->drop < SL_DNS_DROP_MAX ? ql->drop : 0]++;
		return;
	}
	s->responses++;
	if (ql->rcode < 6)
		s->rcode[ql->rcode]++;
	else if (ql->rcode == 16)
		s->badvers++;
	if (ql->err < SL_DNS_ERR_MAX)
		s->err[ql->err]++;
	s->nodata += (ql->flags & SL_DNS_QL_NODATA) != 0;
	s->truncated += (ql->flags & SL_DNS_QL_TC) != 0;
	s->edns += (ql->flags & SL_DNS_QL_EDNS) != 0;
	s->gslb += (ql->flags & SL_DNS_QL_GSLB) != 0;
	s->gslb_down += (ql->flags & SL_DNS_QL_DOWN) != 0;
}
