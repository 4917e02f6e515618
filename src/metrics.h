/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Metrics: the host's livepatch state in the Prometheus text exposition
 * format, for node-exporter's textfile collector. The text is also valid
 * OpenMetrics (gauges only, no sample timestamps, ends with "# EOF"), so
 * `xen-hotpatch status --format=openmetrics` prints the same bytes.
 *
 *   xen_hotpatch_hypervisor{build_id,backend}                       1
 *   xen_hotpatch_payload_applied{name,build_id,version,position,origin,proven}  1
 *   xen_hotpatch_applied_payloads, _installed_not_applied_payloads,
 *   _quarantined_payloads, _unproven_payloads, _problems            counts
 *   xen_hotpatch_in_sync                                            0 / 1
 *   xen_hotpatch_last_run{verb,outcome,error}                       1
 *   xen_hotpatch_last_run_success, _last_run_timestamp_seconds,
 *   _last_run_steps                                                 the last converge or revert
 *   xen_hotpatch_metrics_timestamp_seconds                          when this was made
 *
 * After every converge and revert (boot included) its caller (the verbs,
 * the Python bindings: the engine is below this layer, src/README) calls
 * xhp_metrics_after_run, which records the run in RUN_DIR/last-run and
 * writes ROOT/<metrics_dir>/xen_hotpatch.prom atomically, when that folder
 * exists (policy metrics_dir; empty: never).
 * Neither ever fails the run; a read-only root (the initramfs' /sysroot)
 * is skipped without a word, xen-hotpatch.service writes the file later.
 */
#ifndef XHP_METRICS_H
#define XHP_METRICS_H

#include "report.h"

#define XHP_METRICS_FILE "xen_hotpatch.prom"

/* The last converge or revert, kept in RUN_DIR/last-run for this boot. */
struct xhp_last_run {
	bool present;
	char verb[16];		/* "apply", "boot", "revert" */
	char outcome[24];	/* xhp_outcome_name() */
	char error[24];		/* "EBUSY", or "-" */
	bool success;		/* outcome "done" */
	unsigned long long time;	/* seconds since the epoch */
	unsigned long long steps;	/* steps done */
};
int xhp_last_run_save(const struct xhp_last_run *r);
/* r->present false when there is no (readable) record. */
void xhp_last_run_load(struct xhp_last_run *r);

/* The metrics text, ending "# EOF\n". Malloc'd. */
char *xhp_metrics_render(const struct xhp_session *s, const struct xhp_host_status *st,
			 const struct xhp_last_run *last, unsigned long long now);

/* Render the session's state now and write the textfile. 0, 1 when there is
 * nowhere to write (no metrics_dir, or it does not exist), or -errno. */
int xhp_metrics_write(struct xhp_session *s);

/* Record a run (verb "apply", "boot", "revert") and write the textfile;
 * a failure to write is a note (s->ev), never an error. */
void xhp_metrics_after_run(struct xhp_session *s, const char *verb, const struct xhp_result *res);

#endif
