/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The crash-loop guard (DESIGN section 6): boot reapplies only payloads
 * that are proven, and a payload whose apply never completed is
 * quarantined. This module alone reads and writes its state:
 *
 *  ROOT/var/lib/xen-hotpatch/
 *    attempts/<build-id>    "name\nboot-id\nstage\napplied_ms\nseen_ms\nstarted_ms\n"
 *                           written and synced before an apply is sent
 *                           (stage "started"); "applied" once the payload
 *                           was seen applied, with the uptime
 *                           (CLOCK_BOOTTIME, ms) of that moment and of the
 *                           last time it was seen so (with proven_after_s =
 *                           0 the run's own check proves it at once)
 *    proven/<build-id>      "name\n"
 *    quarantine/<build-id>  "name\nreason\n"
 *
 * When a payload is proven: once xen-hotpatch has seen it applied, after
 * its apply completed, and then seen it still applied at least
 * proven_after_s (policy, default 0) later in the same boot, or finds at
 * the next boot that the last sighting of the earlier boot was that late.
 * Every run that takes the lock looks (xhp_guard_reconcile), and so does
 * the applying run once its steps are done, after re-reading the
 * hypervisor. An attempt that an earlier boot never saw complete (the host
 * went down during the apply, or the tool was stopped and the reboot came
 * before any run saw the result) puts the payload in quarantine until an
 * operator releases it: the latest one of that boot (applies run one at a
 * time, so it is the one in flight when the host died; an earlier one not
 * recorded as completed is only left unproven). An attempt that completed but was not seen
 * proven_after_s later before a reboot leaves the payload unproven: boot
 * leaves it out, and the next `apply` applies it again under a new attempt.
 * Nothing here touches the hypervisor.
 */
#ifndef XHP_GUARD_H
#define XHP_GUARD_H

#include "identity.h"
#include "util.h"

enum xhp_guard_kind {
	XHP_GUARD_ATTEMPT,
	XHP_GUARD_PROVEN,
	XHP_GUARD_QUARANTINE,
};

struct xhp_guard_entry {
	enum xhp_guard_kind kind;
	char id_hex[XHP_BUILD_ID_HEX_SIZE];
	char name[XHP_NAME_MAX + 1];
	/* attempts */
	char boot_id[128];
	bool completed;			/* the payload was seen applied */
	unsigned long long applied_ms, seen_ms, started_ms;
	/* quarantine: why, in words */
	char why[256];
};

/* What the hypervisor shows of a payload whose build-id is known. */
struct xhp_guard_sighting {
	struct xhp_build_id id;
	int state;			/* XHP_STATE_* */
	int rc;
};

/* What a reconcile did: names, for the CLI to report. */
struct xhp_guard_changes {
	struct xhp_strv quarantined;	/* attempts of an earlier boot never seen to complete */
	struct xhp_strv proven;
	struct xhp_strv unproven;	/* completed, but the host went down too soon */
	struct xhp_strv unmarked;	/* to quarantine, but the mark cannot be written:
					 * left out of this run (the attempt stays) */
};
void xhp_guard_changes_free(struct xhp_guard_changes *c);

struct xhp_guard {
	char *dir;			/* ROOT/var/lib/xen-hotpatch */
	char boot_id[128];
	unsigned proven_after_ms;
	int write_error;		/* the first write that failed (-errno), or 0 */
	struct xhp_strv held, held_names; /* build-ids (hex) and names quarantined this run without a mark */
	bool dir_made[3];		/* per enum xhp_guard_kind: made (or there) this run */
};

void xhp_guard_open(struct xhp_guard *g, const char *root, const char *boot_id, unsigned proven_after_s);
void xhp_guard_close(struct xhp_guard *g);

/* Does ROOT/var/lib/xen-hotpatch exist (a separate /var may not be
 * mounted yet in the initramfs)? */
bool xhp_guard_present(const struct xhp_guard *g);

/* Before an apply (APPLY, NODEPS or REPLACE) is sent. 0, or -errno when the
 * record cannot be written (read-only or full): the apply then goes
 * unguarded and its payload cannot be proven. */
int xhp_guard_attempt_begin(struct xhp_guard *g, const struct xhp_identity *ident);
/* The apply was seen to end: applied (stage "applied", proof pending) or
 * not (the attempt is dropped: nothing was applied, the host is up). An
 * apply that was not seen to end (deadline, kill) keeps its attempt for
 * the next reconcile. */
void xhp_guard_attempt_end(struct xhp_guard *g, const struct xhp_identity *ident, bool applied);

bool xhp_guard_is_proven(const struct xhp_guard *g, const struct xhp_build_id *id);
bool xhp_guard_is_quarantined(const struct xhp_guard *g, const struct xhp_build_id *id);

/* Resolve the attempts against what the hypervisor shows now (sightings of
 * the payloads whose build-ids are known): quarantine, prove, drop. */
void xhp_guard_reconcile(struct xhp_guard *g, const struct xhp_guard_sighting *seen, size_t nseen,
			 struct xhp_guard_changes *changes);

/* The entries of a kind, sorted by name. *out malloc'd. */
int xhp_guard_list(const struct xhp_guard *g, enum xhp_guard_kind kind, struct xhp_guard_entry **out,
		   size_t *n);

/* Take a payload out of quarantine. 0, -ENOENT, or -errno. */
int xhp_guard_release(struct xhp_guard *g, const char *id_hex);

#endif
