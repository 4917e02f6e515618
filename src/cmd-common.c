/* SPDX-License-Identifier: GPL-2.0-only */
/* Messages, exit codes and step printing shared by the verbs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "explain.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("xen-hotpatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_say(const struct xhp_cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->verbose < 0)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

int cli_open_exit_code(int err)
{
	return err == -EWOULDBLOCK ? XHP_EXIT_BUSY : XHP_EXIT_ERROR;
}

/* ---- steps as they run ------------------------------------------------------ */

static const char *step_verb(enum xhp_step_op op, bool dry)
{
	switch (op) {
	case XHP_STEP_UPLOAD: return dry ? "would upload" : "upload";
	case XHP_STEP_APPLY: return dry ? "would apply" : "apply";
	case XHP_STEP_APPLY_NODEPS: return dry ? "would apply (independent, NODEPS)" : "apply (independent, NODEPS)";
	case XHP_STEP_REVERT: return dry ? "would revert" : "revert";
	case XHP_STEP_REPLACE: return dry ? "would replace the applied stack with" : "replace the applied stack with";
	case XHP_STEP_UNLOAD: return dry ? "would unload" : "unload";
	}
	return "?";
}

static void ev_step(void *ctx, const struct xhp_step *s, const struct xhp_act_result *res)
{
	const struct xhp_cli *cli = ctx;

	_cleanup_free_ char *name = NULL;

	if (cli->verbose < 0 || cli->json)
		return;
	if (!res) {
		name = xhp_escape(s->name);
		printf("%s %s ... ", step_verb(s->op, false), name);
	} else if (cli->verbose > 0) {
		/* -v: how long the step took (an action: from sending it to its result) */
		printf("%s (%.1f ms)\n", res->status == XHP_ACT_DONE ? "done" : "failed", (double)res->waited_us / 1000.0);
	} else {
		printf("%s\n", res->status == XHP_ACT_DONE ? "done" : "failed");
	}
	fflush(stdout);
}

static void ev_note(void *ctx, const char *msg)
{
	const struct xhp_cli *cli = ctx;

	if (cli->json)
		fprintf(stderr, "xen-hotpatch: %s\n", msg);
	else
		cli_say(cli, "%s", msg);
}

int cli_session_open(struct xhp_cli *cli, struct xhp_session *s, struct xhp_err *err)
{
	struct xhp_session_opts o = { .root = cli->root, .config_file = cli->config, .backend = cli->backend };
	int r = xhp_session_open(s, &o, err);

	if (r < 0) {
		if (!err->msg[0])
			xhp_err_set(err, "%s", strerror(-r));
		xhp_session_close(s);
		return r;
	}
	s->ev = (struct xhp_events){ .ctx = cli, .step = ev_step, .note = ev_note };
	return 0;
}

void cli_print_guard_changes(const struct xhp_cli *cli, const struct xhp_session *s)
{
	const struct xhp_guard_changes *c = &s->guard_changes;
	size_t i;

	for (i = 0; i < c->quarantined.n; i++) {
		_cleanup_free_ char *n = xhp_escape(c->quarantined.v[i]);

		cli_say(cli, "%s: quarantined: its apply in an earlier boot was not seen to complete (the host went "
			     "down during it, or the tool was stopped and the host rebooted before any run saw "
			     "the result); release it with: xen-hotpatch clear %s", n, n);
	}
	for (i = 0; i < c->unmarked.n; i++) {
		_cleanup_free_ char *n = xhp_escape(c->unmarked.v[i]);
		_cleanup_free_ char *dir = xhp_escape(s->guard.dir);

		cli_error("%s: its apply in an earlier boot was not seen to complete, and its quarantine mark cannot "
			  "be written in %s (%s): left out of this run; every run leaves it out until the mark can "
			  "be written", n, dir, strerror(-s->guard.write_error));
	}
	for (i = 0; i < c->unproven.n; i++) {
		_cleanup_free_ char *n = xhp_escape(c->unproven.v[i]);

		cli_say(cli, "%s: not proven: the host rebooted soon after its apply; "
			     "`xen-hotpatch apply` applies it again", n);
	}
}

void cli_print_plan(const struct xhp_cli *cli, const struct xhp_plan *p, bool dry)
{
	size_t i;

	for (i = 0; i < p->nsteps; i++) {
		_cleanup_free_ char *n = xhp_escape(p->steps[i].name);

		cli_say(cli, "%s %s", step_verb(p->steps[i].op, dry), n);
	}
}

static int report_step_failure(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_view *v,
			       const struct xhp_result *res)
{
	bool busy;
	_cleanup_free_ char *msg = xhp_explain_result(s, v, res, &busy);

	(void)cli;
	cli_error("%s; see `xen-hotpatch status`", msg);
	return busy ? XHP_EXIT_BUSY : XHP_EXIT_ERROR;
}

int cli_report_result(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_view *v,
		      const struct xhp_result *res)
{
	size_t i;

	if (s->record_error) {
		_cleanup_free_ char *dir = xhp_escape(xhp_run_dir());

		cli_error("warning: cannot write %s/loaded.json (%s): the next run takes what is loaded by name, "
			  "as reverted before", dir, strerror(-s->record_error));
	}
	switch (res->outcome) {
	case XHP_OUTCOME_NO_PAYLOAD_DIR:
		cli_error("%s: nothing changed", s->inv_err.msg);
		return XHP_EXIT_ERROR;
	case XHP_OUTCOME_REFUSED:
		for (i = 0; i < v->plan.nproblems; i++)
			if (xhp_problem_is_refusal(&v->plan.problems[i]))
				cli_error("%s: nothing changed", v->plan.problems[i].msg);
		return XHP_EXIT_ERROR;
	case XHP_OUTCOME_NOT_LOADED:
		return XHP_EXIT_ERROR; /* the verb says it */
	case XHP_OUTCOME_STEP_FAILED:
		return report_step_failure(cli, s, v, res);
	case XHP_OUTCOME_DONE:
		break;
	}
	return XHP_EXIT_OK;
}
