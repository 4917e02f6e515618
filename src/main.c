/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-hotpatch: the verb table and the options.
 *
 * As systemd's verbs.c: options are parsed first, wherever they stand (before
 * or after the verb, up to "--"), so that a verb's min/max count its
 * positional arguments only. Each option says which verbs take it: one that
 * makes no sense for the verb (`revert --json`, `info --root`) is a usage
 * error naming both, never silently ignored.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Options, as bits of a verb's accepted set. */
enum {
	O_BACKEND = 1u << 0,
	O_ROOT = 1u << 1,
	O_CONFIG = 1u << 2,
	O_JSON = 1u << 3,
	O_DRY_RUN = 1u << 4,
	O_AUTO = 1u << 5,
	O_QUERY = 1u << 6,
	O_ALL = 1u << 7,
	O_QUIET = 1u << 8,
	O_VERBOSE = 1u << 9,
	O_HELP = 1u << 10,
	O_FORMAT = 1u << 11,
	/* every verb takes these */
	O_COMMON = O_QUIET | O_VERBOSE | O_HELP,
	/* the verbs that read the policy and talk to the hypervisor */
	O_HV = O_BACKEND | O_ROOT | O_CONFIG,
};

static const struct verb {
	const char *name;
	int min_args, max_args;	/* positional arguments; -1: unbounded */
	unsigned opts;		/* O_* it takes */
	int usage_exit;		/* exit code of a usage error */
	xhp_verb_fn fn;
	const char *usage, *help;
} verbs[] = {
	{ "info", 1, -1, O_JSON | O_QUERY, XHP_EXIT_ERROR, cmd_info,
	  "[--json | --query F[,F...]] FILE...", "what each payload is" },
	{ "status", 0, 0, O_HV | O_JSON | O_FORMAT, XHP_EXIT_ERROR, cmd_status,
	  "[--json | --format=F]", "applied stack vs installed payloads (exit 3: out of sync); "
	  "F: text, json or openmetrics" },
	{ "apply", 0, 0, O_HV | O_DRY_RUN | O_AUTO | O_JSON, XHP_EXIT_ERROR, cmd_apply,
	  "[--dry-run [--json] | --auto]", "converge the hypervisor to the installed stack" },
	{ "revert", 1, 1, O_HV, XHP_EXIT_ERROR, cmd_revert,
	  "NAME", "revert and unload NAME and everything above it" },
	/* boot never fails the boot, not even on a usage error */
	{ "boot", 0, 0, O_HV, XHP_EXIT_OK, cmd_boot,
	  "", "reapply the proven stack at boot (always exit 0)" },
	{ "clear", 0, -1, O_HV | O_ALL, XHP_EXIT_ERROR, cmd_clear,
	  "NAME|BUILD-ID... | --all", "release payloads from quarantine" },
	{ "version", 0, 0, 0, XHP_EXIT_ERROR, cmd_version, "", "print the version" },
};

static const struct option long_opts[] = {
	{ "backend", required_argument, NULL, 'B' },
	{ "root", required_argument, NULL, 'R' },
	{ "config", required_argument, NULL, 'C' },
	{ "json", no_argument, NULL, 'j' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "auto", no_argument, NULL, 'a' },
	{ "query", required_argument, NULL, 'Q' },
	{ "all", no_argument, NULL, 'A' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "format", required_argument, NULL, 'F' },
	{ NULL, 0, NULL, 0 },
};

