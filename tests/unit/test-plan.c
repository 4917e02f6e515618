/* SPDX-License-Identifier: GPL-2.0-only */
/* The planner as a pure function: inputs built in memory, steps asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "backend.h"
#include "plan.h"

#define HV 0xee

static struct xhp_build_id id(uint8_t v)
{
	struct xhp_build_id b = { .len = 20 };

	memset(b.b, v, 20);
	return b;
}

/* A scenario: installed payloads, loaded entries, policy. */
struct sc {
	struct xhp_installed nodes[16];
	size_t nn;
	struct xhp_hv_entry loaded[16];
	size_t nl;
	struct xhp_strv indep;
	bool allow;
	struct xhp_plan plan;
	char steps[1024];
};

static void ident(struct xhp_identity *i, const char *name, uint8_t own, uint8_t dep)
{
	memset(i, 0, sizeof(*i));
	snprintf(i->name, sizeof(i->name), "%s", name);
	i->id = id(own);
	i->depends = id(dep);
	i->safe_to_reapply = true;
}

static struct xhp_installed *node(struct sc *s, const char *name, uint8_t own, uint8_t dep)
{
	struct xhp_installed *n = &s->nodes[s->nn++];

	memset(n, 0, sizeof(*n));
	ident(&n->ident, name, own, dep);
	return n;
}

static struct xhp_hv_entry *loaded(struct sc *s, const char *name, uint8_t own, uint8_t dep, int state,
				   unsigned seq)
{
	struct xhp_hv_entry *e = &s->loaded[s->nl++];

	memset(e, 0, sizeof(*e));
	ident(&e->ident, name, own, dep);
	e->known = true;
	e->state = state;
	e->seq = seq;
	return e;
}

/* The plan's steps as "op name; op name; ..." */
static const char *render(struct sc *s)
{
	size_t i;

	s->steps[0] = '\0';
	for (i = 0; i < s->plan.nsteps; i++) {
		char one[160];

		snprintf(one, sizeof(one), "%s%s %s", i ? "; " : "", xhp_step_op_name(s->plan.steps[i].op),
			 s->plan.steps[i].name);
		strncat(s->steps, one, sizeof(s->steps) - strlen(s->steps) - 1);
	}
	return s->steps;
}

static struct xhp_plan_input input(struct sc *s)
{
	return (struct xhp_plan_input){
		.hv_id = id(HV), .installed = s->nodes, .ninstalled = s->nn, .hv = s->loaded,
		.nhv = s->nl, .independent = &s->indep, .replace_allow = s->allow,
	};
}

/* Plan and render the steps */
static const char *plan(struct sc *s)
{
	struct xhp_plan_input in = input(s);

	xhp_plan_free(&s->plan);
	xhp_plan_make(&in, &s->plan);
	return render(s);
}

static bool has_problem(struct sc *s, enum xhp_problem_kind k, const char *names)
{
	size_t i;

	for (i = 0; i < s->plan.nproblems; i++) {
		char *joined = xhp_strv_join(&s->plan.problems[i].names, " ");
		bool match = s->plan.problems[i].kind == k && (!names || !strcmp(joined, names));

		free(joined);
		if (match)
			return true;
	}
	return false;
}

static void done(struct sc *s)
{
	xhp_plan_free(&s->plan);
	xhp_strv_free(&s->indep);
}

static void chain_sorted_against_names(void **state)
{
	struct sc s = { 0 };

	(void)state;
	/* nodes given in name order: aa-top, mm-middle, zz-base */
	node(&s, "aa-top", 3, 2);
	node(&s, "mm-middle", 2, 1);
	node(&s, "zz-base", 1, HV);
	assert_string_equal(plan(&s), "upload zz-base; upload mm-middle; upload aa-top; "
				      "apply zz-base; apply mm-middle; apply aa-top");
	assert_int_equal(s.plan.ndesired, 3);
	assert_int_equal(s.plan.nproblems, 0);
	done(&s);
}

static void nothing_to_do(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "b", 2, 1);
	node(&s, "a", 1, HV);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "b", 2, 1, XHP_STATE_APPLIED, 2);
	assert_string_equal(plan(&s), "");
	done(&s);
}

static void cumulative_replaces_stack(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "cum", 9, HV);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "b", 2, 1, XHP_STATE_APPLIED, 2);
	loaded(&s, "c", 3, 2, XHP_STATE_APPLIED, 3);
	assert_string_equal(plan(&s), "upload cum; replace cum; unload a; unload b; unload c");
	done(&s);
}

static void stack_on_cumulative(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "top", 10, 9);
	node(&s, "cum", 9, HV);
	loaded(&s, "old", 1, HV, XHP_STATE_APPLIED, 1);
	assert_string_equal(plan(&s), "upload cum; upload top; replace cum; apply top; unload old");
	done(&s);
}

