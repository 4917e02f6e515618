// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim.c: a simulated Xen 4.17.7 livepatch subsystem, kept in a directory.
 *
 * "spec §N" below is ../shared/reference/xen-livepatch-semantics.md, a
 * reading of xen/common/livepatch.c at RELEASE-4.17.7. The functions here
 * mirror Xen's: do_upload ~ livepatch_upload + load_payload_data (§1.8),
 * do_action ~ livepatch_action (§3.2), schedule ~ schedule_work,
 * work_complete ~ livepatch_do_action (§3.3, §6), xhp_sim_get/list ~
 * livepatch_get/list. Checks run in Xen's order, so when several problems
 * exist the simulator reports the error Xen would report.
 *
 * Beyond Xen, for tests: every ACTION attempt and every completed work item
 * appends the applied stack to "history"; every UPLOAD and ACTION appends
 * {"op","name","ret","rc"} to "actions" (ret: what the sysctl returned; rc:
 * the payload's rc afterwards, updated when its work completes; for a call
 * that names no loaded payload, rc = ret). Both restart at every boot.
 *
 * DIR layout
 *   DIR/lock          every call holds flock(LOCK_EX) on it while it runs
 *   DIR/state.json    the whole state (below), replaced atomically
 *   DIR/payloads/N    the bytes of each loaded payload exactly as uploaded,
 *                     so everything derived at upload can be re-derived
 *
 * state.json (format 1)
 *   {"format": 1, "build_id": HEX, "boot": N,
 *    "version": N,                 Xen's payload_version (§3.4)
 *    "next_file": N,               next DIR/payloads/ number
 *    "crashed": null | {"op", "name"},   host died (failure injection)
 *    "payloads": [                 Xen's payload_list: upload order
 *      {"name", "file", "state": "CHECKED"|"APPLIED", "rc", "reverted",
 *       "safe_to_reapply", "build_id", "depends", "xen_depends",
 *       "hooks_enabled" (bit per enum xhp_hook), "new_syms": [names],
 *       "expect": [{"func", "len", "rsv", "old_size"}]  (enabled ones),
 *       "modinfo": HEX (raw .modinfo bytes)}],
 *    "applied": [names],           Xen's applied_list, bottom first
 *    "pending": null | {"op", "name", "remaining", "result", "action"},
 *                                  Xen's single livepatch_work slot
 *    "history": [[names], ...], "actions": [{"op","name","ret","rc"}, ...]}
 *
 * Time. Xen runs APPLY/REVERT/REPLACE later, when the calling CPU next goes
 * idle (§3.3). Here, pending work completes when a later GET, LIST, ACTION
 * or show observes it, after `remaining` observations that still see it
 * pending (XEN_HOTPATCH_SIM_DELAY of the scheduling process, default 1): a
 * client that reads GET once and does not poll sees -EAGAIN.
 *
 * Not simulated, and why that is safe for the tool's purposes:
 *  - Xen's own symbol table: undefined symbols and functions with
 *    old_addr = 0 are assumed to resolve (§1.6, §1.7: Xen would give
 *    -ENOENT), and new symbols are only compared with those of other loaded
 *    payloads, not with Xen's (which could give -EEXIST).
 *  - Live code bytes: expectation data is assumed to match (§1.6); only the
 *    rsv and len/old_size rules are checked.
 *  - Hooks: pre-apply / pre-revert hooks never veto, action hooks and the
 *    built-in apply/revert always succeed; failures of the work itself are
 *    injected instead (":async"). The presence of hooks is simulated where
 *    it matters: vetoing hooks block REPLACE (§5, §6).
 *  - The rendezvous timeout (an action's timeout_ns): a timeout is injected
 *    with ":async" EBUSY (§3.3).
 *  - Upload errors come from xhp_payload_parse() as one step, so for a
 *    payload that is both a duplicate build-id and malformed later in
 *    prepare_payload (§1.8 step 8) the parse error wins, where Xen would
 *    say -EEXIST.
 */
#include "sim.h"
#include "payload.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_FILE "state.json"
#define LOCK_FILE "lock"
#define PAYLOAD_DIR "payloads"
#define STATE_FORMAT 1
#define STATE_MAX_SIZE (256u << 20)

/* ======================================================================
 * op names, failure-injection specs
 * ====================================================================== */

static const char *const op_names[] = {
	[XHP_SIM_OP_UPLOAD] = "upload",
	[XHP_ACTION_UNLOAD] = "unload",
	[XHP_ACTION_REVERT] = "revert",
	[XHP_ACTION_APPLY] = "apply",
	[XHP_ACTION_REPLACE] = "replace",
};
#define NOPS ((int)(sizeof(op_names) / sizeof(op_names[0])))

const char *xhp_sim_op_name(int op)
{
	return op >= 0 && op < NOPS ? op_names[op] : "unknown";
}

/* The name of an ACTION cmd: "unknown" for anything but 1..4. */
static const char *action_name(int action)
{
	return action == XHP_SIM_OP_UPLOAD ? "unknown" : xhp_sim_op_name(action);
}

static int op_from_name(const char *s)
{
	for (int i = 0; i < NOPS; i++)
		if (strcmp(op_names[i], s) == 0)
			return i;
	return -1;
}

static bool op_is_async(int op)
{
	return op == XHP_ACTION_APPLY || op == XHP_ACTION_REVERT ||
	       op == XHP_ACTION_REPLACE;
}

/* One "OP:NAME:ERRNO[:async]" item (len bytes at s). */
static int fault_parse_one(const char *s, size_t len, struct xhp_sim_fault *f,
			   struct xhp_err *err)
{
	char buf[256], *field[5];
	size_t n = 0;

	if (len >= sizeof(buf)) {
		xhp_err_set(err, "%s: item too long: %.*s", XHP_SIM_ENV_FAIL,
			    (int)len, s);
		return -EINVAL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (char *p = buf, *tok; n < 5 && (tok = strsep(&p, ":")); )
		field[n++] = tok;
	if (n < 3 || n > 4 || (n == 4 && strcmp(field[3], "async") != 0)) {
		xhp_err_set(err, "%s: '%.*s': expected OP:NAME:ERRNO[:async]",
			    XHP_SIM_ENV_FAIL, (int)len, s);
		return -EINVAL;
	}
	memset(f, 0, sizeof(*f));
	f->op = op_from_name(field[0]);
	if (f->op < 0) {
		xhp_err_set(err, "%s: unknown operation '%s' (upload, apply, "
			    "revert, replace, unload)", XHP_SIM_ENV_FAIL, field[0]);
		return -EINVAL;
	}
	if (!field[1][0] || strlen(field[1]) > XHP_NAME_MAX) {
		xhp_err_set(err, "%s: '%.*s': bad payload name", XHP_SIM_ENV_FAIL,
			    (int)len, s);
		return -EINVAL;
	}
	strcpy(f->name, field[1]);

	if (strcmp(field[2], "crash") == 0) {
		f->kind = XHP_SIM_FAULT_CRASH;
	} else {
		f->err = xhp_errno_parse(field[2]);
		if (f->err <= 0) {
			xhp_err_set(err, "%s: '%.*s': bad errno '%s'", XHP_SIM_ENV_FAIL,
				    (int)len, s, field[2]);
			return -EINVAL;
		}
		f->kind = n == 4 ? XHP_SIM_FAULT_ASYNC : XHP_SIM_FAULT_SYNC;
	}
	if (n == 4 && (f->kind == XHP_SIM_FAULT_CRASH || !op_is_async(f->op))) {
		xhp_err_set(err, "%s: '%.*s': ':async' needs apply, revert or "
			    "replace and an errno", XHP_SIM_ENV_FAIL, (int)len, s);
		return -EINVAL;
	}
	return 0;
}

int xhp_sim_faults_parse(const char *spec, struct xhp_sim_fault **faults,
			 size_t *n, struct xhp_err *err)
{
	struct xhp_sim_fault *v = NULL;
	size_t cnt = 0;

	*faults = NULL;
	*n = 0;
	while (spec && *spec) {
		const char *end = strchr(spec, ',');
		size_t len = end ? (size_t)(end - spec) : strlen(spec);

		if (len) {
			struct xhp_sim_fault *nv = realloc(v, (cnt + 1) * sizeof(*v));
			int r;

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			r = fault_parse_one(spec, len, &v[cnt], err);
			if (r < 0) {
				free(v);
				return r;
			}
			cnt++;
		}
		spec = end ? end + 1 : NULL;
	}
	*faults = v;
	*n = cnt;
	return 0;
}

/* ======================================================================
 * Files in DIR
 * ====================================================================== */

static char *path_join(const char *dir, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		return NULL;
	return p;
}

/* Write DIR/rel atomically (temp, fsync, rename, fsync dir). */
static int write_atomic(const char *dir, const char *rel, const void *data,
			size_t len)
{
	char *path = path_join(dir, rel);
	int r;

	if (!path)
		return -ENOMEM;
	r = xhp_write_file_atomic(path, data, len, 0644);
	free(path);
	return r;
}

/* Empty DIR/payloads (creating it when missing): Xen forgets everything. */
static int clear_payload_dir(const char *dir)
{
	char *pd = path_join(dir, PAYLOAD_DIR);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!pd)
		return -ENOMEM;
	if (mkdir(pd, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	d = opendir(pd);
	if (!d) {
		r = -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			r = -errno;
	}
	closedir(d);
out:
	free(pd);
	return r;
}

/* ======================================================================
 * The state, in memory
 * ====================================================================== */

/* An enabled expectation (§1.5, §1.6); disabled ones are skipped by Xen. */
struct sim_expect {
	char *func;
	unsigned len, rsv;
	uint32_t old_size;
};

/* Xen's struct payload, as far as the rules need it (§3.6). */
struct sim_payload {
	char *name;
	char *file;			/* relative to DIR */
	int state;			/* enum xhp_state */
	int rc;
	bool reverted;			/* sticky once set (§3.6) */
	bool safe_to_reapply;
	struct xhp_build_id id, depends, xen_depends;
	unsigned hooks_enabled;		/* bit per enum xhp_hook */
	size_t nsyms;
	char **new_syms;
	size_t nexpect;
	struct sim_expect *expect;
	uint8_t *modinfo;
	size_t modinfo_len;
};

/* Xen's livepatch_work: one action in flight system-wide (§3.2). */
struct sim_work {
	bool active;
	int op;				/* enum xhp_action */
	char *name;
	unsigned remaining;		/* observations left before it completes */
	int result;			/* 0, or an injected failure (-errno) */
	size_t action;			/* its entry in actions[] */
};

struct sim_state {
	struct xhp_build_id build_id;
	unsigned long boot;
	unsigned long version;		/* payload_version (§3.4) */
	unsigned long next_file;
	struct sim_payload **p;		/* payload_list, upload order */
	size_t np;
	struct sim_payload **applied;	/* applied_list, bottom first */
	size_t napplied;
	struct sim_work work;
	char *crashed_op, *crashed_name; /* non-NULL: the host is dead */
	json_object *history;		/* array of arrays of names */
	json_object *actions;		/* array of {"op","name","ret","rc"} */
};

struct xhp_sim {
	char *dir;
	unsigned delay;
	struct xhp_sim_fault *faults;
	size_t nfaults;
	struct xhp_err last;
};

static void payload_free(struct sim_payload *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->file);
	for (size_t i = 0; i < p->nsyms; i++)
		free(p->new_syms[i]);
	free(p->new_syms);
	for (size_t i = 0; i < p->nexpect; i++)
		free(p->expect[i].func);
	free(p->expect);
	free(p->modinfo);
	free(p);
}

static void state_free(struct sim_state *s)
{
	for (size_t i = 0; i < s->np; i++)
		payload_free(s->p[i]);
	free(s->p);
	free(s->applied);
	free(s->work.name);
	free(s->crashed_op);
	free(s->crashed_name);
	json_object_put(s->history);
	json_object_put(s->actions);
	memset(s, 0, sizeof(*s));
}

/* A fresh hypervisor: what Xen looks like right after boot (§7.1). */
static int state_fresh(struct sim_state *s, const struct xhp_build_id *id,
		       unsigned long boot)
{
	memset(s, 0, sizeof(*s));
	s->build_id = *id;
	s->boot = boot;
	s->version = 1;
	s->next_file = 1;
	s->history = json_object_new_array();
	s->actions = json_object_new_array();
	return s->history && s->actions ? 0 : -ENOMEM;
}

static struct sim_payload *find_payload(const struct sim_state *s,
					const char *name)
{
	for (size_t i = 0; i < s->np; i++)
		if (strcmp(s->p[i]->name, name) == 0)
			return s->p[i];
	return NULL;
}

static struct sim_payload *applied_top(const struct sim_state *s)
{
	return s->napplied ? s->applied[s->napplied - 1] : NULL;
}

/* ---- hex ---------------------------------------------------------------- */

static char *hex_encode(const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *h = malloc(2 * n + 1);

	if (!h)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		h[2 * i] = digits[b[i] >> 4];
		h[2 * i + 1] = digits[b[i] & 15];
	}
	h[2 * n] = '\0';
	return h;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int hex_decode(const char *h, uint8_t **b, size_t *n)
{
	size_t len = strlen(h);
	uint8_t *out;

	if (len % 2)
		return -EINVAL;
	out = malloc(len / 2 + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_nibble(h[2 * i]), lo = hex_nibble(h[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(out);
			return -EINVAL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*b = out;
	*n = len / 2;
	return 0;
}

static json_object *jid(const struct xhp_build_id *id)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];

	return json_object_new_string(xhp_build_id_hex(id, hex, sizeof(hex)));
}

/* ======================================================================
 * state.json <-> struct sim_state
 * ====================================================================== */

/* A member of type t, or NULL when missing or of another type. */
static json_object *jget(json_object *o, const char *key, json_type t)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

static int jint(json_object *o, const char *key, int64_t min, int64_t max,
		int64_t *out)
{
	json_object *v = jget(o, key, json_type_int);

	if (!v)
		return -EBADMSG;
	*out = json_object_get_int64(v);
	return *out >= min && *out <= max ? 0 : -EBADMSG;
}

static int jstrdup(json_object *o, const char *key, char **out)
{
	json_object *v = jget(o, key, json_type_string);

	if (!v)
		return -EBADMSG;
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -ENOMEM;
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
	json_object *v = jget(o, key, json_type_string);

	if (!v || xhp_build_id_from_hex(id, json_object_get_string(v)) < 0)
		return -EBADMSG;
	return 0;
}

static int state_name_parse(const char *s)
{
	if (strcmp(s, "CHECKED") == 0)
		return XHP_STATE_CHECKED;
	if (strcmp(s, "APPLIED") == 0)
		return XHP_STATE_APPLIED;
	return -1;
}

static const char *state_str(int state)
{
	return state == XHP_STATE_APPLIED ? "APPLIED" : "CHECKED";
}

static int payload_from_json(json_object *o, struct sim_payload **out)
{
	struct sim_payload *p = calloc(1, sizeof(*p));
	json_object *syms, *exp, *v;
	char *st = NULL, *modinfo = NULL;
	int64_t i64;
	int r;

	if (!p)
		return -ENOMEM;
	if ((r = jstrdup(o, "name", &p->name)) < 0 ||
	    (r = jstrdup(o, "file", &p->file)) < 0 ||
	    (r = jstrdup(o, "state", &st)) < 0 ||
	    (r = jint(o, "rc", -4095, 0, &i64)) < 0)
		goto fail;
	p->rc = (int)i64;
	p->state = state_name_parse(st);
	if (p->state < 0 || strlen(p->name) > XHP_NAME_MAX ||
	    strstr(p->file, "..")) {
		r = -EBADMSG;
		goto fail;
	}
	if ((r = jbool(o, "reverted", &p->reverted)) < 0 ||
	    (r = jbool(o, "safe_to_reapply", &p->safe_to_reapply)) < 0 ||
	    (r = jbuild_id(o, "build_id", &p->id)) < 0 ||
	    (r = jbuild_id(o, "depends", &p->depends)) < 0 ||
	    (r = jbuild_id(o, "xen_depends", &p->xen_depends)) < 0 ||
	    (r = jint(o, "hooks_enabled", 0, UINT_MAX, &i64)) < 0)
		goto fail;
	p->hooks_enabled = (unsigned)i64;

	syms = jget(o, "new_syms", json_type_array);
	exp = jget(o, "expect", json_type_array);
	if (!syms || !exp) {
		r = -EBADMSG;
		goto fail;
	}
	p->nsyms = json_object_array_length(syms);
	p->new_syms = calloc(p->nsyms + 1, sizeof(char *));
	p->nexpect = json_object_array_length(exp);
	p->expect = calloc(p->nexpect + 1, sizeof(*p->expect));
	if (!p->new_syms || !p->expect) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < p->nsyms; i++) {
		v = json_object_array_get_idx(syms, i);
		if (!json_object_is_type(v, json_type_string)) {
			r = -EBADMSG;
			goto fail;
		}
		if (!(p->new_syms[i] = strdup(json_object_get_string(v)))) {
			r = -ENOMEM;
			goto fail;
		}
	}
	for (size_t i = 0; i < p->nexpect; i++) {
		struct sim_expect *e = &p->expect[i];

		v = json_object_array_get_idx(exp, i);
		if ((r = jstrdup(v, "func", &e->func)) < 0 ||
		    (r = jint(v, "len", 0, 31, &i64)) < 0)
			goto fail;
		e->len = (unsigned)i64;
		if ((r = jint(v, "rsv", 0, 3, &i64)) < 0)
			goto fail;
		e->rsv = (unsigned)i64;
		if ((r = jint(v, "old_size", 0, UINT32_MAX, &i64)) < 0)
			goto fail;
		e->old_size = (uint32_t)i64;
	}
	if ((r = jstrdup(o, "modinfo", &modinfo)) < 0 ||
	    (r = hex_decode(modinfo, &p->modinfo, &p->modinfo_len)) < 0) {
		r = r == -ENOMEM ? r : -EBADMSG;
		goto fail;
	}
	free(st);
	free(modinfo);
	*out = p;
	return 0;
fail:
	free(st);
	free(modinfo);
	payload_free(p);
	return r;
}

static int state_from_json(json_object *root, struct sim_state *s)
{
	json_object *arr, *v, *crashed, *pending;
	struct sim_payload *p;
	int64_t i64;
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = jint(root, "format", STATE_FORMAT, STATE_FORMAT, &i64)) < 0 ||
	    (r = jbuild_id(root, "build_id", &s->build_id)) < 0 ||
	    (r = jint(root, "boot", 1, INT64_MAX, &i64)) < 0)
		return r;
	s->boot = (unsigned long)i64;
	if ((r = jint(root, "version", 1, INT64_MAX, &i64)) < 0)
		return r;
	s->version = (unsigned long)i64;
	if ((r = jint(root, "next_file", 1, INT64_MAX, &i64)) < 0)
		return r;
	s->next_file = (unsigned long)i64;

	/* payload_list */
	arr = jget(root, "payloads", json_type_array);
	if (!arr)
		return -EBADMSG;
	s->p = calloc(json_object_array_length(arr) + 1, sizeof(*s->p));
	if (!s->p)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		r = payload_from_json(json_object_array_get_idx(arr, i), &s->p[i]);
		if (r < 0)
			return r;
		s->np++;
		if (find_payload(s, s->p[i]->name) != s->p[i])
			return -EBADMSG; /* duplicate name */
	}

	/* applied_list: names of APPLIED payloads, each once */
	arr = jget(root, "applied", json_type_array);
	if (!arr)
		return -EBADMSG;
	/* room for every payload: applied_push() never grows it */
	s->applied = calloc(s->np + 1, sizeof(*s->applied));
	if (!s->applied)
		return -ENOMEM;
	if (json_object_array_length(arr) > s->np)
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string))
			return -EBADMSG;
		p = find_payload(s, json_object_get_string(v));
		if (!p || p->state != XHP_STATE_APPLIED)
			return -EBADMSG;
		for (size_t j = 0; j < s->napplied; j++)
			if (s->applied[j] == p)
				return -EBADMSG;
		s->applied[s->napplied++] = p;
	}
	for (size_t i = 0, n = 0; i < s->np; i++)
		if (s->p[i]->state == XHP_STATE_APPLIED && ++n > s->napplied)
			return -EBADMSG;

	/* the work slot */
	if (!json_object_object_get_ex(root, "pending", &pending))
		return -EBADMSG;
	if (pending) {
		char *op = NULL;

		s->work.active = true;
		if ((r = jstrdup(pending, "op", &op)) < 0)
			return r;
		s->work.op = op_from_name(op);
		free(op);
		if (!op_is_async(s->work.op))
			return -EBADMSG;
		if ((r = jstrdup(pending, "name", &s->work.name)) < 0)
			return r;
		/* what work_complete() relies on: REVERT acts on the top of
		 * the stack, APPLY and REPLACE on a CHECKED payload */
		p = find_payload(s, s->work.name);
		if (!p || (s->work.op == XHP_ACTION_REVERT ? p != applied_top(s) :
			   p->state != XHP_STATE_CHECKED))
			return -EBADMSG;
		if ((r = jint(pending, "remaining", 0, UINT_MAX, &i64)) < 0)
			return r;
		s->work.remaining = (unsigned)i64;
		if ((r = jint(pending, "result", -4095, 0, &i64)) < 0)
			return r;
		s->work.result = (int)i64;
		if ((r = jint(pending, "action", 0, INT64_MAX, &i64)) < 0)
			return r;
		s->work.action = (size_t)i64;
	}

	if (!json_object_object_get_ex(root, "crashed", &crashed))
		return -EBADMSG;
	if (crashed && ((r = jstrdup(crashed, "op", &s->crashed_op)) < 0 ||
			(r = jstrdup(crashed, "name", &s->crashed_name)) < 0))
		return r;

	s->history = json_object_get(jget(root, "history", json_type_array));
	s->actions = json_object_get(jget(root, "actions", json_type_array));
	if (!s->history || !s->actions)
		return -EBADMSG;
	if (s->work.active &&
	    s->work.action >= json_object_array_length(s->actions))
		return -EBADMSG;
	return 0;
}

