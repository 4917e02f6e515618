/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ordering model (DESIGN.md section 3), as a pure function.
 *
 * The desired stack D, in passes over the installed payloads:
 *   exclusions     left out on purpose (blocked, quarantined, unproven,
 *                  unappliable) and second files of one build-id
 *   independents   policy names stacked on the hypervisor: NODEPS, on top
 *   chain          walk the build-id chain up from the hypervisor; a branch
 *                  is resolved by .modinfo version= (the higher wins), keeps
 *                  its applied member, or stops the stack below it
 *   cycles         payloads whose parents lead back to themselves
 *   orphans        what is left: its parent is missing or not in the stack
 *   unappliable    the chain stops below a payload whose expectation Xen
 *                  never accepts (or the plan is refused, when it would
 *                  REPLACE the applied chain)
 * The applied stack A comes from the build-id chain (xhp_applied_order).
 * The strategy (how A becomes D) is chosen before any step is written:
 *   - the chain part of A and D share a bottom: revert A above the common
 *     part, top first, apply the rest of D bottom first;
 *   - the chain bottom changes while a chain is applied: REPLACE with D's
 *     bottom (no unpatched moment), after reverting the independents when
 *     REPLACE needs that (a vetoing one, or D's bottom is one of them);
 *     where Xen would refuse REPLACE, policy refuses the plan or allows
 *     revert-then-apply;
 *   - only independents are applied (or the chain goes away): revert them,
 *     apply the chain, put them back.
 * What Xen would refuse is found here, not halfway through: another
 * content under an applied name, a new symbol or build-id another loaded
 * payload already has (-EEXIST at upload), an expectation Xen never accepts.
 * Messages carry names as they are, except a foreign payload's (Xen's LIST
 * may hold any bytes): installed and recorded names passed xhp_name_check().
 * Then the steps: upload (Xen validates before anything changes), take off,
 * apply, unload.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "plan.h"

const char *xhp_step_op_name(enum xhp_step_op op)
{
	switch (op) {
	case XHP_STEP_UPLOAD: return "upload";
	case XHP_STEP_APPLY: return "apply";
	case XHP_STEP_APPLY_NODEPS: return "apply-nodeps";
	case XHP_STEP_REVERT: return "revert";
	case XHP_STEP_REPLACE: return "replace";
	case XHP_STEP_UNLOAD: return "unload";
	}
	return "?";
}

const char *xhp_problem_kind_name(enum xhp_problem_kind k)
{
	static const char *const names[] = {
		[XHP_PROB_ORPHAN] = "orphan", [XHP_PROB_BRANCH] = "branch",
		[XHP_PROB_SUPERSEDED] = "superseded", [XHP_PROB_CYCLE] = "cycle",
		[XHP_PROB_DUPLICATE] = "duplicate", [XHP_PROB_EXCLUDED] = "excluded",
		[XHP_PROB_INDEPENDENT] = "independent", [XHP_PROB_FOREIGN] = "foreign",
		[XHP_PROB_REFUSED] = "refused", [XHP_PROB_CONTENT] = "content",
		[XHP_PROB_CLASH] = "clash",
	};
	return names[k];
}

/* ---- the planner's working state -------------------------------------- */

enum walk_mark { WALK_FREE, WALK_CHAIN, WALK_INDEPENDENT, WALK_OUT };

enum strategy {
	KEEP_BOTTOM,	/* revert above the common part, apply the rest */
	REPLACE_BOTTOM,	/* REPLACE with D's bottom */
	REVERT_ALL,	/* replace_without_replace = allow: revert, then apply */
};

struct planner {
	const struct xhp_plan_input *in;
	struct xhp_plan *p;
	enum walk_mark *mark;		/* per installed payload */
	size_t nchain;			/* D[0..nchain) is the chain, the rest independents */
	int *loaded_as;			/* per installed: hv[] index of the same payload, or -1 */
	int *desired_as;		/* per hv entry: installed[] index it is in D, or -1 */
	bool *reverted_now;		/* per hv entry: reverted by this plan */
	bool *unloaded;			/* per hv entry: unload step written */
	bool *pre_unload;		/* per hv entry: unload before the uploads */
	bool *must_go;			/* per hv entry: unload before the deferred uploads */
	bool *uploaded;			/* per installed: upload step written */
	bool *deferred;			/* per installed: uploaded after the take-off */
	size_t floor;			/* A position the take-off must reach (allow) */
	enum strategy strategy;
	size_t prefix;			/* A and D share A[0..prefix) */
	size_t take_off_to;		/* revert A[take_off_to..] explicitly */
	bool change;
};

static void __attribute__((format(printf, 4, 5)))
problem(struct planner *pl, enum xhp_problem_kind kind, bool error, const char *fmt, ...)
{
	struct xhp_plan *p = pl->p;
	struct xhp_problem *pr;
	va_list ap;

	p->problems = xhp_grow(p->problems, p->nproblems, sizeof(*p->problems));
	pr = &p->problems[p->nproblems++];
	pr->kind = kind;
	pr->error = error;
	va_start(ap, fmt);
	if (vasprintf(&pr->msg, fmt, ap) < 0)
		abort();
	va_end(ap);
}

/* The problem just added involves name. */
static void involves(struct planner *pl, const char *name)
{
	xhp_strv_add(&pl->p->problems[pl->p->nproblems - 1].names, name);
}

static void refuse(struct planner *pl)
{
	pl->p->refused = true;
}

static void add_step(struct planner *pl, enum xhp_step_op op, const char *name, int installed)
{
	struct xhp_plan *p = pl->p;
	struct xhp_step *s;
	size_t i;

	p->steps = xhp_grow(p->steps, p->nsteps, sizeof(*p->steps));
	s = &p->steps[p->nsteps++];
	s->op = op;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->installed = installed;
	s->hv = -1;
	for (i = 0; i < pl->in->nhv; i++)
		if (!strcmp(pl->in->hv[i].ident.name, name))
			s->hv = (int)i;
}

