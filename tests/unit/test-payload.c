/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of the payload reader (src/payload.c).
 *
 * Inputs are the real payloads in tests/fuzz/corpus/, built with gcc, ld -r
 * --build-id and objcopy by tests/fuzz/make-corpus.sh (its header lists what
 * each contains; the constants below must match it). Every malformation is
 * made by editing a copy of one of them in memory with the bounds-checked
 * helpers below, then parsed; each case asserts the errno Xen 4.17.7 would
 * return and the one-line message.
 *
 * Data is found relative to $XHP_TOP (default: the current directory).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "payload.h"

#define XEN_ID "c0ffee00112233445566778899aabbccddeeff00"
#define FUNCS_ID "0123456789abcdef0123456789abcdef01234567"
#define HOOKS_ID "89abcdef0123456789abcdef0123456789abcdef"
#define DATA_ID "fedcba9876543210fedcba9876543210fedcba98"

#define FUNCS "good-funcs.livepatch"
#define HOOKS "good-hooks.livepatch"
#define DATA "good-data.livepatch"

/* ---- an ELF image in memory, edited with checked helpers ---------------- */

struct img {
	uint8_t *b;
	size_t len;
};

static char *corpus_path(const char *file)
{
	const char *top = getenv("XHP_TOP");
	char *p;

	if (asprintf(&p, "%s/tests/fuzz/corpus/%s", top && *top ? top : ".", file) < 0)
		abort();
	return p;
}

static struct img img_load(const char *file)
{
	struct img m = { 0 };
	char *path = corpus_path(file);
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		fail_msg("cannot open %s (set XHP_TOP to the repository)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 64);
	rewind(f);
	m.len = (size_t)n;
	m.b = malloc(m.len);
	assert_non_null(m.b);
	assert_int_equal(fread(m.b, 1, m.len, f), m.len);
	fclose(f);
	free(path);
	return m;
}

static Elf64_Ehdr *eh(struct img *m)
{
	assert_true(m->len >= sizeof(Elf64_Ehdr));
	return (Elf64_Ehdr *)(void *)m->b;
}

static Elf64_Shdr *sh(struct img *m, size_t i)
{
	Elf64_Ehdr *e = eh(m);
	uint64_t off = e->e_shoff + i * sizeof(Elf64_Shdr);

	assert_true(i < e->e_shnum);
	assert_true(off % 8 == 0 && off + sizeof(Elf64_Shdr) <= m->len);
	return (Elf64_Shdr *)(void *)(m->b + off);
}

static const char *sname(struct img *m, size_t i)
{
	Elf64_Shdr *st = sh(m, eh(m)->e_shstrndx);

	assert_true(sh(m, i)->sh_name < st->sh_size);
	return (const char *)m->b + st->sh_offset + sh(m, i)->sh_name;
}

static size_t sec(struct img *m, const char *name)
{
	size_t i;

	for (i = 1; i < eh(m)->e_shnum; i++)
		if (!strcmp(sname(m, i), name))
			return i;
	fail_msg("test image has no section %s", name);
	return 0;
}

static uint8_t *sdata(struct img *m, const char *name, size_t at, size_t n)
{
	Elf64_Shdr *s = sh(m, sec(m, name));

	assert_true(at + n <= s->sh_size);
	assert_true(s->sh_offset + s->sh_size <= m->len);
	return m->b + s->sh_offset + at;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Append n bytes at an 8-aligned offset; returns that offset. */
static size_t append(struct img *m, const void *d, size_t n)
{
	size_t off = (m->len + 7) & ~(size_t)7;

	m->b = realloc(m->b, off + n);
	assert_non_null(m->b);
	memset(m->b + m->len, 0, off - m->len);
	if (d)
		memcpy(m->b + off, d, n);
	else
		memset(m->b + off, 0, n);
	m->len = off + n;
	return off;
}

/* Give the section name table a copy at the end with name appended; returns
 * the new name's offset. */
static uint32_t add_name(struct img *m, const char *name)
{
	size_t si = eh(m)->e_shstrndx;
	size_t old = sh(m, si)->sh_size, n = strlen(name) + 1;
	uint8_t *tmp = malloc(old + n);
	size_t off;

	assert_non_null(tmp);
	memcpy(tmp, m->b + sh(m, si)->sh_offset, old);
	memcpy(tmp + old, name, n);
	off = append(m, tmp, old + n);
	free(tmp);
	sh(m, si)->sh_offset = off;
	sh(m, si)->sh_size = old + n;
	return (uint32_t)old;
}

static void rename_sec(struct img *m, const char *from, const char *to)
{
	size_t i = sec(m, from);
	uint32_t off = add_name(m, to);

	sh(m, i)->sh_name = off;
}

/* Add a section with the given contents (NULL: zeros); moves the section
 * header table to the end of the file. Returns its index. */
static size_t add_section(struct img *m, const char *name, uint32_t type,
			  uint64_t flags, const void *d, size_t n)
{
	uint32_t nm = add_name(m, name);
	size_t doff = append(m, d, n ? n : 1);
	size_t shnum = eh(m)->e_shnum, tsz = shnum * sizeof(Elf64_Shdr);
	uint8_t *tab = malloc(tsz + sizeof(Elf64_Shdr));
	Elf64_Shdr ns = { .sh_name = nm, .sh_type = type, .sh_flags = flags,
			  .sh_offset = doff, .sh_size = n, .sh_addralign = 1 };
	size_t toff;

	assert_non_null(tab);
	memcpy(tab, m->b + eh(m)->e_shoff, tsz);
	memcpy(tab + tsz, &ns, sizeof(ns));
	toff = append(m, tab, tsz + sizeof(ns));
	free(tab);
	eh(m)->e_shoff = toff;
	eh(m)->e_shnum = (uint16_t)(shnum + 1);
	return shnum;
}

/* The section header table at stride n (> 64), appended; the helpers above
 * assume 64-byte headers, so this is the last edit of a case. */
static void restride_shdrs(struct img *m, size_t n)
{
	size_t shnum = eh(m)->e_shnum, i;
	uint8_t *tab = calloc(shnum, n);
	size_t off;

	assert_non_null(tab);
	for (i = 0; i < shnum; i++)
		memcpy(tab + i * n, sh(m, i), sizeof(Elf64_Shdr));
	off = append(m, tab, shnum * n);
	free(tab);
	eh(m)->e_shoff = off;
	eh(m)->e_shentsize = (uint16_t)n;
}

/* A section's entries at stride n (> its entry size), appended. */
static void restride_sec(struct img *m, const char *name, size_t n)
{
	Elf64_Shdr *s = sh(m, sec(m, name));
	size_t old = s->sh_entsize, cnt = s->sh_size / old, k, off;
	uint8_t *buf = calloc(cnt, n);

	assert_non_null(buf);
	for (k = 0; k < cnt; k++)
		memcpy(buf + k * n, m->b + s->sh_offset + k * old, old);
	off = append(m, buf, cnt * n);
	free(buf);
	s = sh(m, sec(m, name));
	s->sh_offset = off;
	s->sh_size = cnt * n;
	s->sh_entsize = n;
}

/* Point a section at a fresh copy of d at the end of the file. */
static void replace_data(struct img *m, const char *name, const void *d, size_t n)
{
	size_t i = sec(m, name), off = append(m, d, n);

	sh(m, i)->sh_offset = off;
	sh(m, i)->sh_size = n;
}

static Elf64_Sym *symtab(struct img *m, size_t *n)
{
	Elf64_Shdr *s = sh(m, sec(m, ".symtab"));

	*n = s->sh_size / sizeof(Elf64_Sym);
	assert_true(s->sh_offset % 8 == 0);
	return (Elf64_Sym *)(void *)(m->b + s->sh_offset);
}

static size_t sym_index(struct img *m, const char *name)
{
	Elf64_Shdr *str = sh(m, sec(m, ".strtab"));
	size_t n, i;
	Elf64_Sym *s = symtab(m, &n);

	for (i = 1; i < n; i++)
		if (!strcmp((const char *)m->b + str->sh_offset + s[i].st_name, name))
			return i;
	fail_msg("test image has no symbol %s", name);
	return 0;
}

static Elf64_Sym *sym(struct img *m, const char *name)
{
	size_t n, i = sym_index(m, name);

	return &symtab(m, &n)[i];
}

static Elf64_Rela *rela(struct img *m, const char *relsec, size_t k)
{
	Elf64_Shdr *s = sh(m, sec(m, relsec));

	assert_true((k + 1) * sizeof(Elf64_Rela) <= s->sh_size);
	return (Elf64_Rela *)(void *)(m->b + s->sh_offset + k * sizeof(Elf64_Rela));
}

/* The funcs entry i, field at off. */
static uint8_t *func_field(struct img *m, size_t i, size_t off, size_t n)
{
	return sdata(m, ".livepatch.funcs", i * 104 + off, n);
}

/* A GNU build-id note with the given header fields and len id bytes. */
static size_t make_note(uint8_t *out, uint32_t namesz, uint32_t descsz, uint32_t type,
			const char *owner, size_t len)
{
	size_t i;

	put32(out, namesz);
	put32(out + 4, descsz);
	put32(out + 8, type);
	memcpy(out + 12, owner, 4);
	for (i = 0; i < len; i++)
		out[16 + i] = (uint8_t)(0xa0 + i);
	return 16 + len;
}

/* ---- table of cases ------------------------------------------------------ */

struct tcase {
	const char *name;
	const char *file;
	void (*mutate)(struct img *m);
	int rc;			/* expected return */
	const char *msg;	/* expected substring of err.msg ("" when rc is 0) */
	void (*check)(struct img *m, const struct xhp_payload *p);
};

static struct xhp_err last_err;

static int parse_img(struct img *m, struct xhp_payload *p)
{
	return xhp_payload_parse(m->b, m->len, p, &last_err);
}

/* -- header -- */
static void m_magic(struct img *m) { m->b[1] = 'X'; }
static void m_empty(struct img *m) { m->len = 0; }
static void m_short(struct img *m) { m->len = 40; }
static void m_tiny_text(struct img *m) { memcpy(m->b, "#!/bin/sh\n", 10); m->len = 10; }
static void m_class32(struct img *m) { m->b[EI_CLASS] = ELFCLASS32; }
static void m_class7(struct img *m) { m->b[EI_CLASS] = 7; }
static void m_msb(struct img *m) { m->b[EI_DATA] = ELFDATA2MSB; }
static void m_data0(struct img *m) { m->b[EI_DATA] = 0; }
static void m_aarch64(struct img *m) { eh(m)->e_machine = EM_AARCH64; }
static void m_i386(struct img *m) { eh(m)->e_machine = EM_386; }
static void m_eversion(struct img *m) { eh(m)->e_version = 2; }
static void m_ident_version(struct img *m) { m->b[EI_VERSION] = 0; }
static void m_osabi_linux(struct img *m) { m->b[EI_OSABI] = ELFOSABI_LINUX; }
static void m_osabi_freebsd(struct img *m) { m->b[EI_OSABI] = ELFOSABI_FREEBSD; }
static void m_abiversion(struct img *m) { m->b[EI_ABIVERSION] = 1; }
static void m_exec(struct img *m) { eh(m)->e_type = ET_EXEC; }
static void m_dyn(struct img *m) { eh(m)->e_type = ET_DYN; }
static void m_phnum(struct img *m) { eh(m)->e_phnum = 1; }
static void m_shstrndx0(struct img *m) { eh(m)->e_shstrndx = 0; }
static void m_shnum1024(struct img *m) { eh(m)->e_shnum = 1024; }
static void m_shstrndx_past(struct img *m) { eh(m)->e_shstrndx = eh(m)->e_shnum; }
static void m_shoff_past(struct img *m) { eh(m)->e_shoff = m->len; }
static void m_shentsize32(struct img *m) { eh(m)->e_shentsize = 32; }
static void m_cut_table(struct img *m) { m->len = eh(m)->e_shoff + 100; }
static void m_shentsize80(struct img *m) { restride_shdrs(m, 80); }
static void m_shentsize80_garbage(struct img *m)
{
	/* the 64-byte table read at stride 80: Xen reads garbage headers */
	eh(m)->e_shentsize = 80;
	append(m, NULL, eh(m)->e_shnum * 16u);
}

/* -- section table -- */
static void m_off_in_header(struct img *m) { sh(m, sec(m, ".modinfo"))->sh_offset = 16; }
static void m_nobits_off_in_header(struct img *m) { sh(m, sec(m, ".bss"))->sh_offset = 0; }
static void m_data_past_end(struct img *m) { sh(m, sec(m, ".modinfo"))->sh_size = m->len; }
static void m_off_past_end(struct img *m) { sh(m, sec(m, ".modinfo"))->sh_offset = m->len + 4096; }
static void m_size_overflow(struct img *m) { sh(m, sec(m, ".modinfo"))->sh_size = UINT64_MAX - 8; }
static void m_nobits_big_ok(struct img *m)
{
	/* NOBITS data need not be in the file */
	sh(m, sec(m, ".bss"))->sh_offset = m->len * 4;
	sh(m, sec(m, ".bss"))->sh_size = 1 << 20;
}
static void m_align3(struct img *m) { sh(m, sec(m, ".modinfo"))->sh_addralign = 3; }
static void m_addr_misaligned(struct img *m)
{
	sh(m, sec(m, ".livepatch.funcs"))->sh_addr = 8;	/* align 32 */
}
static void m_bss_3m(struct img *m) { sh(m, sec(m, ".bss"))->sh_size = 3u << 20; }
static void m_two_symtabs(struct img *m) { sh(m, sec(m, ".strtab"))->sh_type = SHT_SYMTAB; }
static void m_symtab_link_past(struct img *m) { sh(m, sec(m, ".symtab"))->sh_link = 999; }
static void m_no_symtab(struct img *m) { sh(m, sec(m, ".symtab"))->sh_type = SHT_PROGBITS; }
static void m_symtab_empty(struct img *m) { sh(m, sec(m, ".symtab"))->sh_size = 0; }
static void m_symtab_entsize16(struct img *m) { sh(m, sec(m, ".symtab"))->sh_entsize = 16; }
static void m_symtab_entsize0(struct img *m) { sh(m, sec(m, ".symtab"))->sh_entsize = 0; }
static void m_symtab_ragged(struct img *m) { sh(m, sec(m, ".symtab"))->sh_size -= 4; }
static void m_symtab_entsize32(struct img *m) { restride_sec(m, ".symtab", 32); }
static void m_symtab_entsize48_garbage(struct img *m)
{
	Elf64_Shdr *s = sh(m, sec(m, ".symtab"));

	s->sh_entsize = 48;
	s->sh_size = s->sh_size / 48 * 48;
}
static void m_symtab_link0(struct img *m) { sh(m, sec(m, ".symtab"))->sh_link = 0; }
static void m_strtab_type(struct img *m) { sh(m, sec(m, ".strtab"))->sh_type = SHT_PROGBITS; }
static void m_strtab_empty(struct img *m) { sh(m, sec(m, ".strtab"))->sh_size = 0; }
static void m_strtab_first(struct img *m) { *sdata(m, ".strtab", 0, 1) = 'x'; }
static void m_strtab_last(struct img *m)
{
	size_t n = sh(m, sec(m, ".strtab"))->sh_size;

	*sdata(m, ".strtab", n - 1, 1) = 'x';
}
static void m_shstrtab_last(struct img *m)
{
	size_t i = eh(m)->e_shstrndx;

	m->b[sh(m, i)->sh_offset + sh(m, i)->sh_size - 1] = 'x';
}
static void m_shstrtab_type(struct img *m) { sh(m, eh(m)->e_shstrndx)->sh_type = SHT_PROGBITS; }
static void m_secname_past(struct img *m) { sh(m, sec(m, ".modinfo"))->sh_name = 100000; }
static void m_symname_past(struct img *m) { sym(m, "do_bar")->st_name = 100000; }

/* -- flags -- */
static void m_wx(struct img *m) { sh(m, sec(m, ".text.new_do_foo"))->sh_flags |= SHF_WRITE; }
static void m_wx_noalloc(struct img *m) { sh(m, sec(m, ".strtab"))->sh_flags |= SHF_WRITE | SHF_EXECINSTR; }
static void m_bss_16(struct img *m) { sh(m, sec(m, ".bss"))->sh_size = 16; }
static void m_data_16(struct img *m)
{
	Elf64_Shdr *s = sh(m, sec(m, ".data"));

	s->sh_offset = sh(m, sec(m, ".modinfo"))->sh_offset;
	s->sh_size = 16;
}
static void m_funcs_readonly(struct img *m) { sh(m, sec(m, ".livepatch.funcs"))->sh_flags &= ~(uint64_t)SHF_WRITE; }

/* -- symbols -- */
static void m_common(struct img *m) { sym(m, "do_bar")->st_shndx = SHN_COMMON; }
static void m_reserved(struct img *m) { sym(m, "do_bar")->st_shndx = 0xff05; }
static void m_shndx_past(struct img *m) { sym(m, "xhp_seed_helper")->st_shndx = 500; }
static void m_abs_ok(struct img *m) { sym(m, "xhp_seed_helper")->st_shndx = SHN_ABS; }

/* -- relocations -- */
static void m_rela_link(struct img *m) { sh(m, sec(m, ".rela.livepatch.funcs"))->sh_link = 1; }
static void m_rel(struct img *m) { sh(m, sec(m, ".rela.livepatch.funcs"))->sh_type = SHT_REL; }
static void m_rela_entsize0(struct img *m) { sh(m, sec(m, ".rela.livepatch.funcs"))->sh_entsize = 0; }
static void m_rela_sym0(struct img *m)
{
	Elf64_Rela *r = rela(m, ".rela.livepatch.funcs", 1);

	r->r_info = ELF64_R_INFO(0, ELF64_R_TYPE(r->r_info));
}
static void m_rela_sym_past(struct img *m)
{
	Elf64_Rela *r = rela(m, ".rela.livepatch.funcs", 1);

	r->r_info = ELF64_R_INFO(4000, ELF64_R_TYPE(r->r_info));
}
static void m_rela_type32(struct img *m)
{
	Elf64_Rela *r = rela(m, ".rela.text.new_do_foo", 0);

	r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), R_X86_64_32);
}
static void m_rela_gotpcrelx(struct img *m)
{
	Elf64_Rela *r = rela(m, ".rela.text.new_do_foo", 0);

	r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), R_X86_64_REX_GOTPCRELX);
}
static void m_rela_offset_past(struct img *m) { rela(m, ".rela.livepatch.funcs", 2)->r_offset = 205; }
static void m_rela_pc32_past(struct img *m) { rela(m, ".rela.text.new_do_foo", 0)->r_offset = 14; }
static void m_rela_ignored(struct img *m) { sh(m, sec(m, ".rodata.str1.1"))->sh_flags &= ~(uint64_t)SHF_ALLOC; }
static void m_rela_info_past(struct img *m)
{
	/* not a valid target: Xen skips the whole section */
	Elf64_Rela *r = rela(m, ".rela.text.new_do_foo", 0);

	sh(m, sec(m, ".rela.text.new_do_foo"))->sh_info = 999;
	r->r_info = ELF64_R_INFO(0, 99);
}
static void m_rela_nonalloc_target(struct img *m)
{
	/* relocations of non-loaded sections are skipped, even bad ones */
	Elf64_Rela *r = rela(m, ".rela.text.new_do_foo", 0);

	sh(m, sec(m, ".rela.text.new_do_foo"))->sh_info = (uint32_t)sec(m, ".strtab");
	r->r_info = ELF64_R_INFO(0, 99);
}

