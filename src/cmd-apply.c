/* SPDX-License-Identifier: GPL-2.0-only */
/* apply [--dry-run] [--auto], and boot. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cli.h"
#include "metrics.h"
#include "report.h"

/* Are we in a chroot (or can't tell: no /proc)? Like systemd's running_in_chroot:
 * the root of PID 1 is not ours. */
static bool in_chroot(void)
{
	struct stat a, b;

	if (stat("/", &a) < 0 || stat("/proc/1/root", &b) < 0)
		return true;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

/* Left out on purpose (not an error): excluded, or waiting on one that is. */
static bool left_out(const struct xhp_problem *q)
{
	return !q->error && (q->kind == XHP_PROB_EXCLUDED || q->kind == XHP_PROB_ORPHAN);
}

/* Print the planner's problems: an installed payload that cannot be used
 * (orphan, branch, cycle, duplicate, unappliable) on stderr, a foreign
 * payload as a warning; the rest (superseded, blocked, ...) with -v, and at
 * boot the payloads left out (not proven, quarantined, or above such one)
 * always. Refusals are the run's error and printed with it. */
static void print_problems(const struct xhp_cli *cli, const struct xhp_session *s, const struct xhp_plan *p,
			   enum xhp_mode mode)
{
	size_t i;

	for (i = 0; i < s->inv.nproblems; i++)
		cli_error("%s: never applied", s->inv.problems[i].msg);
	for (i = 0; i < p->nproblems; i++) {
		const struct xhp_problem *q = &p->problems[i];

		if (xhp_problem_is_refusal(q))
			continue;
		if (q->error)
			cli_error("%s%s", q->kind == XHP_PROB_FOREIGN ? "warning: " : "", q->msg);
		else if (cli->verbose > 0 || (mode == XHP_MODE_BOOT && left_out(q)))
			cli_say(cli, "note: %s", q->msg);
	}
}

/* Installed payloads that cannot be used (malformed or unsafe file, wrong
 * folder, orphan, cycle, duplicate, unresolved branch, unappliable): apply
 * converges the rest, and then exits 1. */
static size_t unusable_payloads(const struct xhp_session *s, const struct xhp_plan *p)
{
	size_t i, n = s->inv.nproblems;

	for (i = 0; i < p->nproblems; i++)
		if (p->problems[i].error && p->problems[i].kind != XHP_PROB_FOREIGN && !xhp_problem_is_refusal(&p->problems[i]))
			n += p->problems[i].names.n ? p->problems[i].names.n : 1;
	return n;
}

static const char *exclusion_word(enum xhp_exclusion e)
{
	switch (e) {
	case XHP_EXCLUDED_BLOCKED: return "blocked";
	case XHP_EXCLUDED_QUARANTINED: return "quarantined";
	case XHP_EXCLUDED_UNPROVEN: return "not proven";
	default: return "left out";
	}
}

/* "aa-top (quarantined), indep (not proven)" for what was left out. */
static char *left_out_list(const struct xhp_plan *p, size_t *n)
{
	struct xhp_strv items = { 0 };
	char *joined;
	size_t i;

	for (i = 0; i < p->nproblems; i++) {
		const struct xhp_problem *q = &p->problems[i];
		_cleanup_free_ char *it = NULL;

		if (!left_out(q) || !q->names.n)
			continue;
		it = xhp_asprintf("%s (%s%s)", q->names.v[0], q->kind == XHP_PROB_ORPHAN ? "above one " : "",
				  exclusion_word(q->exclusion));
		xhp_strv_add(&items, it);
	}
	*n = items.n;
	joined = xhp_strv_join(&items, ", ");
	xhp_strv_free(&items);
	return joined;
}

/* "nothing to do", counting the payloads applied by someone else apart:
 * they are not the installed stack. */
static void say_nothing_to_do(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_strv *applied)
{
	size_t i, foreign = 0, own;

	for (i = 0; i < applied->n; i++)
		foreign += !xhp_records_find(&s->rec, applied->v[i]);
	own = applied->n - foreign;
	if (!foreign)
		cli_say(cli, "nothing to do: the hypervisor runs the installed stack (%zu payload%s)", own,
			own == 1 ? "" : "s");
	else
		cli_say(cli, "nothing to do: the hypervisor runs the installed stack (%zu payload%s) and %zu payload%s "
			     "xen-hotpatch did not load (left alone)", own, own == 1 ? "" : "s", foreign,
			foreign == 1 ? "" : "s");
}

/* One line that counts honestly: what runs, what is left out, what cannot
 * be used. "nothing to do" only when the installed stack is what runs. */
static void print_summary(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_plan *p)
{
	struct xhp_strv applied = { 0 };
	size_t nleft, bad = unusable_payloads(s, p);
	_cleanup_free_ char *left = left_out_list(p, &nleft);
	_cleanup_free_ char *lpart = NULL, *bpart = NULL;

	xhp_session_applied(s, &applied);
	if (!p->nsteps && !nleft && !bad)
		say_nothing_to_do(cli, s, &applied);
	else if (nleft || bad) {
		lpart = nleft ? xhp_asprintf("; %zu installed payload%s left out: %s", nleft, nleft == 1 ? "" : "s", left)
			      : xhp_strdup("");
		bpart = bad ? xhp_asprintf("; %zu installed payload%s cannot be used (see above)", bad,
					   bad == 1 ? "" : "s") : xhp_strdup("");
		cli_say(cli, "%sthe hypervisor runs %zu payload%s%s%s", !p->nsteps && !bad ? "nothing to change: " : "",
			applied.n, applied.n == 1 ? "" : "s", lpart, bpart);
	}
	xhp_strv_free(&applied);
}

/* The guard could not write its records: apply says what that costs (exit
 * 1); at boot (a read-only root in the initramfs) it is a note. */
static int report_guard(const struct xhp_cli *cli, const struct xhp_session *s, const struct xhp_result *res,
			enum xhp_mode mode)
{
	int err = res->guard_error ? res->guard_error : -EROFS;
	_cleanup_free_ char *dir = NULL;

	if (!res->unguarded && !res->guard_error)
		return XHP_EXIT_OK;
	dir = xhp_escape(s->guard.dir);
	if (mode == XHP_MODE_BOOT) {
		cli_say(cli, "note: %s cannot be written here (%s): applies at this boot are not guarded against "
			     "a crash", dir, strerror(-err));
		return XHP_EXIT_OK;
	}
	if (!res->unguarded)
		cli_error("cannot write the crash-loop guard's records in %s (%s): what this run applied is not "
			  "proven, so boot will not reapply it", dir, strerror(-err));
	else
		cli_error("cannot write the crash-loop guard's records in %s (%s): %u appl%s went without an "
			  "attempt record, and what was applied is not proven, so boot will not reapply it", dir,
			  strerror(-err), res->unguarded, res->unguarded == 1 ? "y" : "ies");
	return XHP_EXIT_ERROR;
}

static int dry_run(const struct xhp_cli *cli, struct xhp_session *s, enum xhp_mode mode)
{
	struct xhp_view v;
	struct xhp_result res = { .outcome = XHP_OUTCOME_DONE };
	int ret;

	xhp_view_build(s, mode, &v);
	if (!s->inv_ok) {
		cli_error("%s", s->inv_err.msg);
		xhp_view_free(&v);
		return XHP_EXIT_ERROR;
	}
	if (cli->json) {
		json_object *o = xhp_report_plan(&v, &s->inv);

		puts(json_object_to_json_string_ext(o, XHP_REPORT_JSON_FLAGS));
		json_object_put(o);
	} else {
		print_problems(cli, s, &v.plan, mode);
		res.outcome = v.plan.refused ? XHP_OUTCOME_REFUSED : XHP_OUTCOME_DONE;
		cli_report_result(cli, s, &v, &res);
		if (!v.plan.refused && !v.plan.nsteps)
			cli_say(cli, "nothing to do");
		else
			cli_print_plan(cli, &v.plan, true);
	}
	ret = xhp_plan_has_errors(&v.plan) || s->inv.nproblems ? XHP_EXIT_ERROR : XHP_EXIT_OK;
	xhp_view_free(&v);
	return ret;
}

static int converge(const struct xhp_cli *cli, struct xhp_session *s, enum xhp_mode mode, const char *why)
{
	struct xhp_view v;
	struct xhp_result res;
	int ret, guard;

	cli_print_guard_changes(cli, s);
	xhp_converge(s, mode, &v, &res);
	xhp_metrics_after_run(s, mode == XHP_MODE_BOOT ? "boot" : "apply", &res);
	if (res.outcome != XHP_OUTCOME_NO_PAYLOAD_DIR)
		print_problems(cli, s, &v.plan, mode);
	ret = cli_report_result(cli, s, &v, &res);
	if (res.outcome == XHP_OUTCOME_DONE) {
		print_summary(cli, s, &v.plan);
		xhp_apply_log("%s: %zu step%s, stack of %zu", why, v.plan.nsteps, v.plan.nsteps == 1 ? "" : "s",
			      v.plan.ndesired);
		if (unusable_payloads(s, &v.plan))
			ret = XHP_EXIT_ERROR;
	} else {
		xhp_apply_log("%s: failed at %s %s", why,
			      res.outcome == XHP_OUTCOME_STEP_FAILED ? xhp_step_op_name(res.failed.op) : "plan",
			      res.outcome == XHP_OUTCOME_STEP_FAILED ? res.failed.name : "-");
	}
	guard = report_guard(cli, s, &res, mode);
	if (ret == XHP_EXIT_OK)
		ret = guard;
	if (cli->verbose > 0)
		cli_say(cli, "timing: session open %.1f ms, converge %.1f ms, reading the hypervisor %.1f ms, "
			     "crash-loop guard %.1f ms, record %.1f ms, metrics %.1f ms", s->time.open / 1000.0,
			s->time.converge / 1000.0, s->time.read_hv / 1000.0, s->time.guard / 1000.0,
			s->time.record / 1000.0, s->time.metrics / 1000.0);
	xhp_result_free(&res);
	xhp_view_free(&v);
	return ret;
}

/* --auto: what package scripts run. Policy and the place decide whether to
 * touch the hypervisor at all; 1 when not (said why), 0 to go on. */
static int auto_skips(const struct xhp_cli *cli)
{
	struct xhp_config cfg;
	struct xhp_err err = { { 0 } };
	const char *skip = NULL;
	int skipped;

	xhp_config_defaults(&cfg);
	if (xhp_config_load(&cfg, cli->root, cli->config, &err) < 0) {
		cli_error("%s: not applying payloads now", err.msg);
		xhp_config_free(&cfg);
		return 1;
	}
	if (cfg.apply_on_install == XHP_AOI_NEVER) {
		cli_say(cli, "xen-hotpatch: apply_on_install = never: payloads not applied now "
			     "(run `xen-hotpatch apply`)");
	} else if (cfg.apply_on_install == XHP_AOI_AUTO) {
		if (cli->root && strcmp(cli->root, "/"))
			skip = "installing into an alternate root";
		else if (in_chroot())
			skip = "running in a chroot or image build";
		if (skip)
			cli_say(cli, "xen-hotpatch: %s: payloads not applied now "
				     "(they are applied at the next boot of that system)", skip);
	}
	skipped = cfg.apply_on_install == XHP_AOI_NEVER || skip;
	xhp_config_free(&cfg);
	return skipped;
}

/* It never fails the package manager: every problem is printed and left
 * for `status` to report. */
static int apply_auto(struct xhp_cli *cli)
{
	struct xhp_session s;
	struct xhp_err err = { { 0 } };
	int r;

	if (auto_skips(cli))
		return XHP_EXIT_OK;
	r = cli_session_open(cli, &s, &err);
	if (r == -ENODEV) {
		cli_say(cli, "xen-hotpatch: %s: payloads not applied now", err.msg);
		return XHP_EXIT_OK;
	}
	if (r < 0) {
		cli_error("%s: payloads not applied now; `xen-hotpatch status` shows what is pending", err.msg);
		return XHP_EXIT_OK;
	}
	if (converge(cli, &s, XHP_MODE_APPLY, "apply --auto"))
		cli_error("the hypervisor was not fully updated; `xen-hotpatch status` keeps reporting it");
	xhp_session_close(&s);
	return XHP_EXIT_OK;
}

int cmd_apply(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct xhp_err err = { { 0 } };
	bool dry = cli->dry_run;
	int r;

	(void)argc;
	(void)argv;
	if (cli->automatic)
		return apply_auto(cli);
	r = cli_session_open(cli, &s, &err);
	if (r < 0) {
		cli_error("%s", err.msg);
		return cli_open_exit_code(r);
	}
	r = dry ? dry_run(cli, &s, XHP_MODE_APPLY) : converge(cli, &s, XHP_MODE_APPLY, "apply");
	xhp_session_close(&s);
	return r;
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

/* Policy says no (or cannot be read): said why. */
static bool boot_disabled(const struct xhp_cli *cli)
{
	struct xhp_config cfg;
	struct xhp_err err = { { 0 } };
	bool off = false;

	xhp_config_defaults(&cfg);
	if (xhp_config_load(&cfg, cli->root, cli->config, &err) < 0) {
		cli_error("%s: not applying payloads at boot", err.msg);
		off = true;
	} else if (!cfg.boot_apply) {
		cli_say(cli, "xen-hotpatch: boot_apply = no in policy: not applying payloads");
		off = true;
	}
	xhp_config_free(&cfg);
	return off;
}

int cmd_boot(struct xhp_cli *cli, int argc, char **argv)
{
	struct xhp_session s;
	struct xhp_err err = { { 0 } };

	(void)argc;
	(void)argv;
	/* boot never fails: whatever happens, exit 0 and say why */
	if (killed_by_cmdline()) {
		cli_say(cli, "xen-hotpatch: xen_hotpatch=0 on the kernel command line: not applying payloads");
		return XHP_EXIT_OK;
	}
	if (boot_disabled(cli))
		return XHP_EXIT_OK;
	if (cli_session_open(cli, &s, &err) < 0) {
		cli_error("%s", err.msg);
		cli_error("not applying payloads at boot");
		return XHP_EXIT_OK;
	}
	if (!xhp_guard_present(&s.guard)) {
		_cleanup_free_ char *dir = xhp_escape(s.guard.dir);

		cli_say(cli, "xen-hotpatch: %s does not exist (a separate /var not mounted yet?): "
			     "no payload is proven here, so none is applied now; "
			     "xen-hotpatch.service reapplies the stack later", dir);
	}
	if (converge(cli, &s, XHP_MODE_BOOT, "boot"))
		cli_error("boot: the stack was not fully reapplied; `xen-hotpatch status` shows what is missing");
	xhp_session_close(&s);
	return XHP_EXIT_OK;
}
