/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <string.h>

#include "engine.h"

/* ---- the session ---------------------------------------------------------- */

static const struct xhp_file *file_named(const struct xhp_session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->inv.nfiles; i++)
		if (!strcmp(s->inv.files[i].name, name))
			return &s->inv.files[i];
	return NULL;
}

/* GET name into the list being read; false when it is not loaded. */
static bool get_into(struct xhp_session *s, const char *name, size_t max)
{
	struct xhp_loaded *l;
	struct xhp_status st;

	if (s->nloaded == max || s->be->ops->get(s->be, name, &st) < 0)
		return false;
	l = &s->loaded[s->nloaded++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->st = st;
	return true;
}

/* The loaded payloads by GET on the names the tool knows (its record, in
 * upload order, then the installed files): 0 when they are all the probe
 * counted, else -EAGAIN (someone else's payload is loaded: LIST). */
static int read_known(struct xhp_session *s, unsigned nr)
{
	size_t i;

	s->loaded = xhp_calloc(nr + 1, sizeof(*s->loaded));
	for (i = 0; i < s->rec.n; i++)
		get_into(s, s->rec.r[i].ident.name, nr);
	for (i = 0; i < s->inv.nfiles; i++)
		if (!xhp_records_find(&s->rec, s->inv.files[i].name))
			get_into(s, s->inv.files[i].name, nr);
	return s->nloaded == nr ? 0 : -EAGAIN;
}

/* What the hypervisor has loaded. LIST in Xen 4.17 needs its buffers sized
 * for the worst case (backend-xen.c: megabytes a payload); when every
 * payload the probe counts is one the tool knows by name, GET on those
 * names reads the same for a few bytes each. */
/* A stale -EAGAIN (xhp_backend_settle_stale_rc) is no action in flight:
 * the record, the guard and the planner see the payload's real state. */
static void settle_stale_rcs(struct xhp_session *s)
{
	size_t i;

	for (i = 0; i < s->nloaded; i++)
		if (s->loaded[i].st.rc == -EAGAIN)
			xhp_backend_settle_stale_rc(s->be, s->loaded[i].name, &s->loaded[i].st);
}

static int refresh(struct xhp_session *s)
{
	unsigned long long t0 = xhp_now_us();
	unsigned nr = 0;
	int r;

	xhp_loaded_free(s->loaded, s->nloaded);
	s->loaded = NULL;
	s->nloaded = 0;
	if (s->be->ops->count && s->be->ops->count(s->be, &nr) == 0 && read_known(s, nr) == 0) {
		r = 0;
	} else {
		xhp_loaded_free(s->loaded, s->nloaded);
		s->loaded = NULL;
		s->nloaded = 0;
		r = s->be->ops->list(s->be, &s->loaded, &s->nloaded);
	}
	if (r == 0)
		settle_stale_rcs(s);
	s->time.read_hv += xhp_now_us() - t0;
	return r;
}

static void strv_of(struct xhp_strv *v, char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		xhp_strv_add(v, names[i]);
}

/* A record for a payload loaded from file f (or adopted as it). */
static struct xhp_record *record_file(struct xhp_session *s, const char *name, const struct xhp_file *f)
{
	struct xhp_record *r = xhp_records_add(&s->rec, name);

	xhp_identity_of(&r->ident, name, &f->pl);
	r->path = xhp_strdup(f->path);
	strv_of(&r->new_syms, f->pl.new_syms, f->pl.nnew_syms);
	return r;
}

/* Loaded under an installed payload's name but not in the record (the
 * record was lost, or the tool was stopped between the upload and the
 * record): adopted as that file; whether it was reverted is unknown, so it
 * counts as reverted. */
static int adopt_unrecorded(struct xhp_session *s)
{
	size_t i;
	int n = 0;

	for (i = 0; i < s->nloaded; i++) {
		const struct xhp_file *f = file_named(s, s->loaded[i].name);
		struct xhp_record *r;

		if (!f || xhp_records_find(&s->rec, s->loaded[i].name))
			continue;
		r = record_file(s, s->loaded[i].name, f);
		r->reverted = true;
		r->nodeps = xhp_strv_has(&s->cfg.independent, f->name);
		r->seq = s->loaded[i].st.state == XHP_STATE_APPLIED ? s->rec.next_seq++ : 0;
		n++;
	}
	return n;
}

/* The apply order in the record follows the applied stack (derived from
 * the build-id chain where the record lacks it). */
static int renumber_applied(struct xhp_session *s)
{
	struct xhp_view v;
	unsigned last = 0;
	size_t k;
	int n = 0;

	xhp_view_build(s, XHP_MODE_APPLY, &v);
	for (k = 0; k < v.plan.napplied; k++) {
		struct xhp_record *r = xhp_records_find(&s->rec, v.hv[v.plan.applied[k]].ident.name);

		if (!r)
			continue;
		if (r->seq <= last) {
			r->seq = s->rec.next_seq++;
			n++;
		}
		last = r->seq;
	}
	xhp_view_free(&v);
	return n;
}

static void reconcile_guard(struct xhp_session *s, struct xhp_guard_changes *changes)
{
	struct xhp_guard_sighting *seen = xhp_calloc(s->nloaded + 1, sizeof(*seen));
	unsigned long long t0 = xhp_now_us();
	size_t i, n = 0;

	for (i = 0; i < s->nloaded; i++) {
		const struct xhp_record *r = xhp_records_find(&s->rec, s->loaded[i].name);

		if (r)
			seen[n++] = (struct xhp_guard_sighting){ .id = r->ident.id, .state = s->loaded[i].st.state,
								 .rc = s->loaded[i].st.rc };
	}
	xhp_guard_reconcile(&s->guard, seen, n, changes);
	free(seen);
	s->time.guard += xhp_now_us() - t0;
}

/* The record is best effort: losing it only makes later runs adopt what
 * is loaded by name (as reverted, its history unknown); the first failure
 * is kept for the CLI to say. */
static void save_records(struct xhp_session *s)
{
	unsigned long long t0 = xhp_now_us();
	int r = xhp_records_save(&s->rec);

	s->time.record += xhp_now_us() - t0;
	if (r < 0 && !s->record_error)
		s->record_error = r;
}

/* What the hypervisor shows now is the truth: the record and the guard
 * follow it (actions that ended while nobody watched). */
static void reconcile(struct xhp_session *s, struct xhp_guard_changes *changes)
{
	int changed = xhp_records_reconcile(&s->rec, s->loaded, s->nloaded);

	changed += adopt_unrecorded(s);
	changed += renumber_applied(s);
	if (changed)
		save_records(s);
	reconcile_guard(s, changes);
}

static int open_hypervisor(struct xhp_session *s, const struct xhp_session_opts *o, struct xhp_err *err)
{
	int r = xhp_backend_open(o->backend ? o->backend : s->cfg.backend, &s->be, err);

	if (r < 0)
		return r;
	r = s->be->ops->build_id(s->be, &s->hv_id);
	if (r < 0) {
		xhp_err_set(err, "cannot read the hypervisor's build-id: %s%s", strerror(-r),
			    r == -ENODATA ? " (Xen built without a build-id cannot livepatch)" : "");
		return r;
	}
	xhp_build_id_hex(&s->hv_id, s->hv_hex, sizeof(s->hv_hex));
	r = s->be->ops->boot_id(s->be, s->boot_id, sizeof(s->boot_id));
	if (r < 0)
		xhp_err_set(err, "cannot read the boot id: %s", strerror(-r));
	return r;
}

static int take_lock(struct xhp_session *s, struct xhp_err *err)
{
	int r = xhp_lock(&s->lock_fd, s->cfg.lock_wait_ms);

	if (r == -EWOULDBLOCK)
		xhp_err_set(err, "another xen-hotpatch run holds %s/lock (waited %u ms): try again", xhp_run_dir(),
			    s->cfg.lock_wait_ms);
	else if (r < 0)
		xhp_err_set(err, "cannot take %s/lock: %s", xhp_run_dir(), strerror(-r));
	return r;
}

int xhp_session_open(struct xhp_session *s, const struct xhp_session_opts *o, struct xhp_err *err)
{
	unsigned long long t0 = xhp_now_us();
	int r;

	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	s->root = o->root ? xhp_strdup(o->root) : NULL;
	xhp_config_defaults(&s->cfg);
	r = xhp_config_load(&s->cfg, s->root, o->config_file, err);
	if (r < 0)
		return r;
	r = open_hypervisor(s, o, err);
	if (r < 0)
		return r;
	r = take_lock(s, err);
	if (r < 0)
		return r;
	r = xhp_records_load(&s->rec, s->boot_id, s->hv_hex);
	if (r < 0) {
		xhp_err_set(err, "cannot read %s/loaded.json: %s", xhp_run_dir(), strerror(-r));
		return r;
	}
	s->inv_ok = xhp_inventory_scan(s->root, s->cfg.payload_dir, &s->hv_id, &s->inv, &s->inv_err) == 0;
	r = refresh(s);
	if (r < 0) {
		xhp_err_set(err, "cannot list the hypervisor's payloads: %s", strerror(-r));
		return r;
	}
	xhp_guard_open(&s->guard, s->root, s->boot_id, s->cfg.proven_after_s);
	reconcile(s, &s->guard_changes);
	s->time.open = xhp_now_us() - t0;
	return 0;
}

void xhp_session_close(struct xhp_session *s)
{
	xhp_guard_changes_free(&s->guard_changes);
	xhp_guard_close(&s->guard);
	xhp_inventory_free(&s->inv);
	xhp_records_free(&s->rec);
	xhp_loaded_free(s->loaded, s->nloaded);
	xhp_unlock(s->lock_fd);
	xhp_backend_close(s->be);
	xhp_config_free(&s->cfg);
	free(s->root);
	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
}

static void note(struct xhp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct xhp_session *s, const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	va_list ap;

	if (!s->ev.note)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (m)
		s->ev.note(s->ev.ctx, m);
}

/* ---- the planner's view ------------------------------------------------------ */

static void exclusion(const struct xhp_session *s, enum xhp_mode mode, struct xhp_installed *n)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];

	xhp_build_id_hex(&n->ident.id, hex, sizeof(hex));
	if (xhp_strv_has(&s->cfg.blocked, n->ident.name) || xhp_strv_has(&s->cfg.blocked, hex)) {
		n->excluded = XHP_EXCLUDED_BLOCKED;
		n->excluded_why = "blocked by policy";
	} else if (xhp_guard_is_quarantined(&s->guard, &n->ident.id)) {
		n->excluded = XHP_EXCLUDED_QUARANTINED;
		n->excluded_why = "quarantined: an earlier apply was not seen to complete "
				  "(release it with: xen-hotpatch clear NAME)";
	} else if (mode == XHP_MODE_BOOT && !xhp_guard_is_proven(&s->guard, &n->ident.id)) {
		n->excluded = XHP_EXCLUDED_UNPROVEN;
		n->excluded_why = "not proven yet: boot reapplies only payloads that were applied before "
				  "and the host stayed up";
	}
}

