/* SPDX-License-Identifier: GPL-2.0-only */
/* apply [--dry-run] [--auto], and boot. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cli.h"

/* Are we in a chroot (or can't tell: no /proc)? Like systemd's running_in_chroot:
 * the root of PID 1 is not ours. */
static bool in_chroot(void)
{
	struct stat a, b;

	if (stat("/", &a) < 0 || stat("/proc/1/root", &b) < 0)
		return true;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

static void plan_json(const struct xhp_plan *p, const struct xhp_session_input *si,
		      const struct xhp_inventory *inv)
{
	json_object *o = json_object_new_object(), *steps = json_object_new_array(),
		    *desired = json_object_new_array(), *probs = json_object_new_array();
	size_t i;

	for (i = 0; i < p->nsteps; i++) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "op", json_object_new_string(xhp_step_op_name(p->steps[i].op)));
		json_object_object_add(s, "name", json_object_new_string(p->steps[i].name));
		json_object_array_add(steps, s);
	}
	for (i = 0; i < p->ndesired; i++)
		json_object_array_add(desired, json_object_new_string(si->nodes[p->desired[i]].name));
	for (i = 0; i < p->nproblems; i++) {
		json_object *q = json_object_new_object();

		json_object_object_add(q, "kind", json_object_new_string(xhp_problem_kind_name(p->problems[i].kind)));
		json_object_object_add(q, "names", json_object_new_string(p->problems[i].names));
		json_object_object_add(q, "message", json_object_new_string(p->problems[i].msg));
		json_object_object_add(q, "error", json_object_new_boolean(p->problems[i].error));
		json_object_array_add(probs, q);
	}
	for (i = 0; i < inv->nproblems; i++) {
		json_object *q = json_object_new_object();

		json_object_object_add(q, "kind", json_object_new_string("invalid"));
		json_object_object_add(q, "names", json_object_new_string(inv->problems[i].path));
		json_object_object_add(q, "message", json_object_new_string(inv->problems[i].msg));
		json_object_object_add(q, "error", json_object_new_boolean(true));
		json_object_array_add(probs, q);
	}
	json_object_object_add(o, "steps", steps);
	json_object_object_add(o, "desired", desired);
	json_object_object_add(o, "problems", probs);
	json_object_object_add(o, "refused", json_object_new_boolean(p->refused));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Print the planner's problems: an installed payload that cannot be used
 * (orphan, branch, cycle, duplicate) on stderr, a foreign payload as a
 * warning; the rest (superseded, blocked, ...) with -v, and at boot the
 * payloads left out (not proven, quarantined, or above such one) always. */
static void print_problems(const struct xhp_cli *cli, const struct xhp_plan *p, enum xhp_mode mode)
{
	size_t i;

	for (i = 0; i < p->nproblems; i++) {
		const struct xhp_problem *q = &p->problems[i];

		if (q->kind == XHP_PROB_REFUSED || q->kind == XHP_PROB_CONTENT)
			continue; /* reported as the error */
		if (q->error)
			cli_error("%s%s", q->kind == XHP_PROB_FOREIGN ? "warning: " : "", q->msg);
		else if (cli->verbose > 0 || (mode == XHP_MODE_BOOT && (q->kind == XHP_PROB_EXCLUDED ||
									   q->kind == XHP_PROB_ORPHAN)))
			cli_say(cli, "note: %s", q->msg);
	}
}

/* Is an installed payload unusable (malformed or unsafe file, wrong folder,
 * orphan, cycle, duplicate, unresolved branch)? apply still converges the
 * rest, and then exits 1: a payload that is never applied is an error. */
static bool unusable_payloads(const struct xhp_session *s, const struct xhp_plan *p)
{
	size_t i;

	if (s->inv.nproblems)
		return true;
	for (i = 0; i < p->nproblems; i++)
		if (p->problems[i].error && p->problems[i].kind != XHP_PROB_FOREIGN)
			return true;
	return false;
}

