/* SPDX-License-Identifier: GPL-2.0-only */
/* Backend selection and the one place that waits for asynchronous actions. */
#include <errno.h>
#include <string.h>

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

const char *xhp_state_name(int state)
{
	switch (state) {
	case XHP_STATE_CHECKED: return "CHECKED";
	case XHP_STATE_APPLIED: return "APPLIED";
	}
	return "unknown";
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

/* How often a busy hypervisor is asked again: "another action is in flight"
 * (the sysctl's -EBUSY) and "the CPUs did not quiesce in time" (rc -EBUSY)
 * are transient; anything else is final. */
#define BUSY_RETRIES 5

int xhp_backend_act(struct xhp_backend *be, const char *name, enum xhp_action action,
		    uint32_t flags, uint32_t timeout_ns, unsigned deadline_ms, int *hv_rc)
{
	unsigned long long deadline = xhp_now_ms() + deadline_ms;
	struct xhp_status st;
	unsigned pause, busy_pause = 5, tries;
	int r = 0, want;

	if (hv_rc)
		*hv_rc = 0;
	want = action == XHP_ACTION_REVERT ? XHP_STATE_CHECKED : XHP_STATE_APPLIED;
	for (tries = 0; tries <= BUSY_RETRIES; tries++) {
		if (tries) {
			if (xhp_now_ms() + busy_pause >= deadline)
				break;
			xhp_sleep_ms(busy_pause);
			busy_pause *= 4;
		}
		r = be->ops->action(be, name, action, timeout_ns, flags);
		if (r == -EBUSY)
			continue;
		if (r < 0)
			return r;
		/* poll GET with backoff until the work is done or the deadline */
		for (pause = 1;;) {
			r = be->ops->get(be, name, &st);
			if (action == XHP_ACTION_UNLOAD)
				return r == -ENOENT ? 0 : (r < 0 ? r : -EPROTO);
			if (r < 0)
				return r;
			if (st.rc != -EAGAIN)
				break;
			if (xhp_now_ms() >= deadline)
				return -ETIME;
			xhp_sleep_ms(pause);
			pause = pause * 2 > 100 ? 100 : pause * 2;
		}
		if (hv_rc)
			*hv_rc = st.rc;
		if (st.rc == -EBUSY) {
			r = -EBUSY; /* rendezvous timed out: nothing changed, ask again */
			continue;
		}
		if (st.rc < 0)
			return st.rc;
		return st.state == want ? 0 : -EPROTO;
	}
	return r;
}