void xhp_plan_free(struct xhp_plan *p)
{
	size_t i;

	for (i = 0; i < p->nproblems; i++) {
		xhp_strv_free(&p->problems[i].names);
		free(p->problems[i].msg);
	}
	free(p->problems);
	free(p->steps);
	free(p->desired);
	free(p->applied);
	memset(p, 0, sizeof(*p));
}

bool xhp_problem_is_refusal(const struct xhp_problem *pr)
{
	return pr->error && (pr->kind == XHP_PROB_REFUSED || pr->kind == XHP_PROB_CONTENT || pr->kind == XHP_PROB_CLASH);
}

bool xhp_plan_has_errors(const struct xhp_plan *p)
{
	size_t i;

	for (i = 0; i < p->nproblems; i++)
		if (p->problems[i].error && p->problems[i].kind != XHP_PROB_FOREIGN)
			return true;
	return p->refused;
}

static char *hex(const struct xhp_build_id *id, char *buf)
{
	return xhp_build_id_hex(id, buf, XHP_BUILD_ID_HEX_SIZE);
}

static const struct xhp_installed *inst(const struct planner *pl, int i)
{
	return &pl->in->installed[i];
}

static const struct xhp_hv_entry *hv(const struct planner *pl, int i)
{
	return &pl->in->hv[i];
}

/* The installed payload whose own build-id a stacks on (not a itself), or -1. */
static int find_parent(const struct planner *pl, const struct xhp_installed *a)
{
	size_t k;

	for (k = 0; k < pl->in->ninstalled; k++)
		if (inst(pl, (int)k) != a && xhp_build_id_eq(&inst(pl, (int)k)->ident.id, &a->ident.depends))
			return (int)k;
	return -1;
}

/* Installed payload i leaves the walk. */
static void mark_out(struct planner *pl, size_t i)
{
	pl->mark[i] = WALK_OUT;
}

static void desire(struct planner *pl, int i)
{
	struct xhp_plan *p = pl->p;

	p->desired = xhp_realloc(p->desired, (p->ndesired + 1) * sizeof(int));
	p->desired[p->ndesired++] = i;
}

static bool is_independent(const struct planner *pl, const char *name)
{
	return pl->in->independent && xhp_strv_has(pl->in->independent, name);
}

/* The hv entry loaded under name, or -1. */
static int loaded_named(const struct planner *pl, const char *name)
{
	size_t i;

	for (i = 0; i < pl->in->nhv; i++)
		if (!strcmp(hv(pl, (int)i)->ident.name, name))
			return (int)i;
	return -1;
}

/* Is hv entry e installed payload d (known, same name and build-id)? */
static bool is_same(const struct xhp_hv_entry *e, const struct xhp_installed *d)
{
	return e->known && xhp_identity_same(&e->ident, &d->ident);
}

/* ---- the desired stack ---------------------------------------------------- */

/* Left out on purpose, and second files of one build-id. */
static void pass_exclusions(struct planner *pl)
{
	size_t i, j;
	char h[XHP_BUILD_ID_HEX_SIZE];

	for (i = 0; i < pl->in->ninstalled; i++) {
		const struct xhp_installed *a = inst(pl, (int)i);

		if (a->excluded) {
			mark_out(pl, i);
			problem(pl, XHP_PROB_EXCLUDED, a->excluded == XHP_EXCLUDED_UNAPPLIABLE, "%s: %s",
				a->ident.name, a->excluded_why ? a->excluded_why : "left out");
			pl->p->problems[pl->p->nproblems - 1].exclusion = a->excluded;
			involves(pl, a->ident.name);
			continue;
		}
		for (j = 0; j < i; j++) {
			size_t keep = j, drop = i;

			if (pl->mark[j] == WALK_OUT || !xhp_build_id_eq(&a->ident.id, &inst(pl, (int)j)->ident.id))
				continue;
			/* the first by name, unless the other one is the one loaded
			 * (Xen refuses a second payload of one build-id) */
			if (pl->loaded_as[i] >= 0 && pl->loaded_as[j] < 0) {
				keep = i;
				drop = j;
			}
			mark_out(pl, drop);
			problem(pl, XHP_PROB_DUPLICATE, true, "%s and %s have the same build-id %s: only %s is used",
				inst(pl, (int)keep)->ident.name, inst(pl, (int)drop)->ident.name,
				hex(&a->ident.id, h), inst(pl, (int)keep)->ident.name);
			involves(pl, inst(pl, (int)keep)->ident.name);
			involves(pl, inst(pl, (int)drop)->ident.name);
			break;
		}
	}
}

/* Independents leave the chain walk; one that does not stack on the
 * hypervisor cannot be one. */
static void pass_independents(struct planner *pl)
{
	size_t i;

	for (i = 0; i < pl->in->ninstalled; i++) {
		const struct xhp_installed *a = inst(pl, (int)i);

		if (pl->mark[i] != WALK_FREE || !is_independent(pl, a->ident.name))
			continue;
		if (xhp_build_id_eq(&a->ident.depends, &pl->in->hv_id)) {
			pl->mark[i] = WALK_INDEPENDENT;
			continue;
		}
		mark_out(pl, i);
		problem(pl, XHP_PROB_INDEPENDENT, true,
			"%s: listed as independent but it does not depend on the hypervisor", a->ident.name);
		involves(pl, a->ident.name);
	}
}

