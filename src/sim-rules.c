// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim-rules.c: Xen 4.17.7's livepatch rules, as the simulated hypervisor
 * applies them.
 *
 * "spec §N" below is ../shared/reference/xen-livepatch-semantics.md, a
 * reading of xen/common/livepatch.c at RELEASE-4.17.7. The functions mirror
 * Xen's: do_upload ~ livepatch_upload + load_payload_data (§1.8, the checks
 * themselves are the payload reader's xhp_payload_upload_check(), given this
 * hypervisor's view), do_action ~ livepatch_action (§3.2), schedule ~
 * schedule_work, work_complete ~ livepatch_do_action (§3.3, §6),
 * xhp_sim_get/list_page ~ livepatch_get/list. Checks run in Xen's order, so
 * when several problems exist the simulator reports the error Xen would.
 *
 * Beyond Xen, for tests: every ACTION attempt and every completed work item
 * appends the applied stack to "history"; every UPLOAD and ACTION appends
 * {"op","name","ret","rc"} to "actions" (ret: what the sysctl returned; rc:
 * the payload's rc afterwards, updated when its work completes; for a call
 * that names no loaded payload, rc = ret). Both restart at every boot.
 *
 * Not simulated, and why that is safe for the tool's purposes:
 *  - Without init --xen-syms: Xen's symbol table (names are assumed to
 *    resolve, new symbols to be new) and its code (expectations are assumed
 *    to match, no ENDBR64). With it, the code is xen-syms' .text as built:
 *    Xen's boot-time alternatives and ENDBR64 sealing are not applied, and
 *    bytes patched by an applied payload are taken to differ from any
 *    expectation.
 *  - Hooks and the built-in apply/revert succeed; their failures are
 *    injected (sim.h: async apply/revert, expect, preapply/prerevert). The
 *    presence of hooks is simulated where it matters: only a payload with a
 *    pre hook can veto, vetoing hooks block REPLACE (§5, §6).
 *  - The rendezvous timeout (an action's timeout_ns): injected as
 *    replace/apply/revert:NAME:EBUSY:async (§3.3).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "payload.h"
#include "sim-int.h"

/* Xen's name rules (§3.1 get_name): 1..128 bytes including the NUL, so
 * 0..127 characters. An empty name is accepted by Xen. */
static int name_check(const char *name)
{
	return name && strlen(name) <= XHP_NAME_MAX ? 0 : -EINVAL;
}

static void applied_push(struct sim_state *s, struct sim_payload *p)
{
	/* applied has room for every payload (sim-state.c, do_upload) */
	s->applied[s->napplied++] = p;
	p->state = XHP_STATE_APPLIED;
	p->rc = 0;
}

/* revert_payload_tail (§3.3): off the stack, CHECKED, reverted forever. */
static void applied_pop(struct sim_state *s, struct sim_payload *p)
{
	s->napplied--;
	p->state = XHP_STATE_CHECKED;
	p->reverted = true;
	p->rc = 0;
}

/* ---- expectations ----------------------------------------------------------- */

/* An applied payload patches the code at addr (its jump or NOPs are there). */
static bool patched(const struct sim_state *s, uint64_t addr)
{
	char hex[20];

	snprintf(hex, sizeof(hex), "%llx", (unsigned long long)addr);
	for (size_t i = 0; i < s->napplied; i++)
		if (xhp_strv_has(&s->applied[i]->patches, hex))
			return true;
	return false;
}

/* The live bytes at e's function differ from its expectation: only known
 * with Xen's code (init --xen-syms with an ELF). */
static bool live_bytes_differ(const char *dir, const struct sim_state *s,
			      const struct sim_expect *e)
{
	struct sim_syms *t = NULL;
	uint8_t live[31];
	bool differ = false;

	if (!e->len || !e->old_addr || !s->text_size)
		return false;
	if (patched(s, e->old_addr))
		return true;
	if (sim_syms_open(dir, s, &t, NULL) == 0 && t &&
	    sim_syms_code(t, e->old_addr, live, e->len) == 0)
		differ = memcmp(live, e->data, e->len) != 0;
	sim_syms_close(t);
	return differ;
}

/* livepatch_check_expectations (§1.6), for each function with an enabled
 * expectation, in order. old_addr = 0 (-EFAULT) cannot happen after upload
 * and len > 31 cannot be encoded. */
static int check_expectations(struct xhp_sim *sim, const struct sim_state *s,
			      const struct sim_payload *p)
{
	for (size_t i = 0; i < p->nexpect; i++) {
		const struct sim_expect *e = &p->expect[i];
		int rc = e->rsv ? -EINVAL : e->old_size < e->len ? -ERANGE :
			 live_bytes_differ(sim->dir, s, e) ? -EINVAL : 0;

		if (rc) {
			xhp_err_set(&sim->last, "%s: expectations of %s failed (rc=%d)",
				    p->ident.name, e->func, rc);
			return rc;
		}
	}
	return 0;
}

/* ---- the work (livepatch_do_action) ---------------------------------------------- */

static int revert_failure(const struct sim_outcome *o, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < o->revert_fail.n; i++)
		if (!strncmp(o->revert_fail.v[i], name, n) && o->revert_fail.v[i][n] == '=')
			return atoi(o->revert_fail.v[i] + n + 1);
	return 0;
}

