/* SPDX-License-Identifier: GPL-2.0-only */
/* The crash-loop guard: its files and its rules (guard.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "guard.h"

#define STAGE_STARTED "started"
#define STAGE_APPLIED "applied"

static const char *const kind_dir[] = {
	[XHP_GUARD_ATTEMPT] = "attempts",
	[XHP_GUARD_PROVEN] = "proven",
	[XHP_GUARD_QUARANTINE] = "quarantine",
};

void xhp_guard_changes_free(struct xhp_guard_changes *c)
{
	xhp_strv_free(&c->quarantined);
	xhp_strv_free(&c->proven);
	xhp_strv_free(&c->unproven);
	xhp_strv_free(&c->unmarked);
}

/* Uptime including suspend, in ms: comparable within one boot. */
static unsigned long long uptime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
}

void xhp_guard_open(struct xhp_guard *g, const char *root, const char *boot_id, unsigned proven_after_s)
{
	memset(g, 0, sizeof(*g));
	g->dir = xhp_path_join(root, "/var/lib/xen-hotpatch");
	snprintf(g->boot_id, sizeof(g->boot_id), "%s", boot_id);
	g->proven_after_ms = proven_after_s * 1000u;
}

void xhp_guard_close(struct xhp_guard *g)
{
	free(g->dir);
	xhp_strv_free(&g->held);
	xhp_strv_free(&g->held_names);
	memset(g, 0, sizeof(*g));
}

bool xhp_guard_present(const struct xhp_guard *g)
{
	struct stat st;

	return stat(g->dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *entry_path(const struct xhp_guard *g, enum xhp_guard_kind kind, const char *id_hex)
{
	return xhp_asprintf("%s/%s%s%s", g->dir, kind_dir[kind], id_hex ? "/" : "", id_hex ? id_hex : "");
}

/* A new attempt must be on disk before the hypervisor is touched, and a
 * quarantine before its attempt goes; a later stage of an attempt or a
 * proof lost in a crash leaves the safe side (an attempt that quarantines,
 * a payload not proven), so they are not synced: every apply would wait
 * for the disk three times otherwise. */
static int make_dir(struct xhp_guard *g, enum xhp_guard_kind kind)
{
	_cleanup_free_ char *dir = entry_path(g, kind, NULL);
	int r = g->dir_made[kind] ? 0 : xhp_mkdir_p(dir, 0755);

	g->dir_made[kind] = r == 0;
	return r;
}

/* A new attempt straight into its file and synced: one disk flush before
 * the apply is sent (a new file's name is on disk with it on ext4, xfs and
 * btrfs). Only its own write can tear it, and the apply waits for that. */
static int write_synced(const char *path, const char *content)
{
	size_t len = strlen(content);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644), r = 0;
	struct stat st;

	if (fd < 0 && errno != ENXIO && errno != ELOOP)
		return -errno;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		/* a FIFO, a device or a link in its place: replaced, never written through */
		if (fd >= 0)
			close(fd);
		return xhp_write_file_atomic(path, content, len, 0644);
	}
	if (ftruncate(fd, 0) < 0 || write(fd, content, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

static int write_entry(struct xhp_guard *g, enum xhp_guard_kind kind, const char *id_hex, const char *content,
		       bool durable)
{
	_cleanup_free_ char *path = entry_path(g, kind, id_hex);
	int r = make_dir(g, kind);

	if (!r && kind == XHP_GUARD_ATTEMPT && durable)
		r = write_synced(path, content);
	else if (!r)
		r = durable ? xhp_write_file_atomic(path, content, strlen(content), 0644)
			    : xhp_write_file_replace(path, content, strlen(content), 0644);
	if (r < 0 && !g->write_error)
		g->write_error = r;
	return r;
}

static void drop_entry(struct xhp_guard *g, enum xhp_guard_kind kind, const char *id_hex)
{
	_cleanup_free_ char *path = entry_path(g, kind, id_hex);

	if (unlink(path) < 0 && errno != ENOENT && !g->write_error)
		g->write_error = -errno;
}

static bool has_entry_hex(const struct xhp_guard *g, enum xhp_guard_kind kind, const char *id_hex)
{
	_cleanup_free_ char *path = entry_path(g, kind, id_hex);

	return access(path, F_OK) == 0;
}

static bool has_entry(const struct xhp_guard *g, enum xhp_guard_kind kind, const struct xhp_build_id *id)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];

	return has_entry_hex(g, kind, xhp_build_id_hex(id, hex, sizeof(hex)));
}

bool xhp_guard_is_proven(const struct xhp_guard *g, const struct xhp_build_id *id)
{
	return has_entry(g, XHP_GUARD_PROVEN, id);
}

bool xhp_guard_is_quarantined(const struct xhp_guard *g, const struct xhp_build_id *id)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];

	return has_entry(g, XHP_GUARD_QUARANTINE, id) ||
	       xhp_strv_has(&g->held, xhp_build_id_hex(id, hex, sizeof(hex)));
}