static void remove_top(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "a", 1, HV);
	node(&s, "b", 2, 1);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "b", 2, 1, XHP_STATE_APPLIED, 2);
	loaded(&s, "c", 3, 2, XHP_STATE_APPLIED, 3);
	assert_string_equal(plan(&s), "revert c; unload c");
	done(&s);
}

static void remove_middle(void **state)
{
	struct sc s = { 0 };

	(void)state;
	/* b removed: c is an orphan now, so the stack stops at a */
	node(&s, "a", 1, HV);
	node(&s, "c", 3, 2);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "b", 2, 1, XHP_STATE_APPLIED, 2);
	loaded(&s, "c", 3, 2, XHP_STATE_APPLIED, 3);
	assert_string_equal(plan(&s), "revert c; revert b; unload b; unload c");
	assert_true(has_problem(&s, XHP_PROB_ORPHAN, "c"));
	done(&s);
}

static void branch_with_versions(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "a", 1, HV);
	node(&s, "v10", 3, 1)->version = "10";
	node(&s, "v9", 2, 1)->version = "9";
	assert_string_equal(plan(&s), "upload a; upload v10; apply a; apply v10");
	assert_true(has_problem(&s, XHP_PROB_SUPERSEDED, "v9"));
	done(&s);
}

static void branch_without_versions(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "a", 1, HV);
	node(&s, "x", 2, 1);
	node(&s, "y", 3, 1)->version = "2";
	node(&s, "above", 4, 3);
	assert_string_equal(plan(&s), "upload a; apply a");
	assert_true(has_problem(&s, XHP_PROB_BRANCH, "x y"));
	assert_true(has_problem(&s, XHP_PROB_ORPHAN, "above"));
	done(&s);
}

static void branch_keeps_applied_member(void **state)
{
	struct sc s = { 0 };

	(void)state;
	/* x is applied; a new sibling y without version= appears: x stays on */
	node(&s, "a", 1, HV);
	node(&s, "x", 2, 1);
	node(&s, "y", 3, 1);
	node(&s, "above-x", 4, 2);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "x", 2, 1, XHP_STATE_APPLIED, 2);
	assert_string_equal(plan(&s), "upload above-x; apply above-x");
	assert_true(has_problem(&s, XHP_PROB_BRANCH, "x y"));
	assert_true(s.plan.problems[0].error);
	done(&s);
}

static void orphan(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "a", 1, HV);
	node(&s, "lost", 5, 77);
	assert_string_equal(plan(&s), "upload a; apply a");
	assert_true(has_problem(&s, XHP_PROB_ORPHAN, "lost"));
	done(&s);
}

static void cycle(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "a", 1, HV);
	node(&s, "p", 5, 6);
	node(&s, "q", 6, 5);
	assert_string_equal(plan(&s), "upload a; apply a");
	assert_true(has_problem(&s, XHP_PROB_CYCLE, NULL));
	assert_true(xhp_strv_has(&s.plan.problems[0].names, "p"));
	assert_true(xhp_strv_has(&s.plan.problems[0].names, "q"));
	done(&s);
}

static void independent_on_top(void **state)
{
	struct sc s = { 0 };

	(void)state;
	xhp_strv_add(&s.indep, "ind");
	node(&s, "ind", 8, HV);
	node(&s, "a", 1, HV);
	node(&s, "b", 2, 1);
	assert_string_equal(plan(&s), "upload a; upload b; upload ind; apply a; apply b; apply-nodeps ind");
	done(&s);
}

static void independent_taken_off_and_put_back(void **state)
{
	struct sc s = { 0 };

	(void)state;
	xhp_strv_add(&s.indep, "ind");
	node(&s, "ind", 8, HV);
	node(&s, "a", 1, HV);
	node(&s, "b", 2, 1);
	node(&s, "c", 3, 2); /* new on top of the chain */
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "b", 2, 1, XHP_STATE_APPLIED, 2);
	loaded(&s, "ind", 8, HV, XHP_STATE_APPLIED, 3);
	assert_string_equal(plan(&s), "upload c; revert ind; apply c; apply-nodeps ind");
	done(&s);
}

static void blocked_payload(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "a", 1, HV);
	node(&s, "b", 2, 1)->excluded = XHP_EXCLUDED_BLOCKED;
	node(&s, "c", 3, 2);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "b", 2, 1, XHP_STATE_APPLIED, 2);
	assert_string_equal(plan(&s), "revert b; unload b");
	assert_true(has_problem(&s, XHP_PROB_EXCLUDED, "b"));
	assert_true(has_problem(&s, XHP_PROB_ORPHAN, "c"));
	done(&s);
}

