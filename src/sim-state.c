// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim-state.c: the simulated hypervisor's state, in memory and in DIR.
 *
 * DIR layout
 *   DIR/lock           every call holds flock(LOCK_EX) on it while it runs
 *   DIR/state.json     the whole state (below), replaced atomically
 *   DIR/payloads/N     the bytes of each loaded payload exactly as uploaded
 *   DIR/xen-syms.tsv   Xen's symbol table, DIR/xen-text its .text (sim-syms.c)
 *
 * state.json (format 2)
 *   {"format": 2, "build_id": HEX, "boot": N,
 *    "version": N,                 Xen's payload_version (§3.4)
 *    "next_file": N,               next DIR/payloads/ number
 *    "clock_offset": MS,           simulated time = monotonic ms + this
 *    "xen_syms": BOOL, "text": {"start", "size"} | null,
 *    "crashed": null | {"op", "name"},   host died (failure injection)
 *    "payloads": [                 Xen's payload_list: upload order
 *      {"name", "file", "state": "CHECKED"|"APPLIED", "rc", "reverted",
 *       "safe_to_reapply", "build_id", "depends", "xen_depends",
 *       "hooks_enabled" (bit per enum xhp_hook), "preapply_calls",
 *       "prerevert_calls", "new_syms": [names], "patches": [hex old_addr],
 *       "expect": [{"func", "old_addr", "len", "rsv", "old_size", "data"}],
 *       "modinfo": HEX (raw .modinfo bytes)}],
 *    "applied": [names],           Xen's applied_list, bottom first
 *    "pending": null | {"op", "name", "due", "action", "rendezvous",
 *                       "apply", "expect", "revert_fail": ["NAME=ERRNO"]},
 *                                  Xen's single livepatch_work slot
 *    "history": [[names], ...], "actions": [{"op","name","ret","rc"}, ...]}
 * A state file of another format is refused ("re-run init").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim-int.h"

#define STATE_MAX_SIZE (256u << 20)
#define NOT_INIT "not an initialised simulated hypervisor (run: xen-hotpatch-sim %s init --build-id HEX)"

char *sim_path(const char *dir, const char *rel)
{
	return xhp_asprintf("%s/%s", dir, rel);
}

/* ---- the state in memory -------------------------------------------------- */

void sim_payload_free(struct sim_payload *p)
{
	if (!p)
		return;
	free(p->file);
	xhp_strv_free(&p->new_syms);
	xhp_strv_free(&p->patches);
	for (size_t i = 0; i < p->nexpect; i++)
		free(p->expect[i].func);
	free(p->expect);
	free(p->modinfo);
	free(p);
}

void sim_outcome_free(struct sim_outcome *o)
{
	xhp_strv_free(&o->revert_fail);
	memset(o, 0, sizeof(*o));
}

void sim_state_free(struct sim_state *s)
{
	for (size_t i = 0; i < s->np; i++)
		sim_payload_free(s->p[i]);
	free(s->p);
	free(s->applied);
	sim_outcome_free(&s->work.out);
	free(s->crashed_op);
	free(s->crashed_name);
	json_object_put(s->history);
	json_object_put(s->actions);
	memset(s, 0, sizeof(*s));
}

/* A fresh hypervisor: what Xen looks like right after boot (§7.1). */
void sim_state_fresh(struct sim_state *s, const struct xhp_build_id *id,
		     unsigned long boot)
{
	memset(s, 0, sizeof(*s));
	s->build_id = *id;
	s->boot = boot;
	s->version = 1;
	s->next_file = 1;
	s->history = json_object_new_array();
	s->actions = json_object_new_array();
}

struct sim_payload *sim_find(const struct sim_state *s, const char *name)
{
	for (size_t i = 0; i < s->np; i++)
		if (strcmp(s->p[i]->ident.name, name) == 0)
			return s->p[i];
	return NULL;
}

struct sim_payload *sim_top(const struct sim_state *s)
{
	return s->napplied ? s->applied[s->napplied - 1] : NULL;
}

const char *sim_state_str(int state)
{
	return state == XHP_STATE_APPLIED ? "APPLIED" : "CHECKED";
}

unsigned long long sim_now(const struct sim_state *s)
{
	return (unsigned long long)((long long)xhp_now_ms() + s->clock_offset);
}

/* ---- JSON readers: a member of the right type, or -EBADMSG ------------------ */

static json_object *jget(json_object *o, const char *key, json_type t)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

