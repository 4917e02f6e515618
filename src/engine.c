/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <string.h>

#include "engine.h"

int xhp_session_refresh(struct xhp_session *s, struct xhp_err *err)
{
	int r;

	xhp_loaded_free(s->loaded, s->nloaded);
	s->loaded = NULL;
	s->nloaded = 0;
	r = s->be->ops->list(s->be, &s->loaded, &s->nloaded);
	if (r < 0)
		xhp_err_set(err, "cannot list the hypervisor's payloads: %s", strerror(-r));
	return r;
}

int xhp_session_open(struct xhp_session *s, const struct xhp_session_opts *o,
		     struct xhp_err *err)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	s->root = o->root ? xhp_strdup(o->root) : NULL;
	xhp_config_defaults(&s->cfg);
	r = xhp_config_load(&s->cfg, s->root, o->config_file, err);
	if (r < 0)
		return r;
	r = xhp_backend_open(o->backend ? o->backend : s->cfg.backend, &s->be, err);
	if (r < 0)
		return r;
	r = s->be->ops->build_id(s->be, &s->hv);
	if (r < 0) {
		xhp_err_set(err, "cannot read the hypervisor's build-id: %s%s", strerror(-r),
			    r == -ENODATA ? " (Xen built without a build-id cannot livepatch)" : "");
		return r;
	}
	xhp_build_id_hex(&s->hv, s->hv_hex, sizeof(s->hv_hex));
	r = s->be->ops->boot_id(s->be, s->boot_id, sizeof(s->boot_id));
	if (r < 0) {
		xhp_err_set(err, "cannot read the boot id: %s", strerror(-r));
		return r;
	}
	if (o->lock) {
		r = xhp_lock(&s->lock_fd, s->cfg.lock_wait_ms);
		if (r == -EWOULDBLOCK) {
			xhp_err_set(err, "another xen-hotpatch run holds %s/lock (waited %u ms): try again",
				    xhp_run_dir(), s->cfg.lock_wait_ms);
			return r;
		}
		if (r < 0) {
			xhp_err_set(err, "cannot take %s/lock: %s", xhp_run_dir(), strerror(-r));
			return r;
		}
	}
	r = xhp_records_load(&s->rec, s->boot_id, s->hv_hex);
	if (r < 0) {
		xhp_err_set(err, "cannot read %s/loaded.json: %s", xhp_run_dir(), strerror(-r));
		return r;
	}
	r = xhp_session_refresh(s, err);
	if (r < 0)
		return r;
	s->inv_ok = xhp_inventory_scan(s->root, s->cfg.payload_dir, &s->hv, &s->inv,
				       &s->inv_err) == 0;
	return 0;
}

void xhp_session_close(struct xhp_session *s)
{
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

static const struct xhp_file *file_named(const struct xhp_session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->inv.nfiles; i++)
		if (!strcmp(s->inv.files[i].name, name))
			return &s->inv.files[i];
	return NULL;
}

