/* SPDX-License-Identifier: GPL-2.0-only */
/* Backend selection and the one place that waits for asynchronous actions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "util.h"

const char *xhp_action_name(enum xhp_action a)
{
	switch (a) {
	case XHP_ACTION_UNLOAD: return "unload";
	case XHP_ACTION_REVERT: return "revert";
	case XHP_ACTION_APPLY: return "apply";
	case XHP_ACTION_REPLACE: return "replace";
	}
	return "?";
}

void xhp_loaded_free(struct xhp_loaded *l, size_t n)
{
	size_t i;

	for (i = 0; l && i < n; i++)
		free(l[i].metadata);
	free(l);
}

int xhp_backend_open(const char *spec, struct xhp_backend **be, struct xhp_err *err)
{
	if (!strcmp(spec, "xen"))
		return xhp_backend_xen.open(be, NULL, err);
	if (!strncmp(spec, "sim:", 4) && spec[4])
		return xhp_backend_sim.open(be, spec + 4, err);
	xhp_err_set(err, "unknown backend \"%s\" (use xen or sim:DIR)", spec);
	return -EINVAL;
}

void xhp_backend_close(struct xhp_backend *be)
{
	if (be)
		be->ops->close(be);
}

const char *xhp_backend_explain(struct xhp_backend *be)
{
	const char *w = be->ops->explain ? be->ops->explain(be) : NULL;

	return w ? w : "";
}

/* ---- one action, to its result ------------------------------------------ */

#define XEN_TIMEOUT_MAX_MS 4294u	/* the u32 of nanoseconds Xen takes */
#define XEN_TIMEOUT_DEFAULT_MS 30u
/* How often a busy hypervisor is asked again: the sysctl's -EBUSY (another
 * action in flight; about half a second in all), and a rendezvous timeout
 * (the timeout doubles each time: 30 ms becomes 480 ms by the last). */
#define BUSY_TRIES 8
#define RENDEZVOUS_TRIES 5
/* REVERT's -EBUSY with nothing in flight: asked again this often (a CPU
 * hotplug holds Xen's CPU maps for a moment), then it is not the top. */
#define NOT_TOP_TRIES 3

struct act {
	struct xhp_backend *be;
	const char *name;
	enum xhp_action action;
	const struct xhp_act_params *params;
	struct xhp_act_result *res;
	unsigned long long start_us, deadline_us;
	unsigned timeout_ms;
	int pre_rc;		/* the payload's rc before the action */
};

static void sleep_us(unsigned long long us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000ull), .tv_nsec = (long)(us % 1000000ull) * 1000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void finish(struct act *a, enum xhp_act_status status)
{
	a->res->status = status;
	if (status != XHP_ACT_DONE && !a->res->why[0])
		snprintf(a->res->why, sizeof(a->res->why), "%s", xhp_backend_explain(a->be));
}

static int want_state(enum xhp_action action)
{
	return action == XHP_ACTION_REVERT ? XHP_STATE_CHECKED : XHP_STATE_APPLIED;
}

/* The state the action needs (Xen's no-ops are not sent). false: finished. */
static bool precondition(struct act *a)
{
	struct xhp_status st;
	int r = a->be->ops->get(a->be, a->name, &st);

	if (r == -ENOENT) {
		finish(a, a->action == XHP_ACTION_UNLOAD ? XHP_ACT_DONE : XHP_ACT_GONE);
		return false;
	}
	if (r < 0) {
		a->res->err = r;
		finish(a, XHP_ACT_REFUSED);
		return false;
	}
	a->pre_rc = st.rc;
	a->res->state = st.state;
	a->res->rc = st.rc;
	if (st.state != (a->action == XHP_ACTION_REVERT ? XHP_STATE_APPLIED : XHP_STATE_CHECKED)) {
		finish(a, XHP_ACT_WRONG_STATE);
		return false;
	}
	return true;
}

bool xhp_backend_settle_stale_rc(struct xhp_backend *be, const char *name, struct xhp_status *st)
{
	int noop = st->state == XHP_STATE_APPLIED ? XHP_ACTION_APPLY : XHP_ACTION_REVERT;
	struct xhp_status now;

	if (st->rc != -EAGAIN || be->ops->action(be, name, noop, 0, 0) != 0 || be->ops->get(be, name, &now) < 0)
		return false;
	*st = now;
	if (st->rc == -EAGAIN)
		st->rc = 0;
	return true;
}

/* Is any livepatch work in flight (some payload's rc reads -EAGAIN, and
 * not a stale one)? */
static bool work_in_flight(struct xhp_backend *be)
{
	struct xhp_loaded *l = NULL;
	size_t n = 0, i;
	bool busy = false;

	if (be->ops->list(be, &l, &n) < 0)
		return true; /* cannot tell: treat as busy */
	for (i = 0; i < n && !busy; i++)
		busy = l[i].st.rc == -EAGAIN && !xhp_backend_settle_stale_rc(be, l[i].name, &l[i].st);
	xhp_loaded_free(l, n);
	return busy;
}

/* A refusal that set the payload's rc to the error is a pre-hook's veto. */
static bool vetoed(struct act *a, int err)
{
	struct xhp_status st;

	if (a->action != XHP_ACTION_APPLY && a->action != XHP_ACTION_REVERT)
		return false;
	if (a->params->pre_hook == 0 || a->be->ops->get(a->be, a->name, &st) < 0 || st.rc != err)
		return false;
	a->res->rc = st.rc;
	return a->params->pre_hook == 1 || st.rc != a->pre_rc;
}

/* Send the action; the sysctl's -EBUSY (other work in flight) is asked
 * again with backoff. false: finished. */
