/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hypervisor backends: the livepatch sysctl as libxenctrl exposes it.
 *
 *   xen      libxenctrl (backend-xen.c), compiled in when libxen-dev is present
 *   sim:DIR  the simulated hypervisor kept in DIR (backend-sim.c, sim.c)
 *
 * Every op returns 0 (or a count) or a negative errno exactly as Xen 4.17.7
 * would return it from the sysctl (e.g. -EEXIST from upload, -EBUSY from a
 * non-top revert). Asynchronous actions: action() returns once the work is
 * scheduled; the result is read with get() (rc == -EAGAIN while pending).
 * Polling lives in one place: xhp_backend_act() below.
 */
#ifndef XHP_BACKEND_H
#define XHP_BACKEND_H

#include "identity.h"

enum xhp_action {
	XHP_ACTION_UNLOAD = 1,
	XHP_ACTION_REVERT = 2,
	XHP_ACTION_APPLY = 3,
	XHP_ACTION_REPLACE = 4,
};
#define XHP_ACTION_APPLY_NODEPS (1u << 0)

const char *xhp_action_name(enum xhp_action a);	/* "apply", ... */

struct xhp_status {
	int state;	/* enum xhp_state */
	int rc;		/* 0, -EAGAIN while pending, or the last action's error */
};

struct xhp_loaded {
	char name[XHP_NAME_MAX + 1];
	struct xhp_status st;
	uint8_t *metadata;	/* raw .modinfo bytes (NUL-separated), may be NULL */
	size_t metadata_len;
};
void xhp_loaded_free(struct xhp_loaded *l, size_t n);

struct xhp_backend;

struct xhp_backend_ops {
	const char *name; /* "xen", "sim" */
	/* arg: NULL for xen, DIR for sim. -ENODEV when there is no hypervisor
	 * (no privcmd / sim DIR not initialised); -ENOTSUP if not built in. */
	int (*open)(struct xhp_backend **be, const char *arg, struct xhp_err *err);
	void (*close)(struct xhp_backend *be);
	/* The running hypervisor's build-id (XENVER_build_id). */
	int (*build_id)(struct xhp_backend *be, struct xhp_build_id *id);
	/* Identity of this boot of the hypervisor: changes at every reboot.
	 * xen: /proc/sys/kernel/random/boot_id; sim: its boot counter. */
	int (*boot_id)(struct xhp_backend *be, char *buf, size_t bufsz);
	/* LIST, all pages, in upload order. *out malloc'd. */
	int (*list)(struct xhp_backend *be, struct xhp_loaded **out, size_t *n);
	/* How many payloads are loaded (LIST's size probe), cheap where LIST
	 * is not (Xen 4.17 needs LIST's buffers sized for the worst case).
	 * May be NULL. */
	int (*count)(struct xhp_backend *be, unsigned *n);
	/* GET: -ENOENT if unknown. */
	int (*get)(struct xhp_backend *be, const char *name, struct xhp_status *st);
	int (*upload)(struct xhp_backend *be, const char *name, const void *buf,
		      size_t len);
	/* ACTION: timeout in ns (0 = Xen's 30 ms default), flags for APPLY. */
	int (*action)(struct xhp_backend *be, const char *name,
		      enum xhp_action action, uint32_t timeout_ns, uint32_t flags);
	/* What the backend knows of its last failing call beyond the errno
	 * (the simulator's reason, libxenctrl's message): "" when nothing.
	 * May be NULL. */
	const char *(*explain)(struct xhp_backend *be);
};

struct xhp_backend {
	const struct xhp_backend_ops *ops;
};

extern const struct xhp_backend_ops xhp_backend_xen;
extern const struct xhp_backend_ops xhp_backend_sim;
extern const bool xhp_have_xen; /* false when built without libxenctrl */

/* Open by spec: "xen" or "sim:DIR". */
int xhp_backend_open(const char *spec, struct xhp_backend **be,
		     struct xhp_err *err);
void xhp_backend_close(struct xhp_backend *be);

/* The backend's explanation of its last failure, "" when none. */
const char *xhp_backend_explain(struct xhp_backend *be);