static int converge(struct xhp_cli *cli, struct xhp_session *s, enum xhp_mode mode, bool dry,
		    const char *why)
{
	struct xhp_plan plan;
	const struct xhp_step *failed;
	size_t i;
	int hv_rc, r, ret;

	if (!dry)
		xhp_session_quarantine_stale(s);
	if (dry) {
		struct xhp_session_input si;

		if (!s->inv_ok) {
			cli_error("%s", s->inv_err.msg);
			return XHP_EXIT_ERROR;
		}
		xhp_session_input(s, mode, &si);
		xhp_plan_make(&si.in, &plan);
		if (cli->json) {
			plan_json(&plan, &si, &s->inv);
		} else {
			for (i = 0; i < s->inv.nproblems; i++)
				cli_error("%s: never applied", s->inv.problems[i].msg);
			print_problems(cli, &plan, mode);
			if (plan.refused)
				cli_report_failure(cli, s, &plan, -ECANCELED, NULL, 0);
			else if (!plan.nsteps)
				cli_say(cli, "nothing to do");
			else
				cli_print_plan(cli, &plan, true);
		}
		ret = plan.refused || unusable_payloads(s, &plan) ? XHP_EXIT_ERROR : XHP_EXIT_OK;
		xhp_plan_free(&plan);
		xhp_session_input_free(&si);
		return ret;
	}
	for (i = 0; i < s->inv.nproblems; i++)
		cli_error("%s: never applied", s->inv.problems[i].msg);
	r = xhp_converge(s, mode, false, &plan, &failed, &hv_rc);
	print_problems(cli, &plan, mode);
	if (r < 0) {
		ret = cli_report_failure(cli, s, &plan, r, failed, hv_rc);
		xhp_apply_log("%s: failed at %s %s: %s", why, failed ? xhp_step_op_name(failed->op) : "plan",
			      failed ? failed->name : "-", xhp_errno_name(r));
	} else {
		if (!plan.nsteps)
			cli_say(cli, "nothing to do: the hypervisor runs the installed stack (%zu payload%s)",
				plan.ndesired, plan.ndesired == 1 ? "" : "s");
		xhp_apply_log("%s: %zu step%s, stack of %zu", why, plan.nsteps, plan.nsteps == 1 ? "" : "s",
			      plan.ndesired);
		ret = unusable_payloads(s, &plan) ? XHP_EXIT_ERROR : XHP_EXIT_OK;
	}
	xhp_plan_free(&plan);
	return ret;
}

