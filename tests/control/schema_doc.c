/* Prints the field tables of every object type as Markdown (the generated part of
 * docs/config-reference.md), so the reference cannot drift from what validation enforces. */
#include <stdio.h>
#include <string.h>

#include "model.h"

static const char *kind(const struct sl_fdef *f)
{
	switch (f->kind) {
	case K_STR: return "string";
	case K_INT: return "integer";
	case K_BOOL: return "boolean";
	case K_ENUM: return "enum";
	case K_OBJ: return "object";
	case K_REF: return "ref";
	case K_IP: return "IpAddr";
	case K_OPAQUE_STR: return "accepted, ignored";
	default: return "number";
	}
}

static void walk(const struct sl_fdef *fds, const char *prefix)
{
	for (const struct sl_fdef *f = fds; f->name; f++) {
		char path[256], rule[2048] = "";
		snprintf(path, sizeof(path), "%s%s%s%s", prefix, prefix[0] ? "." : "", f->name, f->array ? "[]" : "");
		size_t n = 0;
		if (f->kind == K_INT)
			n += (size_t)snprintf(rule + n, sizeof(rule) - n, "%lld..%lld", (long long)f->min, (long long)f->max);
		else if (f->kind == K_STR && f->max)
			n += (size_t)snprintf(rule + n, sizeof(rule) - n, "max %lld chars", (long long)f->max);
		else if (f->kind == K_ENUM)
			for (int i = 0; f->enums[i] && n < sizeof(rule) - 80; i++)
				n += (size_t)snprintf(rule + n, sizeof(rule) - n, "%s`%s`", i ? ", " : "", f->enums[i]);
		else if (f->kind == K_REF)
			n += (size_t)snprintf(rule + n, sizeof(rule) - n, "-> %s", sl_types[f->ref_type].name);
		if (f->array && f->kind != K_OPAQUE_STR)
			n += (size_t)snprintf(rule + n, sizeof(rule) - n, "%s<= %u items", n ? "; " : "", f->amax ? f->amax : 65536);
		printf("| `%s` | %s | %s | %s |\n", path, kind(f), f->required ? (f->array ? "yes (>= 1)" : "yes") : "", rule);
		if (f->kind == K_OBJ)
			walk(f->sub, path);
	}
}

int main(void)
{
	for (int t = 0; t < SL_T__N; t++) {
		printf("\n### %s (`/api/%s`, model_name `%s`)\n\n", sl_types[t].model, sl_types[t].name, sl_types[t].model);
		printf("| field | type | required | values |\n|---|---|---|---|\n");
		walk(sl_types[t].fields, "");
	}
	return 0;
}
