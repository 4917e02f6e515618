/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine: one session = policy + backend + lock + the hypervisor's view
 * + the installed payloads + the record of this boot + the crash-loop
 * guard. Opening a session reconciles the record and the guard with what
 * the hypervisor shows (actions that ended while nobody watched). A
 * converge or a revert plans (plan.h) and runs the steps, keeping both up
 * to date, and says what happened in a typed result. It never prints:
 * every event goes through the callbacks the CLI installs.
 */
#ifndef XHP_ENGINE_H
#define XHP_ENGINE_H

#include "backend.h"
#include "config.h"
#include "guard.h"
#include "inventory.h"
#include "plan.h"
#include "state.h"

struct xhp_session_opts {
	const char *root;		/* NULL: / */
	const char *config_file;	/* NULL: ROOT/etc/xen-hotpatch/xen-hotpatch.conf */
	const char *backend;		/* NULL: from policy */
};

struct xhp_events {
	void *ctx;
	/* A step is about to run (res NULL) or has run. */
	void (*step)(void *ctx, const struct xhp_step *s, const struct xhp_act_result *res);
	/* A one-line note: a cleanup, a rollback. */
	void (*note)(void *ctx, const char *msg);
};

struct xhp_session {
	struct xhp_config cfg;
	char *root;
	struct xhp_backend *be;
	struct xhp_build_id hv_id;
	char hv_hex[XHP_BUILD_ID_HEX_SIZE];
	char boot_id[128];
	int lock_fd;
	struct xhp_records rec;
	struct xhp_guard guard;
	struct xhp_guard_changes guard_changes;	/* what the reconcile at open did */
	struct xhp_inventory inv;
	bool inv_ok;			/* the payload directory could be read */
	struct xhp_err inv_err;
	struct xhp_loaded *loaded;	/* the hypervisor as last read */
	size_t nloaded;
	int record_error;		/* the first failed write of the record (-errno), or 0 */
	struct xhp_timing {		/* where a run's time went (apply -v, make bench), us */
		unsigned long long open, read_hv, guard, record, metrics, converge;
	} time;
	struct xhp_events ev;
};

/* Open: policy, backend, build-id, lock, record, inventory, then reconcile
 * the record and the guard with the hypervisor. On error err says what;
 * -EWOULDBLOCK: lock held past lock_wait_ms; -ENODEV: no hypervisor. */
int xhp_session_open(struct xhp_session *s, const struct xhp_session_opts *o, struct xhp_err *err);
void xhp_session_close(struct xhp_session *s);

enum xhp_mode {
	XHP_MODE_APPLY,		/* every eligible payload */
	XHP_MODE_BOOT,		/* proven payloads only */
};

/* The planner's view of the session, and the plan made from it. */
struct xhp_view {
	struct xhp_installed *installed;
	size_t ninstalled;
	struct xhp_hv_entry *hv;
	size_t nhv;
	struct xhp_strv *new_syms;	/* per installed payload */
	struct xhp_strv unreadable;	/* names of installed files that cannot be used */
	struct xhp_plan_input in;
	struct xhp_plan plan;
};
void xhp_view_build(struct xhp_session *s, enum xhp_mode mode, struct xhp_view *v);
void xhp_view_free(struct xhp_view *v);

/* What a converge or a revert did. */
enum xhp_outcome {
	XHP_OUTCOME_DONE,		/* every step ran (maybe none) */
	XHP_OUTCOME_REFUSED,		/* the plan was refused (its problems say why): nothing changed */
	XHP_OUTCOME_NO_PAYLOAD_DIR,	/* the payload folder cannot be read: nothing changed */
	XHP_OUTCOME_NOT_LOADED,		/* revert NAME: no payload of that name is loaded */
	XHP_OUTCOME_STEP_FAILED,	/* a step failed: failed, act */
};

struct xhp_result {
	enum xhp_outcome outcome;
	struct xhp_step failed;		/* the step that failed */
	struct xhp_act_result act;	/* how it failed (an upload: status REFUSED, err) */
	int file_err;			/* an upload's file could not be read or changed: -errno */
	size_t steps_done;
	bool rolled_back;		/* on_failure = rollback put the earlier stack back */
	unsigned unguarded;		/* applies sent without an attempt record */
	int guard_error;		/* the guard's first failed write (-errno), or 0 */
	struct xhp_strv applied_after;	/* the applied stack after a failure, bottom first */
};
void xhp_result_free(struct xhp_result *r);

/* Plan (in v, built here) and run the steps. */
void xhp_converge(struct xhp_session *s, enum xhp_mode mode, struct xhp_view *v, struct xhp_result *res);

/* Revert NAME and everything above it, then unload them. */
void xhp_revert_name(struct xhp_session *s, const char *name, struct xhp_view *v, struct xhp_result *res);

/* The applied stack now, bottom first (from the last read of the hypervisor). */
void xhp_session_applied(struct xhp_session *s, struct xhp_strv *names);

#endif