static int jint(json_object *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_object *v = jget(o, key, json_type_int);

	if (!v)
		return -EBADMSG;
	*out = json_object_get_int64(v);
	return *out >= min && *out <= max ? 0 : -EBADMSG;
}

static int jstr(json_object *o, const char *key, const char **out)
{
	json_object *v = jget(o, key, json_type_string);

	*out = v ? json_object_get_string(v) : NULL;
	return v ? 0 : -EBADMSG;
}

static int jbool(json_object *o, const char *key, bool *out)
{
	json_object *v = jget(o, key, json_type_boolean);

	if (!v)
		return -EBADMSG;
	*out = json_object_get_boolean(v);
	return 0;
}

static int jbuild_id(json_object *o, const char *key, struct xhp_build_id *id)
{
	const char *h;

	if (jstr(o, key, &h) < 0 || xhp_build_id_from_hex(id, h) < 0)
		return -EBADMSG;
	return 0;
}

static int jstrv(json_object *o, const char *key, struct xhp_strv *v)
{
	json_object *a = jget(o, key, json_type_array);

	if (!a)
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);

		if (!json_object_is_type(e, json_type_string))
			return -EBADMSG;
		xhp_strv_add(v, json_object_get_string(e));
	}
	return 0;
}

static json_object *jstrv_to(const struct xhp_strv *v)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < v->n; i++)
		json_object_array_add(a, json_object_new_string(v->v[i]));
	return a;
}

static json_object *jid(const struct xhp_build_id *id)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];

	return json_object_new_string(xhp_build_id_hex(id, hex, sizeof(hex)));
}

static json_object *jhex(const uint8_t *b, size_t n)
{
	char *h = xhp_hex_encode(b, n);
	json_object *o = json_object_new_string(h);

	free(h);
	return o;
}

static int state_name_parse(const char *s)
{
	if (s && strcmp(s, "CHECKED") == 0)
		return XHP_STATE_CHECKED;
	if (s && strcmp(s, "APPLIED") == 0)
		return XHP_STATE_APPLIED;
	return -1;
}

/* ---- payloads ---------------------------------------------------------------- */

static int expect_from_json(json_object *v, struct sim_expect *e)
{
	const char *func, *data;
	int64_t i64;
	uint8_t *b;
	size_t n;

	if (jstr(v, "func", &func) < 0 || jstr(v, "data", &data) < 0 ||
	    jint(v, "old_addr", INT64_MIN, INT64_MAX, &i64) < 0)
		return -EBADMSG;
	e->func = xhp_strdup(func);
	e->old_addr = (uint64_t)i64;
	if (jint(v, "len", 0, 31, &i64) < 0)
		return -EBADMSG;
	e->len = (unsigned)i64;
	if (jint(v, "rsv", 0, 3, &i64) < 0)
		return -EBADMSG;
	e->rsv = (unsigned)i64;
	if (jint(v, "old_size", 0, UINT32_MAX, &i64) < 0)
		return -EBADMSG;
	e->old_size = (uint32_t)i64;
	if (xhp_hex_decode(data, &b, &n) < 0)
		return -EBADMSG;
	memcpy(e->data, b, n < sizeof(e->data) ? n : sizeof(e->data));
	free(b);
	return n == sizeof(e->data) ? 0 : -EBADMSG;
}

static int payload_fields(json_object *o, struct sim_payload *p)
{
	const char *name, *file, *st;
	int64_t i64;

	if (jstr(o, "name", &name) < 0 || jstr(o, "file", &file) < 0 ||
	    jstr(o, "state", &st) < 0 || jint(o, "rc", -4095, 0, &i64) < 0 ||
	    strlen(name) > XHP_NAME_MAX || strstr(file, ".."))
		return -EBADMSG;
	snprintf(p->ident.name, sizeof(p->ident.name), "%s", name);
	p->file = xhp_strdup(file);
	p->rc = (int)i64;
	p->state = state_name_parse(st);
	if (p->state < 0 ||
	    jbool(o, "reverted", &p->reverted) < 0 ||
	    jbool(o, "safe_to_reapply", &p->ident.safe_to_reapply) < 0 ||
	    jbuild_id(o, "build_id", &p->ident.id) < 0 ||
	    jbuild_id(o, "depends", &p->ident.depends) < 0 ||
	    jbuild_id(o, "xen_depends", &p->xen_depends) < 0 ||
	    jint(o, "hooks_enabled", 0, UINT_MAX, &i64) < 0)
		return -EBADMSG;
	p->hooks_enabled = (unsigned)i64;
	p->ident.vetoing = (p->hooks_enabled & XHP_HOOKS_VETOING) != 0;
	if (jint(o, "preapply_calls", 0, UINT_MAX, &i64) < 0)
		return -EBADMSG;
	p->preapply_calls = (unsigned)i64;
	if (jint(o, "prerevert_calls", 0, UINT_MAX, &i64) < 0)
		return -EBADMSG;
	p->prerevert_calls = (unsigned)i64;
	return 0;
}