void xhp_session_input(struct xhp_session *s, enum xhp_mode mode, struct xhp_session_input *si)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	memset(si, 0, sizeof(*si));
	si->nodes = xhp_calloc(s->inv.nfiles + 1, sizeof(*si->nodes));
	for (i = 0; i < s->inv.nfiles; i++) {
		const struct xhp_file *f = &s->inv.files[i];
		struct xhp_pnode *n = &si->nodes[si->nnodes++];

		xhp_build_id_hex(&f->pl.id, hex, sizeof(hex));
		n->name = f->name;
		n->id = f->pl.id;
		n->depends = f->pl.depends;
		n->vetoing = (f->pl.hooks_enabled & XHP_HOOKS_VETOING) != 0;
		n->safe_to_reapply = f->pl.safe_to_reapply;
		n->version = xhp_payload_modinfo(&f->pl, "version");
		n->user = (void *)f;
		if (xhp_strv_has(&s->cfg.blocked, f->name) || xhp_strv_has(&s->cfg.blocked, hex))
			n->excluded = "blocked by policy";
		else if (xhp_mark_has(s->root, "quarantine", hex))
			n->excluded = "quarantined: an earlier apply never completed "
				      "(release it with: xen-hotpatch clear NAME)";
		else if (mode == XHP_MODE_BOOT && !xhp_mark_has(s->root, "proven", hex))
			n->excluded = "not proven yet: boot reapplies only payloads that were "
				      "applied before and the host stayed up";
	}
	si->hvents = xhp_calloc(s->nloaded + 1, sizeof(*si->hvents));
	for (i = 0; i < s->nloaded; i++) {
		const struct xhp_loaded *l = &s->loaded[i];
		struct xhp_hvent *e = &si->hvents[si->nhvents++];
		const struct xhp_record *r = xhp_records_find(&s->rec, l->name);
		const struct xhp_file *f;

		e->name = l->name;
		e->state = l->st.state;
		e->rc = l->st.rc;
		if (r) {
			e->ours = true;
			e->id = r->id;
			e->depends = r->depends;
			e->vetoing = r->vetoing;
			e->safe_to_reapply = r->safe_to_reapply;
			e->reverted = r->reverted;
			e->seq = e->state == XHP_STATE_APPLIED ? r->seq : 0;
		} else if ((f = file_named(s, l->name))) {
			/* loaded under an installed payload's name but not in our record
			 * (the record was lost): adopt it as that file; whether it was
			 * reverted before is unknown, so assume it was */
			e->ours = true;
			e->id = f->pl.id;
			e->depends = f->pl.depends;
			e->vetoing = (f->pl.hooks_enabled & XHP_HOOKS_VETOING) != 0;
			e->safe_to_reapply = f->pl.safe_to_reapply;
			e->reverted = true;
		}
	}
	si->in.hv = s->hv;
	si->in.nodes = si->nodes;
	si->in.nnodes = si->nnodes;
	si->in.loaded = si->hvents;
	si->in.nloaded = si->nhvents;
	si->in.independent = &s->cfg.independent;
	si->in.replace_allow = s->cfg.replace_allow;
}

void xhp_session_input_free(struct xhp_session_input *si)
{
	free(si->nodes);
	free(si->hvents);
	memset(si, 0, sizeof(*si));
}

int xhp_session_quarantine_stale(struct xhp_session *s)
{
	struct xhp_strv ids = { 0 };
	size_t i;
	int n = 0;

	if (xhp_mark_list(s->root, "attempts", &ids) < 0)
		return 0;
	for (i = 0; i < ids.n; i++) {
		_cleanup_free_ char *c = NULL, *q = NULL;
		char *name, *boot, *save = NULL;

		if (xhp_mark_read(s->root, "attempts", ids.v[i], &c) < 0)
			continue;
		name = strtok_r(c, "\n", &save);
		boot = strtok_r(NULL, "\n", &save);
		if (!name || !boot || !strcmp(boot, s->boot_id))
			continue; /* this boot's own attempt: still under way or done */
		q = xhp_asprintf("%s\napply attempted in boot %s never completed (the host went down)\n",
				 name, boot);
		if (xhp_mark_set(s->root, "quarantine", ids.v[i], q) == 0) {
			xhp_mark_del(s->root, "attempts", ids.v[i]);
			xhp_mark_del(s->root, "proven", ids.v[i]);
			note(s, "%s: quarantined: its apply in an earlier boot never completed; "
				"release it with: xen-hotpatch clear %s", name, name);
			n++;
		}
	}
	xhp_strv_free(&ids);
	return n;
}

/* ---- running steps ---------------------------------------------------------- */

static void save_records(struct xhp_session *s)
{
	/* Best effort: losing the record only makes later runs adopt by name. */
	(void)xhp_records_save(&s->rec);
}