static json_object *names_json(struct sim_payload *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]->name));
	return a;
}

static json_object *payload_to_json(const struct sim_payload *p)
{
	json_object *o = json_object_new_object(), *syms, *exp;
	char *modinfo = hex_encode(p->modinfo, p->modinfo_len);

	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "file", json_object_new_string(p->file));
	json_object_object_add(o, "state", json_object_new_string(state_str(p->state)));
	json_object_object_add(o, "rc", json_object_new_int(p->rc));
	json_object_object_add(o, "reverted", json_object_new_boolean(p->reverted));
	json_object_object_add(o, "safe_to_reapply",
			       json_object_new_boolean(p->safe_to_reapply));
	json_object_object_add(o, "build_id", jid(&p->id));
	json_object_object_add(o, "depends", jid(&p->depends));
	json_object_object_add(o, "xen_depends", jid(&p->xen_depends));
	json_object_object_add(o, "hooks_enabled",
			       json_object_new_int64(p->hooks_enabled));
	syms = json_object_new_array();
	for (size_t i = 0; i < p->nsyms; i++)
		json_object_array_add(syms, json_object_new_string(p->new_syms[i]));
	json_object_object_add(o, "new_syms", syms);
	exp = json_object_new_array();
	for (size_t i = 0; i < p->nexpect; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "func", json_object_new_string(p->expect[i].func));
		json_object_object_add(e, "len", json_object_new_int((int)p->expect[i].len));
		json_object_object_add(e, "rsv", json_object_new_int((int)p->expect[i].rsv));
		json_object_object_add(e, "old_size",
				       json_object_new_int64(p->expect[i].old_size));
		json_object_array_add(exp, e);
	}
	json_object_object_add(o, "expect", exp);
	json_object_object_add(o, "modinfo", json_object_new_string(modinfo ? modinfo : ""));
	free(modinfo);
	return o;
}