int cmd_apply(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	bool dry = cli->dry_run;
	int r;

	(void)argc;
	(void)argv;
	if (!cli->automatic) {
		r = cli_session_open(cli, &s, !dry);
		if (r)
			return r;
		r = converge(cli, &s, XHP_MODE_APPLY, dry, "apply");
		xhp_session_close(&s);
		return r;
	}

	/* --auto: what package scripts run. It never fails the package manager:
	 * every problem is printed and left for `status` to report. */
	{
		struct xhp_config cfg;
		struct xhp_err err = { { 0 } };

		xhp_config_defaults(&cfg);
		if (xhp_config_load(&cfg, cli->root, cli->config, &err) < 0) {
			cli_error("%s: not applying payloads now", err.msg);
			xhp_config_free(&cfg);
			return XHP_EXIT_OK;
		}
		if (cfg.apply_on_install == XHP_AOI_NEVER) {
			cli_say(cli, "xen-hotpatch: apply_on_install = never: payloads not applied now "
				     "(run `xen-hotpatch apply`)");
			xhp_config_free(&cfg);
			return XHP_EXIT_OK;
		}
		if (cfg.apply_on_install == XHP_AOI_AUTO) {
			const char *skip = NULL;

			if (cli->root && strcmp(cli->root, "/"))
				skip = "installing into an alternate root";
			else if (in_chroot())
				skip = "running in a chroot or image build";
			if (skip) {
				cli_say(cli, "xen-hotpatch: %s: payloads not applied now "
					     "(they are applied at the next boot of that system)", skip);
				xhp_config_free(&cfg);
				return XHP_EXIT_OK;
			}
		}
		xhp_config_free(&cfg);
	}
	{
		struct xhp_session_opts o = {
			.root = cli->root, .config_file = cli->config, .backend = cli->backend, .lock = true,
		};
		struct xhp_err err = { { 0 } };

		r = xhp_session_open(&s, &o, &err);
		if (r == -ENODEV) {
			cli_say(cli, "xen-hotpatch: %s: payloads not applied now", err.msg);
			xhp_session_close(&s);
			return XHP_EXIT_OK;
		}
		if (r < 0) {
			cli_error("%s: payloads not applied now; `xen-hotpatch status` shows what is pending",
				  err.msg);
			xhp_session_close(&s);
			return XHP_EXIT_OK;
		}
		cli_install_events(cli, &s);
	}
	r = converge(cli, &s, XHP_MODE_APPLY, false, "apply --auto");
	if (r)
		cli_error("the hypervisor was not fully updated; `xen-hotpatch status` keeps reporting it");
	xhp_session_close(&s);
	return XHP_EXIT_OK;
}

/* xen_hotpatch=0 (or off/no/false) on the kernel command line. */
static bool killed_by_cmdline(void)
{
	const char *path = getenv("XEN_HOTPATCH_CMDLINE");
	_cleanup_free_ char *buf = NULL;
	char *w, *save = NULL;
	bool killed = false;

	if (xhp_read_file(path && *path ? path : "/proc/cmdline", &buf, NULL, 1 << 16) < 0)
		return false;
	for (w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (strncmp(w, "xen_hotpatch=", 13))
			continue;
		/* the last one wins, as for kernel parameters */
		killed = !strcmp(w + 13, "0") || !strcmp(w + 13, "off") || !strcmp(w + 13, "no") ||
			 !strcmp(w + 13, "false");
	}
	return killed;
}

int cmd_boot(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct xhp_config cfg;
	struct xhp_err err = { { 0 } };
	int r;

	(void)argc;
	(void)argv;
	/* boot never fails: whatever happens, exit 0 and say why */
	if (killed_by_cmdline()) {
		cli_say(cli, "xen-hotpatch: xen_hotpatch=0 on the kernel command line: not applying payloads");
		return XHP_EXIT_OK;
	}
	xhp_config_defaults(&cfg);
	if (xhp_config_load(&cfg, cli->root, cli->config, &err) < 0) {
		cli_error("%s: not applying payloads at boot", err.msg);
		xhp_config_free(&cfg);
		return XHP_EXIT_OK;
	}
	if (!cfg.boot_apply) {
		cli_say(cli, "xen-hotpatch: boot_apply = no in policy: not applying payloads");
		xhp_config_free(&cfg);
		return XHP_EXIT_OK;
	}
	xhp_config_free(&cfg);
	if (cli_session_open(cli, &s, true) != 0) {
		cli_error("not applying payloads at boot");
		return XHP_EXIT_OK;
	}
	{
		_cleanup_free_ char *state = xhp_path_join(cli->root, "/var/lib/xen-hotpatch");

		if (access(state, F_OK) < 0)
			cli_say(cli, "xen-hotpatch: %s does not exist (a separate /var not mounted yet?): "
				     "no payload is proven here, so none is applied now; "
				     "xen-hotpatch.service reapplies the stack later", state);
	}
	r = converge(cli, &s, XHP_MODE_BOOT, false, "boot");
	if (r)
		cli_error("boot: the stack was not fully reapplied; `xen-hotpatch status` shows what is missing");
	xhp_session_close(&s);
	return XHP_EXIT_OK;
}