static int run_upload(struct xhp_session *s, const struct xhp_pnode *n)
{
	const struct xhp_file *f = n->user;
	struct xhp_payload pl;
	struct xhp_err e = { { 0 } };
	_cleanup_free_ void *data = NULL;
	struct xhp_record *r;
	size_t len = 0;
	int ret;

	ret = xhp_payload_load_installed(f->path, &pl, &data, &len, &e);
	if (ret < 0)
		return ret;
	if (!xhp_build_id_eq(&pl.id, &n->id)) {
		xhp_payload_free(&pl);
		return -ESTALE; /* the file changed under us: the next run plans again */
	}
	xhp_payload_free(&pl);
	ret = s->be->ops->upload(s->be, n->name, data, len);
	if (ret < 0)
		return ret;
	r = xhp_records_add(&s->rec, n->name);
	r->path = xhp_strdup(f->path);
	r->id = n->id;
	r->depends = n->depends;
	r->vetoing = n->vetoing;
	r->safe_to_reapply = n->safe_to_reapply;
	save_records(s);
	return 0;
}

static void adopt_record(struct xhp_session *s, const struct xhp_hvent *e)
{
	struct xhp_record *r;

	if (!e->ours || xhp_records_find(&s->rec, e->name))
		return;
	r = xhp_records_add(&s->rec, e->name);
	r->id = e->id;
	r->depends = e->depends;
	r->vetoing = e->vetoing;
	r->safe_to_reapply = e->safe_to_reapply;
	r->reverted = e->reverted;
}

static int run_action(struct xhp_session *s, const struct xhp_step *st,
		      const struct xhp_pnode *n, int *hv_rc)
{
	enum xhp_action a;
	uint32_t flags = 0;
	char hex[XHP_BUILD_ID_HEX_SIZE];
	bool attempt = false;
	struct xhp_record *r;
	size_t i;
	int ret;

	switch (st->op) {
	case XHP_STEP_APPLY: a = XHP_ACTION_APPLY; break;
	case XHP_STEP_APPLY_NODEPS: a = XHP_ACTION_APPLY; flags = XHP_ACTION_APPLY_NODEPS; break;
	case XHP_STEP_REPLACE: a = XHP_ACTION_REPLACE; break;
	case XHP_STEP_REVERT: a = XHP_ACTION_REVERT; break;
	case XHP_STEP_UNLOAD: a = XHP_ACTION_UNLOAD; break;
	default: return -EINVAL;
	}
	if (n) {
		_cleanup_free_ char *c = xhp_asprintf("%s\n%s\n", n->name, s->boot_id);

		/* Written before the hypervisor is touched, for proven payloads too
		 * (a boot-time apply can kill the host as well): if the host dies
		 * now, the next run finds it and quarantines the payload. Best
		 * effort: a read-only root (initramfs) cannot take it. */
		xhp_build_id_hex(&n->id, hex, sizeof(hex));
		attempt = xhp_mark_set(s->root, "attempts", hex, c) == 0;
	}
	ret = xhp_backend_act(s->be, st->name, a, flags, s->cfg.action_timeout_ms * 1000000u,
			      s->cfg.deadline_ms, hv_rc);
	if (n && ret == 0)
		xhp_mark_set(s->root, "proven", hex, n->name);
	if (attempt)
		xhp_mark_del(s->root, "attempts", hex);
	if (ret < 0)
		return ret;

	r = xhp_records_find(&s->rec, st->name);
	switch (st->op) {
	case XHP_STEP_REPLACE:
		for (i = 0; i < s->rec.n; i++)
			if (s->rec.r[i].seq) {
				s->rec.r[i].seq = 0;
				s->rec.r[i].reverted = true;
			}
		/* fall through */
	case XHP_STEP_APPLY:
	case XHP_STEP_APPLY_NODEPS:
		if (r)
			r->seq = s->rec.next_seq++;
		break;
	case XHP_STEP_REVERT:
		if (r) {
			r->seq = 0;
			r->reverted = true;
		}
		break;
	case XHP_STEP_UNLOAD:
		xhp_records_del(&s->rec, st->name);
		break;
	default:
		break;
	}
	save_records(s);
	return 0;
}

