/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The simulated hypervisor: Xen 4.17.7's livepatch subsystem, kept in a
 * directory so that several processes (the tool, package scripts, tests) can
 * share one "hypervisor" (the kmod testsuite model, style.md example 9).
 *
 * This is the fidelity reference for the real-Xen test tier: every rule it
 * enforces cites a section of ../shared/reference/xen-livepatch-semantics.md
 * in sim-rules.c. Used through the "sim:DIR" backend (backend-sim.c) and by
 * the control program xen-hotpatch-sim (xen-hotpatch-sim.c).
 *
 * Every call takes an exclusive flock(2) on DIR/lock, loads DIR/state.json,
 * acts, writes the state back atomically (temp + fsync + rename) and
 * unlocks. A handle holds no open file between calls, so it is safe across
 * fork() and any number of processes may use the same DIR.
 *
 * Time. Scheduled work (APPLY, REVERT, REPLACE) completes when its time has
 * come, whoever looks next: XEN_HOTPATCH_SIM_WORK_MS (of the scheduling
 * process, default XHP_SIM_DEFAULT_WORK_MS) after it was scheduled, on a
 * clock `advance` can move forward. A client that stops watching finds the
 * work done later, as on Xen.
 *
 * Xen's symbol table. `init --xen-syms FILE` takes it from an ELF xen-syms
 * (Debian: xen-hypervisor-*-dbg) or a xen-syms.map: undefined symbols and
 * functions with old_addr 0 then resolve as on Xen (-ENOENT otherwise), new
 * symbols clash with Xen's (-EEXIST), and with the ELF's .text, expectations
 * and ENDBR64 are checked against Xen's code. Without it, names are assumed
 * to resolve and expectations to match.
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
#define XHP_SIM_ENV_WORK_MS "XEN_HOTPATCH_SIM_WORK_MS"
#define XHP_SIM_ENV_LIST_PAGE "XEN_HOTPATCH_SIM_LIST_PAGE"
#define XHP_SIM_ENV_LIST_CHURN "XEN_HOTPATCH_SIM_LIST_CHURN"
/* Xen's own APPLY takes about 3 ms on the real-Xen tier. */
#define XHP_SIM_DEFAULT_WORK_MS 2u
#define XHP_SIM_LIST_MAX 1024u	/* LIST nr at most (-E2BIG above) */

/* ---- failure injection ------------------------------------------------ */
/* XEN_HOTPATCH_SIM_FAIL=OP:NAME:ERRNO[:WHEN][,...]
 *   NAME   a payload name, or "*" for every name (names with ':' or ','
 *          cannot be targeted)
 *   ERRNO  a name (EBUSY, EINVAL, ... as xhp_errno_parse() knows them) or
 *          a number, or "crash"
 *   OP     upload unload          the sysctl returns -ERRNO, nothing changes;
 *                                 "crash": the host dies once every check
 *                                 passed
 *          apply revert replace   the same, or with WHEN "async" the sysctl
 *                                 succeeds and the work fails:
 *            apply:N:E:async      N's apply fails with E (APPLY; also the
 *                                 last step of REPLACE with N: everything
 *                                 was reverted, nothing is applied)
 *            revert:N:E:async     N's revert fails with E (REVERT; also
 *                                 inside any REPLACE: the payloads above N
 *                                 are reverted, N and those below stay
 *                                 applied, the replacement gets -EINVAL)
 *            replace:N:E:async    the REPLACE work fails before anything
 *                                 changed (a rendezvous timeout with EBUSY)
 *          expect                 N's expectations fail with E: APPLY
 *                                 returns it; REPLACE fails after reverting
 *                                 everything, nothing applied (§6 step 2)
 *          preapply prerevert     N's pre-apply / pre-revert hook (only if
 *                                 N has one) returns -E: the sysctl returns
 *                                 it and N's rc is set to it. WHEN "once":
 *                                 only its first call, as Xen's
 *                                 xen_prepost_hooks test payload does
 *   "crash" (apply, revert, replace: once the work is scheduled): the state
 *   is saved marked crashed and the calling process gets SIGKILL. Until
 *   `reboot`, every call but show/reboot/init then fails with -EHOSTDOWN.
 *
 * XEN_HOTPATCH_SIM_LIST_PAGE=N    LIST returns N entries a call (1..1024,
 *                                 default 1024); the backend pages as
 *                                 libxenctrl does, restarting when the
 *                                 version changes (-EBUSY the 5th time)
 * XEN_HOTPATCH_SIM_LIST_CHURN=K   another toolstack uploads and unloads a
 *                                 payload of its own after each of the next
 *                                 K LIST calls of this process
 * XEN_HOTPATCH_SIM_WORK_MS=N      how long scheduled work takes (ms)
 */
enum xhp_sim_fault_kind {
	XHP_SIM_FAULT_SYNC,
	XHP_SIM_FAULT_ASYNC,
	XHP_SIM_FAULT_CRASH,
	XHP_SIM_FAULT_ONCE,	/* preapply/prerevert: the first call only */
};