static void m_rela_ragged(struct img *m) { sh(m, sec(m, ".rela.livepatch.funcs"))->sh_size += 5; }
static void m_rela_entsize32(struct img *m) { restride_sec(m, ".rela.livepatch.funcs", 32); }
static void m_rel_entsize0(struct img *m) { m_rel(m); m_rela_entsize0(m); }
static void m_rel_ragged(struct img *m) { m_rel(m); sh(m, sec(m, ".rela.livepatch.funcs"))->sh_entsize = 16; }
static size_t add_empty_rel(struct img *m, uint32_t type, uint64_t entsize)
{
	size_t link = sec(m, ".symtab"), info = sec(m, ".livepatch.funcs");
	size_t i = add_section(m, ".rela.xhp_empty", type, 0, NULL, 0);

	sh(m, i)->sh_link = (uint32_t)link;
	sh(m, i)->sh_info = (uint32_t)info;
	sh(m, i)->sh_entsize = entsize;
	return i;
}
static void m_empty_rela(struct img *m) { add_empty_rel(m, SHT_RELA, 0); }
static void m_empty_rela_odd(struct img *m) { add_empty_rel(m, SHT_RELA, 7); }
static void m_empty_rel(struct img *m) { add_empty_rel(m, SHT_REL, 0); }
static void m_empty_rela_badlink(struct img *m) { sh(m, add_empty_rel(m, SHT_RELA, 0))->sh_link = 1; }
static void m_rela_info0(struct img *m) { sh(m, sec(m, ".rela.livepatch.funcs"))->sh_info = 0; }
static void m_pc32_far(struct img *m) { rela(m, ".rela.text.new_do_foo", 0)->r_addend = 0x7fffffff00000000ll; }
static void m_pc32_abs(struct img *m)
{
	Elf64_Sym *s = sym(m, "do_bar");

	s->st_shndx = SHN_ABS;
	s->st_value = 0;
}
static void m_pc32_local_far(struct img *m)
{
	/* against a symbol of the payload, 4 GiB further: exact overflow */
	Elf64_Rela *r = rela(m, ".rela.text.new_do_foo", 0);

	r->r_info = ELF64_R_INFO(sym_index(m, "xhp_seed_helper"), R_X86_64_PC32);
	r->r_addend = 0x100000000ll;
}
static void m_undef_noname(struct img *m) { sym(m, "do_bar")->st_name = 0; }
static void m_old_addr_far(struct img *m) { put64(func_field(m, 0, 16, 8), 0x1000); }
static void m_old_addr_xen(struct img *m) { put64(func_field(m, 0, 16, 8), 0xffff82d040201000ull); }
static void m_symtab_unaligned(struct img *m)
{
	/* a copy of the symbol table at an odd file offset */
	size_t i = sec(m, ".symtab"), n = sh(m, i)->sh_size;
	uint8_t *copy = malloc(n + 3);
	size_t off;

	assert_non_null(copy);
	memset(copy, 0, 3);
	memcpy(copy + 3, m->b + sh(m, i)->sh_offset, n);
	off = append(m, copy, n + 3);
	free(copy);
	sh(m, i)->sh_offset = off + 3;
}

