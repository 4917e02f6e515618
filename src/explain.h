/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What went wrong, in words: the one line that says why the hypervisor
 * refused or failed a step, and where that left the stack. The CLI prints
 * it, `apply`'s result document and the Python bindings' exceptions carry
 * it. Text only: nothing here prints or decides an exit code.
 */
#ifndef XHP_EXPLAIN_H
#define XHP_EXPLAIN_H

#include "engine.h"

/* What follows "OP NAME failed: " for an action that ended as a says
 * ("EBUSY (the hypervisor stayed busy ...)"); file_err: the upload's file
 * could not be read (a->why says why); id: the payload when known, else
 * NULL; deadline_ms: the one the action had. *busy: trying again may help.
 * Malloc'd. */
char *xhp_explain_act(enum xhp_step_op op, const char *name, const struct xhp_act_result *a, bool file_err,
		      const struct xhp_identity *id, unsigned deadline_ms, bool *busy);

/* Where a failed run left the hypervisor: "applied now, bottom first: ...",
 * "on_failure = rollback put ...". Malloc'd. */
char *xhp_explain_state_after(const struct xhp_result *res);

/* "OP NAME failed: WHAT; WHERE IT LEFT THE STACK" for a run whose outcome
 * is XHP_OUTCOME_STEP_FAILED. Malloc'd. */
char *xhp_explain_result(const struct xhp_session *s, const struct xhp_view *v, const struct xhp_result *res,
			 bool *busy);

#endif