/* REPLACE (§6): revert the whole stack top first, each reverted payload
 * stays loaded, CHECKED, rc 0; the first that fails keeps APPLIED with its
 * rc, the rest stay applied, and the replacement gets -EINVAL. Then the
 * expectations against the unpatched code (failing: nothing applied, "SYSTEM
 * MIGHT BE INSECURE"), then the apply (failing: nothing applied). */
static int replace_work(struct xhp_sim *sim, struct sim_state *s, struct sim_payload *p)
{
	const struct sim_outcome *o = &s->work.out;
	int rc;

	while (s->napplied) {
		struct sim_payload *other = sim_top(s);

		other->rc = revert_failure(o, other->ident.name);
		if (other->rc)
			return -EINVAL;
		applied_pop(s, other);
	}
	rc = o->expect ? o->expect : check_expectations(sim, s, p);
	if (rc)
		return rc;
	if (o->apply)
		return o->apply;
	applied_push(s, p);
	return 0;
}

static void work_complete(struct xhp_sim *sim, struct sim_state *s)
{
	struct sim_payload *p = sim_find(s, s->work.name);
	const struct sim_outcome *o = &s->work.out;
	int rc = o->rendezvous;

	if (!rc) {
		switch (s->work.op) {
		case XHP_ACTION_APPLY:
			rc = o->apply;
			if (!rc)
				applied_push(s, p);
			break;
		case XHP_ACTION_REVERT:
			rc = revert_failure(o, p->ident.name);
			if (!rc)
				applied_pop(s, p);
			break;
		case XHP_ACTION_REPLACE:
			rc = replace_work(sim, s, p);
			break;
		}
	}
	p->rc = rc;
	json_object_object_add(json_object_array_get_idx(s->actions, s->work.action),
			       "rc", json_object_new_int(rc));
	sim_log_history(s);
	sim_outcome_free(&s->work.out);
	memset(&s->work, 0, sizeof(s->work));
}

/* Whoever looks first after the work's time completes it; what the
 * scheduling process injected travels in the work slot (sim only gives the
 * directory, for Xen's code). */
bool sim_work_settle(struct xhp_sim *sim, struct sim_state *s)
{
	struct xhp_sim quiet = *sim;	/* Xen's log lines of the work go nowhere */

	if (!s->work.active || s->crashed_op || sim_now(s) < s->work.due)
		return false;
	work_complete(&quiet, s);
	return true;
}

/* ---- ACTION (livepatch_action) ----------------------------------------------------- */

/* -ERRNO of an ":async" injection for op on name, 0 when none. */
static int async_fault(const struct xhp_sim *sim, int op, const char *name)
{
	const struct xhp_sim_fault *f = sim_fault_find(sim, op, name);

	return f && f->kind == XHP_SIM_FAULT_ASYNC ? -f->err : 0;
}