static int payload_from_json(json_object *o, struct sim_payload **out)
{
	struct sim_payload *p = xhp_calloc(1, sizeof(*p));
	json_object *exp = jget(o, "expect", json_type_array);
	const char *modinfo;
	int r = -EBADMSG;

	*out = p;
	if (!exp || payload_fields(o, p) < 0 || jstrv(o, "new_syms", &p->new_syms) < 0 ||
	    jstrv(o, "patches", &p->patches) < 0 || jstr(o, "modinfo", &modinfo) < 0 ||
	    xhp_hex_decode(modinfo, &p->modinfo, &p->modinfo_len) < 0)
		return r;
	p->expect = xhp_calloc(json_object_array_length(exp) + 1, sizeof(*p->expect));
	for (size_t i = 0; i < json_object_array_length(exp); i++, p->nexpect++)
		if ((r = expect_from_json(json_object_array_get_idx(exp, i),
					  &p->expect[i])) < 0) {
			p->nexpect++;	/* freed with the rest */
			return r;
		}
	return 0;
}

static json_object *payload_to_json(const struct sim_payload *p)
{
	json_object *o = json_object_new_object(), *exp = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(p->ident.name));
	json_object_object_add(o, "file", json_object_new_string(p->file));
	json_object_object_add(o, "state", json_object_new_string(sim_state_str(p->state)));
	json_object_object_add(o, "rc", json_object_new_int(p->rc));
	json_object_object_add(o, "reverted", json_object_new_boolean(p->reverted));
	json_object_object_add(o, "safe_to_reapply",
			       json_object_new_boolean(p->ident.safe_to_reapply));
	json_object_object_add(o, "build_id", jid(&p->ident.id));
	json_object_object_add(o, "depends", jid(&p->ident.depends));
	json_object_object_add(o, "xen_depends", jid(&p->xen_depends));
	json_object_object_add(o, "hooks_enabled", json_object_new_int64(p->hooks_enabled));
	json_object_object_add(o, "preapply_calls", json_object_new_int64(p->preapply_calls));
	json_object_object_add(o, "prerevert_calls", json_object_new_int64(p->prerevert_calls));
	json_object_object_add(o, "new_syms", jstrv_to(&p->new_syms));
	json_object_object_add(o, "patches", jstrv_to(&p->patches));
	for (size_t i = 0; i < p->nexpect; i++) {
		const struct sim_expect *x = &p->expect[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "func", json_object_new_string(x->func));
		json_object_object_add(e, "old_addr", json_object_new_int64((int64_t)x->old_addr));
		json_object_object_add(e, "len", json_object_new_int((int)x->len));
		json_object_object_add(e, "rsv", json_object_new_int((int)x->rsv));
		json_object_object_add(e, "old_size", json_object_new_int64(x->old_size));
		json_object_object_add(e, "data", jhex(x->data, sizeof(x->data)));
		json_object_array_add(exp, e);
	}
	json_object_object_add(o, "expect", exp);
	json_object_object_add(o, "modinfo", jhex(p->modinfo, p->modinfo_len));
	return o;
}

/* ---- the whole state ----------------------------------------------------------- */

