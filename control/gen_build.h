/* Private: compile a generation from the model's transaction view. */
#ifndef SL_GEN_BUILD_H
#define SL_GEN_BUILD_H
#include "model.h"

struct sl_gen_build_ctx {
	unsigned n_workers;
	const volatile uint8_t *health;
	int (*slot_fn)(void *arg, const char *gslb_name, uint32_t member_ip_be);
	void *slot_arg;
};

/* prev/t (both optional): the generation being replaced and the transaction that leads from it to the
   model's current view. When t only modifies objects in place, prev's tables are copied and patched
   instead of rebuilt. */
struct sl_gen *sl_gen_build(struct sl_model *m, uint64_t id, const struct sl_gen_build_ctx *bc, const struct sl_gen *prev,
			    const struct sl_txn *t, struct sl_err *e);
#endif