/* The lines of an entry, into e. false when it cannot be read or has no name. */
static bool read_entry(const struct xhp_guard *g, enum xhp_guard_kind kind, const char *id_hex,
		       struct xhp_guard_entry *e)
{
	_cleanup_free_ char *path = entry_path(g, kind, id_hex), *buf = NULL;
	char *line[6] = { NULL }, *save = NULL, *w;
	size_t n = 0;

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	snprintf(e->id_hex, sizeof(e->id_hex), "%s", id_hex);
	if (xhp_read_file(path, &buf, NULL, 1 << 16) < 0)
		return false;
	for (w = strtok_r(buf, "\n", &save); w && n < 6; w = strtok_r(NULL, "\n", &save))
		line[n++] = w;
	if (!line[0] || xhp_name_check(line[0]) < 0)
		return false;
	snprintf(e->name, sizeof(e->name), "%s", line[0]);
	if (kind == XHP_GUARD_QUARANTINE)
		snprintf(e->why, sizeof(e->why), "%s", line[1] ? line[1] : "");
	if (kind == XHP_GUARD_ATTEMPT) {
		snprintf(e->boot_id, sizeof(e->boot_id), "%s", line[1] ? line[1] : "");
		e->completed = line[2] && !strcmp(line[2], STAGE_APPLIED);
		e->applied_ms = line[3] ? strtoull(line[3], NULL, 10) : 0;
		e->seen_ms = line[4] ? strtoull(line[4], NULL, 10) : 0;
		e->started_ms = line[5] ? strtoull(line[5], NULL, 10) : 0;
	}
	return true;
}

static int write_attempt(struct xhp_guard *g, const struct xhp_guard_entry *e)
{
	_cleanup_free_ char *c = xhp_asprintf("%s\n%s\n%s\n%llu\n%llu\n%llu\n", e->name, e->boot_id,
					      e->completed ? STAGE_APPLIED : STAGE_STARTED, e->applied_ms,
					      e->seen_ms, e->started_ms);

	return write_entry(g, XHP_GUARD_ATTEMPT, e->id_hex, c, !e->completed);
}

int xhp_guard_attempt_begin(struct xhp_guard *g, const struct xhp_identity *ident)
{
	struct xhp_guard_entry e = { .kind = XHP_GUARD_ATTEMPT };

	xhp_build_id_hex(&ident->id, e.id_hex, sizeof(e.id_hex));
	snprintf(e.name, sizeof(e.name), "%s", ident->name);
	snprintf(e.boot_id, sizeof(e.boot_id), "%s", g->boot_id);
	e.started_ms = uptime_ms();
	return write_attempt(g, &e);
}

void xhp_guard_attempt_end(struct xhp_guard *g, const struct xhp_identity *ident, bool applied)
{
	struct xhp_guard_entry e;
	char hex[XHP_BUILD_ID_HEX_SIZE];

	xhp_build_id_hex(&ident->id, hex, sizeof(hex));
	if (!applied) {
		drop_entry(g, XHP_GUARD_ATTEMPT, hex);
		return;
	}
	if (!g->proven_after_ms)
		return; /* the run's own check proves it: nothing to time */
	if (!read_entry(g, XHP_GUARD_ATTEMPT, hex, &e))
		return; /* it could not be written: the apply went unguarded */
	e.completed = true;
	e.applied_ms = e.seen_ms = uptime_ms();
	write_attempt(g, &e);
}

