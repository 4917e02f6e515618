/* SPDX-License-Identifier: GPL-2.0-only */
/* The host's state as Prometheus / OpenMetrics text (metrics.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "metrics.h"
#include "state.h"

/* ---- the record of the last run ------------------------------------------ */

static char *last_run_path(void)
{
	return xhp_asprintf("%s/last-run", xhp_run_dir());
}

/* A token of the record: no white space, at most size - 1 bytes. */
static void token(char *out, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		out[i] = s[i] == ' ' || s[i] == '\n' || s[i] == '\t' ? '_' : s[i];
	out[i] = '\0';
}

int xhp_last_run_save(const struct xhp_last_run *r)
{
	_cleanup_free_ char *path = last_run_path();
	_cleanup_free_ char *line = xhp_asprintf("%s %s %s %d %llu %llu\n", r->verb, r->outcome, r->error,
						 r->success, r->time, r->steps);
	int e = xhp_mkdir_p(xhp_run_dir(), 0755);

	return e < 0 ? e : xhp_write_file_atomic(path, line, strlen(line), 0644);
}

void xhp_last_run_load(struct xhp_last_run *r)
{
	_cleanup_free_ char *path = last_run_path(), *buf = NULL;
	int success;

	memset(r, 0, sizeof(*r));
	if (xhp_read_file(path, &buf, NULL, 4096) < 0)
		return;
	r->present = sscanf(buf, "%15s %23s %23s %d %llu %llu", r->verb, r->outcome, r->error, &success, &r->time,
			    &r->steps) == 6;
	r->success = success == 1;
}

/* ---- rendering ---------------------------------------------------------------- */

/* A label value: untrusted bytes made printable (xhp_escape), then the
 * exposition format's own escapes for \ and ". */
static void put_label(FILE *f, const char *key, const char *value, bool last)
{
	_cleanup_free_ char *e = xhp_escape(value ? value : "");
	const char *c;

	fprintf(f, "%s=\"", key);
	for (c = e; *c; c++) {
		if (*c == '\\' || *c == '"')
			fputc('\\', f);
		fputc(*c, f);
	}
	fprintf(f, "\"%s", last ? "" : ",");
}