static void view_installed(struct xhp_session *s, enum xhp_mode mode, struct xhp_view *v)
{
	size_t i;

	v->installed = xhp_calloc(s->inv.nfiles + 1, sizeof(*v->installed));
	v->new_syms = xhp_calloc(s->inv.nfiles + 1, sizeof(*v->new_syms));
	for (i = 0; i < s->inv.nfiles; i++) {
		const struct xhp_file *f = &s->inv.files[i];
		struct xhp_installed *n = &v->installed[v->ninstalled];

		xhp_identity_of(&n->ident, f->name, &f->pl);
		strv_of(&v->new_syms[v->ninstalled], f->pl.new_syms, f->pl.nnew_syms);
		n->new_syms = &v->new_syms[v->ninstalled];
		n->version = xhp_payload_modinfo(&f->pl, "version");
		n->file = f;
		exclusion(s, mode, n);
		v->ninstalled++;
	}
}

static void view_hypervisor(struct xhp_session *s, struct xhp_view *v)
{
	size_t i;

	v->hv = xhp_calloc(s->nloaded + 1, sizeof(*v->hv));
	for (i = 0; i < s->nloaded; i++) {
		const struct xhp_loaded *l = &s->loaded[i];
		struct xhp_hv_entry *e = &v->hv[v->nhv++];
		const struct xhp_record *r = xhp_records_find(&s->rec, l->name);

		if (r) {
			e->ident = r->ident;
			e->known = true;
			e->reverted = r->reverted;
			e->nodeps = r->nodeps;
			e->seq = r->seq;
			e->new_syms = &r->new_syms;
		}
		snprintf(e->ident.name, sizeof(e->ident.name), "%s", l->name);
		e->state = l->st.state;
		e->rc = l->st.rc;
	}
}