static int quarantine(struct xhp_guard *g, const struct xhp_guard_entry *a)
{
	_cleanup_free_ char *c = xhp_asprintf("%s\nits apply in boot %s was not seen to complete: the host "
					      "went down during it (or the tool was stopped and the host "
					      "rebooted before any run saw the result)\n", a->name, a->boot_id);

	int r = write_entry(g, XHP_GUARD_QUARANTINE, a->id_hex, c, true);

	if (r < 0) {
		xhp_strv_add(&g->held, a->id_hex); /* kept out all the same, by this run */
		xhp_strv_add(&g->held_names, a->name);
		return r;
	}
	drop_entry(g, XHP_GUARD_PROVEN, a->id_hex);
	drop_entry(g, XHP_GUARD_ATTEMPT, a->id_hex);
	return 0;
}

static void prove(struct xhp_guard *g, const struct xhp_guard_entry *a)
{
	_cleanup_free_ char *c = xhp_asprintf("%s\n", a->name);

	if (write_entry(g, XHP_GUARD_PROVEN, a->id_hex, c, false) == 0)
		drop_entry(g, XHP_GUARD_ATTEMPT, a->id_hex);
}

static const struct xhp_guard_sighting *sighting(const char *id_hex, const struct xhp_guard_sighting *seen,
						 size_t nseen)
{
	struct xhp_build_id id;
	size_t i;

	if (xhp_build_id_from_hex(&id, id_hex) < 0)
		return NULL;
	for (i = 0; i < nseen; i++)
		if (xhp_build_id_eq(&seen[i].id, &id))
			return &seen[i];
	return NULL;
}

/* Is a the latest attempt of its boot that was not seen to complete (the
 * apply in flight when the host went down)? */
static bool in_flight_at_the_end(const struct xhp_guard_entry *a, const struct xhp_guard_entry *all, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (&all[i] != a && !all[i].completed && !strcmp(all[i].boot_id, a->boot_id) &&
		    (all[i].started_ms > a->started_ms ||
		     (all[i].started_ms == a->started_ms && strcmp(all[i].id_hex, a->id_hex) > 0)))
			return false;
	return true;
}

/* An attempt of an earlier boot: the hypervisor has forgotten it. */
static void resolve_earlier_boot(struct xhp_guard *g, struct xhp_guard_entry *a, const struct xhp_guard_entry *all,
				 size_t n, struct xhp_guard_changes *c)
{
	if (!a->completed && in_flight_at_the_end(a, all, n)) {
		xhp_strv_add(quarantine(g, a) == 0 ? &c->quarantined : &c->unmarked, a->name);
	} else if (!a->completed) {
		/* done before the one in flight: proven before, or left unproven */
		drop_entry(g, XHP_GUARD_ATTEMPT, a->id_hex);
		if (!has_entry_hex(g, XHP_GUARD_PROVEN, a->id_hex))
			xhp_strv_add(&c->unproven, a->name);
	} else if (a->seen_ms >= a->applied_ms + g->proven_after_ms) {
		prove(g, a);
		xhp_strv_add(&c->proven, a->name);
	} else {
		drop_entry(g, XHP_GUARD_ATTEMPT, a->id_hex);
		xhp_strv_add(&c->unproven, a->name);
	}
}

/* An attempt of this boot, against what the hypervisor shows now. */
static void resolve_this_boot(struct xhp_guard *g, struct xhp_guard_entry *a, const struct xhp_guard_sighting *s,
			      struct xhp_guard_changes *c)
{
	unsigned long long now = uptime_ms();

