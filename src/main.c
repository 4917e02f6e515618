/* SPDX-License-Identifier: GPL-2.0-only */
/* xen-hotpatch: the verb table and global options. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct verb {
	const char *name;
	int min_args, max_args; /* -1: unbounded */
	xhp_verb_fn fn;
	const char *usage, *help;
} verbs[] = {
	{ "info", 1, -1, cmd_info, "[--query F[,F...]] FILE...", "what each payload is" },
	{ "status", 0, 2, cmd_status, "[--format=F]",
	  "applied stack vs installed payloads (exit 3: out of sync); F: text json openmetrics" },
	{ "apply", 0, 2, cmd_apply, "[--dry-run] [--auto]", "converge the hypervisor to the installed stack" },
	{ "revert", 1, 1, cmd_revert, "NAME", "revert and unload NAME and everything above it" },
	{ "boot", 0, 2, cmd_boot, "[--root DIR]", "reapply the proven stack at boot (never fails)" },
	{ "clear", 1, -1, cmd_clear, "NAME|BUILD-ID...|--all", "release payloads from quarantine" },
	{ "version", 0, 0, cmd_version, "", "print the version" },
};

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: xen-hotpatch [--backend xen|sim:DIR] [--root DIR] [--config FILE]\n"
	      "                    [--json] [-q] [-v] VERB [ARGS]\n\nVerbs:\n", f);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %-28s %s\n", verbs[i].name, verbs[i].usage, verbs[i].help);
	fputs("\nExit codes: 0 done or nothing to do; 1 error; 2 busy, try again;\n"
	      "3 (status) out of sync.\n", f);
}

/* argv[*i] is "--NAME VALUE" or "--NAME=VALUE": 1 with *out set; 0: not
 * that option; -1: the value is missing. */
static int opt_value(const char *name, int argc, char **argv, int *i, const char **out)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) || (argv[*i][n] && argv[*i][n] != '='))
		return 0;
	if (argv[*i][n] == '=') {
		*out = argv[*i] + n + 1;
		return 1;
	}
	if (*i + 1 >= argc)
		return -1;
	*out = argv[++*i];
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'B' },
		{ "root", required_argument, NULL, 'R' },
		{ "config", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xhp_cli cli = { 0 };
	const struct verb *v = NULL;
	int c, nargs, i;

	while ((c = getopt_long(argc, argv, "+qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'B': cli.backend = optarg; break;
		case 'R': cli.root = optarg; break;
		case 'C': cli.config = optarg; break;
		case 'j': cli.json = true; break;
		case 'q': cli.verbose = -1; break;
		case 'v': cli.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	for (i = 0; i < (int)(sizeof(verbs) / sizeof(verbs[0])); i++)
		if (!strcmp(verbs[i].name, argv[optind]))
			v = &verbs[i];
	if (!v) {
		cli_error("unknown verb \"%s\" (xen-hotpatch --help lists them)", argv[optind]);
		return 1;
	}
	/* global options may also follow the verb (`status --json`), up to "--" */
	for (i = c = optind + 1; i < argc; i++) {
		int r = 0;

		if (!strcmp(argv[i], "--")) {
			while (++i < argc)
				argv[c++] = argv[i];
			break;
		}
		if (!strcmp(argv[i], "--json"))
			cli.json = true;
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			cli.verbose = -1;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			cli.verbose = 1;
		else if ((r = opt_value("--root", argc, argv, &i, &cli.root)) ||
			 (r = opt_value("--backend", argc, argv, &i, &cli.backend)) ||
			 (r = opt_value("--config", argc, argv, &i, &cli.config))) {
			if (r < 0) {
				cli_error("%s needs a value", argv[i]);
				return 1;
			}
		} else {
			argv[c++] = argv[i];
		}
	}
	argv[c] = NULL;
	argc = c;
	nargs = argc - optind - 1;
	if (nargs < v->min_args || (v->max_args >= 0 && nargs > v->max_args)) {
		cli_error("usage: xen-hotpatch %s %s", v->name, v->usage);
		return 1;
	}
	return v->fn(&cli, argc - optind, argv + optind);
}