/* The names of the installed files the inventory could not use. */
static void view_unreadable(const struct xhp_session *s, struct xhp_view *v)
{
	size_t i;

	for (i = 0; i < s->inv.nproblems; i++) {
		const char *slash = strrchr(s->inv.problems[i].path, '/');
		_cleanup_free_ char *stem = xhp_payload_stem(slash ? slash + 1 : s->inv.problems[i].path);

		if (stem && stem[0])
			xhp_strv_add(&v->unreadable, stem);
	}
}

void xhp_view_build(struct xhp_session *s, enum xhp_mode mode, struct xhp_view *v)
{
	memset(v, 0, sizeof(*v));
	view_installed(s, mode, v);
	view_hypervisor(s, v);
	view_unreadable(s, v);
	v->in = (struct xhp_plan_input){
		.hv_id = s->hv_id, .installed = v->installed, .ninstalled = v->ninstalled, .hv = v->hv,
		.nhv = v->nhv, .independent = &s->cfg.independent, .replace_allow = s->cfg.replace_allow,
		.unreadable = &v->unreadable,
	};
	xhp_plan_make(&v->in, &v->plan);
}

void xhp_view_free(struct xhp_view *v)
{
	size_t i;

	xhp_plan_free(&v->plan);
	xhp_strv_free(&v->unreadable);
	for (i = 0; i < v->ninstalled; i++)
		xhp_strv_free(&v->new_syms[i]);
	free(v->new_syms);
	free(v->installed);
	free(v->hv);
	memset(v, 0, sizeof(*v));
}