/* Alongside enum xhp_action (1..4). */
#define XHP_SIM_OP_UPLOAD 0
#define XHP_SIM_OP_EXPECT 5
#define XHP_SIM_OP_PREAPPLY 6
#define XHP_SIM_OP_PREREVERT 7

struct xhp_sim_fault {
	int op;			/* XHP_SIM_OP_* or an enum xhp_action */
	char name[XHP_NAME_MAX + 1]; /* "*" matches every name */
	enum xhp_sim_fault_kind kind;
	int err;		/* positive errno; 0 for a crash */
};

/* Parse a spec (NULL or "" gives n = 0). *faults malloc'd. -EINVAL + err. */
int xhp_sim_faults_parse(const char *spec, struct xhp_sim_fault **faults,
			 size_t *n, struct xhp_err *err);

/* "upload", "apply", "revert", "replace", "unload", "expect", "preapply",
 * "prerevert" or "unknown". */
const char *xhp_sim_op_name(int op);

/* ---- lifetime ----------------------------------------------------------- */
/* `init`: mkdir -p DIR, fresh state (boot 1, nothing loaded). Resets an
 * existing DIR. xen_syms (may be NULL): Xen's symbol table from an ELF
 * xen-syms or a xen-syms.map; id may then be NULL or len 0 to take the
 * ELF's build-id. One of the two must give a build-id. */
int xhp_sim_init(const char *dir, const struct xhp_build_id *id,
		 const char *xen_syms, struct xhp_err *err);
/* `reboot`: Xen forgets everything (§7.1): payloads, pending work, history
 * and actions; boot counter + 1. A new build-id (id != NULL) or a new
 * xen_syms means another Xen: the old symbol table is dropped. A crashed
 * host comes back. -ENODEV when DIR is not initialised. */
int xhp_sim_reboot(const char *dir, const struct xhp_build_id *id,
		   const char *xen_syms, struct xhp_err *err);
/* `advance`: ms of simulated time pass (0: until pending work is due);
 * work that is due completes. */
int xhp_sim_advance(const char *dir, unsigned long long ms, struct xhp_err *err);

struct xhp_sim;
/* -ENODEV (DIR missing or not initialised), -EINVAL (bad environment, see
 * above); err says why. Opening a crashed host works (show does it); its
 * hypervisor calls fail with -EHOSTDOWN. */
int xhp_sim_open(const char *dir, struct xhp_sim **sim, struct xhp_err *err);
void xhp_sim_close(struct xhp_sim *sim);
/* Override what xhp_sim_open() read from the environment (tests). */
int xhp_sim_set_faults(struct xhp_sim *sim, const char *spec,
		       struct xhp_err *err);
void xhp_sim_set_work_ms(struct xhp_sim *sim, unsigned ms);
void xhp_sim_set_list(struct xhp_sim *sim, unsigned page, unsigned churn);
/* Why the last failing call failed, when the simulator has more to say than
 * the errno (Xen's log line, parse errors, I/O on DIR); "" otherwise. */
const char *xhp_sim_last_error(const struct xhp_sim *sim);

/* ---- the hypervisor (backend ops, same contracts as backend.h) ---------- */
int xhp_sim_build_id(struct xhp_sim *sim, struct xhp_build_id *id);
int xhp_sim_boot(struct xhp_sim *sim, unsigned long *boot);
int xhp_sim_upload(struct xhp_sim *sim, const char *name, const void *buf,
		   size_t len);
int xhp_sim_get(struct xhp_sim *sim, const char *name, struct xhp_status *st);
/* All of LIST at once, in upload order, metadata = raw .modinfo. *out
 * malloc'd (xhp_loaded_free). */
int xhp_sim_list(struct xhp_sim *sim, struct xhp_loaded **out, size_t *n);
/* One LIST call (§3.4): up to nr entries from idx. Returns the number
 * copied (like Xen), *version and *remaining; -E2BIG (nr > 1024), -EINVAL
 * (idx past the list). */
int xhp_sim_list_page(struct xhp_sim *sim, unsigned idx, unsigned nr,
		      struct xhp_loaded **out, unsigned *version,
		      unsigned *remaining);
/* How many entries the backend asks for per LIST call. */
unsigned xhp_sim_list_page_size(const struct xhp_sim *sim);
int xhp_sim_action(struct xhp_sim *sim, const char *name, int action,
		   uint32_t timeout_ns, uint32_t flags);

/* ---- the control program ------------------------------------------------ */
/* `show`: a human table, or with json the object
 *   {"build_id": HEX, "boot": N, "version": N, "xen_syms": BOOL,
 *    "applied": [names, bottom first],
 *    "loaded": [{"name", "state": "CHECKED"|"APPLIED", "rc"}],
 *    "history": [[names, bottom first], ...],
 *    "actions": [{"op", "name", "ret", "rc"}, ...],
 *    "pending": null | {"op", "name", "due_in_ms"}}
 * on one line with a final newline. Works on a crashed host. *out malloc'd. */
int xhp_sim_show(struct xhp_sim *sim, bool json, char **out);

#endif
