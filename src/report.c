/* SPDX-License-Identifier: GPL-2.0-only */
/* The JSON documents of the CLI and the Python bindings (report.h). */
#include <errno.h>
#include <libgen.h>
#include <string.h>

#include "explain.h"
#include "inventory.h"
#include "report.h"
#include "util.h"

char *xhp_payload_name_of(const char *path)
{
	_cleanup_free_ char *p = xhp_strdup(path);
	const char *b = basename(p);
	char *stem = xhp_payload_stem(b);

	return stem ? stem : xhp_strdup(b);
}

const char *xhp_payload_stacks_on(const struct xhp_payload *pl)
{
	return xhp_build_id_eq(&pl->depends, &pl->xen_depends) ? "hypervisor" : "payload";
}

/* A JSON string of untrusted bytes: valid UTF-8 always (json-c escapes the
 * control characters itself). */
static json_object *jesc(const char *s)
{
	_cleanup_free_ char *e = xhp_escape_json(s);

	return json_object_new_string(e ? e : "");
}

static json_object *funcs_json(const struct xhp_payload *pl)
{
	json_object *funcs = json_object_new_array();
	size_t i;

	for (i = 0; i < pl->nfuncs; i++) {
		const struct xhp_func *f = &pl->funcs[i];
		json_object *fo = json_object_new_object();

		json_object_object_add(fo, "name", f->name ? jesc(f->name) : NULL);
		json_object_object_add(fo, "old_size", json_object_new_int64(f->old_size));
		json_object_object_add(fo, "new_size", json_object_new_int64(f->new_size));
		json_object_object_add(fo, "nop", json_object_new_boolean(!f->has_new));
		json_object_object_add(fo, "expect", json_object_new_boolean(f->expect_enabled));
		if (f->expect_enabled)
			json_object_object_add(fo, "expect_len", json_object_new_int(f->expect_len));
		json_object_array_add(funcs, fo);
	}
	return funcs;
}

json_object *xhp_report_payload(const char *path, const struct xhp_payload *pl)
{
	json_object *o = json_object_new_object(), *hooks = json_object_new_array(),
		    *mi = json_object_new_object();
	char hex[XHP_BUILD_ID_HEX_SIZE];
	_cleanup_free_ char *stem = xhp_payload_name_of(path);
	size_t i;

	json_object_object_add(o, "file", jesc(path));
	json_object_object_add(o, "name", jesc(stem));
	json_object_object_add(o, "build_id", json_object_new_string(xhp_build_id_hex(&pl->id, hex, sizeof(hex))));
	json_object_object_add(o, "depends", json_object_new_string(xhp_build_id_hex(&pl->depends, hex, sizeof(hex))));
	json_object_object_add(o, "xen_depends",
			       json_object_new_string(xhp_build_id_hex(&pl->xen_depends, hex, sizeof(hex))));
	json_object_object_add(o, "stacks_on", json_object_new_string(xhp_payload_stacks_on(pl)));
	json_object_object_add(o, "funcs", funcs_json(pl));
	for (i = 0; i < XHP_HOOK_COUNT; i++)
		if (pl->hooks_present & (1u << i))
			json_object_array_add(hooks, json_object_new_string(xhp_hook_label[i]));
	json_object_object_add(o, "hooks", hooks);
	json_object_object_add(o, "vetoing_hooks",
			       json_object_new_boolean((pl->hooks_enabled & XHP_HOOKS_VETOING) != 0));
	for (i = 0; i < pl->nmodinfo; i++) {
		_cleanup_free_ char *k = xhp_escape_json(pl->modinfo[i].key);

		json_object_object_add(mi, k, jesc(pl->modinfo[i].value ? pl->modinfo[i].value : ""));
	}
	json_object_object_add(o, "modinfo", mi);
	json_object_object_add(o, "safe_to_reapply", json_object_new_boolean(pl->safe_to_reapply));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)pl->size));
	return o;
}