void xhp_session_applied(struct xhp_session *s, struct xhp_strv *names)
{
	struct xhp_view v;
	size_t i;

	xhp_view_build(s, XHP_MODE_APPLY, &v);
	for (i = 0; i < v.plan.napplied; i++)
		xhp_strv_add(names, v.hv[v.plan.applied[i]].ident.name);
	xhp_view_free(&v);
}

void xhp_result_free(struct xhp_result *r)
{
	xhp_strv_free(&r->applied_after);
	memset(r, 0, sizeof(*r));
}

/* ---- running steps ------------------------------------------------------------ */


/* Upload installed payload n: the file is read again and must still be
 * what was planned. */
static void run_upload(struct xhp_session *s, const struct xhp_installed *n, struct xhp_result *res)
{
	const struct xhp_file *f = n->file;
	struct xhp_act_result *a = &res->act;
	struct xhp_payload pl;
	struct xhp_err e = { { 0 } };
	_cleanup_free_ void *data = NULL;
	unsigned long long t0;
	size_t len = 0;
	int r;

	memset(a, 0, sizeof(*a));
	r = xhp_payload_load_installed(f->path, &pl, &data, &len, &e);
	if (r >= 0 && !xhp_build_id_eq(&pl.id, &n->ident.id)) {
		xhp_payload_free(&pl);
		r = -ESTALE; /* the file changed under us: the next run plans again */
		xhp_err_set(&e, "%s changed during this run", f->path);
	} else if (r >= 0) {
		xhp_payload_free(&pl);
	}
	if (r < 0) {
		res->file_err = r;
		a->status = XHP_ACT_REFUSED;
		snprintf(a->why, sizeof(a->why), "%s", e.msg);
		return;
	}
	t0 = xhp_now_us();
	r = s->be->ops->upload(s->be, n->ident.name, data, len);
	a->waited_us = xhp_now_us() - t0;
	if (r < 0) {
		xhp_records_del(&s->rec, n->ident.name); /* the intent (record_uploads) */
		a->status = XHP_ACT_REFUSED;
		a->err = r;
		snprintf(a->why, sizeof(a->why), "%s", xhp_backend_explain(s->be));
		return;
	}
	a->status = XHP_ACT_DONE;
	a->state = XHP_STATE_CHECKED;
	record_file(s, n->ident.name, f); /* written with the next apply, or at the end */
}