/* The free payloads stacked on cur, in installed order. */
static void collect_kids(const struct planner *pl, const struct xhp_build_id *cur, struct xhp_strv *names,
			 int *kids, size_t *nkids)
{
	size_t i;

	*nkids = 0;
	for (i = 0; i < pl->in->ninstalled; i++)
		if (pl->mark[i] == WALK_FREE && xhp_build_id_eq(&inst(pl, (int)i)->ident.depends, cur)) {
			kids[(*nkids)++] = (int)i;
			xhp_strv_add(names, inst(pl, (int)i)->ident.name);
		}
}

/* The member with the highest version=, when every member has one and the
 * highest is unique; else -1. */
static int highest_version(const struct planner *pl, const int *kids, size_t nkids)
{
	int best = -1;
	bool tie = false;
	size_t k;

	for (k = 0; k < nkids; k++) {
		const char *v = inst(pl, kids[k])->version;
		int c;

		if (!v)
			return -1;
		if (best < 0) {
			best = kids[k];
			continue;
		}
		c = strverscmp(v, inst(pl, best)->version);
		if (c > 0) {
			best = kids[k];
			tie = false;
		} else if (c == 0) {
			tie = true;
		}
	}
	return tie ? -1 : best;
}

/* The one member that is applied now, or -1. */
static int applied_member(const struct planner *pl, const int *kids, size_t nkids)
{
	int found = -1;
	size_t k;

	for (k = 0; k < nkids; k++) {
		int li = pl->loaded_as[kids[k]];

		if (li < 0 || hv(pl, li)->state != XHP_STATE_APPLIED)
			continue;
		if (found >= 0)
			return -1;
		found = kids[k];
	}
	return found;
}

/* A branch: resolve it, or report it. Returns the member the chain goes on
 * with, or -1 (the stack stops here). */
static int resolve_branch(struct planner *pl, const int *kids, size_t nkids, const struct xhp_strv *names)
{
	_cleanup_free_ char *joined = xhp_strv_join(names, " ");
	const char *below = pl->p->ndesired ? inst(pl, pl->p->desired[pl->p->ndesired - 1])->ident.name
					    : "the hypervisor";
	int win = highest_version(pl, kids, nkids);
	size_t k;

	if (win >= 0) {
		for (k = 0; k < nkids; k++) {
			if (kids[k] == win)
				continue;
			mark_out(pl, (size_t)kids[k]);
			problem(pl, XHP_PROB_SUPERSEDED, false, "%s (version=%s) is superseded by %s (version=%s)",
				inst(pl, kids[k])->ident.name, inst(pl, kids[k])->version,
				inst(pl, win)->ident.name, inst(pl, win)->version);
			involves(pl, inst(pl, kids[k])->ident.name);
		}
		return win;
	}
	win = applied_member(pl, kids, nkids);
	if (win >= 0)
		/* a new, ambiguous sibling never takes an applied fix off */
		problem(pl, XHP_PROB_BRANCH, true,
			"branch: %s all stack on %s; keeping %s, which is applied; give them distinct "
			".modinfo version= or remove all but one", joined, below, inst(pl, win)->ident.name);
	else
		problem(pl, XHP_PROB_BRANCH, true,
			"branch: %s all stack on %s; give them distinct .modinfo version= or remove all "
			"but one (the stack stops below them)", joined, below);
	for (k = 0; k < names->n; k++)
		involves(pl, names->v[k]);
	for (k = 0; k < nkids; k++)
		if (kids[k] != win)
			mark_out(pl, (size_t)kids[k]);
	return win;
}

/* Walk the build-id chain up from the hypervisor. */
static void pass_chain(struct planner *pl)
{
	int *kids = xhp_calloc(pl->in->ninstalled + 1, sizeof(int));
	struct xhp_build_id cur = pl->in->hv_id;

	for (;;) {
		struct xhp_strv names = { 0 };
		size_t nkids;
		int next;

		collect_kids(pl, &cur, &names, kids, &nkids);
		next = nkids == 1 ? kids[0] : nkids ? resolve_branch(pl, kids, nkids, &names) : -1;
		xhp_strv_free(&names);
		if (next < 0)
			break;
		pl->mark[next] = WALK_CHAIN;
		desire(pl, next);
		cur = inst(pl, next)->ident.id;
	}
	pl->nchain = pl->p->ndesired;
	free(kids);
}

/* Free payloads whose parents lead back to themselves. */
static void pass_cycles(struct planner *pl)
{
	size_t n = pl->in->ninstalled, i, steps;

	for (i = 0; i < n; i++) {
		int at = (int)i, parent;

		if (pl->mark[i] != WALK_FREE)
			continue;
		for (steps = 0; steps <= n; steps++) {
			parent = find_parent(pl, inst(pl, at));
			if (xhp_build_id_eq(&inst(pl, at)->ident.id, &inst(pl, at)->ident.depends))
				parent = at; /* stacks on itself */
			if (parent < 0 || pl->mark[parent] != WALK_FREE)
				break;
			at = parent;
			if (at == (int)i)
				break;
		}
		if (parent < 0 || pl->mark[parent] != WALK_FREE)
			continue;
		/* at is on the cycle: collect it */
		{
			struct xhp_strv names = { 0 };
			_cleanup_free_ char *joined = NULL;
			int m = at;

			do {
				xhp_strv_add(&names, inst(pl, m)->ident.name);
				mark_out(pl, (size_t)m);
				m = xhp_build_id_eq(&inst(pl, m)->ident.id, &inst(pl, m)->ident.depends)
					    ? m : find_parent(pl, inst(pl, m));
			} while (m >= 0 && m != at && names.n <= n);
			joined = xhp_strv_join(&names, " ");
			problem(pl, XHP_PROB_CYCLE, true,
				"cycle: %s depend on each other and never reach the hypervisor", joined);
			for (steps = 0; steps < names.n; steps++)
				involves(pl, names.v[steps]);
			xhp_strv_free(&names);
		}
	}
}