static void foreign_applied_blocks_change(void **state)
{
	struct sc s = { 0 };
	struct xhp_hv_entry *f;

	(void)state;
	node(&s, "a", 1, HV);
	f = loaded(&s, "theirs", 0, 0, XHP_STATE_APPLIED, 0);
	f->known = false;
	assert_string_equal(plan(&s), "");
	assert_true(s.plan.refused);
	assert_true(has_problem(&s, XHP_PROB_FOREIGN, "theirs"));
	done(&s);
}

static void foreign_checked_left_alone(void **state)
{
	struct sc s = { 0 };
	struct xhp_hv_entry *f;

	(void)state;
	node(&s, "a", 1, HV);
	f = loaded(&s, "theirs", 0, 0, XHP_STATE_CHECKED, 0);
	f->known = false;
	assert_string_equal(plan(&s), "upload a; apply a");
	assert_false(s.plan.refused);
	assert_true(has_problem(&s, XHP_PROB_FOREIGN, "theirs"));
	done(&s);
}

static void replace_refused_for_hooks(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "cum", 9, HV)->ident.vetoing = true;
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	assert_string_equal(plan(&s), "");
	assert_true(s.plan.refused);
	assert_true(has_problem(&s, XHP_PROB_REFUSED, "cum"));
	/* an applied payload with hooks also blocks REPLACE */
	s.nodes[0].ident.vetoing = false;
	s.loaded[0].ident.vetoing = true;
	assert_string_equal(plan(&s), "");
	assert_true(s.plan.refused);
	/* policy may allow revert-then-apply */
	s.allow = true;
	assert_string_equal(plan(&s), "upload cum; revert a; apply cum; unload a");
	done(&s);
}

static void unsafe_reapply_reloads(void **state)
{
	struct sc s = { 0 };

	(void)state;
	/* b was reverted earlier and is CHECKED; it has .data: reload it */
	node(&s, "a", 1, HV);
	node(&s, "b", 2, 1)->ident.safe_to_reapply = false;
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "b", 2, 1, XHP_STATE_CHECKED, 0)->reverted = true;
	assert_string_equal(plan(&s), "unload b; upload b; apply b");
	done(&s);
}

static void unsafe_reverted_in_plan_reloads(void **state)
{
	struct sc s = { 0 };

	(void)state;
	/* a new middle payload: b (unsafe) must come off and go back on */
	xhp_strv_add(&s.indep, "u");
	node(&s, "a", 1, HV);
	node(&s, "m", 2, 1);
	node(&s, "u", 8, HV)->ident.safe_to_reapply = false;
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "u", 8, HV, XHP_STATE_APPLIED, 2)->ident.safe_to_reapply = false;
	assert_string_equal(plan(&s), "upload m; revert u; apply m; unload u; upload u; apply-nodeps u");
	done(&s);
}

static void duplicate_build_id(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "a", 1, HV);
	node(&s, "a-copy", 1, HV);
	assert_string_equal(plan(&s), "upload a; apply a");
	assert_true(has_problem(&s, XHP_PROB_DUPLICATE, "a a-copy"));
	done(&s);
}

static void content_changed_same_name(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "a", 7, HV);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	assert_string_equal(plan(&s), "");
	assert_true(s.plan.refused);
	assert_true(has_problem(&s, XHP_PROB_CONTENT, "a"));
	done(&s);
}

static void leftover_checked_unloaded(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "a", 1, HV);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "old", 5, HV, XHP_STATE_CHECKED, 0);
	assert_string_equal(plan(&s), "unload old");
	done(&s);
}

static void applied_order_follows_seq(void **state)
{
	struct sc s = { 0 };
	int out[16];
	struct xhp_plan_input in = { .hv_id = id(HV), .hv = s.loaded };

	(void)state;
	/* LIST order differs from stack order */
	loaded(&s, "c", 3, 2, XHP_STATE_APPLIED, 3);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "x", 9, HV, XHP_STATE_CHECKED, 0);
	loaded(&s, "b", 2, 1, XHP_STATE_APPLIED, 2);
	in.nhv = s.nl;
	assert_int_equal(xhp_applied_order(&in, out), 3);
	assert_string_equal(s.loaded[out[0]].ident.name, "a");
	assert_string_equal(s.loaded[out[1]].ident.name, "b");
	assert_string_equal(s.loaded[out[2]].ident.name, "c");
	/* without seq (adopted), the build-id chain decides */
	s.loaded[0].seq = s.loaded[1].seq = s.loaded[3].seq = 0;
	assert_int_equal(xhp_applied_order(&in, out), 3);
	assert_string_equal(s.loaded[out[0]].ident.name, "a");
	assert_string_equal(s.loaded[out[2]].ident.name, "c");
	done(&s);
}