/* How an action ended (xhp_backend_run). */
enum xhp_act_status {
	XHP_ACT_DONE,		/* the payload reached the action's final state */
	XHP_ACT_REFUSED,	/* the sysctl refused it (err): nothing changed */
	XHP_ACT_VETOED,		/* a pre-apply / pre-revert hook refused (rc): nothing changed */
	XHP_ACT_FAILED,		/* the work ran and ended with rc (REPLACE: maybe halfway) */
	XHP_ACT_BUSY,		/* busy past the retries (rendezvous timeouts, other work) */
	XHP_ACT_NOT_TOP,	/* REVERT of a payload that is not the top of the stack */
	XHP_ACT_TIMEOUT,	/* still pending at the deadline: it may still finish */
	XHP_ACT_WRONG_STATE,	/* not in the state the action needs: nothing sent */
	XHP_ACT_GONE,		/* no payload of that name */
};

struct xhp_act_params {
	uint32_t flags;		/* XHP_ACTION_APPLY_NODEPS */
	int pre_hook;		/* the payload has the pre-hook of this action:
				 * 1 yes, 0 no, -1 unknown (foreign) */
	unsigned timeout_ms;	/* quiesce timeout for Xen (0: Xen's 30 ms); doubled
				 * at each rendezvous timeout, up to Xen's maximum */
	unsigned deadline_ms;	/* how long the whole action may take */
};

struct xhp_act_result {
	enum xhp_act_status status;
	int err;		/* the sysctl's error (negative), or 0 */
	int rc;			/* the payload's rc afterwards */
	int state;		/* the payload's state afterwards (0: unknown / gone) */
	unsigned tries;		/* actions sent */
	unsigned long long waited_us;	/* time from the action to its result (an upload: its call) */
	char why[512];		/* the backend's explanation, or "" (as struct xhp_err) */
};

/* Send an action and wait for its result, the one place that does:
 *  - an action the payload's state makes a no-op in Xen (REPLACE or APPLY
 *    of an APPLIED payload, REVERT or UNLOAD of a CHECKED / APPLIED one) is
 *    not sent: WRONG_STATE (UNLOAD of an absent payload: DONE);
 *  - the sysctl's -EBUSY is another action in flight: sent again with
 *    backoff, except for REVERT when nothing is in flight: NOT_TOP;
 *  - a refusal that set the payload's rc is a pre-hook's veto: VETOED;
 *  - GET is polled until rc != -EAGAIN, closely at first (Xen's own work
 *    takes a few ms), backing off in proportion to the time waited;
 *  - rc -EBUSY after the work is a rendezvous timeout: sent again with the
 *    timeout doubled, until the deadline;
 *  - the final state decides DONE or FAILED (Xen's silent refusal to apply
 *    again a reverted payload shows as CHECKED, rc -EINVAL). */
void xhp_backend_run(struct xhp_backend *be, const char *name, enum xhp_action action,
		     const struct xhp_act_params *params, struct xhp_act_result *res);

/* A payload's rc reads -EAGAIN while its action is in flight, and also for
 * ever after Xen refused to schedule an action on it (schedule_work's
 * -EBUSY leaves the rc it had just set). The no-op action of its state
 * (APPLY when APPLIED, REVERT when CHECKED) tells them apart: Xen refuses
 * it with -EBUSY only while the payload's own work is scheduled. When st
 * reads -EAGAIN and no work of the payload is scheduled, st is read again
 * and an rc still -EAGAIN reads 0 (stale). true: st was changed. */
bool xhp_backend_settle_stale_rc(struct xhp_backend *be, const char *name, struct xhp_status *st);

/* How an action ended, as a negative errno (0: done): the sysctl's error,
 * the payload's rc, -EBUSY (busy, not the top), -ETIME, -ENOENT (gone),
 * -EPROTO (wrong state). */
int xhp_act_errno(const struct xhp_act_result *r);

/* The older form: 0, or a negative errno (the sysctl's, the payload's rc,
 * -ETIME, -EBUSY, -EPROTO); *hv_rc the payload's rc. */
int xhp_backend_act(struct xhp_backend *be, const char *name,
		    enum xhp_action action, uint32_t flags, uint32_t timeout_ns,
		    unsigned deadline_ms, int *hv_rc);

#endif