/* The payload left out on purpose that a's chain goes through, or -1. */
static int excluded_below(const struct planner *pl, const struct xhp_installed *a)
{
	size_t steps;

	for (steps = 0; steps < pl->in->ninstalled; steps++) {
		int parent = find_parent(pl, a);

		if (parent < 0)
			return -1;
		if (inst(pl, parent)->excluded)
			return parent;
		a = inst(pl, parent);
	}
	return -1;
}

/* What is still free: its parent is missing, or not in the stack. */
static void pass_orphans(struct planner *pl)
{
	char h[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	for (i = 0; i < pl->in->ninstalled; i++) {
		const struct xhp_installed *a = inst(pl, (int)i);
		int parent, x;

		if (pl->mark[i] != WALK_FREE)
			continue;
		mark_out(pl, i);
		parent = find_parent(pl, a);
		x = parent >= 0 ? excluded_below(pl, a) : -1;
		if (x >= 0) {
			/* it waits for a payload left out on purpose: no error */
			problem(pl, XHP_PROB_ORPHAN, false, "%s stacks on %s, which is left out (%s: %s)",
				a->ident.name, inst(pl, parent)->ident.name, inst(pl, x)->ident.name,
				inst(pl, x)->excluded_why ? inst(pl, x)->excluded_why : "left out");
			pl->p->problems[pl->p->nproblems - 1].exclusion = inst(pl, x)->excluded;
		} else if (parent >= 0) {
			problem(pl, XHP_PROB_ORPHAN, true, "%s stacks on %s, which is not in the stack",
				a->ident.name, inst(pl, parent)->ident.name);
		} else {
			problem(pl, XHP_PROB_ORPHAN, true,
				"%s is an orphan: it stacks on build-id %s, which no installed payload has",
				a->ident.name, hex(&a->ident.depends, h));
		}
		involves(pl, a->ident.name);
	}
}

static const char *expectation_words(const struct xhp_installed *a)
{
	return a->ident.bad_expectation == -ERANGE
		? "an expectation is longer than the function it checks: Xen refuses to apply it"
		: "an expectation has reserved bits set: Xen refuses to apply it";
}

/* Would REPLACE be the way to D's bottom (a chain applied, another bottom)? */
static bool bottom_replaced(const struct planner *pl)
{
	const struct xhp_plan *p = pl->p;

	return p->napplied && p->ndesired && hv(pl, p->applied[0])->known && !hv(pl, p->applied[0])->nodeps &&
	       !is_same(hv(pl, p->applied[0]), inst(pl, p->desired[0]));
}

/* Payloads Xen refuses whatever the running code holds (an expectation it
 * never accepts): the chain stops below the first one. When that one would
 * REPLACE the applied chain, the plan is refused instead: Xen checks it
 * only after reverting everything, and taking the chain off for it would
 * leave the fixes out. */
static void pass_unappliable(struct planner *pl)
{
	struct xhp_plan *p = pl->p;
	size_t k, i;

	for (k = 0; k < pl->nchain && !inst(pl, p->desired[k])->ident.bad_expectation; k++)
		;
	if (k == pl->nchain)
		return;
	problem(pl, k == 0 && bottom_replaced(pl) ? XHP_PROB_REFUSED : XHP_PROB_EXCLUDED, true, "%s: %s%s",
		inst(pl, p->desired[k])->ident.name, expectation_words(inst(pl, p->desired[k])),
		k == 0 && bottom_replaced(pl) ? " (inside REPLACE, after reverting the applied stack)" : "");
	involves(pl, inst(pl, p->desired[k])->ident.name);
	p->problems[p->nproblems - 1].exclusion = XHP_EXCLUDED_UNAPPLIABLE;
	if (k == 0 && bottom_replaced(pl)) {
		refuse(pl);
		return;
	}
	for (i = k; i < pl->nchain; i++) {
		mark_out(pl, (size_t)p->desired[i]);
		if (i == k)
			continue;
		problem(pl, XHP_PROB_ORPHAN, false, "%s stacks on %s, which is left out (%s: Xen refuses to apply it)",
			inst(pl, p->desired[i])->ident.name, inst(pl, p->desired[i - 1])->ident.name,
			inst(pl, p->desired[k])->ident.name);
		involves(pl, inst(pl, p->desired[i])->ident.name);
		p->problems[p->nproblems - 1].exclusion = XHP_EXCLUDED_UNAPPLIABLE;
	}
	p->ndesired = pl->nchain = k;
}

/* Independents go on top of the chain, in policy order; one Xen refuses
 * to apply is left out. */
static void pass_desire_independents(struct planner *pl)
{
	size_t j, i;

	for (j = 0; pl->in->independent && j < pl->in->independent->n; j++)
		for (i = 0; i < pl->in->ninstalled; i++) {
			const struct xhp_installed *a = inst(pl, (int)i);

			if (pl->mark[i] != WALK_INDEPENDENT || strcmp(a->ident.name, pl->in->independent->v[j]))
				continue;
			if (a->ident.bad_expectation) {
				problem(pl, XHP_PROB_EXCLUDED, true, "%s: %s", a->ident.name, expectation_words(a));
				involves(pl, a->ident.name);
				pl->p->problems[pl->p->nproblems - 1].exclusion = XHP_EXCLUDED_UNAPPLIABLE;
			} else {
				desire(pl, (int)i);
			}
			break;
		}
}

static void build_desired(struct planner *pl)
{
	size_t i, j;

	for (i = 0; i < pl->in->ninstalled; i++) {
		pl->loaded_as[i] = -1;
		for (j = 0; j < pl->in->nhv; j++)
			if (is_same(hv(pl, (int)j), inst(pl, (int)i)))
				pl->loaded_as[i] = (int)j;
	}
	pass_exclusions(pl);
	pass_independents(pl);
	pass_chain(pl);
	pass_cycles(pl);
	pass_orphans(pl);
	pass_unappliable(pl);
	pass_desire_independents(pl);
	for (i = 0; i < pl->p->ndesired; i++)
		if (pl->loaded_as[pl->p->desired[i]] >= 0)
			pl->desired_as[pl->loaded_as[pl->p->desired[i]]] = pl->p->desired[i];
}

/* ---- the applied stack ----------------------------------------------------- */

/* Does the recorded order (seq) of the applied entries obey Xen's rule: a
 * payload applied without NODEPS sits right above what it stacks on? */
static bool seq_order_holds(const struct xhp_plan_input *in, const int *order, size_t n)
{
	struct xhp_build_id top = in->hv_id;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct xhp_hv_entry *e = &in->hv[order[i]];

		if (!e->known || !e->seq)
			return false;
		if (!e->nodeps && !xhp_build_id_eq(&e->ident.depends, &top))
			return false;
		top = e->ident.id;
	}
	return true;
}

