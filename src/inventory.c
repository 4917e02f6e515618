/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "inventory.h"

static const char suffix[] = ".livepatch";

int xhp_file_check(const char *path, struct xhp_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		xhp_err_set(err, "%s", strerror(errno));
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		xhp_err_set(err, "is a symbolic link: payloads must be regular files");
		return -ELOOP;
	}
	if (!S_ISREG(st.st_mode)) {
		xhp_err_set(err, "not a regular file");
		return -EINVAL;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		xhp_err_set(err, "is writable by %s (mode %04o): refusing to load it",
			    st.st_mode & S_IWOTH ? "everyone" : "its group",
			    (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		xhp_err_set(err, "is owned by uid %u, not root: refusing to load it",
			    (unsigned)st.st_uid);
		return -EPERM;
	}
	return 0;
}

static void add_problem(struct xhp_inventory *inv, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_problem(struct xhp_inventory *inv, const char *path, const char *fmt, ...)
{
	struct xhp_file_problem *p;
	va_list ap;
	char *m;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	inv->problems = xhp_realloc(inv->problems, (inv->nproblems + 1) * sizeof(*inv->problems));
	p = &inv->problems[inv->nproblems++];
	p->path = xhp_strdup(path);
	p->msg = xhp_asprintf("%s: %s", path, m);
	free(m);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *dir, struct xhp_strv *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			xhp_strv_add(out, de->d_name);
	closedir(d);
	if (out->n > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

static size_t count_payloads(const char *dir)
{
	struct xhp_strv names = { 0 };
	size_t i, n = 0;

	if (list_dir(dir, &names) == 0)
		for (i = 0; i < names.n; i++) {
			size_t l = strlen(names.v[i]);

			if (l > sizeof(suffix) - 1 && !strcmp(names.v[i] + l - (sizeof(suffix) - 1), suffix))
				n++;
		}
	xhp_strv_free(&names);
	return n;
}

int xhp_inventory_scan(const char *root, const char *payload_dir,
		       const struct xhp_build_id *hv, struct xhp_inventory *inv,
		       struct xhp_err *err)
{
	_cleanup_free_ char *base = xhp_path_join(root, payload_dir);
	_cleanup_free_ char *hvdir = NULL;
	char hvhex[XHP_BUILD_ID_HEX_SIZE];
	struct xhp_strv names = { 0 };
	struct stat st;
	size_t i;
	int r;

	memset(inv, 0, sizeof(*inv));
	xhp_build_id_hex(hv, hvhex, sizeof(hvhex));
	r = list_dir(base, &names);
	if (r < 0) {
		xhp_err_set(err, "payload directory %s: %s", base, strerror(-r));
		return r;
	}
	/* folders for other hypervisors */
	for (i = 0; i < names.n; i++) {
		_cleanup_free_ char *p = xhp_asprintf("%s/%s", base, names.v[i]);
		struct xhp_build_id id;

		if (!strcmp(names.v[i], hvhex))
			continue;
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode) || xhp_build_id_from_hex(&id, names.v[i]))
			continue;
		inv->other = xhp_realloc(inv->other, (inv->nother + 1) * sizeof(*inv->other));
		inv->other[inv->nother].build_id = xhp_strdup(names.v[i]);
		inv->other[inv->nother].nfiles = count_payloads(p);
		inv->nother++;
	}
	xhp_strv_free(&names);

	hvdir = xhp_asprintf("%s/%s", base, hvhex);
	r = list_dir(hvdir, &names);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		xhp_err_set(err, "payload directory %s: %s", hvdir, strerror(-r));
		return r;
	}
	for (i = 0; i < names.n; i++) {
		const char *fn = names.v[i];
		size_t l = strlen(fn);
		_cleanup_free_ char *path = xhp_asprintf("%s/%s", hvdir, fn);
		_cleanup_free_ char *stem = NULL;
		struct xhp_payload pl;
		struct xhp_err e = { { 0 } };
		char h1[XHP_BUILD_ID_HEX_SIZE];
		struct xhp_file *f;

		if (l <= sizeof(suffix) - 1 || strcmp(fn + l - (sizeof(suffix) - 1), suffix))
			continue; /* not a payload (README, .tmp files of a package manager) */
		stem = xhp_strndup(fn, l - (sizeof(suffix) - 1));
		r = xhp_name_check(stem);
		if (r == -ENAMETOOLONG) {
			add_problem(inv, path, "name is %zu bytes, Xen allows %d", strlen(stem), XHP_NAME_MAX);
			continue;
		}
		if (r < 0) {
			add_problem(inv, path, "name \"%s\" has characters outside [A-Za-z0-9._-]", stem);
			continue;
		}
		if (xhp_file_check(path, &e) < 0) {
			add_problem(inv, path, "%s", e.msg);
			continue;
		}
		r = xhp_payload_load(path, &pl, NULL, NULL, &e);
		if (r < 0) {
			add_problem(inv, path, "%s", e.msg[0] ? e.msg : strerror(-r));
			continue;
		}
		if (!xhp_build_id_eq(&pl.xen_depends, hv)) {
			add_problem(inv, path, "built for hypervisor %s but installed in the folder of %s",
				    xhp_build_id_hex(&pl.xen_depends, h1, sizeof(h1)), hvhex);
			xhp_payload_free(&pl);
			continue;
		}
		inv->files = xhp_realloc(inv->files, (inv->nfiles + 1) * sizeof(*inv->files));
		f = &inv->files[inv->nfiles++];
		f->path = path;
		path = NULL;
		f->name = stem;
		stem = NULL;
		f->pl = pl;
	}
	xhp_strv_free(&names);
	return 0;
}

void xhp_inventory_free(struct xhp_inventory *inv)
{
	size_t i;

	for (i = 0; i < inv->nfiles; i++) {
		free(inv->files[i].path);
		free(inv->files[i].name);
		xhp_payload_free(&inv->files[i].pl);
	}
	free(inv->files);
	for (i = 0; i < inv->nproblems; i++) {
		free(inv->problems[i].path);
		free(inv->problems[i].msg);
	}
	free(inv->problems);
	for (i = 0; i < inv->nother; i++)
		free(inv->other[i].build_id);
	free(inv->other);
	memset(inv, 0, sizeof(*inv));
}