/* ---- the status of a host ------------------------------------------------ */

static bool in_flight(const struct xhp_host_status *st)
{
	size_t i;

	for (i = 0; i < st->v.nhv; i++)
		if (st->v.hv[i].rc == -EAGAIN)
			return true;
	return false;
}

void xhp_host_status_build(struct xhp_session *s, struct xhp_host_status *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	xhp_view_build(s, XHP_MODE_APPLY, &st->v);
	xhp_guard_list(&s->guard, XHP_GUARD_QUARANTINE, &st->quarantined, &st->nquarantined);
	xhp_guard_list(&s->guard, XHP_GUARD_ATTEMPT, &st->attempts, &st->nattempts);
	st->in_sync = s->inv_ok && !st->v.plan.nsteps && !st->v.plan.refused && !s->inv.nproblems &&
		      !st->nquarantined && !in_flight(st);
	for (i = 0; i < st->v.plan.nproblems; i++)
		if (st->v.plan.problems[i].error)
			st->in_sync = false;
}

void xhp_host_status_free(struct xhp_host_status *st)
{
	xhp_view_free(&st->v);
	free(st->quarantined);
	free(st->attempts);
}

bool xhp_host_status_wants(const struct xhp_host_status *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->v.plan.ndesired; i++)
		if (!strcmp(st->v.installed[st->v.plan.desired[i]].ident.name, name))
			return true;
	return false;
}

/* The problem that names installed payload i, other than a foreign one. */
static const struct xhp_problem *problem_of(const struct xhp_host_status *st, size_t i)
{
	size_t k;

	for (k = 0; k < st->v.plan.nproblems; k++) {
		const struct xhp_problem *q = &st->v.plan.problems[k];

		if (q->kind != XHP_PROB_FOREIGN && xhp_strv_has(&q->names, st->v.installed[i].ident.name))
			return q;
	}
	return NULL;
}

const char *xhp_host_status_why(const struct xhp_host_status *st, size_t i)
{
	const struct xhp_installed *n = &st->v.installed[i];
	const struct xhp_problem *q;

	if (n->excluded)
		return n->excluded_why;
	if ((q = problem_of(st, i)))
		return q->msg;
	return xhp_host_status_wants(st, n->ident.name) ? "pending: run `xen-hotpatch apply`" : "not in the stack";
}

bool xhp_host_status_applies(const struct xhp_host_status *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->v.plan.napplied; i++)
		if (!strcmp(st->v.hv[st->v.plan.applied[i]].ident.name, name))
			return true;
	return false;
}

static json_object *applied_json(const struct xhp_host_status *st)
{
	json_object *a = json_object_new_array();
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	for (i = 0; i < st->v.plan.napplied; i++) {
		const struct xhp_hv_entry *e = &st->v.hv[st->v.plan.applied[i]];
		json_object *x = json_object_new_object();

		json_object_object_add(x, "name", jesc(e->ident.name));
		json_object_object_add(x, "build_id", e->known ? jesc(xhp_build_id_hex(&e->ident.id, hex, sizeof(hex))) : NULL);
		json_object_object_add(x, "depends",
				       e->known ? jesc(xhp_build_id_hex(&e->ident.depends, hex, sizeof(hex))) : NULL);
		json_object_object_add(x, "rc", json_object_new_int(e->rc));
		json_object_object_add(x, "origin", jesc(e->known ? "xen-hotpatch" : "foreign"));
		json_object_object_add(x, "installed", json_object_new_boolean(xhp_host_status_wants(st, e->ident.name)));
		json_object_array_add(a, x);
	}
	return a;
}

static json_object *loaded_json(const struct xhp_host_status *st)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < st->v.nhv; i++) {
		const struct xhp_hv_entry *e = &st->v.hv[i];
		json_object *x;

		if (e->state == XHP_STATE_APPLIED)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "name", jesc(e->ident.name));
		json_object_object_add(x, "state", jesc(xhp_state_name(e->state)));
		json_object_object_add(x, "rc", json_object_new_int(e->rc));
		json_object_object_add(x, "origin", jesc(e->known ? "xen-hotpatch" : "foreign"));
		json_object_array_add(a, x);
	}
	return a;
}