static enum xhp_action action_of(enum xhp_step_op op)
{
	switch (op) {
	case XHP_STEP_APPLY:
	case XHP_STEP_APPLY_NODEPS: return XHP_ACTION_APPLY;
	case XHP_STEP_REPLACE: return XHP_ACTION_REPLACE;
	case XHP_STEP_REVERT: return XHP_ACTION_REVERT;
	default: return XHP_ACTION_UNLOAD;
	}
}

/* The record after an action that reached its final state. */
static void record_done(struct xhp_session *s, const struct xhp_step *st)
{
	struct xhp_record *r = xhp_records_find(&s->rec, st->name);
	size_t i;

	switch (st->op) {
	case XHP_STEP_REPLACE:
		for (i = 0; i < s->rec.n; i++)
			if (&s->rec.r[i] != r && s->rec.r[i].seq)
				xhp_record_reverted(&s->rec.r[i]); /* REPLACE reverted everything applied */
		/* fall through */
	case XHP_STEP_APPLY:
	case XHP_STEP_APPLY_NODEPS:
		if (r) {
			r->seq = s->rec.next_seq++;
			r->down = false;
			r->nodeps = st->op == XHP_STEP_APPLY_NODEPS;
		}
		break;
	case XHP_STEP_REVERT:
		if (r)
			xhp_record_reverted(r);
		break;
	case XHP_STEP_UNLOAD:
		xhp_records_del(&s->rec, st->name);
		break;
	default:
		break;
	}
}

static int pre_hook(const struct xhp_record *r, enum xhp_action a)
{
	if (!r)
		return -1;
	if (a == XHP_ACTION_APPLY)
		return xhp_identity_has_hook(&r->ident, XHP_HOOK_PREAPPLY);
	if (a == XHP_ACTION_REVERT)
		return xhp_identity_has_hook(&r->ident, XHP_HOOK_PREREVERT);
	return 0;
}

/* How an apply is sent (NODEPS or not) is written before it is sent: Xen
 * does not show it, and an apply that ends while nobody watches is read
 * back with it. Without it a late independent counts as applied without
 * NODEPS, i.e. on the build-id chain, and the order derived from the chain
 * puts it under the independents applied before it. */
static void record_apply_mode(struct xhp_session *s, struct xhp_record *r, const struct xhp_step *st)
{
	bool nodeps = st->op == XHP_STEP_APPLY_NODEPS;

	if (!r || r->nodeps == nodeps)
		return;
	r->nodeps = nodeps; /* kept for an applied entry only: this one is not applied */
	save_records(s);
}

/* Could Xen still be applying after this outcome? Past the deadline the
 * action is pending; busy means an action is in flight, maybe an earlier
 * run's apply of this very payload. The attempt then stays for the next
 * run to resolve from what the hypervisor shows. */
static bool may_still_apply(enum xhp_act_status st)
{
	return st == XHP_ACT_TIMEOUT || st == XHP_ACT_BUSY;
}

/* The action of st. An apply writes its attempt first (a crash then leaves
 * it for the next boot to quarantine) and how it is sent (NODEPS) to the
 * record when that changes. The record is written once an apply
 * is done (a payload applied and then reverted by a run killed before it
 * wrote anything would otherwise look never reverted); what else a killed
 * run did not write, the next run reads back from the hypervisor. */
static void run_action(struct xhp_session *s, const struct xhp_step *st, const struct xhp_installed *n,
		       struct xhp_result *res)
{
	enum xhp_action a = action_of(st->op);
	struct xhp_record *r = xhp_records_find(&s->rec, st->name);
	struct xhp_act_params p = {
		.flags = st->op == XHP_STEP_APPLY_NODEPS ? XHP_ACTION_APPLY_NODEPS : 0,
		.pre_hook = pre_hook(r, a), .timeout_ms = s->cfg.action_timeout_ms, .deadline_ms = s->cfg.deadline_ms,
	};
	bool applying = a == XHP_ACTION_APPLY || a == XHP_ACTION_REPLACE;
	unsigned long long t0;

