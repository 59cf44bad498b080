/* Private: string-keyed open-addressing hash map (keys copied), used for the object store. */
#ifndef SL_HMAP_H
#define SL_HMAP_H
#include <stddef.h>
#include <stdint.h>

struct sl_hmap_ent { char *key; void *val; uint32_t hash; };
struct sl_hmap { struct sl_hmap_ent *e; size_t cap, n, used; };

uint32_t sl_hash_str(const char *s);
void sl_hmap_init(struct sl_hmap *);
void sl_hmap_free(struct sl_hmap *);
void *sl_hmap_get(const struct sl_hmap *, const char *key);
int sl_hmap_put(struct sl_hmap *, const char *key, void *val);   /* insert or replace; 0 / -ENOMEM */
void *sl_hmap_del(struct sl_hmap *, const char *key);           /* returns old value */
/* iteration: for (size_t i = 0; i < m->cap; i++) if (sl_hmap_live(m, i)) ... */
#define SL_HMAP_TOMB ((char *)1)
static inline int sl_hmap_live(const struct sl_hmap *m, size_t i)
{
	return m->e && m->e[i].key && m->e[i].key != SL_HMAP_TOMB;
}
#endif
