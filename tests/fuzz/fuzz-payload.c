/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for the payload reader: any byte string is parsed; the
 * reader must not crash, leak or read out of bounds (ASan/UBSan), and what
 * it accepts must be self-consistent. Built by `make build/fuzz/fuzz-payload`,
 * run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xhp_payload p;
	struct xhp_err err;
	size_t i;
	int rc;

	rc = xhp_payload_parse(data, size, &p, &err);
	if (rc) {
		/* a failure always says why, on one line */
		if (rc > 0 || !err.msg[0] || strchr(err.msg, '\n'))
			abort();
		return 0;
	}
	if (!p.id.len || !p.depends.len || !p.xen_depends.len)
		abort();
	if (!p.nfuncs && !p.hooks_present)
		abort();
	if ((p.hooks_enabled & ~p.hooks_present) || p.size != size)
		abort();
	for (i = 0; i < p.nfuncs; i++) {
		const struct xhp_func *f = &p.funcs[i];

		if (f->version != 2 || !f->old_size)
			abort();
		if (!f->has_new && f->new_size > 31)
			abort();
		if (f->name)
			(void)strlen(f->name);
	}
	for (i = 0; i < p.nmodinfo; i++)
		(void)xhp_payload_modinfo(&p, p.modinfo[i].key);
	for (i = 0; i < p.nnew_syms; i++)
		if (strlen(p.new_syms[i]) > 126)
			abort();
	xhp_payload_free(&p);
	return 0;
}
