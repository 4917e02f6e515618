/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a relocation points at, in terms the engine can compare between the
 * original and patched objects and copy into a payload: an element (function
 * or variable), a string of a mergeable string section, an entry of a
 * mergeable constant section, an anonymous chunk (a section without
 * symbols: jump tables, fixup code), or an undefined/absolute symbol.
 *
 * The reference's "raw" offset is st_value (0 for a section symbol) plus the
 * addend: for PC-relative references in code it lies 4 + (size of a
 * trailing immediate) bytes before the real target. Where several elements
 * of a shared section could be meant, the candidates are probed and the
 * result marked ambiguous (see classify()).
 */
#ifndef XHP_BUILDER_TARGET_H
#define XHP_BUILDER_TARGET_H

#include "obj.h"

enum tkind {
	T_NONE,		/* unsupported: reason in why */
	T_ELEM,
	T_STRING,
	T_CONST,
	T_ANON,
	T_UNDEF,
	T_ABS,
};

struct target {
	enum tkind kind;
	struct osec *sec;	/* holds the chunk */
	struct osym *elem;	/* T_ELEM */
	struct osym *sym;	/* the relocation's symbol */
	uint64_t start, len;	/* chunk in sec (T_ELEM: the element's range) */
	int64_t rel;		/* raw offset - start */
	bool ambiguous;		/* several elements matched the probes */
	const char *why;	/* T_NONE */
	struct osym *cands[4];	/* the elements the probes hit (T_ELEM by location) */
	size_t ncands;
};

#define MAX_PROBES 4

/* The offsets where the referenced byte may be: for a PC-relative reference
 * from code raw + 4 + {0, 1, 2, 4}, otherwise raw. Returns the count. */
size_t default_probes(const struct osec *from, const struct orela *r, int64_t *probes);
/* raw offset of a reference in its symbol's section */
int64_t rela_raw(const struct orela *r);

/* Classify r (made from section from) using probes (NULL: default ones). */
void classify(const struct osec *from, const struct orela *r, const int64_t *probes,
	      size_t nprobes, struct target *t);

/* A chunk of anonymous section sec at [start, start + len), as special
 * sections (fixup code, alternative replacements) define them. */
void target_anon(struct osec *sec, uint64_t start, uint64_t len, int64_t raw, struct target *t);

/* Fill every element's users (the elements referring to it). */
void index_users(struct obj *o);

#endif
