/* SPDX-License-Identifier: GPL-2.0-only */
/* The planner as a pure function: inputs built in memory, steps asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

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

/* Plan and render the steps as "op name; op name; ..." */
static const char *plan(struct sc *s)
{
	struct xhp_plan_input in = {
		.hv_id = id(HV), .installed = s->nodes, .ninstalled = s->nn, .hv = s->loaded,
		.nhv = s->nl, .independent = &s->indep, .replace_allow = s->allow,
	};
	size_t i;

	xhp_plan_free(&s->plan);
	xhp_plan_make(&in, &s->plan);
	s->steps[0] = '\0';
	for (i = 0; i < s->plan.nsteps; i++) {
		char one[160];

		snprintf(one, sizeof(one), "%s%s %s", i ? "; " : "", xhp_step_op_name(s->plan.steps[i].op),
			 s->plan.steps[i].name);
		strncat(s->steps, one, sizeof(s->steps) - strlen(s->steps) - 1);
	}
	return s->steps;
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
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
