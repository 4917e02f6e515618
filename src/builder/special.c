/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Special sections: tables whose entries belong to the function they point
 * at. An entry is copied when its function is (Xen 4.17 x86 layouts):
 *
 *   .bug_frames.N     struct bug_frame, 8 bytes (16 for N = 3, assertions,
 *                     whose second frame carries the message). Fields are
 *                     32-bit displacements from the start of the frame; the
 *                     top bits of the first two carry the line number.
 *   .ex_table         struct exception_table_entry, 8 bytes: the faulting
 *                     instruction and where to continue, each relative to
 *                     its own field; the continuation is often in .fixup,
 *                     cut into one chunk per entry.
 *   .altinstructions  struct alt_instr, 14 bytes: the original instruction
 *                     and its replacement in .altinstr_replacement
 *                     (repl_len at offset 11).
 *   .livepatch.hooks.* pointers the patch declares with Xen's
 *                     LIVEPATCH_*_HOOK macros: always copied.
 */
#include <string.h>

#include "engine.h"
#include "payload.h"

#define BUG_FRAME_SIZE 8
#define EX_TABLE_SIZE 8
#define ALT_INSTR_SIZE 14
#define ALT_REPL_LEN_OFF 11

static bool named(const struct osec *s, const char *name)
{
	return s && !strcmp(s->name, name);
}

/* End of the .fixup chunk starting at start: the next offset an .ex_table
 * entry of the same object continues at, or the section's end. */
static uint64_t fixup_end(const struct obj *o, const struct osec *fix, uint64_t start)
{
	const struct osec *ex = obj_sec(o, ".ex_table");
	uint64_t end = fix->sh.sh_size;
	size_t k;

	for (k = 0; ex && k < ex->nrela; k++) {
		const struct orela *r = &ex->rela[k];
		int64_t raw = rela_raw(r);

		if (r->sym->sec == fix && raw > (int64_t)start && (uint64_t)raw < end)
			end = (uint64_t)raw;
	}
	return end;
}

void range_target(struct engine *e, const struct placed *pl, const struct orela *r,
		  struct target *t)
{
	int64_t raw = rela_raw(r), probe = raw;
	uint64_t field = r->off - pl->start;
	struct osec *to = r->sym->sec;

	(void)e;
	switch (pl->mode) {
	case PM_ELEM:
	case PM_CHUNK:
		classify(pl->sec, r, NULL, 0, t);
		return;
	case PM_BUG:
		probe = (raw - (int64_t)field) & 0xffffff;
		break;
	case PM_EXTABLE:
		if (field == 4 && named(to, ".fixup") && raw >= 0 &&
		    (uint64_t)raw < to->sh.sh_size) {
			target_anon(to, (uint64_t)raw, fixup_end(&pl->pr->p, to, (uint64_t)raw) -
				    (uint64_t)raw, raw, t);
			return;
		}
		break;
	case PM_ALT:
		if (field == 4 && named(to, ".altinstr_replacement") && raw >= 0 && pl->sec->data) {
			uint64_t len = pl->sec->data[pl->start + ALT_REPL_LEN_OFF];

			if ((uint64_t)raw + len <= to->sh.sh_size) {
				target_anon(to, (uint64_t)raw, len, raw, t);
				return;
			}
		}
		break;
	case PM_HOOK:
		break;
	}
	classify(pl->sec, r, &probe, 1, t);
}

/* Is the entry at off owned by something copied? Its first field says. */
static bool owned(struct engine *e, struct pair *pr, struct osec *sec, uint64_t off,
		  uint64_t size, enum pmode mode)
{
	struct placed tmp = { .pr = pr, .sec = sec, .start = off, .len = size, .mode = mode };
	struct target t;
	size_t first;
	int64_t pos;

	if (!sec_rela_range(sec, off, off + 1, &first))
		return false;
	range_target(e, &tmp, &sec->rela[first], &t);
	if (t.kind == T_ELEM)
		return !t.ambiguous && t.elem->out >= 0;
	/* code without a symbol (fixup, replacement) that was copied */
	pos = rela_raw(&sec->rela[first]);
	if (mode == PM_BUG)
		pos &= 0xffffff;
	return t.kind == T_ANON && placed_find(e, t.sec, (uint64_t)pos) != NULL;
}

static int table_entries(struct engine *e, struct pair *pr, struct osec *s, uint64_t size,
			 enum pmode mode, int out, bool *progress)
{
	uint64_t off;

