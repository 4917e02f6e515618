/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ordering model (DESIGN.md section 3), as a pure function.
 *
 *  1. Desired stack D: walk the build-id chain up from the hypervisor H over
 *     the eligible payloads; a branch is resolved by .modinfo version= (the
 *     higher wins) or stops the stack below it; then the independent payloads
 *     (NODEPS) on top. Orphans and cycles are reported with their names.
 *  2. Current stack A: the applied payloads, bottom first.
 *  3. Steps: upload what D lacks (Xen validates before anything changes);
 *     if the bottoms differ, REPLACE with D's bottom (no unpatched window)
 *     or, only when policy allows, revert all then apply; otherwise revert A
 *     above the common prefix, top first; apply the rest of D bottom first;
 *     unload whatever of ours is loaded and not in D.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "backend.h"
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
	};
	return names[k];
}

static void __attribute__((format(printf, 5, 6)))
problem(struct xhp_plan *p, enum xhp_problem_kind kind, bool error, const char *names,
	const char *fmt, ...)
{
	struct xhp_problem *pr;
	va_list ap;

	p->problems = xhp_realloc(p->problems, (p->nproblems + 1) * sizeof(*p->problems));
	pr = &p->problems[p->nproblems++];
	pr->kind = kind;
	pr->error = error;
	pr->names = xhp_strdup(names);
	va_start(ap, fmt);
	if (vasprintf(&pr->msg, fmt, ap) < 0)
		abort();
	va_end(ap);
}

static void add_step(struct xhp_plan *p, enum xhp_step_op op, const char *name, int node)
{
	p->steps = xhp_realloc(p->steps, (p->nsteps + 1) * sizeof(*p->steps));
	p->steps[p->nsteps++] = (struct xhp_step){ .op = op, .name = xhp_strdup(name), .node = node };
}

void xhp_plan_free(struct xhp_plan *p)
{
	size_t i;

	for (i = 0; i < p->nproblems; i++) {
		free(p->problems[i].names);
		free(p->problems[i].msg);
	}
	free(p->problems);
	for (i = 0; i < p->nsteps; i++)
		free(p->steps[i].name);
	free(p->steps);
	free(p->desired);
	free(p->applied);
	memset(p, 0, sizeof(*p));
}

/* Compare two version= strings numerically where they are numbers
 * ("10" > "9"), as dpkg/rpm would for simple versions. */
static int version_cmp(const char *a, const char *b)
{
	return strverscmp(a, b);
}

static char *hex(const struct xhp_build_id *id, char *buf)
{
	return xhp_build_id_hex(id, buf, XHP_BUILD_ID_HEX_SIZE);
}

/* ---- step 1: the desired stack ---------------------------------------- */

enum { N_FREE, N_CHAIN, N_OUT };

static bool is_independent(const struct xhp_plan_input *in, const struct xhp_pnode *n)
{
	return in->independent && xhp_strv_has(in->independent, n->name);
}

static void desire(struct xhp_plan *p, int node)
{
	p->desired = xhp_realloc(p->desired, (p->ndesired + 1) * sizeof(int));
	p->desired[p->ndesired++] = node;
}

/* Is node d loaded in the hypervisor (ours, same name and build-id)? */
static bool node_loaded(const struct xhp_plan_input *in, const struct xhp_pnode *d)
{
	size_t k;

	for (k = 0; k < in->nloaded; k++)
		if (in->loaded[k].ours && !strcmp(in->loaded[k].name, d->name) &&
		    xhp_build_id_eq(&in->loaded[k].id, &d->id))
			return true;
	return false;
}

/* The payload left out on purpose (blocked, quarantined, not proven) that
 * a's chain goes through, or NULL. */
static const struct xhp_pnode *excluded_below(const struct xhp_plan_input *in,
					      const struct xhp_pnode *a)
{
	size_t steps, k;

	for (steps = 0; steps < in->nnodes; steps++) {
		const struct xhp_pnode *parent = NULL;

		for (k = 0; k < in->nnodes; k++)
			if (xhp_build_id_eq(&in->nodes[k].id, &a->depends))
				parent = &in->nodes[k];
		if (!parent || parent == a)
			return NULL;
		if (parent->excluded)
			return parent;
		a = parent;
	}
	return NULL;
}

