/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "inventory.h"

static const char suffix[] = ".livepatch";

/* Whose is it: root's, or the running user's (a test, or a user's own root). */
static bool owner_ok(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* One folder on the way to the payloads. A payload folder (strict) must be
 * writable by its owner only; a folder above it may also be a sticky folder
 * of root's (as /tmp): others can add entries there, but cannot rename or
 * remove those that are not theirs. */
static int check_folder(const char *dir, bool strict, struct xhp_err *err)
{
	_cleanup_free_ char *e = xhp_escape(dir);
	const char *what = strict ? "payload folder" : "folder above the payloads";
	struct stat st;

	if (stat(dir, &st) < 0) {
		int r = -errno;

		xhp_err_set(err, "%s %s: %s", what, e, strerror(-r));
		return r;
	}
	if (!owner_ok(st.st_uid)) {
		xhp_err_set(err, "%s %s is owned by uid %u, not root: refusing to read payloads below it",
			    what, e, (unsigned)st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    (strict || !(st.st_mode & S_ISVTX) || st.st_uid != 0)) {
		xhp_err_set(err, "%s %s is writable by %s (mode %04o): refusing to read payloads below it",
			    what, e, st.st_mode & S_IWOTH ? "everyone" : "its group",
			    (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* dir (a payload folder) and every folder above it up to "/", as they really
 * are (symbolic links resolved): whoever can write one of them can swap in
 * their own payload between a check and an upload. Once none of them can be
 * changed but by root, the paths below stay what was checked. */
static int check_folder_chain(const char *dir, struct xhp_err *err)
{
	_cleanup_free_ char *real = realpath(dir, NULL);
	char *slash;
	int r;

	if (!real) {
		_cleanup_free_ char *e = xhp_escape(dir);

		r = -errno;
		xhp_err_set(err, "payload directory %s: %s", e, strerror(-r));
		return r;
	}
	r = check_folder(real, true, err);
	while (!r && strcmp(real, "/")) {
		slash = strrchr(real, '/');
		slash[slash == real ? 1 : 0] = '\0';
		r = check_folder(real, false, err);
	}
	return r;
}

static void add_problem(struct xhp_inventory *inv, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_problem(struct xhp_inventory *inv, const char *path, const char *fmt, ...)
{
	_cleanup_free_ char *e = xhp_escape(path);
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
	p->msg = xhp_asprintf("%s: %s", e, m);
	free(m);
}

char *xhp_payload_stem(const char *fn)
{
	size_t l = strlen(fn), sl = sizeof(suffix) - 1;

	if (l < sl || strcmp(fn + l - sl, suffix))
		return NULL;
	return xhp_strndup(fn, l - sl);
}

static size_t count_payloads(const char *dir)
{
	struct xhp_strv names = { 0 };
	size_t i, n = 0;

	if (xhp_dir_list(dir, &names) == 0)
		for (i = 0; i < names.n; i++) {
			_cleanup_free_ char *stem = xhp_payload_stem(names.v[i]);

			n += stem && *stem;
		}
	xhp_strv_free(&names);
	return n;
}

/* Folders of base named by a build-id other than the running hypervisor's. */
static void scan_other_hypervisors(const char *base, const struct xhp_strv *names,
				   const char *hvhex, struct xhp_inventory *inv)
{
	size_t i;

	for (i = 0; i < names->n; i++) {
		_cleanup_free_ char *p = xhp_asprintf("%s/%s", base, names->v[i]);
		struct xhp_build_id id;
		struct stat st;

		if (!strcmp(names->v[i], hvhex))
			continue;
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode) || xhp_build_id_from_hex(&id, names->v[i]))
			continue;
		inv->other = xhp_realloc(inv->other, (inv->nother + 1) * sizeof(*inv->other));
		inv->other[inv->nother].build_id = xhp_strdup(names->v[i]);
		inv->other[inv->nother].nfiles = count_payloads(p);
		inv->nother++;
	}
}

/* Is stem usable as a payload name? Otherwise say why (a problem of path). */
static bool name_usable(struct xhp_inventory *inv, const char *path, const char *stem)
{
	_cleanup_free_ char *e = xhp_escape(stem);
	int r = xhp_name_check(stem);

	if (r == 0)
		return true;
	if (!*stem)
		add_problem(inv, path, "the name is empty: a payload file is NAME.livepatch");
	else if (!strcmp(stem, ".") || !strcmp(stem, ".."))
		add_problem(inv, path, "name \"%s\" is not allowed (not \".\" or \"..\")", stem);
	else if (r == -ENAMETOOLONG)
		add_problem(inv, path, "name is %zu bytes, Xen allows %d", strlen(stem), XHP_NAME_MAX);
	else
		add_problem(inv, path, "name \"%s\" has characters outside [A-Za-z0-9._-]", e);
	return false;
}

/* Read one NAME.livepatch of the running hypervisor's folder into inv. */
static void scan_file(struct xhp_inventory *inv, const char *hvdir, const char *fn,
		      const struct xhp_build_id *hv)
{
	_cleanup_free_ char *stem = xhp_payload_stem(fn);
	_cleanup_free_ char *path = NULL;
	char h1[XHP_BUILD_ID_HEX_SIZE], h2[XHP_BUILD_ID_HEX_SIZE];
	struct xhp_err e = { { 0 } };
	struct xhp_payload pl;
	struct xhp_file *f;
	int r;

	if (!stem)
		return;
	path = xhp_asprintf("%s/%s", hvdir, fn);
	if (!name_usable(inv, path, stem))
		return;
	r = xhp_payload_load_installed(path, &pl, NULL, NULL, &e);
	if (r < 0) {
		add_problem(inv, path, "%s", e.msg[0] ? e.msg : strerror(-r));
		return;
	}
	if (!xhp_build_id_eq(&pl.xen_depends, hv)) {
		add_problem(inv, path, "built for hypervisor %s but installed in the folder of %s",
			    xhp_build_id_hex(&pl.xen_depends, h1, sizeof(h1)),
			    xhp_build_id_hex(hv, h2, sizeof(h2)));
		xhp_payload_free(&pl);
		return;
	}
	inv->files = xhp_realloc(inv->files, (inv->nfiles + 1) * sizeof(*inv->files));
	f = &inv->files[inv->nfiles++];
	f->path = path;
	path = NULL;
	f->name = stem;
	stem = NULL;
	f->pl = pl;
}

/* List a payload folder after checking it and the folders above it. */
static int list_payload_folder(const char *dir, struct xhp_strv *names, struct xhp_err *err)
{
	int r = xhp_dir_list(dir, names);

	if (r < 0) {
		_cleanup_free_ char *e = xhp_escape(dir);

		xhp_err_set(err, "payload directory %s: %s", e, strerror(-r));
		return r;
	}
	r = check_folder_chain(dir, err);
	if (r < 0)
		xhp_strv_free(names);
	return r;
}

int xhp_inventory_scan(const char *root, const char *payload_dir,
		       const struct xhp_build_id *hv, struct xhp_inventory *inv,
		       struct xhp_err *err)
{
	_cleanup_free_ char *base = xhp_path_join(root, payload_dir);
	_cleanup_free_ char *hvdir = NULL;
	char hvhex[XHP_BUILD_ID_HEX_SIZE];
	struct xhp_strv names = { 0 };
	size_t i;
	int r;

	memset(inv, 0, sizeof(*inv));
	xhp_build_id_hex(hv, hvhex, sizeof(hvhex));
	r = list_payload_folder(base, &names, err);
	if (r < 0)
		return r;
	scan_other_hypervisors(base, &names, hvhex, inv);
	xhp_strv_free(&names);

	hvdir = xhp_asprintf("%s/%s", base, hvhex);
	r = list_payload_folder(hvdir, &names, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (i = 0; i < names.n; i++)
		scan_file(inv, hvdir, names.v[i], hv);
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
