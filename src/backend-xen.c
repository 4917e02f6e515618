/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The real hypervisor through libxenctrl (xc_livepatch_*, XENVER_build_id).
 * libxenctrl returns -1 with errno set to Xen's positive error; the ops
 * return it negated. Compiled in only when libxenctrl is present.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "util.h"

#ifdef HAVE_XEN
#include <xenctrl.h>

const bool xhp_have_xen = true;

struct xen_be {
	struct xhp_backend be;
	xc_interface *xch;
};

static xc_interface *xch_of(struct xhp_backend *be)
{
	return ((struct xen_be *)be)->xch;
}

static int xen_open(struct xhp_backend **out, const char *arg, struct xhp_err *err)
{
	struct xen_be *x;
	struct stat st;

	(void)arg;
	if (stat("/dev/xen/privcmd", &st) < 0 && stat("/proc/xen/privcmd", &st) < 0) {
		xhp_err_set(err, "no Xen hypervisor here (no /dev/xen/privcmd: not a Xen dom0, "
				 "or the xen-privcmd module is not loaded)");
		return -ENODEV;
	}
	x = xhp_calloc(1, sizeof(*x));
	x->xch = xc_interface_open(NULL, NULL, 0);
	if (!x->xch) {
		int e = errno ? errno : ENODEV;

		free(x);
		xhp_err_set(err, "cannot open the Xen control interface: %s", strerror(e));
		return -e;
	}
	x->be.ops = &xhp_backend_xen;
	*out = &x->be;
	return 0;
}

static void xen_close(struct xhp_backend *be)
{
	xc_interface_close(xch_of(be));
	free(be);
}

static int xen_build_id(struct xhp_backend *be, struct xhp_build_id *id)
{
	union {
		xen_build_id_t h;
		uint8_t raw[sizeof(xen_build_id_t) + XHP_BUILD_ID_MAX];
	} u;
	int r;

	memset(&u, 0, sizeof(u));
	u.h.len = XHP_BUILD_ID_MAX;
	r = xc_version(xch_of(be), XENVER_build_id, &u.h);
	if (r < 0)
		return -errno;
	if (r == 0 || r > XHP_BUILD_ID_MAX)
		return -ENODATA;
	id->len = (uint8_t)r;
	memcpy(id->b, u.h.buf, (size_t)r);
	return 0;
}

static int xen_boot_id(struct xhp_backend *be, char *buf, size_t bufsz)
{
	_cleanup_free_ char *s = NULL;
	int r;

	(void)be;
	r = xhp_read_file("/proc/sys/kernel/random/boot_id", &s, NULL, 4096);
	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = '\0';
	snprintf(buf, bufsz, "%s", s);
	return 0;
}

/* LIST buffers for nr entries, sized for the worst the hypervisor can write
 * for them: the list may change between the size probe and the copy
 * (another toolstack uploads), and Xen 4.17 does not know the buffers'
 * sizes. A name is at most XEN_LIVEPATCH_NAME_SIZE bytes with its NUL;
 * a payload's .modinfo is inside the payload, at most LIVEPATCH_MAX_SIZE. */
struct list_bufs {
	struct xen_livepatch_status *info;
	uint32_t *len, *mlen;
	char *names, *meta;
	uint32_t name_size, meta_size;
};

static void list_bufs_free(struct list_bufs *b)
{
	free(b->info);
	free(b->len);
	free(b->mlen);
	free(b->names);
	free(b->meta);
	memset(b, 0, sizeof(*b));
}

static void list_bufs_alloc(struct list_bufs *b, unsigned int nr)
{
	b->info = xhp_calloc(nr, sizeof(*b->info));
	b->len = xhp_calloc(nr, sizeof(*b->len));
	b->mlen = xhp_calloc(nr, sizeof(*b->mlen));
	b->name_size = nr * XEN_LIVEPATCH_NAME_SIZE;
	b->meta_size = nr * XHP_PAYLOAD_MAX_SIZE;
	b->names = xhp_calloc(b->name_size, 1);
	b->meta = xhp_calloc(b->meta_size, 1);
}

/* The entries the copy returned, checked against what it says it wrote. */
static int list_entries(const struct list_bufs *b, unsigned int nr, struct xhp_loaded **out)
{
	struct xhp_loaded *l = xhp_calloc(nr, sizeof(*l));
	size_t i, noff = 0, moff = 0;

	for (i = 0; i < nr; i++) {
		if (b->len[i] == 0 || b->len[i] > XEN_LIVEPATCH_NAME_SIZE || noff + b->len[i] > b->name_size ||
		    moff + b->mlen[i] > b->meta_size) {
			xhp_loaded_free(l, nr);
			return -EPROTO;
		}
		snprintf(l[i].name, sizeof(l[i].name), "%.*s", (int)b->len[i], b->names + noff);
		l[i].st.state = (int)b->info[i].state;
		l[i].st.rc = b->info[i].rc;
		if (b->mlen[i]) {
			l[i].metadata = xhp_malloc(b->mlen[i]);
			memcpy(l[i].metadata, b->meta + moff, b->mlen[i]);
			l[i].metadata_len = b->mlen[i];
		}
		noff += b->len[i];
		moff += b->mlen[i];
	}
	*out = l;
	return 0;
}

