/* SPDX-License-Identifier: GPL-2.0-only */
/* status: the applied stack against what is installed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"

struct view {
	struct xhp_session_input si;
	struct xhp_plan plan;
	struct xhp_strv quarantined;	/* "name\tid\treason" */
	struct xhp_strv interrupted;	/* attempts of earlier boots: "name\tid" */
	bool in_sync;
};

static void build_view(struct xhp_session *s, struct view *v)
{
	struct xhp_strv ids = { 0 };
	size_t i;

	memset(v, 0, sizeof(*v));
	xhp_session_input(s, XHP_MODE_APPLY, &v->si);
	xhp_plan_make(&v->si.in, &v->plan);
	xhp_mark_list(s->root, "quarantine", &ids);
	for (i = 0; i < ids.n; i++) {
		_cleanup_free_ char *c = NULL, *line = NULL;
		char *name = NULL, *reason = NULL, *save = NULL;

		if (xhp_mark_read(s->root, "quarantine", ids.v[i], &c) == 0) {
			name = strtok_r(c, "\n", &save);
			reason = strtok_r(NULL, "\n", &save);
		}
		line = xhp_asprintf("%s\t%s\t%s", name ? name : "?", ids.v[i], reason ? reason : "");
		xhp_strv_add(&v->quarantined, line);
	}
	xhp_strv_free(&ids);
	xhp_mark_list(s->root, "attempts", &ids);
	for (i = 0; i < ids.n; i++) {
		_cleanup_free_ char *c = NULL, *line = NULL;
		char *name = NULL, *boot = NULL, *save = NULL;

		if (xhp_mark_read(s->root, "attempts", ids.v[i], &c) < 0)
			continue;
		name = strtok_r(c, "\n", &save);
		boot = strtok_r(NULL, "\n", &save);
		if (!name || !boot || !strcmp(boot, s->boot_id))
			continue;
		line = xhp_asprintf("%s\t%s", name, ids.v[i]);
		xhp_strv_add(&v->interrupted, line);
	}
	xhp_strv_free(&ids);

	v->in_sync = s->inv_ok && !v->plan.nsteps && !v->plan.refused && !s->inv.nproblems &&
		     !v->quarantined.n && !v->interrupted.n;
	for (i = 0; i < v->plan.nproblems; i++)
		if (v->plan.problems[i].error)
			v->in_sync = false;
}

static void free_view(struct view *v)
{
	xhp_plan_free(&v->plan);
	xhp_session_input_free(&v->si);
	xhp_strv_free(&v->quarantined);
	xhp_strv_free(&v->interrupted);
}

static bool desired_has(const struct view *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->plan.ndesired; i++)
		if (!strcmp(v->si.nodes[v->plan.desired[i]].name, name))
			return true;
	return false;
}

static const char *node_status(const struct view *v, size_t ni)
{
	const struct xhp_pnode *n = &v->si.nodes[ni];
	size_t i;

	if (n->excluded)
		return n->excluded;
	for (i = 0; i < v->plan.nproblems; i++)
		if (v->plan.problems[i].kind != XHP_PROB_FOREIGN &&
		    (!strcmp(v->plan.problems[i].names, n->name) ||
		     (strstr(v->plan.problems[i].names, n->name) && v->plan.problems[i].kind == XHP_PROB_BRANCH) ||
		     (strstr(v->plan.problems[i].names, n->name) && v->plan.problems[i].kind == XHP_PROB_CYCLE)))
			return v->plan.problems[i].msg;
	return desired_has(v, n->name) ? "pending: run `xen-hotpatch apply`" : "not in the stack";
}

static bool is_applied_name(const struct view *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->plan.napplied; i++)
		if (!strcmp(v->si.hvents[v->plan.applied[i]].name, name))
			return true;
	return false;
}

