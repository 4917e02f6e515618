/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"

const char *xhp_state_name(int state)
{
	switch (state) {
	case XHP_STATE_CHECKED: return "CHECKED";
	case XHP_STATE_APPLIED: return "APPLIED";
	}
	return "unknown";
}

/* Xen's static expectation rules (livepatch_verify_expectation_fn): what
 * it refuses whatever the running code holds. */
static int bad_expectation(const struct xhp_payload *pl)
{
	size_t i;

	for (i = 0; i < pl->nfuncs; i++) {
		const struct xhp_func *f = &pl->funcs[i];

		if (!f->expect_enabled)
			continue;
		if (f->expect_rsv)
			return -EINVAL;
		if (f->old_size < f->expect_len)
			return -ERANGE;
	}
	return 0;
}

void xhp_identity_of(struct xhp_identity *ident, const char *name,
		     const struct xhp_payload *pl)
{
	size_t i;

	memset(ident, 0, sizeof(*ident));
	snprintf(ident->name, sizeof(ident->name), "%s", name);
	ident->id = pl->id;
	ident->depends = pl->depends;
	ident->hooks = pl->hooks_enabled;
	ident->vetoing = (pl->hooks_enabled & XHP_HOOKS_VETOING) != 0;
	ident->safe_to_reapply = pl->safe_to_reapply;
	for (i = 0; i < pl->nfuncs; i++)
		ident->expectations += pl->funcs[i].expect_enabled;
	ident->bad_expectation = bad_expectation(pl);
}

bool xhp_identity_same(const struct xhp_identity *a, const struct xhp_identity *b)
{
	return !strcmp(a->name, b->name) && xhp_build_id_eq(&a->id, &b->id);
}

bool xhp_identity_has_hook(const struct xhp_identity *ident, enum xhp_hook hook)
{
	return (ident->hooks & (1u << hook)) != 0;
}
