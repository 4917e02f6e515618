/* SPDX-License-Identifier: GPL-2.0-only */
/* revert NAME, and clear (quarantine). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "metrics.h"

static bool installed(const struct xhp_session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->inv.nfiles; i++)
		if (!strcmp(s->inv.files[i].name, name))
			return true;
	return false;
}

int cmd_revert(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct xhp_err err = { { 0 } };
	struct xhp_view v;
	struct xhp_result res;
	_cleanup_free_ char *name = xhp_escape(argv[1]);
	int r;

	(void)argc;
	r = cli_session_open(cli, &s, &err);
	if (r < 0) {
		cli_error("%s", err.msg);
		return cli_open_exit_code(r);
	}
	cli_print_guard_changes(cli, &s);
	xhp_revert_name(&s, argv[1], &v, &res);
	xhp_metrics_after_run(&s, "revert", &res);
	if (res.outcome == XHP_OUTCOME_NOT_LOADED)
		cli_error("%s: not loaded in the hypervisor", name);
	r = cli_report_result(cli, &s, &v, &res);
	if (r == XHP_EXIT_OK && installed(&s, argv[1]))
		cli_say(cli, "%s is still installed: the next `xen-hotpatch apply` applies it again "
			     "unless policy blocks it (blocked = %s)", name, name);
	xhp_apply_log("revert %s: %s", argv[1], r ? "failed" : "done");
	xhp_result_free(&res);
	xhp_view_free(&v);
	xhp_session_close(&s);
	return r;
}

/* Release the quarantined payloads arg names (a name or a build-id), or all. */
static int release(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_guard_entry *q, size_t n,
		   const char *arg, bool all)
{
	bool found = false;
	size_t i;
	int r, ret = XHP_EXIT_OK;

	for (i = 0; i < n; i++) {
		_cleanup_free_ char *name = NULL;

		if (!all && strcmp(q[i].id_hex, arg) && strcmp(q[i].name, arg))
			continue;
		found = true;
		name = xhp_escape(q[i].name);
		r = xhp_guard_release(&s->guard, q[i].id_hex);
		if (r < 0) {
			cli_error("%s: cannot release: %s", name, strerror(-r));
			ret = XHP_EXIT_ERROR;
		} else {
			cli_say(cli, "%s: released from quarantine; `xen-hotpatch apply` applies it", name);
		}
	}
	if (!found && !all) {
		_cleanup_free_ char *e = xhp_escape(arg);

		cli_error("%s: not quarantined", e);
		ret = XHP_EXIT_ERROR;
	}
	return ret;
}

int cmd_clear(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct xhp_err err = { { 0 } };
	struct xhp_guard_entry *q = NULL;
	size_t n = 0;
	bool all = cli->all;
	int a, r, ret = XHP_EXIT_OK;

	r = cli_session_open(cli, &s, &err);
	if (r < 0) {
		cli_error("%s", err.msg);
		return cli_open_exit_code(r);
	}
	xhp_guard_list(&s.guard, XHP_GUARD_QUARANTINE, &q, &n);
	/* --all comes without names (main.c): one pass over every mark */
	for (a = 1; a < argc || (all && a == 1); a++)
		if (release(cli, &s, q, n, all ? NULL : argv[a], all) != XHP_EXIT_OK)
			ret = XHP_EXIT_ERROR;
	free(q);
	xhp_session_close(&s);
	return ret;
}
