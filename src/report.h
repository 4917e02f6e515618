/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The documents xen-hotpatch answers questions with: the JSON the CLI prints
 * (--json) and the Python bindings return, built here once for both, and
 * the status of a host that `status`, the documents and the metrics share.
 * The builders only read; they never print and never touch the hypervisor.
 *
 *   xhp_report_payload   one element of `info --json`
 *   xhp_report_status    `status --json`
 *   xhp_report_plan      `apply --dry-run --json`
 *   xhp_report_result    what a converge or a revert did (the bindings'
 *                        apply() and revert())
 */
#ifndef XHP_REPORT_H
#define XHP_REPORT_H

#include <json-c/json.h>

#include "engine.h"
#include "payload.h"

/* How the CLI prints a document. */
#define XHP_REPORT_JSON_FLAGS \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* ---- payloads ----------------------------------------------------------- */

/* A payload's hypervisor name: its file name without ".livepatch". Malloc'd. */
char *xhp_payload_name_of(const char *path);
/* "hypervisor" when it depends on the hypervisor itself, else "payload". */
const char *xhp_payload_stacks_on(const struct xhp_payload *pl);

/* {"file", "name", "build_id", "depends", "xen_depends", "stacks_on",
 *  "funcs": [{"name", "old_size", "new_size", "nop", "expect"[, "expect_len"]}],
 *  "hooks": [...], "vetoing_hooks", "modinfo": {k: v}, "safe_to_reapply", "size"} */
json_object *xhp_report_payload(const char *path, const struct xhp_payload *pl);

/* ---- the status of a host ------------------------------------------------ */

struct xhp_host_status {
	struct xhp_view v;			/* planned in XHP_MODE_APPLY */
	struct xhp_guard_entry *quarantined;
	size_t nquarantined;
	struct xhp_guard_entry *attempts;	/* of this boot, not resolved yet */
	size_t nattempts;
	bool in_sync;				/* nothing to do, nothing wrong */
};
void xhp_host_status_build(struct xhp_session *s, struct xhp_host_status *st);
void xhp_host_status_free(struct xhp_host_status *st);
/* Is NAME in the installed stack (the desired one)? */
bool xhp_host_status_wants(const struct xhp_host_status *st, const char *name);
/* Is NAME in the applied stack? */
bool xhp_host_status_applies(const struct xhp_host_status *st, const char *name);
/* Why installed payload i (v.installed[i]) is not applied, in words. */
const char *xhp_host_status_why(const struct xhp_host_status *st, size_t i);
/* Does `status` list this planner problem? An error, or a payload loaded by
 * someone else; what is left out on purpose or superseded is said with the
 * payload itself. */
bool xhp_problem_listed(const struct xhp_problem *q);
/* How many problems `status` lists. */
size_t xhp_host_status_nproblems(const struct xhp_session *s, const struct xhp_host_status *st);

/* {"build_id", "backend", "applied": [{"name", "build_id", "depends", "rc",
 *  "origin", "installed"}], "loaded_not_applied": [{"name", "state", "rc",
 *  "origin"}], "installed_not_applied": [{"name", "build_id", "reason"}],
 *  "blocked": [...same], "other_hypervisors": [{"build_id", "payloads"}],
 *  "quarantined": [{"name", "build_id", "reason"}], "problems": [{"kind",
 *  "names" | "file", "message"}], "in_sync"} */
json_object *xhp_report_status(const struct xhp_session *s, const struct xhp_host_status *st);

/* ---- plans and runs ---------------------------------------------------------- */

/* {"steps": [{"op", "name"}], "desired": [names, bottom first], "problems":
 *  [{"kind", "names", "message", "error"}], "refused"} */
json_object *xhp_report_plan(const struct xhp_view *v, const struct xhp_inventory *inv);

/* "done", "refused", "no-payload-dir", "not-loaded", "step-failed". */
const char *xhp_outcome_name(enum xhp_outcome o);

/* What a run ended with, as a negative errno (0: done): a failed step's
 * error (the sysctl's, the payload's rc, -EBUSY, -ETIME), -ECANCELED for a
 * refused plan, -ENOENT for an unreadable payload folder or a revert of
 * something not loaded. */
int xhp_result_errno(const struct xhp_result *res);

/* {"outcome": "done" | "refused" | "no-payload-dir" | "not-loaded" |
 *  "step-failed", "ok": the CLI would exit 0, "busy": trying again may help,
 *  "message": one line or null, "plan": xhp_report_plan(), "steps_done",
 *  "failed": null | {"op", "name", "status", "errno", "error", "rc"},
 *  "rolled_back", "applied": [names, bottom first, after the run],
 *  "unguarded": applies sent without a crash-loop guard record}; converge:
 * the run was a converge (else a revert). */
json_object *xhp_report_result(struct xhp_session *s, const struct xhp_view *v, const struct xhp_result *res,
			       bool converge);

#endif
