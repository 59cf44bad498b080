/* Writes the malformed corpus and well-formed seeds as one file per message:
 *   dns_gen_corpus DIR    (tests/fuzz/dns/corpus is the committed copy) */
#include <stdio.h>

#include "dns_malformed.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < MAL_COUNT + GOOD_COUNT; i++) {
		const struct mal_case *m = i < MAL_COUNT ? &mal_cases[i] : &good_seeds[i - MAL_COUNT];
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s%s", argv[1], i < MAL_COUNT ? "mal-" : "", m->name);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(m->bytes, 1, m->len, f) != m->len || fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	printf("%zu malformed + %zu good messages written to %s\n", MAL_COUNT, GOOD_COUNT, argv[1]);
	return 0;
}
