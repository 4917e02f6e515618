/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one line a refusal prints: "FILE: SYMBOL: reason". The first refusal
 * wins; later ones are dropped so the message names the root cause.
 */
#ifndef XHP_BUILDER_DIAG_H
#define XHP_BUILDER_DIAG_H

#include <stdbool.h>

struct diag {
	char msg[768];
	bool set;
	bool verbose;		/* -v: progress on stderr */
};

/* Record "file: sym: reason" (sym may be NULL) and return -1. */
int diag_refuse(struct diag *d, const char *file, const char *sym, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Progress line on stderr when verbose. */
void diag_note(const struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