/* What the scheduling process injects into the work (sim.h). */
static void outcome_of(const struct xhp_sim *sim, const struct sim_state *s,
		       int op, const char *name, struct sim_outcome *o)
{
	const struct xhp_sim_fault *f;
	char buf[XHP_NAME_MAX + 16];

	memset(o, 0, sizeof(*o));
	if (op == XHP_ACTION_REPLACE)
		o->rendezvous = async_fault(sim, XHP_ACTION_REPLACE, name);
	if (op != XHP_ACTION_REVERT)
		o->apply = async_fault(sim, XHP_ACTION_APPLY, name);
	if (op == XHP_ACTION_REPLACE && (f = sim_fault_find(sim, XHP_SIM_OP_EXPECT, name)))
		o->expect = -f->err;
	for (size_t i = 0; i < s->napplied; i++) {
		const char *n = s->applied[i]->ident.name;
		int e = op == XHP_ACTION_REPLACE || !strcmp(n, name) ?
			async_fault(sim, XHP_ACTION_REVERT, n) : 0;

		if (e) {
			snprintf(buf, sizeof(buf), "%s=%d", n, e);
			xhp_strv_add(&o->revert_fail, buf);
		}
	}
}

/* schedule_work (§3.2): rc is set to -EAGAIN before the slot is tried, and
 * stays so when another action holds the slot (the "Quirk"). */
static int schedule(struct xhp_sim *sim, struct sim_state *s, struct sim_payload *p,
		    int op, bool *scheduled, bool *crash)
{
	const struct xhp_sim_fault *f = sim_fault_find(sim, op, p->ident.name);

	p->rc = -EAGAIN;
	if (s->work.active)
		return -EBUSY;
	s->work.active = true;
	s->work.op = op;
	snprintf(s->work.name, sizeof(s->work.name), "%s", p->ident.name);
	s->work.due = sim_now(s) + sim->work_ms;
	outcome_of(sim, s, op, p->ident.name, &s->work.out);
	*scheduled = true;
	if (f && f->kind == XHP_SIM_FAULT_CRASH) {
		/* The host dies while the work runs: it stays pending. */
		sim_host_crash(s, op, p->ident.name);
		*crash = true;
	}
	return 0;
}

/* A pre hook runs only if the payload has one; its veto is the sysctl's
 * result and the payload's rc. */
static int pre_hook(struct xhp_sim *sim, struct sim_payload *p, int op)
{
	bool apply = op == XHP_SIM_OP_PREAPPLY;
	unsigned *calls = apply ? &p->preapply_calls : &p->prerevert_calls;
	int rc;

	if (!(p->hooks_enabled & (1u << (apply ? XHP_HOOK_PREAPPLY : XHP_HOOK_PREREVERT))))
		return 0;
	rc = sim_hook_veto(sim, op, p->ident.name, (*calls)++);
	if (rc) {
		xhp_err_set(&sim->last, "%s: pre-%s hook failed (rc=%d), aborting!",
			    p->ident.name, apply ? "apply" : "revert", rc);
		p->rc = rc;
	}
	return rc;
}

/* Only CHECKED; freed at once, no dependency check (§2). */
static int do_unload(struct xhp_sim *sim, struct sim_state *s, struct sim_payload *p,
		     bool *crash)
{
	const struct xhp_sim_fault *f = sim_fault_find(sim, XHP_ACTION_UNLOAD, p->ident.name);
	_cleanup_free_ char *path = NULL;
	size_t i;

	if (p->state != XHP_STATE_CHECKED)
		return -EINVAL;
	if (f && f->kind == XHP_SIM_FAULT_CRASH) {
		sim_host_crash(s, XHP_ACTION_UNLOAD, p->ident.name);
		*crash = true;
		return 0;
	}
	for (i = 0; s->p[i] != p; i++)
		;
	memmove(&s->p[i], &s->p[i + 1], (s->np - i - 1) * sizeof(*s->p));
	s->np--;
	s->version++;
	path = sim_path(sim->dir, p->file);
	unlink(path); /* a leftover file is harmless */
	sim_payload_free(p);
	return 0;
}

