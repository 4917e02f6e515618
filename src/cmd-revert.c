/* SPDX-License-Identifier: GPL-2.0-only */
/* revert NAME, and clear (quarantine). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_revert(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct xhp_plan plan;
	const struct xhp_step *failed;
	struct xhp_err err = { { 0 } };
	int r, hv_rc, ret = XHP_EXIT_OK;

	(void)argc;
	r = cli_session_open(cli, &s, true);
	if (r)
		return r;
	r = xhp_revert_name(&s, argv[1], &plan, &failed, &hv_rc, &err);
	if (r < 0 && !failed) {
		cli_error("%s", err.msg[0] ? err.msg : strerror(-r));
		ret = cli_exit_code(r);
	} else if (r < 0) {
		ret = cli_report_failure(cli, &s, &plan, r, failed, hv_rc);
	} else {
		const struct xhp_file *f = NULL;
		size_t i;

		for (i = 0; i < s.inv.nfiles; i++)
			if (!strcmp(s.inv.files[i].name, argv[1]))
				f = &s.inv.files[i];
		if (f)
			cli_say(cli, "%s is still installed: the next `xen-hotpatch apply` applies it again "
				     "unless policy blocks it (blocked = %s)", argv[1], argv[1]);
	}
	xhp_apply_log("revert %s: %s", argv[1], r < 0 ? xhp_errno_name(r) : "done");
	xhp_plan_free(&plan);
	xhp_session_close(&s);
	return ret;
}

int cmd_clear(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct xhp_strv ids = { 0 };
	bool all = cli->all;
	size_t i;
	int a, r, ret = XHP_EXIT_OK;

	r = cli_session_open(cli, &s, true);
	if (r)
		return r;
	xhp_mark_list(s.root, "quarantine", &ids);
	/* --all comes without names: one pass over every mark */
	for (a = 1; a < argc || (all && a == 1); a++) {
		bool found = false;

		for (i = 0; i < ids.n; i++) {
			_cleanup_free_ char *c = NULL;
			char *save = NULL, *name = NULL;

			if (xhp_mark_read(s.root, "quarantine", ids.v[i], &c) == 0)
				name = strtok_r(c, "\n", &save);
			if (!all && strcmp(ids.v[i], argv[a]) && (!name || strcmp(name, argv[a])))
				continue;
			found = true;
			r = xhp_mark_del(s.root, "quarantine", ids.v[i]);
			if (r < 0) {
				cli_error("%s: cannot release: %s", name ? name : ids.v[i], strerror(-r));
				ret = XHP_EXIT_ERROR;
			} else {
				cli_say(cli, "%s: released from quarantine; `xen-hotpatch apply` applies it",
					name ? name : ids.v[i]);
			}
		}
		if (!found && !all) {
			cli_error("%s: not quarantined", argv[a]);
			ret = XHP_EXIT_ERROR;
		}
		if (all)
			break;
	}
	xhp_strv_free(&ids);
	xhp_session_close(&s);
	return ret;
}