static int run_steps(struct xhp_session *s, const struct xhp_session_input *si,
		     const struct xhp_plan *plan, const struct xhp_step **failed, int *hv_rc)
{
	size_t i;
	int ret = 0;

	/* payloads we knew only by name become ours for good */
	for (i = 0; i < si->nhvents; i++)
		adopt_record(s, &si->hvents[i]);
	for (i = 0; i < plan->nsteps; i++) {
		const struct xhp_step *st = &plan->steps[i];
		const struct xhp_pnode *n = st->node >= 0 ? &si->nodes[st->node] : NULL;
		int rc = 0;

		if (s->ev.step)
			s->ev.step(s->ev.ctx, st, false, 0, 0);
		if (st->op == XHP_STEP_UPLOAD)
			ret = run_upload(s, n);
		else
			ret = run_action(s, st, st->op == XHP_STEP_UNLOAD || st->op == XHP_STEP_REVERT ? NULL : n, &rc);
		if (s->ev.step)
			s->ev.step(s->ev.ctx, st, true, ret, rc);
		if (ret < 0) {
			*failed = st;
			*hv_rc = rc;
			return ret;
		}
	}
	return 0;
}

/* After a failure: unload what this run uploaded and did not apply. */
static void cleanup_uploads(struct xhp_session *s, const struct xhp_plan *plan,
			    const struct xhp_step *failed)
{
	const struct xhp_step *st;
	struct xhp_status stat;

	for (st = plan->steps; st < failed; st++) {
		if (st->op != XHP_STEP_UPLOAD)
			continue;
		if (s->be->ops->get(s->be, st->name, &stat) < 0 || stat.state != XHP_STATE_CHECKED)
			continue;
		if (xhp_backend_act(s->be, st->name, XHP_ACTION_UNLOAD, 0, 0, s->cfg.deadline_ms, NULL) == 0) {
			xhp_records_del(&s->rec, st->name);
			note(s, "%s: unloaded again (uploaded by this run, not applied)", st->name);
		}
	}
	save_records(s);
}

/* on_failure = rollback: plan from where the failure left the hypervisor back
 * to the stack it had before this run. Possible only while every payload of
 * that stack is still loaded (nothing is uploaded again from files that may
 * have changed); otherwise the stack stays where the failure left it. */
static void rollback(struct xhp_session *s, const struct xhp_session_input *orig,
		     const struct xhp_plan *plan)
{
	struct xhp_strv names = { 0 };
	struct xhp_pnode *nodes = xhp_calloc(plan->napplied + 1, sizeof(*nodes));
	struct xhp_session_input now;
	struct xhp_plan back;
	const struct xhp_step *failed = NULL;
	struct xhp_err e;
	size_t i, n = 0;
	int rc = 0, r;

	for (i = 0; i < plan->napplied; i++) {
		const struct xhp_hvent *h = &orig->hvents[plan->applied[i]];

		if (!h->ours) {
			note(s, "rollback impossible: %s is not known to xen-hotpatch", h->name);
			free(nodes);
			return;
		}
		xhp_strv_add(&names, h->name);
		nodes[n] = (struct xhp_pnode){ .id = h->id, .depends = h->depends, .vetoing = h->vetoing,
					       .safe_to_reapply = h->safe_to_reapply };
		n++;
	}
	for (i = 0; i < n; i++)
		nodes[i].name = names.v[i];
	xhp_session_refresh(s, &e);
	xhp_session_input(s, XHP_MODE_APPLY, &now);
	free(now.nodes);
	now.nodes = nodes;
	now.nnodes = n;
	now.in.nodes = nodes;
	now.in.nnodes = n;
	xhp_plan_make(&now.in, &back);
	for (i = 0; i < back.nsteps; i++)
		if (back.steps[i].op == XHP_STEP_UPLOAD)
			back.refused = true;
	if (back.refused) {
		note(s, "rollback impossible: a payload of the previous stack is no longer loaded; "
			"the stack stays where the failure left it");
	} else if (back.nsteps) {
		note(s, "on_failure = rollback: putting back the stack of before this run");
		r = run_steps(s, &now, &back, &failed, &rc);
		if (r < 0)
			note(s, "rollback failed at %s %s: %s", xhp_step_op_name(failed->op), failed->name,
			     strerror(-r));
	}
	xhp_plan_free(&back);
	xhp_session_input_free(&now);
	xhp_strv_free(&names);
}

