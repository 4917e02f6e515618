/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine: one session = policy + backend + lock + the hypervisor's view
 * + the installed payloads; converge() plans and runs the steps, keeping the
 * /run record and the crash-loop guard up to date. It never prints: every
 * event goes through the callbacks the CLI installs.
 */
#ifndef XHP_ENGINE_H
#define XHP_ENGINE_H

#include "backend.h"
#include "config.h"
#include "inventory.h"
#include "plan.h"
#include "state.h"

struct xhp_session_opts {
	const char *root;		/* NULL: / */
	const char *config_file;	/* NULL: ROOT/etc/xen-hotpatch/xen-hotpatch.conf */
	const char *backend;		/* NULL: from policy */
	bool lock;			/* take the run lock */
};

struct xhp_events {
	void *ctx;
	/* A step is about to run (result unused) or has run (done = true). */
	void (*step)(void *ctx, const struct xhp_step *s, bool done, int result, int hv_rc);
	/* A one-line note: quarantine, skip, rollback. */
	void (*note)(void *ctx, const char *msg);
};

struct xhp_session {
	struct xhp_config cfg;
	char *root;
	struct xhp_backend *be;
	struct xhp_build_id hv;
	char hv_hex[XHP_BUILD_ID_HEX_SIZE];
	char boot_id[128];
	int lock_fd;
	struct xhp_records rec;
	struct xhp_inventory inv;
	bool inv_ok;			/* the payload directory could be read */
	struct xhp_err inv_err;
	/* the hypervisor as last read */
	struct xhp_loaded *loaded;
	size_t nloaded;
	struct xhp_events ev;
};

/* Open: policy, backend, build-id, lock, record, inventory. On error err says
 * what; -EWOULDBLOCK: lock held past lock_wait_ms. */
int xhp_session_open(struct xhp_session *s, const struct xhp_session_opts *o,
		     struct xhp_err *err);
void xhp_session_close(struct xhp_session *s);

/* Re-read the hypervisor's list. */
int xhp_session_refresh(struct xhp_session *s, struct xhp_err *err);

enum xhp_mode {
	XHP_MODE_APPLY,		/* every eligible payload */
	XHP_MODE_BOOT,		/* proven payloads only */
};

/* Planner input for the current state. nodes/hvents are malloc'd arrays
 * owned by the caller (free with xhp_session_input_free). */
struct xhp_session_input {
	struct xhp_pnode *nodes;
	size_t nnodes;
	struct xhp_hvent *hvents;
	size_t nhvents;
	struct xhp_plan_input in;
};
void xhp_session_input(struct xhp_session *s, enum xhp_mode mode, struct xhp_session_input *si);
void xhp_session_input_free(struct xhp_session_input *si);

/* Crash-loop guard: attempts recorded in an earlier boot become quarantine.
 * Returns how many were quarantined. Best effort (read-only root: 0). */
int xhp_session_quarantine_stale(struct xhp_session *s);

/* Plan (dry_run: only plan) and run. *plan receives the plan made. Returns 0,
 * or the failing step's error with *failed pointing into plan->steps. */
int xhp_converge(struct xhp_session *s, enum xhp_mode mode, bool dry_run,
		 struct xhp_plan *plan, const struct xhp_step **failed, int *hv_rc);

/* Revert NAME and everything above it, then unload them. */
int xhp_revert_name(struct xhp_session *s, const char *name, struct xhp_plan *plan,
		    const struct xhp_step **failed, int *hv_rc, struct xhp_err *err);

#endif
