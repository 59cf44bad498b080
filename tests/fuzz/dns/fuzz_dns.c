/* libFuzzer: any byte string through sl_dns_answer over UDP and TCP.  Checks
 * that every response fits the buffer, echoes the ID, and parses with the
 * independent decoder of the unit tests; a drop always carries a reason. */
#include <stdint.h>

#include "dns_test.h"

static struct sl_dns_db *db;

static void check(const uint8_t *data, size_t size, size_t cap, bool tcp, uint32_t client)
{
	static uint8_t resp[65535];
	struct sl_dns_qlog ql;
	size_t n = sl_dns_answer(db, (unsigned)(client & 1), data, size, resp, cap, client, tcp, &ql);
	if (!n) {
		if (ql.drop == SL_DNS_DROP_NONE || ql.drop >= SL_DNS_DROP_MAX)
			__builtin_trap();
		return;
	}
	struct tresp t;
	if (n < 12 || n > cap || resp[0] != data[0] || resp[1] != data[1] || !(resp[2] & 0x80) ||
	    t_parse(resp, n, &t) != 0 || ql.n_ans > 8 || memchr(ql.qname, 0, sizeof(ql.qname)) == NULL)
		__builtin_trap();
	if (!tcp && n > 1232)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db) {
		int rc;
		db = t_compile_str(T_VS, T_PROFILE, T_GSLB, 2, NULL, &rc);
		if (rc)
			__builtin_trap();
	}
	uint32_t client = size ? (uint32_t)data[size - 1] * 2654435761u : 0;
	check(data, size, 65535, false, client);
	check(data, size, 65535, true, client);
	check(data, size, 64, false, client);
	return 0;
}