/* Among the unplaced applied chain entries stacked on cur, the one the
 * chain goes on with: the lowest recorded seq, then one with an applied
 * payload stacked on it, then LIST order. -1: none. */
static int chain_next(const struct xhp_plan_input *in, const bool *placed, const struct xhp_build_id *cur)
{
	int best = -1, score_best = -1;
	size_t i, k;

	for (i = 0; i < in->nhv; i++) {
		const struct xhp_hv_entry *e = &in->hv[i];
		int score = 0;

		if (placed[i] || e->state != XHP_STATE_APPLIED || !e->known || e->nodeps ||
		    !xhp_build_id_eq(&e->ident.depends, cur))
			continue;
		for (k = 0; k < in->nhv; k++)
			if (in->hv[k].state == XHP_STATE_APPLIED && in->hv[k].known &&
			    xhp_build_id_eq(&in->hv[k].ident.depends, &e->ident.id))
				score = 1;
		if (best < 0 || score > score_best ||
		    (score == score_best && e->seq && (!in->hv[best].seq || e->seq < in->hv[best].seq))) {
			best = (int)i;
			score_best = score;
		}
	}
	return best;
}

/* The rest on top: by recorded seq, then LIST order. */
static size_t place_rest(const struct xhp_plan_input *in, bool *placed, int *out, size_t n)
{
	for (;;) {
		int best = -1;
		size_t i;

		for (i = 0; i < in->nhv; i++) {
			const struct xhp_hv_entry *e = &in->hv[i];

			if (placed[i] || e->state != XHP_STATE_APPLIED)
				continue;
			if (best < 0 || (e->seq && (!in->hv[best].seq || e->seq < in->hv[best].seq)))
				best = (int)i;
		}
		if (best < 0)
			return n;
		placed[best] = true;
		out[n++] = best;
	}
}

size_t xhp_applied_order(const struct xhp_plan_input *in, int *out)
{
	bool *placed = xhp_calloc(in->nhv + 1, sizeof(bool));
	struct xhp_build_id cur = in->hv_id;
	size_t n;
	int next;

	/* the recorded order, when it is complete and Xen's rule holds */
	n = place_rest(in, placed, out, 0);
	if (seq_order_holds(in, out, n)) {
		free(placed);
		return n;
	}
	/* else the build-id chain from the hypervisor, then the rest */
	memset(placed, 0, (in->nhv + 1) * sizeof(bool));
	n = 0;
	while ((next = chain_next(in, placed, &cur)) >= 0) {
		placed[next] = true;
		out[n++] = next;
		cur = in->hv[next].ident.id;
	}
	n = place_rest(in, placed, out, n);
	free(placed);
	return n;
}

/* ---- the strategy ------------------------------------------------------------ */

/* Foreign payloads are reported; an applied one blocks any change. */
static bool pass_foreign(struct planner *pl)
{
	bool applied = false;
	size_t i;

	for (i = 0; i < pl->in->nhv; i++) {
		const struct xhp_hv_entry *e = hv(pl, (int)i);
		_cleanup_free_ char *n = NULL;

		if (e->known)
			continue;
		n = xhp_escape(e->ident.name); /* Xen's LIST: any bytes */
		applied |= e->state == XHP_STATE_APPLIED;
		problem(pl, XHP_PROB_FOREIGN, e->state == XHP_STATE_APPLIED,
			"%s is loaded (%s) but was not loaded by xen-hotpatch: left alone",
			n, xhp_state_name(e->state));
		involves(pl, e->ident.name);
	}
	return applied;
}

/* Where hv entry li sits in A, or napplied. */
static size_t position_in_a(const struct planner *pl, int li)
{
	size_t k;

	for (k = 0; k < pl->p->napplied; k++)
		if (pl->p->applied[k] == li)
			break;
	return k;
}

/* The applied payload li must be reverted and unloaded before a desired
 * payload can be uploaded: under allow, the take-off goes down to it. */
static void needs_to_go_first(struct planner *pl, int li)
{
	size_t k = position_in_a(pl, li);

	pl->must_go[li] = true;
	if (k < pl->floor)
		pl->floor = k;
}

/* Another content under a desired payload's name: a CHECKED one is
 * unloaded before the upload; an applied one means an unpatched moment. */
