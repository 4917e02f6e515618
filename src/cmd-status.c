/* SPDX-License-Identifier: GPL-2.0-only */
/* status: the applied stack against what is installed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"

struct status {
	struct xhp_view v;
	struct xhp_guard_entry *quarantined;
	size_t nquarantined;
	struct xhp_guard_entry *attempts;	/* of this boot, not resolved yet */
	size_t nattempts;
	bool in_sync;
};

static bool in_flight(const struct status *st)
{
	size_t i;

	for (i = 0; i < st->v.nhv; i++)
		if (st->v.hv[i].rc == -EAGAIN)
			return true;
	return false;
}

static void build_status(struct xhp_session *s, struct status *st)
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

static void free_status(struct status *st)
{
	xhp_view_free(&st->v);
	free(st->quarantined);
	free(st->attempts);
}

static bool desired_has(const struct status *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->v.plan.ndesired; i++)
		if (!strcmp(st->v.installed[st->v.plan.desired[i]].ident.name, name))
			return true;
	return false;
}

/* The problem that names installed payload i, other than a foreign one. */
static const struct xhp_problem *problem_of(const struct status *st, size_t i)
{
	size_t k;

	for (k = 0; k < st->v.plan.nproblems; k++) {
		const struct xhp_problem *q = &st->v.plan.problems[k];

		if (q->kind != XHP_PROB_FOREIGN && xhp_strv_has(&q->names, st->v.installed[i].ident.name))
			return q;
	}
	return NULL;
}

static const char *installed_status(const struct status *st, size_t i)
{
	const struct xhp_installed *n = &st->v.installed[i];
	const struct xhp_problem *q;

	if (n->excluded)
		return n->excluded_why;
	if ((q = problem_of(st, i)))
		return q->msg;
	return desired_has(st, n->ident.name) ? "pending: run `xen-hotpatch apply`" : "not in the stack";
}

static bool is_applied_name(const struct status *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->v.plan.napplied; i++)
		if (!strcmp(st->v.hv[st->v.plan.applied[i]].ident.name, name))
			return true;
	return false;
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

static json_object *applied_json(const struct status *st)
{
	json_object *a = json_object_new_array();
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	for (i = 0; i < st->v.plan.napplied; i++) {
		const struct xhp_hv_entry *e = &st->v.hv[st->v.plan.applied[i]];
		json_object *x = json_object_new_object();

		json_object_object_add(x, "name", jstr(e->ident.name));
		json_object_object_add(x, "build_id", e->known ? jstr(xhp_build_id_hex(&e->ident.id, hex, sizeof(hex))) : NULL);
		json_object_object_add(x, "depends",
				       e->known ? jstr(xhp_build_id_hex(&e->ident.depends, hex, sizeof(hex))) : NULL);
		json_object_object_add(x, "rc", json_object_new_int(e->rc));
		json_object_object_add(x, "origin", jstr(e->known ? "xen-hotpatch" : "foreign"));
		json_object_object_add(x, "installed", json_object_new_boolean(desired_has(st, e->ident.name)));
		json_object_array_add(a, x);
	}
	return a;
}

static json_object *loaded_json(const struct status *st)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < st->v.nhv; i++) {
		const struct xhp_hv_entry *e = &st->v.hv[i];
		json_object *x;

		if (e->state == XHP_STATE_APPLIED)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "name", jstr(e->ident.name));
		json_object_object_add(x, "state", jstr(xhp_state_name(e->state)));
		json_object_object_add(x, "rc", json_object_new_int(e->rc));
		json_object_object_add(x, "origin", jstr(e->known ? "xen-hotpatch" : "foreign"));
		json_object_array_add(a, x);
	}
	return a;
}

