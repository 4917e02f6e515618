/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The planner: a pure function from (installed payloads, hypervisor state,
 * policy) to the steps that converge the hypervisor (DESIGN.md section 3).
 * No I/O here: the executor (exec.c) runs the steps, the CLI prints them.
 */
#ifndef XHP_PLAN_H
#define XHP_PLAN_H

#include "util.h"

/* An installed payload the planner may put in the desired stack. */
struct xhp_pnode {
	const char *name;		/* hypervisor name (file stem) */
	struct xhp_build_id id;		/* own build-id */
	struct xhp_build_id depends;
	bool vetoing;			/* pre/post hooks: REPLACE impossible */
	bool safe_to_reapply;
	const char *version;		/* .modinfo version=, or NULL */
	const char *excluded;		/* reason it must not be applied, or NULL */
	void *user;			/* caller's pointer (e.g. the file) */
};

/* A payload loaded in the hypervisor, in LIST (upload) order. */
struct xhp_hvent {
	const char *name;
	int state;			/* XHP_STATE_* */
	int rc;
	bool ours;			/* we know its build-ids (record or adopted) */
	struct xhp_build_id id, depends; /* valid when ours */
	bool vetoing, safe_to_reapply;	/* valid when ours */
	bool reverted;			/* reverted at least once (or unknown: true) */
	unsigned seq;			/* order it was applied in (0: unknown) */
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
	char *name;		/* owned by the plan */
	int node;		/* index into input nodes for UPLOAD/APPLY/REPLACE, else -1 */
};

enum xhp_problem_kind {
	XHP_PROB_ORPHAN,	/* parent build-id is nothing installed */
	XHP_PROB_BRANCH,	/* two payloads on one parent, unresolved */
	XHP_PROB_SUPERSEDED,	/* lost a branch to a higher version= (info) */
	XHP_PROB_CYCLE,
	XHP_PROB_DUPLICATE,	/* two files with one build-id */
	XHP_PROB_EXCLUDED,	/* blocked / quarantined / unproven (info) */
	XHP_PROB_INDEPENDENT,	/* an independent payload not on the hypervisor */
	XHP_PROB_FOREIGN,	/* loaded payload the tool did not load */
	XHP_PROB_REFUSED,	/* the plan cannot be carried out under policy */
	XHP_PROB_CONTENT,	/* same name, different content than loaded */
};
const char *xhp_problem_kind_name(enum xhp_problem_kind k);

struct xhp_problem {
	enum xhp_problem_kind kind;
	bool error;		/* counts as an error (exit 1 / out of sync) */
	char *names;		/* names involved, space-separated */
	char *msg;		/* one line */
};

struct xhp_plan_input {
	struct xhp_build_id hv;
	const struct xhp_pnode *nodes;
	size_t nnodes;
	const struct xhp_hvent *loaded;
	size_t nloaded;
	const struct xhp_strv *independent;	/* names */
	bool replace_allow;			/* replace_without_replace = allow */
};

struct xhp_plan {
	struct xhp_step *steps;
	size_t nsteps;
	int *desired;		/* node indexes, bottom first (chain, then independents) */
	size_t ndesired;
	int *applied;		/* loaded[] indexes of the current applied stack, bottom first */
	size_t napplied;
	struct xhp_problem *problems;
	size_t nproblems;
	bool refused;		/* a REFUSED problem: steps is empty */
};

/* 0, or -ENOMEM never (aborts). Problems are reported in plan->problems. */
int xhp_plan_make(const struct xhp_plan_input *in, struct xhp_plan *plan);
void xhp_plan_free(struct xhp_plan *plan);

/* The applied stack (loaded[] indexes bottom first), ordered by seq and then
 * by the build-id chain; used by the planner and by `status`/`revert`. */
size_t xhp_applied_order(const struct xhp_build_id *hv, const struct xhp_hvent *loaded,
			 size_t nloaded, int *out);

#endif
