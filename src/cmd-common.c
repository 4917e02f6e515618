/* SPDX-License-Identifier: GPL-2.0-only */
/* Messages, exit codes and step printing shared by the verbs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

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

int cli_exit_code(int err)
{
	if (err == -EBUSY || err == -EWOULDBLOCK || err == -ETIME || err == -EAGAIN)
		return XHP_EXIT_BUSY;
	return err < 0 ? XHP_EXIT_ERROR : XHP_EXIT_OK;
}

const char *cli_explain(enum xhp_step_op op, int err)
{
	switch (-err) {
	case EBUSY:
		if (op == XHP_STEP_REVERT)
			return "the hypervisor is busy, or this payload is not the top of the applied stack: try again";
		return "the hypervisor is busy (another livepatch action in flight, or the CPUs did not "
		       "quiesce within action_timeout_ms): try again";
	case ETIME:
		return "the action did not complete before deadline_ms: the hypervisor may still finish it; "
		       "check `xen-hotpatch status` and try again";
	case EEXIST:
		return "the hypervisor already has a payload with this name, this build-id, or one of its "
		       "new symbols";
	case EINVAL:
		if (op == XHP_STEP_UPLOAD)
			return "the hypervisor refused the payload (malformed, or built for another hypervisor; "
			       "`xl dmesg` has its reason)";
		if (op == XHP_STEP_APPLY || op == XHP_STEP_APPLY_NODEPS)
			return "the hypervisor refused to apply it: its .livepatch.depends is not the top of the "
			       "applied stack, an expectation did not match the running code, or it was reverted "
			       "before and cannot be reapplied";
		if (op == XHP_STEP_REPLACE)
			return "the hypervisor refused REPLACE: the payload must depend on the hypervisor itself, "
			       "or a revert inside REPLACE failed";
		if (op == XHP_STEP_UNLOAD)
			return "the hypervisor refused to unload it: it is still applied";
		return "the hypervisor refused the action (invalid argument)";
	case EOPNOTSUPP:
		if (op == XHP_STEP_REPLACE)
			return "REPLACE is impossible while this or an applied payload has pre/post hooks";
		return "the hypervisor does not support this payload or action";
	case ENOENT:
		if (op == XHP_STEP_UPLOAD)
			return "a symbol or function the payload needs is not in the hypervisor";
		return "the hypervisor has no payload of that name";
	case ENOMEM:
		return "the hypervisor is out of memory";
	case EPERM:
	case EACCES:
		return "not permitted: run as root in dom0 (with XSM/FLASK, dom0 needs the livepatch "
		       "permissions: see policy/README.md), and the tools must match the hypervisor version";
	case ENOSYS:
		return "this hypervisor was built without CONFIG_LIVEPATCH";
	case ENODATA:
		return "this hypervisor has no build-id, so it cannot take payloads";
	case EOVERFLOW:
		return "the payload's code is too far from the function it patches";
	case ERANGE:
		return "an expectation is longer than the function it checks";
	case ESTALE:
		return "the payload file changed during this run: run apply again";
	case EPROTO:
		return "the action finished but left the payload in an unexpected state";
	default:
		return strerror(-err);
	}
}

int cli_session_open(struct xhp_cli *cli, struct xhp_session *s, bool lock)
{
	struct xhp_session_opts o = {
		.root = cli->root, .config_file = cli->config, .backend = cli->backend, .lock = lock,
	};
	struct xhp_err err = { { 0 } };
	int r = xhp_session_open(s, &o, &err);

	if (r < 0) {
		cli_error("%s", err.msg[0] ? err.msg : strerror(-r));
		xhp_session_close(s);
		return cli_exit_code(r);
	}
	cli_install_events(cli, s);
	return 0;
}

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

static void ev_step(void *ctx, const struct xhp_step *s, bool done, int result, int hv_rc)
{
	const struct xhp_cli *cli = ctx;

	(void)hv_rc;
	if (!done) {
		if (cli->verbose >= 0 && !cli->json) {
			printf("%s %s ... ", step_verb(s->op, false), s->name);
			fflush(stdout);
		}
		return;
	}
	if (cli->verbose >= 0 && !cli->json) {
		printf("%s\n", result == 0 ? "done" : "failed");
		fflush(stdout);
	}
}

static void ev_note(void *ctx, const char *msg)
{
	const struct xhp_cli *cli = ctx;

	if (cli->json)
		fprintf(stderr, "xen-hotpatch: %s\n", msg);
	else
		cli_say(cli, "%s", msg);
}

void cli_install_events(struct xhp_cli *cli, struct xhp_session *s)
{
	s->ev.ctx = cli;
	s->ev.step = ev_step;
	s->ev.note = ev_note;
}

void cli_print_plan(const struct xhp_cli *cli, const struct xhp_plan *p, bool dry)
{
	size_t i;

	for (i = 0; i < p->nsteps; i++)
		cli_say(cli, "%s %s", step_verb(p->steps[i].op, dry), p->steps[i].name);
}

int cli_report_failure(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_plan *p,
		       int err, const struct xhp_step *failed, int hv_rc)
{
	size_t i;

	(void)cli;
	if (err == -ENOENT && !failed && !s->inv_ok) {
		cli_error("%s: nothing changed", s->inv_err.msg);
		return XHP_EXIT_ERROR;
	}
	if (err == -ECANCELED) {
		for (i = 0; i < p->nproblems; i++)
			if (p->problems[i].kind == XHP_PROB_REFUSED || p->problems[i].kind == XHP_PROB_CONTENT)
				cli_error("%s: nothing changed", p->problems[i].msg);
		return XHP_EXIT_ERROR;
	}
	if (failed) {
		if (hv_rc && hv_rc != err)
			cli_error("%s %s failed: %s (%s; payload rc %d %s): the hypervisor keeps the stack "
				  "as it was before this step; see `xen-hotpatch status`",
				  xhp_step_op_name(failed->op), failed->name, xhp_errno_name(err),
				  cli_explain(failed->op, err), hv_rc, xhp_errno_name(hv_rc));
		else
			cli_error("%s %s failed: %s (%s): the hypervisor keeps the stack as it was before "
				  "this step; see `xen-hotpatch status`",
				  xhp_step_op_name(failed->op), failed->name, xhp_errno_name(err),
				  cli_explain(failed->op, err));
		return cli_exit_code(err);
	}
	cli_error("%s", strerror(-err));
	return cli_exit_code(err);
}