/* -- mandatory sections -- */
static void m_no_depends(struct img *m) { rename_sec(m, ".livepatch.depends", ".livepatch.dependz"); }
static void m_no_xen_depends(struct img *m) { rename_sec(m, ".livepatch.xen_depends", ".xen_depends"); }
static void m_no_build_id(struct img *m) { rename_sec(m, ".note.gnu.build-id", ".note.gnu.other"); }
static void m_depends_empty(struct img *m) { sh(m, sec(m, ".livepatch.depends"))->sh_size = 0; }
static void m_xen_depends_noalloc(struct img *m) { sh(m, sec(m, ".livepatch.xen_depends"))->sh_flags &= ~(uint64_t)SHF_ALLOC; }

/* -- patching sections -- */
static void m_funcs_empty(struct img *m) { sh(m, sec(m, ".livepatch.funcs"))->sh_size = 0; sh(m, sec(m, ".rela.livepatch.funcs"))->sh_size = 0; }
static void m_funcs_noalloc(struct img *m) { sh(m, sec(m, ".livepatch.funcs"))->sh_flags &= ~(uint64_t)SHF_ALLOC; }
static void m_nothing(struct img *m) { rename_sec(m, ".livepatch.funcs", ".livepatch.funky"); }
static void m_hook_empty(struct img *m)
{
	sh(m, sec(m, ".livepatch.hooks.apply"))->sh_size = 0;
	sh(m, sec(m, ".rela.livepatch.hooks.apply"))->sh_size = 0;
}

/* -- functions -- */
static void m_funcs_200(struct img *m) { sh(m, sec(m, ".livepatch.funcs"))->sh_size = 200; }
static void m_version3(struct img *m) { *func_field(m, 0, 32, 1) = 3; }
static void m_version1_entry(struct img *m) { *func_field(m, 1, 32, 1) = 1; }
static void m_old_size0(struct img *m) { put32(func_field(m, 0, 28, 4), 0); }
static void m_nop32(struct img *m) { put32(func_field(m, 1, 24, 4), 32); put32(func_field(m, 1, 28, 4), 64); }
static void m_nop_larger(struct img *m) { put32(func_field(m, 1, 24, 4), 20); }
static void m_jump_small(struct img *m) { put32(func_field(m, 0, 28, 4), 4); }
static void m_jump_5(struct img *m) { put32(func_field(m, 0, 28, 4), 5); }
static void m_name_unterminated(struct img *m)
{
	size_t n = sh(m, sec(m, ".rodata.str1.1"))->sh_size;

	*sdata(m, ".rodata.str1.1", n - 1, 1) = 'X';
}
static void m_name_past(struct img *m) { rela(m, ".rela.livepatch.funcs", 2)->r_addend = 0x1000; }
static void m_name_empty(struct img *m) { rela(m, ".rela.livepatch.funcs", 0)->r_addend = 6; }
static void m_name_undef(struct img *m)
{
	Elf64_Rela *r = rela(m, ".rela.livepatch.funcs", 0);

	r->r_info = ELF64_R_INFO(sym_index(m, "do_bar"), R_X86_64_64);
}
static void m_name_pc32(struct img *m)
{
	Elf64_Rela *r = rela(m, ".rela.livepatch.funcs", 0);

	r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), R_X86_64_PC32);
}
static void m_name_none(struct img *m)
{
	Elf64_Rela *r = rela(m, ".rela.livepatch.funcs", 0);

	r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), R_X86_64_NONE);
}
static void m_name_abs_value(struct img *m)
{
	m_name_none(m);
	put64(func_field(m, 0, 0, 8), 0xffff82d040123456ull);
}
static void m_name_none_old_addr(struct img *m)
{
	m_name_none(m);
	put64(func_field(m, 0, 16, 8), 0xffff82d040200000ull);
}
static void m_name_unterminated_old_addr(struct img *m)
{
	m_name_unterminated(m);
	put64(func_field(m, 1, 16, 8), 0xffff82d040200000ull);
}
static void m_new_addr_none(struct img *m)
{
	Elf64_Rela *r = rela(m, ".rela.livepatch.funcs", 1);

	r->r_info = ELF64_R_INFO(ELF64_R_SYM(r->r_info), R_X86_64_NONE);
}
static void m_new_addr_undef(struct img *m)
{
	Elf64_Rela *r = rela(m, ".rela.livepatch.funcs", 1);

	r->r_info = ELF64_R_INFO(sym_index(m, "do_bar"), R_X86_64_64);
}
static void m_new_addr_section_sym(struct img *m)
{
	/* against the section symbol of .text.new_do_foo, as for a static
	 * function: the name is found through the symbol at that place */
	Elf64_Rela *r = rela(m, ".rela.livepatch.funcs", 1);
	size_t n, i;
	Elf64_Sym *s = symtab(m, &n);

	for (i = 1; i < n; i++)
		if (ELF64_ST_TYPE(s[i].st_info) == STT_SECTION &&
		    s[i].st_shndx == sec(m, ".text.new_do_foo"))
			break;
	assert_true(i < n);
	r->r_info = ELF64_R_INFO(i, R_X86_64_64);
}
static void m_new_addr_section_offset(struct img *m)
{
	/* against .rodata.str1.1 + 3, where no symbol is defined */
	Elf64_Rela *r = rela(m, ".rela.livepatch.funcs", 1);
	Elf64_Rela *name = rela(m, ".rela.livepatch.funcs", 0);

	r->r_info = ELF64_R_INFO(ELF64_R_SYM(name->r_info), R_X86_64_64);
	r->r_addend = 3;
}
static void m_expect_rsv(struct img *m) { *func_field(m, 1, 72, 1) = (uint8_t)(0x80 | 1 | 5 << 1); }

/* -- hooks (good-hooks) -- */
static void m_unload_12(struct img *m) { sh(m, sec(m, ".livepatch.hooks.unload"))->sh_size = 12; }
static void m_apply_16(struct img *m) { sh(m, sec(m, ".livepatch.hooks.apply"))->sh_size = 16; }
static void m_revert_4(struct img *m) { sh(m, sec(m, ".livepatch.hooks.revert"))->sh_size = 4; }
static void m_revert_value(struct img *m) { put64(sdata(m, ".livepatch.hooks.revert", 0, 8), 0x1234); }
static void m_hooks_noalloc(struct img *m) { sh(m, sec(m, ".livepatch.hooks.postrevert"))->sh_flags &= ~(uint64_t)SHF_ALLOC; }
static void m_load_hooks_noalloc(struct img *m) { sh(m, sec(m, ".livepatch.hooks.load"))->sh_flags &= ~(uint64_t)SHF_ALLOC; }
static void m_hooks_plus_funcs(struct img *m)
{
	/* a funcs section made of zeros: version 0 */
	add_section(m, ".livepatch.funcs", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, NULL, 104);
}

/* -- notes -- */
static void m_xendep_type1(struct img *m) { put32(sdata(m, ".livepatch.xen_depends", 8, 4), 1); }
static void m_build_id_owner(struct img *m) { memcpy(sdata(m, ".note.gnu.build-id", 12, 4), "XEN", 4); }
static void m_depends_owner_gnux(struct img *m) { memcpy(sdata(m, ".livepatch.depends", 12, 4), "GNUX", 4); }
static void m_depends_namesz3(struct img *m) { put32(sdata(m, ".livepatch.depends", 0, 4), 3); }
static void m_depends_overflow(struct img *m)
{
	put32(sdata(m, ".livepatch.depends", 0, 4), 0xfffffff0u);
	put32(sdata(m, ".livepatch.depends", 4, 4), 0x20);
}
static void m_depends_descsz0(struct img *m) { put32(sdata(m, ".livepatch.depends", 4, 4), 0); }
static void m_depends_toolong(struct img *m) { put32(sdata(m, ".livepatch.depends", 4, 4), 21); }
static void m_depends_12(struct img *m) { sh(m, sec(m, ".livepatch.depends"))->sh_size = 12; }
static void m_depends_pad(struct img *m)
{
	/* namesz 5 fits Xen's sum check but the padded descriptor does not */
	uint8_t n[64];
	size_t len = make_note(n, 5, 20, 3, "GNU", 0);

	memset(n + len, 0, 20);
	replace_data(m, ".livepatch.depends", n, 12 + 5 + 20);
}
static void m_depends_long_id(struct img *m)
{
	uint8_t n[128];
	size_t len = make_note(n, 4, 65, 3, "GNU", 65);

	replace_data(m, ".livepatch.depends", n, len);
}
static void m_depends_short_id(struct img *m)
{
	uint8_t n[64];
	size_t len = make_note(n, 4, 1, 3, "GNU", 1);

	replace_data(m, ".livepatch.depends", n, len);
}
static void m_depends_nobits(struct img *m) { sh(m, sec(m, ".livepatch.depends"))->sh_type = SHT_NOBITS; }
static void m_xendep_namesz8(struct img *m)
{
	/* "GNU\0" then junk in a longer name: Xen compares strncmp(.., "GNU", 8) */
	uint8_t n[64];

	put32(n, 8);
	put32(n + 4, 20);
	put32(n + 8, 3);
	memcpy(n + 12, "GNU\0junk", 8);
	memset(n + 20, 0x5a, 20);
	replace_data(m, ".livepatch.xen_depends", n, 40);
}

/* -- optional sections -- */
static void m_bug_frames_12(struct img *m) { add_section(m, ".bug_frames.2", SHT_PROGBITS, SHF_ALLOC, NULL, 12); }
static void m_bug_frames_ok(struct img *m) { add_section(m, ".bug_frames.0", SHT_PROGBITS, SHF_ALLOC, NULL, 16); }
static void m_ex_table_4(struct img *m) { add_section(m, ".ex_table", SHT_PROGBITS, SHF_ALLOC, NULL, 4); }
static void m_alt_13(struct img *m) { add_section(m, ".altinstructions", SHT_PROGBITS, SHF_ALLOC, NULL, 13); }
static void m_alt_norepl(struct img *m) { add_section(m, ".altinstructions", SHT_PROGBITS, SHF_ALLOC, NULL, 14); }
static void m_alt_empty(struct img *m) { add_section(m, ".altinstructions", SHT_PROGBITS, SHF_ALLOC, NULL, 0); }
static void m_alt_self(struct img *m)
{
	/* orig_offset 0: the original code would be the entry itself (RO) */
	static const uint8_t alt[14] = { [10] = 1, [11] = 1 };

	add_section(m, ".altinstr_replacement", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, NULL, 4);
	add_section(m, ".altinstructions", SHT_PROGBITS, SHF_ALLOC, alt, 14);
}
static void m_alt_notext(struct img *m)
{
	sh(m, sec(m, ".text.new_do_foo"))->sh_size = 0;
	sh(m, sec(m, ".rela.text.new_do_foo"))->sh_size = 0;
	sh(m, sec(m, ".text.xhp_seed_helper"))->sh_size = 0;
	add_section(m, ".altinstructions", SHT_PROGBITS, SHF_ALLOC, NULL, 14);
}
static void m_modinfo_nonul(struct img *m)
{
	size_t n = sh(m, sec(m, ".modinfo"))->sh_size;

	*sdata(m, ".modinfo", n - 1, 1) = 'x';
}
static void m_modinfo_empty(struct img *m) { sh(m, sec(m, ".modinfo"))->sh_size = 0; }
static void m_modinfo_noalloc(struct img *m) { sh(m, sec(m, ".modinfo"))->sh_flags &= ~(uint64_t)SHF_ALLOC; }
static void m_modinfo_plain(struct img *m)
{
	static const char mi[] = "\0\0plain\0k=\0=v\0a=b=c\0";

	replace_data(m, ".modinfo", mi, sizeof(mi));
}

