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

	if (cli->verbose < 0 || cli->json)
		return;
	if (!res)
		printf("%s %s ... ", step_verb(s->op, false), s->name);
	else
		printf("%s\n", res->status == XHP_ACT_DONE ? "done" : "failed");
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

	for (i = 0; i < c->quarantined.n; i++)
		cli_say(cli, "%s: quarantined: its apply in an earlier boot was not seen to complete (the host went "
			     "down during it); release it with: xen-hotpatch clear %s", c->quarantined.v[i],
			c->quarantined.v[i]);
	for (i = 0; i < c->unproven.n; i++)
		cli_say(cli, "%s: not proven: the host went down within proven_after_s of its apply; "
			     "`xen-hotpatch apply` applies it again", c->unproven.v[i]);
}

void cli_print_plan(const struct xhp_cli *cli, const struct xhp_plan *p, bool dry)
{
	size_t i;

	for (i = 0; i < p->nsteps; i++)
		cli_say(cli, "%s %s", step_verb(p->steps[i].op, dry), p->steps[i].name);
}

/* ---- what went wrong, in words ------------------------------------------------- */

static const char *permission_text(void)
{
	return "not permitted: run as root in dom0 (with XSM/FLASK, dom0 needs the livepatch permissions: "
	       "see policy/README.md), and the tools must match the hypervisor version";
}

/* Why the hypervisor refused an upload. */
static const char *upload_refusal(int err)
{
	switch (-err) {
	case EEXIST: return "the hypervisor already has a payload with this name, this build-id, or one of its new symbols";
	case EINVAL: return "the hypervisor refused the payload (malformed, or built for another hypervisor; "
			    "`xl dmesg` has its reason)";
	case ENOENT: return "a symbol or function the payload needs is not in the hypervisor";
	case EOPNOTSUPP: return "the hypervisor does not support something in this payload";
	case EOVERFLOW: return "the payload's code is too far from the function it patches";
	case EBUSY: return "the hypervisor is busy: try again";
	default: return NULL;
	}
}

/* Why the hypervisor refused an action when it was asked. */
static const char *action_refusal(enum xhp_step_op op, int err, const struct xhp_identity *id)
{
	switch (-err) {
	case EINVAL:
		if (op == XHP_STEP_APPLY || op == XHP_STEP_APPLY_NODEPS)
			return id && id->expectations
				? "the hypervisor refused to apply it: an expectation did not match the running code, "
				  "or its .livepatch.depends is not the top of the applied stack (`xl dmesg` says which)"
				: "the hypervisor refused to apply it: its .livepatch.depends is not the top of the "
				  "applied stack (`xl dmesg` has the reason)";
		if (op == XHP_STEP_REPLACE)
			return "the hypervisor refused REPLACE: the payload must depend on the hypervisor itself";
		if (op == XHP_STEP_UNLOAD)
			return "the hypervisor refused to unload it: it is still applied";
		return "the hypervisor refused the action (invalid argument)";
	case ERANGE: return "an expectation is longer than the function it checks";
	case EFAULT: return "an expectation names no address";
	case EOPNOTSUPP:
		if (op == XHP_STEP_REPLACE)
			return "REPLACE is impossible while this or an applied payload has pre/post hooks";
		return "the hypervisor does not support this action";
	default: return NULL;
	}
}

/* Refusals any call can meet. */
static const char *common_refusal(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES: return permission_text();
	case ENOSYS: return "this hypervisor was built without CONFIG_LIVEPATCH";
	case ENODATA: return "this hypervisor has no build-id, so it cannot take payloads";
	case ENOMEM: return "the hypervisor is out of memory";
	default: return strerror(-err);
	}
}

static const char *hook_label(enum xhp_step_op op, bool pre)
{
	if (op == XHP_STEP_REVERT)
		return pre ? "pre-revert" : "revert";
	return pre ? "pre-apply" : "apply";
}

static const char *action_word(enum xhp_step_op op)
{
	switch (op) {
	case XHP_STEP_REVERT: return "revert";
	case XHP_STEP_REPLACE: return "replace";
	case XHP_STEP_UNLOAD: return "unload";
	default: return "apply";
	}
}

/* The work ran and ended with rc: whose doing it was, where it is known. */
static char *work_failure(enum xhp_step_op op, const char *name, int rc, const struct xhp_identity *id)
{
	bool revert = op == XHP_STEP_REVERT;
	enum xhp_hook action_hook = revert ? XHP_HOOK_REVERT : XHP_HOOK_APPLY;

	if (id && op == XHP_STEP_REPLACE)
		return xhp_asprintf("REPLACE with %s ended with rc %d: a revert inside it failed, an expectation "
				    "of %s did not match the unpatched code, or its apply failed (`xl dmesg` says which)",
				    name, rc, name);
	if (id && xhp_identity_has_hook(id, action_hook))
		return xhp_asprintf("the %s hook of %s failed (rc %d); `xl dmesg` shows its messages",
				    hook_label(op, false), name, rc);
	if (rc == -EINVAL && !revert && id && !id->safe_to_reapply)
		return xhp_asprintf("Xen refuses to apply %s again after a revert (it has writable data): it must "
				    "be unloaded and uploaded again, which the next `xen-hotpatch apply` does", name);
	return xhp_asprintf("the hypervisor's %s of %s ended with rc %d (%s)", action_word(op), name, rc,
			    rc == -EBUSY ? "the CPUs did not quiesce in time" : strerror(-rc));
}

