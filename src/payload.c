/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Payload reader: a .livepatch file as Xen 4.17.7 reads it at upload.
 *
 * The checks follow load_payload_data() in xen/common/livepatch.c and
 * xen/common/livepatch_elf.c (see ../shared/reference/
 * xen-livepatch-semantics.md §1.1-§1.8), in the same order, so that a
 * payload with several faults is reported with the errno Xen would return
 * first:
 *   1. ELF header (livepatch_header_check)
 *   2. section table, symbol table, string tables (elf_resolve_sections,
 *      elf_resolve_section_names, elf_get_sym)
 *   3. section flags: W+X, the layout of the loaded sections, and
 *      safe_to_reapply (move_payload)
 *   4. symbols (livepatch_elf_resolve_symbols), relocations
 *      (livepatch_elf_perform_relocs, arch_livepatch_perform_rela)
 *   5. the three mandatory notes exist, the patching sections
 *      (check_special_sections, check_patching_sections)
 *   6. functions, hooks, notes, bug frames, alternatives, .ex_table,
 *      .modinfo (prepare_payload)
 *   7. xen_depends against the running hypervisor (xen_build_id_dep)
 *   8. the payload's symbol table and its new symbols (build_symbol_table)
 * What needs the running hypervisor (names to resolve, loaded build-ids and
 * symbols, Xen's build-id) comes from a struct xhp_hv_view when the caller
 * has one (the simulator); without one, names are assumed to resolve.
 *
 * The ELF structures are decoded here from the bytes, at the strides the
 * file declares (e_shentsize, the symbol table's and each relocation
 * section's sh_entsize), as Xen does: libelf assumes the canonical sizes and
 * would misread a file Xen accepts. Every offset is checked before use.
 *
 * Addresses. Xen copies the loaded (SHF_ALLOC) sections into one buffer:
 * executable sections, then writable ones, then read-only ones, each group
 * page-aligned (move_payload). The reader computes the same layout, so the
 * checks that compare addresses inside the payload (PC32 overflow,
 * alternatives inside .text, new symbols vs new_addr) are exact. The buffer
 * itself lies somewhere in Xen's 1 GiB virtual range; a check that depends on
 * where (a jump to Xen, an absolute symbol) refuses only what fails wherever
 * the buffer is.
 *
 * Where Xen 4.17 would not refuse but crash or read outside the payload (a
 * section it reads through a NULL load address, an array of load/unload
 * hooks that is not loaded, a note whose padded descriptor runs past its
 * section, an empty .modinfo), the reader refuses and says so. Build-ids
 * longer than XHP_BUILD_ID_MAX bytes are a limit of this tool ("this tool").
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
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
#define REL_SIZE 16u
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
#define ALT_INSTR_SIZE 14u	/* struct alt_instr, packed */
#define ALT_OFF_ORIG_LEN 10u
#define ALT_OFF_REPL_LEN 11u
#define EX_TABLE_SIZE 8u
#define KSYM_NAME_LEN 127u	/* Xen keeps payload symbol names to 126 bytes */
#define PAGE_SIZE 4096u

/* Xen's virtual range on x86-64 (XEN_VIRT_START, 1 GiB): the hypervisor and
 * the livepatch area where payload buffers are allocated. */
#define XEN_VIRT_START 0xffff82d040000000ull
#define XEN_VIRT_SPAN (1ll << 30)

#define S_FUNCS ".livepatch.funcs"
#define S_DEPENDS ".livepatch.depends"
#define S_XEN_DEPENDS ".livepatch.xen_depends"
#define S_BUILD_ID ".note.gnu.build-id"
#define S_MODINFO ".modinfo"
#define S_ALT ".altinstructions"
#define S_ALT_REPL ".altinstr_replacement"

#define NO_LOAD UINT64_MAX	/* a section Xen does not load */

/* An address as far as it can be known before Xen loads the payload:
 * k + d - XEN_VIRT_START for some d in [dlo, dhi]. A payload address
 * (inpayload) is k = its offset in the payload buffer, d the buffer's
 * place: differences of two payload addresses are exact. */
struct span {
	int64_t k, dlo, dhi;
	bool inpayload;
};

/* One relocation applied to a section whose relocated contents we read. */
struct rel {
	uint64_t off;
	int64_t addend;
	uint32_t type;
	uint32_t sym;
	uint32_t width;		/* bytes written: 0 (NONE), 4 or 8 */
	uint32_t seq;		/* application order */
};

/* The relocations of one section, sorted by offset once all are known. */
struct relmap {
	size_t sec;		/* 0: none */
	struct rel *rel;
	size_t nrel, caprel;
	bool sorted;
};

enum { MAP_FUNCS, MAP_HOOKS, MAP_ALT = MAP_HOOKS + XHP_HOOK_COUNT, MAP_COUNT };

struct sec {
	Elf64_Shdr sh;
	const char *name;
	uint64_t load;		/* offset in the payload buffer, or NO_LOAD */
};

struct ctx {
	const uint8_t *buf;
	size_t len;
	const struct xhp_hv_view *hv;	/* NULL: names assumed to resolve */
	size_t shnum, shentsize;
	struct sec *sec;
	size_t symtab, strtab;
	size_t nsym;
	Elf64_Sym *sym;
	const char **symname;
	bool *ignored;
	struct span *symaddr;		/* each symbol's address once resolved */
	uint64_t text_size;		/* the executable region of the buffer */
	struct relmap maps[MAP_COUNT];
	uint64_t *targets;		/* new_addr targets, buffer offsets, sorted */
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

/* ---- addresses ------------------------------------------------------------ */

static struct span span_payload(uint64_t off)
{
	return (struct span){ (int64_t)off, 0, XEN_VIRT_SPAN - 1, true };
}

static struct span span_absolute(uint64_t addr)
{
	return (struct span){ (int64_t)(addr - XEN_VIRT_START), 0, 0, false };
}

/* Somewhere in Xen's range: the hypervisor, or another payload. */
static struct span span_xen(void)
{
	return (struct span){ 0, 0, XEN_VIRT_SPAN - 1, false };
}

static struct span span_add(struct span a, int64_t v)
{
	a.k = (int64_t)((uint64_t)a.k + (uint64_t)v);
	return a;
}

/* a - b, computed modulo 2^64 as Xen computes it. */
static struct span span_sub(struct span a, struct span b)
{
	struct span r = { (int64_t)((uint64_t)a.k - (uint64_t)b.k), 0, 0, false };

	if (!(a.inpayload && b.inpayload)) {
		r.dlo = a.dlo - b.dhi;
		r.dhi = a.dhi - b.dlo;
	}
	return r;
}

/* True when every value of s, read as a signed 64-bit number, lies outside
 * [INT32_MIN, INT32_MAX] (both Xen's PC32 overflow and its +-2 GiB jump
 * range). A k far away stays outside even if k + d wraps. */
static bool span_outside_s32(struct span s)
{
	return s.k > (int64_t)INT32_MAX - s.dlo || s.k < (int64_t)INT32_MIN - s.dhi;
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

/* Xen 4.17 reads the sections it interprets through their load address,
 * which only SHF_ALLOC sections have: it would dereference NULL. */
static int need_alloc(struct ctx *c, size_t i)
{
	char n[PR_SIZE];

	if (c->sec[i].sh.sh_flags & SHF_ALLOC)
		return 0;
	return fail(c, -EINVAL, "section %s is not SHF_ALLOC: Xen 4.17 would read it through a NULL address",
		    PR(n, c->sec[i].name));
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

/* Class, byte order, machine (arch_livepatch_verify_elf): first here,
 * because the other fields cannot be read without them. */
static int check_ident(struct ctx *c)
{
	const uint8_t *b = c->buf;
	uint16_t machine;

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
	return 0;
}

static int check_header(struct ctx *c)
{
	const uint8_t *b = c->buf;
	uint16_t type, phnum, shentsize, shnum, shstrndx;
	uint32_t version;
	uint64_t shoff;
	int rc;

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
	if ((rc = check_ident(c)))
		return rc;

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
	c->shnum = shnum;
	c->shentsize = shentsize;
	return 0;
}

/* ---- 2. sections, symbol table, names ---------------------------------- */

/* Section header i, at e_shoff + i * e_shentsize (checked to be inside). */
static void read_shdr(const struct ctx *c, size_t i, Elf64_Shdr *sh)
{
	const uint8_t *b = c->buf + le64(c->buf + 40) + i * c->shentsize;

	sh->sh_name = le32(b);
	sh->sh_type = le32(b + 4);
	sh->sh_flags = le64(b + 8);
	sh->sh_addr = le64(b + 16);
	sh->sh_offset = le64(b + 24);
	sh->sh_size = le64(b + 32);
	sh->sh_link = le32(b + 40);
	sh->sh_info = le32(b + 44);
	sh->sh_addralign = le64(b + 48);
	sh->sh_entsize = le64(b + 56);
}

static int check_strtab(struct ctx *c, size_t i, const char *what)
{
	const Elf64_Shdr *sh = &c->sec[i].sh;
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

/* The checks of elf_resolve_sections on section i, in Xen's order. */
static int check_section(struct ctx *c, size_t i)
{
	Elf64_Shdr *sh = &c->sec[i].sh;

	read_shdr(c, i, sh);
	if (sh->sh_offset < EHDR_SIZE)
		return fail(c, -EINVAL, "section [%zu]: data at offset %llu overlaps the ELF header",
			    i, (unsigned long long)sh->sh_offset);
	if (sh->sh_type != SHT_NOBITS &&
	    (sh->sh_offset > c->len || sh->sh_size > c->len - sh->sh_offset)) {
		uint64_t end = sh->sh_offset + sh->sh_size;

		/* Xen's own sum would wrap and pass; it would then copy
		 * more than the file. */
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
	return 0;
}

static int check_symtab(struct ctx *c)
{
	const Elf64_Shdr *st;

	if (!c->symtab)
		return fail(c, -EINVAL, "no symbol table");
	st = &c->sec[c->symtab].sh;
	if (st->sh_size == 0)
		return fail(c, -EINVAL, "symbol table is empty");
	if (st->sh_entsize < SYM_SIZE)
		return fail(c, -EINVAL, "symbol table entry size %llu, expected at least %u",
			    (unsigned long long)st->sh_entsize, SYM_SIZE);
	if (st->sh_size % st->sh_entsize)
		return fail(c, -EINVAL, "symbol table size %llu is not a multiple of its entry size %llu",
			    (unsigned long long)st->sh_size,
			    (unsigned long long)st->sh_entsize);
	c->strtab = st->sh_link;
	/* Xen would use the absent section [0] as the string table. */
	if (c->strtab == 0)
		return fail(c, -EINVAL, "symbol table has no string table (sh_link 0)");
	return check_strtab(c, c->strtab, "symbol string table");
}

static int check_sections(struct ctx *c)
{
	size_t i, shstrndx = le16(c->buf + 62);
	const Elf64_Shdr *names;
	int rc;

	c->sec = calloc(c->shnum, sizeof(*c->sec));
	if (!c->sec)
		return oom(c);
	for (i = 1; i < c->shnum; i++)
		if ((rc = check_section(c, i)))
			return rc;
	if ((rc = check_symtab(c)))
		return rc;

	/* Section names (elf_resolve_section_names). */
	if (check_strtab(c, shstrndx, "section name table"))
		return -EINVAL;
	names = &c->sec[shstrndx].sh;
	c->sec[0].name = "";
	for (i = 1; i < c->shnum; i++) {
		if (c->sec[i].sh.sh_name >= names->sh_size)
			return fail(c, -EINVAL, "section [%zu]: name offset %u is past the section name table (%llu bytes)",
				    i, c->sec[i].sh.sh_name,
				    (unsigned long long)names->sh_size);
		c->sec[i].name = (const char *)c->buf + names->sh_offset + c->sec[i].sh.sh_name;
	}
	return 0;
}

/* Symbol i, at the symbol table's own stride (elf_get_sym). */
static void read_sym(const struct ctx *c, size_t i, Elf64_Sym *s)
{
	const Elf64_Shdr *st = &c->sec[c->symtab].sh;
	const uint8_t *b = c->buf + st->sh_offset + i * st->sh_entsize;

	s->st_name = le32(b);
	s->st_info = b[4];
	s->st_other = b[5];
	s->st_shndx = le16(b + 6);
	s->st_value = le64(b + 8);
	s->st_size = le64(b + 16);
}

static int read_symbols(struct ctx *c)
{
	const Elf64_Shdr *st = &c->sec[c->symtab].sh, *str = &c->sec[c->strtab].sh;
	size_t i;

	c->nsym = st->sh_size / st->sh_entsize;
	c->sym = calloc(c->nsym, sizeof(*c->sym));
	c->symname = calloc(c->nsym, sizeof(*c->symname));
	c->ignored = calloc(c->nsym, sizeof(*c->ignored));
	c->symaddr = calloc(c->nsym, sizeof(*c->symaddr));
	if (!c->sym || !c->symname || !c->ignored || !c->symaddr)
		return oom(c);
	c->symname[0] = "";
	for (i = 1; i < c->nsym; i++) {
		read_sym(c, i, &c->sym[i]);
		if (c->sym[i].st_name >= str->sh_size)
			return fail(c, -EINVAL, "symbol [%zu]: name offset %u is past the string table (%llu bytes)",
				    i, c->sym[i].st_name, (unsigned long long)str->sh_size);
		/* the string table ends with a NUL (check_strtab) */
		c->symname[i] = (const char *)c->buf + str->sh_offset + c->sym[i].st_name;
	}
	return 0;
}

/* ---- 3. section flags and layout (move_payload) -------------------------- */

enum { REGION_RX, REGION_RW, REGION_RO };

/* calc_section: ROUNDUP(size, align) as Xen computes it, where an alignment
 * of 0 gives 0 (Xen's macro masks with ~(0 - 1)). */
static uint64_t roundup_xen(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int check_flags(struct ctx *c)
{
	uint64_t size[3] = { 0, 0, 0 }, base[3];
	size_t i, rw = 0, rw_sec = 0;
	int *region = calloc(c->shnum, sizeof(*region));
	char n[PR_SIZE];

	if (!region)
		return oom(c);
	for (i = 1; i < c->shnum; i++) {
		const Elf64_Shdr *sh = &c->sec[i].sh;
		bool w = sh->sh_flags & SHF_WRITE, x = sh->sh_flags & SHF_EXECINSTR;
		int r = x ? REGION_RX : w ? REGION_RW : REGION_RO;

		c->sec[i].load = NO_LOAD;
		if (!(sh->sh_flags & SHF_ALLOC))
			continue;
		if (w && x) {
			free(region);
			return fail(c, -EOPNOTSUPP, "section %s is both writable and executable",
				    PR(n, c->sec[i].name));
		}
		region[i] = r;
		c->sec[i].load = roundup_xen(size[r], sh->sh_addralign);
		size[r] = sh->sh_size + c->sec[i].load;
		if (w && sh->sh_size) {
			rw++;
			rw_sec = i;
		}
	}
	base[REGION_RX] = 0;
	base[REGION_RW] = roundup_xen(size[REGION_RX], PAGE_SIZE);
	base[REGION_RO] = base[REGION_RW] + roundup_xen(size[REGION_RW], PAGE_SIZE);
	for (i = 1; i < c->shnum; i++)
		if (c->sec[i].load != NO_LOAD)
			c->sec[i].load += base[region[i]];
	free(region);
	c->text_size = size[REGION_RX];
	c->p->safe_to_reapply = rw == 0 ||
		(rw == 1 && !strcmp(c->sec[rw_sec].name, S_FUNCS));
	return 0;
}

/* ---- 4. symbols and relocations ----------------------------------------- */

/* An undefined symbol: Xen's symbol table, then the loaded payloads. */
static int resolve_undefined(struct ctx *c, size_t i)
{
	char n[PR_SIZE];
	const char *where;
	uint64_t addr = 0;

	c->symaddr[i] = span_xen();
	/* symbols_lookup_by_name("") finds nothing, nor do the payloads */
	if (!c->symname[i][0])
		return fail(c, -ENOENT, "symbol [%zu]: undefined symbol without a name", i);
	if (!c->hv)
		return 0;
	if (c->hv->lookup(c->hv->ctx, c->symname[i], &addr, &where) < 0) {
		if (c->hv->xen_symbols_unknown)
			return 0;
		return fail(c, -ENOENT, "unknown symbol %s: not in the hypervisor's symbol table nor a new symbol of a loaded payload",
			    PR(n, c->symname[i]));
	}
	if (addr)
		c->symaddr[i] = span_absolute(addr);
	return 0;
}

static int check_symbols(struct ctx *c)
{
	size_t i;
	char n[PR_SIZE];
	int rc;

	for (i = 1; i < c->nsym; i++) {
		unsigned idx = c->sym[i].st_shndx;

		switch (idx) {
		case SHN_COMMON:
			return fail(c, -EINVAL, "symbol %s is a common symbol (SHN_COMMON): build with -fno-common",
				    PR(n, c->symname[i]));
		case SHN_UNDEF:
			if ((rc = resolve_undefined(c, i)))
				return rc;
			break;
		case SHN_ABS:
			c->symaddr[i] = span_absolute(c->sym[i].st_value);
			break;
		default:
			if (idx >= SHN_LORESERVE)
				return fail(c, -EOPNOTSUPP, "symbol %s: reserved section index %#x",
					    PR(n, c->symname[i]), idx);
			if (idx >= c->shnum)
				return fail(c, -EINVAL, "symbol %s: section index %u is past the %zu sections",
					    PR(n, c->symname[i]), idx, c->shnum);
			if (c->sec[idx].load == NO_LOAD)
				c->ignored[i] = true;
			else
				c->symaddr[i] = span_payload(c->sec[idx].load + c->sym[i].st_value);
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

	for (i = 0; i < MAP_COUNT; i++)
		if (c->maps[i].sec && c->maps[i].sec == target)
			return &c->maps[i];
	return NULL;
}

static int map_add(struct ctx *c, struct relmap *m, const struct rel *r)
{
	if (m->nrel == m->caprel) {
		size_t cap = m->caprel ? 2 * m->caprel : 16;
		struct rel *nr;

		if (cap > UINT32_MAX)
			return fail(c, -EINVAL, "too many relocations");
		nr = realloc(m->rel, cap * sizeof(*nr));
		if (!nr)
			return oom(c);
		m->rel = nr;
		m->caprel = cap;
	}
	m->rel[m->nrel] = *r;
	m->rel[m->nrel].seq = (uint32_t)m->nrel;
	m->nrel++;
	return 0;
}

/* One relocation (arch_livepatch_perform_rela), checks in Xen's order. */
static int check_one_rela(struct ctx *c, size_t ri, size_t base, size_t k,
			  const uint8_t *e, struct rel *r)
{
	const Elf64_Shdr *bsh = &c->sec[base].sh;
	uint64_t info = le64(e + 8);
	char rn[PR_SIZE], bn[PR_SIZE], sn[PR_SIZE];
	struct span val;

	PR(rn, c->sec[ri].name);
	PR(bn, c->sec[base].name);
	r->off = le64(e);
	r->addend = (int64_t)le64(e + 16);
	r->sym = (uint32_t)ELF64_R_SYM(info);
	r->type = (uint32_t)ELF64_R_TYPE(info);
	if (r->sym == STN_UNDEF)
		return fail(c, -EOPNOTSUPP, "%s[%zu]: relocation without a symbol (STN_UNDEF)", rn, k);
	if (r->sym >= c->nsym)
		return fail(c, -EINVAL, "%s[%zu]: symbol index %u is past the %zu symbols",
			    rn, k, r->sym, c->nsym);
	if (c->ignored[r->sym] && c->symname[r->sym][0])
		return fail(c, -EINVAL, "%s[%zu]: relocation against %s, defined in non-allocated section %s",
			    rn, k, PR(sn, c->symname[r->sym]),
			    PR(bn, sec_name(c, c->sym[r->sym].st_shndx)));
	if (c->ignored[r->sym])
		return fail(c, -EINVAL, "%s[%zu]: relocation against non-allocated section %s",
			    rn, k, PR(sn, sec_name(c, c->sym[r->sym].st_shndx)));
	switch (r->type) {
	case R_X86_64_NONE:
		r->width = 0;
		return 0;
	case R_X86_64_64:
		r->width = 8;
		break;
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		r->width = 4;
		break;
	default:
		return fail(c, -EOPNOTSUPP,
			    "%s[%zu]: relocation type %u (%s) is not supported by Xen (only R_X86_64_NONE, _64, _PC32, _PLT32)",
			    rn, k, r->type, rel_type_name(r->type));
	}
	if (r->off >= bsh->sh_size || r->width > bsh->sh_size - r->off)
		return fail(c, -EINVAL, "%s[%zu]: offset %#llx is past section %s (%llu bytes)",
			    rn, k, (unsigned long long)r->off, bn,
			    (unsigned long long)bsh->sh_size);
	if (r->width == 4) {
		val = span_sub(span_add(c->symaddr[r->sym], r->addend),
			       span_payload(c->sec[base].load + r->off));
		if (span_outside_s32(val))
			return fail(c, -EOVERFLOW, "%s[%zu]: %s does not reach %s%+lld from %s+%#llx",
				    rn, k, rel_type_name(r->type), PR(sn, c->symname[r->sym]),
				    (long long)r->addend, bn, (unsigned long long)r->off);
	}
	return 0;
}

/*
 * A relocation section (livepatch_elf_perform_relocs). Xen skips one whose
 * target is not a section or not loaded, checks the link to the symbol
 * table, skips an empty one, then wants whole entries of at least the
 * type's size (read at sh_entsize strides), and supports SHT_RELA only.
 */
static int check_rela(struct ctx *c, size_t ri)
{
	const Elf64_Shdr *sh = &c->sec[ri].sh;
	size_t base = sh->sh_info, n, k;
	uint64_t min = sh->sh_type == SHT_RELA ? RELA_SIZE : REL_SIZE;
	struct relmap *m;
	char rn[PR_SIZE];
	int rc;

	if (base >= c->shnum)
		return 0;	/* not a valid relocation section: Xen skips it */
	/* Xen would read the absent section [0]'s header (NULL). */
	if (base == 0)
		return fail(c, -EINVAL, "%s: relocates section [0]: Xen 4.17 would read a NULL section header",
			    PR(rn, c->sec[ri].name));
	if (c->sec[base].load == NO_LOAD)
		return 0;	/* relocations for non-loaded sections are skipped */
	PR(rn, c->sec[ri].name);
	if (sh->sh_link != c->symtab)
		return fail(c, -EINVAL, "%s: linked to section [%u], not the symbol table [%zu]",
			    rn, sh->sh_link, c->symtab);
	if (sh->sh_size == 0)
		return 0;
	if (sh->sh_entsize < min)
		return fail(c, -EINVAL, "%s: entry size %llu, expected at least %llu",
			    rn, (unsigned long long)sh->sh_entsize, (unsigned long long)min);
	if (sh->sh_size % sh->sh_entsize)
		return fail(c, -EINVAL, "%s: size %llu is not a multiple of its entry size %llu",
			    rn, (unsigned long long)sh->sh_size,
			    (unsigned long long)sh->sh_entsize);
	if (sh->sh_type == SHT_REL)
		return fail(c, -EOPNOTSUPP, "%s: SHT_REL relocations are not supported by Xen (SHT_RELA only)",
			    rn);
	n = sh->sh_size / sh->sh_entsize;
	m = map_for(c, base);
	for (k = 0; k < n; k++) {
		struct rel r;

		rc = check_one_rela(c, ri, base, k,
				    c->buf + sh->sh_offset + k * sh->sh_entsize, &r);
		if (rc)
			return rc;
		if (m && r.width && (rc = map_add(c, m, &r)))
			return rc;
	}
	return 0;
}

static int check_relocations(struct ctx *c)
{
	size_t i;
	int rc;

	/* The sections whose relocated contents we read. */
	c->maps[MAP_FUNCS].sec = find_sec(c, S_FUNCS);
	for (i = 0; i < XHP_HOOK_COUNT; i++)
		c->maps[MAP_HOOKS + i].sec = find_sec(c, xhp_hook_section[i]);
	c->maps[MAP_ALT].sec = find_sec(c, S_ALT);

	for (i = 1; i < c->shnum; i++) {
		if (c->sec[i].sh.sh_type != SHT_RELA && c->sec[i].sh.sh_type != SHT_REL)
			continue;
		rc = check_rela(c, i);
		if (rc)
			return rc;
	}
	return 0;
}

static int cmp_rel_off(const void *a, const void *b)
{
	const struct rel *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The last relocation (in Xen's order) that writes into [off, off+width) of
 * the mapped section, NULL if none. *exact: it writes exactly that field
 * (an R_X86_64_64 on an 8-byte field, a PC32/PLT32 on a 4-byte one). */
static const struct rel *field_rel(struct relmap *m, uint64_t off, unsigned width,
				   bool *exact)
{
	const struct rel *best = NULL;
	size_t lo = 0, hi;

	*exact = false;
	if (!m || !m->nrel)
		return NULL;
	if (!m->sorted) {
		qsort(m->rel, m->nrel, sizeof(*m->rel), cmp_rel_off);
		m->sorted = true;
	}
	/* first relocation at off - 7 or later: earlier ones end before off */
	hi = m->nrel;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->rel[mid].off + 7 < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < m->nrel && m->rel[lo].off < off + width; lo++) {
		const struct rel *r = &m->rel[lo];

		if (r->off + r->width > off && (!best || r->seq > best->seq))
			best = r;
	}
	*exact = best && best->off == off && best->width == width;
	return best;
}

/* ---- 5. mandatory and patching sections --------------------------------- */

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
		found = true;
	}
	if (!found)
		return fail(c, -EINVAL, "nothing to patch: no %s and no .livepatch.hooks.* section",
			    S_FUNCS);
	return 0;
}

/* ---- 6. prepare_payload: functions -------------------------------------- */

/* Read the string a relocated pointer field points to. 0 and *out set, or an
 * errno with why in msg. */
static int read_pointed_string(struct ctx *c, const struct rel *r, char **out,
			       char *msg, size_t msgsz)
{
	const Elf64_Sym *s = &c->sym[r->sym];
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

struct symkey {
	size_t shndx;
	uint64_t value;
};

static int cmp_symkey(const struct symkey *a, const struct symkey *b)
{
	if (a->shndx != b->shndx)
		return a->shndx < b->shndx ? -1 : 1;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return 0;
}

static int cmp_byaddr(const void *a, const void *b, void *arg)
{
	const struct ctx *c = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const Elf64_Sym *x = &c->sym[i], *y = &c->sym[j];
	struct symkey tx = { x->st_shndx, x->st_value }, ty = { y->st_shndx, y->st_value };
	int r = cmp_symkey(&tx, &ty);

	return r ? r : (i < j ? -1 : i > j);
}

/* Index of the first symbol at (shndx, value) in c->byaddr, or the count. */
static size_t byaddr_find(struct ctx *c, size_t shndx, uint64_t value)
{
	struct symkey key = { shndx, value };
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
		const Elf64_Sym *m = &c->sym[c->byaddr[mid]];
		struct symkey t = { m->st_shndx, m->st_value };

		if (cmp_symkey(&t, &key) < 0)
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
	const Elf64_Sym *s = &c->sym[r->sym];
	size_t k, best = 0, n = c->nsym ? c->nsym - 1 : 0;
	uint64_t value;
	char *out = NULL;

	if (ELF64_ST_TYPE(s->st_info) != STT_SECTION && c->symname[r->sym][0])
		return strdup(c->symname[r->sym]);
	if (s->st_shndx == SHN_UNDEF || s->st_shndx >= c->shnum)
		return strdup(c->symname[r->sym]);
	value = s->st_value + (uint64_t)r->addend;
	k = byaddr_find(c, s->st_shndx, value);
	if (k == SIZE_MAX)
		return NULL;
	for (; k < n; k++) {
		size_t i = c->byaddr[k];
		const Elf64_Sym *o = &c->sym[i];

		if (o->st_shndx != s->st_shndx || o->st_value != value)
			break;
		if (ELF64_ST_TYPE(o->st_info) == STT_SECTION || !c->symname[i][0])
			continue;
		if (!best || (ELF64_ST_TYPE(o->st_info) == STT_FUNC &&
			      ELF64_ST_TYPE(c->sym[best].st_info) != STT_FUNC))
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

/* The value a relocated 8-byte pointer field holds once loaded: the
 * relocation's symbol + addend when one R_X86_64_64 writes exactly it, the
 * stored value when nothing does, anywhere otherwise. */
static struct span pointer_value(struct ctx *c, const struct rel *r, bool exact,
				 uint64_t raw)
{
	if (!r)
		return span_absolute(raw);
	if (exact)
		return span_add(c->symaddr[r->sym], r->addend);
	return span_xen();
}

/* The name field: needed when Xen resolves old_addr by name. 0, or an errno
 * with the reason in why (reported only if the name is needed). */
static int func_name(struct ctx *c, const uint8_t *d, uint64_t b, struct xhp_func *f,
		     char *why, size_t whysz)
{
	bool exact;
	const struct rel *rn = field_rel(&c->maps[MAP_FUNCS], b + FUNC_OFF_NAME, 8, &exact);
	int rc;

	if (!rn) {
		if (get_u64(d, b + FUNC_OFF_NAME))
			snprintf(why, whysz, "name is an absolute address, not a string in the payload");
		else
			snprintf(why, whysz, "no name and no old_addr: Xen cannot find the function");
		return -EINVAL;
	}
	if (!exact) {
		snprintf(why, whysz, "name field has relocation type %u (%s), expected R_X86_64_64",
			 rn->type, rel_type_name(rn->type));
		return -EINVAL;
	}
	rc = read_pointed_string(c, rn, &f->name, why, whysz);
	if (rc == -ENOMEM)
		return oom(c);
	if (!rc && !f->name[0]) {
		snprintf(why, whysz, "empty name: Xen cannot resolve it");
		return -ENOENT;
	}
	return rc;
}

/* new_addr: a jump to the new code when relocated (or set), else a NOP. */
static int func_new(struct ctx *c, const uint8_t *d, uint64_t b, struct xhp_func *f,
		    struct span *addr)
{
	bool exact;
	const struct rel *r = field_rel(&c->maps[MAP_FUNCS], b + FUNC_OFF_NEW_ADDR, 8, &exact);
	const Elf64_Sym *s;

	*addr = pointer_value(c, r, exact, get_u64(d, b + FUNC_OFF_NEW_ADDR));
	f->has_new = r || f->new_addr;
	if (!r || !exact)
		return 0;
	s = &c->sym[r->sym];
	if (s->st_shndx == SHN_ABS) {
		f->new_addr = s->st_value + (uint64_t)r->addend;
		f->has_new = f->new_addr != 0;
		return 0;
	}
	f->new_sym = target_name(c, r);
	if (!f->new_sym)
		return oom(c);
	if (addr->inpayload)
		c->targets[c->ntargets++] = (uint64_t)addr->k;
	return 0;
}

/* old_addr: as loaded, or resolved by name (resolve_old_address). */
static int func_old(struct ctx *c, uint64_t b, struct xhp_func *f,
		    const char *label, int name_rc, const char *why, struct span *addr)
{
	bool exact;
	const struct rel *r = field_rel(&c->maps[MAP_FUNCS], b + FUNC_OFF_OLD_ADDR, 8, &exact);
	const char *where;
	uint64_t a = 0;
	char n[PR_SIZE];

	*addr = pointer_value(c, r, exact, f->old_addr);
	/* an old_addr relocated against a symbol is not 0 once loaded */
	if (f->old_addr || r)
		goto known;
	if (name_rc)
		return fail(c, name_rc, "%s: %s", label, why);
	*addr = span_xen();
	if (!c->hv)
		return 0;
	if (c->hv->lookup(c->hv->ctx, f->name, &a, &where) < 0) {
		if (c->hv->xen_symbols_unknown)
			return 0;
		return fail(c, -ENOENT, "%s: cannot resolve %s: not in the hypervisor's symbol table nor a new symbol of a loaded payload",
			    label, PR(n, f->name));
	}
	if (a)
		*addr = span_absolute(a);
known:
	if (!addr->inpayload && !addr->dlo && !addr->dhi)
		f->old_at = (uint64_t)addr->k + XEN_VIRT_START;
	return 0;
}

/* arch_livepatch_verify_func and livepatch_verify_distance. */
static int func_check(struct ctx *c, const struct xhp_func *f, const char *label,
		      struct span old, struct span new)
{
	unsigned need = JUMP_INSN_SIZE;
	uint8_t insn[4];

	if (!f->has_new) {
		if (f->new_size > OPAQUE_SIZE)
			return fail(c, -EOPNOTSUPP, "%s: NOP patch of %u bytes, Xen allows at most %u",
				    label, f->new_size, OPAQUE_SIZE);
		if (f->old_size < f->new_size)
			return fail(c, -EINVAL, "%s: NOP patch of %u bytes is larger than old_size %u",
				    label, f->new_size, f->old_size);
		return 0;
	}
	/* ENDBR64 (or its poison) at the old function moves the jump */
	if (c->hv && c->hv->read_code && !old.dlo && !old.dhi && !old.inpayload &&
	    c->hv->read_code(c->hv->ctx, (uint64_t)old.k + XEN_VIRT_START, insn, 4) == 0 &&
	    (le32(insn) == 0xfa1e0ff3u || le32(insn) == 0x011f0f66u))
		need += 4;
	if (f->old_size < need)
		return fail(c, -EINVAL, "%s: old_size %u is too small for a %u-byte jump%s",
			    label, f->old_size, JUMP_INSN_SIZE,
			    need > JUMP_INSN_SIZE ? " after ENDBR64" : "");
	if (span_outside_s32(span_sub(old, new)))
		return fail(c, -EOVERFLOW, "%s: the old function is out of reach of a jump (more than 2 GiB away)",
			    label);
	return 0;
}

static void func_read(const uint8_t *d, uint64_t b, struct xhp_func *f)
{
	uint8_t e;

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
}

/* One entry, checks in prepare_payload's order. */
static int parse_func(struct ctx *c, const uint8_t *d, size_t i)
{
	struct xhp_func *f = &c->p->funcs[i];
	uint64_t b = (uint64_t)i * FUNC_V2_SIZE;
	char label[PR_SIZE + 64], n[PR_SIZE], why[PR_SIZE + 128] = "";
	struct span old, new;
	int name_rc, rc;

	func_read(d, b, f);
	/* the name first, so that messages can say which function */
	name_rc = func_name(c, d, b, f, why, sizeof(why));
	if (name_rc == -ENOMEM)
		return name_rc;
	if (f->name && f->name[0])
		snprintf(label, sizeof(label), "%s[%zu] (%s)", S_FUNCS, i, PR(n, f->name));
	else
		snprintf(label, sizeof(label), "%s[%zu]", S_FUNCS, i);

	if (f->version != PAYLOAD_VERSION)
		return fail(c, -EOPNOTSUPP, "%s: version %u, Xen 4.17 accepts version %u",
			    label, f->version, PAYLOAD_VERSION);
	if (!f->old_size)
		return fail(c, -EINVAL, "%s: old_size is 0", label);
	if ((rc = func_new(c, d, b, f, &new)) ||
	    (rc = func_old(c, b, f, label, name_rc, why, &old)))
		return rc;
	return func_check(c, f, label, old, new);
}

static int parse_funcs(struct ctx *c)
{
	struct xhp_payload *p = c->p;
	size_t idx = c->maps[MAP_FUNCS].sec, i;
	uint64_t size;
	const uint8_t *d;
	int rc;

	if (!idx)
		return 0;
	size = c->sec[idx].sh.sh_size;
	d = sec_bytes(c, idx);
	if (size % FUNC_V2_SIZE)
		return fail(c, -EINVAL, "%s: size %llu is not a multiple of %u%s",
			    S_FUNCS, (unsigned long long)size, FUNC_V2_SIZE,
			    size % FUNC_V1_SIZE == 0 && get_u8(d, FUNC_OFF_VERSION) == 1 ?
			    " (64-byte version 1 entries: Xen <= 4.13)" : "");
	if ((rc = need_alloc(c, idx)))
		return rc;
	p->funcs_version = 2;
	p->nfuncs = (size_t)(size / FUNC_V2_SIZE);
	p->funcs = calloc(p->nfuncs, sizeof(*p->funcs));
	c->targets = calloc(p->nfuncs, sizeof(*c->targets));
	if (!p->funcs || !c->targets)
		return oom(c);
	for (i = 0; i < p->nfuncs; i++)
		if ((rc = parse_func(c, d, i)))
			return rc;
	return 0;
}

/* ---- 6. prepare_payload: hooks, notes, optional sections ----------------- */

static int parse_hooks(struct ctx *c)
{
	unsigned h;

	for (h = 0; h < XHP_HOOK_COUNT; h++) {
		struct relmap *m = &c->maps[MAP_HOOKS + h];
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
		/* A single hook that is not loaded has a NULL address: Xen
		 * treats it as absent. An array of them would be called. */
		if (!(c->sec[idx].sh.sh_flags & SHF_ALLOC)) {
			if (h < XHP_HOOK_PREAPPLY)
				return fail(c, -EINVAL, "section %s is not SHF_ALLOC: Xen 4.17 would call its hooks at a NULL address",
					    xhp_hook_section[h]);
			continue;
		}
		d = sec_bytes(c, idx);
		for (s = 0; s < size; s += HOOK_PTR_SIZE) {
			bool exact;

			if (field_rel(m, s, 8, &exact) || get_u64(d, s)) {
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
	if (need_alloc(c, idx))
		return -EINVAL;
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
		return fail(c, -EINVAL, "%s: note descriptor (%u bytes at offset %llu) runs past the %llu-byte section: Xen 4.17 would read past it",
			    name, descsz, (unsigned long long)desc_off, (unsigned long long)size);
	if (descsz > XHP_BUILD_ID_MAX)
		return fail(c, -EOPNOTSUPP, "%s: build-id of %u bytes, this tool handles at most %u",
			    name, descsz, XHP_BUILD_ID_MAX);
	id->len = (uint8_t)descsz;
	memcpy(id->b, d + desc_off, descsz);
	return 0;
}

/* The three notes in Xen's order; a payload whose own build-id is loaded
 * already is refused between the first and the second. */
static int parse_notes(struct ctx *c)
{
	struct xhp_payload *p = c->p;
	char hex[XHP_BUILD_ID_HEX_SIZE], n[PR_SIZE];
	const char *owner;
	int rc;

	if ((rc = parse_note(c, S_BUILD_ID, &p->id)))
		return rc;
	if (c->hv && c->hv->id_loaded && (owner = c->hv->id_loaded(c->hv->ctx, &p->id)))
		return fail(c, -EEXIST, "build-id %s is already loaded as %s",
			    xhp_build_id_hex(&p->id, hex, sizeof(hex)), PR(n, owner));
	if ((rc = parse_note(c, S_DEPENDS, &p->depends)))
		return rc;
	return parse_note(c, S_XEN_DEPENDS, &p->xen_depends);
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

/* Where a 4-byte self-relative field of .altinstructions points, as a
 * payload buffer offset; false when it is not inside the payload (or cannot
 * be told: then the entry is not refused). */
static bool alt_target(struct ctx *c, size_t alt, uint64_t off, int64_t *out, bool *known)
{
	bool exact;
	const struct rel *r = field_rel(&c->maps[MAP_ALT], off, 4, &exact);
	struct span s;

	*known = true;
	if (!r) {
		int32_t raw = (int32_t)get_u32(sec_bytes(c, alt), off);

		s = span_payload(c->sec[alt].load + off + (uint64_t)(int64_t)raw);
	} else if (exact) {
		s = span_add(c->symaddr[r->sym], r->addend);
	} else {
		*known = false;
		return false;
	}
	*out = s.k;
	return s.inpayload;
}

/* Every alternative's original code inside the payload's text and its
 * replacement inside .altinstr_replacement (prepare_payload, 4.17.4+). */
static int check_alt_entries(struct ctx *c, size_t alt, size_t repl)
{
	const uint8_t *d = sec_bytes(c, alt);
	uint64_t n = c->sec[alt].sh.sh_size / ALT_INSTR_SIZE, i;
	int64_t at, rs = (int64_t)c->sec[repl].load, rsize = (int64_t)c->sec[repl].sh.sh_size;
	int64_t text = (int64_t)c->text_size;
	bool known;

	for (i = 0; i < n; i++) {
		uint64_t b = i * ALT_INSTR_SIZE;
		unsigned olen = get_u8(d, b + ALT_OFF_ORIG_LEN), rlen = get_u8(d, b + ALT_OFF_REPL_LEN);
		bool in = alt_target(c, alt, b, &at, &known);

		if (known && (!in || at < 0 || olen > text || at + olen > text))
			return fail(c, -EINVAL, "%s[%llu]: the original code (%u bytes) is not inside the payload's text",
				    S_ALT, (unsigned long long)i, olen);
		in = alt_target(c, alt, b + 4, &at, &known);
		if (known && (!in || c->sec[repl].load == NO_LOAD || at < rs ||
			      rlen > rsize || at + rlen > rs + rsize))
			return fail(c, -EINVAL, "%s[%llu]: the replacement (%u bytes) is not inside %s",
				    S_ALT, (unsigned long long)i, rlen, S_ALT_REPL);
	}
	return 0;
}

static int check_arch_sections(struct ctx *c)
{
	size_t i, idx, repl;
	int rc;

	for (i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), ".bug_frames.%zu", i);
		rc = check_multiple(c, name, BUG_FRAME_SIZE, NULL);
		if (rc)
			return rc;
	}

	rc = check_multiple(c, S_ALT, ALT_INSTR_SIZE, &idx);
	if (rc)
		return rc;
	if (idx && c->sec[idx].sh.sh_size) {
		if (!c->text_size)
			return fail(c, -EINVAL, "%s: alternatives but no executable section", S_ALT);
		repl = find_sec(c, S_ALT_REPL);
		if (!repl)
			return fail(c, -EINVAL, "%s: no %s section", S_ALT, S_ALT_REPL);
		if ((rc = check_alt_entries(c, idx, repl)))
			return rc;
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
		return fail(c, -EINVAL, "section %s is empty: Xen 4.17 would read the byte before it",
			    S_MODINFO);
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

/* ---- 7. xen_build_id_dep ------------------------------------------------- */

static int check_xen_depends(struct ctx *c)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];

	if (!c->hv || !c->hv->xen_id ||
	    xhp_build_id_eq(&c->p->xen_depends, c->hv->xen_id))
		return 0;
	return fail(c, -EINVAL, "%s %s is not this hypervisor's build-id", S_XEN_DEPENDS,
		    xhp_build_id_hex(&c->p->xen_depends, hex, sizeof(hex)));
}

/* ---- 8. symbol table (build_symbol_table) -------------------------------- */

static bool is_payload_symbol(const struct ctx *c, size_t i)
{
	const Elf64_Sym *s = &c->sym[i];

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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A new symbol (not where a function's new_addr points: Xen compares
 * addresses) must not exist in the hypervisor or a loaded payload. */
static int add_new_symbol(struct ctx *c, size_t i)
{
	struct xhp_payload *p = c->p;
	uint64_t at = (uint64_t)c->symaddr[i].k, addr;
	const char *where, *name;
	char n[PR_SIZE], w[PR_SIZE];
	int rc;

	if (c->ntargets && bsearch(&at, c->targets, c->ntargets, sizeof(*c->targets), cmp_u64))
		return 0;
	rc = add_name(c, &p->new_syms, &p->nnew_syms, c->symname[i], KSYM_NAME_LEN - 1);
	if (rc || !c->hv)
		return rc;
	name = p->new_syms[p->nnew_syms - 1];
	if (c->hv->lookup(c->hv->ctx, name, &addr, &where) == 0)
		return fail(c, -EEXIST, "new symbol %s is already defined by %s",
			    PR(n, name), PR(w, where));
	return 0;
}

static int build_symbols(struct ctx *c)
{
	struct xhp_payload *p = c->p;
	size_t i;
	int rc;

	if (c->ntargets)
		qsort(c->targets, c->ntargets, sizeof(*c->targets), cmp_u64);
	for (i = 1; i < c->nsym; i++) {
		if (c->sym[i].st_shndx == SHN_UNDEF)
			rc = add_name(c, &p->undef_syms, &p->nundef_syms, c->symname[i], SIZE_MAX);
		else if (is_payload_symbol(c, i))
			rc = add_new_symbol(c, i);
		else
			rc = 0;
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- API ----------------------------------------------------------------- */

static void ctx_free(struct ctx *c)
{
	size_t i;

	for (i = 0; i < MAP_COUNT; i++)
		free(c->maps[i].rel);
	free(c->sec);
	free(c->sym);
	free(c->symname);
	free(c->ignored);
	free(c->symaddr);
	free(c->targets);
	free(c->byaddr);
}

static int parse(struct ctx *c)
{
	int rc;

	if ((rc = check_header(c)) || (rc = check_sections(c)) ||
	    (rc = read_symbols(c)) || (rc = check_flags(c)) ||
	    (rc = check_symbols(c)) || (rc = check_relocations(c)) ||
	    (rc = check_special_sections(c)) || (rc = check_patching_sections(c)) ||
	    (rc = parse_funcs(c)) || (rc = parse_hooks(c)) ||
	    (rc = parse_notes(c)) || (rc = check_arch_sections(c)) ||
	    (rc = parse_modinfo(c)) || (rc = check_xen_depends(c)) ||
	    (rc = build_symbols(c)))
		return rc;
	c->p->size = c->len;
	return 0;
}

int xhp_payload_upload_check(const void *buf, size_t len,
			     const struct xhp_hv_view *hv,
			     struct xhp_payload *p, struct xhp_err *err)
{
	struct ctx c = { .buf = buf, .len = len, .hv = hv, .p = p, .err = err };
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

int xhp_payload_parse(const void *buf, size_t len, struct xhp_payload *p,
		      struct xhp_err *err)
{
	return xhp_payload_upload_check(buf, len, NULL, p, err);
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