/* -- symbols of the payload -- */
static void m_local_label_merge(struct img *m)
{
	/* ".Lp_seed_helper" in a SHF_MERGE section is an assembler label */
	memcpy((char *)m->b + sh(m, sec(m, ".strtab"))->sh_offset +
	       sym(m, "xhp_seed_helper")->st_name, ".L", 2);
	sh(m, sec(m, ".text.xhp_seed_helper"))->sh_flags |= SHF_MERGE;
}
static void m_local_label_plain(struct img *m)
{
	memcpy((char *)m->b + sh(m, sec(m, ".strtab"))->sh_offset +
	       sym(m, "xhp_seed_helper")->st_name, ".L", 2);
}
static void m_alias_of_new(struct img *m)
{
	/* xhp_seed_helper moved to where new_addr points: not a new symbol */
	Elf64_Sym *h = sym(m, "xhp_seed_helper"), *n = sym(m, "new_do_foo");

	h->st_shndx = n->st_shndx;
	h->st_value = n->st_value;
}
static void m_symbol_nonalloc(struct img *m) { sym(m, "xhp_seed_helper")->st_shndx = (uint16_t)sec(m, ".strtab"); }

/* ---- checks on good results -------------------------------------------- */

static void hex_eq(const struct xhp_build_id *id, const char *hex)
{
	char h[XHP_BUILD_ID_HEX_SIZE];

	assert_string_equal(xhp_build_id_hex(id, h, sizeof(h)), hex);
}