static json_object *state_to_json(const struct sim_state *s)
{
	json_object *root = json_object_new_object(), *arr, *w;

	json_object_object_add(root, "format", json_object_new_int(STATE_FORMAT));
	json_object_object_add(root, "build_id", jid(&s->build_id));
	json_object_object_add(root, "boot", json_object_new_int64((int64_t)s->boot));
	json_object_object_add(root, "version", json_object_new_int64((int64_t)s->version));
	json_object_object_add(root, "next_file",
			       json_object_new_int64((int64_t)s->next_file));
	if (s->crashed_op) {
		w = json_object_new_object();
		json_object_object_add(w, "op", json_object_new_string(s->crashed_op));
		json_object_object_add(w, "name", json_object_new_string(s->crashed_name));
		json_object_object_add(root, "crashed", w);
	} else {
		json_object_object_add(root, "crashed", NULL);
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < s->np; i++)
		json_object_array_add(arr, payload_to_json(s->p[i]));
	json_object_object_add(root, "payloads", arr);
	json_object_object_add(root, "applied", names_json(s->applied, s->napplied));
	if (s->work.active) {
		w = json_object_new_object();
		json_object_object_add(w, "op", json_object_new_string(xhp_sim_op_name(s->work.op)));
		json_object_object_add(w, "name", json_object_new_string(s->work.name));
		json_object_object_add(w, "remaining", json_object_new_int64(s->work.remaining));
		json_object_object_add(w, "result", json_object_new_int(s->work.result));
		json_object_object_add(w, "action", json_object_new_int64((int64_t)s->work.action));
		json_object_object_add(root, "pending", w);
	} else {
		json_object_object_add(root, "pending", NULL);
	}
	json_object_object_add(root, "history", json_object_get(s->history));
	json_object_object_add(root, "actions", json_object_get(s->actions));
	return root;
}

