/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The documents xen-hotpatch answers questions with: the JSON the CLI prints
 * (--json) and the Python bindings return, built here once for both. The
 * builders only read; they never print and never touch the hypervisor.
 *
 *   xhp_report_payload   one element of `info --json`
 */
#ifndef XHP_REPORT_H
#define XHP_REPORT_H

#include <json-c/json.h>

#include "payload.h"

/* How the CLI prints a document. */
#define XHP_REPORT_JSON_FLAGS \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A payload's hypervisor name: its file name without ".livepatch". Malloc'd. */
char *xhp_payload_name_of(const char *path);
/* "hypervisor" when it depends on the hypervisor itself, else "payload". */
const char *xhp_payload_stacks_on(const struct xhp_payload *pl);

/* {"file", "name", "build_id", "depends", "xen_depends", "stacks_on",
 *  "funcs": [{"name", "old_size", "new_size", "nop", "expect"[, "expect_len"]}],
 *  "hooks": [...], "vetoing_hooks", "modinfo": {k: v}, "safe_to_reapply", "size"} */
json_object *xhp_report_payload(const char *path, const struct xhp_payload *pl);

#endif