/* ---- a small Xen 4.17 (the rules of xen-livepatch-semantics.md that the
 * planner depends on), to run plans against ---------------------------- */

struct xen_payload {
	struct xhp_identity ident;
	const struct xhp_strv *syms;
	int state;
	bool reverted;
};

struct xen {
	struct xen_payload p[32];
	size_t n;
	int applied[32];	/* indexes into p, bottom first */
	size_t napplied;
	char error[256];	/* the first thing Xen refused or ignored */
};

static int xen_find(struct xen *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (!strcmp(x->p[i].ident.name, name))
			return (int)i;
	return -1;
}

static bool xen_fail(struct xen *x, const char *what, const char *name)
{
	if (!x->error[0])
		snprintf(x->error, sizeof(x->error), "%s %s", what, name);
	return false;
}

static bool xen_upload(struct xen *x, const struct xhp_installed *n)
{
	size_t i, k;

	if (xen_find(x, n->ident.name) >= 0)
		return xen_fail(x, "upload: name taken:", n->ident.name);
	for (i = 0; i < x->n; i++) {
		if (xhp_build_id_eq(&x->p[i].ident.id, &n->ident.id))
			return xen_fail(x, "upload: build-id taken:", n->ident.name);
		for (k = 0; n->new_syms && x->p[i].syms && k < n->new_syms->n; k++)
			if (xhp_strv_has(x->p[i].syms, n->new_syms->v[k]))
				return xen_fail(x, "upload: new symbol taken:", n->ident.name);
	}
	x->p[x->n++] = (struct xen_payload){ .ident = n->ident, .syms = n->new_syms, .state = XHP_STATE_CHECKED };
	return true;
}

static bool xen_any_vetoing_applied(struct xen *x)
{
	size_t i;

	for (i = 0; i < x->napplied; i++)
		if (x->p[x->applied[i]].ident.vetoing)
			return true;
	return false;
}

static bool xen_act(struct xen *x, const struct xhp_step *st, const struct xhp_build_id *hv)
{
	int i = xen_find(x, st->name);
	struct xen_payload *p = i >= 0 ? &x->p[i] : NULL;
	const struct xhp_build_id *top = x->napplied ? &x->p[x->applied[x->napplied - 1]].ident.id : hv;
	size_t k;

	if (!p)
		return xen_fail(x, "no such payload:", st->name);
	switch (st->op) {
	case XHP_STEP_APPLY:
	case XHP_STEP_APPLY_NODEPS:
		if (p->state != XHP_STATE_CHECKED)
			return xen_fail(x, "apply of an applied payload (a no-op):", st->name);
		if (p->reverted && !p->ident.safe_to_reapply)
			return xen_fail(x, "apply of a reverted unsafe payload:", st->name);
		if (st->op == XHP_STEP_APPLY && !xhp_build_id_eq(&p->ident.depends, top))
			return xen_fail(x, "apply: depends is not the top:", st->name);
		p->state = XHP_STATE_APPLIED;
		x->applied[x->napplied++] = i;
		return true;
	case XHP_STEP_REVERT:
		if (p->state != XHP_STATE_APPLIED)
			return xen_fail(x, "revert of a checked payload (a no-op):", st->name);
		if (x->applied[x->napplied - 1] != i)
			return xen_fail(x, "revert of a payload that is not the top (EBUSY):", st->name);
		x->napplied--;
		p->state = XHP_STATE_CHECKED;
		p->reverted = true;
		return true;
	case XHP_STEP_REPLACE:
		if (p->state != XHP_STATE_CHECKED)
			return xen_fail(x, "replace with an applied payload (a no-op):", st->name);
		if (!xhp_build_id_eq(&p->ident.depends, hv))
			return xen_fail(x, "replace: does not depend on the hypervisor:", st->name);
		if (p->ident.vetoing || xen_any_vetoing_applied(x))
			return xen_fail(x, "replace with vetoing hooks (EOPNOTSUPP):", st->name);
		for (k = 0; k < x->napplied; k++) {
			x->p[x->applied[k]].state = XHP_STATE_CHECKED;
			x->p[x->applied[k]].reverted = true;
		}
		x->napplied = 0;
		p->state = XHP_STATE_APPLIED;
		x->applied[x->napplied++] = i;
		return true;
	case XHP_STEP_UNLOAD:
		if (p->state != XHP_STATE_CHECKED)
			return xen_fail(x, "unload of an applied payload:", st->name);
		for (k = 0; k < x->napplied; k++)
			if (x->applied[k] > i)
				x->applied[k]--;
		memmove(&x->p[i], &x->p[i + 1], (x->n - (size_t)i - 1) * sizeof(x->p[0]));
		x->n--;
		return true;
	default:
		return xen_fail(x, "unknown step:", st->name);
	}
}

