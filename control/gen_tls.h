/* Private: struct sl_tls_vs (dataplane/app/tls/sl_tls.h) for virtual services with certificates,
 * built by gen_tls.c from ssl_key_and_certificate_refs and the certificates' ca_certs. */
#ifndef SL_GEN_TLS_H
#define SL_GEN_TLS_H
#include "model.h"

/* Full build: gives every VS of g with certificates its tls, prev's where the certificates (and
 * what they were built from) are unchanged. */
int sl_gen_tls_build_all(struct sl_model *m, const struct sl_txn *t, struct sl_gen *g, const struct sl_gen *prev,
			 unsigned n_workers, struct sl_err *e);
/* Patch: g's VSs hold prev's tls (a reference each); re-attaches those of the VSs t changes. */
int sl_gen_tls_patch(struct sl_model *m, const struct sl_txn *t, struct sl_gen *g, unsigned n_workers,
		     struct sl_err *e);
/* Reading: the "tls" object of a VS's runtime, and the sluice_tls_* metric families of the VSs
 * of g (TLS listeners and their SNI children), line by line. */
json_t *sl_tls_runtime_json(const struct sl_gen_vs *gv);
void sl_tls_metrics_text(const struct sl_gen *g, void (*put)(void *arg, const char *line), void *arg);
#endif
