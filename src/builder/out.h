/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The payload being built: a fixed set of output sections that grow as the
 * engine copies code and data into them, their RELA entries, and a symbol
 * table of local symbols only (Xen does not look at binding). out_write()
 * lays it out as an x86-64 ET_REL with libelf, with its own build-id: the
 * SHA-1 of everything else in it.
 */
#ifndef XHP_BUILDER_OUT_H
#define XHP_BUILDER_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "xhp.h"

enum out_id {
	OUT_TEXT,
	OUT_ALTREPL,
	OUT_FIXUP,
	OUT_RODATA,
	OUT_STR,
	OUT_DATA,
	OUT_BSS,
	OUT_ALTINSTR,
	OUT_EXTABLE,
	OUT_BUG0,		/* .. OUT_BUG0 + 3 */
	OUT_FUNCS = OUT_BUG0 + 4,
	OUT_HOOK0,		/* .. OUT_HOOK0 + 7, in enum xhp_hook order */
	OUT_NOTE_ID = OUT_HOOK0 + 8,
	OUT_DEPENDS,
	OUT_XEN_DEPENDS,
	OUT_MODINFO,
	OUT_NSECS
};

struct out_rela {
	uint64_t off;
	uint32_t type;
	size_t sym;
	int64_t addend;
};

struct out_sec {
	const char *name;
	uint32_t type;
	uint64_t flags, align;
	uint8_t *buf;		/* NULL for NOBITS */
	uint64_t size, cap;
	struct out_rela *rela;
	size_t nrela, crela;
	size_t secsym;		/* 0 until first used */
};

struct out_sym {
	char *name;		/* NULL: unnamed */
	unsigned char type;	/* STT_* */
	int sec;		/* enum out_id, or -1 for SHN_ABS */
	uint64_t value, size;
};

struct out {
	struct out_sec secs[OUT_NSECS];
	struct out_sym *syms;	/* [0] is the null symbol */
	size_t nsyms, csyms;
};

void out_init(struct out *o);
void out_free(struct out *o);

/* Append len bytes (p NULL: zeros; NOBITS sections only grow) aligned to
 * align; returns the offset. */
uint64_t out_append(struct out *o, int id, const void *p, uint64_t len, uint64_t align);
void out_rela_add(struct out *o, int id, uint64_t off, uint32_t type, size_t sym, int64_t addend);
size_t out_secsym(struct out *o, int id);
size_t out_sym_add(struct out *o, const char *name, unsigned char type, int id,
		   uint64_t value, uint64_t size);
/* An SHN_ABS symbol, one per (name, value). */
size_t out_abs(struct out *o, const char *name, unsigned char type, uint64_t value, uint64_t size);
/* Copy a NUL-terminated string (len includes the NUL) into .rodata.str,
 * once per content; returns its offset. */
uint64_t out_string(struct out *o, const void *s, size_t len);
/* A GNU build-id note in section id. */
void out_note(struct out *o, int id, const struct xhp_build_id *bid);

/* Write the ELF to path (via path.tmp.PID, renamed once check(arg, tmp)
 * returned 0), filling .note.gnu.build-id with the SHA-1 of the contents;
 * *bid receives it. On failure path is left as it was. */
int out_write(struct out *o, const char *path, struct xhp_build_id *bid,
	      int (*check)(void *arg, const char *tmp), void *arg, struct diag *d);

/* SHA-1 (FIPS 180-4) */
struct sha1 {
	uint32_t h[5];
	uint64_t len;
	uint8_t buf[64];
	size_t nbuf;
};
void sha1_init(struct sha1 *c);
void sha1_update(struct sha1 *c, const void *p, size_t n);
void sha1_final(struct sha1 *c, uint8_t out[20]);

#endif