static int do_revert(struct xhp_sim *sim, struct sim_state *s, struct sim_payload *p,
		     bool *scheduled, bool *crash)
{
	struct sim_payload *top = sim_top(s);
	int rc;

	/* CHECKED: silent success, nothing changes (§0.7, §3.2). */
	if (p->state != XHP_STATE_APPLIED)
		return 0;
	/* Only the top of the applied stack (§2). */
	if (top != p) {
		xhp_err_set(&sim->last, "%s: can't unload. Top is %s", p->ident.name,
			    top->ident.name);
		return -EBUSY;
	}
	if ((rc = pre_hook(sim, p, XHP_SIM_OP_PREREVERT)))
		return rc;
	return schedule(sim, s, p, XHP_ACTION_REVERT, scheduled, crash);
}

static int do_apply(struct xhp_sim *sim, struct sim_state *s, struct sim_payload *p,
		    uint32_t flags, bool *scheduled, bool *crash)
{
	const struct xhp_sim_fault *f;
	char hex[XHP_BUILD_ID_HEX_SIZE];
	int rc;

	/* APPLIED: silent success (§0.7). */
	if (p->state != XHP_STATE_CHECKED)
		return 0;
	/* Reverted with .data/.bss: refused, yet the sysctl succeeds; only the
	 * rc tells (§3.2, §7.7). */
	if (p->reverted && !p->ident.safe_to_reapply) {
		xhp_err_set(&sim->last, "%s: can't revert as payload has .data. Please unload",
			    p->ident.name);
		p->rc = -EINVAL;
		return 0;
	}
	/* depends == the top of the applied stack, or the hypervisor when
	 * nothing is applied, unless NODEPS (§2). */
	if (!(flags & XHP_ACTION_APPLY_NODEPS)) {
		const struct sim_payload *top = sim_top(s);

		if (!xhp_build_id_eq(&p->ident.depends, top ? &top->ident.id : &s->build_id)) {
			xhp_err_set(&sim->last, "%s: .livepatch.depends %s: check against %s build-id failed",
				    p->ident.name,
				    xhp_build_id_hex(&p->ident.depends, hex, sizeof(hex)),
				    top ? top->ident.name : "hypervisor");
			return -EINVAL;
		}
	}
	f = sim_fault_find(sim, XHP_SIM_OP_EXPECT, p->ident.name);
	if (f) {
		xhp_err_set(&sim->last, "%s: expectations failed (injected)", p->ident.name);
		return -f->err;
	}
	if ((rc = check_expectations(sim, s, p)) || (rc = pre_hook(sim, p, XHP_SIM_OP_PREAPPLY)))
		return rc;
	return schedule(sim, s, p, XHP_ACTION_APPLY, scheduled, crash);
}

static int do_replace(struct xhp_sim *sim, struct sim_state *s, struct sim_payload *p,
		      bool *scheduled, bool *crash)
{
	if (p->state != XHP_STATE_CHECKED)
		return 0;
	/* depends must be the hypervisor; flags are ignored (§6). */
	if (!xhp_build_id_eq(&p->ident.depends, &s->build_id)) {
		xhp_err_set(&sim->last, "%s: check against hypervisor build-id failed",
			    p->ident.name);
		return -EINVAL;
	}
	/* No vetoing hooks on it nor on anything applied (§5, §6). */
	if (p->ident.vetoing) {
		xhp_err_set(&sim->last, "%s: has pre/post hooks: no REPLACE", p->ident.name);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < s->napplied; i++)
		if (s->applied[i]->ident.vetoing) {
			xhp_err_set(&sim->last, "%s has pre/post hooks: no REPLACE",
				    s->applied[i]->ident.name);
			return -EOPNOTSUPP;
		}
	/* reverted/safe_to_reapply is not checked for REPLACE (§6). */
	return schedule(sim, s, p, XHP_ACTION_REPLACE, scheduled, crash);
}