/* The bit of an option, and how it is written. */
static const struct {
	int c;
	unsigned bit;
	const char *name;
} opt_names[] = {
	{ 'B', O_BACKEND, "--backend" }, { 'R', O_ROOT, "--root" }, { 'C', O_CONFIG, "--config" },
	{ 'j', O_JSON, "--json" }, { 'n', O_DRY_RUN, "--dry-run" }, { 'a', O_AUTO, "--auto" },
	{ 'Q', O_QUERY, "--query" }, { 'A', O_ALL, "--all" }, { 'q', O_QUIET, "--quiet" },
	{ 'v', O_VERBOSE, "--verbose" }, { 'h', O_HELP, "--help" }, { 'F', O_FORMAT, "--format" },
};

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: xen-hotpatch [--backend xen|sim:DIR] [--root DIR] [--config FILE]\n"
	      "                    [-q] [-v] VERB [OPTIONS] [ARGS]\n\nVerbs:\n", f);
	for (i = 0; i < XHP_ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-8s %-30s %s\n", verbs[i].name, verbs[i].usage, verbs[i].help);
	fputs("\n--backend, --root and --config go with status, apply, revert, boot and clear;\n"
	      "options may stand before or after the verb.\n"
	      "Exit codes: 0 done or nothing to do; 1 error or usage error (boot: always 0);\n"
	      "2 busy, try again; 3 (status) out of sync.\n", f);
}

