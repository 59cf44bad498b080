/* The malformed-message corpus: each entry is a complete UDP payload and the
 * outcome a correct server must produce.  Shared by the unit test
 * (test_dns_malformed.c) and the corpus generator (dns_gen_corpus.c), which
 * writes the same bytes into tests/fuzz/dns/corpus/. */
#ifndef SL_DNS_MALFORMED_H
#define SL_DNS_MALFORMED_H

#include <stddef.h>
#include <stdint.h>

#include "sl_dns.h"

enum mal_outcome { MAL_DROP, MAL_FORMERR, MAL_NOTIMP, MAL_BADVERS };

struct mal_case {
	const char *name;
	const char *bytes;
	size_t len;
	enum mal_outcome out;
	unsigned reason;       /* enum sl_dns_drop for MAL_DROP, else enum sl_dns_err */
};

/* header: id 0x1234, RD, QD=1 unless stated */
#define H_QD1 "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
#define H_AR1 "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01"
#define H_AR2 "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x02"
#define QNAME "\x03www\x07" "example\x03" "com\x00"
#define Q_A QNAME "\x00\x01\x00\x01"
#define OPT0 "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
#define L62 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij"
#define L63 L62 "k"
#define M(n, s, o, r) { n, s, sizeof(s) - 1, o, r }

