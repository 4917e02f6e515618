/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One relocatable object (x86-64 ET_REL) as the diff engine sees it: its
 * sections with their RELA entries attached, its symbols, and its
 * "elements" -- the unit that is compared and copied.
 *
 * An element is a FUNC or OBJECT symbol. When it is the only FUNC/OBJECT in
 * its section (the normal case with -ffunction-sections -fdata-sections) the
 * element is the whole section, so code that inline asm parks after the
 * function (".subsection 1") travels with it; in a shared section
 * (.init.text, .data.read_mostly, ...) it is [st_value, st_value + st_size).
 */
#ifndef XHP_BUILDER_OBJ_H
#define XHP_BUILDER_OBJ_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum elem_state {
	ST_NONE,	/* not an element */
	ST_SAME,	/* twin found, equal */
	ST_CHANGED,	/* twin found, different */
	ST_NEW,		/* no twin */
};

struct osym;

struct orela {
	uint64_t off;		/* in the section it patches */
	uint32_t type;
	struct osym *sym;
	int64_t addend;
};

struct osec {
	size_t idx;
	const char *name;
	GElf_Shdr sh;
	const uint8_t *data;	/* NULL for NOBITS or empty */
	struct orela *rela;	/* sorted by offset */
	size_t nrela;
	struct osym *secsym;	/* its STT_SECTION symbol, if any */
	struct osym **elems;	/* FUNC/OBJECT symbols defined here, by value */
	size_t nelems;
	struct osec *twin;	/* same-named section of the other object */
	/* Output placement when the section is copied as a whole (anonymous
	 * read-only data, jump tables); -1 when not placed. */
	int out;
	uint64_t out_off;
	const char *path;	/* the object file, for the disassembler */
	/* instruction start offsets (text sections, read on demand) */
	uint64_t *insn;
	size_t ninsn;
	bool insn_read;
};

struct osym {
	size_t idx;
	const char *name;
	GElf_Sym s;
	unsigned char type, bind;
	struct osec *sec;	/* NULL: undefined, absolute or common */
	/* element range in sec (valid when is_elem) */
	bool is_elem;
	uint64_t start, end;
	struct osym *twin;
	enum elem_state state;
	const char *why;	/* why it counts as changed, for the report */
	struct osym *parent;	/* "f.cold" -> "f" */
	struct osym **users;	/* elements whose relocations point here */
	size_t nusers;
	bool keep;		/* copied into the payload */
	int out;		/* output section, -1 if not placed */
	uint64_t out_off;
	size_t out_sym;		/* output symbol index, 0 if none */
};

struct obj {
	char *path;		/* the object file */
	char *src;		/* source path relative to the hypervisor tree */
	int fd;
	Elf *elf;
	struct osec *secs;
	size_t nsecs;
	struct osym *syms;
	size_t nsyms;
};

/* Load an object. -errno with d's message set on failure. */
int obj_load(struct obj *o, const char *path, const char *src, struct diag *d);
void obj_free(struct obj *o);

struct osec *obj_sec(const struct obj *o, const char *name);
/* The name of the object's first STT_FILE symbol, "" if none. */
const char *obj_file_symbol(const struct obj *o);
/* The element whose range holds off (start <= off < end), else one that
 * ends exactly at off; NULL if none. */
struct osym *sec_elem_at(const struct osec *s, uint64_t off);
/* Where the instruction holding offset off of text section s ends (its
 * successor's offset), from objdump's disassembly of the section; 0 when
 * unknown. Used to tell which of several small variables a PC-relative
 * reference means: the target is raw + (end - off). */
uint64_t sec_insn_end(struct osec *s, uint64_t off);
/* RELA entries of s with offset in [from, to): first index and count. */
size_t sec_rela_range(const struct osec *s, uint64_t from, uint64_t to, size_t *first);

bool sec_is_alloc(const struct osec *s);
bool sec_is_text(const struct osec *s);
bool sec_is_writable(const struct osec *s);	/* .data.rel.ro* counts as read-only */
bool sec_is_strings(const struct osec *s);	/* SHF_MERGE|SHF_STRINGS */
bool sec_is_consts(const struct osec *s);	/* SHF_MERGE, fixed-size entries */
bool sec_is_init(const struct osec *s);		/* .init.* : freed after boot */
bool sec_is_percpu(const struct osec *s);	/* .bss.percpu*, .data.percpu*: templates */
/* Tables the hypervisor reads at boot or registers once (boot and run-time
 * parameters, initcalls): a new entry has no effect in a payload. */
bool sec_is_boot_table(const struct osec *s);
bool sec_is_ignored(const struct osec *s);	/* debug, notes, .discard, .eh_frame... */
/* Sections whose entries belong to functions (bug frames, alternatives,
 * exception table, fixup code, hooks): handled by special.c, not compared. */
bool sec_is_special(const struct osec *s);

/* A name's base: "f.isra.0" -> "f.isra", "calls.3" -> "calls", "f" -> "f".
 * Writes at most n bytes (NUL included). */
void sym_base_name(const char *name, char *out, size_t n);
bool sym_is_cold(const struct osym *s);		/* "f.cold", "f.cold.3" */
/* A local function GCC cloned: "f.isra.0", "f.constprop.1", "f.part.0" */
bool sym_is_clone(const struct osym *s);
bool sym_is_func(const struct osym *s);
bool sym_is_object(const struct osym *s);

/* Bytes of s's element: NULL for NOBITS. */
const uint8_t *elem_bytes(const struct osym *s);

#endif