int xhp_converge(struct xhp_session *s, enum xhp_mode mode, bool dry_run,
		 struct xhp_plan *plan, const struct xhp_step **failed, int *hv_rc)
{
	struct xhp_session_input si;
	struct xhp_err e;
	int ret;

	*failed = NULL;
	*hv_rc = 0;
	memset(plan, 0, sizeof(*plan));
	if (!s->inv_ok)
		return -ENOENT;
	xhp_session_input(s, mode, &si);
	xhp_plan_make(&si.in, plan);
	if (dry_run || plan->refused) {
		xhp_session_input_free(&si);
		return plan->refused ? -ECANCELED : 0;
	}
	ret = run_steps(s, &si, plan, failed, hv_rc);
	if (ret < 0) {
		cleanup_uploads(s, plan, *failed);
		if (s->cfg.on_failure_rollback)
			rollback(s, &si, plan);
	}
	xhp_session_input_free(&si);
	xhp_session_refresh(s, &e);
	return ret;
}

int xhp_revert_name(struct xhp_session *s, const char *name, struct xhp_plan *plan,
		    const struct xhp_step **failed, int *hv_rc, struct xhp_err *err)
{
	struct xhp_session_input si;
	size_t i, k;
	int at = -1, ret;

	memset(plan, 0, sizeof(*plan));
	*failed = NULL;
	*hv_rc = 0;
	xhp_session_input(s, XHP_MODE_APPLY, &si);
	plan->applied = xhp_calloc(si.nhvents + 1, sizeof(int));
	plan->napplied = xhp_applied_order(&s->hv, si.hvents, si.nhvents, plan->applied);
	for (i = 0; i < si.nhvents; i++)
		if (!strcmp(si.hvents[i].name, name))
			at = (int)i;
	if (at < 0) {
		xhp_err_set(err, "%s: not loaded in the hypervisor", name);
		xhp_session_input_free(&si);
		return -ENOENT;
	}
	if (si.hvents[at].state == XHP_STATE_APPLIED) {
		for (k = 0; k < plan->napplied && plan->applied[k] != at; k++)
			;
		for (i = plan->napplied; i > k; i--) {
			plan->steps = xhp_realloc(plan->steps, (plan->nsteps + 1) * sizeof(*plan->steps));
			plan->steps[plan->nsteps++] = (struct xhp_step){
				.op = XHP_STEP_REVERT, .name = xhp_strdup(si.hvents[plan->applied[i - 1]].name), .node = -1 };
		}
		for (i = plan->napplied; i > k; i--) {
			plan->steps = xhp_realloc(plan->steps, (plan->nsteps + 1) * sizeof(*plan->steps));
			plan->steps[plan->nsteps++] = (struct xhp_step){
				.op = XHP_STEP_UNLOAD, .name = xhp_strdup(si.hvents[plan->applied[i - 1]].name), .node = -1 };
		}
	} else {
		plan->steps = xhp_calloc(1, sizeof(*plan->steps));
		plan->steps[plan->nsteps++] = (struct xhp_step){ .op = XHP_STEP_UNLOAD, .name = xhp_strdup(si.hvents[at].name), .node = -1 };
	}
	ret = run_steps(s, &si, plan, failed, hv_rc);
	xhp_session_input_free(&si);
	xhp_session_refresh(s, err);
	return ret;
}