/* Run the plan of s on x; false (with x->error) on the first refusal or no-op. */
static bool xen_run(struct xen *x, struct sc *s)
{
	struct xhp_build_id hv = id(HV);
	size_t i;

	for (i = 0; i < s->plan.nsteps; i++) {
		const struct xhp_step *st = &s->plan.steps[i];
		bool ok = st->op == XHP_STEP_UPLOAD ? xen_upload(x, &s->nodes[st->installed]) : xen_act(x, st, &hv);

		if (!ok)
			return false;
	}
	return true;
}

/* x's applied stack as "a b c" */
static const char *xen_stack(struct xen *x, char *buf, size_t sz)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < x->napplied; i++) {
		strncat(buf, i ? " " : "", sz - strlen(buf) - 1);
		strncat(buf, x->p[x->applied[i]].ident.name, sz - strlen(buf) - 1);
	}
	return buf;
}

/* The scenario's loaded entries are what x holds (an earlier converge). */
static void sc_from_xen(struct sc *s, struct xen *x)
{
	size_t i, k;

	s->nl = 0;
	for (i = 0; i < x->n; i++) {
		struct xhp_hv_entry *e = &s->loaded[s->nl++];

		memset(e, 0, sizeof(*e));
		e->ident = x->p[i].ident;
		e->known = true;
		e->state = x->p[i].state;
		e->reverted = x->p[i].reverted;
		e->new_syms = x->p[i].syms;
		for (k = 0; k < x->napplied; k++)
			if (x->applied[k] == (int)i) {
				e->seq = (unsigned)k + 1;
				e->nodeps = xhp_strv_has(&s->indep, e->ident.name);
			}
	}
}

/* The desired stack of the plan, as "a b c" */
static const char *desired(struct sc *s, char *buf, size_t sz)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < s->plan.ndesired; i++) {
		strncat(buf, i ? " " : "", sz - strlen(buf) - 1);
		strncat(buf, s->nodes[s->plan.desired[i]].ident.name, sz - strlen(buf) - 1);
	}
	return buf;
}

/* ---- issue 10: independents -------------------------------------------- */

/* The independent stays while the chain below it goes: never REPLACE with
 * a payload that is applied (Xen does nothing and returns 0). */
static void independent_stays_when_the_chain_goes(void **state)
{
	struct sc s = { 0 };

	(void)state;
	xhp_strv_add(&s.indep, "ind");
	node(&s, "ind", 8, HV);
	loaded(&s, "cum", 9, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "ind", 8, HV, XHP_STATE_APPLIED, 2)->nodeps = true;
	assert_string_equal(plan(&s), "revert ind; revert cum; apply-nodeps ind; unload cum");
	/* the same with the chain blocked or quarantined instead of removed */
	node(&s, "cum", 9, HV)->excluded = XHP_EXCLUDED_BLOCKED;
	assert_string_equal(plan(&s), "revert ind; revert cum; apply-nodeps ind; unload cum");
	s.nodes[1].excluded = XHP_EXCLUDED_QUARANTINED;
	assert_string_equal(plan(&s), "revert ind; revert cum; apply-nodeps ind; unload cum");
	done(&s);
}

/* Only independents applied, a new chain with hooks (or hooks on the
 * independents): revert them, apply the chain, put them back. */
static void new_chain_under_independents_with_hooks(void **state)
{
	struct sc s = { 0 };

	(void)state;
	xhp_strv_add(&s.indep, "ind");
	node(&s, "ind", 8, HV)->ident.vetoing = true;
	node(&s, "a", 1, HV);
	node(&s, "b", 2, 1);
	loaded(&s, "ind", 8, HV, XHP_STATE_APPLIED, 1)->nodeps = true;
	s.loaded[0].ident.vetoing = true;
	assert_string_equal(plan(&s), "upload a; upload b; revert ind; apply a; apply b; apply-nodeps ind");
	assert_false(s.plan.refused);
	s.nodes[0].ident.vetoing = s.loaded[0].ident.vetoing = false;
	s.nodes[1].ident.vetoing = true;
	assert_string_equal(plan(&s), "upload a; upload b; revert ind; apply a; apply b; apply-nodeps ind");
	done(&s);
}

/* D's bottom is applied as an independent: it comes off first, then
 * REPLACE with it (never REPLACE with an applied payload). */