/* Installed and not applied: blocked by policy, or pending (with why). */
static void installed_json(const struct xhp_host_status *st, json_object *pending, json_object *blocked)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	for (i = 0; i < st->v.ninstalled; i++) {
		const struct xhp_installed *n = &st->v.installed[i];
		json_object *x;

		if (xhp_host_status_applies(st, n->ident.name))
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "name", jesc(n->ident.name));
		json_object_object_add(x, "build_id", jesc(xhp_build_id_hex(&n->ident.id, hex, sizeof(hex))));
		json_object_object_add(x, "reason", jesc(xhp_host_status_why(st, i)));
		json_object_array_add(n->excluded == XHP_EXCLUDED_BLOCKED ? blocked : pending, x);
	}
}

bool xhp_problem_listed(const struct xhp_problem *q)
{
	return q->error || q->kind == XHP_PROB_FOREIGN;
}

size_t xhp_host_status_nproblems(const struct xhp_session *s, const struct xhp_host_status *st)
{
	size_t i, n = s->inv.nproblems + !s->inv_ok;

	for (i = 0; i < st->v.plan.nproblems; i++)
		n += xhp_problem_listed(&st->v.plan.problems[i]);
	return n;
}

static json_object *problems_json(const struct xhp_session *s, const struct xhp_host_status *st)
{
	json_object *a = json_object_new_array(), *x;
	size_t i;

	for (i = 0; i < st->v.plan.nproblems; i++) {
		const struct xhp_problem *q = &st->v.plan.problems[i];
		_cleanup_free_ char *names = xhp_strv_join(&q->names, " ");

		if (!xhp_problem_listed(q))
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "kind", jesc(xhp_problem_kind_name(q->kind)));
		json_object_object_add(x, "names", jesc(names));
		json_object_object_add(x, "message", jesc(q->msg));
		json_object_array_add(a, x);
	}
	for (i = 0; i < s->inv.nproblems; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "kind", jesc("invalid"));
		json_object_object_add(x, "file", jesc(s->inv.problems[i].path));
		json_object_object_add(x, "message", jesc(s->inv.problems[i].msg));
		json_object_array_add(a, x);
	}
	if (!s->inv_ok) {
		x = json_object_new_object();
		json_object_object_add(x, "kind", jesc("payload-dir"));
		json_object_object_add(x, "message", jesc(s->inv_err.msg));
		json_object_array_add(a, x);
	}
	return a;
}

json_object *xhp_report_status(const struct xhp_session *s, const struct xhp_host_status *st)
{
	json_object *o = json_object_new_object(), *pend = json_object_new_array(), *blk = json_object_new_array(),
		    *oth = json_object_new_array(), *qua = json_object_new_array();
	size_t i;

	json_object_object_add(o, "build_id", jesc(s->hv_hex));
	json_object_object_add(o, "backend", jesc(s->be->ops->name));
	json_object_object_add(o, "applied", applied_json(st));
	json_object_object_add(o, "loaded_not_applied", loaded_json(st));
	installed_json(st, pend, blk);
	json_object_object_add(o, "installed_not_applied", pend);
	json_object_object_add(o, "blocked", blk);
	for (i = 0; i < s->inv.nother; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "build_id", jesc(s->inv.other[i].build_id));
		json_object_object_add(x, "payloads", json_object_new_int64((int64_t)s->inv.other[i].nfiles));
		json_object_array_add(oth, x);
	}
	json_object_object_add(o, "other_hypervisors", oth);
	for (i = 0; i < st->nquarantined; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "name", jesc(st->quarantined[i].name));
		json_object_object_add(x, "build_id", jesc(st->quarantined[i].id_hex));
		json_object_object_add(x, "reason", jesc(st->quarantined[i].why));
		json_object_array_add(qua, x);
	}
	json_object_object_add(o, "quarantined", qua);
	json_object_object_add(o, "problems", problems_json(s, st));
	json_object_object_add(o, "in_sync", json_object_new_boolean(st->in_sync));
	return o;
}

