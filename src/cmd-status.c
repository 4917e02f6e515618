/* SPDX-License-Identifier: GPL-2.0-only */
/* status: the applied stack against what is installed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli.h"
#include "metrics.h"
#include "report.h"

enum status_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_OPENMETRICS };

static void print_json(const struct xhp_session *s, const struct xhp_host_status *st)
{
	json_object *o = xhp_report_status(s, st);

	puts(json_object_to_json_string_ext(o, XHP_REPORT_JSON_FLAGS));
	json_object_put(o);
}

static void print_applied(const struct xhp_session *s, const struct xhp_host_status *st)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i, n;

	printf("applied, bottom first:%s\n", st->v.plan.napplied ? "" : " none");
	for (i = 0; i < st->v.plan.napplied; i++) {
		const struct xhp_hv_entry *e = &st->v.hv[st->v.plan.applied[i]];
		_cleanup_free_ char *name = xhp_escape(e->ident.name);

		printf("  %zu. %-40s %s%s%s\n", i + 1, name,
		       e->known ? xhp_build_id_hex(&e->ident.id, hex, sizeof(hex)) : "(foreign: not loaded by xen-hotpatch)",
		       e->rc ? " (last action failed)" : "",
		       e->known && s->inv_ok && !xhp_host_status_wants(st, e->ident.name)
			       ? " (not in the installed stack: the next apply takes it off)" : "");
	}
	for (i = 0, n = 0; i < st->v.nhv; i++) {
		const struct xhp_hv_entry *e = &st->v.hv[i];
		_cleanup_free_ char *name = NULL;

		if (e->state == XHP_STATE_APPLIED)
			continue;
		if (!n++)
			printf("loaded, not applied:\n");
		name = xhp_escape(e->ident.name);
		printf("  %-40s %s, rc %d%s%s%s\n", name, xhp_state_name(e->state), e->rc,
		       e->rc ? " (" : "", e->rc == -EAGAIN ? "EAGAIN: an action is in progress" : e->rc ? xhp_errno_name(e->rc) : "",
		       e->rc ? ")" : "");
	}
}

static void print_installed(const struct xhp_session *s, const struct xhp_host_status *st)
{
	size_t i, n;

	for (i = 0, n = 0; i < st->v.ninstalled; i++) {
		if (xhp_host_status_applies(st, st->v.installed[i].ident.name))
			continue;
		if (!n++)
			printf("installed, not applied:\n");
		printf("  %-40s %s\n", st->v.installed[i].ident.name, xhp_host_status_why(st, i));
	}
	if (s->inv.nother) {
		printf("installed for other hypervisors (never applied here):\n");
		for (i = 0; i < s->inv.nother; i++) {
			_cleanup_free_ char *dir = xhp_escape(s->inv.other[i].build_id);

			printf("  %s: %zu payload%s\n", dir, s->inv.other[i].nfiles, s->inv.other[i].nfiles == 1 ? "" : "s");
		}
	}
	if (st->nquarantined) {
		printf("quarantined (release with `xen-hotpatch clear NAME`):\n");
		for (i = 0; i < st->nquarantined; i++) {
			_cleanup_free_ char *why = xhp_escape(st->quarantined[i].why);

			printf("  %s\t%s\t%s\n", st->quarantined[i].name, st->quarantined[i].id_hex, why);
		}
	}
	for (i = 0, n = 0; i < st->nattempts; i++) {
		if (!st->attempts[i].completed)
			continue;
		if (!n++)
			printf("applied, proof pending (proven_after_s = %u):\n", s->cfg.proven_after_s);
		printf("  %s\n", st->attempts[i].name);
	}
}

/* The planner's problems say what they are; a file or the folder that
 * cannot be read gets its kind in front. */
static void print_problems(const struct xhp_session *s, const struct xhp_host_status *st)
{
	size_t i, n = 0;

	for (i = 0; i < st->v.plan.nproblems; i++) {
		if (!xhp_problem_listed(&st->v.plan.problems[i]))
			continue;
		if (!n++)
			printf("problems:\n");
		printf("  %s\n", st->v.plan.problems[i].msg);
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

static void print_human(struct xhp_session *s, const struct xhp_host_status *st)
{
	printf("hypervisor %s (backend %s)\n", s->hv_hex, s->be->ops->name);
	print_applied(s, st);
	print_installed(s, st);
	print_problems(s, st);
	printf("state: %s\n", st->in_sync ? "in sync" : "OUT OF SYNC");
}

/* --format=text|json|openmetrics (main.c checked the word); --json is json. */
static enum status_format format_of(const struct xhp_cli *cli)
{
	if (cli->json || (cli->format && !strcmp(cli->format, "json")))
		return FORMAT_JSON;
	if (cli->format && !strcmp(cli->format, "openmetrics"))
		return FORMAT_OPENMETRICS;
	return FORMAT_TEXT;
}

static void print_openmetrics(const struct xhp_session *s, const struct xhp_host_status *st)
{
	struct xhp_last_run last;
	_cleanup_free_ char *text = NULL;

	xhp_last_run_load(&last);
	text = xhp_metrics_render(s, st, &last, (unsigned long long)time(NULL));
	fputs(text, stdout);
}

int cmd_status(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct xhp_err err = { { 0 } };
	struct xhp_host_status st;
	enum status_format fmt = format_of(cli);
	int r;

	(void)argc;
	(void)argv;
	r = cli_session_open(cli, &s, &err);
	if (r < 0) {
		cli_error("%s", err.msg);
		return cli_open_exit_code(r);
	}
	if (fmt == FORMAT_TEXT)
		cli_print_guard_changes(cli, &s);
	xhp_host_status_build(&s, &st);
	if (fmt == FORMAT_JSON)
		print_json(&s, &st);
	else if (fmt == FORMAT_OPENMETRICS)
		print_openmetrics(&s, &st);
	else
		print_human(&s, &st);
	r = st.in_sync ? XHP_EXIT_OK : XHP_EXIT_OUT_OF_SYNC;
	xhp_host_status_free(&st);
	xhp_session_close(&s);
	return r;
}
