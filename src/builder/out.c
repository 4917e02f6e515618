/* SPDX-License-Identifier: GPL-2.0-only */
/* The payload's sections, symbols and relocations, and writing them. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "payload.h"
#include "util.h"

#define A SHF_ALLOC
#define AX (SHF_ALLOC | SHF_EXECINSTR)
#define AW (SHF_ALLOC | SHF_WRITE)

static const struct {
	const char *name;
	uint32_t type;
	uint64_t flags, align;
} layout[OUT_NSECS] = {
	[OUT_TEXT] = { ".text", SHT_PROGBITS, AX, 16 },
	[OUT_ALTREPL] = { ".altinstr_replacement", SHT_PROGBITS, AX, 1 },
	[OUT_FIXUP] = { ".fixup", SHT_PROGBITS, AX, 1 },
	[OUT_RODATA] = { ".rodata", SHT_PROGBITS, A, 8 },
	[OUT_STR] = { ".rodata.str", SHT_PROGBITS, A, 1 },
	[OUT_DATA] = { ".data", SHT_PROGBITS, AW, 8 },
	[OUT_BSS] = { ".bss", SHT_NOBITS, AW, 8 },
	[OUT_ALTINSTR] = { ".altinstructions", SHT_PROGBITS, A, 1 },
	[OUT_EXTABLE] = { ".ex_table", SHT_PROGBITS, A, 4 },
	[OUT_BUG0] = { ".bug_frames.0", SHT_PROGBITS, A, 4 },
	[OUT_BUG0 + 1] = { ".bug_frames.1", SHT_PROGBITS, A, 4 },
	[OUT_BUG0 + 2] = { ".bug_frames.2", SHT_PROGBITS, A, 4 },
	[OUT_BUG0 + 3] = { ".bug_frames.3", SHT_PROGBITS, A, 4 },
	/* Writable: 4.17.1 and 4.17.2 write into it while applying. */
	[OUT_FUNCS] = { ".livepatch.funcs", SHT_PROGBITS, AW, 8 },
	[OUT_HOOK0] = { NULL, SHT_PROGBITS, A, 8 },	/* names from payload.h */
	[OUT_NOTE_ID] = { ".note.gnu.build-id", SHT_NOTE, A, 4 },
	[OUT_DEPENDS] = { ".livepatch.depends", SHT_NOTE, A, 4 },
	[OUT_XEN_DEPENDS] = { ".livepatch.xen_depends", SHT_NOTE, A, 4 },
	[OUT_MODINFO] = { ".modinfo", SHT_PROGBITS, A, 1 },
};

void out_init(struct out *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < OUT_NSECS; i++) {
		struct out_sec *s = &o->secs[i];
		int h = i >= OUT_HOOK0 && i < OUT_HOOK0 + 8 ? i - OUT_HOOK0 : -1;

		s->name = h >= 0 ? xhp_hook_section[h] : layout[i].name;
		s->type = layout[h >= 0 ? OUT_HOOK0 : i].type;
		s->flags = layout[h >= 0 ? OUT_HOOK0 : i].flags;
		s->align = layout[h >= 0 ? OUT_HOOK0 : i].align;
	}
	o->csyms = 64;
	o->syms = xhp_calloc(o->csyms, sizeof(*o->syms));
	o->nsyms = 1;
}

void out_free(struct out *o)
{
	size_t i;

	for (i = 0; i < OUT_NSECS; i++) {
		free(o->secs[i].buf);
		free(o->secs[i].rela);
	}
	for (i = 0; i < o->nsyms; i++)
		free(o->syms[i].name);
	free(o->syms);
	memset(o, 0, sizeof(*o));
}

uint64_t out_append(struct out *o, int id, const void *p, uint64_t len, uint64_t align)
{
	struct out_sec *s = &o->secs[id];
	uint64_t off;

	if (!align)
		align = 1;
	off = (s->size + align - 1) & ~(align - 1);
	if (align > s->align)
		s->align = align;
	if (s->type != SHT_NOBITS) {
		if (off + len > s->cap) {
			uint64_t cap = s->cap ? s->cap : 256;

			while (cap < off + len)
				cap *= 2;
			s->buf = xhp_realloc(s->buf, cap);
			memset(s->buf + s->cap, 0, cap - s->cap);
			s->cap = cap;
		}
		if (p && len)
			memcpy(s->buf + off, p, len);
	}
	s->size = off + len;
	return off;
}

void out_rela_add(struct out *o, int id, uint64_t off, uint32_t type, size_t sym, int64_t addend)
{
	struct out_sec *s = &o->secs[id];

	if (s->nrela == s->crela) {
		s->crela = s->crela ? 2 * s->crela : 16;
		s->rela = xhp_realloc(s->rela, s->crela * sizeof(*s->rela));
	}
	s->rela[s->nrela++] = (struct out_rela){ off, type, sym, addend };
}

size_t out_sym_add(struct out *o, const char *name, unsigned char type, int id,
		   uint64_t value, uint64_t size)
{
	if (o->nsyms == o->csyms) {
		o->csyms *= 2;
		o->syms = xhp_realloc(o->syms, o->csyms * sizeof(*o->syms));
	}
	o->syms[o->nsyms] = (struct out_sym){
		name ? xhp_strdup(name) : NULL, type, id, value, size,
	};
	return o->nsyms++;
}

size_t out_secsym(struct out *o, int id)
{
	if (!o->secs[id].secsym)
		o->secs[id].secsym = out_sym_add(o, NULL, STT_SECTION, id, 0, 0);
	return o->secs[id].secsym;
}

size_t out_abs(struct out *o, const char *name, unsigned char type, uint64_t value, uint64_t size)
{
	size_t i;

	for (i = 1; i < o->nsyms; i++)
		if (o->syms[i].sec == -1 && o->syms[i].value == value &&
		    !strcmp(o->syms[i].name, name))
			return i;
	return out_sym_add(o, name, type, -1, value, size);
}

uint64_t out_string(struct out *o, const void *str, size_t len)
{
	const struct out_sec *s = &o->secs[OUT_STR];
	uint64_t off = 0;

	/* Strings are appended whole, so each starts after a NUL. */
	while (off + len <= s->size) {
		if (!memcmp(s->buf + off, str, len))
			return off;
		off += strlen((const char *)s->buf + off) + 1;
	}
	return out_append(o, OUT_STR, str, len, 1);
}

void out_note(struct out *o, int id, const struct xhp_build_id *bid)
{
	uint8_t hdr[16] = { 4, 0, 0, 0, bid->len, 0, 0, 0, NT_GNU_BUILD_ID, 0, 0, 0,
			    'G', 'N', 'U', 0 };

	out_append(o, id, hdr, sizeof(hdr), 4);
	out_append(o, id, bid->b, bid->len, 1);
	out_append(o, id, NULL, (4 - bid->len % 4) % 4, 1);
}