/* The text after "OP NAME failed: ", and its exit code. */
static char *failure_text(const struct xhp_cli *cli, const struct xhp_session *s, const struct xhp_result *res,
			  const struct xhp_identity *id, int *code)
{
	const struct xhp_act_result *a = &res->act;
	enum xhp_step_op op = res->failed.op;
	const char *name = res->failed.name, *why;

	(void)cli;
	*code = XHP_EXIT_ERROR;
	if (res->file_err)
		return xhp_strdup(a->why);
	switch (a->status) {
	case XHP_ACT_REFUSED:
		why = op == XHP_STEP_UPLOAD ? upload_refusal(a->err) : action_refusal(op, a->err, id);
		if (a->err == -EBUSY)
			*code = XHP_EXIT_BUSY;
		return xhp_asprintf("%s (%s%s%s)", xhp_errno_name(a->err), why ? why : common_refusal(a->err),
				    a->why[0] ? ": " : "", a->why);
	case XHP_ACT_VETOED:
		return xhp_asprintf("the %s hook of %s vetoed the %s (rc %d, %s); `xl dmesg` shows what the hook "
				    "says; try again when it allows it", hook_label(op, true), name, action_word(op),
				    a->rc, xhp_errno_name(a->rc));
	case XHP_ACT_FAILED: {
		_cleanup_free_ char *w = work_failure(op, name, a->rc, id);

		return xhp_asprintf("%s (%s)", xhp_errno_name(a->rc), w);
	}
	case XHP_ACT_BUSY:
		*code = XHP_EXIT_BUSY;
		return xhp_asprintf("EBUSY (the hypervisor stayed busy: another livepatch action in flight, or the "
				    "CPUs did not quiesce in time even with longer timeouts): try again");
	case XHP_ACT_NOT_TOP:
		return xhp_asprintf("EBUSY (%s is not the top of the applied stack as the hypervisor sees it, and "
				    "Xen reverts only the top)", name);
	case XHP_ACT_TIMEOUT:
		*code = XHP_EXIT_BUSY;
		return xhp_asprintf("ETIME (still in progress after deadline_ms = %u ms: the hypervisor may still "
				    "finish it; the next run sees how it ended)", s->cfg.deadline_ms);
	case XHP_ACT_WRONG_STATE:
		return xhp_asprintf("EPROTO (%s is %s, which this action does not expect)", name,
				    xhp_state_name(a->state));
	case XHP_ACT_GONE:
		return xhp_asprintf("ENOENT (no payload of that name is loaded)");
	case XHP_ACT_DONE:
		break;
	}
	return xhp_strdup("?");
}

/* What the hypervisor runs now, read again after the failure. */
static char *state_after(const struct xhp_result *res)
{
	_cleanup_free_ char *stack = xhp_strv_join(&res->applied_after, " ");
	const char *pending = res->act.status == XHP_ACT_TIMEOUT ? " (the action is still in progress)" : "";

	if (res->rolled_back)
		return xhp_asprintf("on_failure = rollback put the earlier stack back: applied now, bottom first: %s",
				    res->applied_after.n ? stack : "none");
	if (!res->applied_after.n)
		return xhp_asprintf("nothing is applied now%s%s", pending,
				    res->failed.op == XHP_STEP_REPLACE ? ": the hypervisor is unpatched" : "");
	return xhp_asprintf("applied now, bottom first: %s%s", stack, pending);
}

static const struct xhp_identity *failed_identity(const struct xhp_session *s, const struct xhp_view *v,
						  const struct xhp_result *res)
{
	const struct xhp_record *r;

	if (res->failed.installed >= 0)
		return &v->installed[res->failed.installed].ident;
	r = xhp_records_find((struct xhp_records *)&s->rec, res->failed.name);
	return r ? &r->ident : NULL;
}

static int report_step_failure(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_view *v,
			       const struct xhp_result *res)
{
	int code;
	_cleanup_free_ char *what = failure_text(cli, s, res, failed_identity(s, v, res), &code);
	_cleanup_free_ char *now = state_after(res);

	cli_error("%s %s failed: %s; %s; see `xen-hotpatch status`", xhp_step_op_name(res->failed.op),
		  res->failed.name, what, now);
	return code;
}

int cli_report_result(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_view *v,
		      const struct xhp_result *res)
{
	size_t i;

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
