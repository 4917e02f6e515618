/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A payload's identity: the facts about one payload that every layer needs
 * (the planner's installed payloads and hypervisor entries, the /run record,
 * the simulated hypervisor), taken once from the payload reader and copied
 * whole, never field by field.
 *
 *   name             the hypervisor name (file stem), [A-Za-z0-9._-]{1,127}
 *   id               its own build-id (.note.gnu.build-id)
 *   depends          the build-id it stacks on (.livepatch.depends)
 *   hooks            enabled hooks, bit per enum xhp_hook (a non-NULL slot)
 *   vetoing          it has pre/post apply/revert hooks: REPLACE is impossible
 *                    while it takes part (Xen returns -EOPNOTSUPP)
 *   safe_to_reapply  Xen re-applies it after a revert (no writable section
 *                    but .livepatch.funcs); otherwise it must be unloaded and
 *                    uploaded again
 *   expectations     functions with an enabled expectation (checked by Xen at
 *                    APPLY and inside REPLACE against the running code)
 *   bad_expectation  an enabled expectation Xen refuses whatever the running
 *                    code is (reserved bits set: -EINVAL; longer than the
 *                    function: -ERANGE): 0, or that errno, negative
 */
#ifndef XHP_IDENTITY_H
#define XHP_IDENTITY_H

#include "payload.h"

/* A loaded payload's state in Xen (LIVEPATCH_STATE_*): the one fact the
 * hypervisor keeps about it besides its name and rc. */
enum xhp_state { XHP_STATE_CHECKED = 1, XHP_STATE_APPLIED = 2 };
const char *xhp_state_name(int state);	/* "CHECKED", "APPLIED", "unknown" */

struct xhp_identity {
	char name[XHP_NAME_MAX + 1];
	struct xhp_build_id id;
	struct xhp_build_id depends;
	unsigned hooks;
	bool vetoing;
	bool safe_to_reapply;
	unsigned expectations;
	int bad_expectation;
};

/* The identity of payload pl installed or loaded under name (truncated to
 * XHP_NAME_MAX bytes; callers pass names that passed xhp_name_check()). */
void xhp_identity_of(struct xhp_identity *ident, const char *name,
		     const struct xhp_payload *pl);

/* Same payload: same name and same own build-id. */
bool xhp_identity_same(const struct xhp_identity *a, const struct xhp_identity *b);

/* Does it have this hook enabled? */
bool xhp_identity_has_hook(const struct xhp_identity *ident, enum xhp_hook hook);

#endif
