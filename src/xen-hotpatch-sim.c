// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-hotpatch-sim: the control program of the simulated hypervisor.
 *
 *   xen-hotpatch-sim DIR init --build-id HEX
 *   xen-hotpatch-sim DIR reboot [--build-id HEX]
 *   xen-hotpatch-sim DIR show [--json]
 *
 * Exit codes: 0 ok, 1 error (one line on stderr naming DIR and the reason),
 * 2 usage.
 */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "xen-hotpatch-sim"

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, PROG ": %s\n", why);
	fprintf(stderr,
		"usage: " PROG " DIR init --build-id HEX\n"
		"       " PROG " DIR reboot [--build-id HEX]\n"
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

/* [--build-id HEX] at argv[0..argc): 0, or 2 (usage) */
static int parse_build_id(int argc, char **argv, struct xhp_build_id *id,
			  bool *given)
{
	*given = false;
	for (int i = 0; i < argc; i++) {
		const char *v = NULL;

		if (strcmp(argv[i], "--build-id") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(argv[i], "--build-id=", 11) == 0)
			v = argv[i] + 11;
		else
			return usage("unexpected argument");
		if (xhp_build_id_from_hex(id, v) < 0 || id->len == 0) {
			fprintf(stderr, PROG ": --build-id: '%s' is not a hex build-id "
				"(2 to %d hex digits)\n", v, 2 * XHP_BUILD_ID_MAX);
			return 2;
		}
		*given = true;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct xhp_err err = { { 0 } };
	struct xhp_build_id id;
	bool given;
	const char *dir, *verb;
	int r;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(NULL);
		return 0;
	}
	if (argc < 3)
		return usage("missing DIR or command");
	dir = argv[1];
	verb = argv[2];

	if (strcmp(verb, "init") == 0 || strcmp(verb, "reboot") == 0) {
		r = parse_build_id(argc - 3, argv + 3, &id, &given);
		if (r)
			return r;
		if (verb[0] == 'i') {
			if (!given)
				return usage("init needs --build-id HEX");
			r = xhp_sim_init(dir, &id, &err);
		} else {
			r = xhp_sim_reboot(dir, given ? &id : NULL, &err);
		}
		return r < 0 ? fail(dir, &err, r) : 0;
	}

	if (strcmp(verb, "show") == 0) {
		struct xhp_sim *sim;
		bool json = false;
		char *out;

		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0)
				json = true;
			else
				return usage("unexpected argument");
		}
		/* show is not subject to failure injection: ignore its env */
		unsetenv(XHP_SIM_ENV_FAIL);
		unsetenv(XHP_SIM_ENV_DELAY);
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

	return usage("unknown command");
}
