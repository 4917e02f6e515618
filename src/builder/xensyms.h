/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The running hypervisor's symbols, from the kit's xen-syms: every reference
 * a payload makes to code or data it does not carry becomes an SHN_ABS
 * symbol holding the address found here (see README.md, "How the payload
 * builder resolves references").
 *
 * Local symbols are scoped by the STT_FILE symbol that precedes them in
 * xen-syms' .symtab. With CONFIG_ENFORCE_UNIQUE_SYMBOLS Xen's build renames
 * that symbol to the source path relative to xen/ ("common/version.c"), which
 * is also how Xen names statics at run time ("common/version.c#foo").
 */
#ifndef XHP_BUILDER_XENSYMS_H
#define XHP_BUILDER_XENSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "xhp.h"

struct xsym {
	const char *file;	/* STT_FILE scope of a local; NULL for globals */
	const char *name;
	uint64_t value, size;
	unsigned char type;	/* STT_FUNC, STT_OBJECT, ... */
	bool local;
};

struct xensyms {
	char *path;
	void *map;		/* the whole file (read-only mapping) */
	size_t len;
	struct xhp_build_id build_id;
	uint64_t init_begin, init_end;	/* __init_begin, __init_end: freed after boot */
	struct xsym *syms;	/* sorted by (file, name) with globals (file NULL) first */
	size_t nsyms;
	char **files;		/* distinct STT_FILE names */
	size_t nfiles;
	/* loaded sections, for reading bytes at an address */
	struct xsec {
		uint64_t addr, size, off;
		bool nobits;
	} *secs;
	size_t nsecs;
};

int xensyms_load(struct xensyms *x, const char *path, struct diag *d);
void xensyms_free(struct xensyms *x);

/* The STT_FILE name xen-syms uses for a source path ("common/version.c"):
 * the path itself, else the unique one with the same base name; NULL. */
const char *xensyms_file(const struct xensyms *x, const char *src);
/* A local of file, or with file NULL a global (never one for the other). NULL when absent or, with *ambiguous set, when several
 * symbols have that scope and name. */
const struct xsym *xensyms_find(const struct xensyms *x, const char *file, const char *name,
				bool *ambiguous);
/* Bytes at a hypervisor address, NULL when not inside a loaded section. */
const uint8_t *xensyms_bytes(const struct xensyms *x, uint64_t addr, uint64_t len);
/* Does the hypervisor mark indirect-call targets with ENDBR64 (CET-IBT,
 * Xen's CONFIG_XEN_IBT): does any of its functions start with one? */
bool xensyms_has_endbr(const struct xensyms *x);
bool is_endbr64(const uint8_t *p);
/* Is addr in the hypervisor's __init memory (freed after boot)? */
bool xensyms_is_init(const struct xensyms *x, uint64_t addr);
/* The name Xen gives a symbol at run time: "name" or "file#name" (malloc'd). */
char *xensyms_runtime_name(const struct xsym *s);

#endif
