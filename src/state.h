/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the tool remembers of this boot: the lock and the record of what it
 * loaded. (The durable crash-loop guard under /var/lib is guard.h.)
 *
 *  /run/xen-hotpatch/            lost at reboot, like the hypervisor's state
 *    lock                        one flock for every run
 *    loaded.json                 what this tool loaded: per payload its
 *                                identity, new symbols, whether it was
 *                                reverted, applied with NODEPS, the order of
 *                                its last apply; tagged with the hypervisor
 *                                boot id and build-id so a stale record is
 *                                ignored. Written after each apply, before
 *                                an apply sent otherwise (NODEPS or not)
 *                                than the entry says (Xen does not show
 *                                it), and at the end of a run: what a
 *                                killed run did not write, the next one
 *                                reads back from the hypervisor
 *                                (xhp_records_reconcile)
 *    apply.log                   one line per converge run
 */
#ifndef XHP_STATE_H
#define XHP_STATE_H

#include "backend.h"
#include "identity.h"
#include "util.h"

#define XHP_RUN_DIR_DEFAULT "/run/xen-hotpatch"

/* What xen-hotpatch knows of one payload it loaded. */
struct xhp_record {
	struct xhp_identity ident;
	char *path;			/* the file it was uploaded from */
	struct xhp_strv new_syms;	/* Xen's "new symbols" of the payload */
	bool reverted;			/* reverted at least once (or unknown) */
	bool nodeps;			/* last applied with NODEPS */
	unsigned seq;			/* order of its last apply; 0: never applied */
	bool down;			/* reverted since that apply (seq is history) */
};

struct xhp_records {			/* in upload order */
	char *boot_id;
	char *hv;			/* hypervisor build-id hex */
	struct xhp_record *r;
	size_t n;
	unsigned next_seq;
};

/* The run directory: $XEN_HOTPATCH_RUN_DIR or /run/xen-hotpatch. */
const char *xhp_run_dir(void);

/* Take the lock, waiting up to wait_ms: 0, -EWOULDBLOCK past the wait. */
int xhp_lock(int *fd, unsigned wait_ms);
void xhp_unlock(int fd);

/* Load the record; a record of another boot or hypervisor is dropped. */
int xhp_records_load(struct xhp_records *rec, const char *boot_id, const char *hv_hex);
int xhp_records_save(const struct xhp_records *rec);
struct xhp_record *xhp_records_find(struct xhp_records *rec, const char *name);
/* r was reverted: marked so, and down until an apply is recorded (its seq
 * stays, as history: `revert NAME` finds what was above NAME by it). */
void xhp_record_reverted(struct xhp_record *r);
/* A fresh record for name (replacing one of that name). */
struct xhp_record *xhp_records_add(struct xhp_records *rec, const char *name);
void xhp_records_del(struct xhp_records *rec, const char *name);
void xhp_records_free(struct xhp_records *rec);

/* Bring the record in line with what the hypervisor shows: records of
 * payloads no longer loaded go; an action that ended while nobody watched
 * (a kill, a deadline) is read from the payload's state: APPLIED ones
 * without an apply order get one, CHECKED ones that were applied count as
 * reverted. Returns how many records changed. */
int xhp_records_reconcile(struct xhp_records *rec, const struct xhp_loaded *loaded, size_t n);

void xhp_apply_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
