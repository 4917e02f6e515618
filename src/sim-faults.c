// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim-faults.c: failure injection for the simulated hypervisor
 * (XEN_HOTPATCH_SIM_FAIL, see sim.h), and the simulated host's death.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sim-int.h"

static const char *const op_names[] = {
	[XHP_SIM_OP_UPLOAD] = "upload",
	[XHP_ACTION_UNLOAD] = "unload",
	[XHP_ACTION_REVERT] = "revert",
	[XHP_ACTION_APPLY] = "apply",
	[XHP_ACTION_REPLACE] = "replace",
	[XHP_SIM_OP_EXPECT] = "expect",
	[XHP_SIM_OP_PREAPPLY] = "preapply",
	[XHP_SIM_OP_PREREVERT] = "prerevert",
};

const char *xhp_sim_op_name(int op)
{
	return op >= 0 && op < (int)XHP_ARRAY_SIZE(op_names) ? op_names[op] : "unknown";
}

static int op_from_name(const char *s)
{
	for (size_t i = 0; i < XHP_ARRAY_SIZE(op_names); i++)
		if (strcmp(op_names[i], s) == 0)
			return (int)i;
	return -1;
}

static bool op_is_work(int op)
{
	return op == XHP_ACTION_APPLY || op == XHP_ACTION_REVERT ||
	       op == XHP_ACTION_REPLACE;
}

static bool op_is_hook(int op)
{
	return op == XHP_SIM_OP_PREAPPLY || op == XHP_SIM_OP_PREREVERT;
}

/* The kind from ERRNO and WHEN (NULL when absent); 0 or a reason. */
static const char *fault_kind(struct xhp_sim_fault *f, const char *err,
			      const char *when)
{
	if (strcmp(err, "crash") == 0) {
		f->kind = XHP_SIM_FAULT_CRASH;
		if (when)
			return "'crash' takes no WHEN";
		if (op_is_hook(f->op) || f->op == XHP_SIM_OP_EXPECT)
			return "'crash' needs upload, apply, revert, replace or unload";
		return NULL;
	}
	f->err = xhp_errno_parse(err);
	if (f->err <= 0)
		return "bad errno";
	f->kind = XHP_SIM_FAULT_SYNC;
	if (!when)
		return NULL;
	if (strcmp(when, "async") == 0 && op_is_work(f->op))
		f->kind = XHP_SIM_FAULT_ASYNC;
	else if (strcmp(when, "once") == 0 && op_is_hook(f->op))
		f->kind = XHP_SIM_FAULT_ONCE;
	else
		return "':async' needs apply, revert or replace; ':once' preapply or prerevert";
	return NULL;
}

/* One "OP:NAME:ERRNO[:WHEN]" item (len bytes at s). */
static int fault_parse_one(const char *s, size_t len, struct xhp_sim_fault *f,
			   struct xhp_err *err)
{
	char buf[256], *field[5];
	const char *why;
	size_t n = 0;

	if (len >= sizeof(buf)) {
		xhp_err_set(err, "%s: item too long: %.*s", XHP_SIM_ENV_FAIL, (int)len, s);
		return -EINVAL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (char *p = buf, *tok; n < 5 && (tok = strsep(&p, ":")); )
		field[n++] = tok;
	if (n < 3 || n > 4) {
		xhp_err_set(err, "%s: '%.*s': expected OP:NAME:ERRNO[:async|:once]",
			    XHP_SIM_ENV_FAIL, (int)len, s);
		return -EINVAL;
	}
	memset(f, 0, sizeof(*f));
	f->op = op_from_name(field[0]);
	if (f->op < 0) {
		xhp_err_set(err, "%s: unknown operation '%s' (upload, apply, revert, replace, "
			    "unload, expect, preapply, prerevert)", XHP_SIM_ENV_FAIL, field[0]);
		return -EINVAL;
	}
	if (!field[1][0] || strlen(field[1]) > XHP_NAME_MAX) {
		xhp_err_set(err, "%s: '%.*s': bad payload name", XHP_SIM_ENV_FAIL, (int)len, s);
		return -EINVAL;
	}
	strcpy(f->name, field[1]);
	why = fault_kind(f, field[2], n == 4 ? field[3] : NULL);
	if (why) {
		xhp_err_set(err, "%s: '%.*s': %s", XHP_SIM_ENV_FAIL, (int)len, s, why);
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
			int r;

			v = xhp_realloc(v, (cnt + 1) * sizeof(*v));
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

const struct xhp_sim_fault *sim_fault_find(const struct xhp_sim *sim, int op,
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

int sim_hook_veto(const struct xhp_sim *sim, int op, const char *name,
		  unsigned calls)
{
	const struct xhp_sim_fault *f = sim_fault_find(sim, op, name);

	if (!f || (f->kind == XHP_SIM_FAULT_ONCE && calls > 0))
		return 0;
	return -f->err;
}

void sim_host_crash(struct sim_state *s, int op, const char *name)
{
	s->crashed_op = xhp_strdup(xhp_sim_op_name(op));
	s->crashed_name = xhp_strdup(name);
}

_Noreturn void sim_die_now(void)
{
	/* The host died: so does everything running on it, this process too. */
	kill(getpid(), SIGKILL);
	_exit(137); /* not reached */
}