	if (s && s->rc == -EAGAIN)
		return; /* still in flight */
	if (!s || s->state != XHP_STATE_APPLIED) {
		drop_entry(g, XHP_GUARD_ATTEMPT, a->id_hex); /* it ended without being applied */
		return;
	}
	if (!a->completed) {
		a->completed = true; /* it completed while nobody watched */
		a->applied_ms = now;
	}
	a->seen_ms = now;
	if (a->seen_ms >= a->applied_ms + g->proven_after_ms) {
		prove(g, a);
		xhp_strv_add(&c->proven, a->name);
	} else {
		write_attempt(g, a);
	}
}

void xhp_guard_reconcile(struct xhp_guard *g, const struct xhp_guard_sighting *seen, size_t nseen,
			 struct xhp_guard_changes *changes)
{
	struct xhp_guard_entry *a = NULL;
	size_t n = 0, i;

	if (xhp_guard_list(g, XHP_GUARD_ATTEMPT, &a, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		if (strcmp(a[i].boot_id, g->boot_id))
			resolve_earlier_boot(g, &a[i], a, n, changes);
		else
			resolve_this_boot(g, &a[i], sighting(a[i].id_hex, seen, nseen), changes);
	}
	free(a);
}

static int by_name(const void *x, const void *y)
{
	const struct xhp_guard_entry *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c ? c : strcmp(a->id_hex, b->id_hex);
}

/* A quarantine mark that cannot be read still quarantines (the payload is
 * left out by its build-id): it is listed, so that status and the exit
 * codes agree with the runs that leave it out, and `clear` can release it. */
static bool unreadable_quarantine(enum xhp_guard_kind kind, struct xhp_guard_entry *e)
{
	if (kind != XHP_GUARD_QUARANTINE)
		return false;
	snprintf(e->name, sizeof(e->name), "?");
	snprintf(e->why, sizeof(e->why), "its quarantine mark cannot be read (not a regular file, or no payload "
		 "name in it)");
	return true;
}

/* The payloads quarantined by this run whose mark could not be written. */
static void add_held(const struct xhp_guard *g, struct xhp_guard_entry **out, size_t *n)
{
	size_t i;

	for (i = 0; i < g->held.n; i++) {
		struct xhp_guard_entry *e;

		*out = xhp_realloc(*out, (*n + 1) * sizeof(**out));
		e = &(*out)[(*n)++];
		memset(e, 0, sizeof(*e));
		e->kind = XHP_GUARD_QUARANTINE;
		snprintf(e->id_hex, sizeof(e->id_hex), "%s", g->held.v[i]);
		snprintf(e->name, sizeof(e->name), "%s", g->held_names.v[i]);
		snprintf(e->why, sizeof(e->why), "its apply in an earlier boot was not seen to complete; its "
			 "quarantine mark cannot be written, so it is left out run by run");
	}
}

int xhp_guard_list(const struct xhp_guard *g, enum xhp_guard_kind kind, struct xhp_guard_entry **out, size_t *n)
{
	_cleanup_free_ char *dir = entry_path(g, kind, NULL);
	struct xhp_build_id id;
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = d || errno == ENOENT ? 0 : -errno;

	*out = NULL;
	*n = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || xhp_build_id_from_hex(&id, de->d_name) < 0)
			continue; /* ., .., temporary files */
		*out = xhp_realloc(*out, (*n + 1) * sizeof(**out));
		if (read_entry(g, kind, de->d_name, &(*out)[*n]) || unreadable_quarantine(kind, &(*out)[*n]))
			(*n)++;
	}
	if (d)
		closedir(d);
	if (kind == XHP_GUARD_QUARANTINE)
		add_held(g, out, n);
	if (*n)
		qsort(*out, *n, sizeof(**out), by_name);
	return r;
}

int xhp_guard_release(struct xhp_guard *g, const char *id_hex)
{
	_cleanup_free_ char *path = entry_path(g, XHP_GUARD_QUARANTINE, id_hex);
	_cleanup_free_ char *attempt = entry_path(g, XHP_GUARD_ATTEMPT, id_hex);
	int r = unlink(path) < 0 ? -errno : 0;

	/* held without a mark: its attempt is what keeps it out */
	if (r < 0 && xhp_strv_has(&g->held, id_hex))
		r = unlink(attempt) < 0 && errno != ENOENT ? -errno : 0;
	return r;
}