static int xen_list(struct xhp_backend *be, struct xhp_loaded **out, size_t *nout)
{
	xc_interface *xch = xch_of(be);
	unsigned int nr = 0, done = 0, left = 0, tries;
	uint32_t name_total = 0, meta_total = 0;
	struct list_bufs b = { 0 };
	int r = -EAGAIN;

	*out = NULL;
	*nout = 0;
	/* libxenctrl restarts while the list changes under it; a list that
	 * grew past the probe's count is read again from the probe */
	for (tries = 0; tries < 5; tries++) {
		xc_clear_last_error(xch);
		if (xc_livepatch_list_get_sizes(xch, &nr, &name_total, &meta_total) < 0)
			return -errno;
		if (nr == 0)
			return 0;
		list_bufs_alloc(&b, nr);
		r = xc_livepatch_list(xch, nr, 0, b.info, b.names, b.len, b.name_size, b.meta, b.mlen,
				      b.meta_size, &done, &left);
		if (r == 0 && done == nr && left == 0)
			break;
		r = r < 0 ? -errno : -EAGAIN;
		list_bufs_free(&b);
	}
	if (!b.info)
		return r;
	r = list_entries(&b, nr, out);
	list_bufs_free(&b);
	if (r == 0)
		*nout = nr;
	return r;
}

static int xen_count(struct xhp_backend *be, unsigned *n)
{
	uint32_t name_total = 0, meta_total = 0;
	unsigned int nr = 0;

	if (xc_livepatch_list_get_sizes(xch_of(be), &nr, &name_total, &meta_total) < 0)
		return -errno;
	*n = nr;
	return 0;
}

static int xen_get(struct xhp_backend *be, const char *name, struct xhp_status *st)
{
	xen_livepatch_status_t s;
	char n[XHP_NAME_MAX + 1];

	if (strlen(name) > XHP_NAME_MAX)
		return -EINVAL;
	snprintf(n, sizeof(n), "%s", name);
	memset(&s, 0, sizeof(s));
	if (xc_livepatch_get(xch_of(be), n, &s) < 0)
		return -errno;
	st->state = (int)s.state;
	st->rc = s.rc;
	return 0;
}

static const char *xen_explain(struct xhp_backend *be)
{
	const xc_error *e = xc_get_last_error(xch_of(be));

	return e && e->code != XC_ERROR_NONE ? e->message : "";
}

static int xen_upload(struct xhp_backend *be, const char *name, const void *buf, size_t len)
{
	char n[XHP_NAME_MAX + 1];

	if (strlen(name) > XHP_NAME_MAX || len == 0 || len > XHP_PAYLOAD_MAX_SIZE)
		return -EINVAL;
	snprintf(n, sizeof(n), "%s", name);
	xc_clear_last_error(xch_of(be));
	if (xc_livepatch_upload(xch_of(be), n, (unsigned char *)buf, (uint32_t)len) < 0)
		return -errno;
	return 0;
}

static int xen_action(struct xhp_backend *be, const char *name, enum xhp_action action,
		      uint32_t timeout_ns, uint32_t flags)
{
	xc_interface *xch = xch_of(be);
	char n[XHP_NAME_MAX + 1];
	int r;

	if (strlen(name) > XHP_NAME_MAX)
		return -EINVAL;
	snprintf(n, sizeof(n), "%s", name);
	xc_clear_last_error(xch);
	switch (action) {
	case XHP_ACTION_UNLOAD: r = xc_livepatch_unload(xch, n, timeout_ns, flags); break;
	case XHP_ACTION_REVERT: r = xc_livepatch_revert(xch, n, timeout_ns, flags); break;
	case XHP_ACTION_APPLY: r = xc_livepatch_apply(xch, n, timeout_ns, flags); break;
	case XHP_ACTION_REPLACE: r = xc_livepatch_replace(xch, n, timeout_ns, flags); break;
	default: return -EOPNOTSUPP;
	}
	return r < 0 ? -errno : 0;
}

const struct xhp_backend_ops xhp_backend_xen = {
	.name = "xen",
	.open = xen_open,
	.close = xen_close,
	.build_id = xen_build_id,
	.boot_id = xen_boot_id,
	.list = xen_list,
	.count = xen_count,
	.get = xen_get,
	.upload = xen_upload,
	.action = xen_action,
	.explain = xen_explain,
};

#else /* !HAVE_XEN */

const bool xhp_have_xen = false;

static int xen_open(struct xhp_backend **out, const char *arg, struct xhp_err *err)
{
	(void)out;
	(void)arg;
	xhp_err_set(err, "this xen-hotpatch was built without Xen support (libxenctrl was "
			 "not found at build time); only --backend sim:DIR works");
	return -ENOTSUP;
}

const struct xhp_backend_ops xhp_backend_xen = {
	.name = "xen",
	.open = xen_open,
};
#endif