static int state_load(const char *dir, struct sim_state *s, struct xhp_err *err)
{
	char *path = path_join(dir, STATE_FILE);
	char *data = NULL;
	size_t len;
	json_object *root = NULL;
	enum json_tokener_error jerr;
	int r;

	memset(s, 0, sizeof(*s));
	if (!path)
		return -ENOMEM;
	r = xhp_read_file(path, &data, &len, STATE_MAX_SIZE);
	if (r == -ENOENT) {
		xhp_err_set(err, "%s: not an initialised simulated hypervisor "
			    "(run: xen-hotpatch-sim %s init --build-id HEX)", dir, dir);
		r = -ENODEV;
		goto out;
	}
	if (r < 0) {
		xhp_err_set(err, "%s: %s", path, strerror(-r));
		goto out;
	}
	root = json_tokener_parse_verbose(data, &jerr);
	r = root ? state_from_json(root, s) : -EBADMSG;
	if (r < 0) {
		state_free(s);
		xhp_err_set(err, "%s: %s", path, r == -ENOMEM ? strerror(ENOMEM) :
			    "not a valid simulator state (re-run init)");
	}
out:
	json_object_put(root);
	free(data);
	free(path);
	return r;
}

static int state_save(const char *dir, const struct sim_state *s,
		      struct xhp_err *err)
{
	json_object *root = state_to_json(s);
	const char *txt = json_object_to_json_string_ext(root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *buf = NULL;
	int r;

	if (!txt || asprintf(&buf, "%s\n", txt) < 0) {
		r = -ENOMEM;
	} else {
		r = write_atomic(dir, STATE_FILE, buf, strlen(buf));
		if (r < 0)
			xhp_err_set(err, "%s/%s: %s", dir, STATE_FILE, strerror(-r));
	}
	free(buf);
	json_object_put(root);
	return r;
}

/* ======================================================================
 * One call: lock, load, act, save, unlock
 * ====================================================================== */

struct sim_call {
	int lock_fd;
	struct sim_state s;
	bool dirty;		/* s must be written back */
};

static int lock_dir(const char *dir, bool create, struct xhp_err *err)
{
	char *path = path_join(dir, LOCK_FILE);
	int fd;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT || e == ENOTDIR) {
			xhp_err_set(err, "%s: not an initialised simulated hypervisor "
				    "(run: xen-hotpatch-sim %s init --build-id HEX)",
				    dir, dir);
			e = ENODEV;
		} else {
			xhp_err_set(err, "%s: %s", path, strerror(e));
		}
		free(path);
		return -e;
	}
	while (flock(fd, LOCK_EX) < 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		xhp_err_set(err, "%s: flock: %s", path, strerror(e));
		close(fd);
		free(path);
		return -e;
	}
	free(path);
	return fd;
}

/* Start a call. A crashed host answers nothing (-EHOSTDOWN) unless
 * allow_crashed (show). */