	if (s->sh.sh_size % size)
		return diag_refuse(e->d, pr->p.src, s->name,
				   "size %llu is not a multiple of the %llu-byte entry",
				   (unsigned long long)s->sh.sh_size, (unsigned long long)size);
	for (off = 0; off + size <= s->sh.sh_size; off += size) {
		if (placed_find(e, s, off) || !owned(e, pr, s, off, size, mode))
			continue;
		if (out < 0)
			return diag_refuse(e->d, pr->p.src, s->name,
					   "an entry belongs to a patched function: not supported in a payload");
		placed_add(e, pr, s, off, size, out, mode);
		*progress = true;
	}
	return 0;
}

static int section_entries(struct engine *e, struct pair *pr, struct osec *s, bool *progress)
{
	if (!strncmp(s->name, ".bug_frames.", 12) && s->name[12] >= '0' &&
	    s->name[12] <= '3' && !s->name[13]) {
		int n = s->name[12] - '0';

		return table_entries(e, pr, s, n == 3 ? 2 * BUG_FRAME_SIZE : BUG_FRAME_SIZE,
				     PM_BUG, OUT_BUG0 + n, progress);
	}
	if (named(s, ".ex_table"))
		return table_entries(e, pr, s, EX_TABLE_SIZE, PM_EXTABLE, OUT_EXTABLE, progress);
	if (named(s, ".altinstructions"))
		return table_entries(e, pr, s, ALT_INSTR_SIZE, PM_ALT, OUT_ALTINSTR, progress);
	if (!strncmp(s->name, ".ex_table", 9))	/* .ex_table.pre: entry-path code only */
		return table_entries(e, pr, s, EX_TABLE_SIZE, PM_EXTABLE, -1, progress);
	return 0;
}

int special_sections(struct engine *e, bool *progress)
{
	size_t i, k;

	*progress = false;
	for (i = 0; i < e->npairs; i++) {
		struct pair *pr = &e->pairs[i];

		for (k = 1; k < pr->p.nsecs; k++) {
			struct osec *s = &pr->p.secs[k];

			if (sec_is_alloc(s) && s->sh.sh_size && section_entries(e, pr, s, progress))
				return -1;
		}
	}
	return 0;
}

static int hook_kind(const char *name)
{
	int k;

	for (k = 0; k < XHP_HOOK_COUNT; k++)
		if (!strcmp(name, xhp_hook_section[k]))
			return k;
	return -1;
}

/* Xen calls hooks indirectly: on a hypervisor built for CET-IBT each must
 * start with ENDBR64 (declared cf_check), or the call faults. */
int hooks_check_endbr(struct engine *e)
{
	size_t i;

	if (!xensyms_has_endbr(e->xs))
		return 0;
	for (i = 0; i < e->nplaced; i++) {
		const struct placed *pl = &e->placed[i];
		const uint8_t *code = NULL;
		struct target t;
		size_t first;

		if (pl->mode != PM_HOOK || !sec_rela_range(pl->sec, pl->start, pl->start + 8, &first))
			continue;
		range_target(e, pl, &pl->sec->rela[first], &t);
		if (t.kind != T_ELEM || t.rel < 0 || (uint64_t)t.rel + 4 > t.len)
			continue;
		if (t.elem->sec->data)
			code = t.elem->sec->data + t.start + (uint64_t)t.rel;
		if (!is_endbr64(code))
			return diag_refuse(e->d, pl->pr->p.src, t.elem->name,
					   "a hook without ENDBR64: declare it cf_check (Xen calls hooks indirectly, and this hypervisor checks indirect-call targets)");
	}
	return 0;
}

int hooks_place(struct engine *e)
{
	size_t i, j;
	int k;

	for (i = 0; i < e->npairs; i++) {
		struct pair *pr = &e->pairs[i];

		for (j = 1; j < pr->p.nsecs; j++) {
			struct osec *s = &pr->p.secs[j];
			uint64_t off;

			if ((k = hook_kind(s->name)) < 0 || !s->sh.sh_size)
				continue;
			if (s->sh.sh_size % 8 || !s->data)
				return diag_refuse(e->d, pr->p.src, s->name,
						   "hook section size %llu is not a multiple of 8",
						   (unsigned long long)s->sh.sh_size);
			for (off = 0; off < s->sh.sh_size; off += 8)
				placed_add(e, pr, s, off, 8, OUT_HOOK0 + k, PM_HOOK);
		}
	}
	for (k = XHP_HOOK_PREAPPLY; k < XHP_HOOK_COUNT; k++)
		if (e->out.secs[OUT_HOOK0 + k].size > 8)
			return diag_refuse(e->d, e->pairs[0].p.src, xhp_hook_section[k],
					   "more than one %s hook: Xen takes exactly one",
					   xhp_hook_label[k]);
	return 0;
}
