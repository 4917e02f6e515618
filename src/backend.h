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

#include "xhp.h"

enum xhp_state { XHP_STATE_CHECKED = 1, XHP_STATE_APPLIED = 2 };
enum xhp_action {
	XHP_ACTION_UNLOAD = 1,
	XHP_ACTION_REVERT = 2,
	XHP_ACTION_APPLY = 3,
	XHP_ACTION_REPLACE = 4,
};
#define XHP_ACTION_APPLY_NODEPS (1u << 0)

const char *xhp_action_name(enum xhp_action a);	/* "apply", ... */
const char *xhp_state_name(int state);		/* "CHECKED", "APPLIED", "unknown" */

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
	/* GET: -ENOENT if unknown. */
	int (*get)(struct xhp_backend *be, const char *name, struct xhp_status *st);
	int (*upload)(struct xhp_backend *be, const char *name, const void *buf,
		      size_t len);
	/* ACTION: timeout in ns (0 = Xen's 30 ms default), flags for APPLY. */
	int (*action)(struct xhp_backend *be, const char *name,
		      enum xhp_action action, uint32_t timeout_ns, uint32_t flags);
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

/* Issue an action and wait for it: poll get() with backoff (starting at
 * 1 ms, doubling, capped at 100 ms) until rc != -EAGAIN or deadline_ms
 * passes. Returns 0 when the payload reached the action's final state
 * (UNLOAD: gone), the sysctl's error, the final rc, -ETIME past the deadline,
 * or -EPROTO if the action "succeeded" but the state is wrong (e.g. Xen's
 * silent refusal to reapply a reverted payload shows as CHECKED, rc -EINVAL:
 * then -EINVAL). *hv_rc receives the payload's final rc when known. */
int xhp_backend_act(struct xhp_backend *be, const char *name,
		    enum xhp_action action, uint32_t flags, uint32_t timeout_ns,
		    unsigned deadline_ms, int *hv_rc);

#endif