/* Among the free payloads stacked on cur, the one that is applied now (the
 * same name and build-id), if exactly one is. */
static int applied_kid(const struct xhp_plan_input *in, const int *mark,
		       const struct xhp_build_id *cur)
{
	size_t i, j;
	int found = -1;

	for (i = 0; i < in->nnodes; i++) {
		if (mark[i] != N_FREE || !xhp_build_id_eq(&in->nodes[i].depends, cur))
			continue;
		for (j = 0; j < in->nloaded; j++)
			if (in->loaded[j].ours && in->loaded[j].state == XHP_STATE_APPLIED &&
			    !strcmp(in->loaded[j].name, in->nodes[i].name) &&
			    xhp_build_id_eq(&in->loaded[j].id, &in->nodes[i].id)) {
				if (found >= 0)
					return -1;
				found = (int)i;
			}
	}
	return found;
}

static void build_desired(const struct xhp_plan_input *in, struct xhp_plan *p)
{
	size_t n = in->nnodes, i, j;
	int *mark = xhp_calloc(n ? n : 1, sizeof(int));
	struct xhp_build_id cur = in->hv;
	char h1[XHP_BUILD_ID_HEX_SIZE];

	/* excluded payloads and duplicates of an earlier build-id leave the game */
	for (i = 0; i < n; i++) {
		const struct xhp_pnode *a = &in->nodes[i];

		if (a->excluded) {
			mark[i] = N_OUT;
			problem(p, XHP_PROB_EXCLUDED, false, a->name, "%s: %s", a->name, a->excluded);
			continue;
		}
		for (j = 0; j < i; j++) {
			if (mark[j] != N_OUT && xhp_build_id_eq(&a->id, &in->nodes[j].id)) {
				/* the first by name is used, unless the other one is the
				 * one loaded (Xen refuses a second payload of one build-id) */
				size_t keep = j, drop = i;
				_cleanup_free_ char *names = NULL;

				if (node_loaded(in, a) && !node_loaded(in, &in->nodes[j])) {
					keep = i;
					drop = j;
				}
				names = xhp_asprintf("%s %s", in->nodes[keep].name, in->nodes[drop].name);
				mark[drop] = N_OUT;
				problem(p, XHP_PROB_DUPLICATE, true, names,
					"%s and %s have the same build-id %s: only %s is used",
					in->nodes[keep].name, in->nodes[drop].name, hex(&a->id, h1),
					in->nodes[keep].name);
				break;
			}
		}
	}
	/* independents: on the hypervisor, applied with NODEPS on top */
	for (i = 0; i < n; i++) {
		if (mark[i] == N_OUT || !is_independent(in, &in->nodes[i]))
			continue;
		mark[i] = N_OUT; /* not part of the chain walk */
		if (!xhp_build_id_eq(&in->nodes[i].depends, &in->hv))
			problem(p, XHP_PROB_INDEPENDENT, true, in->nodes[i].name,
				"%s: listed as independent but it does not depend on the hypervisor",
				in->nodes[i].name);
	}

	/* walk the chain up from the hypervisor */
	for (;;) {
		int best = -1, nkids = 0;
		bool versions = true, tie = false;
		struct xhp_strv kids = { 0 };

		for (i = 0; i < n; i++) {
			const struct xhp_pnode *a = &in->nodes[i];

			if (mark[i] != N_FREE || !xhp_build_id_eq(&a->depends, &cur))
				continue;
			nkids++;
			xhp_strv_add(&kids, a->name);
			if (!a->version)
				versions = false;
			if (best < 0) {
				best = (int)i;
			} else if (a->version && in->nodes[best].version) {
				int c = version_cmp(a->version, in->nodes[best].version);

				if (c > 0) {
					best = (int)i;
					tie = false;
				} else if (c == 0) {
					tie = true;
				}
			}
		}
		if (nkids == 0) {
			xhp_strv_free(&kids);
			break;
		}
		if (nkids > 1 && (!versions || tie)) {
			_cleanup_free_ char *names = NULL;
			size_t len = 0;

			for (i = 0; i < kids.n; i++)
				len += strlen(kids.v[i]) + 1;
			names = xhp_calloc(len + 1, 1);
			for (i = 0; i < kids.n; i++) {
				if (i)
					strcat(names, " ");
				strcat(names, kids.v[i]);
			}
			int keep = applied_kid(in, mark, &cur);

			if (keep >= 0) {
				/* a new, ambiguous sibling never takes an applied fix off */
				problem(p, XHP_PROB_BRANCH, true, names,
					"branch: %s all stack on %s; keeping %s, which is applied; give "
					"them distinct .modinfo version= or remove all but one",
					names, p->ndesired ? in->nodes[p->desired[p->ndesired - 1]].name
							   : "the hypervisor", in->nodes[keep].name);
				for (i = 0; i < n; i++)
					if ((int)i != keep && mark[i] == N_FREE &&
					    xhp_build_id_eq(&in->nodes[i].depends, &cur))
						mark[i] = N_OUT;
				xhp_strv_free(&kids);
				mark[keep] = N_CHAIN;
				desire(p, keep);
				cur = in->nodes[keep].id;
				continue;
			}
			problem(p, XHP_PROB_BRANCH, true, names,
				"branch: %s all stack on %s; give them distinct .modinfo version= "
				"or remove all but one (the stack stops below them)",
				names, p->ndesired ? in->nodes[p->desired[p->ndesired - 1]].name
						   : "the hypervisor");
			for (i = 0; i < n; i++)
				if (mark[i] == N_FREE && xhp_build_id_eq(&in->nodes[i].depends, &cur))
					mark[i] = N_OUT;
			xhp_strv_free(&kids);
			break;
		}
		for (i = 0; i < n; i++) {
			if ((int)i == best || mark[i] != N_FREE ||
			    !xhp_build_id_eq(&in->nodes[i].depends, &cur))
				continue;
			mark[i] = N_OUT;
			problem(p, XHP_PROB_SUPERSEDED, false, in->nodes[i].name,
				"%s (version=%s) is superseded by %s (version=%s)",
				in->nodes[i].name, in->nodes[i].version,
				in->nodes[best].name, in->nodes[best].version);
		}
		xhp_strv_free(&kids);
		mark[best] = N_CHAIN;
		desire(p, best);
		cur = in->nodes[best].id;
	}

	/* what is left free is an orphan or part of a cycle */
	for (i = 0; i < n; i++) {
		size_t steps = 0, k;
		int at = (int)i;
		bool cycle = false;

		if (mark[i] != N_FREE)
			continue;
		/* follow parents while they are free payloads */
		for (;;) {
			int parent = -1;

			for (k = 0; k < n; k++)
				if (k != (size_t)at && xhp_build_id_eq(&in->nodes[k].id, &in->nodes[at].depends))
					parent = (int)k;
			if (xhp_build_id_eq(&in->nodes[at].id, &in->nodes[at].depends)) {
				cycle = true; /* depends on itself */
				break;
			}
			if (parent < 0 || mark[parent] != N_FREE)
				break;
			at = parent;
			if (at == (int)i || ++steps > n) {
				cycle = true;
				break;
			}
		}
		if (cycle) {
			/* collect the members: walk again from at until we return */
			_cleanup_free_ char *names = xhp_strdup(in->nodes[at].name);
			int start = at;

			mark[start] = N_OUT;
			for (steps = 0; steps <= n; steps++) {
				int parent = -1;

				for (k = 0; k < n; k++)
					if (xhp_build_id_eq(&in->nodes[k].id, &in->nodes[at].depends))
						parent = (int)k;
				if (parent < 0 || parent == start)
					break;
				at = parent;
				mark[at] = N_OUT;
				char *nn = xhp_asprintf("%s %s", names, in->nodes[at].name);
				free(names);
				names = nn;
			}
			problem(p, XHP_PROB_CYCLE, true, names,
				"cycle: %s depend on each other and never reach the hypervisor", names);
		}
	}
	for (i = 0; i < n; i++) {
		const struct xhp_pnode *a = &in->nodes[i], *x;
		int parent = -1;
		size_t k;

		if (mark[i] != N_FREE)
			continue;
		mark[i] = N_OUT;
		for (k = 0; k < n; k++)
			if (xhp_build_id_eq(&in->nodes[k].id, &a->depends))
				parent = (int)k;
		if (parent >= 0 && (x = excluded_below(in, a)))
			/* it waits for a payload left out on purpose: no error */
			problem(p, XHP_PROB_ORPHAN, false, a->name,
				"%s stacks on %s, which is left out (%s: %s)", a->name,
				in->nodes[parent].name, x->name, x->excluded);
		else if (parent >= 0)
			problem(p, XHP_PROB_ORPHAN, true, a->name,
				"%s stacks on %s, which is not in the stack", a->name,
				in->nodes[parent].name);
		else
			problem(p, XHP_PROB_ORPHAN, true, a->name,
				"%s is an orphan: it stacks on build-id %s, which no installed payload has",
				a->name, hex(&a->depends, h1));
	}

	/* independents go on top, in policy order */
	if (in->independent) {
		for (j = 0; j < in->independent->n; j++)
			for (i = 0; i < n; i++)
				if (!in->nodes[i].excluded && !strcmp(in->nodes[i].name, in->independent->v[j]) &&
				    xhp_build_id_eq(&in->nodes[i].depends, &in->hv)) {
					bool dup = false;
					size_t d;

					for (d = 0; d < p->ndesired; d++)
						if (xhp_build_id_eq(&in->nodes[p->desired[d]].id, &in->nodes[i].id))
							dup = true;
					if (!dup)
						desire(p, (int)i);
					break;
				}
	}
	free(mark);
}