/* ---- plans and runs ---------------------------------------------------------- */

static json_object *problem_json(const char *kind, const char *names, const char *msg, bool error)
{
	json_object *q = json_object_new_object();

	json_object_object_add(q, "kind", json_object_new_string(kind));
	json_object_object_add(q, "names", jesc(names));
	json_object_object_add(q, "message", json_object_new_string(msg));
	json_object_object_add(q, "error", json_object_new_boolean(error));
	return q;
}

json_object *xhp_report_plan(const struct xhp_view *v, const struct xhp_inventory *inv)
{
	const struct xhp_plan *p = &v->plan;
	json_object *o = json_object_new_object(), *steps = json_object_new_array(),
		    *desired = json_object_new_array(), *probs = json_object_new_array();
	size_t i;

	for (i = 0; i < p->nsteps; i++) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "op", json_object_new_string(xhp_step_op_name(p->steps[i].op)));
		json_object_object_add(s, "name", jesc(p->steps[i].name));
		json_object_array_add(steps, s);
	}
	for (i = 0; i < p->ndesired; i++)
		json_object_array_add(desired, json_object_new_string(v->installed[p->desired[i]].ident.name));
	for (i = 0; i < p->nproblems; i++) {
		_cleanup_free_ char *names = xhp_strv_join(&p->problems[i].names, " ");

		json_object_array_add(probs, problem_json(xhp_problem_kind_name(p->problems[i].kind), names,
							  p->problems[i].msg, p->problems[i].error));
	}
	for (i = 0; i < inv->nproblems; i++)
		json_object_array_add(probs, problem_json("invalid", inv->problems[i].path, inv->problems[i].msg, true));
	json_object_object_add(o, "steps", steps);
	json_object_object_add(o, "desired", desired);
	json_object_object_add(o, "problems", probs);
	json_object_object_add(o, "refused", json_object_new_boolean(p->refused));
	return o;
}

const char *xhp_outcome_name(enum xhp_outcome o)
{
	switch (o) {
	case XHP_OUTCOME_DONE: return "done";
	case XHP_OUTCOME_REFUSED: return "refused";
	case XHP_OUTCOME_NO_PAYLOAD_DIR: return "no-payload-dir";
	case XHP_OUTCOME_NOT_LOADED: return "not-loaded";
	case XHP_OUTCOME_STEP_FAILED: return "step-failed";
	}
	return "?";
}

static const char *act_status_name(enum xhp_act_status a)
{
	switch (a) {
	case XHP_ACT_DONE: return "done";
	case XHP_ACT_REFUSED: return "refused";
	case XHP_ACT_VETOED: return "vetoed";
	case XHP_ACT_FAILED: return "failed";
	case XHP_ACT_BUSY: return "busy";
	case XHP_ACT_NOT_TOP: return "not-top";
	case XHP_ACT_TIMEOUT: return "timeout";
	case XHP_ACT_WRONG_STATE: return "wrong-state";
	case XHP_ACT_GONE: return "gone";
	}
	return "?";
}

int xhp_result_errno(const struct xhp_result *res)
{
	switch (res->outcome) {
	case XHP_OUTCOME_DONE: return 0;
	case XHP_OUTCOME_REFUSED: return -ECANCELED;
	case XHP_OUTCOME_NO_PAYLOAD_DIR:
	case XHP_OUTCOME_NOT_LOADED: return -ENOENT;
	case XHP_OUTCOME_STEP_FAILED: return res->file_err ? res->file_err : xhp_act_errno(&res->act);
	}
	return -EIO;
}