static int header_from_json(json_object *root, struct sim_state *s)
{
	json_object *text;
	int64_t i64;

	if (jint(root, "format", SIM_STATE_FORMAT, SIM_STATE_FORMAT, &i64) < 0 ||
	    jbuild_id(root, "build_id", &s->build_id) < 0 ||
	    jint(root, "boot", 1, INT64_MAX, &i64) < 0)
		return -EBADMSG;
	s->boot = (unsigned long)i64;
	if (jint(root, "version", 1, INT64_MAX, &i64) < 0)
		return -EBADMSG;
	s->version = (unsigned long)i64;
	if (jint(root, "next_file", 1, INT64_MAX, &i64) < 0)
		return -EBADMSG;
	s->next_file = (unsigned long)i64;
	if (jint(root, "clock_offset", INT64_MIN, INT64_MAX, &i64) < 0 ||
	    jbool(root, "xen_syms", &s->have_syms) < 0 ||
	    !json_object_object_get_ex(root, "text", &text))
		return -EBADMSG;
	s->clock_offset = i64;
	if (text) {
		if (jint(text, "start", INT64_MIN, INT64_MAX, &i64) < 0)
			return -EBADMSG;
		s->text_start = (unsigned long long)i64;
		if (jint(text, "size", 0, INT64_MAX, &i64) < 0)
			return -EBADMSG;
		s->text_size = (unsigned long long)i64;
	}
	return 0;
}

static int payloads_from_json(json_object *root, struct sim_state *s)
{
	json_object *arr = jget(root, "payloads", json_type_array);
	size_t n;
	int r;

	if (!arr)
		return -EBADMSG;
	n = json_object_array_length(arr);
	s->p = xhp_calloc(n + 1, sizeof(*s->p));
	/* room for every payload: a push never grows it (see sim-rules.c) */
	s->applied = xhp_calloc(n + 1, sizeof(*s->applied));
	for (size_t i = 0; i < n; i++) {
		r = payload_from_json(json_object_array_get_idx(arr, i), &s->p[i]);
		s->np++;
		if (r < 0)
			return r;
		if (sim_find(s, s->p[i]->ident.name) != s->p[i])
			return -EBADMSG; /* duplicate name */
	}
	return 0;
}

/* applied_list: names of APPLIED payloads, each once, all of them. */
static int applied_from_json(json_object *root, struct sim_state *s)
{
	json_object *arr = jget(root, "applied", json_type_array);
	size_t nstate = 0;

	if (!arr || json_object_array_length(arr) > s->np)
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		struct sim_payload *p;

		if (!json_object_is_type(v, json_type_string))
			return -EBADMSG;
		p = sim_find(s, json_object_get_string(v));
		if (!p || p->state != XHP_STATE_APPLIED)
			return -EBADMSG;
		for (size_t j = 0; j < s->napplied; j++)
			if (s->applied[j] == p)
				return -EBADMSG;
		s->applied[s->napplied++] = p;
	}
	for (size_t i = 0; i < s->np; i++)
		nstate += s->p[i]->state == XHP_STATE_APPLIED;
	return nstate == s->napplied ? 0 : -EBADMSG;
}

static int outcome_from_json(json_object *w, struct sim_outcome *o)
{
	int64_t i64;

	if (jint(w, "rendezvous", -4095, 0, &i64) < 0)
		return -EBADMSG;
	o->rendezvous = (int)i64;
	if (jint(w, "apply", -4095, 0, &i64) < 0)
		return -EBADMSG;
	o->apply = (int)i64;
	if (jint(w, "expect", -4095, 0, &i64) < 0)
		return -EBADMSG;
	o->expect = (int)i64;
	return jstrv(w, "revert_fail", &o->revert_fail);
}

/* The work slot, as far as the rules rely on it: REVERT acts on the top of
 * the stack, APPLY and REPLACE on a CHECKED payload. */
static int work_from_json(json_object *root, struct sim_state *s)
{
	json_object *w;
	const char *op, *name;
	struct sim_payload *p;
	int64_t i64;

	if (!json_object_object_get_ex(root, "pending", &w))
		return -EBADMSG;
	if (!w)
		return 0;
	s->work.active = true;
	if (jstr(w, "op", &op) < 0 || jstr(w, "name", &name) < 0 ||
	    strlen(name) > XHP_NAME_MAX)
		return -EBADMSG;
	snprintf(s->work.name, sizeof(s->work.name), "%s", name);
	s->work.op = strcmp(op, "apply") == 0 ? XHP_ACTION_APPLY :
		     strcmp(op, "revert") == 0 ? XHP_ACTION_REVERT :
		     strcmp(op, "replace") == 0 ? XHP_ACTION_REPLACE : -1;
	p = sim_find(s, name);
	if (s->work.op < 0 || !p ||
	    (s->work.op == XHP_ACTION_REVERT ? p != sim_top(s) : p->state != XHP_STATE_CHECKED))
		return -EBADMSG;
	if (jint(w, "due", 0, INT64_MAX, &i64) < 0)
		return -EBADMSG;
	s->work.due = (unsigned long long)i64;
	if (jint(w, "action", 0, INT64_MAX, &i64) < 0)
		return -EBADMSG;
	s->work.action = (size_t)i64;
	return outcome_from_json(w, &s->work.out);
}