static bool has(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static void c_funcs(struct img *m, const struct xhp_payload *p)
{
	static const char raw[] = "version=1\0license=GPL\0name=seed";

	hex_eq(&p->id, FUNCS_ID);
	hex_eq(&p->depends, XEN_ID);
	hex_eq(&p->xen_depends, XEN_ID);
	assert_int_equal(p->size, m->len);
	assert_int_equal(p->funcs_version, 2);
	assert_int_equal(p->nfuncs, 2);

	assert_string_equal(p->funcs[0].name, "do_foo");
	assert_true(p->funcs[0].has_new);
	assert_string_equal(p->funcs[0].new_sym, "new_do_foo");
	assert_int_equal(p->funcs[0].new_size, 32);
	assert_int_equal(p->funcs[0].old_size, 48);
	assert_int_equal(p->funcs[0].old_addr, 0);
	assert_int_equal(p->funcs[0].version, 2);
	assert_false(p->funcs[0].expect_enabled);

	assert_string_equal(p->funcs[1].name, "do_nop_me");
	assert_false(p->funcs[1].has_new);
	assert_null(p->funcs[1].new_sym);
	assert_int_equal(p->funcs[1].new_size, 5);
	assert_int_equal(p->funcs[1].old_size, 16);
	assert_true(p->funcs[1].expect_enabled);
	assert_int_equal(p->funcs[1].expect_len, 5);
	assert_int_equal(p->funcs[1].expect_rsv, 0);
	assert_memory_equal(p->funcs[1].expect_data, "\x55\x48\x89\xe5\x90", 5);

	assert_int_equal(p->hooks_present, 0);
	assert_int_equal(p->hooks_enabled, 0);
	assert_true(p->safe_to_reapply);

	assert_int_equal(p->modinfo_raw_len, sizeof(raw));
	assert_memory_equal(p->modinfo_raw, raw, sizeof(raw));
	assert_int_equal(p->nmodinfo, 3);
	assert_string_equal(p->modinfo[0].key, "version");
	assert_string_equal(xhp_payload_modinfo(p, "version"), "1");
	assert_string_equal(xhp_payload_modinfo(p, "license"), "GPL");
	assert_string_equal(xhp_payload_modinfo(p, "name"), "seed");
	assert_null(xhp_payload_modinfo(p, "nope"));

	assert_true(has(p->new_syms, p->nnew_syms, "xhp_seed_helper"));
	assert_true(has(p->new_syms, p->nnew_syms, "lp_funcs"));
	assert_true(has(p->new_syms, p->nnew_syms, "modinfo"));
	assert_false(has(p->new_syms, p->nnew_syms, "new_do_foo"));
	assert_false(has(p->new_syms, p->nnew_syms, "do_bar"));
	assert_false(has(p->new_syms, p->nnew_syms, "funcs.c"));
	assert_int_equal(p->nnew_syms, 3);
	assert_int_equal(p->nundef_syms, 1);
	assert_string_equal(p->undef_syms[0], "do_bar");
}

static void c_hooks(struct img *m, const struct xhp_payload *p)
{
	unsigned present = 1u << XHP_HOOK_LOAD | 1u << XHP_HOOK_UNLOAD |
		1u << XHP_HOOK_PREAPPLY | 1u << XHP_HOOK_APPLY |
		1u << XHP_HOOK_REVERT | 1u << XHP_HOOK_POSTREVERT;

	(void)m;
	hex_eq(&p->id, HOOKS_ID);
	hex_eq(&p->depends, FUNCS_ID);
	hex_eq(&p->xen_depends, XEN_ID);
	assert_int_equal(p->nfuncs, 0);
	assert_int_equal(p->hooks_present, present);
	assert_int_equal(p->hooks_enabled, present & ~(1u << XHP_HOOK_REVERT));
	assert_true(p->hooks_enabled & XHP_HOOKS_VETOING);
	/* -fpic puts relocated pointers in writable sections */
	assert_false(p->safe_to_reapply);
	assert_int_equal(p->nmodinfo, 0);
	assert_null(p->modinfo_raw);
	assert_true(has(p->new_syms, p->nnew_syms, "load_hooks"));
	assert_int_equal(p->nundef_syms, 0);
}

static void c_data(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	hex_eq(&p->id, DATA_ID);
	assert_int_equal(p->nfuncs, 1);
	assert_string_equal(p->funcs[0].name, "do_count");
	assert_string_equal(p->funcs[0].new_sym, "new_do_count");
	assert_false(p->safe_to_reapply);
	assert_true(has(p->new_syms, p->nnew_syms, "calls"));
	assert_true(has(p->new_syms, p->nnew_syms, "last"));
}

static void c_unsafe(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_false(p->safe_to_reapply);
}

static void c_safe(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_true(p->safe_to_reapply);
}

static void c_no_name(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_null(p->funcs[0].name);
	assert_int_equal(p->funcs[0].old_addr, 0xffff82d040200000ull);
}

static void c_no_name1(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_null(p->funcs[1].name);
	assert_string_equal(p->funcs[0].name, "do_foo");
}

static void c_new_undef(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_true(p->funcs[0].has_new);
	assert_string_equal(p->funcs[0].new_sym, "do_bar");
	/* new_do_foo is no longer a new_addr target: it is a new symbol */
	assert_true(has(p->new_syms, p->nnew_syms, "new_do_foo"));
}

static void c_new_section(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_string_equal(p->funcs[0].new_sym, "new_do_foo");
	assert_false(has(p->new_syms, p->nnew_syms, "new_do_foo"));
}

static void c_new_section_offset(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_true(p->funcs[0].has_new);
	assert_string_equal(p->funcs[0].new_sym, ".rodata.str1.1+0x3");
	assert_true(has(p->new_syms, p->nnew_syms, "new_do_foo"));
}

static void c_rsv(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	/* checked at APPLY (-EINVAL), not at upload */
	assert_int_equal(p->funcs[1].expect_rsv, 2);
	assert_true(p->funcs[1].expect_enabled);
	assert_int_equal(p->funcs[1].expect_len, 5);
}

static void c_postrevert_absent(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_true(p->hooks_present & (1u << XHP_HOOK_POSTREVERT));
	assert_false(p->hooks_enabled & (1u << XHP_HOOK_POSTREVERT));
	assert_true(p->hooks_enabled & (1u << XHP_HOOK_PREAPPLY));
}

static void c_revert_enabled(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_true(p->hooks_enabled & (1u << XHP_HOOK_REVERT));
}

static void c_depends_short(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	hex_eq(&p->depends, "a0");
}

static void c_xendep_namesz8(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	hex_eq(&p->xen_depends, "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");
}

static void c_modinfo_plain(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_int_equal(p->nmodinfo, 4);
	assert_string_equal(p->modinfo[0].key, "plain");
	assert_null(p->modinfo[0].value);
	assert_string_equal(p->modinfo[1].key, "k");
	assert_string_equal(p->modinfo[1].value, "");
	assert_string_equal(p->modinfo[2].key, "");
	assert_string_equal(p->modinfo[2].value, "v");
	assert_string_equal(xhp_payload_modinfo(p, "a"), "b=c");
	assert_null(xhp_payload_modinfo(p, "plain"));
	assert_int_equal(p->modinfo_raw_len, 21);
}

static void c_no_helper(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_false(has(p->new_syms, p->nnew_syms, "xhp_seed_helper"));
	assert_false(has(p->new_syms, p->nnew_syms, ".Lp_seed_helper"));
}

static void c_label_kept(struct img *m, const struct xhp_payload *p)
{
	(void)m;
	assert_true(has(p->new_syms, p->nnew_syms, ".Lp_seed_helper"));
}

#define OK(n, f, mut, chk) { n, f, mut, 0, "", chk }
#define BAD(n, f, mut, rc, msg) { n, f, mut, rc, msg, NULL }

static const struct tcase cases[] = {
	OK("good-funcs", FUNCS, NULL, c_funcs),
	OK("good-hooks", HOOKS, NULL, c_hooks),
	OK("good-data", DATA, NULL, c_data),
	BAD("corpus-v1", "bad-v1.livepatch", NULL, -EINVAL,
	    ".livepatch.funcs: size 64 is not a multiple of 104 (64-byte version 1 entries: Xen <= 4.13)"),
	BAD("corpus-nothing", "bad-nothing.livepatch", NULL, -EINVAL,
	    "nothing to patch: no .livepatch.funcs and no .livepatch.hooks.* section"),
	BAD("corpus-reloc32s", "bad-reloc32s.livepatch", NULL, -EOPNOTSUPP,
	    "relocation type 11 (R_X86_64_32S) is not supported by Xen"),

	/* ELF header */
	BAD("not-elf", FUNCS, m_magic, -EINVAL, "not an ELF file"),
	BAD("not-elf-short", FUNCS, m_tiny_text, -EINVAL, "not an ELF file"),
	BAD("empty", FUNCS, m_empty, -EINVAL, "empty file"),
	BAD("header-truncated", FUNCS, m_short, -EINVAL,
	    "truncated: ELF header needs 64 bytes, file is 40 bytes"),
	BAD("class32", FUNCS, m_class32, -EOPNOTSUPP, "ELF class 32: Xen payloads are ELFCLASS64"),
	BAD("class-invalid", FUNCS, m_class7, -EOPNOTSUPP, "ELF class byte 7 is invalid"),
	BAD("big-endian", FUNCS, m_msb, -EOPNOTSUPP, "big-endian ELF"),
	BAD("data-invalid", FUNCS, m_data0, -EOPNOTSUPP, "ELF data encoding 0 is invalid"),
	BAD("machine-aarch64", FUNCS, m_aarch64, -EOPNOTSUPP,
	    "machine 183 (AArch64): this tool handles x86-64 payloads"),
	BAD("machine-i386", FUNCS, m_i386, -EOPNOTSUPP, "machine 3 (i386)"),
	BAD("e-version", FUNCS, m_eversion, -EOPNOTSUPP, "ELF version 1 (e_ident) / 2 (e_version), expected EV_CURRENT (1)"),
	BAD("ident-version", FUNCS, m_ident_version, -EOPNOTSUPP, "ELF version 0 (e_ident) / 1 (e_version)"),
	BAD("osabi-linux", FUNCS, m_osabi_linux, -EOPNOTSUPP, "OS ABI 3: Xen accepts"),
	OK("osabi-freebsd", FUNCS, m_osabi_freebsd, NULL),
	BAD("abiversion", FUNCS, m_abiversion, -EOPNOTSUPP, "ABI version 1, expected 0"),
	BAD("type-exec", FUNCS, m_exec, -EOPNOTSUPP,
	    "ELF type 2 (ET_EXEC): a payload is a relocatable object (ET_REL)"),
	BAD("type-dyn", FUNCS, m_dyn, -EOPNOTSUPP, "ELF type 3 (ET_DYN)"),
	BAD("phnum", FUNCS, m_phnum, -EOPNOTSUPP, "1 program headers: a payload has none"),
	BAD("shstrndx-undef", FUNCS, m_shstrndx0, -EINVAL, "no section name table (e_shstrndx is SHN_UNDEF)"),
	BAD("shnum-1024", FUNCS, m_shnum1024, -EOPNOTSUPP, "1024 sections: Xen accepts at most 1023"),
	BAD("shstrndx-past", FUNCS, m_shstrndx_past, -EINVAL, "section name table index 17 is past the 17 sections"),
	BAD("shoff-past", FUNCS, m_shoff_past, -EINVAL, "truncated: section header table at offset"),
	BAD("shentsize-32", FUNCS, m_shentsize32, -EINVAL, "section header size 32, expected 64"),
	BAD("table-cut", FUNCS, m_cut_table, -EINVAL, "truncated: section header table ends at"),
	OK("shentsize-80", FUNCS, m_shentsize80, c_funcs),
	BAD("shentsize-80-misread", FUNCS, m_shentsize80_garbage, -EINVAL, "overlaps the ELF header"),

	/* section table */
	BAD("offset-in-header", FUNCS, m_off_in_header, -EINVAL, "section [6]: data at offset 16 overlaps the ELF header"),
	BAD("nobits-offset-in-header", FUNCS, m_nobits_off_in_header, -EINVAL, "section [11]: data at offset 0 overlaps the ELF header"),
	BAD("data-past-end", FUNCS, m_data_past_end, -EINVAL, "truncated: section [6] data ends at"),
	BAD("offset-past-end", FUNCS, m_off_past_end, -EINVAL, "truncated: section [6] data ends at"),
	BAD("size-overflow", FUNCS, m_size_overflow, -EINVAL, "section [6]: size 18446744073709551607 overflows"),
	OK("nobits-outside-file", FUNCS, m_nobits_big_ok, c_unsafe),
	BAD("align-3", FUNCS, m_align3, -EOPNOTSUPP, "section [6]: alignment 0x3 is not a power of 2"),
	BAD("addr-misaligned", FUNCS, m_addr_misaligned, -EINVAL, "section [9]: address 0x8 is not aligned to 0x20"),
	BAD("bss-3mib", FUNCS, m_bss_3m, -EINVAL, "section [11]: 3145728 bytes of zero-fill, Xen allows at most 2 MiB"),
	BAD("two-symtabs", FUNCS, m_two_symtabs, -EOPNOTSUPP, "more than one symbol table (sections [14] and [15])"),
	BAD("symtab-link-past", FUNCS, m_symtab_link_past, -EINVAL, "symbol table: string table index 999 is past the 17 sections"),
	BAD("no-symtab", FUNCS, m_no_symtab, -EINVAL, "no symbol table"),
	BAD("symtab-empty", FUNCS, m_symtab_empty, -EINVAL, "symbol table is empty"),
	BAD("symtab-entsize-16", FUNCS, m_symtab_entsize16, -EINVAL, "symbol table entry size 16, expected at least 24"),
	BAD("symtab-entsize-0", FUNCS, m_symtab_entsize0, -EINVAL, "symbol table entry size 0, expected at least 24"),
	BAD("symtab-ragged", FUNCS, m_symtab_ragged, -EINVAL, "symbol table size 380 is not a multiple of its entry size 24"),
	OK("symtab-entsize-32", FUNCS, m_symtab_entsize32, c_funcs),
	BAD("symtab-entsize-48-misread", FUNCS, m_symtab_entsize48_garbage, -EINVAL, "is past the 8 symbols"),
	BAD("symtab-link-0", FUNCS, m_symtab_link0, -EINVAL, "symbol table has no string table"),
	BAD("strtab-type", FUNCS, m_strtab_type, -EINVAL, "symbol string table [15]: type 1, expected SHT_STRTAB (3)"),
	BAD("strtab-empty", FUNCS, m_strtab_empty, -EINVAL, "symbol string table [15] is empty"),
	BAD("strtab-first", FUNCS, m_strtab_first, -EINVAL, "symbol string table [15] does not start with a NUL byte"),
	BAD("strtab-last", FUNCS, m_strtab_last, -EINVAL, "symbol string table [15] does not end with a NUL byte"),
	BAD("shstrtab-last", FUNCS, m_shstrtab_last, -EINVAL, "section name table [16] does not end with a NUL byte"),
	BAD("shstrtab-type", FUNCS, m_shstrtab_type, -EINVAL, "section name table [16]: type 1"),
	BAD("section-name-past", FUNCS, m_secname_past, -EINVAL, "section [6]: name offset 100000 is past the section name table"),
	BAD("symbol-name-past", FUNCS, m_symname_past, -EINVAL, "symbol [12]: name offset 100000 is past the string table (60 bytes)"),

	/* flags */
	BAD("w+x", FUNCS, m_wx, -EOPNOTSUPP, "section .text.new_do_foo is both writable and executable"),
	OK("w+x-not-loaded", FUNCS, m_wx_noalloc, c_safe),
	OK("bss-unsafe", FUNCS, m_bss_16, c_unsafe),
	OK("data-unsafe", FUNCS, m_data_16, c_unsafe),
	OK("funcs-readonly-safe", FUNCS, m_funcs_readonly, c_safe),

	/* symbols */
	BAD("common-symbol", FUNCS, m_common, -EINVAL, "symbol do_bar is a common symbol (SHN_COMMON)"),
	BAD("reserved-shndx", FUNCS, m_reserved, -EOPNOTSUPP, "symbol do_bar: reserved section index 0xff05"),
	BAD("shndx-past", FUNCS, m_shndx_past, -EINVAL, "symbol xhp_seed_helper: section index 500 is past the 17 sections"),
	OK("absolute-symbol", FUNCS, m_abs_ok, c_no_helper),

	/* relocations */
	BAD("rela-link", FUNCS, m_rela_link, -EINVAL, ".rela.livepatch.funcs: linked to section [1], not the symbol table [14]"),
	BAD("rel", FUNCS, m_rel, -EOPNOTSUPP, ".rela.livepatch.funcs: SHT_REL relocations are not supported by Xen (SHT_RELA only)"),
	BAD("rela-entsize-0", FUNCS, m_rela_entsize0, -EINVAL, ".rela.livepatch.funcs: entry size 0, expected at least 24"),
	BAD("rel-entsize-0", FUNCS, m_rel_entsize0, -EINVAL, ".rela.livepatch.funcs: entry size 0, expected at least 16"),
	BAD("rel-ragged", FUNCS, m_rel_ragged, -EINVAL, ".rela.livepatch.funcs: size 72 is not a multiple of its entry size 16"),
	OK("rela-entsize-32", FUNCS, m_rela_entsize32, c_funcs),
	OK("rela-empty", FUNCS, m_empty_rela, c_funcs),
	OK("rela-empty-odd-entsize", FUNCS, m_empty_rela_odd, c_funcs),
	OK("rel-empty", FUNCS, m_empty_rel, c_funcs),
	BAD("rela-empty-bad-link", FUNCS, m_empty_rela_badlink, -EINVAL, ".rela.xhp_empty: linked to section [1], not the symbol table [14]"),
	BAD("rela-info-0", FUNCS, m_rela_info0, -EINVAL, ".rela.livepatch.funcs: relocates section [0]"),
	BAD("pc32-far-addend", FUNCS, m_pc32_far, -EOVERFLOW, ".rela.text.new_do_foo[0]: R_X86_64_P"),
	BAD("pc32-absolute-0", FUNCS, m_pc32_abs, -EOVERFLOW, "does not reach do_bar"),
	BAD("pc32-local-4gib", FUNCS, m_pc32_local_far, -EOVERFLOW, "does not reach xhp_seed_helper+4294967296"),
	BAD("undefined-no-name", FUNCS, m_undef_noname, -ENOENT, "undefined symbol without a name"),
	BAD("rela-stn-undef", FUNCS, m_rela_sym0, -EOPNOTSUPP, ".rela.livepatch.funcs[1]: relocation without a symbol (STN_UNDEF)"),
	BAD("rela-sym-past", FUNCS, m_rela_sym_past, -EINVAL, ".rela.livepatch.funcs[1]: symbol index 4000 is past the 16 symbols"),
	BAD("rela-type-32", FUNCS, m_rela_type32, -EOPNOTSUPP,
	    ".rela.text.new_do_foo[0]: relocation type 10 (R_X86_64_32) is not supported by Xen (only R_X86_64_NONE, _64, _PC32, _PLT32)"),
	BAD("rela-type-gotpcrelx", FUNCS, m_rela_gotpcrelx, -EOPNOTSUPP, "relocation type 42 (R_X86_64_REX_GOTPCRELX)"),
	BAD("rela-offset-past", FUNCS, m_rela_offset_past, -EINVAL,
	    ".rela.livepatch.funcs[2]: offset 0xcd is past section .livepatch.funcs (208 bytes)"),
	BAD("rela-pc32-past", FUNCS, m_rela_pc32_past, -EINVAL, ".rela.text.new_do_foo[0]: offset 0xe is past section .text.new_do_foo (17 bytes)"),
	BAD("rela-ignored-symbol", FUNCS, m_rela_ignored, -EINVAL,
	    ".rela.livepatch.funcs[0]: relocation against non-allocated section .rodata.str1.1"),
	BAD("rela-ragged", FUNCS, m_rela_ragged, -EINVAL, ".rela.livepatch.funcs: size 77 is not a multiple of its entry size 24"),
	OK("symtab-unaligned", FUNCS, m_symtab_unaligned, NULL),
	OK("rela-bad-target-skipped", FUNCS, m_rela_info_past, NULL),
	OK("rela-nonalloc-target-skipped", FUNCS, m_rela_nonalloc_target, NULL),

	/* mandatory sections */
	BAD("missing-depends", FUNCS, m_no_depends, -EINVAL, "missing section .livepatch.depends"),
	BAD("missing-xen-depends", FUNCS, m_no_xen_depends, -EINVAL, "missing section .livepatch.xen_depends"),
	BAD("missing-build-id", FUNCS, m_no_build_id, -EINVAL, "missing section .note.gnu.build-id"),
	BAD("depends-empty", FUNCS, m_depends_empty, -EINVAL, "section .livepatch.depends is empty"),
	BAD("xen-depends-not-alloc", FUNCS, m_xen_depends_noalloc, -EINVAL,
	    "section .livepatch.xen_depends is not SHF_ALLOC: Xen 4.17 would read it through a NULL address"),

	/* patching sections */
	BAD("funcs-empty", FUNCS, m_funcs_empty, -EINVAL, "section .livepatch.funcs is empty"),
	BAD("funcs-not-alloc", FUNCS, m_funcs_noalloc, -EINVAL, "section .livepatch.funcs is not SHF_ALLOC: Xen 4.17 would read"),
	BAD("nothing-to-patch", FUNCS, m_nothing, -EINVAL, "nothing to patch"),
	BAD("hook-empty", HOOKS, m_hook_empty, -EINVAL, "section .livepatch.hooks.apply is empty"),
	OK("single-hook-not-alloc-absent", HOOKS, m_hooks_noalloc, c_postrevert_absent),
	BAD("hook-array-not-alloc", HOOKS, m_load_hooks_noalloc, -EINVAL,
	    "section .livepatch.hooks.load is not SHF_ALLOC: Xen 4.17 would call its hooks at a NULL address"),

	/* functions */
	BAD("funcs-size", FUNCS, m_funcs_200, -EINVAL, ".livepatch.funcs: size 200 is not a multiple of 104"),
	BAD("func-version-3", FUNCS, m_version3, -EOPNOTSUPP, ".livepatch.funcs[0] (do_foo): version 3, Xen 4.17 accepts version 2"),
	BAD("func-version-1-second", FUNCS, m_version1_entry, -EOPNOTSUPP, ".livepatch.funcs[1] (do_nop_me): version 1, Xen 4.17 accepts version 2"),
	BAD("func-version-0", HOOKS, m_hooks_plus_funcs, -EOPNOTSUPP, ".livepatch.funcs[0]: version 0, Xen 4.17 accepts version 2"),
	BAD("func-old-size-0", FUNCS, m_old_size0, -EINVAL, ".livepatch.funcs[0] (do_foo): old_size is 0"),
	BAD("func-nop-32", FUNCS, m_nop32, -EOPNOTSUPP, ".livepatch.funcs[1] (do_nop_me): NOP patch of 32 bytes, Xen allows at most 31"),
	BAD("func-nop-larger", FUNCS, m_nop_larger, -EINVAL, ".livepatch.funcs[1] (do_nop_me): NOP patch of 20 bytes is larger than old_size 16"),
	BAD("func-jump-small", FUNCS, m_jump_small, -EINVAL, ".livepatch.funcs[0] (do_foo): old_size 4 is too small for a 5-byte jump"),
	OK("func-jump-5", FUNCS, m_jump_5, NULL),
	BAD("func-old-addr-far", FUNCS, m_old_addr_far, -EOVERFLOW, ".livepatch.funcs[0] (do_foo): the old function is out of reach of a jump"),
	OK("func-old-addr-in-xen", FUNCS, m_old_addr_xen, NULL),
	BAD("name-unterminated", FUNCS, m_name_unterminated, -EINVAL,
	    ".livepatch.funcs[1]: name is not NUL-terminated inside section .rodata.str1.1"),
	BAD("name-past", FUNCS, m_name_past, -EINVAL, ".livepatch.funcs[1]: name at offset 0x1000 is past section .rodata.str1.1 (17 bytes)"),
	BAD("name-empty", FUNCS, m_name_empty, -ENOENT, ".livepatch.funcs[0]: empty name: Xen cannot resolve it"),
	BAD("name-undefined", FUNCS, m_name_undef, -EINVAL, ".livepatch.funcs[0]: name points to undefined symbol do_bar"),
	BAD("name-pc32", FUNCS, m_name_pc32, -EINVAL, ".livepatch.funcs[0]: name field has relocation type 2 (R_X86_64_PC32), expected R_X86_64_64"),
	BAD("name-missing", FUNCS, m_name_none, -EINVAL, ".livepatch.funcs[0]: no name and no old_addr: Xen cannot find the function"),
	BAD("name-absolute", FUNCS, m_name_abs_value, -EINVAL, ".livepatch.funcs[0]: name is an absolute address"),
	OK("name-unneeded-with-old-addr", FUNCS, m_name_none_old_addr, c_no_name),
	OK("bad-name-ignored-with-old-addr", FUNCS, m_name_unterminated_old_addr, c_no_name1),
	BAD("new-addr-none-makes-nop", FUNCS, m_new_addr_none, -EOPNOTSUPP, ".livepatch.funcs[0] (do_foo): NOP patch of 32 bytes"),
	OK("new-addr-undefined", FUNCS, m_new_addr_undef, c_new_undef),
	OK("new-addr-section-symbol", FUNCS, m_new_addr_section_sym, c_new_section),
	OK("new-addr-section-offset", FUNCS, m_new_addr_section_offset, c_new_section_offset),
	OK("expect-rsv-kept", FUNCS, m_expect_rsv, c_rsv),

	/* hooks */
	BAD("hook-array-size", HOOKS, m_unload_12, -EINVAL, "section .livepatch.hooks.unload: size 12 is not a multiple of 8"),
	BAD("hook-single-16", HOOKS, m_apply_16, -EINVAL, "section .livepatch.hooks.apply: size 16, expected 8 (one pointer)"),
	BAD("hook-single-4", HOOKS, m_revert_4, -EINVAL, "section .livepatch.hooks.revert: size 4 is not a multiple of 8"),
	OK("hook-raw-value-enabled", HOOKS, m_revert_value, c_revert_enabled),

	/* notes */
	BAD("note-type", FUNCS, m_xendep_type1, -EINVAL, ".livepatch.xen_depends: note type 1, expected NT_GNU_BUILD_ID (3)"),
	BAD("note-owner", FUNCS, m_build_id_owner, -EINVAL, ".note.gnu.build-id: note owner \"XEN\", expected \"GNU\""),
	BAD("note-owner-gnux", FUNCS, m_depends_owner_gnux, -EINVAL, ".livepatch.depends: note owner \"GNUX\", expected \"GNU\""),
	BAD("note-namesz", FUNCS, m_depends_namesz3, -EINVAL, ".livepatch.depends: note name size 3, expected at least 4"),
	BAD("note-overflow", FUNCS, m_depends_overflow, -EINVAL, ".livepatch.depends: note name size 4294967280 and descriptor size 32 overflow"),
	BAD("note-descsz-0", FUNCS, m_depends_descsz0, -EINVAL, ".livepatch.depends: empty build-id"),
	BAD("note-too-long", FUNCS, m_depends_toolong, -EINVAL,
	    ".livepatch.depends: note name (4 bytes) and descriptor (21 bytes) do not fit in 36 bytes"),
	BAD("note-12-bytes", FUNCS, m_depends_12, -EINVAL, ".livepatch.depends: note of 12 bytes is too short (Xen needs more than 12)"),
	BAD("note-padding", FUNCS, m_depends_pad, -EINVAL, ".livepatch.depends: note descriptor (20 bytes at offset 20) runs past the 37-byte section"),
	BAD("note-id-65", FUNCS, m_depends_long_id, -EOPNOTSUPP, ".livepatch.depends: build-id of 65 bytes, this tool handles at most 64"),
	OK("note-id-1", FUNCS, m_depends_short_id, c_depends_short),
	BAD("note-nobits", FUNCS, m_depends_nobits, -EINVAL, ".livepatch.depends: note type 0, expected NT_GNU_BUILD_ID (3)"),
	OK("note-namesz-8", FUNCS, m_xendep_namesz8, c_xendep_namesz8),

	/* optional sections */
	BAD("bug-frames-size", FUNCS, m_bug_frames_12, -EINVAL, "section .bug_frames.2: size 12 is not a multiple of 8"),
	OK("bug-frames-ok", FUNCS, m_bug_frames_ok, NULL),
	BAD("ex-table-size", FUNCS, m_ex_table_4, -EINVAL, "section .ex_table: size 4 is not a multiple of 8"),
	BAD("alt-size", FUNCS, m_alt_13, -EINVAL, "section .altinstructions: size 13 is not a multiple of 14"),
	BAD("alt-no-replacement", FUNCS, m_alt_norepl, -EINVAL, ".altinstructions: no .altinstr_replacement section"),
	BAD("alt-no-text", FUNCS, m_alt_notext, -EINVAL, ".altinstructions: alternatives but no executable section"),
	OK("alt-empty", FUNCS, m_alt_empty, NULL),
	BAD("alt-orig-outside-text", FUNCS, m_alt_self, -EINVAL, ".altinstructions[0]: the original code (1 bytes) is not inside the payload's text"),
	BAD("modinfo-no-nul", FUNCS, m_modinfo_nonul, -EINVAL, ".modinfo: last byte is not NUL"),
	BAD("modinfo-empty", FUNCS, m_modinfo_empty, -EINVAL, "section .modinfo is empty"),
	BAD("modinfo-not-alloc", FUNCS, m_modinfo_noalloc, -EINVAL, "section .modinfo is not SHF_ALLOC: Xen 4.17 would read"),
	OK("modinfo-entries", FUNCS, m_modinfo_plain, c_modinfo_plain),

	/* the payload's symbols */
	OK("local-label-in-merge", FUNCS, m_local_label_merge, c_no_helper),
	OK("local-label-elsewhere", FUNCS, m_local_label_plain, c_label_kept),
	OK("alias-of-new-addr", FUNCS, m_alias_of_new, c_no_helper),
	OK("symbol-in-unloaded-section", FUNCS, m_symbol_nonalloc, c_no_helper),
};

static void run_case(void **state)
{
	const struct tcase *t = *state;
	struct img m = img_load(t->file);
	struct xhp_payload p;
	int rc;

	if (t->mutate)
		t->mutate(&m);
	memset(&last_err, 0x55, sizeof(last_err));
	rc = parse_img(&m, &p);
	if (rc != t->rc)
		fail_msg("%s: rc %d, expected %d; message: %s", t->name, rc, t->rc,
			 rc ? last_err.msg : "");
	if (rc) {
		if (!strstr(last_err.msg, t->msg))
			fail_msg("%s: message \"%s\", expected it to contain \"%s\"",
				 t->name, last_err.msg, t->msg);
		assert_null(strchr(last_err.msg, '\n'));
		/* *p is left zeroed on failure */
		assert_int_equal(p.nfuncs, 0);
		assert_null(p.funcs);
		assert_null(p.new_syms);
		assert_int_equal(p.size, 0);
	} else {
		assert_string_equal(last_err.msg, "");
		if (t->check)
			t->check(&m, &p);
		xhp_payload_free(&p);
		assert_null(p.funcs);
	}
	free(m.b);
}

/* ---- whole-file behaviours ------------------------------------------------ */

static void truncations(void **state)
{
	struct img m = img_load(FUNCS);
	struct xhp_payload p;
	size_t n;

	(void)state;
	for (n = 0; n < m.len; n++) {
		int rc = xhp_payload_parse(m.b, n, &p, &last_err);

		if (rc == 0)
			fail_msg("a payload cut to %zu of %zu bytes parsed", n, m.len);
		assert_true(rc < 0);
		assert_true(last_err.msg[0] != '\0');
	}
	free(m.b);
}

/* Deterministic byte mutations: the reader must neither crash nor leak
 * (ASan build), and whatever it accepts must be consistent. */
static void random_mutations(void **state)
{
	static const char *const files[] = { FUNCS, HOOKS, DATA };
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t f, it;

	(void)state;
	for (f = 0; f < 3; f++) {
		struct img orig = img_load(files[f]);

		for (it = 0; it < 3000; it++) {
			uint8_t *b = malloc(orig.len);
			struct xhp_payload p;
			size_t k, nflip;
			int rc;

			assert_non_null(b);
			memcpy(b, orig.b, orig.len);
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			nflip = 1 + x % 4;
			for (k = 0; k < nflip; k++) {
				x ^= x << 13; x ^= x >> 7; x ^= x << 17;
				b[(x >> 8) % orig.len] = (uint8_t)x;
			}
			rc = xhp_payload_parse(b, orig.len, &p, &last_err);
			if (rc == 0) {
				assert_true(p.nfuncs || p.hooks_present);
				assert_true(p.id.len && p.depends.len && p.xen_depends.len);
				xhp_payload_free(&p);
			} else {
				assert_true(rc < 0);
				assert_true(last_err.msg[0] != '\0');
			}
			free(b);
		}
		free(orig.b);
	}
}

static void null_err(void **state)
{
	struct img m = img_load(FUNCS);
	struct xhp_payload p;

	(void)state;
	assert_int_equal(xhp_payload_parse(m.b, 10, &p, NULL), -EINVAL);
	assert_int_equal(xhp_payload_parse(m.b, m.len, &p, NULL), 0);
	xhp_payload_free(&p);
	xhp_payload_free(&p);	/* idempotent */
	free(m.b);
}

static void oversize_buffer(void **state)
{
	size_t n = XHP_PAYLOAD_MAX_SIZE + 1;
	uint8_t *b = calloc(1, n);
	struct xhp_payload p;

	(void)state;
	assert_non_null(b);
	memcpy(b, ELFMAG, SELFMAG);
	assert_int_equal(xhp_payload_parse(b, n, &p, &last_err), -EFBIG);
	assert_string_equal(last_err.msg, "file is 2097153 bytes, Xen accepts at most 2097152 (2 MiB)");
	free(b);
}

static void hook_tables(void **state)
{
	(void)state;
	assert_string_equal(xhp_hook_section[XHP_HOOK_LOAD], ".livepatch.hooks.load");
	assert_string_equal(xhp_hook_section[XHP_HOOK_POSTREVERT], ".livepatch.hooks.postrevert");
	assert_string_equal(xhp_hook_label[XHP_HOOK_PREAPPLY], "preapply");
	assert_string_equal(xhp_hook_label[XHP_HOOK_REVERT], "revert");
}

static char tmpdir[64];

/* ---- cross-check with tests/fixtures/forge-payload.sh ---------------------
 * An independent maker of payloads (gcc -S + generated assembly + as +
 * objcopy -I binary + ld -r --build-id=sha1): its good payloads must parse
 * to what it was asked to build, with the build-id it reports (readelf), and
 * each of its --bad kinds must be refused with the errno Xen gives. */

static char *forge_path(void)
{
	const char *top = getenv("XHP_TOP");
	char *p;

	if (asprintf(&p, "%s/tests/fixtures/forge-payload.sh", top && *top ? top : ".") < 0)
		abort();
	return p;
}

/* Run forge-payload.sh -o DIR/NAME.livepatch --xen-id XEN_ID ARGS; returns
 * the path (malloc'd) and the build-id it printed in id (may be ""). */
static char *forge(const char *name, const char *args, char *id, size_t idsz)
{
	char *script = forge_path(), *out, *cmd;
	FILE *f;
	size_t n;

	if (asprintf(&out, "%s/%s.livepatch", tmpdir, name) < 0 ||
	    asprintf(&cmd, "'%s' -o '%s' --xen-id " XEN_ID " %s 2>&1", script, out, args) < 0)
		abort();
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(id, 1, idsz - 1, f);
	id[n] = '\0';
	if (pclose(f) != 0)
		fail_msg("%s failed: %s", cmd, id);
	id[strcspn(id, "\n")] = '\0';
	free(cmd);
	free(script);
	return out;
}

static int forge_present(void **state)
{
	char *script = forge_path();
	int ok = access(script, X_OK) == 0;

	(void)state;
	free(script);
	return ok ? 0 : -1;
}

static void forge_good(void **state)
{
	char id[256], h[XHP_BUILD_ID_HEX_SIZE], *path, *dep;
	struct xhp_payload p, q;

	if (forge_present(state))
		skip();
	path = forge("fg-one", "--func do_foo:16 --nop do_bar:5:8 --expect 5548 "
		     "--modinfo version=2 --modinfo name=fg", id, sizeof(id));
	assert_int_equal(xhp_payload_load(path, &p, NULL, NULL, &last_err), 0);
	assert_string_equal(xhp_build_id_hex(&p.id, h, sizeof(h)), id);
	hex_eq(&p.depends, XEN_ID);
	hex_eq(&p.xen_depends, XEN_ID);
	assert_int_equal(p.nfuncs, 2);
	assert_string_equal(p.funcs[0].name, "do_foo");
	assert_true(p.funcs[0].has_new);
	assert_non_null(p.funcs[0].new_sym);
	assert_int_equal(p.funcs[0].old_size, 16);
	assert_true(p.funcs[0].expect_enabled);
	assert_int_equal(p.funcs[0].expect_len, 2);
	assert_memory_equal(p.funcs[0].expect_data, "\x55\x48", 2);
	assert_string_equal(p.funcs[1].name, "do_bar");
	assert_false(p.funcs[1].has_new);
	assert_int_equal(p.funcs[1].new_size, 5);
	assert_int_equal(p.funcs[1].old_size, 8);
	assert_string_equal(xhp_payload_modinfo(&p, "version"), "2");
	assert_string_equal(xhp_payload_modinfo(&p, "name"), "fg");
	assert_true(p.safe_to_reapply);
	assert_false(has(p.new_syms, p.nnew_syms, p.funcs[0].new_sym));
	dep = strdup(id);
	assert_non_null(dep);
	free(path);

	/* stacked on the first, hooks only, with .data */
	{
		char args[256];

		snprintf(args, sizeof(args), "--depends-id %s --no-funcs --hook load "
			 "--hook preapply --hook revert --data", dep);
		path = forge("fg-two", args, id, sizeof(id));
	}
	assert_int_equal(xhp_payload_load(path, &q, NULL, NULL, &last_err), 0);
	assert_string_equal(xhp_build_id_hex(&q.id, h, sizeof(h)), id);
	assert_string_equal(xhp_build_id_hex(&q.depends, h, sizeof(h)), dep);
	assert_int_equal(q.nfuncs, 0);
	assert_int_equal(q.hooks_present, 1u << XHP_HOOK_LOAD | 1u << XHP_HOOK_PREAPPLY |
			 1u << XHP_HOOK_REVERT);
	assert_int_equal(q.hooks_enabled, q.hooks_present);
	assert_false(q.safe_to_reapply);
	xhp_payload_free(&p);
	xhp_payload_free(&q);
	unlink(path);
	free(path);
	snprintf(id, sizeof(id), "%s/fg-one.livepatch", tmpdir);
	unlink(id);
	free(dep);
}

/* ---- with the hypervisor's view (xhp_payload_upload_check) -------------- */

/* A fake hypervisor: a symbol table, a loaded build-id, code bytes. */
struct fake_hv {
	const char *const *syms;	/* "name=hexaddr" */
	const char *loaded_id;		/* hex, or NULL */
	uint64_t endbr_at;		/* ENDBR64 there */
};

static int fake_lookup(void *ctx, const char *name, uint64_t *addr, const char **where)
{
	const struct fake_hv *f = ctx;
	size_t n = strlen(name), i;

	for (i = 0; f->syms && f->syms[i]; i++)
		if (!strncmp(f->syms[i], name, n) && f->syms[i][n] == '=') {
			*addr = strtoull(f->syms[i] + n + 1, NULL, 16);
			*where = "the hypervisor";
			return 0;
		}
	return -ENOENT;
}

static const char *fake_id_loaded(void *ctx, const struct xhp_build_id *id)
{
	const struct fake_hv *f = ctx;
	char h[XHP_BUILD_ID_HEX_SIZE];

	return f->loaded_id && !strcmp(xhp_build_id_hex(id, h, sizeof(h)), f->loaded_id) ?
	       "loaded-one" : NULL;
}

static int fake_code(void *ctx, uint64_t addr, uint8_t *buf, size_t n)
{
	const struct fake_hv *f = ctx;

	memset(buf, 0x90, n);
	if (addr == f->endbr_at && n >= 4)
		memcpy(buf, "\xf3\x0f\x1e\xfa", 4);
	return 0;
}

static int check_with(const char *file, void (*mutate)(struct img *), const struct fake_hv *f,
		      const char *xen_hex, struct xhp_payload *p)
{
	struct img m = img_load(file);
	struct xhp_build_id xen;
	struct xhp_hv_view hv = { .xen_id = &xen, .ctx = (void *)f, .lookup = fake_lookup,
				   .id_loaded = fake_id_loaded, .read_code = fake_code };
	int rc;

	assert_int_equal(xhp_build_id_from_hex(&xen, xen_hex), 0);
	if (mutate)
		mutate(&m);
	rc = xhp_payload_upload_check(m.b, m.len, &hv, p, &last_err);
	free(m.b);
	if (rc == 0)
		xhp_payload_free(p);
	return rc;
}

static void expect_rc(int rc, int want, const char *msg)
{
	if (rc != want || (rc && !strstr(last_err.msg, msg)))
		fail_msg("rc %d \"%s\", expected %d \"%s\"", rc, rc ? last_err.msg : "", want, msg);
}

static void m_old_size8(struct img *m) { put32(func_field(m, 0, 28, 4), 8); }
static void m_old_size9(struct img *m) { put32(func_field(m, 0, 28, 4), 9); }

static void upload_checks(void **state)
{
	static const char *const all[] = { "do_bar=ffff82d040300000", "do_foo=ffff82d040201000",
					   "do_nop_me=ffff82d040202000", NULL };
	static const char *const no_bar[] = { "do_foo=ffff82d040201000", "do_nop_me=ffff82d040202000", NULL };
	static const char *const no_foo[] = { "do_bar=ffff82d040300000", "do_nop_me=ffff82d040202000", NULL };
	static const char *const far_foo[] = { "do_bar=ffff82d040300000", "do_foo=1000",
					       "do_nop_me=ffff82d040202000", NULL };
	static const char *const clash[] = { "do_bar=ffff82d040300000", "do_foo=ffff82d040201000",
					     "do_nop_me=ffff82d040202000", "xhp_seed_helper=ffff82d040400000", NULL };
	struct fake_hv f = { all, NULL, 0 };
	struct xhp_payload p;

	(void)state;
	expect_rc(check_with(FUNCS, NULL, &f, XEN_ID, &p), 0, "");
	f.syms = no_bar;
	expect_rc(check_with(FUNCS, NULL, &f, XEN_ID, &p), -ENOENT,
		  "unknown symbol do_bar: not in the hypervisor's symbol table nor a new symbol of a loaded payload");
	f.syms = no_foo;
	expect_rc(check_with(FUNCS, NULL, &f, XEN_ID, &p), -ENOENT,
		  ".livepatch.funcs[0] (do_foo): cannot resolve do_foo");
	f.syms = far_foo;
	expect_rc(check_with(FUNCS, NULL, &f, XEN_ID, &p), -EOVERFLOW, "out of reach of a jump");
	f.syms = all;
	f.endbr_at = 0xffff82d040201000ull;
	expect_rc(check_with(FUNCS, m_old_size8, &f, XEN_ID, &p), -EINVAL,
		  "old_size 8 is too small for a 5-byte jump after ENDBR64");
	expect_rc(check_with(FUNCS, m_old_size9, &f, XEN_ID, &p), 0, "");
	f.endbr_at = 0;
	expect_rc(check_with(FUNCS, m_old_size8, &f, XEN_ID, &p), 0, "");
	f.loaded_id = FUNCS_ID;
	expect_rc(check_with(FUNCS, NULL, &f, XEN_ID, &p), -EEXIST,
		  "build-id " FUNCS_ID " is already loaded as loaded-one");
	f.loaded_id = NULL;
	expect_rc(check_with(FUNCS, NULL, &f, FUNCS_ID, &p), -EINVAL,
		  ".livepatch.xen_depends " XEN_ID " is not this hypervisor's build-id");
	f.syms = clash;
	expect_rc(check_with(FUNCS, NULL, &f, XEN_ID, &p), -EEXIST,
		  "new symbol xhp_seed_helper is already defined by the hypervisor");
}

static void m_helper_common(struct img *m) { sym(m, "xhp_seed_helper")->st_shndx = SHN_COMMON; }

/* When several checks fail, the first in Xen's order decides the errno. */
static void upload_order(void **state)
{
	static const char *const no_bar[] = { "do_foo=ffff82d040201000", "do_nop_me=ffff82d040202000", NULL };
	static const char *const clash[] = { "do_bar=ffff82d040300000", "do_foo=ffff82d040201000",
					     "do_nop_me=ffff82d040202000", "xhp_seed_helper=ffff82d040400000", NULL };
	struct fake_hv f = { no_bar, NULL, 0 };
	struct xhp_payload p;
	struct img m = img_load(FUNCS);
	bool bar_first = sym_index(&m, "do_bar") < sym_index(&m, "xhp_seed_helper");

	(void)state;
	free(m.b);
	/* symbols are resolved in table order */
	expect_rc(check_with(FUNCS, m_helper_common, &f, XEN_ID, &p),
		  bar_first ? -ENOENT : -EINVAL, bar_first ? "unknown symbol do_bar" : "common symbol");
	/* the own build-id is compared before .livepatch.depends is parsed */
	f.syms = clash;
	f.loaded_id = FUNCS_ID;
	expect_rc(check_with(FUNCS, m_depends_namesz3, &f, XEN_ID, &p), -EEXIST, "is already loaded");
	/* xen_depends before the new symbols */
	f.loaded_id = NULL;
	expect_rc(check_with(FUNCS, NULL, &f, FUNCS_ID, &p), -EINVAL, "is not this hypervisor's build-id");
	/* the functions before the build-id */
	f.loaded_id = FUNCS_ID;
	expect_rc(check_with(FUNCS, m_old_size0, &f, XEN_ID, &p), -EINVAL, "old_size is 0");
}

/* Unusual payloads Xen 4.17.7 accepts: the reader accepts them too, and
 * reads the same functions and hooks as from their plain twin. */
static void forge_odd(void **state)
{
	static const char *const odd[] = {
		"shentsize-80", "symtab-entsize-32", "rela-entsize-32", "empty-rela",
		"empty-rel", "hook-not-alloc", "alt-good",
	};
	size_t i;

	if (forge_present(state))
		skip();
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char id[256], h[XHP_BUILD_ID_HEX_SIZE], args[64], *path;
		struct xhp_payload p;
		int rc;

		snprintf(args, sizeof(args), "--odd %s", odd[i]);
		path = forge("fg-odd", args, id, sizeof(id));
		rc = xhp_payload_load(path, &p, NULL, NULL, &last_err);
		if (rc)
			fail_msg("forge --odd %s: rc %d \"%s\", expected 0", odd[i], rc, last_err.msg);
		assert_string_equal(xhp_build_id_hex(&p.id, h, sizeof(h)), id);
		assert_int_equal(p.nfuncs, 1);
		assert_string_equal(p.funcs[0].name, "xen_extra_version");
		assert_true(p.funcs[0].has_new);
		if (!strcmp(odd[i], "hook-not-alloc")) {
			assert_int_equal(p.hooks_present, 1u << XHP_HOOK_PREAPPLY);
			assert_int_equal(p.hooks_enabled, 0);
		} else {
			assert_int_equal(p.hooks_present, 0);
		}
		xhp_payload_free(&p);
		unlink(path);
		free(path);
	}
}