static bool send(struct act *a)
{
	unsigned long long pause = 2000;
	unsigned busy = 0, idle = 0;
	int r;

	for (;;) {
		a->res->tries++;
		r = a->be->ops->action(a->be, a->name, a->action, a->timeout_ms * 1000000u, a->params->flags);
		if (r != -EBUSY)
			break;
		if (a->action == XHP_ACTION_REVERT && !work_in_flight(a->be) && ++idle >= NOT_TOP_TRIES) {
			a->res->err = r;
			finish(a, XHP_ACT_NOT_TOP);
			return false;
		}
		if (++busy >= BUSY_TRIES || xhp_now_us() + pause >= a->deadline_us) {
			a->res->err = r;
			finish(a, XHP_ACT_BUSY);
			return false;
		}
		sleep_us(pause);
		pause = pause * 2 > 50000 ? 50000 : pause * 2;
	}
	if (r == -ENOENT) {
		finish(a, XHP_ACT_GONE);
		return false;
	}
	if (r < 0) {
		a->res->err = r;
		finish(a, vetoed(a, r) ? XHP_ACT_VETOED : XHP_ACT_REFUSED);
		return false;
	}
	return true;
}

/* Poll GET until the work is done: closely at first (Xen's own apply
 * takes a few ms), then in proportion to the time waited, so the wait
 * overshoots Xen's time by a quarter at most. false: gave up or gone. */
static bool wait_done(struct act *a, unsigned long long sent_us, struct xhp_status *st)
{
	unsigned long long elapsed, pause;
	int r;

	for (;;) {
		r = a->be->ops->get(a->be, a->name, st);
		if (a->action == XHP_ACTION_UNLOAD) {
			finish(a, r == -ENOENT ? XHP_ACT_DONE : XHP_ACT_WRONG_STATE);
			return false;
		}
		if (r < 0) {
			a->res->err = r;
			finish(a, r == -ENOENT ? XHP_ACT_GONE : XHP_ACT_REFUSED);
			return false;
		}
		a->res->state = st->state;
		a->res->rc = st->rc;
		if (st->rc != -EAGAIN)
			return true;
		elapsed = xhp_now_us() - sent_us;
		if (xhp_now_us() >= a->deadline_us) {
			finish(a, XHP_ACT_TIMEOUT);
			return false;
		}
		pause = elapsed / 4 < 250 ? 250 : elapsed / 4 > 20000 ? 20000 : elapsed / 4;
		sleep_us(pause);
	}
}

void xhp_backend_run(struct xhp_backend *be, const char *name, enum xhp_action action,
		     const struct xhp_act_params *params, struct xhp_act_result *res)
{
	struct act a = { .be = be, .name = name, .action = action, .params = params, .res = res };
	struct xhp_status st;
	unsigned rendezvous = 0;

	memset(res, 0, sizeof(*res));
	a.start_us = xhp_now_us();
	a.deadline_us = a.start_us + (unsigned long long)params->deadline_ms * 1000ull;
	a.timeout_ms = params->timeout_ms ? params->timeout_ms : XEN_TIMEOUT_DEFAULT_MS;
	if (a.timeout_ms > XEN_TIMEOUT_MAX_MS)
		a.timeout_ms = XEN_TIMEOUT_MAX_MS;
	if (!precondition(&a))
		return;
	for (;;) {
		unsigned long long sent = xhp_now_us();

		if (!send(&a))
			break;
		if (!wait_done(&a, sent, &st))
			break;
		res->waited_us = xhp_now_us() - sent;
		if (st.rc == -EBUSY && ++rendezvous < RENDEZVOUS_TRIES && xhp_now_us() < a.deadline_us) {
			/* the CPUs did not quiesce in time: nothing changed; ask
			 * again with a longer timeout */
			a.timeout_ms = a.timeout_ms * 2 > XEN_TIMEOUT_MAX_MS ? XEN_TIMEOUT_MAX_MS : a.timeout_ms * 2;
			continue;
		}
		if (st.rc == -EBUSY)
			finish(&a, XHP_ACT_BUSY);
		else if (st.rc < 0)
			finish(&a, XHP_ACT_FAILED);
		else
			finish(&a, st.state == want_state(action) ? XHP_ACT_DONE : XHP_ACT_WRONG_STATE);
		break;
	}
	if (!res->waited_us)
		res->waited_us = xhp_now_us() - a.start_us;
}

int xhp_act_errno(const struct xhp_act_result *r)
{
	switch (r->status) {
	case XHP_ACT_DONE: return 0;
	case XHP_ACT_REFUSED: return r->err;
	case XHP_ACT_VETOED:
	case XHP_ACT_FAILED: return r->rc;
	case XHP_ACT_BUSY:
	case XHP_ACT_NOT_TOP: return -EBUSY;
	case XHP_ACT_TIMEOUT: return -ETIME;
	case XHP_ACT_GONE: return -ENOENT;
	case XHP_ACT_WRONG_STATE: break;
	}
	return -EPROTO;
}

int xhp_backend_act(struct xhp_backend *be, const char *name, enum xhp_action action,
		    uint32_t flags, uint32_t timeout_ns, unsigned deadline_ms, int *hv_rc)
{
	struct xhp_act_params p = { .flags = flags, .pre_hook = -1, .timeout_ms = timeout_ns / 1000000u,
				    .deadline_ms = deadline_ms };
	struct xhp_act_result r;

	xhp_backend_run(be, name, action, &p, &r);
	if (hv_rc)
		*hv_rc = r.rc;
	return xhp_act_errno(&r);
}
