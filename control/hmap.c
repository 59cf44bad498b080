#include "hmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t sl_hash_str(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a, then a final mix so low bits are usable as an index */
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	return h;
}

void sl_hmap_init(struct sl_hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void sl_hmap_free(struct sl_hmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (sl_hmap_live(m, i))
			free(m->e[i].key);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

static size_t find(const struct sl_hmap *m, const char *key, uint32_t h, int *found)
{
	size_t mask = m->cap - 1, i = h & mask, tomb = SIZE_MAX;
	for (;;) {
		struct sl_hmap_ent *e = &m->e[i];
		if (!e->key) {
			*found = 0;
			return tomb != SIZE_MAX ? tomb : i;
		}
		if (e->key == SL_HMAP_TOMB) {
			if (tomb == SIZE_MAX)
				tomb = i;
		} else if (e->hash == h && strcmp(e->key, key) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
}

void *sl_hmap_get(const struct sl_hmap *m, const char *key)
{
	if (!m->n)
		return NULL;
	int found;
	size_t i = find(m, key, sl_hash_str(key), &found);
	return found ? m->e[i].val : NULL;
}

static int grow(struct sl_hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	while (m->n * 2 >= ncap)
		ncap *= 2;
	struct sl_hmap_ent *ne = calloc(ncap, sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (!sl_hmap_live(m, i))
			continue;
		size_t j = m->e[i].hash & (ncap - 1);
		while (ne[j].key)
			j = (j + 1) & (ncap - 1);
		ne[j] = m->e[i];
	}
	free(m->e);
	m->e = ne;
	m->cap = ncap;
	m->used = m->n;
	return 0;
}

int sl_hmap_put(struct sl_hmap *m, const char *key, void *val)
{
	if ((m->used + 1) * 4 >= m->cap * 3 && grow(m))
		return -ENOMEM;
	uint32_t h = sl_hash_str(key);
	int found;
	size_t i = find(m, key, h, &found);
	if (found) {
		m->e[i].val = val;
		return 0;
	}
	char *k = strdup(key);
	if (!k)
		return -ENOMEM;
	if (!m->e[i].key)
		m->used++;
	m->e[i] = (struct sl_hmap_ent){ k, val, h };
	m->n++;
	return 0;
}

void *sl_hmap_del(struct sl_hmap *m, const char *key)
{
	if (!m->n)
		return NULL;
	int found;
	size_t i = find(m, key, sl_hash_str(key), &found);
	if (!found)
		return NULL;
	void *v = m->e[i].val;
	free(m->e[i].key);
	m->e[i].key = SL_HMAP_TOMB;
	m->e[i].val = NULL;
	m->n--;
	return v;
}
