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

static int xen_list(struct xhp_backend *be, struct xhp_loaded **out, size_t *nout)
{
	xc_interface *xch = xch_of(be);
	unsigned int nr = 0, done = 0, left = 0, tries;
	uint32_t name_total = 0, meta_total = 0;
	struct xen_livepatch_status *info = NULL;
	uint32_t *len = NULL, *mlen = NULL;
	char *names = NULL, *meta = NULL;
	struct xhp_loaded *l;
	size_t i, noff = 0, moff = 0;
	int r = 0;

	/* The list can change between the size probe and the copy (the library
	 * restarts a few times itself); retry the whole probe a few times. */
	for (tries = 0; tries < 5; tries++) {
		if (xc_livepatch_list_get_sizes(xch, &nr, &name_total, &meta_total) < 0)
			return -errno;
		if (nr == 0) {
			*out = NULL;
			*nout = 0;
			return 0;
		}
		info = xhp_calloc(nr, sizeof(*info));
		len = xhp_calloc(nr, sizeof(*len));
		mlen = xhp_calloc(nr, sizeof(*mlen));
		names = xhp_calloc(name_total + 1, 1);
		meta = xhp_calloc(meta_total + 1, 1);
		r = xc_livepatch_list(xch, nr, 0, info, names, len, name_total, meta, mlen,
				      meta_total, &done, &left);
		if (r == 0 && done == nr && left == 0)
			break;
		r = r < 0 ? -errno : -EAGAIN;
		free(info); free(len); free(mlen); free(names); free(meta);
		info = NULL; len = mlen = NULL; names = meta = NULL;
	}
	if (!info)
		return r ? r : -EAGAIN;
	l = xhp_calloc(nr, sizeof(*l));
	for (i = 0; i < nr; i++) {
		if (noff + len[i] > name_total || moff + mlen[i] > meta_total) {
			r = -EPROTO;
			break;
		}
		snprintf(l[i].name, sizeof(l[i].name), "%.*s", (int)len[i], names + noff);
		l[i].st.state = (int)info[i].state;
		l[i].st.rc = info[i].rc;
		if (mlen[i]) {
			l[i].metadata = xhp_malloc(mlen[i]);
			memcpy(l[i].metadata, meta + moff, mlen[i]);
			l[i].metadata_len = mlen[i];
		}
		noff += len[i];
		moff += mlen[i];
	}
	free(info); free(len); free(mlen); free(names); free(meta);
	if (r < 0) {
		xhp_loaded_free(l, nr);
		return r;
	}
	*out = l;
	*nout = nr;
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

static int xen_upload(struct xhp_backend *be, const char *name, const void *buf, size_t len)
{
	char n[XHP_NAME_MAX + 1];

	if (strlen(name) > XHP_NAME_MAX || len == 0 || len > XHP_PAYLOAD_MAX_SIZE)
		return -EINVAL;
	snprintf(n, sizeof(n), "%s", name);
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
	.get = xen_get,
	.upload = xen_upload,
	.action = xen_action,
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