	if (applying)
		record_apply_mode(s, r, st);
	t0 = xhp_now_us();
	if (applying && n && xhp_guard_attempt_begin(&s->guard, &n->ident) < 0)
		res->unguarded++;
	s->time.guard += xhp_now_us() - t0;
	xhp_backend_run(s->be, st->name, a, &p, &res->act);
	t0 = xhp_now_us();
	if (applying && n && !may_still_apply(res->act.status))
		xhp_guard_attempt_end(&s->guard, &n->ident, res->act.status == XHP_ACT_DONE);
	s->time.guard += xhp_now_us() - t0;
	if (res->act.status == XHP_ACT_DONE) {
		record_done(s, st);
		if (applying)
			save_records(s);
	}
}

/* Before the first upload the record names the payloads this run uploads
 * under names it does not know yet, in one write: a run stopped right
 * after an upload leaves no payload of its own that the next run takes for
 * someone else's (the next run drops from the record what never got
 * loaded). A name the record knows keeps its entry (its history) until
 * its own upload. */
static void record_uploads(struct xhp_session *s, const struct xhp_view *v)
{
	size_t i, n = 0;

	for (i = 0; i < v->plan.nsteps; i++) {
		const struct xhp_step *st = &v->plan.steps[i];

		if (st->op != XHP_STEP_UPLOAD || xhp_records_find(&s->rec, st->name))
			continue;
		record_file(s, st->name, v->installed[st->installed].file);
		n++;
	}
	if (n)
		save_records(s);
}

static bool run_steps(struct xhp_session *s, const struct xhp_view *v, struct xhp_result *res)
{
	size_t i;

	record_uploads(s, v);
	for (i = 0; i < v->plan.nsteps; i++) {
		const struct xhp_step *st = &v->plan.steps[i];
		const struct xhp_installed *n = st->installed >= 0 ? &v->installed[st->installed] : NULL;

		if (s->ev.step)
			s->ev.step(s->ev.ctx, st, NULL);
		if (st->op == XHP_STEP_UPLOAD)
			run_upload(s, n, res);
		else
			run_action(s, st, n, res);
		if (s->ev.step)
			s->ev.step(s->ev.ctx, st, &res->act);
		if (res->act.status != XHP_ACT_DONE) {
			res->outcome = XHP_OUTCOME_STEP_FAILED;
			res->failed = *st;
			return false;
		}
		res->steps_done++;
	}
	return true;
}

/* Read the hypervisor again and let the record and the guard follow it;
 * the guard proves what stayed applied (proven_after_s = 0). */
static void settle(struct xhp_session *s)
{
	struct xhp_guard_changes changes = { 0 };

	if (refresh(s) == 0)
		reconcile(s, &changes);
	xhp_guard_changes_free(&changes);
	save_records(s); /* the uploads, reverts and unloads of this run */
}

/* After a failure: unload what this run uploaded and did not apply (not
 * while its own work is still in flight). */
static void cleanup_uploads(struct xhp_session *s, const struct xhp_plan *plan, size_t upto)
{
	struct xhp_act_params p = { .pre_hook = 0, .deadline_ms = s->cfg.deadline_ms };
	struct xhp_act_result r;
	struct xhp_status st;
	size_t i;

	for (i = 0; i < upto; i++) {
		const char *name = plan->steps[i].name;

		if (plan->steps[i].op != XHP_STEP_UPLOAD || s->be->ops->get(s->be, name, &st) < 0 ||
		    st.state != XHP_STATE_CHECKED || st.rc == -EAGAIN)
			continue;
		xhp_backend_run(s->be, name, XHP_ACTION_UNLOAD, &p, &r);
		if (r.status == XHP_ACT_DONE) {
			xhp_records_del(&s->rec, name);
			note(s, "%s: unloaded again (uploaded by this run, not applied)", name);
		}
	}
	save_records(s);
}

/* on_failure = rollback: plan from where the failure left the hypervisor back
 * to the stack it had before this run. Possible only while every payload of
 * that stack is still loaded (nothing is uploaded again from files that may
 * have changed); otherwise the stack stays where the failure left it. */
