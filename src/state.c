/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "state.h"

const char *xhp_run_dir(void)
{
	const char *d = getenv("XEN_HOTPATCH_RUN_DIR");

	return d && *d ? d : XHP_RUN_DIR_DEFAULT;
}

int xhp_lock(int *fdp, unsigned wait_ms)
{
	_cleanup_free_ char *path = xhp_asprintf("%s/lock", xhp_run_dir());
	unsigned long long deadline = xhp_now_ms() + wait_ms;
	unsigned pause = 5;
	int fd, r;

	r = xhp_mkdir_p(xhp_run_dir(), 0755);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
		if (xhp_now_ms() >= deadline) {
			close(fd);
			return -EWOULDBLOCK;
		}
		xhp_sleep_ms(pause);
		if (pause < 200)
			pause *= 2;
	}
	*fdp = fd;
	return 0;
}

void xhp_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- the record of what was loaded ---------------------------------------- */

static char *records_path(void)
{
	return xhp_asprintf("%s/loaded.json", xhp_run_dir());
}

void xhp_records_free(struct xhp_records *rec)
{
	size_t i;

	for (i = 0; i < rec->n; i++) {
		free(rec->r[i].name);
		free(rec->r[i].path);
	}
	free(rec->r);
	free(rec->boot_id);
	free(rec->hv);
	memset(rec, 0, sizeof(*rec));
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool jbool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static unsigned juint(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return (unsigned)json_object_get_int64(v);
}

int xhp_records_load(struct xhp_records *rec, const char *boot_id, const char *hv_hex)
{
	_cleanup_free_ char *path = records_path(), *buf = NULL;
	json_object *root, *arr;
	const char *b, *h;
	size_t i;
	int r;

	memset(rec, 0, sizeof(*rec));
	rec->boot_id = xhp_strdup(boot_id);
	rec->hv = xhp_strdup(hv_hex);
	rec->next_seq = 1;
	r = xhp_read_file(path, &buf, NULL, 16 << 20);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	root = json_tokener_parse(buf);
	if (!root)
		return 0; /* a torn record is no record: everything loaded is then adopted or foreign */
	b = jstr(root, "boot_id");
	h = jstr(root, "hypervisor");
	if (!b || !h || strcmp(b, boot_id) || strcmp(h, hv_hex)) {
		json_object_put(root);
		return 0;
	}
	rec->next_seq = juint(root, "next_seq");
	if (!rec->next_seq)
		rec->next_seq = 1;
	if (json_object_object_get_ex(root, "payloads", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		for (i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			const char *name = jstr(o, "name"), *id = jstr(o, "build_id"),
				   *dep = jstr(o, "depends"), *p = jstr(o, "path");
			struct xhp_record *e;

			if (!name || !id || !dep)
				continue;
			e = xhp_records_add(rec, name);
			if (xhp_build_id_from_hex(&e->id, id) || xhp_build_id_from_hex(&e->depends, dep)) {
				xhp_records_del(rec, name);
				continue;
			}
			e->path = p ? xhp_strdup(p) : NULL;
			e->vetoing = jbool(o, "vetoing");
			e->safe_to_reapply = jbool(o, "safe_to_reapply");
			e->reverted = jbool(o, "reverted");
			e->seq = juint(o, "seq");
		}
	}
	json_object_put(root);
	return 0;
}

int xhp_records_save(const struct xhp_records *rec)
{
	_cleanup_free_ char *path = records_path();
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char hex[XHP_BUILD_ID_HEX_SIZE];
	const char *s;
	size_t i;
	int r;

	json_object_object_add(root, "boot_id", json_object_new_string(rec->boot_id));
	json_object_object_add(root, "hypervisor", json_object_new_string(rec->hv));
	json_object_object_add(root, "next_seq", json_object_new_int64(rec->next_seq));
	for (i = 0; i < rec->n; i++) {
		const struct xhp_record *e = &rec->r[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(e->name));
		json_object_object_add(o, "build_id",
				       json_object_new_string(xhp_build_id_hex(&e->id, hex, sizeof(hex))));
		json_object_object_add(o, "depends",
				       json_object_new_string(xhp_build_id_hex(&e->depends, hex, sizeof(hex))));
		if (e->path)
			json_object_object_add(o, "path", json_object_new_string(e->path));
		json_object_object_add(o, "vetoing", json_object_new_boolean(e->vetoing));
		json_object_object_add(o, "safe_to_reapply", json_object_new_boolean(e->safe_to_reapply));
		json_object_object_add(o, "reverted", json_object_new_boolean(e->reverted));
		json_object_object_add(o, "seq", json_object_new_int64(e->seq));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "payloads", arr);
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	r = xhp_mkdir_p(xhp_run_dir(), 0755);
	if (!r)
		r = xhp_write_file_atomic(path, s, strlen(s), 0644);
	json_object_put(root);
	return r;
}

struct xhp_record *xhp_records_find(struct xhp_records *rec, const char *name)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		if (!strcmp(rec->r[i].name, name))
			return &rec->r[i];
	return NULL;
}

struct xhp_record *xhp_records_add(struct xhp_records *rec, const char *name)
{
	struct xhp_record *e = xhp_records_find(rec, name);

	if (e) {
		free(e->path);
		free(e->name);
	} else {
		rec->r = xhp_realloc(rec->r, (rec->n + 1) * sizeof(*rec->r));
		e = &rec->r[rec->n++];
	}
	memset(e, 0, sizeof(*e));
	e->name = xhp_strdup(name);
	return e;
}

void xhp_records_del(struct xhp_records *rec, const char *name)
{
	struct xhp_record *e = xhp_records_find(rec, name);

	if (!e)
		return;
	free(e->name);
	free(e->path);
	*e = rec->r[--rec->n];
}

void xhp_apply_log(const char *fmt, ...)
{
	_cleanup_free_ char *path = xhp_asprintf("%s/apply.log", xhp_run_dir());
	_cleanup_free_ char *msg = NULL, *line = NULL;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (xhp_mkdir_p(xhp_run_dir(), 0755) < 0)
		return;
	f = xhp_fopen_append(path);
	if (!f)
		return;
	fprintf(f, "%s [%ld] %s\n", stamp, (long)getpid(), line = xhp_escape(msg));
	fclose(f);
}

/* ---- durable marks ---------------------------------------------------------- */

static char *mark_path(const char *root, const char *kind, const char *id)
{
	_cleanup_free_ char *rel = xhp_asprintf("/var/lib/xen-hotpatch/%s%s%s", kind,
						id ? "/" : "", id ? id : "");

	return xhp_path_join(root, rel);
}

bool xhp_mark_has(const char *root, const char *kind, const char *id_hex)
{
	_cleanup_free_ char *p = mark_path(root, kind, id_hex);

	return access(p, F_OK) == 0;
}

int xhp_mark_set(const char *root, const char *kind, const char *id_hex, const char *content)
{
	_cleanup_free_ char *dir = mark_path(root, kind, NULL);
	_cleanup_free_ char *p = mark_path(root, kind, id_hex);
	int r = xhp_mkdir_p(dir, 0755);

	if (r < 0)
		return r;
	return xhp_write_file_atomic(p, content, strlen(content), 0644);
}

int xhp_mark_read(const char *root, const char *kind, const char *id_hex, char **content)
{
	_cleanup_free_ char *p = mark_path(root, kind, id_hex);

	return xhp_read_file(p, content, NULL, 1 << 16);
}

int xhp_mark_del(const char *root, const char *kind, const char *id_hex)
{
	_cleanup_free_ char *p = mark_path(root, kind, id_hex);

	if (unlink(p) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int xhp_mark_list(const char *root, const char *kind, struct xhp_strv *ids)
{
	_cleanup_free_ char *dir = mark_path(root, kind, NULL);
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !strstr(de->d_name, ".tmp."))
			xhp_strv_add(ids, de->d_name);
	closedir(d);
	return 0;
}
