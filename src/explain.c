/* SPDX-License-Identifier: GPL-2.0-only */
/* What went wrong, in words (explain.h). */
#include <errno.h>
#include <string.h>

#include "explain.h"

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

char *xhp_explain_act(enum xhp_step_op op, const char *raw_name, const struct xhp_act_result *a, bool file_err,
		      const struct xhp_identity *id, unsigned deadline_ms, bool *busy)
{
	_cleanup_free_ char *name = xhp_escape(raw_name), *said = xhp_escape(a->why);
	const char *why;

	*busy = false;
	if (file_err)
		return xhp_strdup(a->why); /* the reader's words: escaped where they were made */
	switch (a->status) {
	case XHP_ACT_REFUSED:
		why = op == XHP_STEP_UPLOAD ? upload_refusal(a->err) : action_refusal(op, a->err, id);
		if (a->err == -EBUSY)
			*busy = true;
		return xhp_asprintf("%s (%s%s%s)", xhp_errno_name(a->err), why ? why : common_refusal(a->err),
				    said[0] ? ": " : "", said);
	case XHP_ACT_VETOED:
		return xhp_asprintf("the %s hook of %s vetoed the %s (rc %d, %s); `xl dmesg` shows what the hook "
				    "says; try again when it allows it", hook_label(op, true), name, action_word(op),
				    a->rc, xhp_errno_name(a->rc));
	case XHP_ACT_FAILED: {
		_cleanup_free_ char *w = work_failure(op, name, a->rc, id);

		return xhp_asprintf("%s (%s)", xhp_errno_name(a->rc), w);
	}
	case XHP_ACT_BUSY:
		*busy = true;
		return xhp_asprintf("EBUSY (the hypervisor stayed busy: another livepatch action in flight, or the "
				    "CPUs did not quiesce in time even with longer timeouts): try again");
	case XHP_ACT_NOT_TOP:
		return xhp_asprintf("EBUSY (%s is not the top of the applied stack as the hypervisor sees it, and "
				    "Xen reverts only the top)", name);
	case XHP_ACT_TIMEOUT:
		*busy = true;
		return xhp_asprintf("ETIME (still in progress after deadline_ms = %u ms: the hypervisor may still "
				    "finish it; the next run sees how it ended)", deadline_ms);
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

/* The applied stack after a failure, names escaped. */
static char *escaped_stack(const struct xhp_strv *applied)
{
	struct xhp_strv names = { 0 };
	char *stack;
	size_t i;

	for (i = 0; i < applied->n; i++) {
		_cleanup_free_ char *n = xhp_escape(applied->v[i]);

		xhp_strv_add(&names, n);
	}
	stack = xhp_strv_join(&names, " ");
	xhp_strv_free(&names);
	return stack;
}

char *xhp_explain_state_after(const struct xhp_result *res)
{
	_cleanup_free_ char *stack = escaped_stack(&res->applied_after);
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

char *xhp_explain_result(const struct xhp_session *s, const struct xhp_view *v, const struct xhp_result *res,
			 bool *busy)
{
	_cleanup_free_ char *what = xhp_explain_act(res->failed.op, res->failed.name, &res->act, res->file_err != 0,
						    failed_identity(s, v, res), s->cfg.deadline_ms, busy);
	_cleanup_free_ char *now = xhp_explain_state_after(res), *name = xhp_escape(res->failed.name);

	return xhp_asprintf("%s %s failed: %s; %s", xhp_step_op_name(res->failed.op), name, what, now);
}