/* livepatch_action (§3.2): the checks in Xen's order. */
static int do_action(struct xhp_sim *sim, struct sim_state *s, const char *name,
		     int op, uint32_t flags, bool *scheduled, bool *crash)
{
	const struct xhp_sim_fault *f = op >= XHP_ACTION_UNLOAD && op <= XHP_ACTION_REPLACE ?
					sim_fault_find(sim, op, name) : NULL;
	struct sim_payload *p;

	if (f && f->kind == XHP_SIM_FAULT_SYNC) {
		xhp_err_set(&sim->last, "injected by %s", XHP_SIM_ENV_FAIL);
		return -f->err;
	}
	/* 2. name; 3. unknown name */
	if (name_check(name) < 0)
		return -EINVAL;
	p = sim_find(s, name);
	if (!p)
		return -ENOENT;
	/* 4. this payload's work is scheduled and not finished */
	if (s->work.active && strcmp(s->work.name, name) == 0)
		return -EBUSY;
	switch (op) {
	case XHP_ACTION_UNLOAD:
		return do_unload(sim, s, p, crash);
	case XHP_ACTION_REVERT:
		return do_revert(sim, s, p, scheduled, crash);
	case XHP_ACTION_APPLY:
		return do_apply(sim, s, p, flags, scheduled, crash);
	case XHP_ACTION_REPLACE:
		return do_replace(sim, s, p, scheduled, crash);
	default:
		return -EOPNOTSUPP;
	}
}

int xhp_sim_action(struct xhp_sim *sim, const char *name, int action,
		   uint32_t timeout_ns, uint32_t flags)
{
	struct sim_call c;
	struct sim_payload *p;
	bool scheduled = false, crash = false;
	size_t idx;
	int r;

	/* The rendezvous is not simulated; a timeout is injected instead.
	 * Unknown flag bits are ignored, as Xen does. */
	(void)timeout_ns;
	r = sim_call_begin(sim, &c, false);
	if (r < 0)
		return r;
	r = do_action(sim, &c.s, name, action, flags, &scheduled, &crash);
	/* Record the attempt: ret, and the payload's rc (final for synchronous
	 * outcomes, -EAGAIN until the work completes). */
	p = name ? sim_find(&c.s, name) : NULL;
	idx = sim_log_action(&c.s, action >= XHP_ACTION_UNLOAD && action <= XHP_ACTION_REPLACE ?
			     xhp_sim_op_name(action) : "unknown", name, r, p ? p->rc : r);
	if (scheduled)
		c.s.work.action = idx;
	sim_log_history(&c.s);
	c.dirty = true;
	r = sim_call_end(sim, &c, r);
	if (crash)
		sim_die_now();
	return r;
}

/* ---- UPLOAD (livepatch_upload) ------------------------------------------------------- */

struct upload_view {
	const struct sim_state *s;
	struct sim_syms *syms;
};

/* symbols_lookup_by_name, then livepatch_symbols_lookup_by_name (§1.7). */
static int view_lookup(void *ctx, const char *name, uint64_t *addr, const char **where)
{
	const struct upload_view *v = ctx;

	*addr = 0;
	if (v->syms && *name && (*addr = sim_syms_lookup(v->syms, name))) {
		*where = "the hypervisor";
		return 0;
	}
	for (size_t i = 0; i < v->s->np; i++)
		if (xhp_strv_has(&v->s->p[i]->new_syms, name)) {
			*where = v->s->p[i]->ident.name;
			return 0;
		}
	return -ENOENT;
}

static const char *view_id_loaded(void *ctx, const struct xhp_build_id *id)
{
	const struct upload_view *v = ctx;

	for (size_t i = 0; i < v->s->np; i++)
		if (xhp_build_id_eq(&v->s->p[i]->ident.id, id))
			return v->s->p[i]->ident.name;
	return NULL;
}

static int view_code(void *ctx, uint64_t addr, uint8_t *buf, size_t n)
{
	const struct upload_view *v = ctx;

	return v->syms ? sim_syms_code(v->syms, addr, buf, n) : -ENOENT;
}

