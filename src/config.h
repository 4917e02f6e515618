/* SPDX-License-Identifier: GPL-2.0-only */
/* Policy: /etc/xen-hotpatch/xen-hotpatch.conf then conf.d/NAME.conf (policy/README). */
#ifndef XHP_CONFIG_H
#define XHP_CONFIG_H

#include "util.h"

enum xhp_apply_on_install { XHP_AOI_AUTO, XHP_AOI_ALWAYS, XHP_AOI_NEVER };

struct xhp_config {
	char *backend;			/* "xen" or "sim:DIR" */
	enum xhp_apply_on_install apply_on_install;
	bool boot_apply;
	struct xhp_strv blocked;	/* names or build-id hex */
	struct xhp_strv independent;	/* names applied with NODEPS on top */
	bool replace_allow;		/* replace_without_replace = allow */
	bool on_failure_rollback;	/* on_failure = rollback */
	unsigned action_timeout_ms;	/* passed to Xen; 0 = Xen's default (30 ms) */
	unsigned deadline_ms;		/* polling deadline per action */
	unsigned lock_wait_ms;		/* how long a run waits for the lock */
	unsigned proven_after_s;	/* crash-loop guard: seen applied this long before proven */
	char *payload_dir;		/* default /usr/lib/xen-hotpatch */
	char *metrics_dir;		/* node-exporter textfile folder; "" = none */
};

void xhp_config_defaults(struct xhp_config *c);
/* Load FILE (when config_file is NULL: ROOT/etc/xen-hotpatch/xen-hotpatch.conf,
 * a missing file is fine) and then ROOT/etc/xen-hotpatch/conf.d/ *.conf in
 * lexical order. A syntax error or unknown key: -EINVAL, err names file:line. */
int xhp_config_load(struct xhp_config *c, const char *root, const char *config_file,
		    struct xhp_err *err);
void xhp_config_free(struct xhp_config *c);

#endif