static void pass_content(struct planner *pl)
{
	char h1[XHP_BUILD_ID_HEX_SIZE], h2[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	for (i = 0; i < pl->p->ndesired; i++) {
		int ni = pl->p->desired[i], li = loaded_named(pl, inst(pl, ni)->ident.name);

		if (li < 0 || !hv(pl, li)->known || is_same(hv(pl, li), inst(pl, ni)) ||
		    hv(pl, li)->state != XHP_STATE_APPLIED)
			continue;
		pl->deferred[ni] = true;
		if (pl->in->replace_allow) {
			needs_to_go_first(pl, li);
			continue;
		}
		problem(pl, XHP_PROB_CONTENT, true,
			"%s: the file's build-id is %s but the applied payload of that name is %s; "
			"a new payload needs a new file name (or replace_without_replace = allow)",
			inst(pl, ni)->ident.name, hex(&inst(pl, ni)->ident.id, h1), hex(&hv(pl, li)->ident.id, h2));
		involves(pl, inst(pl, ni)->ident.name);
		refuse(pl);
	}
}

/* The first new symbol both lists define, or NULL. */
static const char *shared_symbol(const struct xhp_strv *a, const struct xhp_strv *b)
{
	size_t i;

	for (i = 0; a && b && i < a->n; i++)
		if (xhp_strv_has(b, a->v[i]))
			return a->v[i];
	return NULL;
}

/* Desired payload ni, to be uploaded, against loaded entry li: what Xen
 * would refuse (-EEXIST: its build-id or a new symbol is taken). */
static void clash_with_loaded(struct planner *pl, int ni, int li)
{
	const struct xhp_installed *u = inst(pl, ni);
	const struct xhp_hv_entry *l = hv(pl, li);
	const char *sym = shared_symbol(u->new_syms, l->new_syms);
	_cleanup_free_ char *what = NULL;

	if (!l->known || !strcmp(l->ident.name, u->ident.name))
		return; /* same name: pass_content */
	if (xhp_build_id_eq(&u->ident.id, &l->ident.id))
		what = xhp_strdup("the same build-id");
	else if (sym)
		what = xhp_asprintf("the new symbol %s", sym);
	else
		return;
	if (pl->desired_as[li] >= 0) {
		problem(pl, XHP_PROB_CLASH, true, "%s and %s both define %s: Xen cannot load both "
			"(remove one of them)", u->ident.name, l->ident.name, what);
	} else if (l->state == XHP_STATE_CHECKED) {
		pl->pre_unload[li] = true;
		return;
	} else if (pl->in->replace_allow) {
		pl->deferred[ni] = true;
		needs_to_go_first(pl, li);
		return;
	} else {
		problem(pl, XHP_PROB_CLASH, true, "%s cannot be loaded while %s is applied: both define %s "
			"(Xen refuses the upload); taking %s off first leaves its fixes out for a moment "
			"(replace_without_replace = allow accepts that)", u->ident.name, l->ident.name, what,
			l->ident.name);
	}
	involves(pl, u->ident.name);
	involves(pl, l->ident.name);
	refuse(pl);
}

/* Two desired payloads to be uploaded that Xen cannot hold together. */
static void clash_between_uploads(struct planner *pl, int a, int b)
{
	const char *sym = shared_symbol(inst(pl, a)->new_syms, inst(pl, b)->new_syms);

	if (!sym)
		return;
	problem(pl, XHP_PROB_CLASH, true, "%s and %s both define the new symbol %s: Xen cannot load both "
		"(remove one of them)", inst(pl, a)->ident.name, inst(pl, b)->ident.name, sym);
	involves(pl, inst(pl, a)->ident.name);
	involves(pl, inst(pl, b)->ident.name);
	refuse(pl);
}

static void pass_clashes(struct planner *pl)
{
	size_t i, j;

	for (i = 0; i < pl->p->ndesired; i++) {
		int ni = pl->p->desired[i];

		if (pl->loaded_as[ni] >= 0)
			continue; /* loaded already */
		for (j = 0; j < pl->in->nhv; j++)
			clash_with_loaded(pl, ni, (int)j);
		for (j = 0; j < i; j++)
			if (pl->loaded_as[pl->p->desired[j]] < 0)
				clash_between_uploads(pl, pl->p->desired[j], ni);
	}
}

/* A[0..n) that is the chain: known entries applied without NODEPS, each
 * stacked on the one below (the first on the hypervisor). */
static size_t applied_chain_length(const struct planner *pl)
{
	struct xhp_build_id below = pl->in->hv_id;
	size_t n = 0;

	for (; n < pl->p->napplied; n++) {
		const struct xhp_hv_entry *e = hv(pl, pl->p->applied[n]);

		if (!e->known || e->nodeps || !xhp_build_id_eq(&e->ident.depends, &below))
			break;
		below = e->ident.id;
	}
	return n;
}

/* Why REPLACE with D's bottom r is impossible once A[nchain..] are off, or NULL. */
static char *replace_impossible(const struct planner *pl, int r, size_t nchain)
{
	size_t k;

	if (!xhp_build_id_eq(&inst(pl, r)->ident.depends, &pl->in->hv_id))
		return xhp_strdup("it does not depend on the hypervisor");
	if (inst(pl, r)->ident.vetoing)
		return xhp_strdup("it has pre/post hooks");
	for (k = 0; k < nchain; k++)
		if (hv(pl, pl->p->applied[k])->ident.vetoing)
			return xhp_asprintf("applied payload %s has pre/post hooks",
					    hv(pl, pl->p->applied[k])->ident.name);
	return NULL;
}

/* The chain bottom changes while a chain is applied: REPLACE, or what
 * policy says when Xen would refuse it. */
static void choose_replace(struct planner *pl, size_t nchain)
{
	int r = pl->p->desired[0];
	_cleanup_free_ char *why = replace_impossible(pl, r, nchain);
	size_t k;
	bool explicit_off = pl->loaded_as[r] >= 0 && hv(pl, pl->loaded_as[r])->state == XHP_STATE_APPLIED;

	if (why || pl->floor < pl->p->napplied) {
		if (pl->in->replace_allow) {
			pl->strategy = REVERT_ALL;
			pl->take_off_to = 0;
			return;
		}
		if (why) {
			problem(pl, XHP_PROB_REFUSED, true, "cannot REPLACE the applied stack with %s (%s); "
				"reverting first would leave the hypervisor unpatched "
				"(replace_without_replace = allow accepts that)", inst(pl, r)->ident.name, why);
			involves(pl, inst(pl, r)->ident.name);
			refuse(pl);
		}
		return;
	}
	/* Never REPLACE with a payload that is applied (Xen does nothing): the
	 * independents come off first when D's bottom is one of them, or when
	 * one has vetoing hooks; REPLACE reverts the rest itself. */
	for (k = nchain; k < pl->p->napplied; k++)
		explicit_off |= hv(pl, pl->p->applied[k])->ident.vetoing;
	pl->strategy = REPLACE_BOTTOM;
	pl->take_off_to = explicit_off ? nchain : pl->p->napplied;
}

static void choose_strategy(struct planner *pl)
{
	size_t nchain = applied_chain_length(pl);

	pl->strategy = KEEP_BOTTOM;
	pl->take_off_to = pl->prefix;
	if (!pl->change)
		return;
	if (pl->prefix == 0 && nchain > 0 && pl->nchain > 0) {
		choose_replace(pl, nchain);
		return;
	}
	if (pl->floor < pl->take_off_to)
		pl->take_off_to = pl->floor;
}

/* Is A[0..napplied) exactly D, foreign payloads on top aside? */
static void compare_stacks(struct planner *pl)
{
	const struct xhp_plan *p = pl->p;
	size_t nours = p->napplied;

	pl->prefix = 0;
	while (pl->prefix < p->napplied && pl->prefix < p->ndesired &&
	       is_same(hv(pl, p->applied[pl->prefix]), inst(pl, p->desired[pl->prefix])))
		pl->prefix++;
	/* foreign payloads applied on top of ours are left alone: when the
	 * stack below them is the desired one, nothing is to change */
	while (nours > 0 && !hv(pl, p->applied[nours - 1])->known)
		nours--;
	pl->change = !(pl->prefix == nours && pl->prefix == p->ndesired);
	pl->floor = p->napplied;
}

/* ---- the steps ------------------------------------------------------------------- */

static void unload(struct planner *pl, int li)
{
	if (pl->unloaded[li])
		return;
	pl->unloaded[li] = true;
	add_step(pl, XHP_STEP_UNLOAD, hv(pl, li)->ident.name, -1);
}

static void upload(struct planner *pl, int ni)
{
	pl->uploaded[ni] = true;
	add_step(pl, XHP_STEP_UPLOAD, inst(pl, ni)->ident.name, ni);
}

/* Is desired payload ni, loaded as li, reverted (before, or by this plan)
 * and unsafe to apply again? Then it is unloaded and uploaded again. */
static bool needs_reload(const struct planner *pl, int ni, int li)
{
	const struct xhp_hv_entry *e = hv(pl, li);

	if (inst(pl, ni)->ident.safe_to_reapply || pl->uploaded[ni])
		return false;
	return pl->reverted_now[li] || (e->state == XHP_STATE_CHECKED && e->reverted);
}

/* Uploads, bottom first, before anything changes. */
static void steps_upload(struct planner *pl)
{
	size_t i;

	for (i = 0; i < pl->in->nhv; i++)
		if (pl->pre_unload[i])
			unload(pl, (int)i);
	for (i = 0; i < pl->p->ndesired; i++) {
		int ni = pl->p->desired[i], li = pl->loaded_as[ni], other;

		if (li >= 0) {
			if (needs_reload(pl, ni, li)) {
				unload(pl, li);
				upload(pl, ni);
			}
			continue;
		}
		if (pl->deferred[ni])
			continue;
		other = loaded_named(pl, inst(pl, ni)->ident.name);
		if (other >= 0 && hv(pl, other)->known)
			unload(pl, other); /* another content, CHECKED */
		upload(pl, ni);
	}
}

static void revert(struct planner *pl, size_t k)
{
	int li = pl->p->applied[k];

	pl->reverted_now[li] = true;
	add_step(pl, XHP_STEP_REVERT, hv(pl, li)->ident.name, -1);
}

/* Take off: explicit reverts top first, then REPLACE; then what must be
 * gone before the deferred uploads, and those uploads. */
static void steps_take_off(struct planner *pl)
{
	size_t k;

	for (k = pl->p->napplied; k > pl->take_off_to; k--)
		revert(pl, k - 1);
	if (pl->strategy == REPLACE_BOTTOM) {
		int r = pl->p->desired[0], li = pl->loaded_as[r];

		if (li >= 0 && needs_reload(pl, r, li)) {
			unload(pl, li);
			upload(pl, r);
		}
		add_step(pl, XHP_STEP_REPLACE, inst(pl, r)->ident.name, r);
		for (k = 0; k < pl->p->napplied; k++)
			pl->reverted_now[pl->p->applied[k]] = true;
	}
	for (k = 0; k < pl->in->nhv; k++)
		if (pl->must_go[k])
			unload(pl, (int)k);
	for (k = 0; k < pl->p->ndesired; k++) {
		int ni = pl->p->desired[k], other;

		if (!pl->deferred[ni])
			continue;
		other = loaded_named(pl, inst(pl, ni)->ident.name);
		if (other >= 0 && hv(pl, other)->known)
			unload(pl, other);
		upload(pl, ni);
	}
}

/* The rest of D, bottom first. */
static void steps_apply(struct planner *pl)
{
	size_t i, from = pl->strategy == REPLACE_BOTTOM ? 1 : pl->take_off_to;

	if (pl->strategy == REVERT_ALL)
		from = 0;
	for (i = from; i < pl->p->ndesired; i++) {
		int ni = pl->p->desired[i], li = pl->loaded_as[ni];

		if (li >= 0 && needs_reload(pl, ni, li)) {
			unload(pl, li);
			upload(pl, ni);
		}
		add_step(pl, i >= pl->nchain ? XHP_STEP_APPLY_NODEPS : XHP_STEP_APPLY, inst(pl, ni)->ident.name, ni);
	}
}

/* Whatever of ours is loaded and not in D. */
static void steps_unload(struct planner *pl)
{
	size_t i;

	for (i = 0; i < pl->in->nhv; i++)
		if (hv(pl, (int)i)->known && pl->desired_as[i] < 0)
			unload(pl, (int)i);
}

/* ---- the entry points ----------------------------------------------------------- */

static void planner_init(struct planner *pl, const struct xhp_plan_input *in, struct xhp_plan *p)
{
	size_t ni = in->ninstalled + 1, nh = in->nhv + 1, i;

	memset(p, 0, sizeof(*p));
	memset(pl, 0, sizeof(*pl));
	pl->in = in;
	pl->p = p;
	pl->mark = xhp_calloc(ni, sizeof(*pl->mark));
	pl->loaded_as = xhp_calloc(ni, sizeof(int));
	pl->uploaded = xhp_calloc(ni, sizeof(bool));
	pl->deferred = xhp_calloc(ni, sizeof(bool));
	pl->desired_as = xhp_calloc(nh, sizeof(int));
	pl->reverted_now = xhp_calloc(nh, sizeof(bool));
	pl->unloaded = xhp_calloc(nh, sizeof(bool));
	pl->pre_unload = xhp_calloc(nh, sizeof(bool));
	pl->must_go = xhp_calloc(nh, sizeof(bool));
	for (i = 0; i < in->nhv; i++)
		pl->desired_as[i] = -1;
	p->applied = xhp_calloc(nh, sizeof(int));
	p->napplied = xhp_applied_order(in, p->applied);
}

static void planner_done(struct planner *pl)
{
	if (pl->p->refused) {
		free(pl->p->steps);
		pl->p->steps = NULL;
		pl->p->nsteps = 0;
	}
	free(pl->mark);
	free(pl->loaded_as);
	free(pl->uploaded);
	free(pl->deferred);
	free(pl->desired_as);
	free(pl->reverted_now);
	free(pl->unloaded);
	free(pl->pre_unload);
	free(pl->must_go);
}

/* An applied foreign payload blocks any change below it. */
static void refuse_for_foreign(struct planner *pl)
{
	size_t i;

	for (i = 0; i < pl->in->nhv; i++)
		if (!hv(pl, (int)i)->known && hv(pl, (int)i)->state == XHP_STATE_APPLIED) {
			_cleanup_free_ char *n = xhp_escape(hv(pl, (int)i)->ident.name);

			problem(pl, XHP_PROB_REFUSED, true, "%s is applied but not known to xen-hotpatch, so the "
				"stack cannot be changed safely: revert it first (xen-hotpatch revert %s)", n, n);
			involves(pl, hv(pl, (int)i)->ident.name);
			refuse(pl);
			return;
		}
}

/* An applied payload whose installed file cannot be read (malformed,
 * unsafe, unreadable) is not taken off because of it: a bad file changes
 * nothing until it is fixed or removed. */
static void refuse_for_unreadable(struct planner *pl)
{
	size_t i;

	for (i = 0; i < pl->p->napplied && pl->in->unreadable; i++) {
		const struct xhp_hv_entry *e = hv(pl, pl->p->applied[i]);
		_cleanup_free_ char *n = NULL;

		if (!xhp_strv_has(pl->in->unreadable, e->ident.name))
			continue;
		n = xhp_escape(e->ident.name);
		problem(pl, XHP_PROB_REFUSED, true, "%s is applied and its installed file cannot be used (see "
			"above): it stays applied, and the stack is not changed until the file is fixed or removed", n);
		involves(pl, e->ident.name);
		refuse(pl);
		return;
	}
}

void xhp_plan_make(const struct xhp_plan_input *in, struct xhp_plan *p)
{
	struct planner pl;
	bool foreign_applied;

	planner_init(&pl, in, p);
	build_desired(&pl);
	foreign_applied = pass_foreign(&pl);
	compare_stacks(&pl);
	if (pl.change && foreign_applied)
		refuse_for_foreign(&pl);
	if (pl.change && !p->refused)
		refuse_for_unreadable(&pl);
	if (!p->refused)
		pass_content(&pl);
	if (!p->refused)
		pass_clashes(&pl);
	if (!p->refused)
		choose_strategy(&pl);
	if (!p->refused) {
		steps_upload(&pl);
		if (pl.change) {
			steps_take_off(&pl);
			steps_apply(&pl);
		}
		steps_unload(&pl);
	}
	planner_done(&pl);
}

int xhp_plan_revert(const struct xhp_plan_input *in, const char *name, struct xhp_plan *p)
{
	struct planner pl;
	int at;
	size_t k, i, pos;

	planner_init(&pl, in, p);
	at = loaded_named(&pl, name);
	if (at < 0) {
		planner_done(&pl);
		return -ENOENT;
	}
	pos = position_in_a(&pl, at);
	for (k = p->napplied; k > pos; k--)
		revert(&pl, k - 1);
	for (k = p->napplied; k > pos; k--)
		unload(&pl, p->applied[k - 1]);
	unload(&pl, at);
	/* what was above NAME when it was last applied and is left CHECKED
	 * (an interrupted revert NAME): it goes too, top first */
	while (hv(&pl, at)->seq) {
		int top = -1;

		for (i = 0; i < in->nhv; i++) {
			const struct xhp_hv_entry *e = hv(&pl, (int)i);

			if (!pl.unloaded[i] && e->known && e->state == XHP_STATE_CHECKED &&
			    e->seq > hv(&pl, at)->seq && (top < 0 || e->seq > hv(&pl, top)->seq))
				top = (int)i;
		}
		if (top < 0)
			break;
		unload(&pl, top);
	}
	planner_done(&pl);
	return 0;
}