/* The refusals of a refused plan, "...: nothing changed", joined by "; ". */
static char *refusal_message(const struct xhp_plan *p)
{
	struct xhp_strv msgs = { 0 };
	_cleanup_free_ char *joined = NULL;
	size_t i;

	for (i = 0; i < p->nproblems; i++)
		if (xhp_problem_is_refusal(&p->problems[i]))
			xhp_strv_add(&msgs, p->problems[i].msg);
	joined = xhp_strv_join(&msgs, "; ");
	xhp_strv_free(&msgs);
	return xhp_asprintf("%s: nothing changed", joined);
}

/* The one line for a run that did not complete; NULL when it did. */
static char *result_message(const struct xhp_session *s, const struct xhp_view *v, const struct xhp_result *res,
			    bool *busy)
{
	*busy = false;
	switch (res->outcome) {
	case XHP_OUTCOME_DONE: return NULL;
	case XHP_OUTCOME_REFUSED: return refusal_message(&v->plan);
	case XHP_OUTCOME_NO_PAYLOAD_DIR: return xhp_asprintf("%s: nothing changed", s->inv_err.msg);
	case XHP_OUTCOME_NOT_LOADED: return xhp_strdup("not loaded in the hypervisor");
	case XHP_OUTCOME_STEP_FAILED: return xhp_explain_result(s, v, res, busy);
	}
	return NULL;
}

static json_object *failed_json(const struct xhp_result *res)
{
	json_object *f;
	int err = xhp_result_errno(res);

	if (res->outcome != XHP_OUTCOME_STEP_FAILED)
		return NULL;
	f = json_object_new_object();
	json_object_object_add(f, "op", jesc(xhp_step_op_name(res->failed.op)));
	json_object_object_add(f, "name", jesc(res->failed.name));
	json_object_object_add(f, "status", jesc(res->file_err ? "file" : act_status_name(res->act.status)));
	json_object_object_add(f, "errno", json_object_new_int(-err));
	json_object_object_add(f, "error", jesc(xhp_errno_name(err)));
	json_object_object_add(f, "rc", json_object_new_int(res->act.rc));
	return f;
}

/* Would the CLI exit 0 after this run? A converge that completed still
 * fails when an installed payload cannot be used or the guard could not
 * write its records. */
static bool result_ok(const struct xhp_session *s, const struct xhp_view *v, const struct xhp_result *res,
		      bool converge)
{
	if (res->outcome != XHP_OUTCOME_DONE)
		return false;
	return !converge || (!xhp_plan_has_errors(&v->plan) && !s->inv.nproblems && !res->unguarded &&
			     !res->guard_error);
}

json_object *xhp_report_result(struct xhp_session *s, const struct xhp_view *v, const struct xhp_result *res,
			       bool converge)
{
	json_object *o = json_object_new_object(), *applied = json_object_new_array(), *f = failed_json(res);
	struct xhp_strv names = { 0 };
	bool busy;
	_cleanup_free_ char *msg = result_message(s, v, res, &busy);
	size_t i;

	xhp_session_applied(s, &names);
	for (i = 0; i < names.n; i++)
		json_object_array_add(applied, jesc(names.v[i]));
	xhp_strv_free(&names);
	json_object_object_add(o, "outcome", jesc(xhp_outcome_name(res->outcome)));
	json_object_object_add(o, "ok", json_object_new_boolean(result_ok(s, v, res, converge)));
	json_object_object_add(o, "busy", json_object_new_boolean(busy));
	json_object_object_add(o, "message", msg ? jesc(msg) : NULL);
	json_object_object_add(o, "plan", xhp_report_plan(v, &s->inv));
	json_object_object_add(o, "steps_done", json_object_new_int64((int64_t)res->steps_done));
	json_object_object_add(o, "failed", f);
	json_object_object_add(o, "rolled_back", json_object_new_boolean(res->rolled_back));
	json_object_object_add(o, "applied", applied);
	json_object_object_add(o, "unguarded", json_object_new_int64(res->unguarded));
	return o;
}
