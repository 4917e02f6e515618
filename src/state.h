/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the tool remembers.
 *
 *  /run/xen-hotpatch/            lost at reboot, like the hypervisor's state
 *    lock                        one flock for every run
 *    loaded.json                 what this tool loaded: name -> build-ids, flags,
 *                                reverted, applied order; tagged with the
 *                                hypervisor boot id so a stale record is ignored
 *    apply.log                   one line per converge run
 *  ROOT/var/lib/xen-hotpatch/    durable (crash-loop guard, DESIGN section 6)
 *    proven/<build-id>           applied and the host stayed up
 *    attempts/<build-id>         "name\nboot-id\n", written before a first apply
 *    quarantine/<build-id>       "name\nreason\n"
 */
#ifndef XHP_STATE_H
#define XHP_STATE_H

#include "util.h"

#define XHP_RUN_DIR_DEFAULT "/run/xen-hotpatch"

struct xhp_record {
	char *name;
	char *path;			/* the file it was uploaded from */
	struct xhp_build_id id, depends;
	bool vetoing, safe_to_reapply, reverted;
	unsigned seq;			/* applied order; 0 when not applied */
};

struct xhp_records {
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
struct xhp_record *xhp_records_add(struct xhp_records *rec, const char *name);
void xhp_records_del(struct xhp_records *rec, const char *name);
void xhp_records_free(struct xhp_records *rec);

void xhp_apply_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Durable state under ROOT/var/lib/xen-hotpatch. kind: "proven",
 * "attempts", "quarantine". */
bool xhp_mark_has(const char *root, const char *kind, const char *id_hex);
int xhp_mark_set(const char *root, const char *kind, const char *id_hex,
		 const char *content);
int xhp_mark_read(const char *root, const char *kind, const char *id_hex,
		  char **content);
int xhp_mark_del(const char *root, const char *kind, const char *id_hex);
/* List ids of a kind. */
int xhp_mark_list(const char *root, const char *kind, struct xhp_strv *ids);

#endif
