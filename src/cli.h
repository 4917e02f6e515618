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
/* 2 for "busy, try again" errors, else 1. */
int cli_exit_code(int err);
/* "EBUSY: the hypervisor is busy ..." for an action's failure. */
const char *cli_explain(enum xhp_step_op op, int err);
/* Open a session with the CLI's options; prints the error itself. Returns 0
 * or an exit code. */
int cli_session_open(struct xhp_cli *cli, struct xhp_session *s, bool lock);
/* Event callbacks that print steps as they run. */
void cli_install_events(struct xhp_cli *cli, struct xhp_session *s);
/* Print a plan's steps ("would ..." when dry). */
void cli_print_plan(const struct xhp_cli *cli, const struct xhp_plan *p, bool dry);
/* Print a failed converge and return the exit code. */
int cli_report_failure(const struct xhp_cli *cli, struct xhp_session *s, const struct xhp_plan *p,
		       int err, const struct xhp_step *failed, int hv_rc);

#endif
