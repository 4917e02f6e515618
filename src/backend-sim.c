// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "sim:DIR" backend: the livepatch sysctl answered by the simulated
 * hypervisor kept in DIR (sim.c). Failure injection, the work's duration and
 * LIST paging come from this process's environment (XEN_HOTPATCH_SIM_*, see
 * sim.h), read at open. LIST is paged as libxenctrl's xc_livepatch_list()
 * does it: pages of XEN_HOTPATCH_SIM_LIST_PAGE entries, restarted from the
 * first when payload_version changes between pages, -EBUSY at the fifth
 * change.
 */
#include "backend.h"
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

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

#define LIST_RESTARTS 4	/* xc_livepatch_list: MAX_LIVEPATCH_RETRIES */

/* One pass over the pages: 0, -EAGAIN when the version changed, -errno
 * (then *out is freed). */
static int list_pass(struct xhp_sim *sim, struct xhp_loaded **out, size_t *n)
{
	unsigned page = xhp_sim_list_page_size(sim), version = 0, first = 0, left = 1;
	unsigned idx = 0;

	while (left) {
		struct xhp_loaded *batch;
		int r = xhp_sim_list_page(sim, idx, page, &batch, &version, &left);

		if (r >= 0 && idx && version != first) {
			xhp_loaded_free(batch, (size_t)r);
			r = -EAGAIN;
		}
		if (r < 0) {
			xhp_loaded_free(*out, *n);
			*out = NULL;
			*n = 0;
			return r;
		}
		first = version;
		*out = xhp_realloc(*out, (*n + (size_t)r + 1) * sizeof(**out));
		if (r)
			memcpy(*out + *n, batch, (size_t)r * sizeof(*batch));
		free(batch);
		*n += (size_t)r;
		idx += (unsigned)r;
		if (!r)
			break;
	}
	return 0;
}

static int sim_be_list(struct xhp_backend *be, struct xhp_loaded **out, size_t *n)
{
	for (int attempt = 0; ; attempt++) {
		int r;

		*out = NULL;
		*n = 0;
		r = list_pass(sim_of(be), out, n);
		if (r != -EAGAIN)
			return r;
		if (attempt == LIST_RESTARTS)
			return -EBUSY;
	}
}

static int sim_be_count(struct xhp_backend *be, unsigned *n)
{
	struct xhp_loaded *l = NULL;
	size_t k = 0;
	int r = xhp_sim_list(sim_of(be), &l, &k);

	xhp_loaded_free(l, k);
	*n = (unsigned)k;
	return r;
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
	.count = sim_be_count,
	.get = sim_be_get,
	.upload = sim_be_upload,
	.action = sim_be_action,
	.explain = sim_be_explain,
};