static struct sim_payload *payload_of(const struct xhp_payload *pl, const char *name,
				      char *file)
{
	struct sim_payload *p = xhp_calloc(1, sizeof(*p));

	xhp_identity_of(&p->ident, name, pl);
	p->file = file;
	p->state = XHP_STATE_CHECKED;
	p->xen_depends = pl->xen_depends;
	p->hooks_enabled = pl->hooks_enabled;
	for (size_t i = 0; i < pl->nnew_syms; i++)
		xhp_strv_add(&p->new_syms, pl->new_syms[i]);
	p->expect = xhp_calloc(pl->nfuncs + 1, sizeof(*p->expect));
	for (size_t i = 0; i < pl->nfuncs; i++) {
		const struct xhp_func *f = &pl->funcs[i];
		struct sim_expect *e = &p->expect[p->nexpect];
		char hex[20];

		if (f->old_at) {
			snprintf(hex, sizeof(hex), "%llx", (unsigned long long)f->old_at);
			xhp_strv_add(&p->patches, hex);
		}
		if (!f->expect_enabled)
			continue;
		e->func = xhp_strdup(f->name ? f->name : "");
		e->old_addr = f->old_at;
		e->len = f->expect_len;
		e->rsv = f->expect_rsv;
		e->old_size = f->old_size;
		memcpy(e->data, f->expect_data, sizeof(e->data));
		p->nexpect++;
	}
	p->modinfo = xhp_malloc(pl->modinfo_raw_len + 1);
	if (pl->modinfo_raw_len)
		memcpy(p->modinfo, pl->modinfo_raw, pl->modinfo_raw_len);
	p->modinfo_len = pl->modinfo_raw_len;
	return p;
}

/* 12. loaded: CHECKED, rc 0, at the end of payload_list, version++. */
static int load(struct xhp_sim *sim, struct sim_state *s, const char *name,
		const void *buf, size_t len, const struct xhp_payload *pl)
{
	char *file = xhp_asprintf("%s/%lu", SIM_PAYLOAD_DIR, s->next_file);
	_cleanup_free_ char *path = sim_path(sim->dir, file);
	int r = xhp_write_file_atomic(path, buf, len, 0644);

	if (r < 0) {
		xhp_err_set(&sim->last, "%s: %s", path, strerror(-r));
		free(file);
		return r;
	}
	s->p = xhp_realloc(s->p, (s->np + 2) * sizeof(*s->p));
	s->applied = xhp_realloc(s->applied, (s->np + 2) * sizeof(*s->applied));
	s->p[s->np++] = payload_of(pl, name, file);
	s->next_file++;
	s->version++;
	return 0;
}

/* livepatch_upload (§1.8): the checks in Xen's order. */
static int do_upload(struct xhp_sim *sim, struct sim_state *s, const char *name,
		     const void *buf, size_t len, bool *crash)
{
	const struct xhp_sim_fault *f = sim_fault_find(sim, XHP_SIM_OP_UPLOAD, name);
	struct upload_view v = { s, NULL };
	struct xhp_hv_view hv = {
		.xen_id = &s->build_id, .ctx = &v, .lookup = view_lookup,
		.xen_symbols_unknown = !s->have_syms, .id_loaded = view_id_loaded,
		.read_code = view_code,
	};
	struct xhp_payload pl;
	int r;

	if (f && f->kind == XHP_SIM_FAULT_SYNC) {
		xhp_err_set(&sim->last, "injected by %s", XHP_SIM_ENV_FAIL);
		return -f->err;
	}
	/* 1. name (1..128 bytes with the NUL), size 1..2 MiB, buffer */
	if (name_check(name) < 0 || len == 0 || len > XHP_PAYLOAD_MAX_SIZE)
		return -EINVAL;
	if (!buf)
		return -EFAULT;
	/* 2. the name is taken */
	if (sim_find(s, name))
		return -EEXIST;
	/* 3-10. ELF, layout, symbols, relocations, sections, functions, hooks,
	 * notes, duplicate build-id, xen_depends, new symbols */
	r = sim_syms_open(sim->dir, s, &v.syms, &sim->last);
	if (r < 0)
		return r;
	r = xhp_payload_upload_check(buf, len, &hv, &pl, &sim->last);
	sim_syms_close(v.syms);
	if (r < 0)
		return r;
	if (f && f->kind == XHP_SIM_FAULT_CRASH) {
		sim_host_crash(s, XHP_SIM_OP_UPLOAD, name);
		*crash = true;
	} else {
		r = load(sim, s, name, buf, len, &pl);
	}
	xhp_payload_free(&pl);
	return r;
}

int xhp_sim_upload(struct xhp_sim *sim, const char *name, const void *buf, size_t len)
{
	struct sim_call c;
	bool crash = false;
	int r = sim_call_begin(sim, &c, false);

	if (r < 0)
		return r;
	r = do_upload(sim, &c.s, name, buf, len, &crash);
	/* uploads are recorded in actions (not history: the stack is the same) */
	sim_log_action(&c.s, "upload", name, crash ? 0 : r, crash ? -EAGAIN : r);
	c.dirty = true;
	r = sim_call_end(sim, &c, r);
	if (crash)
		sim_die_now();
	return r;
}

