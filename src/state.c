/* SPDX-License-Identifier: GPL-2.0-only */
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

static void record_clear(struct xhp_record *e)
{
	free(e->path);
	xhp_strv_free(&e->new_syms);
	memset(e, 0, sizeof(*e));
}

void xhp_records_free(struct xhp_records *rec)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		record_clear(&rec->r[i]);
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

/* One payload's entry; false when it is unusable (then it is dropped: the
 * payload is adopted by name or counted foreign). */
static bool record_from_json(struct xhp_record *e, json_object *o)
{
	const char *id = jstr(o, "build_id"), *dep = jstr(o, "depends"), *p = jstr(o, "path");
	json_object *syms;
	size_t i;

	if (!id || !dep || xhp_build_id_from_hex(&e->ident.id, id) ||
	    xhp_build_id_from_hex(&e->ident.depends, dep))
		return false;
	e->path = p ? xhp_strdup(p) : NULL;
	e->ident.hooks = juint(o, "hooks");
	e->ident.vetoing = jbool(o, "vetoing");
	e->ident.safe_to_reapply = jbool(o, "safe_to_reapply");
	e->ident.expectations = juint(o, "expectations");
	e->ident.bad_expectation = -(int)juint(o, "bad_expectation");
	e->reverted = jbool(o, "reverted");
	e->nodeps = jbool(o, "nodeps");
	e->seq = juint(o, "seq");
	e->down = jbool(o, "down");
	if (json_object_object_get_ex(o, "new_syms", &syms) && json_object_is_type(syms, json_type_array))
		for (i = 0; i < json_object_array_length(syms); i++) {
			const char *sym = json_object_get_string(json_object_array_get_idx(syms, i));

			if (sym)
				xhp_strv_add(&e->new_syms, sym);
		}
	return true;
}

static void records_from_json(struct xhp_records *rec, json_object *arr)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *name = jstr(o, "name");

		if (!name || xhp_name_check(name) < 0)
			continue;
		if (!record_from_json(xhp_records_add(rec, name), o))
			xhp_records_del(rec, name);
	}
}

int xhp_records_load(struct xhp_records *rec, const char *boot_id, const char *hv_hex)
{
	_cleanup_free_ char *path = records_path(), *buf = NULL;
	json_object *root, *arr;
	const char *b, *h;
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
	if (b && h && !strcmp(b, boot_id) && !strcmp(h, hv_hex)) {
		rec->next_seq = juint(root, "next_seq");
		if (!rec->next_seq)
			rec->next_seq = 1;
		if (json_object_object_get_ex(root, "payloads", &arr) && json_object_is_type(arr, json_type_array))
			records_from_json(rec, arr);
	}
	json_object_put(root);
	return 0;
}

static json_object *record_to_json(const struct xhp_record *e)
{
	json_object *o = json_object_new_object(), *syms = json_object_new_array();
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	json_object_object_add(o, "name", json_object_new_string(e->ident.name));
	json_object_object_add(o, "build_id", json_object_new_string(xhp_build_id_hex(&e->ident.id, hex, sizeof(hex))));
	json_object_object_add(o, "depends",
			       json_object_new_string(xhp_build_id_hex(&e->ident.depends, hex, sizeof(hex))));
	if (e->path)
		json_object_object_add(o, "path", json_object_new_string(e->path));
	json_object_object_add(o, "hooks", json_object_new_int64(e->ident.hooks));
	json_object_object_add(o, "vetoing", json_object_new_boolean(e->ident.vetoing));
	json_object_object_add(o, "safe_to_reapply", json_object_new_boolean(e->ident.safe_to_reapply));
	json_object_object_add(o, "expectations", json_object_new_int64(e->ident.expectations));
	json_object_object_add(o, "bad_expectation", json_object_new_int64(-e->ident.bad_expectation));
	json_object_object_add(o, "reverted", json_object_new_boolean(e->reverted));
	json_object_object_add(o, "nodeps", json_object_new_boolean(e->nodeps));
	json_object_object_add(o, "seq", json_object_new_int64(e->seq));
	json_object_object_add(o, "down", json_object_new_boolean(e->down));
	for (i = 0; i < e->new_syms.n; i++)
		json_object_array_add(syms, json_object_new_string(e->new_syms.v[i]));
	json_object_object_add(o, "new_syms", syms);
	return o;
}

int xhp_records_save(const struct xhp_records *rec)
{
	_cleanup_free_ char *path = records_path();
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	const char *s;
	size_t i;
	int r;

	json_object_object_add(root, "boot_id", json_object_new_string(rec->boot_id));
	json_object_object_add(root, "hypervisor", json_object_new_string(rec->hv));
	json_object_object_add(root, "next_seq", json_object_new_int64(rec->next_seq));
	for (i = 0; i < rec->n; i++)
		json_object_array_add(arr, record_to_json(&rec->r[i]));
	json_object_object_add(root, "payloads", arr);
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	/* the run directory is there: the lock is in it */
	r = xhp_write_file_replace(path, s, strlen(s), 0644); /* /run: gone at reboot anyway */
	json_object_put(root);
	return r;
}

struct xhp_record *xhp_records_find(struct xhp_records *rec, const char *name)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		if (!strcmp(rec->r[i].ident.name, name))
			return &rec->r[i];
	return NULL;
}

void xhp_record_reverted(struct xhp_record *r)
{
	r->reverted = true;
	r->down = true;
}

struct xhp_record *xhp_records_add(struct xhp_records *rec, const char *name)
{
	struct xhp_record *e = xhp_records_find(rec, name);

	if (e) {
		record_clear(e);
	} else {
		rec->r = xhp_grow(rec->r, rec->n, sizeof(*rec->r));
		e = &rec->r[rec->n++];
	}
	snprintf(e->ident.name, sizeof(e->ident.name), "%s", name);
	return e;
}

void xhp_records_del(struct xhp_records *rec, const char *name)
{
	struct xhp_record *e = xhp_records_find(rec, name);

	if (!e)
		return;
	record_clear(e);
	/* keep the upload order: it is the order Xen lists them in */
	memmove(e, e + 1, (size_t)(&rec->r[rec->n] - (e + 1)) * sizeof(*e));
	rec->n--;
}

static const struct xhp_loaded *loaded_named(const struct xhp_loaded *l, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(l[i].name, name))
			return &l[i];
	return NULL;
}

int xhp_records_reconcile(struct xhp_records *rec, const struct xhp_loaded *loaded, size_t n)
{
	size_t i = 0;
	int changed = 0;

	while (i < rec->n) {
		struct xhp_record *e = &rec->r[i];
		const struct xhp_loaded *l = loaded_named(loaded, n, e->ident.name);

		if (!l) {
			xhp_records_del(rec, e->ident.name); /* unloaded while nobody watched */
			changed++;
			continue;
		}
		i++;
		if (l->st.rc == -EAGAIN)
			continue; /* still in flight: the next run looks again */
		if (l->st.state == XHP_STATE_CHECKED && e->seq && (!e->down || !e->reverted)) {
			xhp_record_reverted(e); /* reverted while nobody watched */
			changed++;
		}
		if (l->st.state == XHP_STATE_APPLIED && (!e->seq || e->down)) {
			/* applied late (again, after a recorded revert): its old
			 * place is history; the planner checks the order */
			e->seq = rec->next_seq++;
			e->down = false;
			changed++;
		}
	}
	return changed;
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