static const struct mal_case mal_cases[] = {
	M("empty", "", MAL_DROP, SL_DNS_DROP_SHORT),
	M("one-byte", "\x12", MAL_DROP, SL_DNS_DROP_SHORT),
	M("header-11", "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00", MAL_DROP, SL_DNS_DROP_SHORT),
	M("qr-response", "\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" Q_A "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x12\x00\x0a", MAL_DROP, SL_DNS_DROP_QR),
	M("qr-header-only", "\x12\x34\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00", MAL_DROP, SL_DNS_DROP_QR),
	M("qr-garbage", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", MAL_DROP, SL_DNS_DROP_QR),
	M("qdcount-0", "\x12\x34\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00", MAL_FORMERR, SL_DNS_ERR_QDCOUNT),
	M("qdcount-2", "\x12\x34\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00" Q_A Q_A, MAL_FORMERR, SL_DNS_ERR_QDCOUNT),
	M("qdcount-1-no-question", H_QD1, MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("qname-cut-in-label", H_QD1 "\x03ww", MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("qname-no-terminator", H_QD1 "\x03www\x07" "example", MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("question-no-type", H_QD1 QNAME, MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("question-half-type", H_QD1 QNAME "\x00\x01", MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("label-64", H_QD1 "\x40" L63 "x\x00\x00\x01\x00\x01", MAL_FORMERR, SL_DNS_ERR_LABEL_TYPE),
	M("label-type-0x80", H_QD1 "\x80\x00\x00\x01\x00\x01", MAL_FORMERR, SL_DNS_ERR_LABEL_TYPE),
	M("label-type-0xbf", H_QD1 "\x03www\xbf\x00\x00\x01\x00\x01", MAL_FORMERR, SL_DNS_ERR_LABEL_TYPE),
	M("name-320", H_QD1 "\x3f" L63 "\x3f" L63 "\x3f" L63 "\x3f" L63 "\x3f" L63 "\x00\x00\x01\x00\x01", MAL_FORMERR, SL_DNS_ERR_NAME_LONG),
	M("name-256", H_QD1 "\x3f" L63 "\x3f" L63 "\x3f" L63 "\x3e" L62 "\x00\x00\x01\x00\x01", MAL_FORMERR, SL_DNS_ERR_NAME_LONG),
	M("ptr-self", H_QD1 "\xc0\x0c\x00\x01\x00\x01", MAL_FORMERR, SL_DNS_ERR_PTR_BAD),
	M("ptr-forward", H_QD1 "\xc0\x14\x00\x01\x00\x01\x03www\x00", MAL_FORMERR, SL_DNS_ERR_PTR_BAD),
	M("ptr-into-header", H_QD1 "\x03www\xc0\x02\x00\x01\x00\x01", MAL_FORMERR, SL_DNS_ERR_PTR_BAD),
	M("ptr-truncated", H_QD1 "\x03www\xc0", MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("ptr-loop-additional", H_AR1 Q_A "\x01" "a\xc0\x21\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00", MAL_FORMERR, SL_DNS_ERR_PTR_BAD),
	M("ptr-pingpong-additional", H_AR1 Q_A "\xc0\x23\xc0\x21\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00", MAL_FORMERR, SL_DNS_ERR_PTR_BAD),
	M("ancount-in-query", "\x12\x34\x01\x00\x00\x01\x00\x01\x00\x00\x00\x00" Q_A "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x12\x00\x0a", MAL_FORMERR, SL_DNS_ERR_COUNTS),
	M("nscount-in-query", "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x01\x00\x00" Q_A, MAL_FORMERR, SL_DNS_ERR_COUNTS),
	M("arcount-1-missing", H_AR1 Q_A, MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("arcount-2-one-opt", H_AR2 Q_A OPT0, MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("opt-not-counted", H_QD1 Q_A OPT0, MAL_FORMERR, SL_DNS_ERR_TRAILING),
	M("trailing-byte", H_QD1 Q_A "\x00", MAL_FORMERR, SL_DNS_ERR_TRAILING),
	M("additional-fixed-cut", H_AR1 Q_A "\x00\x00\x29\x04\xd0", MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("opt-twice", H_AR2 Q_A OPT0 OPT0, MAL_FORMERR, SL_DNS_ERR_OPT_DUP),
	M("opt-owner-not-root", H_AR1 Q_A "\x01x\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", MAL_FORMERR, SL_DNS_ERR_OPT_NAME),
	M("opt-owner-ptr", H_AR1 Q_A "\xc0\x0c\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", MAL_FORMERR, SL_DNS_ERR_OPT_NAME),
	M("opt-rdlen-past-end", H_AR1 Q_A "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x08\x00\x0a", MAL_FORMERR, SL_DNS_ERR_TRUNCATED),
	M("opt-option-overrun", H_AR1 Q_A "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x06\x00\x0a\x00\x08\x01\x02", MAL_FORMERR, SL_DNS_ERR_OPT_OPTION),
	M("opt-option-partial-header", H_AR1 Q_A "\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x03\x00\x0a\x00", MAL_FORMERR, SL_DNS_ERR_OPT_OPTION),
	M("opt-version-1", H_AR1 Q_A "\x00\x00\x29\x04\xd0\x00\x01\x00\x00\x00\x00", MAL_BADVERS, SL_DNS_ERR_BADVERS),
	M("opcode-status", "\x12\x34\x11\x00\x00\x01\x00\x00\x00\x00\x00\x00" Q_A, MAL_NOTIMP, SL_DNS_ERR_OPCODE),
	M("opcode-update", "\x12\x34\x28\x00\x00\x01\x00\x00\x00\x01\x00\x00" Q_A, MAL_NOTIMP, SL_DNS_ERR_OPCODE),
	M("qtype-0", H_QD1 QNAME "\x00\x00\x00\x01", MAL_FORMERR, SL_DNS_ERR_QTYPE),
	M("qtype-opt", H_QD1 QNAME "\x00\x29\x00\x01", MAL_FORMERR, SL_DNS_ERR_QTYPE),
};

#define MAL_COUNT (sizeof(mal_cases) / sizeof(mal_cases[0]))

/* Well-formed seeds for the fuzzer (not part of the malformed assertions). */
static const struct mal_case good_seeds[] = {
	M("good-a", H_QD1 Q_A, MAL_DROP, 0),
	M("good-a-edns", H_AR1 Q_A OPT0, MAL_DROP, 0),
	M("good-aaaa-mixed-case", H_QD1 "\x03WwW\x07" "ExAmple\x03" "cOm\x00\x00\x1c\x00\x01", MAL_DROP, 0),
	M("good-nxdomain-edns-cookie", H_AR1 "\x07nothere\x07" "example\x03" "com\x00\x00\x01\x00\x01"
	  "\x00\x00\x29\x10\x00\x00\x00\x80\x00\x00\x0c\x00\x0a\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08", MAL_DROP, 0),
	M("good-any-apex", H_QD1 "\x07" "example\x03" "com\x00\x00\xff\x00\x01", MAL_DROP, 0),
	M("good-gslb", H_QD1 "\x02gs\x07" "example\x03" "com\x00\x00\x01\x00\x01", MAL_DROP, 0),
	M("good-cname-chain", H_QD1 "\x05" "chain\x07" "example\x03" "com\x00\x00\x01\x00\x01", MAL_DROP, 0),
	M("good-ptr-additional-compressed", H_AR1 Q_A "\xc0\x0c\x00\x10\x00\xff\x00\x00\x00\x00\x00\x00", MAL_DROP, 0),
};

#define GOOD_COUNT (sizeof(good_seeds) / sizeof(good_seeds[0]))

#endif
