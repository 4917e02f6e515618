/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Writing struct out as an ELF file with libelf. Only non-empty sections are
 * written, plus the three notes (mandatory). Section order: the payload's
 * sections in enum out_id order, then one .rela section per relocated
 * section, .symtab, .strtab, .shstrtab.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "util.h"

struct strtab {
	char *buf;
	size_t len, cap;
};

static size_t strtab_add(struct strtab *t, const char *s)
{
	size_t n = strlen(s) + 1, off = t->len;

	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2 + 64;
		t->buf = xhp_realloc(t->buf, t->cap);
	}
	memcpy(t->buf + off, s, n);
	t->len += n;
	return off;
}

struct writer {
	Elf *elf;
	size_t idx[OUT_NSECS];	/* ELF section index, 0 = not written */
	size_t nidx;
	struct strtab shstr, str;
};

/* Non-empty sections, the three notes, and empty sections something refers
 * to: zero-length alternative replacements point at an empty
 * .altinstr_replacement, which Xen requires to exist. */
static bool written(const struct out *o, int id)
{
	return o->secs[id].size || o->secs[id].secsym || id == OUT_NOTE_ID ||
	       id == OUT_DEPENDS || id == OUT_XEN_DEPENDS ||
	       (id == OUT_ALTREPL && o->secs[OUT_ALTINSTR].size);
}

/* A section whose name is at name_off in .shstrtab. */
static Elf_Scn *new_section_at(struct writer *w, size_t name_off, uint32_t type, uint64_t flags,
			       uint64_t align, void *buf, uint64_t size, uint64_t entsize)
{
	Elf_Scn *scn = elf_newscn(w->elf);
	Elf_Data *data;
	GElf_Shdr sh;

	if (!scn || !(data = elf_newdata(scn)) || !gelf_getshdr(scn, &sh))
		return NULL;
	data->d_buf = buf;
	data->d_size = size;
	data->d_align = align ? align : 1;
	data->d_type = ELF_T_BYTE;
	sh.sh_name = (Elf64_Word)name_off;
	sh.sh_type = type;
	sh.sh_flags = flags;
	sh.sh_addralign = align ? align : 1;
	sh.sh_entsize = entsize;
	sh.sh_size = size;
	if (!gelf_update_shdr(scn, &sh))
		return NULL;
	w->nidx++;
	return scn;
}

static Elf_Scn *new_section(struct writer *w, const char *name, uint32_t type, uint64_t flags,
			    uint64_t align, void *buf, uint64_t size, uint64_t entsize)
{
	return new_section_at(w, strtab_add(&w->shstr, name), type, flags, align, buf, size,
			      entsize);
}

static int add_payload_sections(struct writer *w, struct out *o)
{
	int i;

	for (i = 0; i < OUT_NSECS; i++) {
		struct out_sec *s = &o->secs[i];

		if (!written(o, i))
			continue;
		if (!new_section(w, s->name, s->type, s->flags, s->align, s->buf, s->size, 0))
			return -1;
		w->idx[i] = w->nidx;
	}
	return 0;
}

static int add_symtab(struct writer *w, struct out *o, Elf64_Sym **syms)
{
	size_t i;

	*syms = xhp_calloc(o->nsyms, sizeof(**syms));
	strtab_add(&w->str, "");
	for (i = 1; i < o->nsyms; i++) {
		const struct out_sym *s = &o->syms[i];
		Elf64_Sym *e = &(*syms)[i];

		e->st_name = s->name ? (Elf64_Word)strtab_add(&w->str, s->name) : 0;
		e->st_info = ELF64_ST_INFO(STB_LOCAL, s->type);
		e->st_shndx = s->sec < 0 ? SHN_ABS : (Elf64_Section)w->idx[s->sec];
		e->st_value = s->value;
		e->st_size = s->size;
	}
	return 0;
}

static int add_relas(struct writer *w, struct out *o, size_t symtab_idx, Elf64_Rela **bufs)
{
	int i;

	for (i = 0; i < OUT_NSECS; i++) {
		struct out_sec *s = &o->secs[i];
		Elf64_Rela *r;
		Elf_Scn *scn;
		GElf_Shdr sh;
		size_t k;
		char *name;

		if (!s->nrela || !w->idx[i])
			continue;
		r = bufs[i] = xhp_calloc(s->nrela, sizeof(*r));
		for (k = 0; k < s->nrela; k++) {
			r[k].r_offset = s->rela[k].off;
			r[k].r_info = ELF64_R_INFO(s->rela[k].sym, s->rela[k].type);
			r[k].r_addend = s->rela[k].addend;
		}
		name = xhp_asprintf(".rela%s", s->name);
		scn = new_section(w, name, SHT_RELA, SHF_INFO_LINK, 8, r,
				  s->nrela * sizeof(*r), sizeof(*r));
		free(name);
		if (!scn || !gelf_getshdr(scn, &sh))
			return -1;
		sh.sh_link = (Elf64_Word)symtab_idx;
		sh.sh_info = (Elf64_Word)w->idx[i];
		if (!gelf_update_shdr(scn, &sh))
			return -1;
	}
	return 0;
}