static int call_begin(struct xhp_sim *sim, struct sim_call *c, bool allow_crashed)
{
	int r;

	memset(c, 0, sizeof(*c));
	sim->last.msg[0] = '\0';
	c->lock_fd = lock_dir(sim->dir, false, &sim->last);
	if (c->lock_fd < 0)
		return c->lock_fd;
	r = state_load(sim->dir, &c->s, &sim->last);
	if (r == 0 && c->s.crashed_op && !allow_crashed) {
		xhp_err_set(&sim->last, "%s: the simulated host crashed during %s of "
			    "%s; run: xen-hotpatch-sim %s reboot", sim->dir,
			    c->s.crashed_op, c->s.crashed_name, sim->dir);
		state_free(&c->s);
		r = -EHOSTDOWN;
	}
	if (r < 0) {
		close(c->lock_fd);
		return r;
	}
	return 0;
}

/* Finish a call: save if needed, unlock. Returns ret, or the save error. */
static int call_end(struct xhp_sim *sim, struct sim_call *c, int ret)
{
	if (c->dirty) {
		int r = state_save(sim->dir, &c->s, &sim->last);

		if (r < 0)
			ret = r;
	}
	state_free(&c->s);
	close(c->lock_fd); /* releases the flock */
	return ret;
}

/* ======================================================================
 * History and actions: the record tests read
 * ====================================================================== */

/* Append the applied stack, bottom first. */
static void log_history(struct sim_state *s)
{
	json_object_array_add(s->history, names_json(s->applied, s->napplied));
}

