/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The simulated hypervisor: Xen 4.17.7's livepatch subsystem, kept in a
 * directory so that several processes (the tool, package scripts, tests) can
 * share one "hypervisor" (the kmod testsuite model, style.md example 9).
 *
 * This is the fidelity reference for the real-Xen test tier: every rule it
 * enforces cites a section of ../shared/reference/xen-livepatch-semantics.md
 * in sim.c. Used through the "sim:DIR" backend (backend-sim.c) and by the
 * control program xen-hotpatch-sim (xen-hotpatch-sim.c).
 *
 * Every call takes an exclusive flock(2) on DIR/lock, loads DIR/state.json,
 * acts, writes the state back atomically (temp + fsync + rename) and
 * unlocks. A handle holds no open file between calls, so it is safe across
 * fork() and any number of processes may use the same DIR.
 *
 * Return values are exactly what Xen's sysctl would return (0 or -errno);
 * other failures of the simulator itself (I/O on DIR, corrupt state) are
 * -errno too, with a message in xhp_sim_last_error().
 */
#ifndef XHP_SIM_H
#define XHP_SIM_H

#include "backend.h"

/* Environment read by xhp_sim_open() (i.e. in the process issuing calls). */
#define XHP_SIM_ENV_FAIL "XEN_HOTPATCH_SIM_FAIL"
#define XHP_SIM_ENV_DELAY "XEN_HOTPATCH_SIM_DELAY"
/* Default number of observations that see pending work before it completes:
 * the first GET after an action still reads -EAGAIN. */
#define XHP_SIM_DEFAULT_DELAY 1u

/* ---- failure injection ------------------------------------------------ */
/* XEN_HOTPATCH_SIM_FAIL=OP:NAME:ERRNO[:async][,...]
 *   OP     upload apply revert replace unload
 *   NAME   a payload name, or "*" for every name (names with ':' or ','
 *          cannot be targeted)
 *   ERRNO  a name (EBUSY, EINVAL, ... as xhp_errno_parse() knows them) or
 *          a number, or "crash"
 * Sync (no ":async"): the sysctl returns -ERRNO and nothing changes.
 * ":async" (apply, revert, replace only): the sysctl returns 0 and the work
 *   later completes with rc = -ERRNO and no state change.
 * "crash": the host dies at the point of no return of that call (apply,
 *   revert, replace: once the work is scheduled, rc -EAGAIN; upload: once
 *   every check passed; unload: once it would free); the state is saved
 *   marked crashed and the calling process gets SIGKILL. Until `reboot`,
 *   every call but show/reboot/init then fails with -EHOSTDOWN. */
enum xhp_sim_fault_kind {
	XHP_SIM_FAULT_SYNC,
	XHP_SIM_FAULT_ASYNC,
	XHP_SIM_FAULT_CRASH,
};

#define XHP_SIM_OP_UPLOAD 0 /* alongside enum xhp_action (1..4) */

struct xhp_sim_fault {
	int op;			/* XHP_SIM_OP_UPLOAD or an enum xhp_action */
	char name[XHP_NAME_MAX + 1]; /* "*" matches every name */
	enum xhp_sim_fault_kind kind;
	int err;		/* positive errno; 0 for a crash */
};

/* Parse a spec (NULL or "" gives n = 0). *faults malloc'd. -EINVAL + err. */
int xhp_sim_faults_parse(const char *spec, struct xhp_sim_fault **faults,
			 size_t *n, struct xhp_err *err);

/* "upload", "apply", "revert", "replace", "unload" or "unknown". */
const char *xhp_sim_op_name(int op);

/* ---- lifetime ----------------------------------------------------------- */
/* `init`: mkdir -p DIR, fresh state (boot 1, nothing loaded). Resets an
 * existing DIR. id->len must be non-zero. */
int xhp_sim_init(const char *dir, const struct xhp_build_id *id,
		 struct xhp_err *err);
/* `reboot`: Xen forgets everything (§7.1): payloads, pending work, history
 * and actions; boot counter + 1; new build-id when id != NULL. A crashed
 * host comes back. -ENODEV when DIR is not initialised. */
int xhp_sim_reboot(const char *dir, const struct xhp_build_id *id,
		   struct xhp_err *err);

struct xhp_sim;
/* -ENODEV (DIR missing or not initialised), -EINVAL (bad
 * XEN_HOTPATCH_SIM_FAIL / _DELAY); err says why. Opening a crashed host
 * works (show does it); its hypervisor calls fail with -EHOSTDOWN. */
int xhp_sim_open(const char *dir, struct xhp_sim **sim, struct xhp_err *err);
void xhp_sim_close(struct xhp_sim *sim);
/* Override what xhp_sim_open() read from the environment (tests). */
int xhp_sim_set_faults(struct xhp_sim *sim, const char *spec,
		       struct xhp_err *err);
void xhp_sim_set_delay(struct xhp_sim *sim, unsigned delay);
/* Why the last failing call failed, when the simulator has more to say than
 * the errno (parse errors, I/O on DIR); "" otherwise. */
const char *xhp_sim_last_error(const struct xhp_sim *sim);

/* ---- the hypervisor (backend ops, same contracts as backend.h) ---------- */
int xhp_sim_build_id(struct xhp_sim *sim, struct xhp_build_id *id);
int xhp_sim_boot(struct xhp_sim *sim, unsigned long *boot);
int xhp_sim_upload(struct xhp_sim *sim, const char *name, const void *buf,
		   size_t len);
int xhp_sim_get(struct xhp_sim *sim, const char *name, struct xhp_status *st);
/* Upload order, metadata = raw .modinfo. *out malloc'd (xhp_loaded_free). */
int xhp_sim_list(struct xhp_sim *sim, struct xhp_loaded **out, size_t *n);
int xhp_sim_action(struct xhp_sim *sim, const char *name, int action,
		   uint32_t timeout_ns, uint32_t flags);

/* ---- the control program ------------------------------------------------ */
/* `show`: a human table, or with json the object
 *   {"build_id": HEX, "boot": N, "applied": [names, bottom first],
 *    "loaded": [{"name", "state": "CHECKED"|"APPLIED", "rc"}],
 *    "history": [[names, bottom first], ...],
 *    "actions": [{"op", "name", "ret", "rc"}, ...],
 *    "pending": null | {"op", "name"}}
 * on one line with a final newline. Counts as an observation of pending work.
 * Works on a crashed host. *out malloc'd. */
int xhp_sim_show(struct xhp_sim *sim, bool json, char **out);

#endif