static void forge_bad(void **state)
{
	static const struct {
		const char *kind;
		int rc;
		const char *msg;
	} bad[] = {
		{ "not-elf", -EINVAL, "not an ELF file" },
		{ "truncated", -EINVAL, "truncated: section header table ends at" },
		{ "elf32", -EOPNOTSUPP, "ELF class 32" },
		{ "wrong-machine", -EOPNOTSUPP, "machine 183 (AArch64)" },
		{ "exec", -EOPNOTSUPP, "ELF type 2 (ET_EXEC)" },
		{ "dyn", -EOPNOTSUPP, "ELF type 3 (ET_DYN)" },
		{ "no-build-id", -EINVAL, "missing section .note.gnu.build-id" },
		{ "no-depends", -EINVAL, "missing section .livepatch.depends" },
		{ "no-xen-depends", -EINVAL, "missing section .livepatch.xen_depends" },
		{ "empty-depends", -EINVAL, "section .livepatch.depends is empty" },
		{ "note-wrong-type", -EINVAL, ".livepatch.depends: note type 1, expected NT_GNU_BUILD_ID (3)" },
		{ "note-wrong-owner", -EINVAL, ".livepatch.depends: note owner \"XEN\"" },
		{ "note-not-alloc", -EINVAL, "section .livepatch.depends is not SHF_ALLOC" },
		{ "funcs-bad-size", -EINVAL, ".livepatch.funcs: size 112 is not a multiple of 104" },
		{ "funcs-version", -EOPNOTSUPP, "version 3, Xen 4.17 accepts version 2" },
		{ "funcs-v1", -EINVAL, "size 64 is not a multiple of 104 (64-byte version 1 entries" },
		{ "old-size-zero", -EINVAL, "old_size is 0" },
		{ "empty-funcs", -EINVAL, "section .livepatch.funcs is empty" },
		{ "hook-bad-size", -EINVAL, "section .livepatch.hooks.preapply: size 16, expected 8" },
		{ "nothing-to-patch", -EINVAL, "nothing to patch" },
		{ "modinfo-no-nul", -EINVAL, ".modinfo: last byte is not NUL" },
		{ "wx-section", -EOPNOTSUPP, "is both writable and executable" },
		{ "bad-reloc", -EOPNOTSUPP, "(R_X86_64_GOTPCREL) is not supported by Xen" },
		{ "huge", -EFBIG, "Xen accepts at most 2097152 (2 MiB)" },
		{ "jump-too-far", -EOVERFLOW, "the old function is out of reach of a jump" },
		{ "alt-outside-text", -EINVAL, ".altinstructions[0]: the original code (2 bytes) is not inside the payload's text" },
		{ "alt-repl-outside", -EINVAL, ".altinstructions[0]: the replacement (1 bytes) is not inside .altinstr_replacement" },
		{ "hook-array-not-alloc", -EINVAL, "section .livepatch.hooks.load is not SHF_ALLOC" },
		{ "rela-ragged", -EINVAL, ".rela.livepatch.funcs: size 56 is not a multiple of its entry size 24" },
		{ "rel-section", -EOPNOTSUPP, "SHT_REL relocations are not supported by Xen" },
		{ "rela-info-0", -EINVAL, ".rela.livepatch.funcs: relocates section [0]" },
		{ "pc32-overflow", -EOVERFLOW, "R_X86_64_PC32 does not reach" },
	};
	size_t i;

	if (forge_present(state))
		skip();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char id[256], args[64], *path;
		struct xhp_payload p;
		int rc;

		snprintf(args, sizeof(args), "--bad %s", bad[i].kind);
		path = forge("fg-bad", args, id, sizeof(id));
		rc = xhp_payload_load(path, &p, NULL, NULL, &last_err);
		if (rc != bad[i].rc || !strstr(last_err.msg, bad[i].msg))
			fail_msg("forge --bad %s: rc %d \"%s\", expected %d \"%s\"", bad[i].kind,
				 rc, rc ? last_err.msg : "", bad[i].rc, bad[i].msg);
		unlink(path);
		free(path);
	}
}

