/* nghttp2's memory (nghttp2_mem): size classes carved from one arena per
 * worker, set up at start, so a session's allocations cost a free-list pop
 * and never reach malloc on the per-packet path. Every allocation is
 * charged to its session: one that reaches H2_SESS_MEM_MAX is refused
 * (nghttp2 answers NGHTTP2_ERR_NOMEM and the session ends), so a client
 * cannot make the engine hold more than that (HPACK bombs, stream floods).
 * The arena is never given back to the system: a freed block goes to its
 * class's free list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "h2_priv.h"

struct blk {
	uint32_t cls;
	uint32_t magic;
	uint64_t pad;          /* 16 bytes: keeps what follows aligned for any type */
};
#define BLK_MAGIC 0x48324d31u

static inline size_t cls_size(unsigned cls)
{
	return (size_t)32 << cls;
}

static int size_cls(size_t n)
{
	n += sizeof(struct blk);
	for (unsigned c = 0; c < H2_CLASSES; c++)
		if (n <= cls_size(c))
			return (int)c;
	return -1;
}

static void *h2_malloc(size_t size, void *ud)
{
	struct h2_sess *s = ud;
	struct sl_app_h2_worker *w = s->w;
	int cls = size_cls(size);
	struct blk *b;

	if (cls < 0 || s->mem + cls_size((unsigned)cls) > H2_SESS_MEM_MAX)
		return NULL;
	b = w->free_cls[cls];
	if (b) {
		w->free_cls[cls] = *(void **)(b + 1);
	} else {
		if (w->arena_used + cls_size((unsigned)cls) > w->arena_size)
			return NULL;
		b = (struct blk *)(void *)(w->arena + w->arena_used);
		w->arena_used += cls_size((unsigned)cls);
	}
	b->cls = (uint32_t)cls;
	b->magic = BLK_MAGIC;
	s->mem += cls_size((unsigned)cls);
	w->st.mem_bytes += cls_size((unsigned)cls);
	return b + 1;
}

static void h2_free(void *p, void *ud)
{
	struct h2_sess *s = ud;
	struct sl_app_h2_worker *w = s->w;
	struct blk *b;

	if (!p)
		return;
	b = (struct blk *)p - 1;
	if (b->magic != BLK_MAGIC)
		abort();   /* not ours: memory is corrupt, stop before it spreads */
	b->magic = 0;
	s->mem -= cls_size(b->cls);
	w->st.mem_bytes -= cls_size(b->cls);
	*(void **)p = w->free_cls[b->cls];
	w->free_cls[b->cls] = b;
}

static void *h2_calloc(size_t n, size_t size, void *ud)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = h2_malloc(n * size, ud);
	if (p)
		memset(p, 0, n * size);
	return p;
}

static void *h2_realloc(void *p, size_t size, void *ud)
{
	struct blk *b;
	void *q;
	size_t have;

	if (!p)
		return h2_malloc(size, ud);
	if (!size) {
		h2_free(p, ud);
		return NULL;
	}
	b = (struct blk *)p - 1;
	have = cls_size(b->cls) - sizeof(*b);
	if (size <= have)
		return p;
	q = h2_malloc(size, ud);
	if (!q)
		return NULL;
	memcpy(q, p, have);
	h2_free(p, ud);
	return q;
}

const nghttp2_mem sl_h2_mem_proto = {
	.mem_user_data = NULL, .malloc = h2_malloc, .free = h2_free, .calloc = h2_calloc, .realloc = h2_realloc,
};

int sl_h2_mem_init(struct sl_app_h2_worker *w, size_t arena)
{
	w->arena = rte_malloc("sl_h2_arena", arena, 64);
	if (!w->arena)
		return -ENOMEM;
	w->arena_size = arena;
	w->arena_used = 0;
	memset(w->free_cls, 0, sizeof(w->free_cls));
	return 0;
}