/* ---- step 2: the current stack ------------------------------------------ */

size_t xhp_applied_order(const struct xhp_build_id *hv, const struct xhp_hvent *loaded,
			 size_t nloaded, int *out)
{
	size_t i, n = 0, k;
	bool *placed = xhp_calloc(nloaded ? nloaded : 1, sizeof(bool));
	struct xhp_build_id cur = *hv;

	/* known order first (seq), then the rest by build-id chain, then LIST order */
	for (;;) {
		int best = -1;

		for (i = 0; i < nloaded; i++)
			if (!placed[i] && loaded[i].state == XHP_STATE_APPLIED && loaded[i].seq &&
			    (best < 0 || loaded[i].seq < loaded[best].seq))
				best = (int)i;
		if (best < 0)
			break;
		placed[best] = true;
		out[n++] = best;
		if (loaded[best].ours)
			cur = loaded[best].id;
	}
	for (k = 0; k < nloaded; k++) {
		int next = -1;

		for (i = 0; i < nloaded; i++)
			if (!placed[i] && loaded[i].state == XHP_STATE_APPLIED && loaded[i].ours &&
			    xhp_build_id_eq(&loaded[i].depends, &cur)) {
				next = (int)i;
				break;
			}
		if (next < 0)
			break;
		placed[next] = true;
		out[n++] = next;
		cur = loaded[next].id;
	}
	for (i = 0; i < nloaded; i++)
		if (!placed[i] && loaded[i].state == XHP_STATE_APPLIED) {
			placed[i] = true;
			out[n++] = (int)i;
		}
	free(placed);
	return n;
}