/* Append {"op","name","ret","rc"}; returns its index. */
static size_t log_action(struct sim_state *s, const char *op, const char *name,
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

/* ======================================================================
 * The rules
 * ====================================================================== */

static const struct xhp_sim_fault *fault_find(const struct xhp_sim *sim, int op,
					      const char *name)
{
	for (size_t i = 0; i < sim->nfaults; i++) {
		const struct xhp_sim_fault *f = &sim->faults[i];

		if (f->op == op && (strcmp(f->name, "*") == 0 ||
				    (name && strcmp(f->name, name) == 0)))
			return f;
	}
	return NULL;
}

/* Mark the host dead; the caller saves the state, unlocks, then dies. */
static int host_crash(struct sim_state *s, int op, const char *name)
{
	s->crashed_op = strdup(xhp_sim_op_name(op));
	s->crashed_name = strdup(name);
	return s->crashed_op && s->crashed_name ? 0 : -ENOMEM;
}

static void die_now(void)
{
	/* The host died: so does everything running on it, this process too. */
	kill(getpid(), SIGKILL);
	_exit(137); /* not reached */
}

/* Xen's name rules (§3.1 get_name): 1..128 bytes including the NUL, so
 * 0..127 characters. An empty name is accepted by Xen. */
static int name_check(const char *name)
{
	return name && strlen(name) <= XHP_NAME_MAX ? 0 : -EINVAL;
}

static bool vetoing(const struct sim_payload *p)
{
	return p->hooks_enabled & XHP_HOOKS_VETOING;
}

/* livepatch_check_expectations (§1.6), for each function with an enabled
 * expectation, in order. old_addr = 0 (-EFAULT) cannot happen after upload
 * and len > 31 cannot be encoded. The live bytes are not simulated: they
 * are taken to match. */
static int check_expectations(const struct sim_payload *p)
{
	for (size_t i = 0; i < p->nexpect; i++) {
		if (p->expect[i].rsv)
			return -EINVAL;
		if (p->expect[i].old_size < p->expect[i].len)
			return -ERANGE;
	}
	return 0;
}

static void applied_push(struct sim_state *s, struct sim_payload *p)
{
	/* applied has room for every payload: allocated np + 1 at load, and
	 * only loaded payloads are pushed. */
	s->applied[s->napplied++] = p;
	p->state = XHP_STATE_APPLIED;
}

/* revert_payload_tail (§3.3): off the stack, CHECKED, reverted forever. */
static void applied_pop(struct sim_state *s, struct sim_payload *p)
{
	s->napplied--;
	p->state = XHP_STATE_CHECKED;
	p->reverted = true;
}

/*
 * livepatch_do_action (§3.3, §6): the scheduled work runs. The built-in
 * apply and revert always succeed here; a failure of the work is injected
 * (work.result != 0: rendezvous timeout, failing hook...) and changes
 * nothing but the rc.
 */
static void work_complete(struct sim_state *s)
{
	struct sim_payload *p = find_payload(s, s->work.name);
	int rc = s->work.result;

	if (rc == 0) {
		switch (s->work.op) {
		case XHP_ACTION_APPLY:
			applied_push(s, p);
			break;
		case XHP_ACTION_REVERT:
			applied_pop(s, p);
			break;
		case XHP_ACTION_REPLACE:
			/* §6 step 1: revert the whole stack, top first; each
			 * reverted payload stays loaded, CHECKED, rc 0. */
			while (s->napplied) {
				struct sim_payload *o = applied_top(s);

				applied_pop(s, o);
				o->rc = 0;
			}
			/* §6 step 2: expectations against the now unpatched
			 * code; failing leaves NOTHING applied. */
			rc = check_expectations(p);
			/* §6 steps 3-4: apply; the replacement is the only
			 * entry of the stack. */
			if (rc == 0)
				applied_push(s, p);
			break;
		}
	}
	p->rc = rc;
	json_object_object_add(json_object_array_get_idx(s->actions, s->work.action),
			       "rc", json_object_new_int(rc));
	log_history(s);
	free(s->work.name);
	memset(&s->work, 0, sizeof(s->work));
}

/* Time passes: one observation of the pending work. Returns true when the
 * state changed. Nothing completes on a crashed host. */
static bool observe(struct sim_state *s)
{
	if (!s->work.active || s->crashed_op)
		return false;
	if (s->work.remaining > 0)
		s->work.remaining--;
	else
		work_complete(s);
	return true;
}

/* ---- lifetime ------------------------------------------------------------ */

static int make_fresh(const char *dir, const struct xhp_build_id *id,
		      unsigned long boot, struct xhp_err *err)
{
	struct sim_state s;
	int r = clear_payload_dir(dir);

	if (r < 0) {
		xhp_err_set(err, "%s/%s: %s", dir, PAYLOAD_DIR, strerror(-r));
		return r;
	}
	r = state_fresh(&s, id, boot);
	if (r == 0)
		r = state_save(dir, &s, err);
	state_free(&s);
	return r;
}

int xhp_sim_init(const char *dir, const struct xhp_build_id *id,
		 struct xhp_err *err)
{
	struct stat st;
	int fd, r;

	if (!id || id->len == 0) {
		xhp_err_set(err, "%s: a build-id is required", dir);
		return -EINVAL;
	}
	r = xhp_mkdir_p(dir, 0755);
	if (r == 0 && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r < 0) {
		xhp_err_set(err, "%s: %s", dir, strerror(-r));
		return r;
	}
	fd = lock_dir(dir, true, err);
	if (fd < 0)
		return fd;
	r = make_fresh(dir, id, 1, err);
	close(fd);
	return r;
}

int xhp_sim_reboot(const char *dir, const struct xhp_build_id *id,
		   struct xhp_err *err)
{
	struct sim_state old;
	int fd, r;

	fd = lock_dir(dir, false, err);
	if (fd < 0)
		return fd;
	/* Xen forgets everything (§7.1); only the build-id (unless a new Xen
	 * was booted) and the boot counter carry over. */
	r = state_load(dir, &old, err);
	if (r == 0)
		r = make_fresh(dir, id ? id : &old.build_id, old.boot + 1, err);
	state_free(&old);
	close(fd);
	return r;
}

int xhp_sim_set_faults(struct xhp_sim *sim, const char *spec,
		       struct xhp_err *err)
{
	struct xhp_sim_fault *f;
	size_t n;
	int r = xhp_sim_faults_parse(spec, &f, &n, err);

	if (r < 0)
		return r;
	free(sim->faults);
	sim->faults = f;
	sim->nfaults = n;
	return 0;
}

void xhp_sim_set_delay(struct xhp_sim *sim, unsigned delay)
{
	sim->delay = delay;
}

const char *xhp_sim_last_error(const struct xhp_sim *sim)
{
	return sim->last.msg;
}

int xhp_sim_open(const char *dir, struct xhp_sim **out, struct xhp_err *err)
{
	struct xhp_sim *sim;
	const char *delay = getenv(XHP_SIM_ENV_DELAY);
	char *path;
	struct stat st;
	int r;

	*out = NULL;
	if (!dir || !*dir) {
		xhp_err_set(err, "simulated hypervisor: no directory given (sim:DIR)");
		return -EINVAL;
	}
	path = path_join(dir, STATE_FILE);
	if (!path)
		return -ENOMEM;
	r = stat(path, &st) < 0 ? -errno : 0;
	free(path);
	if (r < 0) {
		if (r == -ENOENT || r == -ENOTDIR)
			xhp_err_set(err, "%s: %s", dir, stat(dir, &st) < 0 ?
				    "no such simulated hypervisor directory" :
				    "not an initialised simulated hypervisor (run: "
				    "xen-hotpatch-sim DIR init --build-id HEX)");
		else
			xhp_err_set(err, "%s: %s", dir, strerror(-r));
		return -ENODEV;
	}

	sim = calloc(1, sizeof(*sim));
	if (!sim || !(sim->dir = strdup(dir))) {
		free(sim);
		return -ENOMEM;
	}
	sim->delay = XHP_SIM_DEFAULT_DELAY;
	if (delay && *delay) {
		char *end;
		unsigned long v = strtoul(delay, &end, 10);

		if (*end || delay[0] == '-' || v > 1000000) {
			xhp_err_set(err, "%s: '%s': expected a number of observations",
				    XHP_SIM_ENV_DELAY, delay);
			xhp_sim_close(sim);
			return -EINVAL;
		}
		sim->delay = (unsigned)v;
	}
	r = xhp_sim_set_faults(sim, getenv(XHP_SIM_ENV_FAIL), err);
	if (r < 0) {
		xhp_sim_close(sim);
		return r;
	}
	*out = sim;
	return 0;
}

void xhp_sim_close(struct xhp_sim *sim)
{
	if (!sim)
		return;
	free(sim->faults);
	free(sim->dir);
	free(sim);
}

/* ---- queries --------------------------------------------------------------- */

int xhp_sim_build_id(struct xhp_sim *sim, struct xhp_build_id *id)
{
	struct sim_call c;
	int r = call_begin(sim, &c, false);

	if (r < 0)
		return r;
	*id = c.s.build_id;
	return call_end(sim, &c, 0);
}

int xhp_sim_boot(struct xhp_sim *sim, unsigned long *boot)
{
	struct sim_call c;
	int r = call_begin(sim, &c, false);

	if (r < 0)
		return r;
	*boot = c.s.boot;
	return call_end(sim, &c, 0);
}

/* GET (§3.1): synchronous, -ENOENT for an unknown name. */
int xhp_sim_get(struct xhp_sim *sim, const char *name, struct xhp_status *st)
{
	struct sim_call c;
	struct sim_payload *p;
	int r;

	if (name_check(name) < 0)
		return -EINVAL;
	r = call_begin(sim, &c, false);
	if (r < 0)
		return r;
	c.dirty = observe(&c.s);
	p = find_payload(&c.s, name);
	if (p) {
		st->state = p->state;
		st->rc = p->rc;
	}
	return call_end(sim, &c, p ? 0 : -ENOENT);
}

/* LIST (§3.4): every payload in upload order, raw .modinfo as metadata. */
int xhp_sim_list(struct xhp_sim *sim, struct xhp_loaded **out, size_t *n)
{
	struct sim_call c;
	struct xhp_loaded *v;
	int r = call_begin(sim, &c, false);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	c.dirty = observe(&c.s);
	v = calloc(c.s.np + 1, sizeof(*v));
	if (!v)
		return call_end(sim, &c, -ENOMEM);
	for (size_t i = 0; i < c.s.np; i++) {
		const struct sim_payload *p = c.s.p[i];

		snprintf(v[i].name, sizeof(v[i].name), "%s", p->name);
		v[i].st.state = p->state;
		v[i].st.rc = p->rc;
		if (p->modinfo_len) {
			v[i].metadata = malloc(p->modinfo_len);
			if (!v[i].metadata) {
				xhp_loaded_free(v, i);
				return call_end(sim, &c, -ENOMEM);
			}
			memcpy(v[i].metadata, p->modinfo, p->modinfo_len);
			v[i].metadata_len = p->modinfo_len;
		}
	}
	*out = v;
	*n = c.s.np;
	return call_end(sim, &c, 0);
}

/* ---- UPLOAD ---------------------------------------------------------------- */

static int payload_from_parse(const struct xhp_payload *pl, const char *name,
			      char *file, struct sim_payload **out)
{
	struct sim_payload *p = calloc(1, sizeof(*p));
	size_t ne = 0;

	if (!p) {
		free(file);
		return -ENOMEM;
	}
	p->file = file;
	p->name = strdup(name);
	p->state = XHP_STATE_CHECKED;
	p->rc = 0;
	p->safe_to_reapply = pl->safe_to_reapply;
	p->id = pl->id;
	p->depends = pl->depends;
	p->xen_depends = pl->xen_depends;
	p->hooks_enabled = pl->hooks_enabled;
	p->new_syms = calloc(pl->nnew_syms + 1, sizeof(char *));
	p->expect = calloc(pl->nfuncs + 1, sizeof(*p->expect));
	p->modinfo = malloc(pl->modinfo_raw_len + 1);
	if (!p->name || !p->new_syms || !p->expect || !p->modinfo)
		goto nomem;
	for (size_t i = 0; i < pl->nnew_syms; i++) {
		if (!(p->new_syms[i] = strdup(pl->new_syms[i])))
			goto nomem;
		p->nsyms++;
	}
	for (size_t i = 0; i < pl->nfuncs; i++) {
		const struct xhp_func *f = &pl->funcs[i];

		if (!f->expect_enabled)
			continue;
		p->expect[ne].func = strdup(f->name ? f->name : "");
		if (!p->expect[ne].func)
			goto nomem;
		p->expect[ne].len = f->expect_len;
		p->expect[ne].rsv = f->expect_rsv;
		p->expect[ne].old_size = f->old_size;
		p->nexpect = ++ne;
	}
	if (pl->modinfo_raw_len)
		memcpy(p->modinfo, pl->modinfo_raw, pl->modinfo_raw_len);
	p->modinfo_len = pl->modinfo_raw_len;
	*out = p;
	return 0;
nomem:
	payload_free(p);
	return -ENOMEM;
}

/* A new symbol of pl already defined as a new symbol by a loaded payload
 * (§1.7), any state. Returns the clashing name or NULL. */
static const char *new_symbol_clash(const struct sim_state *s,
				    const struct xhp_payload *pl,
				    const struct sim_payload **owner)
{
	for (size_t i = 0; i < pl->nnew_syms; i++)
		for (size_t j = 0; j < s->np; j++)
			for (size_t k = 0; k < s->p[j]->nsyms; k++)
				if (strcmp(pl->new_syms[i], s->p[j]->new_syms[k]) == 0) {
					*owner = s->p[j];
					return pl->new_syms[i];
				}
	return NULL;
}

/* livepatch_upload (§1.8): the checks in Xen's order. */
static int do_upload(struct xhp_sim *sim, struct sim_state *s, const char *name,
		     const void *buf, size_t len, bool *crash)
{
	const struct xhp_sim_fault *f = fault_find(sim, XHP_SIM_OP_UPLOAD, name);
	struct xhp_payload pl;
	struct sim_payload *p, **np, **na;
	const struct sim_payload *owner = NULL;
	const char *sym;
	char *file = NULL;
	char hex[XHP_BUILD_ID_HEX_SIZE];
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
	if (find_payload(s, name))
		return -EEXIST;
	/* 3-8. ELF, sections, notes, funcs, hooks (the payload reader) */
	r = xhp_payload_parse(buf, len, &pl, &sim->last);
	if (r < 0)
		return r;
	/* 8. duplicate build-id among loaded payloads, whatever their state */
	for (size_t i = 0; i < s->np; i++)
		if (xhp_build_id_eq(&s->p[i]->id, &pl.id)) {
			xhp_err_set(&sim->last, "build-id %s is already loaded as %s",
				    xhp_build_id_hex(&pl.id, hex, sizeof(hex)),
				    s->p[i]->name);
			r = -EEXIST;
			goto out;
		}
	/* 9. xen_depends is the running hypervisor's build-id */
	if (!xhp_build_id_eq(&pl.xen_depends, &s->build_id)) {
		xhp_err_set(&sim->last, ".livepatch.xen_depends %s is not this "
			    "hypervisor's build-id",
			    xhp_build_id_hex(&pl.xen_depends, hex, sizeof(hex)));
		r = -EINVAL;
		goto out;
	}
	/* 10. new symbols are unique among loaded payloads (Xen's own symbol
	 * table is not simulated) */
	sym = new_symbol_clash(s, &pl, &owner);
	if (sym) {
		xhp_err_set(&sim->last, "new symbol %s is already defined by %s",
			    sym, owner->name);
		r = -EEXIST;
		goto out;
	}
	if (f && f->kind == XHP_SIM_FAULT_CRASH) {
		r = host_crash(s, XHP_SIM_OP_UPLOAD, name);
		*crash = r == 0;
		goto out;
	}
	/* 12. loaded: CHECKED, rc 0, at the end of payload_list, version++ */
	if (asprintf(&file, "%s/%lu", PAYLOAD_DIR, s->next_file) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = write_atomic(sim->dir, file, buf, len);
	if (r < 0) {
		xhp_err_set(&sim->last, "%s/%s: %s", sim->dir, file, strerror(-r));
		free(file);
		goto out;
	}
	r = payload_from_parse(&pl, name, file, &p);
	if (r < 0)
		goto out;
	np = realloc(s->p, (s->np + 2) * sizeof(*np));
	if (np)
		s->p = np;
	na = realloc(s->applied, (s->np + 2) * sizeof(*na));
	if (na)
		s->applied = na;
	if (!np || !na) {
		payload_free(p);
		r = -ENOMEM;
		goto out;
	}
	s->p[s->np++] = p;
	s->next_file++;
	s->version++;
out:
	xhp_payload_free(&pl);
	return r;
}

int xhp_sim_upload(struct xhp_sim *sim, const char *name, const void *buf,
		   size_t len)
{
	struct sim_call c;
	bool crash = false;
	int r = call_begin(sim, &c, false);

	if (r < 0)
		return r;
	r = do_upload(sim, &c.s, name, buf, len, &crash);
	/* uploads are recorded in actions (not history: the stack is the same) */
	log_action(&c.s, "upload", name, crash ? 0 : r, crash ? -EAGAIN : r);
	c.dirty = true;
	r = call_end(sim, &c, r);
	if (crash)
		die_now();
	return r;
}

/* ---- ACTION ---------------------------------------------------------------- */

/* schedule_work (§3.2): rc is set to -EAGAIN before the slot is tried, and
 * stays so when another action holds the slot (the "Quirk"). */
static int schedule(struct xhp_sim *sim, struct sim_state *s,
		    struct sim_payload *p, int op, bool *scheduled, bool *crash)
{
	const struct xhp_sim_fault *f = fault_find(sim, op, p->name);

	p->rc = -EAGAIN;
	if (s->work.active)
		return -EBUSY;
	s->work.active = true;
	s->work.op = op;
	s->work.name = strdup(p->name);
	if (!s->work.name)
		return -ENOMEM;
	s->work.remaining = sim->delay;
	s->work.result = f && f->kind == XHP_SIM_FAULT_ASYNC ? -f->err : 0;
	*scheduled = true;
	if (f && f->kind == XHP_SIM_FAULT_CRASH) {
		/* The host dies while the work runs: it stays pending. */
		int r = host_crash(s, op, p->name);

		*crash = r == 0;
		return r;
	}
	return 0;
}

/* livepatch_action (§3.2): the checks in Xen's order. */
static int do_action(struct xhp_sim *sim, struct sim_state *s, const char *name,
		     int op, uint32_t flags, bool *scheduled, bool *crash)
{
	const struct xhp_sim_fault *f = op_is_async(op) || op == XHP_ACTION_UNLOAD ?
					fault_find(sim, op, name) : NULL;
	struct sim_payload *p, *top;
	const struct xhp_build_id *want;
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	if (f && f->kind == XHP_SIM_FAULT_SYNC) {
		xhp_err_set(&sim->last, "injected by %s", XHP_SIM_ENV_FAIL);
		return -f->err;
	}
	/* 2. name; 3. unknown name */
	if (name_check(name) < 0)
		return -EINVAL;
	p = find_payload(s, name);
	if (!p)
		return -ENOENT;
	/* 4. this payload's work is scheduled and not finished */
	if (s->work.active && strcmp(s->work.name, name) == 0)
		return -EBUSY;

	switch (op) {
	case XHP_ACTION_UNLOAD:
		/* Only CHECKED; freed at once, no dependency check (§2). */
		if (p->state != XHP_STATE_CHECKED)
			return -EINVAL;
		if (f && f->kind == XHP_SIM_FAULT_CRASH) {
			int r = host_crash(s, op, name);

			*crash = r == 0;
			return r;
		}
		for (i = 0; s->p[i] != p; i++)
			;
		memmove(&s->p[i], &s->p[i + 1], (s->np - i - 1) * sizeof(*s->p));
		s->np--;
		s->version++;
		{
			char *path = path_join(sim->dir, p->file);

			if (path)
				unlink(path); /* a leftover file is harmless */
			free(path);
		}
		payload_free(p);
		return 0;

	case XHP_ACTION_REVERT:
		/* CHECKED: silent success, nothing changes (§0.7, §3.2). */
		if (p->state != XHP_STATE_APPLIED)
			return 0;
		/* Only the top of the applied stack (§2). */
		top = applied_top(s);
		if (top != p) {
			xhp_err_set(&sim->last, "%s: can't revert: top is %s",
				    name, top->name);
			return -EBUSY;
		}
		/* The pre-revert hook, if any, is simulated as returning 0. */
		return schedule(sim, s, p, op, scheduled, crash);

	case XHP_ACTION_APPLY:
		/* APPLIED: silent success (§0.7). */
		if (p->state != XHP_STATE_CHECKED)
			return 0;
		/* Reverted with .data/.bss: refused, yet the sysctl
		 * succeeds; only the rc tells (§3.2, §7.7). */
		if (p->reverted && !p->safe_to_reapply) {
			p->rc = -EINVAL;
			return 0;
		}
		/* depends == the top of the applied stack, or the
		 * hypervisor when nothing is applied, unless NODEPS (§2). */
		if (!(flags & XHP_ACTION_APPLY_NODEPS)) {
			top = applied_top(s);
			want = top ? &top->id : &s->build_id;
			if (!xhp_build_id_eq(&p->depends, want)) {
				xhp_err_set(&sim->last, "%s: .livepatch.depends %s is "
					    "not the build-id of %s", name,
					    xhp_build_id_hex(&p->depends, hex, sizeof(hex)),
					    top ? top->name : "the hypervisor");
				return -EINVAL;
			}
		}
		{
			int r = check_expectations(p);

			if (r < 0)
				return r;
		}
		/* The pre-apply hook, if any, is simulated as returning 0. */
		return schedule(sim, s, p, op, scheduled, crash);

	case XHP_ACTION_REPLACE:
		if (p->state != XHP_STATE_CHECKED)
			return 0;
		/* depends must be the hypervisor; flags are ignored (§6). */
		if (!xhp_build_id_eq(&p->depends, &s->build_id)) {
			xhp_err_set(&sim->last, "%s: .livepatch.depends is not the "
				    "hypervisor's build-id", name);
			return -EINVAL;
		}
		/* No vetoing hooks on it nor on anything applied (§5, §6). */
		if (vetoing(p))
			return -EOPNOTSUPP;
		for (i = 0; i < s->napplied; i++)
			if (vetoing(s->applied[i])) {
				xhp_err_set(&sim->last, "%s has pre/post hooks",
					    s->applied[i]->name);
				return -EOPNOTSUPP;
			}
		/* reverted/safe_to_reapply is not checked for REPLACE (§6). */
		return schedule(sim, s, p, op, scheduled, crash);

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

	/* The rendezvous is not simulated; a timeout is injected instead
	 * (":async" EBUSY). Unknown flag bits are ignored, as Xen does. */
	(void)timeout_ns;
	r = call_begin(sim, &c, false);
	if (r < 0)
		return r;
	observe(&c.s);
	r = do_action(sim, &c.s, name, action, flags, &scheduled, &crash);

	/* Record the attempt: ret, and the payload's rc (final for
	 * synchronous outcomes, -EAGAIN until the work completes). */
	p = name ? find_payload(&c.s, name) : NULL;
	idx = log_action(&c.s, action_name(action), name, r, p ? p->rc : r);
	if (scheduled)
		c.s.work.action = idx;
	log_history(&c.s);
	c.dirty = true;
	r = call_end(sim, &c, r);
	if (crash)
		die_now();
	return r;
}

/* ---- show ------------------------------------------------------------------ */

static char *show_json(const struct sim_state *s)
{
	json_object *root = json_object_new_object(), *loaded, *w;
	const char *txt;
	char *out = NULL;

	json_object_object_add(root, "build_id", jid(&s->build_id));
	json_object_object_add(root, "boot", json_object_new_int64((int64_t)s->boot));
	json_object_object_add(root, "applied", names_json(s->applied, s->napplied));
	loaded = json_object_new_array();
	for (size_t i = 0; i < s->np; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(s->p[i]->name));
		json_object_object_add(o, "state",
				       json_object_new_string(state_str(s->p[i]->state)));
		json_object_object_add(o, "rc", json_object_new_int(s->p[i]->rc));
		json_object_array_add(loaded, o);
	}
	json_object_object_add(root, "loaded", loaded);
	json_object_object_add(root, "history", json_object_get(s->history));
	json_object_object_add(root, "actions", json_object_get(s->actions));
	if (s->work.active) {
		w = json_object_new_object();
		json_object_object_add(w, "op", json_object_new_string(xhp_sim_op_name(s->work.op)));
		json_object_object_add(w, "name", json_object_new_string(s->work.name));
		json_object_object_add(root, "pending", w);
	} else {
		json_object_object_add(root, "pending", NULL);
	}
	txt = json_object_to_json_string_ext(root, JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!txt || asprintf(&out, "%s\n", txt) < 0)
		out = NULL;
	json_object_put(root);
	return out;
}

static void rc_text(char *buf, size_t sz, int rc)
{
	const char *n = xhp_errno_name(rc);

	if (rc == 0 || strcmp(n, "E?") == 0)
		snprintf(buf, sz, "%d", rc);
	else
		snprintf(buf, sz, "%d (%s)", rc, n);
}

static char *show_text(const char *dir, const struct sim_state *s)
{
	char *out = NULL, rc[48], hex[XHP_BUILD_ID_HEX_SIZE];
	size_t sz = 0;
	FILE *f = open_memstream(&out, &sz);

	if (!f)
		return NULL;
	fprintf(f, "simulated hypervisor %s\n", dir);
	fprintf(f, "  build-id  %s\n", xhp_build_id_hex(&s->build_id, hex, sizeof(hex)));
	fprintf(f, "  boot      %lu\n", s->boot);
	fprintf(f, "  applied  ");
	if (!s->napplied)
		fprintf(f, " (nothing)");
	for (size_t i = 0; i < s->napplied; i++)
		fprintf(f, " %s%s", i ? "<- " : "", s->applied[i]->name);
	fprintf(f, "%s\n", s->napplied > 1 ? "   (bottom <- top)" : "");
	if (s->work.active)
		fprintf(f, "  pending   %s %s\n", xhp_sim_op_name(s->work.op),
			s->work.name);
	else
		fprintf(f, "  pending   none\n");
	if (s->crashed_op)
		fprintf(f, "  host      CRASHED during %s of %s: run xen-hotpatch-sim "
			"%s reboot\n", s->crashed_op, s->crashed_name, dir);
	fprintf(f, "\n  %-40s %-8s %s\n", "NAME", "STATE", "RC");
	if (!s->np)
		fprintf(f, "  (no payload loaded)\n");
	for (size_t i = 0; i < s->np; i++) {
		rc_text(rc, sizeof(rc), s->p[i]->rc);
		fprintf(f, "  %-40s %-8s %s\n", s->p[i]->name,
			state_str(s->p[i]->state), rc);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int xhp_sim_show(struct xhp_sim *sim, bool json, char **out)
{
	struct sim_call c;
	int r = call_begin(sim, &c, true);

	*out = NULL;
	if (r < 0)
		return r;
	c.dirty = observe(&c.s);
	*out = json ? show_json(&c.s) : show_text(sim->dir, &c.s);
	return call_end(sim, &c, *out ? 0 : -ENOMEM);
}