static void bottom_that_is_applied_comes_off_before_replace(void **state)
{
	struct sc s = { 0 };

	(void)state;
	node(&s, "i", 8, HV);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "i", 8, HV, XHP_STATE_APPLIED, 2)->nodeps = true;
	assert_string_equal(plan(&s), "revert i; replace i; unload a");
	/* unsafe to apply again: unloaded and uploaded between */
	s.nodes[0].ident.safe_to_reapply = s.loaded[1].ident.safe_to_reapply = false;
	assert_string_equal(plan(&s), "revert i; unload i; upload i; replace i; unload a");
	done(&s);
}

/* A vetoing independent blocks REPLACE only while it is applied: it comes
 * off first. */
static void vetoing_independent_comes_off_before_replace(void **state)
{
	struct sc s = { 0 };

	(void)state;
	xhp_strv_add(&s.indep, "i");
	node(&s, "cum", 9, HV);
	node(&s, "i", 8, HV)->ident.vetoing = true;
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "i", 8, HV, XHP_STATE_APPLIED, 2)->nodeps = true;
	s.loaded[1].ident.vetoing = true;
	assert_string_equal(plan(&s), "upload cum; revert i; replace cum; apply-nodeps i; unload a");
	done(&s);
}

enum chain_case { CH_PRESENT, CH_NEW, CH_NONE, CH_CHANGED, CH_REMOVED, CH_BLOCKED, CH_QUARANTINED, CH_N };
enum indep_case { IN_0, IN_1, IN_2, IN_ONE_REMOVED, IN_N };
enum hook_case { HK_NONE, HK_CHAIN, HK_INDEPENDENT, HK_N };

static void matrix_before(struct sc *s, struct xen *x, enum chain_case ch, enum indep_case in, enum hook_case hk)
{
	struct sc before = { 0 };
	bool chain_applied = ch != CH_NEW && ch != CH_NONE;
	size_t i;

	memset(x, 0, sizeof(*x));
	xhp_strv_add(&before.indep, "i1");
	xhp_strv_add(&before.indep, "i2");
	if (chain_applied) {
		node(&before, "c1", 1, HV);
		node(&before, "c2", 2, 1);
	}
	if (in != IN_0)
		node(&before, "i1", 11, HV);
	if (in == IN_2 || in == IN_ONE_REMOVED)
		node(&before, "i2", 12, HV)->ident.safe_to_reapply = false;
	for (i = 0; i < before.nn; i++)
		before.nodes[i].ident.vetoing = (hk == HK_CHAIN && before.nodes[i].ident.name[0] == 'c') ||
						(hk == HK_INDEPENDENT && !strcmp(before.nodes[i].ident.name, "i1"));
	plan(&before);
	assert_true(xen_run(x, &before));
	xhp_strv_free(&s->indep);
	xhp_strv_add(&s->indep, "i1");
	xhp_strv_add(&s->indep, "i2");
	sc_from_xen(s, x);
	done(&before);
}

static void matrix_after(struct sc *s, enum chain_case ch, enum indep_case in, enum hook_case hk)
{
	size_t i;

	s->nn = 0;
	if (ch == CH_PRESENT || ch == CH_NEW || ch == CH_BLOCKED || ch == CH_QUARANTINED) {
		node(s, "c1", 1, HV)->excluded = ch == CH_BLOCKED ? XHP_EXCLUDED_BLOCKED
						: ch == CH_QUARANTINED ? XHP_EXCLUDED_QUARANTINED : XHP_INCLUDED;
		node(s, "c2", 2, 1);
	}
	if (ch == CH_CHANGED) {
		node(s, "cum", 9, HV);
		node(s, "top", 10, 9);
	}
	if (in != IN_0)
		node(s, "i1", 11, HV);
	if (in == IN_2)
		node(s, "i2", 12, HV)->ident.safe_to_reapply = false;
	for (i = 0; i < s->nn; i++)
		s->nodes[i].ident.vetoing = (hk == HK_CHAIN && s->nodes[i].ident.name[0] != 'i') ||
					    (hk == HK_INDEPENDENT && !strcmp(s->nodes[i].ident.name, "i1"));
}

/* Issue 10 item 2: every combination of {chain present, new, none, changed,
 * removed, blocked, quarantined} x {independents 0, 1, 2, one removed} x
 * {hooks on the chain, on an independent, none}, run against Xen's rules:
 * the plan reaches the desired stack without a step Xen refuses or ignores;
 * it is refused only where Xen allows no way without an unpatched moment
 * (the chain bottom changes and REPLACE is impossible), and then
 * replace_without_replace = allow reaches the stack too. */