/* ---- GET, LIST, queries ---------------------------------------------------------------- */

/* GET (§3.1): synchronous, -ENOENT for an unknown name. */
int xhp_sim_get(struct xhp_sim *sim, const char *name, struct xhp_status *st)
{
	struct sim_call c;
	struct sim_payload *p;
	int r;

	if (name_check(name) < 0)
		return -EINVAL;
	r = sim_call_begin(sim, &c, false);
	if (r < 0)
		return r;
	p = sim_find(&c.s, name);
	if (p) {
		st->state = p->state;
		st->rc = p->rc;
	}
	return sim_call_end(sim, &c, p ? 0 : -ENOENT);
}

static void loaded_of(const struct sim_payload *p, struct xhp_loaded *l)
{
	snprintf(l->name, sizeof(l->name), "%s", p->ident.name);
	l->st.state = p->state;
	l->st.rc = p->rc;
	if (p->modinfo_len) {
		l->metadata = xhp_malloc(p->modinfo_len);
		memcpy(l->metadata, p->modinfo, p->modinfo_len);
		l->metadata_len = p->modinfo_len;
	}
}

/* LIST (§3.4): one call, up to nr entries in upload order from idx. */
int xhp_sim_list_page(struct xhp_sim *sim, unsigned idx, unsigned nr,
		      struct xhp_loaded **out, unsigned *version, unsigned *remaining)
{
	struct sim_call c;
	size_t n = 0;
	int r;

	*out = NULL;
	if (nr > XHP_SIM_LIST_MAX)
		return -E2BIG;
	r = sim_call_begin(sim, &c, false);
	if (r < 0)
		return r;
	if (idx >= c.s.np && c.s.np)
		return sim_call_end(sim, &c, -EINVAL);
	if (nr) {
		*out = xhp_calloc(nr, sizeof(**out));
		for (; n < nr && idx + n < c.s.np; n++)
			loaded_of(c.s.p[idx + n], &(*out)[n]);
	}
	*remaining = (unsigned)(c.s.np - (nr ? idx + n : 0));
	*version = (unsigned)c.s.version;
	if (sim->list_churn) {
		/* another toolstack uploads and unloads a payload of its own */
		sim->list_churn--;
		c.s.version += 2;
		c.dirty = true;
	}
	return sim_call_end(sim, &c, (int)n);
}

int xhp_sim_list(struct xhp_sim *sim, struct xhp_loaded **out, size_t *n)
{
	struct sim_call c;
	int r = sim_call_begin(sim, &c, false);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	*out = xhp_calloc(c.s.np + 1, sizeof(**out));
	for (size_t i = 0; i < c.s.np; i++)
		loaded_of(c.s.p[i], &(*out)[i]);
	*n = c.s.np;
	return sim_call_end(sim, &c, 0);
}

/* The simulated hypervisor's build-id and boot count (either may be NULL). */
static int sim_identity(struct xhp_sim *sim, struct xhp_build_id *id, unsigned long *boot)
{
	struct sim_call c;
	int r = sim_call_begin(sim, &c, false);

	if (r < 0)
		return r;
	if (id)
		*id = c.s.build_id;
	if (boot)
		*boot = c.s.boot;
	return sim_call_end(sim, &c, 0);
}

int xhp_sim_build_id(struct xhp_sim *sim, struct xhp_build_id *id)
{
	return sim_identity(sim, id, NULL);
}

int xhp_sim_boot(struct xhp_sim *sim, unsigned long *boot)
{
	return sim_identity(sim, NULL, boot);
}

int xhp_sim_show(struct xhp_sim *sim, bool json, char **out)
{
	struct sim_call c;
	int r = sim_call_begin(sim, &c, true);

	*out = NULL;
	if (r < 0)
		return r;
	*out = json ? sim_show_json(&c.s) : sim_show_text(sim->dir, &c.s);
	return sim_call_end(sim, &c, 0);
}