static bool rollback(struct xhp_session *s, const struct xhp_view *before)
{
	struct xhp_installed *old = xhp_calloc(before->plan.napplied + 1, sizeof(*old));
	struct xhp_result res = { 0 };
	struct xhp_view now;
	size_t i;
	bool ok = false;

	for (i = 0; i < before->plan.napplied; i++) {
		const struct xhp_hv_entry *h = &before->hv[before->plan.applied[i]];

		if (!h->known) {
			note(s, "rollback impossible: %s is not known to xen-hotpatch", h->ident.name);
			free(old);
			return false;
		}
		old[i].ident = h->ident;
	}
	xhp_view_build(s, XHP_MODE_APPLY, &now);
	xhp_plan_free(&now.plan);
	now.in.installed = old;
	now.in.ninstalled = before->plan.napplied;
	xhp_plan_make(&now.in, &now.plan);
	for (i = 0; i < now.plan.nsteps; i++)
		now.plan.refused |= now.plan.steps[i].op == XHP_STEP_UPLOAD;
	if (now.plan.refused) {
		note(s, "rollback impossible: a payload of the previous stack is no longer loaded; "
			"the stack stays where the failure left it");
	} else if (now.plan.nsteps) {
		note(s, "on_failure = rollback: putting back the stack of before this run");
		ok = run_steps(s, &now, &res);
		if (!ok)
			note(s, "rollback failed at %s %s", xhp_step_op_name(res.failed.op), res.failed.name);
	}
	xhp_view_free(&now);
	free(old);
	return ok;
}

static void after_failure(struct xhp_session *s, const struct xhp_view *v, struct xhp_result *res,
			  bool may_roll_back)
{
	settle(s);
	if (res->act.status != XHP_ACT_TIMEOUT)
		cleanup_uploads(s, &v->plan, res->steps_done);
	if (may_roll_back && s->cfg.on_failure_rollback && res->act.status != XHP_ACT_TIMEOUT) {
		res->rolled_back = rollback(s, v);
		settle(s);
	}
	xhp_session_applied(s, &res->applied_after);
}

/* Run the plan in v; after a failure, read the hypervisor again and clean
 * up (and roll back, when that is asked for and allowed). */
static void run_plan(struct xhp_session *s, const struct xhp_view *v, struct xhp_result *res, bool may_roll_back)
{
	res->outcome = XHP_OUTCOME_DONE;
	if (!run_steps(s, v, res))
		after_failure(s, v, res, may_roll_back);
	else
		settle(s);
	res->guard_error = s->guard.write_error;
}

static bool work_in_flight(const struct xhp_session *s)
{
	size_t i;

	for (i = 0; i < s->nloaded; i++)
		if (s->loaded[i].st.rc == -EAGAIN)
			return true;
	return false;
}

/* Work an earlier run left in flight (a real -EAGAIN: stale ones are
 * settled by refresh) ends before this run plans, up to deadline_ms: its
 * outcome then takes its place in the record before this run's own
 * actions (an apply seen late, after them, would be put above them). */
static void await_work_in_flight(struct xhp_session *s)
{
	unsigned long long end = xhp_now_us() + (unsigned long long)s->cfg.deadline_ms * 1000ull;
	struct xhp_guard_changes changes = { 0 };

	if (!work_in_flight(s))
		return;
	do
		xhp_sleep_ms(2);
	while (refresh(s) == 0 && work_in_flight(s) && xhp_now_us() < end);
	reconcile(s, &changes);
	xhp_guard_changes_free(&changes);
}

void xhp_converge(struct xhp_session *s, enum xhp_mode mode, struct xhp_view *v, struct xhp_result *res)
{
	unsigned long long start = xhp_now_us();

	memset(res, 0, sizeof(*res));
	await_work_in_flight(s);
	xhp_view_build(s, mode, v);
	if (!s->inv_ok)
		res->outcome = XHP_OUTCOME_NO_PAYLOAD_DIR;
	else if (v->plan.refused)
		res->outcome = XHP_OUTCOME_REFUSED;
	else
		run_plan(s, v, res, true);
	s->time.converge += xhp_now_us() - start;
}

void xhp_revert_name(struct xhp_session *s, const char *name, struct xhp_view *v, struct xhp_result *res)
{
	memset(res, 0, sizeof(*res));
	xhp_view_build(s, XHP_MODE_APPLY, v);
	xhp_plan_free(&v->plan);
	if (xhp_plan_revert(&v->in, name, &v->plan) < 0)
		res->outcome = XHP_OUTCOME_NOT_LOADED;
	else
		run_plan(s, v, res, false);
}
