/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Payload reader: a .livepatch file as Xen 4.17.7 reads it at upload.
 *
 * The checks follow load_payload_data() in xen/common/livepatch.c (see
 * ../shared/reference/xen-livepatch-semantics.md §1.1-§1.8), in the same
 * order, so that a payload with several faults is reported with the errno
 * Xen would return first:
 *   1. ELF header (livepatch_header_check)
 *   2. section table, symbol table, string tables (elf_resolve_sections,
 *      elf_resolve_section_names, elf_get_sym)
 *   3. section flags: W+X (move_payload), safe_to_reapply
 *   4. symbols (livepatch_elf_resolve_symbols), relocations
 *      (arch_livepatch_perform_rela)
 *   5. the three mandatory notes exist, the patching sections
 *      (check_special_sections, check_patching_sections)
 *   6. functions, hooks, notes, bug frames, alternatives, .ex_table,
 *      .modinfo (prepare_payload)
 *   7. the payload's symbol table and its new symbols (build_symbol_table)
 * Checks that need the running hypervisor (xen_depends against Xen's id,
 * duplicate build-ids and symbols, resolving names and undefined symbols,
 * ENDBR64 at old_addr, jump distance) are left to the caller; the data they
 * need is returned.
 *
 * libelf walks the file (section headers, symbols, names), but every offset
 * Xen checks is checked here first: libelf is never asked about bytes that
 * are not known to be inside the file. Relocation entries are decoded
 * directly, because Xen accepts a relocation section with a ragged tail and
 * libelf does not.
 *
 * Where this reader is stricter than Xen it says so in the message ("this
 * tool ..."): 64-byte section headers and 24-byte symbol/relocation entries
 * only (what every toolchain writes), build-ids up to XHP_BUILD_ID_MAX bytes,
 * and the sections Xen 4.17 reads through their load address must have
 * SHF_ALLOC (Xen 4.17 would dereference a NULL load address).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payload.h"
#include "util.h"

const char *const xhp_hook_section[XHP_HOOK_COUNT] = {
	".livepatch.hooks.load",
	".livepatch.hooks.unload",
	".livepatch.hooks.preapply",
	".livepatch.hooks.apply",
	".livepatch.hooks.postapply",
	".livepatch.hooks.prerevert",
	".livepatch.hooks.revert",
	".livepatch.hooks.postrevert",
};

const char *const xhp_hook_label[XHP_HOOK_COUNT] = {
	"load", "unload", "preapply", "apply",
	"postapply", "prerevert", "revert", "postrevert",
};

/* Layouts Xen hard-codes (sizeof on x86-64). */
#define EHDR_SIZE 64u
#define SHDR_SIZE 64u
#define SYM_SIZE 24u
#define RELA_SIZE 24u
#define NOTE_HDR_SIZE 12u
#define NT_GNU_BUILD_ID_TYPE 3u

#define FUNC_V1_SIZE 64u
#define FUNC_V2_SIZE 104u
#define FUNC_OFF_NAME 0u
#define FUNC_OFF_NEW_ADDR 8u
#define FUNC_OFF_OLD_ADDR 16u
#define FUNC_OFF_NEW_SIZE 24u
#define FUNC_OFF_OLD_SIZE 28u
#define FUNC_OFF_VERSION 32u
#define FUNC_OFF_EXPECT 72u
#define PAYLOAD_VERSION 2u
#define OPAQUE_SIZE 31u		/* LIVEPATCH_OPAQUE_SIZE */
#define JUMP_INSN_SIZE 5u	/* ARCH_PATCH_INSN_SIZE */
#define HOOK_PTR_SIZE 8u
#define BUG_FRAME_SIZE 8u
#define ALT_INSTR_SIZE 14u
#define EX_TABLE_SIZE 8u
#define KSYM_NAME_LEN 127u	/* Xen keeps payload symbol names to 126 bytes */

#define S_FUNCS ".livepatch.funcs"
#define S_DEPENDS ".livepatch.depends"
#define S_XEN_DEPENDS ".livepatch.xen_depends"
#define S_BUILD_ID ".note.gnu.build-id"
#define S_MODINFO ".modinfo"

/* One relocation that lands in a section whose contents we interpret. */
struct rel {
	uint64_t off;
	int64_t addend;
	uint32_t type;
	uint32_t sym;
};

/* The relocations applied to one section, and for each 8-byte slot of it
 * the last relocation that writes into that slot (Xen applies them in
 * section order, so the last one wins). */
struct relmap {
	size_t sec;		/* 0: none */
	struct rel *rel;
	size_t nrel, caprel;
	int32_t *slot;		/* index into rel, -1 = untouched */
	size_t nslots;
};

struct sec {
	GElf_Shdr sh;
	const char *name;
};

struct func_target {		/* where a relocated new_addr points */
	size_t shndx;
	uint64_t value;
};

struct ctx {
	const uint8_t *buf;
	size_t len;
	Elf *elf;
	size_t shnum;
	struct sec *sec;
	size_t symtab, strtab;
	size_t nsym;
	GElf_Sym *sym;
	const char **symname;
	bool *ignored;
	struct relmap maps[1 + XHP_HOOK_COUNT]; /* funcs, then the hooks */
	struct func_target *targets;	/* sorted once the functions are read */
	size_t ntargets;
	size_t *byaddr;			/* symbols 1.. sorted by (section, value, index) */
	struct xhp_payload *p;
	struct xhp_err *err;
};

static int fail(struct ctx *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, int rc, const char *fmt, ...)
{
	va_list ap;

	if (c->err) {
		va_start(ap, fmt);
		vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int oom(struct ctx *c)
{
	return fail(c, -ENOMEM, "out of memory");
}

static int libelf_fail(struct ctx *c, const char *what)
{
	return fail(c, -EINVAL, "%s: libelf: %s", what, elf_errmsg(-1));
}

/* Printable form of a string from the file: at most 60 characters, control
 * and non-ASCII bytes as \xNN. */
static const char *pr(char *out, size_t outsz, const char *s)
{
	size_t o = 0, i;

	if (!s)
		s = "";
	for (i = 0; s[i] && o + 5 < outsz; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i >= 60) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return out;
}

#define PR_SIZE 256
#define PR(buf, s) pr(buf, sizeof(buf), s)

static uint16_t le16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static uint64_t le64(const uint8_t *b)
{
	return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

static bool is_pow2(uint64_t v)
{
	return (v & (v - 1)) == 0;
}

/* ---- section contents ------------------------------------------------- */

/* A section's bytes as Xen copies them (before relocation), NULL for
 * NOBITS (zero-filled). Only valid once the section table is checked. */
static const uint8_t *sec_bytes(const struct ctx *c, size_t i)
{
	if (c->sec[i].sh.sh_type == SHT_NOBITS)
		return NULL;
	return c->buf + c->sec[i].sh.sh_offset;
}

static uint8_t get_u8(const uint8_t *d, uint64_t off)
{
	return d ? d[off] : 0;
}

static uint32_t get_u32(const uint8_t *d, uint64_t off)
{
	return d ? le32(d + off) : 0;
}

static uint64_t get_u64(const uint8_t *d, uint64_t off)
{
	return d ? le64(d + off) : 0;
}

/* First section with that name (Xen's livepatch_elf_sec_by_name), 0 when
 * none. */
static size_t find_sec(const struct ctx *c, const char *name)
{
	size_t i;

	for (i = 1; i < c->shnum; i++)
		if (!strcmp(c->sec[i].name, name))
			return i;
	return 0;
}

static const char *sec_name(const struct ctx *c, size_t i)
{
	return i < c->shnum && c->sec[i].name ? c->sec[i].name : "?";
}

/* ---- 1. ELF header ------------------------------------------------------ */

static const char *machine_name(unsigned m)
{
	switch (m) {
	case 0: return "none";
	case 2: return "SPARC";
	case 3: return "i386";
	case 8: return "MIPS";
	case 20: return "PowerPC";
	case 21: return "PowerPC64";
	case 22: return "S/390";
	case 40: return "ARM";
	case 43: return "SPARC V9";
	case 50: return "IA-64";
	case 183: return "AArch64";
	case 243: return "RISC-V";
	case 258: return "LoongArch";
	default: return "unknown";
	}
}

static const char *elf_type_name(unsigned t)
{
	static const char *const n[] = { "ET_NONE", "ET_REL", "ET_EXEC", "ET_DYN", "ET_CORE" };

	return t < 5 ? n[t] : "unknown";
}

static int check_header(struct ctx *c)
{
	const uint8_t *b = c->buf;
	uint16_t type, machine, phnum, shentsize, shnum, shstrndx;
	uint32_t version;
	uint64_t shoff;

	if (c->len == 0)
		return fail(c, -EINVAL, "empty file");
	if (c->len > XHP_PAYLOAD_MAX_SIZE)
		return fail(c, -EFBIG, "file is %zu bytes, Xen accepts at most %u (2 MiB)",
			    c->len, XHP_PAYLOAD_MAX_SIZE);
	if (memcmp(b, ELFMAG, c->len < SELFMAG ? c->len : SELFMAG))
		return fail(c, -EINVAL, "not an ELF file");
	if (c->len < EHDR_SIZE)
		return fail(c, -EINVAL, "truncated: ELF header needs %u bytes, file is %zu bytes",
			    EHDR_SIZE, c->len);

	/* Xen checks the generic fields first, then the machine; both give
	 * -EOPNOTSUPP. Class and byte order come first here because the other
	 * fields cannot be read without them. */
	if (b[EI_CLASS] == ELFCLASS32)
		return fail(c, -EOPNOTSUPP, "ELF class 32: Xen payloads are ELFCLASS64");
	if (b[EI_CLASS] != ELFCLASS64)
		return fail(c, -EOPNOTSUPP, "ELF class byte %u is invalid: Xen payloads are ELFCLASS64",
			    b[EI_CLASS]);
	if (b[EI_DATA] == ELFDATA2MSB)
		return fail(c, -EOPNOTSUPP, "big-endian ELF: Xen x86 payloads are little-endian");
	if (b[EI_DATA] != ELFDATA2LSB)
		return fail(c, -EOPNOTSUPP, "ELF data encoding %u is invalid: Xen x86 payloads are little-endian",
			    b[EI_DATA]);
	machine = le16(b + 18);
	if (machine != EM_X86_64)
		return fail(c, -EOPNOTSUPP, "machine %u (%s): this tool handles x86-64 payloads",
			    machine, machine_name(machine));

	version = le32(b + 20);
	if (b[EI_VERSION] != EV_CURRENT || version != EV_CURRENT)
		return fail(c, -EOPNOTSUPP, "ELF version %u (e_ident) / %u (e_version), expected EV_CURRENT (1)",
			    b[EI_VERSION], version);
	if (b[EI_OSABI] != ELFOSABI_NONE && b[EI_OSABI] != ELFOSABI_FREEBSD)
		return fail(c, -EOPNOTSUPP, "OS ABI %u: Xen accepts ELFOSABI_NONE (0) or ELFOSABI_FREEBSD (9)",
			    b[EI_OSABI]);
	if (b[EI_ABIVERSION] != 0)
		return fail(c, -EOPNOTSUPP, "ABI version %u, expected 0", b[EI_ABIVERSION]);
	type = le16(b + 16);
	if (type != ET_REL)
		return fail(c, -EOPNOTSUPP, "ELF type %u (%s): a payload is a relocatable object (ET_REL)",
			    type, elf_type_name(type));
	phnum = le16(b + 56);
	if (phnum != 0)
		return fail(c, -EOPNOTSUPP, "%u program headers: a payload has none", phnum);

	shoff = le64(b + 40);
	shentsize = le16(b + 58);
	shnum = le16(b + 60);
	shstrndx = le16(b + 62);
	if (shstrndx == SHN_UNDEF)
		return fail(c, -EINVAL, "no section name table (e_shstrndx is SHN_UNDEF)");
	if (shnum >= 1024)
		return fail(c, -EOPNOTSUPP, "%u sections: Xen accepts at most 1023", shnum);
	if (shstrndx >= shnum)
		return fail(c, -EINVAL, "section name table index %u is past the %u sections",
			    shstrndx, shnum);
	if (shoff >= c->len)
		return fail(c, -EINVAL, "truncated: section header table at offset %llu, file is %zu bytes",
			    (unsigned long long)shoff, c->len);
	if (shentsize < SHDR_SIZE)
		return fail(c, -EINVAL, "section header size %u, expected %u", shentsize, SHDR_SIZE);
	if ((c->len - shoff) / shentsize < shnum)
		return fail(c, -EINVAL, "truncated: section header table ends at %llu, file is %zu bytes",
			    (unsigned long long)(shoff + (uint64_t)shnum * shentsize), c->len);
	if (shentsize != SHDR_SIZE)
		return fail(c, -EOPNOTSUPP, "section header size %u: this tool reads %u-byte section headers",
			    shentsize, SHDR_SIZE);
	c->shnum = shnum;
	return 0;
}

/* ---- 2. sections, symbol table, names ---------------------------------- */

static int check_strtab(struct ctx *c, size_t i, const char *what)
{
	const GElf_Shdr *sh = &c->sec[i].sh;
	const uint8_t *d;

	if (sh->sh_type != SHT_STRTAB)
		return fail(c, -EINVAL, "%s [%zu]: type %u, expected SHT_STRTAB (3)",
			    what, i, sh->sh_type);
	if (sh->sh_size == 0)
		return fail(c, -EINVAL, "%s [%zu] is empty", what, i);
	d = c->buf + sh->sh_offset;
	if (d[0] != '\0' || d[sh->sh_size - 1] != '\0')
		return fail(c, -EINVAL, "%s [%zu] does not %s with a NUL byte", what, i,
			    d[0] ? "start" : "end");
	return 0;
}

static int check_sections(struct ctx *c)
{
	size_t i, shstrndx;
	uint64_t end;

	if (elf_getshdrnum(c->elf, &i) || i != c->shnum)
		return libelf_fail(c, "section table");
	c->sec = calloc(c->shnum, sizeof(*c->sec));
	if (!c->sec)
		return oom(c);

	for (i = 1; i < c->shnum; i++) {
		GElf_Shdr *sh = &c->sec[i].sh;
		Elf_Scn *scn = elf_getscn(c->elf, i);

		if (!scn || !gelf_getshdr(scn, sh))
			return libelf_fail(c, "section header");
		if (sh->sh_offset < EHDR_SIZE)
			return fail(c, -EINVAL, "section [%zu]: data at offset %llu overlaps the ELF header",
				    i, (unsigned long long)sh->sh_offset);
		if (sh->sh_type != SHT_NOBITS &&
		    (sh->sh_offset > c->len || sh->sh_size > c->len - sh->sh_offset)) {
			end = sh->sh_offset + sh->sh_size;
			if (end < sh->sh_offset)
				return fail(c, -EINVAL, "section [%zu]: size %llu overflows",
					    i, (unsigned long long)sh->sh_size);
			return fail(c, -EINVAL, "truncated: section [%zu] data ends at %llu, file is %zu bytes",
				    i, (unsigned long long)end, c->len);
		}
		if (!is_pow2(sh->sh_addralign))
			return fail(c, -EOPNOTSUPP, "section [%zu]: alignment %#llx is not a power of 2",
				    i, (unsigned long long)sh->sh_addralign);
		if (sh->sh_addralign && sh->sh_addr % sh->sh_addralign)
			return fail(c, -EINVAL, "section [%zu]: address %#llx is not aligned to %#llx",
				    i, (unsigned long long)sh->sh_addr,
				    (unsigned long long)sh->sh_addralign);
		if ((sh->sh_flags & (SHF_WRITE | SHF_ALLOC)) && sh->sh_type == SHT_NOBITS &&
		    sh->sh_size > XHP_PAYLOAD_MAX_SIZE)
			return fail(c, -EINVAL, "section [%zu]: %llu bytes of zero-fill, Xen allows at most 2 MiB",
				    i, (unsigned long long)sh->sh_size);
		if (sh->sh_type == SHT_SYMTAB) {
			if (c->symtab)
				return fail(c, -EOPNOTSUPP, "more than one symbol table (sections [%zu] and [%zu])",
					    c->symtab, i);
			c->symtab = i;
			if (sh->sh_link >= c->shnum)
				return fail(c, -EINVAL, "symbol table: string table index %u is past the %zu sections",
					    sh->sh_link, c->shnum);
		}
	}
	if (!c->symtab)
		return fail(c, -EINVAL, "no symbol table");
	{
		const GElf_Shdr *st = &c->sec[c->symtab].sh;

		if (st->sh_size == 0)
			return fail(c, -EINVAL, "symbol table is empty");
		if (st->sh_entsize < SYM_SIZE)
			return fail(c, -EINVAL, "symbol table entry size %llu, expected %u",
				    (unsigned long long)st->sh_entsize, SYM_SIZE);
		if (st->sh_size % st->sh_entsize)
			return fail(c, -EINVAL, "symbol table size %llu is not a multiple of its entry size %llu",
				    (unsigned long long)st->sh_size,
				    (unsigned long long)st->sh_entsize);
		c->strtab = st->sh_link;
		if (c->strtab == 0)
			return fail(c, -EINVAL, "symbol table has no string table (sh_link 0)");
		if (check_strtab(c, c->strtab, "symbol string table"))
			return -EINVAL;
		if (st->sh_entsize != SYM_SIZE)
			return fail(c, -EOPNOTSUPP, "symbol table entry size %llu: this tool reads %u-byte symbols",
				    (unsigned long long)st->sh_entsize, SYM_SIZE);
	}

	/* Section names (elf_resolve_section_names). */
	shstrndx = le16(c->buf + 62);
	if (check_strtab(c, shstrndx, "section name table"))
		return -EINVAL;
	for (i = 1; i < c->shnum; i++) {
		if (c->sec[i].sh.sh_name >= c->sec[shstrndx].sh.sh_size)
			return fail(c, -EINVAL, "section [%zu]: name offset %u is past the section name table (%llu bytes)",
				    i, c->sec[i].sh.sh_name,
				    (unsigned long long)c->sec[shstrndx].sh.sh_size);
		c->sec[i].name = elf_strptr(c->elf, shstrndx, c->sec[i].sh.sh_name);
		if (!c->sec[i].name)
			return libelf_fail(c, "section name");
	}
	return 0;
}

static int read_symbols(struct ctx *c)
{
	const GElf_Shdr *st = &c->sec[c->symtab].sh;
	Elf_Data *data;
	size_t i;

	c->nsym = st->sh_size / SYM_SIZE;
	data = elf_getdata(elf_getscn(c->elf, c->symtab), NULL);
	if (!data)
		return libelf_fail(c, "symbol table");
	c->sym = calloc(c->nsym, sizeof(*c->sym));
	c->symname = calloc(c->nsym, sizeof(*c->symname));
	c->ignored = calloc(c->nsym, sizeof(*c->ignored));
	if (!c->sym || !c->symname || !c->ignored)
		return oom(c);
	c->symname[0] = "";
	for (i = 1; i < c->nsym; i++) {
		if (!gelf_getsym(data, (int)i, &c->sym[i]))
			return libelf_fail(c, "symbol table");
		if (c->sym[i].st_name >= c->sec[c->strtab].sh.sh_size)
			return fail(c, -EINVAL, "symbol [%zu]: name offset %u is past the string table (%llu bytes)",
				    i, c->sym[i].st_name,
				    (unsigned long long)c->sec[c->strtab].sh.sh_size);
		c->symname[i] = elf_strptr(c->elf, c->strtab, c->sym[i].st_name);
		if (!c->symname[i])
			return libelf_fail(c, "symbol name");
	}
	return 0;
}

/* ---- 3. section flags (move_payload) ------------------------------------ */

static int check_flags(struct ctx *c)
{
	size_t i, rw = 0, rw_sec = 0;

	for (i = 1; i < c->shnum; i++) {
		const GElf_Shdr *sh = &c->sec[i].sh;
		char n[PR_SIZE];

		if (!(sh->sh_flags & SHF_ALLOC))
			continue;
		if ((sh->sh_flags & SHF_WRITE) && (sh->sh_flags & SHF_EXECINSTR))
			return fail(c, -EOPNOTSUPP, "section %s is both writable and executable",
				    PR(n, c->sec[i].name));
		if ((sh->sh_flags & SHF_WRITE) && sh->sh_size) {
			rw++;
			rw_sec = i;
		}
	}
	c->p->safe_to_reapply = rw == 0 ||
		(rw == 1 && !strcmp(c->sec[rw_sec].name, S_FUNCS));
	return 0;
}

/* ---- 4. symbols and relocations ----------------------------------------- */

static int check_symbols(struct ctx *c)
{
	size_t i;
	char n[PR_SIZE];

	for (i = 1; i < c->nsym; i++) {
		unsigned idx = c->sym[i].st_shndx;

		switch (idx) {
		case SHN_COMMON:
			return fail(c, -EINVAL, "symbol %s is a common symbol (SHN_COMMON): build with -fno-common",
				    PR(n, c->symname[i]));
		case SHN_UNDEF:
		case SHN_ABS:
			break;
		default:
			if (idx >= SHN_LORESERVE)
				return fail(c, -EOPNOTSUPP, "symbol %s: reserved section index %#x",
					    PR(n, c->symname[i]), idx);
			if (idx >= c->shnum)
				return fail(c, -EINVAL, "symbol %s: section index %u is past the %zu sections",
					    PR(n, c->symname[i]), idx, c->shnum);
			if (!(c->sec[idx].sh.sh_flags & SHF_ALLOC))
				c->ignored[i] = true;
		}
	}
	return 0;
}

static const char *rel_type_name(unsigned t)
{
	switch (t) {
	case R_X86_64_NONE: return "R_X86_64_NONE";
	case R_X86_64_64: return "R_X86_64_64";
	case R_X86_64_PC32: return "R_X86_64_PC32";
	case R_X86_64_GOT32: return "R_X86_64_GOT32";
	case R_X86_64_PLT32: return "R_X86_64_PLT32";
	case R_X86_64_GOTPCREL: return "R_X86_64_GOTPCREL";
	case R_X86_64_32: return "R_X86_64_32";
	case R_X86_64_32S: return "R_X86_64_32S";
	case R_X86_64_16: return "R_X86_64_16";
	case R_X86_64_PC16: return "R_X86_64_PC16";
	case R_X86_64_8: return "R_X86_64_8";
	case R_X86_64_PC8: return "R_X86_64_PC8";
	case R_X86_64_PC64: return "R_X86_64_PC64";
	case R_X86_64_GOTPC32: return "R_X86_64_GOTPC32";
	case R_X86_64_GOTPCRELX: return "R_X86_64_GOTPCRELX";
	case R_X86_64_REX_GOTPCRELX: return "R_X86_64_REX_GOTPCRELX";
	default: return "unknown";
	}
}

static struct relmap *map_for(struct ctx *c, size_t target)
{
	size_t i;

	for (i = 0; i < XHP_ARRAY_SIZE(c->maps); i++)
		if (c->maps[i].sec && c->maps[i].sec == target)
			return &c->maps[i];
	return NULL;
}

static int map_add(struct ctx *c, struct relmap *m, const GElf_Rela *r, unsigned width)
{
	uint64_t s;

	if (m->nrel == m->caprel) {
		size_t cap = m->caprel ? 2 * m->caprel : 16;
		struct rel *nr;

		if (cap > INT32_MAX)
			return fail(c, -EINVAL, "too many relocations");
		nr = realloc(m->rel, cap * sizeof(*nr));
		if (!nr)
			return oom(c);
		m->rel = nr;
		m->caprel = cap;
	}
	m->rel[m->nrel] = (struct rel){
		.off = r->r_offset,
		.addend = r->r_addend,
		.type = (uint32_t)GELF_R_TYPE(r->r_info),
		.sym = (uint32_t)GELF_R_SYM(r->r_info),
	};
	for (s = r->r_offset / 8; s <= (r->r_offset + width - 1) / 8 && s < m->nslots; s++)
		m->slot[s] = (int32_t)m->nrel;
	m->nrel++;
	return 0;
}

static int check_rela(struct ctx *c, size_t ri)
{
	const GElf_Shdr *sh = &c->sec[ri].sh;
	size_t base = sh->sh_info, n, k;
	const GElf_Shdr *bsh;
	struct relmap *m;
	const uint8_t *d;
	char rn[PR_SIZE], bn[PR_SIZE], sn[PR_SIZE];

	if (base >= c->shnum)
		return 0;	/* not a valid relocation section: Xen skips it */
	bsh = &c->sec[base].sh;
	if (!(bsh->sh_flags & SHF_ALLOC))
		return 0;	/* relocations for non-loaded sections are skipped */
	PR(rn, c->sec[ri].name);
	if (sh->sh_link != c->symtab)
		return fail(c, -EINVAL, "%s: linked to section [%u], not the symbol table [%zu]",
			    rn, sh->sh_link, c->symtab);
	if (sh->sh_type == SHT_REL)
		return fail(c, -EOPNOTSUPP, "%s: SHT_REL relocations are not supported by Xen (SHT_RELA only)",
			    rn);
	if (sh->sh_entsize != RELA_SIZE)
		return fail(c, sh->sh_entsize < RELA_SIZE ? -EINVAL : -EOPNOTSUPP,
			    "%s: entry size %llu, expected %u", rn,
			    (unsigned long long)sh->sh_entsize, RELA_SIZE);
	/* Xen applies sh_size / sh_entsize entries and ignores a ragged tail,
	 * which libelf refuses: entries are decoded from the file here. */
	n = sh->sh_size / RELA_SIZE;
	d = c->buf + sh->sh_offset;
	m = map_for(c, base);
	PR(bn, c->sec[base].name);
	for (k = 0; k < n; k++) {
		GElf_Rela r;
		size_t sym;
		unsigned type, width;

		r.r_offset = le64(d + k * RELA_SIZE);
		r.r_info = le64(d + k * RELA_SIZE + 8);
		r.r_addend = (int64_t)le64(d + k * RELA_SIZE + 16);
		sym = GELF_R_SYM(r.r_info);
		type = (unsigned)GELF_R_TYPE(r.r_info);
		if (sym == STN_UNDEF)
			return fail(c, -EOPNOTSUPP, "%s[%zu]: relocation without a symbol (STN_UNDEF)",
				    rn, k);
		if (sym >= c->nsym)
			return fail(c, -EINVAL, "%s[%zu]: symbol index %zu is past the %zu symbols",
				    rn, k, sym, c->nsym);
		if (c->ignored[sym] && c->symname[sym][0])
			return fail(c, -EINVAL, "%s[%zu]: relocation against %s, defined in non-allocated section %s",
				    rn, k, PR(sn, c->symname[sym]),
				    PR(bn, sec_name(c, c->sym[sym].st_shndx)));
		if (c->ignored[sym])
			return fail(c, -EINVAL, "%s[%zu]: relocation against non-allocated section %s",
				    rn, k, PR(sn, sec_name(c, c->sym[sym].st_shndx)));
		switch (type) {
		case R_X86_64_NONE:
			continue;
		case R_X86_64_64:
			width = 8;
			break;
		case R_X86_64_PC32:
		case R_X86_64_PLT32:
			width = 4;
			break;
		default:
			return fail(c, -EOPNOTSUPP,
				    "%s[%zu]: relocation type %u (%s) is not supported by Xen (only R_X86_64_NONE, _64, _PC32, _PLT32)",
				    rn, k, type, rel_type_name(type));
		}
		if (r.r_offset >= bsh->sh_size || width > bsh->sh_size - r.r_offset)
			return fail(c, -EINVAL, "%s[%zu]: offset %#llx is past section %s (%llu bytes)",
				    rn, k, (unsigned long long)r.r_offset, bn,
				    (unsigned long long)bsh->sh_size);
		if (m) {
			int rc = map_add(c, m, &r, width);

			if (rc)
				return rc;
		}
	}
	return 0;
}

static int check_relocations(struct ctx *c)
{
	size_t i;
	int rc;

	/* The sections whose relocated contents we read. */
	c->maps[0].sec = find_sec(c, S_FUNCS);
	for (i = 0; i < XHP_HOOK_COUNT; i++)
		c->maps[1 + i].sec = find_sec(c, xhp_hook_section[i]);
	for (i = 0; i < XHP_ARRAY_SIZE(c->maps); i++) {
		struct relmap *m = &c->maps[i];
		size_t s;

		if (!m->sec)
			continue;
		m->nslots = (size_t)((c->sec[m->sec].sh.sh_size + 7) / 8);
		if (m->nslots > XHP_PAYLOAD_MAX_SIZE / 8)
			m->nslots = XHP_PAYLOAD_MAX_SIZE / 8; /* NOBITS, refused later */
		if (!m->nslots)
			continue;
		m->slot = malloc(m->nslots * sizeof(*m->slot));
		if (!m->slot)
			return oom(c);
		for (s = 0; s < m->nslots; s++)
			m->slot[s] = -1;
	}

	for (i = 1; i < c->shnum; i++) {
		if (c->sec[i].sh.sh_type != SHT_RELA && c->sec[i].sh.sh_type != SHT_REL)
			continue;
		rc = check_rela(c, i);
		if (rc)
			return rc;
	}
	return 0;
}

/* The last relocation that writes into the 8-byte field at off of the
 * mapped section, NULL if none. *exact: it is an R_X86_64_64 on exactly
 * that field, so the field's value is symbol + addend. */
static const struct rel *field_rel(const struct relmap *m, uint64_t off, bool *exact)
{
	const struct rel *r;

	*exact = false;
	if (!m || off / 8 >= m->nslots || m->slot[off / 8] < 0)
		return NULL;
	r = &m->rel[m->slot[off / 8]];
	*exact = r->off == off && r->type == R_X86_64_64;
	return r;
}

/* ---- 5. mandatory and patching sections --------------------------------- */

static int need_alloc(struct ctx *c, size_t i)
{
	char n[PR_SIZE];

	if (c->sec[i].sh.sh_flags & SHF_ALLOC)
		return 0;
	return fail(c, -EINVAL, "section %s is not SHF_ALLOC: Xen 4.17 cannot read it",
		    PR(n, c->sec[i].name));
}

static int check_special_sections(struct ctx *c)
{
	static const char *const names[] = { S_DEPENDS, S_XEN_DEPENDS, S_BUILD_ID };
	size_t i, idx;

	for (i = 0; i < XHP_ARRAY_SIZE(names); i++) {
		idx = find_sec(c, names[i]);
		if (!idx)
			return fail(c, -EINVAL, "missing section %s", names[i]);
		if (!c->sec[idx].sh.sh_size)
			return fail(c, -EINVAL, "section %s is empty", names[i]);
		if (need_alloc(c, idx))
			return -EINVAL;
	}
	return 0;
}

static int check_patching_sections(struct ctx *c)
{
	size_t i, idx;
	bool found = false;

	for (i = 0; i < 1 + XHP_HOOK_COUNT; i++) {
		const char *name = i ? xhp_hook_section[i - 1] : S_FUNCS;

		idx = find_sec(c, name);
		if (!idx)
			continue;
		if (!c->sec[idx].sh.sh_size)
			return fail(c, -EINVAL, "section %s is empty", name);
		if (need_alloc(c, idx))
			return -EINVAL;
		found = true;
	}
	if (!found)
		return fail(c, -EINVAL, "nothing to patch: no %s and no .livepatch.hooks.* section",
			    S_FUNCS);
	return 0;
}

/* ---- 6. prepare_payload ------------------------------------------------- */

/* Read the string a relocated pointer field points to. 0 and *out set (or
 * left NULL for an empty NOBITS target), or an errno with why in msg. */
static int read_pointed_string(struct ctx *c, const struct rel *r, char **out,
			       char *msg, size_t msgsz)
{
	const GElf_Sym *s = &c->sym[r->sym];
	char n[PR_SIZE];
	size_t shndx = s->st_shndx;
	uint64_t off, size;
	const uint8_t *d, *nul;

	*out = NULL;
	if (shndx == SHN_UNDEF) {
		snprintf(msg, msgsz, "name points to undefined symbol %s", PR(n, c->symname[r->sym]));
		return -EINVAL;
	}
	if (shndx == SHN_ABS || shndx >= c->shnum) {
		snprintf(msg, msgsz, "name is an absolute address, not a string in the payload");
		return -EINVAL;
	}
	off = s->st_value + (uint64_t)r->addend;
	size = c->sec[shndx].sh.sh_size;
	if (off >= size) {
		snprintf(msg, msgsz, "name at offset %#llx is past section %s (%llu bytes)",
			 (unsigned long long)off, PR(n, c->sec[shndx].name),
			 (unsigned long long)size);
		return -EINVAL;
	}
	d = sec_bytes(c, shndx);
	if (!d) {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	nul = memchr(d + off, 0, (size_t)(size - off));
	if (!nul) {
		snprintf(msg, msgsz, "name is not NUL-terminated inside section %s",
			 PR(n, c->sec[shndx].name));
		return -EINVAL;
	}
	*out = strdup((const char *)d + off);
	return *out ? 0 : -ENOMEM;
}

static int cmp_target(const struct func_target *a, const struct func_target *b)
{
	if (a->shndx != b->shndx)
		return a->shndx < b->shndx ? -1 : 1;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return 0;
}

static int cmp_target_q(const void *a, const void *b)
{
	return cmp_target(a, b);
}

static int cmp_byaddr(const void *a, const void *b, void *arg)
{
	const struct ctx *c = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const GElf_Sym *x = &c->sym[i], *y = &c->sym[j];
	struct func_target tx = { x->st_shndx, x->st_value }, ty = { y->st_shndx, y->st_value };
	int r = cmp_target(&tx, &ty);

	return r ? r : (i < j ? -1 : i > j);
}

/* Index of the first symbol at (shndx, value) in c->byaddr, or the count. */
static size_t byaddr_find(struct ctx *c, size_t shndx, uint64_t value)
{
	struct func_target key = { shndx, value };
	size_t lo = 0, hi = c->nsym ? c->nsym - 1 : 0;

	if (!c->byaddr) {
		size_t i;

		c->byaddr = malloc((hi ? hi : 1) * sizeof(*c->byaddr));
		if (!c->byaddr)
			return SIZE_MAX;
		for (i = 0; i < hi; i++)
			c->byaddr[i] = i + 1;
		qsort_r(c->byaddr, hi, sizeof(*c->byaddr), cmp_byaddr, c);
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const GElf_Sym *m = &c->sym[c->byaddr[mid]];
		struct func_target t = { m->st_shndx, m->st_value };

		if (cmp_target(&t, &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A readable name for what a relocation points to: the symbol, or for a
 * section symbol the symbol defined at that place (a function preferred),
 * else section+offset. NULL only when out of memory. */
static char *target_name(struct ctx *c, const struct rel *r)
{
	const GElf_Sym *s = &c->sym[r->sym];
	size_t k, best = 0, n = c->nsym ? c->nsym - 1 : 0;
	uint64_t value;
	char *out = NULL;

	if (GELF_ST_TYPE(s->st_info) != STT_SECTION && c->symname[r->sym][0])
		return strdup(c->symname[r->sym]);
	if (s->st_shndx == SHN_UNDEF || s->st_shndx >= c->shnum)
		return strdup(c->symname[r->sym]);
	value = s->st_value + (uint64_t)r->addend;
	k = byaddr_find(c, s->st_shndx, value);
	if (k == SIZE_MAX)
		return NULL;
	for (; k < n; k++) {
		size_t i = c->byaddr[k];
		const GElf_Sym *o = &c->sym[i];

		if (o->st_shndx != s->st_shndx || o->st_value != value)
			break;
		if (GELF_ST_TYPE(o->st_info) == STT_SECTION || !c->symname[i][0])
			continue;
		if (!best || (GELF_ST_TYPE(o->st_info) == STT_FUNC &&
			      GELF_ST_TYPE(c->sym[best].st_info) != STT_FUNC))
			best = i;
	}
	if (best)
		return strdup(c->symname[best]);
	if (value == 0)
		return strdup(c->sec[s->st_shndx].name);
	if (asprintf(&out, "%s+%#llx", c->sec[s->st_shndx].name,
		     (unsigned long long)value) < 0)
		return NULL;
	return out;
}

static int parse_funcs(struct ctx *c)
{
	struct xhp_payload *p = c->p;
	const struct relmap *m = &c->maps[0];
	size_t idx = c->maps[0].sec, i;
	uint64_t size;
	const uint8_t *d;

	if (!idx)
		return 0;
	size = c->sec[idx].sh.sh_size;
	d = sec_bytes(c, idx);

	/* Xen <= 4.13 wrote 64-byte version 1 entries; the version byte is
	 * at offset 32 in both layouts. */
	if (size % FUNC_V1_SIZE == 0 && get_u8(d, FUNC_OFF_VERSION) == 1) {
		p->funcs_version = 1;
		return fail(c, -EOPNOTSUPP, "%s: payload version 1 (Xen <= 4.13) not supported by Xen 4.17",
			    S_FUNCS);
	}
	if (size % FUNC_V2_SIZE)
		return fail(c, -EINVAL, "%s: size %llu is not a multiple of %u",
			    S_FUNCS, (unsigned long long)size, FUNC_V2_SIZE);
	p->funcs_version = 2;
	p->nfuncs = (size_t)(size / FUNC_V2_SIZE);
	p->funcs = calloc(p->nfuncs, sizeof(*p->funcs));
	c->targets = calloc(p->nfuncs, sizeof(*c->targets));
	if (!p->funcs || !c->targets)
		return oom(c);

	for (i = 0; i < p->nfuncs; i++) {
		struct xhp_func *f = &p->funcs[i];
		uint64_t b = (uint64_t)i * FUNC_V2_SIZE;
		const struct rel *rn, *rnew, *rold;
		bool xn, xnew, xold, old_set;
		char label[PR_SIZE + 64], n[PR_SIZE], why[PR_SIZE + 128];
		uint8_t e;
		int rc;

		f->new_addr = get_u64(d, b + FUNC_OFF_NEW_ADDR);
		f->old_addr = get_u64(d, b + FUNC_OFF_OLD_ADDR);
		f->new_size = get_u32(d, b + FUNC_OFF_NEW_SIZE);
		f->old_size = get_u32(d, b + FUNC_OFF_OLD_SIZE);
		f->version = get_u8(d, b + FUNC_OFF_VERSION);
		e = get_u8(d, b + FUNC_OFF_EXPECT);
		f->expect_enabled = e & 1;
		f->expect_len = (e >> 1) & 31;
		f->expect_rsv = e >> 6;
		if (d)
			memcpy(f->expect_data, d + b + FUNC_OFF_EXPECT + 1, sizeof(f->expect_data));

		rn = field_rel(m, b + FUNC_OFF_NAME, &xn);
		rnew = field_rel(m, b + FUNC_OFF_NEW_ADDR, &xnew);
		rold = field_rel(m, b + FUNC_OFF_OLD_ADDR, &xold);

		/* The name, read first so that messages can say which function. */
		why[0] = '\0';
		rc = 0;
		if (!rn) {
			if (get_u64(d, b + FUNC_OFF_NAME))
				snprintf(why, sizeof(why), "name is an absolute address, not a string in the payload");
			else
				snprintf(why, sizeof(why), "no name and no old_addr: Xen cannot find the function");
			rc = -EINVAL;
		} else if (!xn) {
			snprintf(why, sizeof(why), "name field has relocation type %u (%s), expected R_X86_64_64",
				 rn->type, rel_type_name(rn->type));
			rc = -EINVAL;
		} else {
			rc = read_pointed_string(c, rn, &f->name, why, sizeof(why));
			if (rc == -ENOMEM)
				return oom(c);
			if (!rc && !f->name[0]) {
				snprintf(why, sizeof(why), "empty name: Xen cannot resolve it");
				rc = -ENOENT;
			}
		}
		if (f->name && f->name[0])
			snprintf(label, sizeof(label), "%s[%zu] (%s)", S_FUNCS, i, PR(n, f->name));
		else
			snprintf(label, sizeof(label), "%s[%zu]", S_FUNCS, i);

		if (f->version != PAYLOAD_VERSION)
			return fail(c, -EOPNOTSUPP, "%s: version %u, Xen 4.17 accepts version %u",
				    label, f->version, PAYLOAD_VERSION);
		if (!f->old_size)
			return fail(c, -EINVAL, "%s: old_size is 0", label);

		/* Xen resolves the name only when old_addr is 0 (an old_addr
		 * relocated against a symbol is not 0 once loaded). */
		old_set = f->old_addr || rold;
		if (rc && !old_set)
			return fail(c, rc, "%s: %s", label, why);

		/* new_addr: relocated means a jump to the new code. */
		if (rnew) {
			const GElf_Sym *s = &c->sym[rnew->sym];

			f->has_new = true;
			if (xnew && s->st_shndx == SHN_ABS) {
				f->new_addr = s->st_value + (uint64_t)rnew->addend;
				f->has_new = f->new_addr != 0;
			} else if (xnew) {
				f->new_sym = target_name(c, rnew);
				if (!f->new_sym)
					return oom(c);
				if (s->st_shndx != SHN_UNDEF && s->st_shndx < c->shnum) {
					c->targets[c->ntargets].shndx = s->st_shndx;
					c->targets[c->ntargets].value = s->st_value + (uint64_t)rnew->addend;
					c->ntargets++;
				}
			}
		} else {
			f->has_new = f->new_addr != 0;
		}

		if (!f->has_new) {
			if (f->new_size > OPAQUE_SIZE)
				return fail(c, -EOPNOTSUPP, "%s: NOP patch of %u bytes, Xen allows at most %u",
					    label, f->new_size, OPAQUE_SIZE);
			if (f->old_size < f->new_size)
				return fail(c, -EINVAL, "%s: NOP patch of %u bytes is larger than old_size %u",
					    label, f->new_size, f->old_size);
		} else if (f->old_size < JUMP_INSN_SIZE) {
			return fail(c, -EINVAL, "%s: old_size %u is too small for a %u-byte jump",
				    label, f->old_size, JUMP_INSN_SIZE);
		}
	}
	return 0;
}

static int parse_hooks(struct ctx *c)
{
	unsigned h;

	for (h = 0; h < XHP_HOOK_COUNT; h++) {
		const struct relmap *m = &c->maps[1 + h];
		size_t idx = m->sec;
		uint64_t size, s;
		const uint8_t *d;

		if (!idx)
			continue;
		size = c->sec[idx].sh.sh_size;
		if (size % HOOK_PTR_SIZE)
			return fail(c, -EINVAL, "section %s: size %llu is not a multiple of %u",
				    xhp_hook_section[h], (unsigned long long)size, HOOK_PTR_SIZE);
		if (h >= XHP_HOOK_PREAPPLY && size != HOOK_PTR_SIZE)
			return fail(c, -EINVAL, "section %s: size %llu, expected %u (one pointer)",
				    xhp_hook_section[h], (unsigned long long)size, HOOK_PTR_SIZE);
		c->p->hooks_present |= 1u << h;
		d = sec_bytes(c, idx);
		for (s = 0; s < size; s += HOOK_PTR_SIZE) {
			bool exact;

			if (field_rel(m, s, &exact) || get_u64(d, s)) {
				c->p->hooks_enabled |= 1u << h;
				break;
			}
		}
	}
	return 0;
}

/* xen_build_id_check() on a mandatory note section. */
static int parse_note(struct ctx *c, const char *name, struct xhp_build_id *id)
{
	size_t idx = find_sec(c, name);
	uint64_t size = c->sec[idx].sh.sh_size;
	const uint8_t *d = sec_bytes(c, idx);
	uint32_t namesz, descsz, type;
	uint64_t desc_off;

	if (size <= NOTE_HDR_SIZE)
		return fail(c, -EINVAL, "%s: note of %llu bytes is too short (Xen needs more than %u)",
			    name, (unsigned long long)size, NOTE_HDR_SIZE);
	namesz = get_u32(d, 0);
	descsz = get_u32(d, 4);
	type = get_u32(d, 8);
	if (type != NT_GNU_BUILD_ID_TYPE)
		return fail(c, -EINVAL, "%s: note type %u, expected NT_GNU_BUILD_ID (3)", name, type);
	if (namesz + descsz < namesz)
		return fail(c, -EINVAL, "%s: note name size %u and descriptor size %u overflow",
			    name, namesz, descsz);
	if (namesz < 4)
		return fail(c, -EINVAL, "%s: note name size %u, expected at least 4 (\"GNU\")",
			    name, namesz);
	if ((uint64_t)namesz + descsz > size - NOTE_HDR_SIZE)
		return fail(c, -EINVAL, "%s: note name (%u bytes) and descriptor (%u bytes) do not fit in %llu bytes",
			    name, namesz, descsz, (unsigned long long)size);
	/* strncmp(name, "GNU", namesz): the owner must be "GNU\0". */
	if (!d || memcmp(d + NOTE_HDR_SIZE, "GNU", 4)) {
		char owner[5] = "", n[PR_SIZE];
		size_t k;

		for (k = 0; d && k < 4 && d[NOTE_HDR_SIZE + k]; k++)
			owner[k] = (char)d[NOTE_HDR_SIZE + k];
		owner[k] = '\0';
		return fail(c, -EINVAL, "%s: note owner \"%s\", expected \"GNU\"", name, PR(n, owner));
	}
	if (descsz == 0)
		return fail(c, -EINVAL, "%s: empty build-id", name);
	desc_off = NOTE_HDR_SIZE + (((uint64_t)namesz + 3) & ~(uint64_t)3);
	if (desc_off + descsz > size)
		return fail(c, -EINVAL, "%s: note descriptor (%u bytes at offset %llu) runs past the %llu-byte section",
			    name, descsz, (unsigned long long)desc_off, (unsigned long long)size);
	if (descsz > XHP_BUILD_ID_MAX)
		return fail(c, -EOPNOTSUPP, "%s: build-id of %u bytes, this tool handles at most %u",
			    name, descsz, XHP_BUILD_ID_MAX);
	id->len = (uint8_t)descsz;
	memcpy(id->b, d + desc_off, descsz);
	return 0;
}

static int check_multiple(struct ctx *c, const char *name, unsigned unit, size_t *idx_out)
{
	size_t idx = find_sec(c, name);
	char n[PR_SIZE];

	if (idx_out)
		*idx_out = idx;
	if (!idx)
		return 0;
	if (c->sec[idx].sh.sh_size % unit)
		return fail(c, -EINVAL, "section %s: size %llu is not a multiple of %u",
			    PR(n, name), (unsigned long long)c->sec[idx].sh.sh_size, unit);
	if (c->sec[idx].sh.sh_size && need_alloc(c, idx))
		return -EINVAL;
	return 0;
}

static int check_arch_sections(struct ctx *c)
{
	size_t i, idx;
	int rc;

	for (i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), ".bug_frames.%zu", i);
		rc = check_multiple(c, name, BUG_FRAME_SIZE, NULL);
		if (rc)
			return rc;
	}

	rc = check_multiple(c, ".altinstructions", ALT_INSTR_SIZE, &idx);
	if (rc)
		return rc;
	if (idx && c->sec[idx].sh.sh_size) {
		bool text = false;

		for (i = 1; i < c->shnum; i++) {
			uint64_t fl = c->sec[i].sh.sh_flags;

			if ((fl & SHF_ALLOC) && (fl & SHF_EXECINSTR) && c->sec[i].sh.sh_size)
				text = true;
		}
		if (!text)
			return fail(c, -EINVAL, ".altinstructions: alternatives but no executable section");
		if (!find_sec(c, ".altinstr_replacement"))
			return fail(c, -EINVAL, ".altinstructions: no .altinstr_replacement section");
	}

	return check_multiple(c, ".ex_table", EX_TABLE_SIZE, NULL);
}

static int parse_modinfo(struct ctx *c)
{
	struct xhp_payload *p = c->p;
	size_t idx = find_sec(c, S_MODINFO), n = 0, i, start;
	const uint8_t *d;
	uint64_t size;

	if (!idx)
		return 0;
	size = c->sec[idx].sh.sh_size;
	if (size == 0)
		return fail(c, -EINVAL, "section %s is empty", S_MODINFO);
	if (need_alloc(c, idx))
		return -EINVAL;
	d = sec_bytes(c, idx);
	if (get_u8(d, size - 1) != '\0')
		return fail(c, -EINVAL, "%s: last byte is not NUL", S_MODINFO);

	p->modinfo_raw = calloc(1, (size_t)size);
	if (!p->modinfo_raw)
		return oom(c);
	if (d)
		memcpy(p->modinfo_raw, d, (size_t)size);
	p->modinfo_raw_len = (size_t)size;

	for (i = 0; i < size; i++)
		if (p->modinfo_raw[i] == '\0' && i > 0 && p->modinfo_raw[i - 1] != '\0')
			n++;
	if (!n)
		return 0;
	p->modinfo = calloc(n, sizeof(*p->modinfo));
	if (!p->modinfo)
		return oom(c);
	for (start = 0; start < size; start = i + 1) {
		const char *s = (const char *)p->modinfo_raw + start;
		const char *eq;
		struct xhp_modinfo *mi;

		i = start + strlen(s);
		if (i == start)
			continue;
		mi = &p->modinfo[p->nmodinfo++];
		eq = strchr(s, '=');
		mi->key = eq ? strndup(s, (size_t)(eq - s)) : strdup(s);
		mi->value = eq ? strdup(eq + 1) : NULL;
		if (!mi->key || (eq && !mi->value))
			return oom(c);
	}
	return 0;
}

/* ---- 7. symbol table (build_symbol_table) -------------------------------- */

static bool is_payload_symbol(const struct ctx *c, size_t i)
{
	const GElf_Sym *s = &c->sym[i];

	if (s->st_shndx == SHN_UNDEF || s->st_shndx >= c->shnum)
		return false;
	if (!(c->sec[s->st_shndx].sh.sh_flags & SHF_ALLOC))
		return false;
	if (!c->symname[i][0])
		return false;
	if ((c->sec[s->st_shndx].sh.sh_flags & SHF_MERGE) && !strncmp(c->symname[i], ".L", 2))
		return false;
	return true;
}

static int add_name(struct ctx *c, char ***v, size_t *n, const char *name, size_t max)
{
	char **nv;

	if ((*n & (*n - 1)) == 0) {	/* grow at 0, 1, 2, 4, ... */
		nv = realloc(*v, (*n ? 2 * *n : 1) * sizeof(**v));
		if (!nv)
			return oom(c);
		*v = nv;
	}
	(*v)[*n] = strndup(name, max);
	if (!(*v)[*n])
		return oom(c);
	(*n)++;
	return 0;
}

static int build_symbols(struct ctx *c)
{
	struct xhp_payload *p = c->p;
	struct func_target key;
	size_t i;
	int rc;

	if (c->ntargets)
		qsort(c->targets, c->ntargets, sizeof(*c->targets), cmp_target_q);
	for (i = 1; i < c->nsym; i++) {
		if (c->sym[i].st_shndx == SHN_UNDEF) {
			rc = add_name(c, &p->undef_syms, &p->nundef_syms, c->symname[i], SIZE_MAX);
			if (rc)
				return rc;
			continue;
		}
		if (!is_payload_symbol(c, i))
			continue;
		/* Not new if it is where some function's new_addr points
		 * (Xen compares addresses). */
		key.shndx = c->sym[i].st_shndx;
		key.value = c->sym[i].st_value;
		if (c->ntargets && bsearch(&key, c->targets, c->ntargets,
					   sizeof(*c->targets), cmp_target_q))
			continue;
		rc = add_name(c, &p->new_syms, &p->nnew_syms, c->symname[i], KSYM_NAME_LEN - 1);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- API ----------------------------------------------------------------- */

static void ctx_free(struct ctx *c)
{
	size_t i;

	if (c->elf)
		elf_end(c->elf);
	for (i = 0; i < XHP_ARRAY_SIZE(c->maps); i++) {
		free(c->maps[i].rel);
		free(c->maps[i].slot);
	}
	free(c->sec);
	free(c->sym);
	free(c->symname);
	free(c->ignored);
	free(c->targets);
	free(c->byaddr);
}

static int parse(struct ctx *c)
{
	int rc;

	if ((rc = check_header(c)))
		return rc;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return libelf_fail(c, "libelf initialisation");
	/* Read-only use: libelf does not write to the image. */
	c->elf = elf_memory((char *)(uintptr_t)c->buf, c->len);
	if (!c->elf || elf_kind(c->elf) != ELF_K_ELF)
		return libelf_fail(c, "ELF header");
	if ((rc = check_sections(c)) || (rc = read_symbols(c)) ||
	    (rc = check_flags(c)) || (rc = check_symbols(c)) ||
	    (rc = check_relocations(c)) || (rc = check_special_sections(c)) ||
	    (rc = check_patching_sections(c)) || (rc = parse_funcs(c)) ||
	    (rc = parse_hooks(c)) ||
	    (rc = parse_note(c, S_BUILD_ID, &c->p->id)) ||
	    (rc = parse_note(c, S_DEPENDS, &c->p->depends)) ||
	    (rc = parse_note(c, S_XEN_DEPENDS, &c->p->xen_depends)) ||
	    (rc = check_arch_sections(c)) || (rc = parse_modinfo(c)) ||
	    (rc = build_symbols(c)))
		return rc;
	c->p->size = c->len;
	return 0;
}

int xhp_payload_parse(const void *buf, size_t len, struct xhp_payload *p,
		      struct xhp_err *err)
{
	struct ctx c = { .buf = buf, .len = len, .p = p, .err = err };
	int rc;

	memset(p, 0, sizeof(*p));
	if (err)
		err->msg[0] = '\0';
	if (!buf && len)
		return fail(&c, -EINVAL, "no data");
	rc = parse(&c);
	ctx_free(&c);
	if (rc)
		xhp_payload_free(p);
	return rc;
}

/* An installed payload's file, as opened: owned by root (or by the user
 * running the tool) and writable by nobody else. */
static int check_installed(const struct stat *st, struct xhp_err *err)
{
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		xhp_err_set(err, "is writable by %s (mode %04o): refusing to load it",
			    st->st_mode & S_IWOTH ? "everyone" : "its group",
			    (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		xhp_err_set(err, "is owned by uid %u, not root: refusing to load it",
			    (unsigned)st->st_uid);
		return -EPERM;
	}
	return 0;
}

/* Open, check and read path; everything is checked on the descriptor that
 * is read, so nothing can be swapped in between. */
static int load(const char *path, bool installed, struct xhp_payload *p, void **data,
		size_t *len, struct xhp_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	memset(p, 0, sizeof(*p));
	if (data)
		*data = NULL;
	if (len)
		*len = 0;
	fd = xhp_open_regular(path, installed ? XHP_OPEN_NOFOLLOW : 0, &st, err);
	if (fd == -ELOOP && installed)
		xhp_err_set(err, "is a symbolic link: payloads must be regular files");
	if (fd < 0)
		return fd;
	rc = installed ? check_installed(&st, err) : 0;
	if (!rc && (uintmax_t)st.st_size > XHP_PAYLOAD_MAX_SIZE) {
		rc = -EFBIG;
		xhp_err_set(err, "file is %jd bytes, Xen accepts at most %u (2 MiB)",
			    (intmax_t)st.st_size, XHP_PAYLOAD_MAX_SIZE);
	}
	if (!rc) {
		rc = xhp_read_fd(fd, (size_t)st.st_size, &buf, &got);
		if (rc == -EFBIG)
			rc = -EAGAIN; /* it grew: reported below */
		else if (rc < 0)
			xhp_err_set(err, "read error: %s", strerror(-rc));
	}
	close(fd);
	if ((!rc && got != (size_t)st.st_size) || rc == -EAGAIN) {
		rc = -EAGAIN;
		xhp_err_set(err, "file changed while being read");
	}
	if (!rc)
		rc = xhp_payload_parse(buf, got, p, err);
	if (!rc && data) {
		*data = buf;
		buf = NULL;
	}
	if (!rc && len)
		*len = got;
	free(buf);
	return rc;
}

int xhp_payload_load(const char *path, struct xhp_payload *p, void **data,
		     size_t *len, struct xhp_err *err)
{
	return load(path, false, p, data, len, err);
}

int xhp_payload_load_installed(const char *path, struct xhp_payload *p, void **data,
			       size_t *len, struct xhp_err *err)
{
	return load(path, true, p, data, len, err);
}

void xhp_payload_free(struct xhp_payload *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; p->funcs && i < p->nfuncs; i++) {
		free(p->funcs[i].name);
		free(p->funcs[i].new_sym);
	}
	free(p->funcs);
	for (i = 0; p->modinfo && i < p->nmodinfo; i++) {
		free(p->modinfo[i].key);
		free(p->modinfo[i].value);
	}
	free(p->modinfo);
	free(p->modinfo_raw);
	for (i = 0; p->new_syms && i < p->nnew_syms; i++)
		free(p->new_syms[i]);
	free(p->new_syms);
	for (i = 0; p->undef_syms && i < p->nundef_syms; i++)
		free(p->undef_syms[i]);
	free(p->undef_syms);
	memset(p, 0, sizeof(*p));
}

const char *xhp_payload_modinfo(const struct xhp_payload *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->nmodinfo; i++)
		if (!strcmp(p->modinfo[i].key, key))
			return p->modinfo[i].value;
	return NULL;
}