static void load_file(void **state)
{
	char *path = corpus_path(FUNCS);
	struct img m = img_load(FUNCS);
	struct xhp_payload p;
	void *data;
	size_t len;

	(void)state;
	assert_int_equal(xhp_payload_load(path, &p, &data, &len, &last_err), 0);
	assert_int_equal(len, m.len);
	assert_memory_equal(data, m.b, len);
	assert_int_equal(p.size, m.len);
	assert_int_equal(p.nfuncs, 2);
	xhp_payload_free(&p);
	free(data);
	/* without data/len */
	assert_int_equal(xhp_payload_load(path, &p, NULL, NULL, &last_err), 0);
	xhp_payload_free(&p);
	free(path);
	free(m.b);
}

static void load_errors(void **state)
{
	struct xhp_payload p;
	void *data = (void *)1;
	size_t len = 7;
	char path[128];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.livepatch", tmpdir);
	assert_int_equal(xhp_payload_load(path, &p, &data, &len, &last_err), -ENOENT);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_string_equal(last_err.msg, "No such file or directory");

	assert_int_equal(xhp_payload_load(tmpdir, &p, NULL, NULL, &last_err), -EISDIR);
	assert_string_equal(last_err.msg, "is a directory, not a regular file");

	snprintf(path, sizeof(path), "%s/big.livepatch", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, XHP_PAYLOAD_MAX_SIZE + 1), 0);
	close(fd);
	assert_int_equal(xhp_payload_load(path, &p, NULL, NULL, &last_err), -EFBIG);
	assert_non_null(strstr(last_err.msg, "Xen accepts at most 2097152"));

	/* a file of garbage: parse errors come through, data is not returned */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	data = (void *)1;
	assert_int_equal(xhp_payload_load(path, &p, &data, &len, &last_err), -EINVAL);
	assert_null(data);
	assert_string_equal(last_err.msg, "not an ELF file");
	unlink(path);
}

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/xhp-test-payload.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(hook_tables),
		cmocka_unit_test(truncations),
		cmocka_unit_test(random_mutations),
		cmocka_unit_test(null_err),
		cmocka_unit_test(oversize_buffer),
		cmocka_unit_test(load_file),
		cmocka_unit_test(load_errors),
		cmocka_unit_test(forge_good),
		cmocka_unit_test(forge_bad),
		cmocka_unit_test(forge_odd),
		cmocka_unit_test(upload_checks),
		cmocka_unit_test(upload_order),
	};
	size_t ncases = sizeof(cases) / sizeof(cases[0]);
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), i;
	struct CMUnitTest *tests = calloc(ncases + nfixed, sizeof(*tests));
	int rc;

	if (!tests)
		return 1;
	for (i = 0; i < ncases; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	memcpy(tests + ncases, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("payload", tests, ncases + nfixed, setup_tmp, teardown_tmp);
	free(tests);
	return rc;
}