static int state_from_json(json_object *root, struct sim_state *s)
{
	json_object *crashed;
	const char *op, *name;
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = header_from_json(root, s)) < 0 || (r = payloads_from_json(root, s)) < 0 ||
	    (r = applied_from_json(root, s)) < 0 || (r = work_from_json(root, s)) < 0)
		return r;
	if (!json_object_object_get_ex(root, "crashed", &crashed))
		return -EBADMSG;
	if (crashed) {
		if (jstr(crashed, "op", &op) < 0 || jstr(crashed, "name", &name) < 0)
			return -EBADMSG;
		s->crashed_op = xhp_strdup(op);
		s->crashed_name = xhp_strdup(name);
	}
	s->history = json_object_get(jget(root, "history", json_type_array));
	s->actions = json_object_get(jget(root, "actions", json_type_array));
	if (!s->history || !s->actions)
		return -EBADMSG;
	if (s->work.active && s->work.action >= json_object_array_length(s->actions))
		return -EBADMSG;
	return 0;
}

json_object *sim_names_json(struct sim_payload *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]->ident.name));
	return a;
}

static json_object *work_to_json(const struct sim_work *w)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(xhp_sim_op_name(w->op)));
	json_object_object_add(o, "name", json_object_new_string(w->name));
	json_object_object_add(o, "due", json_object_new_int64((int64_t)w->due));
	json_object_object_add(o, "action", json_object_new_int64((int64_t)w->action));
	json_object_object_add(o, "rendezvous", json_object_new_int(w->out.rendezvous));
	json_object_object_add(o, "apply", json_object_new_int(w->out.apply));
	json_object_object_add(o, "expect", json_object_new_int(w->out.expect));
	json_object_object_add(o, "revert_fail", jstrv_to(&w->out.revert_fail));
	return o;
}

static json_object *state_to_json(const struct sim_state *s)
{
	json_object *root = json_object_new_object(), *arr, *o = NULL;

	json_object_object_add(root, "format", json_object_new_int(SIM_STATE_FORMAT));
	json_object_object_add(root, "build_id", jid(&s->build_id));
	json_object_object_add(root, "boot", json_object_new_int64((int64_t)s->boot));
	json_object_object_add(root, "version", json_object_new_int64((int64_t)s->version));
	json_object_object_add(root, "next_file", json_object_new_int64((int64_t)s->next_file));
	json_object_object_add(root, "clock_offset", json_object_new_int64(s->clock_offset));
	json_object_object_add(root, "xen_syms", json_object_new_boolean(s->have_syms));
	if (s->text_size) {
		o = json_object_new_object();
		json_object_object_add(o, "start", json_object_new_int64((int64_t)s->text_start));
		json_object_object_add(o, "size", json_object_new_int64((int64_t)s->text_size));
	}
	json_object_object_add(root, "text", o);
	o = NULL;
	if (s->crashed_op) {
		o = json_object_new_object();
		json_object_object_add(o, "op", json_object_new_string(s->crashed_op));
		json_object_object_add(o, "name", json_object_new_string(s->crashed_name));
	}
	json_object_object_add(root, "crashed", o);
	arr = json_object_new_array();
	for (size_t i = 0; i < s->np; i++)
		json_object_array_add(arr, payload_to_json(s->p[i]));
	json_object_object_add(root, "payloads", arr);
	json_object_object_add(root, "applied", sim_names_json(s->applied, s->napplied));
	json_object_object_add(root, "pending", s->work.active ? work_to_json(&s->work) : NULL);
	json_object_object_add(root, "history", json_object_get(s->history));
	json_object_object_add(root, "actions", json_object_get(s->actions));
	return root;
}

