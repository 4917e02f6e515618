// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "sim:DIR" backend: the livepatch sysctl answered by the simulated
 * hypervisor kept in DIR (sim.c). Failure injection and the completion
 * delay come from this process's environment (XEN_HOTPATCH_SIM_FAIL,
 * XEN_HOTPATCH_SIM_DELAY), read at open.
 */
#include "backend.h"
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct sim_backend {
	struct xhp_backend be;	/* first: the ops see a struct xhp_backend * */
	struct xhp_sim *sim;
};

static struct xhp_sim *sim_of(struct xhp_backend *be)
{
	return ((struct sim_backend *)be)->sim;
}

static int sim_be_open(struct xhp_backend **be, const char *arg,
		       struct xhp_err *err)
{
	struct sim_backend *sb;
	struct xhp_build_id id;
	int r;

	*be = NULL;
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->be.ops = &xhp_backend_sim;
	r = xhp_sim_open(arg, &sb->sim, err);
	if (r < 0) {
		free(sb);
		return r;
	}
	/* A crashed host is no hypervisor to talk to: say so now. */
	r = xhp_sim_build_id(sb->sim, &id);
	if (r < 0) {
		xhp_err_set(err, "%s", xhp_sim_last_error(sb->sim));
		xhp_sim_close(sb->sim);
		free(sb);
		return r;
	}
	*be = &sb->be;
	return 0;
}

static void sim_be_close(struct xhp_backend *be)
{
	if (!be)
		return;
	xhp_sim_close(sim_of(be));
	free(be);
}

static int sim_be_build_id(struct xhp_backend *be, struct xhp_build_id *id)
{
	return xhp_sim_build_id(sim_of(be), id);
}

static int sim_be_boot_id(struct xhp_backend *be, char *buf, size_t bufsz)
{
	unsigned long boot;
	int r = xhp_sim_boot(sim_of(be), &boot);

	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, bufsz, "%lu", boot) >= bufsz)
		return -ENOBUFS;
	return 0;
}

static int sim_be_list(struct xhp_backend *be, struct xhp_loaded **out, size_t *n)
{
	return xhp_sim_list(sim_of(be), out, n);
}

static int sim_be_get(struct xhp_backend *be, const char *name,
		      struct xhp_status *st)
{
	return xhp_sim_get(sim_of(be), name, st);
}

static int sim_be_upload(struct xhp_backend *be, const char *name,
			 const void *buf, size_t len)
{
	return xhp_sim_upload(sim_of(be), name, buf, len);
}

static int sim_be_action(struct xhp_backend *be, const char *name,
			 enum xhp_action action, uint32_t timeout_ns,
			 uint32_t flags)
{
	return xhp_sim_action(sim_of(be), name, (int)action, timeout_ns, flags);
}

static const char *sim_be_explain(struct xhp_backend *be)
{
	return xhp_sim_last_error(sim_of(be));
}

const struct xhp_backend_ops xhp_backend_sim = {
	.name = "sim",
	.open = sim_be_open,
	.close = sim_be_close,
	.build_id = sim_be_build_id,
	.boot_id = sim_be_boot_id,
	.list = sim_be_list,
	.get = sim_be_get,
	.upload = sim_be_upload,
	.action = sim_be_action,
	.explain = sim_be_explain,
};