static int set_header(struct writer *w)
{
	GElf_Ehdr eh;

	if (!gelf_newehdr(w->elf, ELFCLASS64) || !gelf_getehdr(w->elf, &eh))
		return -1;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	return gelf_update_ehdr(w->elf, &eh) ? 0 : -1;
}

/* The last section written is .shstrtab (far fewer than SHN_LORESERVE). */
static int set_shstrndx(struct writer *w)
{
	GElf_Ehdr eh;

	if (!gelf_getehdr(w->elf, &eh))
		return -1;
	eh.e_shstrndx = (Elf64_Half)w->nidx;
	return gelf_update_ehdr(w->elf, &eh) ? 0 : -1;
}

/* Sections, symbols and relocations into an ELF on fd. */
static int write_elf(struct out *o, int fd)
{
	struct writer w = { .nidx = 0 };
	Elf64_Rela *relas[OUT_NSECS] = { NULL };
	Elf64_Sym *syms = NULL;
	size_t symtab_idx, strtab_idx, i;
	Elf_Scn *scn;
	GElf_Shdr sh;
	int rc = -1;

	w.elf = elf_begin(fd, ELF_C_WRITE, NULL);
	strtab_add(&w.shstr, "");
	if (!w.elf || set_header(&w) || add_payload_sections(&w, o) || add_symtab(&w, o, &syms))
		goto out;
	symtab_idx = w.nidx + 1;
	strtab_idx = w.nidx + 2;
	if (!(scn = new_section(&w, ".symtab", SHT_SYMTAB, 0, 8, syms,
				o->nsyms * sizeof(*syms), sizeof(*syms))) ||
	    !gelf_getshdr(scn, &sh))
		goto out;
	sh.sh_link = (Elf64_Word)strtab_idx;
	sh.sh_info = (Elf64_Word)o->nsyms;	/* all symbols are local */
	if (!gelf_update_shdr(scn, &sh) ||
	    !new_section(&w, ".strtab", SHT_STRTAB, 0, 1, w.str.buf, w.str.len, 0) ||
	    add_relas(&w, o, symtab_idx, relas))
		goto out;
	/* .shstrtab names itself: its name goes in before the buffer is
	 * handed over (a later addition could move it). */
	i = strtab_add(&w.shstr, ".shstrtab");
	if (!new_section_at(&w, i, SHT_STRTAB, 0, 1, w.shstr.buf, w.shstr.len, 0) ||
	    set_shstrndx(&w) || elf_update(w.elf, ELF_C_WRITE) < 0)
		goto out;
	rc = 0;
out:
	if (w.elf)
		elf_end(w.elf);
	for (i = 0; i < OUT_NSECS; i++)
		free(relas[i]);
	free(syms);
	free(w.str.buf);
	free(w.shstr.buf);
	return rc;
}

static void hash_u64(struct sha1 *c, uint64_t v)
{
	uint8_t b[8];
	unsigned i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	sha1_update(c, b, 8);
}

/* The payload's own id: SHA-1 over every section (but the id note), every
 * relocation and every symbol. */
static void compute_build_id(const struct out *o, uint8_t id[20])
{
	struct sha1 c;
	size_t i, k;

	sha1_init(&c);
	for (i = 0; i < OUT_NSECS; i++) {
		const struct out_sec *s = &o->secs[i];

		if (i == OUT_NOTE_ID)
			continue;
		sha1_update(&c, s->name, strlen(s->name) + 1);
		hash_u64(&c, s->size);
		if (s->buf)
			sha1_update(&c, s->buf, s->size);
		for (k = 0; k < s->nrela; k++) {
			hash_u64(&c, s->rela[k].off);
			hash_u64(&c, s->rela[k].type);
			hash_u64(&c, s->rela[k].sym);
			hash_u64(&c, (uint64_t)s->rela[k].addend);
		}
	}
	for (i = 1; i < o->nsyms; i++) {
		const struct out_sym *s = &o->syms[i];

		if (s->name)
			sha1_update(&c, s->name, strlen(s->name) + 1);
		hash_u64(&c, (uint64_t)(int64_t)s->sec);
		hash_u64(&c, s->value);
		hash_u64(&c, s->type);
	}
	sha1_final(&c, id);
}

int out_write(struct out *o, const char *path, struct xhp_build_id *bid,
	      int (*check)(void *arg, const char *tmp), void *arg, struct diag *d)
{
	char *tmp = xhp_asprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, rc;

	bid->len = 20;
	compute_build_id(o, bid->b);
	o->secs[OUT_NOTE_ID].size = 0;
	out_note(o, OUT_NOTE_ID, bid);

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = diag_refuse(d, path, NULL, "cannot create: %s", strerror(errno));
		free(tmp);
		return rc;
	}
	rc = write_elf(o, fd);
	if (rc)
		diag_refuse(d, path, NULL, "writing the ELF failed: %s", elf_errmsg(-1));
	if (fsync(fd) && !rc)
		rc = diag_refuse(d, path, NULL, "fsync: %s", strerror(errno));
	close(fd);
	/* checked before it takes the name: a refused result never replaces
	 * what was there */
	if (!rc && check)
		rc = check(arg, tmp);
	if (!rc && rename(tmp, path))
		rc = diag_refuse(d, path, NULL, "rename: %s", strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}
