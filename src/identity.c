/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdio.h>
#include <string.h>

#include "identity.h"

void xhp_identity_of(struct xhp_identity *ident, const char *name,
		     const struct xhp_payload *pl)
{
	memset(ident, 0, sizeof(*ident));
	snprintf(ident->name, sizeof(ident->name), "%s", name);
	ident->id = pl->id;
	ident->depends = pl->depends;
	ident->vetoing = (pl->hooks_enabled & XHP_HOOKS_VETOING) != 0;
	ident->safe_to_reapply = pl->safe_to_reapply;
}

bool xhp_identity_same(const struct xhp_identity *a, const struct xhp_identity *b)
{
	return !strcmp(a->name, b->name) && xhp_build_id_eq(&a->id, &b->id);
}