static const struct verb *find_verb(const char *name)
{
	size_t i;

	for (i = 0; name && i < XHP_ARRAY_SIZE(verbs); i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

/* What the command line said, before it is judged against the verb. */
struct cmdline {
	unsigned seen;		/* O_* given */
	char **pos;		/* positional arguments, the verb first */
	int npos;
	char bad[160];		/* the first option error, if any */
};

static unsigned opt_bit(int c, const char **name)
{
	size_t i;

	for (i = 0; i < XHP_ARRAY_SIZE(opt_names); i++)
		if (opt_names[i].c == c) {
			*name = opt_names[i].name;
			return opt_names[i].bit;
		}
	return 0;
}

/* An option that takes a value was given none, or an empty one (--root=,
 * --root ""): a usage error, never read as the option not given. */
static void needs_value(struct cmdline *cl, const char *name)
{
	if (!cl->bad[0])
		snprintf(cl->bad, sizeof(cl->bad), "%s needs a value", name);
}

/* An option getopt could not take: unknown, or missing its value. */
static void bad_option(struct cmdline *cl, char **argv, int c)
{
	const char *name = NULL;
	char shortopt[3] = { '-', (char)optopt, '\0' };
	_cleanup_free_ char *e = NULL;

	if (cl->bad[0])
		return;
	if (c == ':' && opt_bit(optopt, &name)) {
		needs_value(cl, name);
		return;
	}
	e = xhp_escape(optopt ? shortopt : argv[optind - 1]);
	snprintf(cl->bad, sizeof(cl->bad), "unknown option %s", e);
}

static void take_option(struct xhp_cli *cli, int c, const char *arg)
{
	switch (c) {
	case 'B': cli->backend = arg; break;
	case 'R': cli->root = arg; break;
	case 'C': cli->config = arg; break;
	case 'j': cli->json = true; break;
	case 'n': cli->dry_run = true; break;
	case 'a': cli->automatic = true; break;
	case 'Q': cli->query = arg; break;
	case 'A': cli->all = true; break;
	case 'q': cli->verbose = -1; break;
	case 'v': cli->verbose = 1; break;
	case 'F': cli->format = arg; break;
	}
}

/* Every option wherever it stands ("-" keeps the order of the rest, even
 * with POSIXLY_CORRECT set); the positional arguments in cl->pos. */
static void parse_cmdline(int argc, char **argv, struct xhp_cli *cli, struct cmdline *cl)
{
	const char *name = "an option";
	int c;

	cl->pos = xhp_calloc((size_t)argc + 1, sizeof(*cl->pos));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:qvh", long_opts, NULL)) != -1) {
		if (c == 1) {
			cl->pos[cl->npos++] = optarg;
		} else if (c == '?' || c == ':') {
			bad_option(cl, argv, c);
		} else {
			cl->seen |= opt_bit(c, &name);
			if (optarg && !*optarg) /* only options with a value have optarg */
				needs_value(cl, name);
			take_option(cli, c, optarg);
		}
	}
	while (optind < argc)
		cl->pos[cl->npos++] = argv[optind++];
}

/* The first option given that v does not take, or NULL. */
static const char *foreign_option(const struct verb *v, unsigned seen)
{
	size_t i;

	for (i = 0; i < XHP_ARRAY_SIZE(opt_names); i++)
		if ((seen & opt_names[i].bit) && !((v->opts | O_COMMON) & opt_names[i].bit))
			return opt_names[i].name;
	return NULL;
}

/* Options that v takes, but not together or not like this; NULL if fine. */
static const char *bad_combination(const struct verb *v, const struct xhp_cli *cli, unsigned seen,
				   int nargs)
{
	if ((seen & O_JSON) && (seen & O_QUERY))
		return "--json and --query are two output formats: choose one";
	if ((seen & O_AUTO) && (seen & O_DRY_RUN))
		return "--auto and --dry-run: choose one";
	if (!strcmp(v->name, "apply") && (seen & O_JSON) && !(seen & O_DRY_RUN))
		return "apply prints JSON only with --dry-run";
	if ((seen & O_JSON) && (seen & O_FORMAT))
		return "--json and --format: choose one";
	if ((seen & O_FORMAT) && strcmp(cli->format, "text") && strcmp(cli->format, "json") &&
	    strcmp(cli->format, "openmetrics"))
		return "--format takes text, json or openmetrics";
	if ((seen & O_ALL) && nargs)
		return "--all or names: choose one";
	if (!strcmp(v->name, "clear") && !(seen & O_ALL) && !nargs)
		return "name a payload or build-id, or --all";
	return NULL;
}

/* "xen-hotpatch [--root DIR] ... VERB USAGE" */
static void print_usage_of(FILE *f, const struct verb *v)
{
	fprintf(f, "xen-hotpatch%s %s%s%s", v->opts & O_HV ? " [--backend xen|sim:DIR] [--root DIR] "
			"[--config FILE]" : "", v->name, *v->usage ? " " : "", v->usage);
}

/* One line: what is wrong, and the verb's usage. Returns its exit code. */
static int usage_error(const struct verb *v, const char *what, const char *opt)
{
	fputs("xen-hotpatch: ", stderr);
	if (opt)
		fprintf(stderr, "%s does not take %s%s: ", v->name, opt,
			!strcmp(opt, "--json") ? " (it prints no JSON)" : "");
	else if (what)
		fprintf(stderr, "%s: ", what);
	fputs("usage: ", stderr);
	print_usage_of(stderr, v);
	fputc('\n', stderr);
	return v->usage_exit;
}

static int dispatch(struct xhp_cli *cli, struct cmdline *cl)
{
	const struct verb *v = find_verb(cl->npos ? cl->pos[0] : NULL);
	const char *why;
	int nargs = cl->npos - 1;

	if (!v) {
		_cleanup_free_ char *e = cl->npos ? xhp_escape(cl->pos[0]) : NULL;

		if (cl->bad[0]) {
			cli_error("%s (xen-hotpatch --help lists the options)", cl->bad);
			return XHP_EXIT_ERROR;
		}
		if (!cl->npos) {
			bool help = cl->seen & O_HELP;

			usage(help ? stdout : stderr);
			return help ? XHP_EXIT_OK : XHP_EXIT_ERROR;
		}
		cli_error("unknown verb \"%s\" (xen-hotpatch --help lists them)", e);
		return XHP_EXIT_ERROR;
	}
	if (cl->bad[0])
		return usage_error(v, cl->bad, NULL);
	if ((why = foreign_option(v, cl->seen)))
		return usage_error(v, NULL, why);
	if (cl->seen & O_HELP) {
		fputs("Usage: ", stdout);
		print_usage_of(stdout, v);
		printf("\n  %s\n", v->help);
		return XHP_EXIT_OK;
	}
	if ((why = bad_combination(v, cli, cl->seen, nargs)))
		return usage_error(v, why, NULL);
	if (nargs < v->min_args || (v->max_args >= 0 && nargs > v->max_args))
		return usage_error(v, NULL, NULL);
	return v->fn(cli, cl->npos, cl->pos);
}

int main(int argc, char **argv)
{
	struct xhp_cli cli = { 0 };
	struct cmdline cl = { 0 };
	int r;

	parse_cmdline(argc, argv, &cli, &cl);
	r = dispatch(&cli, &cl);
	free(cl.pos);
	return r;
}