int sim_state_load(const char *dir, struct sim_state *s, struct xhp_err *err)
{
	_cleanup_free_ char *path = sim_path(dir, SIM_STATE_FILE);
	_cleanup_free_ char *data = NULL;
	json_object *root;
	size_t len;
	int r;

	memset(s, 0, sizeof(*s));
	r = xhp_read_file(path, &data, &len, STATE_MAX_SIZE);
	if (r == -ENOENT) {
		xhp_err_set(err, "%s: " NOT_INIT, dir, dir);
		return -ENODEV;
	}
	if (r < 0) {
		xhp_err_set(err, "%s: %s", path, strerror(-r));
		return r;
	}
	root = json_tokener_parse(data);
	r = root ? state_from_json(root, s) : -EBADMSG;
	json_object_put(root);
	if (r < 0) {
		sim_state_free(s);
		xhp_err_set(err, "%s: not a valid simulator state of format %d (re-run init)",
			    path, SIM_STATE_FORMAT);
	}
	return r;
}

int sim_state_save(const char *dir, const struct sim_state *s, struct xhp_err *err)
{
	json_object *root = state_to_json(s);
	const char *txt = json_object_to_json_string_ext(root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *path = sim_path(dir, SIM_STATE_FILE);
	_cleanup_free_ char *buf = xhp_asprintf("%s\n", txt ? txt : "");
	int r = txt ? xhp_write_file_atomic(path, buf, strlen(buf), 0644) : -ENOMEM;

	if (r < 0)
		xhp_err_set(err, "%s: %s", path, strerror(-r));
	json_object_put(root);
	return r;
}

/* Empty DIR/payloads (creating it when missing): Xen forgets everything. */
int sim_clear_payloads(const char *dir, struct xhp_err *err)
{
	_cleanup_free_ char *pd = sim_path(dir, SIM_PAYLOAD_DIR);
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (mkdir(pd, 0755) < 0 && errno != EEXIST)
		r = -errno;
	else if (!(d = opendir(pd)))
		r = -errno;
	else {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) < 0 &&
			    errno != ENOENT)
				r = -errno;
		closedir(d);
	}
	if (r < 0)
		xhp_err_set(err, "%s: %s", pd, strerror(-r));
	return r;
}

/* ---- one call: lock, load, act, save, unlock ----------------------------------- */

int sim_lock_dir(const char *dir, bool create, struct xhp_err *err)
{
	_cleanup_free_ char *path = sim_path(dir, SIM_LOCK_FILE);
	int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);

	if (fd < 0) {
		int e = errno;

		if (e == ENOENT || e == ENOTDIR) {
			xhp_err_set(err, "%s: " NOT_INIT, dir, dir);
			return -ENODEV;
		}
		xhp_err_set(err, "%s: %s", path, strerror(e));
		return -e;
	}
	while (flock(fd, LOCK_EX) < 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		xhp_err_set(err, "%s: flock: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int sim_call_begin(struct xhp_sim *sim, struct sim_call *c, bool allow_crashed)
{
	int r;

	memset(c, 0, sizeof(*c));
	sim->last.msg[0] = '\0';
	c->lock_fd = sim_lock_dir(sim->dir, false, &sim->last);
	if (c->lock_fd < 0)
		return c->lock_fd;
	r = sim_state_load(sim->dir, &c->s, &sim->last);
	if (r == 0 && c->s.crashed_op && !allow_crashed) {
		xhp_err_set(&sim->last, "%s: the simulated host crashed during %s of %s; "
			    "run: xen-hotpatch-sim %s reboot", sim->dir, c->s.crashed_op,
			    c->s.crashed_name, sim->dir);
		sim_state_free(&c->s);
		r = -EHOSTDOWN;
	}
	if (r < 0) {
		close(c->lock_fd);
		return r;
	}
	c->dirty = sim_work_settle(sim, &c->s);
	return 0;
}

int sim_call_end(struct xhp_sim *sim, struct sim_call *c, int ret)
{
	if (c->dirty) {
		int r = sim_state_save(sim->dir, &c->s, &sim->last);

		if (r < 0)
			ret = r;
	}
	sim_state_free(&c->s);
	close(c->lock_fd); /* releases the flock */
	return ret;
}

/* ---- history and actions: the record tests read --------------------------------- */

void sim_log_history(struct sim_state *s)
{
	json_object_array_add(s->history, sim_names_json(s->applied, s->napplied));
}

size_t sim_log_action(struct sim_state *s, const char *op, const char *name,
		      int ret, int rc)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "op", json_object_new_string(op));
	json_object_object_add(a, "name", json_object_new_string(name ? name : ""));
	json_object_object_add(a, "ret", json_object_new_int(ret));
	json_object_object_add(a, "rc", json_object_new_int(rc));
	json_object_array_add(s->actions, a);
	return json_object_array_length(s->actions) - 1;
}