/* Installed and not applied: blocked by policy, or pending (with why). */
static void installed_json(const struct status *st, json_object *pending, json_object *blocked)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	for (i = 0; i < st->v.ninstalled; i++) {
		const struct xhp_installed *n = &st->v.installed[i];
		json_object *x;

		if (is_applied_name(st, n->ident.name))
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "name", jstr(n->ident.name));
		json_object_object_add(x, "build_id", jstr(xhp_build_id_hex(&n->ident.id, hex, sizeof(hex))));
		json_object_object_add(x, "reason", jstr(installed_status(st, i)));
		json_object_array_add(n->excluded == XHP_EXCLUDED_BLOCKED ? blocked : pending, x);
	}
}

static json_object *problems_json(const struct xhp_session *s, const struct status *st)
{
	json_object *a = json_object_new_array(), *x;
	size_t i;

	for (i = 0; i < st->v.plan.nproblems; i++) {
		const struct xhp_problem *q = &st->v.plan.problems[i];
		_cleanup_free_ char *names = xhp_strv_join(&q->names, " ");

		if (q->kind == XHP_PROB_EXCLUDED && !q->error)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "kind", jstr(xhp_problem_kind_name(q->kind)));
		json_object_object_add(x, "names", jstr(names));
		json_object_object_add(x, "message", jstr(q->msg));
		json_object_array_add(a, x);
	}
	for (i = 0; i < s->inv.nproblems; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "kind", jstr("invalid"));
		json_object_object_add(x, "file", jstr(s->inv.problems[i].path));
		json_object_object_add(x, "message", jstr(s->inv.problems[i].msg));
		json_object_array_add(a, x);
	}
	if (!s->inv_ok) {
		x = json_object_new_object();
		json_object_object_add(x, "kind", jstr("payload-dir"));
		json_object_object_add(x, "message", jstr(s->inv_err.msg));
		json_object_array_add(a, x);
	}
	return a;
}

static void print_json(struct xhp_session *s, const struct status *st)
{
	json_object *o = json_object_new_object(), *pend = json_object_new_array(), *blk = json_object_new_array(),
		    *oth = json_object_new_array(), *qua = json_object_new_array();
	size_t i;

	json_object_object_add(o, "build_id", jstr(s->hv_hex));
	json_object_object_add(o, "backend", jstr(s->be->ops->name));
	json_object_object_add(o, "applied", applied_json(st));
	json_object_object_add(o, "loaded_not_applied", loaded_json(st));
	installed_json(st, pend, blk);
	json_object_object_add(o, "installed_not_applied", pend);
	json_object_object_add(o, "blocked", blk);
	for (i = 0; i < s->inv.nother; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "build_id", jstr(s->inv.other[i].build_id));
		json_object_object_add(x, "payloads", json_object_new_int64((int64_t)s->inv.other[i].nfiles));
		json_object_array_add(oth, x);
	}
	json_object_object_add(o, "other_hypervisors", oth);
	for (i = 0; i < st->nquarantined; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "name", jstr(st->quarantined[i].name));
		json_object_object_add(x, "build_id", jstr(st->quarantined[i].id_hex));
		json_object_object_add(x, "reason", jstr(st->quarantined[i].why));
		json_object_array_add(qua, x);
	}
	json_object_object_add(o, "quarantined", qua);
	json_object_object_add(o, "problems", problems_json(s, st));
	json_object_object_add(o, "in_sync", json_object_new_boolean(st->in_sync));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_applied(const struct xhp_session *s, const struct status *st)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i, n;

	printf("applied, bottom first:%s\n", st->v.plan.napplied ? "" : " none");
	for (i = 0; i < st->v.plan.napplied; i++) {
		const struct xhp_hv_entry *e = &st->v.hv[st->v.plan.applied[i]];

		printf("  %zu. %-40s %s%s%s\n", i + 1, e->ident.name,
		       e->known ? xhp_build_id_hex(&e->ident.id, hex, sizeof(hex)) : "(foreign: not loaded by xen-hotpatch)",
		       e->rc ? " (last action failed)" : "",
		       e->known && s->inv_ok && !desired_has(st, e->ident.name)
			       ? " (not in the installed stack: the next apply takes it off)" : "");
	}
	for (i = 0, n = 0; i < st->v.nhv; i++) {
		const struct xhp_hv_entry *e = &st->v.hv[i];

		if (e->state == XHP_STATE_APPLIED)
			continue;
		if (!n++)
			printf("loaded, not applied:\n");
		printf("  %-40s %s, rc %d%s%s%s\n", e->ident.name, xhp_state_name(e->state), e->rc,
		       e->rc ? " (" : "", e->rc == -EAGAIN ? "EAGAIN: an action is in progress" : e->rc ? xhp_errno_name(e->rc) : "",
		       e->rc ? ")" : "");
	}
}