/* Is loaded entry e the same payload as node d? */
static bool same(const struct xhp_hvent *e, const struct xhp_pnode *d)
{
	return e->ours && !strcmp(e->name, d->name) && xhp_build_id_eq(&e->id, &d->id);
}

static int find_loaded(const struct xhp_plan_input *in, const char *name)
{
	size_t i;

	for (i = 0; i < in->nloaded; i++)
		if (!strcmp(in->loaded[i].name, name))
			return (int)i;
	return -1;
}

/* ---- step 3: the steps ------------------------------------------------- */

int xhp_plan_make(const struct xhp_plan_input *in, struct xhp_plan *p)
{
	size_t i, j, prefix = 0;
	bool *in_d_loaded, *reverted, *uploaded;
	bool replace = false, revert_all = false;
	char h1[XHP_BUILD_ID_HEX_SIZE], h2[XHP_BUILD_ID_HEX_SIZE];

	memset(p, 0, sizeof(*p));
	build_desired(in, p);

	p->applied = xhp_calloc(in->nloaded ? in->nloaded : 1, sizeof(int));
	p->napplied = xhp_applied_order(&in->hv, in->loaded, in->nloaded, p->applied);

	in_d_loaded = xhp_calloc(in->nloaded + 1, sizeof(bool));
	reverted = xhp_calloc(in->nloaded + 1, sizeof(bool)); /* reverted by this plan */
	uploaded = xhp_calloc(in->nnodes + 1, sizeof(bool));

	/* foreign payloads: reported; an applied one blocks any change below */
	bool foreign_applied = false;
	for (i = 0; i < in->nloaded; i++) {
		const struct xhp_hvent *e = &in->loaded[i];

		if (e->ours)
			continue;
		if (e->state == XHP_STATE_APPLIED)
			foreign_applied = true;
		problem(p, XHP_PROB_FOREIGN, e->state == XHP_STATE_APPLIED, e->name,
			"%s is loaded (%s) but was not loaded by xen-hotpatch: left alone",
			e->name, xhp_state_name(e->state));
	}

	/* common prefix of A and D */
	while (prefix < p->napplied && prefix < p->ndesired &&
	       same(&in->loaded[p->applied[prefix]], &in->nodes[p->desired[prefix]]))
		prefix++;

	/* foreign payloads applied on top of ours are left alone: when the stack
	 * below them is the desired one, nothing is to change */
	size_t nours = p->napplied;

	while (nours > 0 && !in->loaded[p->applied[nours - 1]].ours)
		nours--;
	bool change = !(prefix == nours && prefix == p->ndesired);

	if (change && foreign_applied) {
		for (i = 0; i < in->nloaded; i++)
			if (!in->loaded[i].ours && in->loaded[i].state == XHP_STATE_APPLIED) {
				problem(p, XHP_PROB_REFUSED, true, in->loaded[i].name,
					"%s is applied but not known to xen-hotpatch, so the stack "
					"cannot be changed safely: revert it first (xen-hotpatch revert %s)",
					in->loaded[i].name, in->loaded[i].name);
				break;
			}
		p->refused = true;
		goto out;
	}

	/* same name, other content: the loaded one must go before the new one can
	 * be uploaded, which for an applied payload means an unpatched window */
	for (i = 0; i < p->ndesired; i++) {
		const struct xhp_pnode *d = &in->nodes[p->desired[i]];
		int li = find_loaded(in, d->name);

		if (li < 0 || !in->loaded[li].ours || same(&in->loaded[li], d))
			continue;
		if (in->loaded[li].state == XHP_STATE_APPLIED && !in->replace_allow) {
			problem(p, XHP_PROB_CONTENT, true, d->name,
				"%s: the file's build-id is %s but the applied payload of that name is %s; "
				"a new payload needs a new file name (or replace_without_replace = allow)",
				d->name, hex(&d->id, h1), hex(&in->loaded[li].id, h2));
			p->refused = true;
		}
	}
	if (p->refused)
		goto out;

	/* how to get from A to D */
	if (change && p->napplied && p->ndesired && prefix == 0) {
		const struct xhp_pnode *bottom = &in->nodes[p->desired[0]];
		int li = find_loaded(in, bottom->name);
		const char *why = NULL;
		_cleanup_free_ char *whybuf = NULL;

		if (!xhp_build_id_eq(&bottom->depends, &in->hv))
			why = "it does not depend on the hypervisor";
		else if (bottom->vetoing)
			why = "it has pre/post hooks";
		else if (li >= 0 && !same(&in->loaded[li], bottom))
			why = "a different payload of the same name is loaded";
		for (i = 0; !why && i < p->napplied; i++)
			if (in->loaded[p->applied[i]].vetoing) {
				whybuf = xhp_asprintf("applied payload %s has pre/post hooks",
						      in->loaded[p->applied[i]].name);
				why = whybuf;
			}
		if (!why) {
			replace = true;
		} else if (in->replace_allow) {
			revert_all = true;
		} else {
			problem(p, XHP_PROB_REFUSED, true, bottom->name,
				"cannot REPLACE the applied stack with %s (%s); reverting first would "
				"leave the hypervisor unpatched (replace_without_replace = allow accepts that)",
				bottom->name, why);
			p->refused = true;
			goto out;
		}
	}

	/* 1. uploads, bottom first: Xen validates each before anything changes */
	for (i = 0; i < p->ndesired; i++) {
		int ni = p->desired[i];
		const struct xhp_pnode *d = &in->nodes[ni];
		int li = find_loaded(in, d->name);

		if (li >= 0 && same(&in->loaded[li], d)) {
			in_d_loaded[li] = true;
			/* a reverted CHECKED payload Xen refuses to reapply: reload it */
			if (in->loaded[li].state == XHP_STATE_CHECKED && in->loaded[li].reverted &&
			    !d->safe_to_reapply) {
				add_step(p, XHP_STEP_UNLOAD, d->name, -1);
				add_step(p, XHP_STEP_UPLOAD, d->name, ni);
				uploaded[ni] = true;
			}
			continue;
		}
		if (li >= 0 && in->loaded[li].state == XHP_STATE_APPLIED)
			continue; /* same name, other content: uploaded after its revert */
		if (li >= 0 && in->loaded[li].ours)
			add_step(p, XHP_STEP_UNLOAD, d->name, -1);
		add_step(p, XHP_STEP_UPLOAD, d->name, ni);
		uploaded[ni] = true;
	}

	/* 2. take off what must go */
	if (replace) {
		add_step(p, XHP_STEP_REPLACE, in->nodes[p->desired[0]].name, p->desired[0]);
		for (i = 0; i < p->napplied; i++)
			reverted[p->applied[i]] = true;
		prefix = 1;
	} else if (change) {
		size_t from = revert_all ? 0 : prefix;

		for (i = p->napplied; i > from; i--) {
			add_step(p, XHP_STEP_REVERT, in->loaded[p->applied[i - 1]].name, -1);
			reverted[p->applied[i - 1]] = true;
		}
		if (revert_all)
			prefix = 0;
	}

	/* 3. apply the rest of D, bottom first */
	for (i = change ? prefix : p->ndesired; i < p->ndesired; i++) {
		int ni = p->desired[i];
		const struct xhp_pnode *d = &in->nodes[ni];
		int li = find_loaded(in, d->name);
		bool indep = is_independent(in, d);

		if (!uploaded[ni] && li >= 0) {
			bool was_reverted = reverted[li] || (in->loaded[li].reverted &&
					    in->loaded[li].state == XHP_STATE_CHECKED);

			if (!same(&in->loaded[li], d)) {
				/* other content under this name: gone only now */
				add_step(p, XHP_STEP_UNLOAD, d->name, -1);
				add_step(p, XHP_STEP_UPLOAD, d->name, ni);
			} else if (was_reverted && !d->safe_to_reapply) {
				add_step(p, XHP_STEP_UNLOAD, d->name, -1);
				add_step(p, XHP_STEP_UPLOAD, d->name, ni);
			}
		}
		if (replace && i == 0)
			continue;
		add_step(p, indep ? XHP_STEP_APPLY_NODEPS : XHP_STEP_APPLY, d->name, ni);
	}

	/* 4. unload what of ours is loaded and not wanted */
	for (i = 0; i < in->nloaded; i++) {
		const struct xhp_hvent *e = &in->loaded[i];
		bool wanted = false;

		if (!e->ours || in_d_loaded[i])
			continue;
		for (j = 0; j < p->ndesired; j++)
			if (!strcmp(in->nodes[p->desired[j]].name, e->name))
				wanted = true; /* replaced by new content of that name above */
		if (wanted && e->state == XHP_STATE_CHECKED)
			continue; /* unloaded before its re-upload (step 1) */
		if (wanted)
			continue; /* unloaded after its revert (step 3) */
		add_step(p, XHP_STEP_UNLOAD, e->name, -1);
	}
out:
	if (p->refused) {
		for (i = 0; i < p->nsteps; i++)
			free(p->steps[i].name);
		free(p->steps);
		p->steps = NULL;
		p->nsteps = 0;
	}
	free(in_d_loaded);
	free(reverted);
	free(uploaded);
	return 0;
}
