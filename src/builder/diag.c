/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

/* Untrusted names (symbols, sections from the objects) are printed with
 * control characters escaped so the message stays one line. */
static void escape_into(char *out, size_t n, const char *in)
{
	size_t o = 0;

	for (; *in && o + 5 < n; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

int diag_refuse(struct diag *d, const char *file, const char *sym, const char *fmt, ...)
{
	char reason[512], raw[768];
	va_list ap;

	if (d->set)
		return -1;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (sym && *sym)
		snprintf(raw, sizeof(raw), "%s: %s: %s", file ? file : "-", sym, reason);
	else
		snprintf(raw, sizeof(raw), "%s: %s", file ? file : "-", reason);
	escape_into(d->msg, sizeof(d->msg), raw);
	d->set = true;
	return -1;
}

void diag_note(const struct diag *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