static void print_installed(const struct xhp_session *s, const struct status *st)
{
	size_t i, n;

	for (i = 0, n = 0; i < st->v.ninstalled; i++) {
		if (is_applied_name(st, st->v.installed[i].ident.name))
			continue;
		if (!n++)
			printf("installed, not applied:\n");
		printf("  %-40s %s\n", st->v.installed[i].ident.name, installed_status(st, i));
	}
	if (s->inv.nother) {
		printf("installed for other hypervisors (never applied here):\n");
		for (i = 0; i < s->inv.nother; i++)
			printf("  %s: %zu payload%s\n", s->inv.other[i].build_id, s->inv.other[i].nfiles,
			       s->inv.other[i].nfiles == 1 ? "" : "s");
	}
	if (st->nquarantined) {
		printf("quarantined (release with `xen-hotpatch clear NAME`):\n");
		for (i = 0; i < st->nquarantined; i++)
			printf("  %s\t%s\t%s\n", st->quarantined[i].name, st->quarantined[i].id_hex, st->quarantined[i].why);
	}
	for (i = 0, n = 0; i < st->nattempts; i++) {
		if (!st->attempts[i].completed)
			continue;
		if (!n++)
			printf("applied, proof pending (proven_after_s = %u):\n", s->cfg.proven_after_s);
		printf("  %s\n", st->attempts[i].name);
	}
}

static void print_problems(const struct xhp_session *s, const struct status *st)
{
	size_t i, n = 0;

	for (i = 0; i < st->v.plan.nproblems; i++) {
		const struct xhp_problem *q = &st->v.plan.problems[i];

		if (q->kind == XHP_PROB_EXCLUDED && !q->error)
			continue;
		if (!n++)
			printf("problems:\n");
		printf("  %s: %s\n", xhp_problem_kind_name(q->kind), q->msg);
	}
	for (i = 0; i < s->inv.nproblems; i++) {
		if (!n++)
			printf("problems:\n");
		printf("  invalid: %s\n", s->inv.problems[i].msg);
	}
	if (!s->inv_ok) {
		if (!n++)
			printf("problems:\n");
		printf("  payload-dir: %s\n", s->inv_err.msg);
	}
}

static void print_human(struct xhp_session *s, const struct status *st)
{
	printf("hypervisor %s (backend %s)\n", s->hv_hex, s->be->ops->name);
	print_applied(s, st);
	print_installed(s, st);
	print_problems(s, st);
	printf("state: %s\n", st->in_sync ? "in sync" : "OUT OF SYNC");
}

int cmd_status(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct xhp_err err = { { 0 } };
	struct status st;
	int r;

	(void)argc;
	(void)argv;
	r = cli_session_open(cli, &s, &err);
	if (r < 0) {
		cli_error("%s", err.msg);
		return cli_open_exit_code(r);
	}
	if (!cli->json)
		cli_print_guard_changes(cli, &s);
	build_status(&s, &st);
	if (cli->json)
		print_json(&s, &st);
	else
		print_human(&s, &st);
	r = st.in_sync ? XHP_EXIT_OK : XHP_EXIT_OUT_OF_SYNC;
	free_status(&st);
	xhp_session_close(&s);
	return r;
}
