/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The installed payloads: ROOT/usr/lib/xen-hotpatch/<xen-build-id>/<name>.livepatch
 * Everything is derived from the ELF notes; a file whose notes disagree with its
 * folder, an unsafe file (symlink, writable by others, not a regular file) or a
 * malformed payload is reported and never applied.
 */
#ifndef XHP_INVENTORY_H
#define XHP_INVENTORY_H

#include "payload.h"
#include "util.h"

struct xhp_file {
	char *path;
	char *name;			/* stem */
	struct xhp_payload pl;
};

struct xhp_file_problem {
	char *path;
	char *msg;			/* "<path>: reason" */
};

struct xhp_other_hv {
	char *build_id;			/* folder name */
	size_t nfiles;
};

struct xhp_inventory {
	struct xhp_file *files;		/* valid payloads for the running hypervisor */
	size_t nfiles;
	struct xhp_file_problem *problems;
	size_t nproblems;
	struct xhp_other_hv *other;	/* folders for other hypervisors */
	size_t nother;
};

/* Scan ROOT/PAYLOAD_DIR for hypervisor hv. -ENOENT / -EACCES / -ENOTDIR when
 * PAYLOAD_DIR itself is missing or unreadable, -EPERM when it, the <hv>
 * folder or a folder above them is writable by others than root or not
 * owned by root (err names the folder): the caller must not treat that as
 * "nothing installed". A missing <hv> folder is fine. Payload files are
 * checked on the opened descriptor (xhp_payload_load_installed). */
int xhp_inventory_scan(const char *root, const char *payload_dir,
		       const struct xhp_build_id *hv, struct xhp_inventory *inv,
		       struct xhp_err *err);
void xhp_inventory_free(struct xhp_inventory *inv);

/* The payload name in a file name NAME.livepatch (malloc'd; "" for
 * ".livepatch"), or NULL when fn does not end in .livepatch. */
char *xhp_payload_stem(const char *fn);

#endif