static void independents_matrix(void **state)
{
	char want[256], got[256];
	int ch, in, hk, allow;

	(void)state;
	for (ch = 0; ch < CH_N; ch++)
		for (in = 0; in < IN_N; in++)
			for (hk = 0; hk < HK_N; hk++)
				for (allow = 0; allow < 2; allow++) {
					struct sc s = { 0 };
					struct xen x;
					bool must_refuse = ch == CH_CHANGED && hk == HK_CHAIN && !allow;

					matrix_before(&s, &x, ch, in, hk);
					matrix_after(&s, ch, in, hk);
					s.allow = allow;
					plan(&s);
					if (s.plan.refused != must_refuse || (!s.plan.refused && !xen_run(&x, &s)) ||
					    (!s.plan.refused && strcmp(xen_stack(&x, got, sizeof(got)),
								       desired(&s, want, sizeof(want)))))
						fail_msg("chain case %d, independents case %d, hooks case %d, allow %d: "
							 "refused %d, plan \"%s\", xen: %s, stack \"%s\", want \"%s\"",
							 ch, in, hk, allow, s.plan.refused, s.steps, x.error,
							 xen_stack(&x, got, sizeof(got)), desired(&s, want, sizeof(want)));
					done(&s);
				}
}

/* ---- issue 10 item 4: the order of payloads the record does not order -- */

static void applied_order_from_the_chain_without_records(void **state)
{
	struct sc s = { 0 };
	struct xhp_plan_input in = { .hv_id = id(HV), .hv = s.loaded };
	int out[16];

	(void)state;
	/* a lost its order number (applied late, or adopted): not the top */
	loaded(&s, "b", 2, 1, XHP_STATE_APPLIED, 2);
	loaded(&s, "c", 3, 2, XHP_STATE_APPLIED, 3);
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 0);
	in.nhv = s.nl;
	assert_int_equal(xhp_applied_order(&in, out), 3);
	assert_string_equal(s.loaded[out[0]].ident.name, "a");
	assert_string_equal(s.loaded[out[1]].ident.name, "b");
	assert_string_equal(s.loaded[out[2]].ident.name, "c");
	/* an order that breaks Xen's rule is not believed either */
	s.loaded[2].seq = 9;
	assert_int_equal(xhp_applied_order(&in, out), 3);
	assert_string_equal(s.loaded[out[0]].ident.name, "a");
	/* an independent (NODEPS) sits where its order number says */
	loaded(&s, "i", 8, HV, XHP_STATE_APPLIED, 4)->nodeps = true;
	in.nhv = s.nl;
	assert_int_equal(xhp_applied_order(&in, out), 4);
	assert_string_equal(s.loaded[out[3]].ident.name, "i");
	/* then reverting the top reverts c, not a */
	node(&s, "a", 1, HV);
	node(&s, "b", 2, 1);
	xhp_strv_add(&s.indep, "i");
	node(&s, "i", 8, HV);
	assert_string_equal(plan(&s), "revert i; revert c; apply-nodeps i; unload c");
	done(&s);
}

/* ---- issue 13 item 3, issue 10 item 10: what Xen would refuse ---------- */

static void new_symbol_clash_with_the_replaced_stack(void **state)
{
	struct sc s = { 0 };
	struct xhp_strv syms = { 0 };

	(void)state;
	xhp_strv_add(&syms, "fix_helper");
	node(&s, "v2", 9, HV)->new_syms = &syms;
	loaded(&s, "v1", 1, HV, XHP_STATE_APPLIED, 1)->new_syms = &syms;
	assert_string_equal(plan(&s), "");
	assert_true(s.plan.refused);
	assert_true(has_problem(&s, XHP_PROB_CLASH, "v2 v1"));
	assert_non_null(strstr(s.plan.problems[0].msg, "fix_helper"));
	s.allow = true;
	assert_string_equal(plan(&s), "revert v1; unload v1; upload v2; apply v2");
	/* a CHECKED leftover that clashes is unloaded before the upload */
	s.allow = false;
	s.loaded[0].state = XHP_STATE_CHECKED;
	s.loaded[0].seq = 0;
	assert_string_equal(plan(&s), "unload v1; upload v2; apply v2");
	/* the same build-id under another name */
	s.nodes[0].new_syms = NULL;
	s.nodes[0].ident.id = id(1);
	s.loaded[0].state = XHP_STATE_APPLIED;
	s.loaded[0].seq = 1;
	assert_string_equal(plan(&s), "");
	assert_true(has_problem(&s, XHP_PROB_CLASH, "v2 v1"));
	xhp_strv_free(&syms);
	done(&s);
}