static void family(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void gauge(FILE *f, const char *name, const char *help, unsigned long long value)
{
	family(f, name, help);
	fprintf(f, "%s %llu\n", name, value);
}

/* The .modinfo "version=" of an applied payload: from the installed file of
 * the same identity, else from LIST's metadata when the run read it by LIST. */
static const char *applied_version(const struct xhp_host_status *st, const struct xhp_hv_entry *e,
				   const struct xhp_loaded *l, char *buf, size_t size)
{
	size_t i;

	for (i = 0; e->known && i < st->v.ninstalled; i++)
		if (xhp_identity_same(&st->v.installed[i].ident, &e->ident))
			return st->v.installed[i].version ? st->v.installed[i].version : "";
	i = 0;
	while (l && l->metadata && i < l->metadata_len) {
		const char *m = (const char *)l->metadata + i;
		size_t n = strnlen(m, l->metadata_len - i);

		if (n > 8 && !strncmp(m, "version=", 8)) {
			snprintf(buf, size, "%.*s", (int)(n - 8), m + 8);
			return buf;
		}
		i += n + 1;
	}
	return "";
}

static void applied_payloads(FILE *f, const struct xhp_session *s, const struct xhp_host_status *st,
			     size_t *unproven)
{
	char hex[XHP_BUILD_ID_HEX_SIZE], version[256], pos[24];
	size_t i;

	*unproven = 0;
	family(f, "xen_hotpatch_payload_applied",
	       "A payload of the applied stack (position 1 is the bottom), with its .modinfo version.");
	for (i = 0; i < st->v.plan.napplied; i++) {
		int k = st->v.plan.applied[i];
		const struct xhp_hv_entry *e = &st->v.hv[k];
		bool proven = e->known && xhp_guard_is_proven(&s->guard, &e->ident.id);

		*unproven += e->known && !proven;
		snprintf(pos, sizeof(pos), "%zu", i + 1);
		fputs("xen_hotpatch_payload_applied{", f);
		put_label(f, "name", e->ident.name, false);
		put_label(f, "build_id", e->known ? xhp_build_id_hex(&e->ident.id, hex, sizeof(hex)) : "", false);
		put_label(f, "version", applied_version(st, e, (size_t)k < s->nloaded ? &s->loaded[k] : NULL, version,
							sizeof(version)), false);
		put_label(f, "position", pos, false);
		put_label(f, "origin", e->known ? "xen-hotpatch" : "foreign", false);
		put_label(f, "proven", proven ? "true" : "false", true);
		fputs("} 1\n", f);
	}
}

static size_t installed_not_applied(const struct xhp_host_status *st)
{
	size_t i, n = 0;

	for (i = 0; i < st->v.ninstalled; i++)
		n += !xhp_host_status_applies(st, st->v.installed[i].ident.name) &&
		     st->v.installed[i].excluded != XHP_EXCLUDED_BLOCKED;
	return n;
}

static void last_run(FILE *f, const struct xhp_last_run *last)
{
	if (!last || !last->present)
		return;
	family(f, "xen_hotpatch_last_run", "The last converge or revert: what ran and how it ended.");
	fputs("xen_hotpatch_last_run{", f);
	put_label(f, "verb", last->verb, false);
	put_label(f, "outcome", last->outcome, false);
	put_label(f, "error", last->error, true);
	fputs("} 1\n", f);
	gauge(f, "xen_hotpatch_last_run_success", "1 when the last converge or revert completed.", last->success);
	gauge(f, "xen_hotpatch_last_run_timestamp_seconds", "When the last converge or revert ended (Unix time).",
	      last->time);
	gauge(f, "xen_hotpatch_last_run_steps", "Steps the last converge or revert carried out.", last->steps);
}

char *xhp_metrics_render(const struct xhp_session *s, const struct xhp_host_status *st,
			 const struct xhp_last_run *last, unsigned long long now)
{
	char *text = NULL;
	size_t len = 0, unproven;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort(); /* out of memory, as xhp_malloc */
	family(f, "xen_hotpatch_hypervisor", "The running hypervisor's build-id and the backend read.");
	fputs("xen_hotpatch_hypervisor{", f);
	put_label(f, "build_id", s->hv_hex, false);
	put_label(f, "backend", s->be->ops->name, true);
	fputs("} 1\n", f);
	applied_payloads(f, s, st, &unproven);
	gauge(f, "xen_hotpatch_applied_payloads", "Payloads in the applied stack.", st->v.plan.napplied);
	gauge(f, "xen_hotpatch_in_sync", "1 when the hypervisor runs the installed stack and nothing is wrong.",
	      st->in_sync);
	gauge(f, "xen_hotpatch_installed_not_applied_payloads",
	      "Installed payloads for this hypervisor that are not applied (blocked ones left out).",
	      installed_not_applied(st));
	gauge(f, "xen_hotpatch_quarantined_payloads", "Payloads quarantined by the crash-loop guard.",
	      st->nquarantined);
	gauge(f, "xen_hotpatch_unproven_payloads",
	      "Applied payloads not proven yet: boot would not reapply them.", unproven);
	gauge(f, "xen_hotpatch_problems", "Problems xen-hotpatch status lists.", xhp_host_status_nproblems(s, st));
	last_run(f, last);
	gauge(f, "xen_hotpatch_metrics_timestamp_seconds", "When these metrics were made (Unix time).", now);
	fputs("# EOF\n", f);
	fclose(f);
	return text;
}

/* ---- writing ---------------------------------------------------------------- */

int xhp_metrics_write(struct xhp_session *s)
{
	_cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
	struct xhp_host_status st;
	struct xhp_last_run last;
	struct stat sb;

	if (!s->cfg.metrics_dir || !s->cfg.metrics_dir[0])
		return 1;
	dir = xhp_path_join(s->root, s->cfg.metrics_dir);
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return 1; /* no node-exporter here */
	xhp_last_run_load(&last);
	xhp_host_status_build(s, &st);
	text = xhp_metrics_render(s, &st, &last, (unsigned long long)time(NULL));
	xhp_host_status_free(&st);
	path = xhp_asprintf("%s/%s", dir, XHP_METRICS_FILE);
	return xhp_write_file_atomic(path, text, strlen(text), 0644);
}

void xhp_metrics_after_run(struct xhp_session *s, const char *verb, const struct xhp_result *res)
{
	struct xhp_last_run last = { .present = true, .success = res->outcome == XHP_OUTCOME_DONE,
				     .time = (unsigned long long)time(NULL), .steps = res->steps_done };
	int err = xhp_result_errno(res), r;
	unsigned long long t0 = xhp_now_us();

	token(last.verb, sizeof(last.verb), verb);
	token(last.outcome, sizeof(last.outcome), xhp_outcome_name(res->outcome));
	token(last.error, sizeof(last.error), err ? xhp_errno_name(err) : "-");
	xhp_last_run_save(&last);
	r = xhp_metrics_write(s);
	/* a read-only root (the initramfs' /sysroot): the unit writes it later */
	if (r < 0 && r != -EROFS && s->ev.note) {
		_cleanup_free_ char *dir = xhp_path_join(s->root, s->cfg.metrics_dir);
		_cleanup_free_ char *m = xhp_asprintf("metrics: cannot write %s/%s: %s", dir, XHP_METRICS_FILE,
						      strerror(-r));

		s->ev.note(s->ev.ctx, m);
	}
	s->time.metrics += xhp_now_us() - t0;
}
