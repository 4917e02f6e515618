/* SPDX-License-Identifier: GPL-2.0-only */
/* The command line: global options, the verb table, messages and exit codes. */
#ifndef XHP_CLI_H
#define XHP_CLI_H

#include "engine.h"

/* The options of the command line, parsed by main.c and checked against the
 * verb: a verb only sees options it takes (and their valid combinations). */
struct xhp_cli {
	const char *root;
	const char *config;
	const char *backend;
	bool json;
	int verbose;		/* -1 quiet, 0 normal, 1 verbose */
	bool dry_run;		/* apply --dry-run */
	bool automatic;		/* apply --auto */
	const char *query;	/* info --query FIELDS (non-empty) */
	bool all;		/* clear --all (then no names) */
	const char *format;	/* status --format: text, json or openmetrics */
};

/* argv[0] is the verb, argv[1..argc-1] its positional arguments only (the
 * options are in cli), as many as the verb table allows. */
typedef int (*xhp_verb_fn)(struct xhp_cli *cli, int argc, char **argv);

int cmd_info(struct xhp_cli *cli, int argc, char **argv);
int cmd_status(struct xhp_cli *cli, int argc, char **argv);
int cmd_apply(struct xhp_cli *cli, int argc, char **argv);
int cmd_revert(struct xhp_cli *cli, int argc, char **argv);
int cmd_boot(struct xhp_cli *cli, int argc, char **argv);
int cmd_clear(struct xhp_cli *cli, int argc, char **argv);
int cmd_version(struct xhp_cli *cli, int argc, char **argv);

/* "xen-hotpatch: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress on stdout unless quiet. */
void cli_say(const struct xhp_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open a session with the CLI's options and install the printing events.
 * 0, or a negative errno with err saying why (nothing printed). */
int cli_session_open(struct xhp_cli *cli, struct xhp_session *s, struct xhp_err *err);
/* The exit code of a failed session open: 2 when busy (lock), else 1. */
int cli_open_exit_code(int err);

/* What the crash-loop guard resolved when the session opened. */
void cli_print_guard_changes(const struct xhp_cli *cli, const struct xhp_session *s);
/* Print a plan's steps ("would ..." when dry). */
void cli_print_plan(const struct xhp_cli *cli, const struct xhp_plan *p, bool dry);
/* Report what a converge or revert did that went wrong (refusal, failed
 * step, unreadable folder) and return the exit code it means (0 when
 * nothing did). */
int cli_report_result(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_view *v,
		      const struct xhp_result *res);

#endif