static void new_symbol_clash_inside_the_installed_stack(void **state)
{
	struct sc s = { 0 };
	struct xhp_strv syms = { 0 };

	(void)state;
	xhp_strv_add(&syms, "fix_helper");
	xhp_strv_add(&s.indep, "i");
	node(&s, "a", 1, HV)->new_syms = &syms;
	node(&s, "i", 8, HV)->new_syms = &syms;
	assert_string_equal(plan(&s), "");
	assert_true(has_problem(&s, XHP_PROB_CLASH, "a i"));
	/* one of them loaded already */
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1)->new_syms = &syms;
	assert_string_equal(plan(&s), "");
	assert_true(has_problem(&s, XHP_PROB_CLASH, "i a"));
	xhp_strv_free(&syms);
	done(&s);
}

static void expectation_xen_never_accepts(void **state)
{
	struct sc s = { 0 };

	(void)state;
	/* as the new bottom that would REPLACE the applied chain: refused */
	node(&s, "cum", 9, HV)->ident.bad_expectation = -ERANGE;
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	assert_string_equal(plan(&s), "");
	assert_true(s.plan.refused);
	assert_true(has_problem(&s, XHP_PROB_REFUSED, "cum"));
	/* on top of the chain: the stack stops below it, an error */
	s.nn = 0;
	node(&s, "a", 1, HV);
	node(&s, "b", 2, 1)->ident.bad_expectation = -EINVAL;
	node(&s, "c", 3, 2);
	assert_string_equal(plan(&s), "");
	assert_false(s.plan.refused);
	assert_true(has_problem(&s, XHP_PROB_EXCLUDED, "b"));
	assert_true(has_problem(&s, XHP_PROB_ORPHAN, "c"));
	assert_true(xhp_plan_has_errors(&s.plan));
	done(&s);
}

/* ---- revert NAME -------------------------------------------------------- */

static const char *plan_revert(struct sc *s, const char *name)
{
	struct xhp_plan_input in = input(s);

	xhp_plan_free(&s->plan);
	if (xhp_plan_revert(&in, name, &s->plan) < 0)
		return "ENOENT";
	return render(s);
}

static void revert_name_plans(void **state)
{
	struct sc s = { 0 };

	(void)state;
	loaded(&s, "a", 1, HV, XHP_STATE_APPLIED, 1);
	loaded(&s, "b", 2, 1, XHP_STATE_APPLIED, 2);
	loaded(&s, "c", 3, 2, XHP_STATE_APPLIED, 3);
	assert_string_equal(plan_revert(&s, "b"), "revert c; revert b; unload c; unload b");
	assert_string_equal(plan_revert(&s, "nosuch"), "ENOENT");
	/* an earlier revert b stopped after reverting c: c goes too (issue 10 item 6) */
	s.loaded[2].state = XHP_STATE_CHECKED;
	s.loaded[2].reverted = true;
	assert_string_equal(plan_revert(&s, "b"), "revert b; unload b; unload c");
	/* ... and after reverting b as well */
	s.loaded[1].state = XHP_STATE_CHECKED;
	assert_string_equal(plan_revert(&s, "b"), "unload b; unload c");
	done(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chain_sorted_against_names),
		cmocka_unit_test(nothing_to_do),
		cmocka_unit_test(cumulative_replaces_stack),
		cmocka_unit_test(stack_on_cumulative),
		cmocka_unit_test(remove_top),
		cmocka_unit_test(remove_middle),
		cmocka_unit_test(branch_with_versions),
		cmocka_unit_test(branch_without_versions),
		cmocka_unit_test(branch_keeps_applied_member),
		cmocka_unit_test(orphan),
		cmocka_unit_test(cycle),
		cmocka_unit_test(independent_on_top),
		cmocka_unit_test(independent_taken_off_and_put_back),
		cmocka_unit_test(blocked_payload),
		cmocka_unit_test(foreign_applied_blocks_change),
		cmocka_unit_test(foreign_checked_left_alone),
		cmocka_unit_test(replace_refused_for_hooks),
		cmocka_unit_test(unsafe_reapply_reloads),
		cmocka_unit_test(unsafe_reverted_in_plan_reloads),
		cmocka_unit_test(duplicate_build_id),
		cmocka_unit_test(content_changed_same_name),
		cmocka_unit_test(leftover_checked_unloaded),
		cmocka_unit_test(applied_order_follows_seq),
		cmocka_unit_test(independent_stays_when_the_chain_goes),
		cmocka_unit_test(new_chain_under_independents_with_hooks),
		cmocka_unit_test(bottom_that_is_applied_comes_off_before_replace),
		cmocka_unit_test(vetoing_independent_comes_off_before_replace),
		cmocka_unit_test(independents_matrix),
		cmocka_unit_test(applied_order_from_the_chain_without_records),
		cmocka_unit_test(new_symbol_clash_with_the_replaced_stack),
		cmocka_unit_test(new_symbol_clash_inside_the_installed_stack),
		cmocka_unit_test(expectation_xen_never_accepts),
		cmocka_unit_test(revert_name_plans),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
