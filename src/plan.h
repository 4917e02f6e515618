/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The planner: a pure function from (installed payloads, hypervisor state,
 * policy) to the steps that converge the hypervisor (DESIGN.md section 3),
 * and from (hypervisor state, a name) to the steps of `revert NAME`.
 * No I/O here: the engine runs the steps, the CLI prints them.
 *
 * Converging is a sequence of named passes over one planner context
 * (plan.c): the desired stack (exclusions and duplicates, independents,
 * chain walk with branch resolution, cycles, orphans), the applied stack,
 * the strategy (keep a common part, REPLACE, or revert-then-apply, refused
 * by policy), then the steps (upload, take off, apply, unload).
 */
#ifndef XHP_PLAN_H
#define XHP_PLAN_H

#include "identity.h"
#include "util.h"

/* Why an installed payload is left out on purpose. */
enum xhp_exclusion {
	XHP_INCLUDED = 0,
	XHP_EXCLUDED_BLOCKED,		/* policy blocked = */
	XHP_EXCLUDED_QUARANTINED,	/* crash-loop guard */
	XHP_EXCLUDED_UNPROVEN,		/* boot: not proven yet */
	XHP_EXCLUDED_UNAPPLIABLE,	/* Xen refuses it whatever happens (an error;
					 * the planner finds these itself) */
};

/* An installed payload the planner may put in the desired stack. */
struct xhp_installed {
	struct xhp_identity ident;
	const char *version;			/* .modinfo version=, or NULL */
	enum xhp_exclusion excluded;
	const char *excluded_why;		/* the words for excluded, or NULL */
	const struct xhp_strv *new_syms;	/* Xen's "new symbols" (may be NULL) */
	const void *file;			/* the caller's pointer */
};

/* A payload loaded in the hypervisor, in LIST (upload) order. */
struct xhp_hv_entry {
	struct xhp_identity ident;		/* name always; the rest when known */
	bool known;				/* loaded by xen-hotpatch: build-ids known */
	int state;				/* XHP_STATE_* */
	int rc;
	bool reverted;				/* reverted at least once (or unknown) */
	bool nodeps;				/* applied with NODEPS (record) */
	unsigned seq;				/* order it was last applied in (0: unknown) */
	const struct xhp_strv *new_syms;	/* when known (may be NULL) */
};

enum xhp_step_op {
	XHP_STEP_UPLOAD,
	XHP_STEP_APPLY,
	XHP_STEP_APPLY_NODEPS,
	XHP_STEP_REVERT,
	XHP_STEP_REPLACE,
	XHP_STEP_UNLOAD,
};
const char *xhp_step_op_name(enum xhp_step_op op);

struct xhp_step {
	enum xhp_step_op op;
	char name[XHP_NAME_MAX + 1];
	int installed;		/* index into installed[] (UPLOAD, APPLY*, REPLACE), else -1 */
	int hv;			/* index into hv[] of what is loaded under name now, or -1 */
};

enum xhp_problem_kind {
	XHP_PROB_ORPHAN,	/* parent build-id is nothing installed */
	XHP_PROB_BRANCH,	/* two payloads on one parent, unresolved */
	XHP_PROB_SUPERSEDED,	/* lost a branch to a higher version= (info) */
	XHP_PROB_CYCLE,
	XHP_PROB_DUPLICATE,	/* two files with one build-id */
	XHP_PROB_EXCLUDED,	/* left out: blocked / quarantined / unproven / unappliable */
	XHP_PROB_INDEPENDENT,	/* listed as independent, does not stack on the hypervisor */
	XHP_PROB_FOREIGN,	/* loaded payload the tool did not load */
	XHP_PROB_REFUSED,	/* the plan cannot be carried out under policy */
	XHP_PROB_CONTENT,	/* same name, different content than applied */
	XHP_PROB_CLASH,		/* Xen would refuse an upload: a new symbol or build-id is taken */
};
const char *xhp_problem_kind_name(enum xhp_problem_kind k);

struct xhp_problem {
	enum xhp_problem_kind kind;
	bool error;		/* counts as an error (exit 1 / out of sync) */
	enum xhp_exclusion exclusion;	/* EXCLUDED, and ORPHAN waiting on one */
	struct xhp_strv names;	/* the payloads involved */
	char *msg;		/* one line */
};

struct xhp_plan_input {
	struct xhp_build_id hv_id;
	const struct xhp_installed *installed;
	size_t ninstalled;
	const struct xhp_hv_entry *hv;
	size_t nhv;
	const struct xhp_strv *independent;	/* names, in policy order */
	bool replace_allow;			/* replace_without_replace = allow */
	const struct xhp_strv *unreadable;	/* installed files that cannot be read (names; may be NULL) */
};

struct xhp_plan {
	struct xhp_step *steps;
	size_t nsteps;
	int *desired;		/* installed[] indexes, bottom first (chain, then independents) */
	size_t ndesired;
	int *applied;		/* hv[] indexes of the applied stack, bottom first */
	size_t napplied;
	struct xhp_problem *problems;
	size_t nproblems;
	bool refused;		/* a REFUSED, CONTENT or CLASH error: steps is empty */
};

/* Plan the steps from the hypervisor's state to the installed stack.
 * Problems are reported in plan->problems; a refused plan has no steps. */
void xhp_plan_make(const struct xhp_plan_input *in, struct xhp_plan *plan);

/* Plan `revert NAME`: revert NAME and every payload applied above it, top
 * first, then unload them and the payloads that were above NAME when it was
 * last applied (left CHECKED by an earlier, interrupted revert). -ENOENT
 * when NAME is not loaded. */
int xhp_plan_revert(const struct xhp_plan_input *in, const char *name, struct xhp_plan *plan);

void xhp_plan_free(struct xhp_plan *plan);

/* Is it why the plan was refused (REFUSED, CONTENT, CLASH)? */
bool xhp_problem_is_refusal(const struct xhp_problem *pr);

/* Has the plan an error problem (an installed payload that cannot be used,
 * a refusal) other than a foreign payload? */
bool xhp_plan_has_errors(const struct xhp_plan *plan);

/* The applied stack (hv[] indexes bottom first), from the build-id chain,
 * with the recorded apply order (seq) breaking ties; used by the planner
 * and by `status`. out has room for nhv entries. */
size_t xhp_applied_order(const struct xhp_plan_input *in, int *out);

#endif