static void print_json(struct xhp_session *s, const struct view *v)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array(),
		    *lna = json_object_new_array(), *pend = json_object_new_array(),
		    *oth = json_object_new_array(), *blk = json_object_new_array(),
		    *qua = json_object_new_array(), *prob = json_object_new_array();
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	json_object_object_add(o, "build_id", json_object_new_string(s->hv_hex));
	json_object_object_add(o, "backend", json_object_new_string(s->be->ops->name));
	for (i = 0; i < v->plan.napplied; i++) {
		const struct xhp_hvent *e = &v->si.hvents[v->plan.applied[i]];
		json_object *x = json_object_new_object();

		json_object_object_add(x, "name", json_object_new_string(e->name));
		json_object_object_add(x, "build_id", e->ours ?
				       json_object_new_string(xhp_build_id_hex(&e->id, hex, sizeof(hex))) : NULL);
		json_object_object_add(x, "depends", e->ours ?
				       json_object_new_string(xhp_build_id_hex(&e->depends, hex, sizeof(hex))) : NULL);
		json_object_object_add(x, "rc", json_object_new_int(e->rc));
		json_object_object_add(x, "origin", json_object_new_string(e->ours ? "xen-hotpatch" : "foreign"));
		json_object_object_add(x, "installed", json_object_new_boolean(desired_has(v, e->name)));
		json_object_array_add(a, x);
	}
	for (i = 0; i < v->si.nhvents; i++) {
		const struct xhp_hvent *e = &v->si.hvents[i];
		json_object *x;

		if (e->state == XHP_STATE_APPLIED)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "name", json_object_new_string(e->name));
		json_object_object_add(x, "state", json_object_new_string(xhp_state_name(e->state)));
		json_object_object_add(x, "rc", json_object_new_int(e->rc));
		json_object_object_add(x, "origin", json_object_new_string(e->ours ? "xen-hotpatch" : "foreign"));
		json_object_array_add(lna, x);
	}
	for (i = 0; i < v->si.nnodes; i++) {
		const struct xhp_pnode *n = &v->si.nodes[i];
		json_object *x;

		if (is_applied_name(v, n->name))
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "name", json_object_new_string(n->name));
		json_object_object_add(x, "build_id",
				       json_object_new_string(xhp_build_id_hex(&n->id, hex, sizeof(hex))));
		json_object_object_add(x, "reason", json_object_new_string(node_status(v, i)));
		json_object_array_add(n->excluded && strstr(n->excluded, "blocked") ? blk : pend, x);
	}
	for (i = 0; i < s->inv.nother; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "build_id", json_object_new_string(s->inv.other[i].build_id));
		json_object_object_add(x, "payloads", json_object_new_int64((int64_t)s->inv.other[i].nfiles));
		json_object_array_add(oth, x);
	}
	for (i = 0; i < v->quarantined.n; i++) {
		_cleanup_free_ char *c = xhp_strdup(v->quarantined.v[i]);
		char *save = NULL, *name = strtok_r(c, "\t", &save), *id = strtok_r(NULL, "\t", &save),
		     *why = strtok_r(NULL, "\t", &save);
		json_object *x = json_object_new_object();

		json_object_object_add(x, "name", json_object_new_string(name ? name : ""));
		json_object_object_add(x, "build_id", json_object_new_string(id ? id : ""));
		json_object_object_add(x, "reason", json_object_new_string(why ? why : ""));
		json_object_array_add(qua, x);
	}
	for (i = 0; i < v->plan.nproblems; i++) {
		const struct xhp_problem *q = &v->plan.problems[i];
		json_object *x;

		if (q->kind == XHP_PROB_EXCLUDED)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "kind", json_object_new_string(xhp_problem_kind_name(q->kind)));
		json_object_object_add(x, "names", json_object_new_string(q->names));
		json_object_object_add(x, "message", json_object_new_string(q->msg));
		json_object_array_add(prob, x);
	}
	for (i = 0; i < s->inv.nproblems; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "kind", json_object_new_string("invalid"));
		json_object_object_add(x, "file", json_object_new_string(s->inv.problems[i].path));
		json_object_object_add(x, "message", json_object_new_string(s->inv.problems[i].msg));
		json_object_array_add(prob, x);
	}
	for (i = 0; i < v->interrupted.n; i++) {
		json_object *x = json_object_new_object();
		_cleanup_free_ char *m = xhp_asprintf("%s: an apply in an earlier boot never completed; "
						      "the next apply or boot quarantines it", v->interrupted.v[i]);

		json_object_object_add(x, "kind", json_object_new_string("interrupted"));
		json_object_object_add(x, "message", json_object_new_string(m));
		json_object_array_add(prob, x);
	}
	if (!s->inv_ok) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "kind", json_object_new_string("payload-dir"));
		json_object_object_add(x, "message", json_object_new_string(s->inv_err.msg));
		json_object_array_add(prob, x);
	}
	json_object_object_add(o, "applied", a);
	json_object_object_add(o, "loaded_not_applied", lna);
	json_object_object_add(o, "installed_not_applied", pend);
	json_object_object_add(o, "blocked", blk);
	json_object_object_add(o, "other_hypervisors", oth);
	json_object_object_add(o, "quarantined", qua);
	json_object_object_add(o, "problems", prob);
	json_object_object_add(o, "in_sync", json_object_new_boolean(v->in_sync));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_human(struct xhp_session *s, const struct view *v)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i, n;

	printf("hypervisor %s (backend %s)\n", s->hv_hex, s->be->ops->name);
	printf("applied, bottom first:%s\n", v->plan.napplied ? "" : " none");
	for (i = 0; i < v->plan.napplied; i++) {
		const struct xhp_hvent *e = &v->si.hvents[v->plan.applied[i]];

		printf("  %zu. %-40s %s%s%s\n", i + 1, e->name,
		       e->ours ? xhp_build_id_hex(&e->id, hex, sizeof(hex)) : "(foreign: not loaded by xen-hotpatch)",
		       e->rc ? " (last action failed)" : "",
		       e->ours && s->inv_ok && !desired_has(v, e->name) ? " (not in the installed stack: the next apply takes it off)" : "");
	}
	for (i = 0, n = 0; i < v->si.nhvents; i++) {
		const struct xhp_hvent *e = &v->si.hvents[i];

		if (e->state == XHP_STATE_APPLIED)
			continue;
		if (!n++)
			printf("loaded, not applied:\n");
		printf("  %-40s %s, rc %d%s%s%s\n", e->name, xhp_state_name(e->state), e->rc,
		       e->rc ? " (" : "", e->rc ? xhp_errno_name(e->rc) : "", e->rc ? ")" : "");
	}
	for (i = 0, n = 0; i < v->si.nnodes; i++) {
		if (is_applied_name(v, v->si.nodes[i].name))
			continue;
		if (!n++)
			printf("installed, not applied:\n");
		printf("  %-40s %s\n", v->si.nodes[i].name, node_status(v, i));
	}
	if (s->inv.nother) {
		printf("installed for other hypervisors (never applied here):\n");
		for (i = 0; i < s->inv.nother; i++)
			printf("  %s: %zu payload%s\n", s->inv.other[i].build_id, s->inv.other[i].nfiles,
			       s->inv.other[i].nfiles == 1 ? "" : "s");
	}
	if (v->quarantined.n) {
		printf("quarantined (release with `xen-hotpatch clear NAME`):\n");
		for (i = 0; i < v->quarantined.n; i++)
			printf("  %s\n", v->quarantined.v[i]);
	}
	n = 0;
	for (i = 0; i < v->plan.nproblems; i++) {
		if (v->plan.problems[i].kind == XHP_PROB_EXCLUDED)
			continue;
		if (!n++)
			printf("problems:\n");
		printf("  %s: %s\n", xhp_problem_kind_name(v->plan.problems[i].kind), v->plan.problems[i].msg);
	}
	for (i = 0; i < s->inv.nproblems; i++) {
		if (!n++)
			printf("problems:\n");
		printf("  invalid: %s\n", s->inv.problems[i].msg);
	}
	for (i = 0; i < v->interrupted.n; i++) {
		if (!n++)
			printf("problems:\n");
		printf("  interrupted: %s: an apply in an earlier boot never completed\n", v->interrupted.v[i]);
	}
	if (!s->inv_ok) {
		if (!n++)
			printf("problems:\n");
		printf("  payload-dir: %s\n", s->inv_err.msg);
	}
	printf("state: %s\n", v->in_sync ? "in sync" : "OUT OF SYNC");
}

int cmd_status(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct view v;
	int r;

	(void)argc;
	(void)argv;
	r = cli_session_open(cli, &s, true);
	if (r)
		return r;
	build_view(&s, &v);
	if (cli->json)
		print_json(&s, &v);
	else
		print_human(&s, &v);
	r = v.in_sync ? XHP_EXIT_OK : XHP_EXIT_OUT_OF_SYNC;
	free_view(&v);
	xhp_session_close(&s);
	return r;
}
