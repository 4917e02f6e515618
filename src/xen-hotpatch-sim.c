// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-hotpatch-sim: the control program of the simulated hypervisor.
 *
 *   xen-hotpatch-sim DIR init [--build-id HEX] [--xen-syms FILE]
 *   xen-hotpatch-sim DIR reboot [--build-id HEX] [--xen-syms FILE]
 *   xen-hotpatch-sim DIR advance [MS]
 *   xen-hotpatch-sim DIR show [--json]
 *
 * --xen-syms takes Xen's symbol table from an ELF xen-syms (and its build-id
 * when --build-id is not given) or a xen-syms.map (sim.h). `advance` lets MS
 * of simulated time pass (default: until pending work is done).
 *
 * Exit codes: 0 ok, 1 error (one line on stderr naming DIR and the reason),
 * 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define PROG "xen-hotpatch-sim"

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, PROG ": %s\n", why);
	fprintf(stderr,
		"usage: " PROG " DIR init [--build-id HEX] [--xen-syms FILE]\n"
		"       " PROG " DIR reboot [--build-id HEX] [--xen-syms FILE]\n"
		"       " PROG " DIR advance [MS]\n"
		"       " PROG " DIR show [--json]\n");
	return 2;
}

static int fail(const char *dir, const struct xhp_err *err, int r)
{
	if (err && err->msg[0])
		fprintf(stderr, PROG ": %s\n", err->msg);
	else
		fprintf(stderr, PROG ": %s: %s\n", dir, strerror(-r));
	return 1;
}

/* The value of --NAME V or --NAME=V at argv[*i] (advancing *i), or NULL. */
static const char *option(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strcmp(argv[*i], name) == 0 && *i + 1 < argc)
		return argv[++*i];
	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	return NULL;
}

/* init and reboot: [--build-id HEX] [--xen-syms FILE] */
static int lifetime(const char *dir, bool init, int argc, char **argv)
{
	struct xhp_err err = { { 0 } };
	struct xhp_build_id id = { 0 };
	const char *syms = NULL, *v;
	int r;

	for (int i = 0; i < argc; i++) {
		if ((v = option(argc, argv, &i, "--build-id"))) {
			if (xhp_build_id_from_hex(&id, v) < 0 || id.len == 0) {
				fprintf(stderr, PROG ": --build-id: '%s' is not a hex build-id "
					"(2 to %d hex digits)\n", v, 2 * XHP_BUILD_ID_MAX);
				return 2;
			}
		} else if ((v = option(argc, argv, &i, "--xen-syms"))) {
			syms = v;
		} else {
			return usage("unexpected argument");
		}
	}
	if (init && !id.len && !syms)
		return usage("init needs --build-id HEX or --xen-syms FILE");
	r = init ? xhp_sim_init(dir, &id, syms, &err) :
		   xhp_sim_reboot(dir, id.len ? &id : NULL, syms, &err);
	return r < 0 ? fail(dir, &err, r) : 0;
}

static int advance(const char *dir, int argc, char **argv)
{
	struct xhp_err err = { { 0 } };
	unsigned long long ms = 0;
	char *end;
	int r;

	if (argc > 1)
		return usage("unexpected argument");
	if (argc == 1) {
		ms = strtoull(argv[0], &end, 10);
		if (*end || !*argv[0] || argv[0][0] == '-')
			return usage("advance: MS is a number of milliseconds");
	}
	r = xhp_sim_advance(dir, ms, &err);
	return r < 0 ? fail(dir, &err, r) : 0;
}

static int show(const char *dir, int argc, char **argv)
{
	struct xhp_err err = { { 0 } };
	struct xhp_sim *sim;
	bool json = false;
	char *out;
	int r;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return usage("unexpected argument");
	}
	/* show is not subject to failure injection: ignore its environment */
	unsetenv(XHP_SIM_ENV_FAIL);
	unsetenv(XHP_SIM_ENV_WORK_MS);
	unsetenv(XHP_SIM_ENV_LIST_PAGE);
	unsetenv(XHP_SIM_ENV_LIST_CHURN);
	r = xhp_sim_open(dir, &sim, &err);
	if (r < 0)
		return fail(dir, &err, r);
	r = xhp_sim_show(sim, json, &out);
	if (r < 0) {
		snprintf(err.msg, sizeof(err.msg), "%s", xhp_sim_last_error(sim));
		xhp_sim_close(sim);
		return fail(dir, &err, r);
	}
	fputs(out, stdout);
	free(out);
	xhp_sim_close(sim);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *dir, *verb;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(NULL);
		return 0;
	}
	if (argc < 3)
		return usage("missing DIR or command");
	dir = argv[1];
	verb = argv[2];
	if (strcmp(verb, "init") == 0 || strcmp(verb, "reboot") == 0)
		return lifetime(dir, verb[0] == 'i', argc - 3, argv + 3);
	if (strcmp(verb, "advance") == 0)
		return advance(dir, argc - 3, argv + 3);
	if (strcmp(verb, "show") == 0)
		return show(dir, argc - 3, argv + 3);
	return usage("unknown command");
}
