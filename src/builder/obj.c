/* SPDX-License-Identifier: GPL-2.0-only */
/* Loading a relocatable object into the diff engine's model (obj.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "obj.h"
#include "util.h"

static int elf_fail(struct diag *d, const char *path, const char *what)
{
	return diag_refuse(d, path, NULL, "%s: %s", what, elf_errmsg(-1));
}

static int open_elf(struct obj *o, struct diag *d)
{
	GElf_Ehdr eh;

	o->fd = open(o->path, O_RDONLY | O_CLOEXEC);
	if (o->fd < 0)
		return diag_refuse(d, o->path, NULL, "cannot open: %s", strerror(errno));
	o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
	if (!o->elf)
		return elf_fail(d, o->path, "not an ELF file");
	if (elf_kind(o->elf) != ELF_K_ELF || !gelf_getehdr(o->elf, &eh))
		return diag_refuse(d, o->path, NULL, "not an ELF object");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    eh.e_type != ET_REL)
		return diag_refuse(d, o->path, NULL, "not an x86-64 relocatable object");
	return 0;
}

static int load_sections(struct obj *o, struct diag *d)
{
	size_t n, shstrndx, i;

	if (elf_getshdrnum(o->elf, &n) || elf_getshdrstrndx(o->elf, &shstrndx))
		return elf_fail(d, o->path, "section table");
	o->secs = xhp_calloc(n, sizeof(*o->secs));
	o->nsecs = n;
	for (i = 0; i < n; i++) {
		struct osec *s = &o->secs[i];
		Elf_Scn *scn = elf_getscn(o->elf, i);
		Elf_Data *data;

		s->idx = i;
		s->out = -1;
		s->path = o->path;
		if (!scn || !gelf_getshdr(scn, &s->sh))
			return elf_fail(d, o->path, "section header");
		s->name = elf_strptr(o->elf, shstrndx, s->sh.sh_name);
		if (!s->name)
			s->name = "";
		if (s->sh.sh_type == SHT_NOBITS || s->sh.sh_size == 0)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || data->d_size != s->sh.sh_size)
			return elf_fail(d, o->path, "section data");
		s->data = data->d_buf;
	}
	return 0;
}

static struct osec *sym_section(struct obj *o, const GElf_Sym *gs, Elf32_Word xndx)
{
	size_t idx = gs->st_shndx;

	if (idx == SHN_XINDEX)
		idx = xndx;
	else if (idx == SHN_UNDEF || idx >= SHN_LORESERVE)
		return NULL;
	return idx < o->nsecs ? &o->secs[idx] : NULL;
}

static int load_symbols(struct obj *o, struct diag *d)
{
	Elf_Data *data = NULL, *xdata = NULL;
	GElf_Shdr *symsh = NULL;
	size_t i, strndx = 0;

	for (i = 1; i < o->nsecs; i++) {
		if (o->secs[i].sh.sh_type == SHT_SYMTAB) {
			symsh = &o->secs[i].sh;
			strndx = symsh->sh_link;
			data = elf_getdata(elf_getscn(o->elf, i), NULL);
		} else if (o->secs[i].sh.sh_type == SHT_SYMTAB_SHNDX) {
			xdata = elf_getdata(elf_getscn(o->elf, i), NULL);
		}
	}
	if (!symsh || !data || !symsh->sh_entsize)
		return diag_refuse(d, o->path, NULL, "no symbol table");
	o->nsyms = symsh->sh_size / symsh->sh_entsize;
	o->syms = xhp_calloc(o->nsyms, sizeof(*o->syms));
	for (i = 0; i < o->nsyms; i++) {
		struct osym *s = &o->syms[i];
		Elf32_Word xndx = 0;

		if (!gelf_getsymshndx(data, xdata, (int)i, &s->s, &xndx))
			return elf_fail(d, o->path, "symbol");
		s->idx = i;
		s->out = -1;
		s->type = GELF_ST_TYPE(s->s.st_info);
		s->bind = GELF_ST_BIND(s->s.st_info);
		s->name = elf_strptr(o->elf, strndx, s->s.st_name);
		if (!s->name)
			s->name = "";
		s->sec = sym_section(o, &s->s, xndx);
		if (s->type == STT_SECTION && s->sec && !s->sec->secsym)
			s->sec->secsym = s;
	}
	return 0;
}

static int cmp_rela(const void *a, const void *b)
{
	const struct orela *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int load_rela(struct obj *o, struct osec *rs, struct diag *d)
{
	struct osec *target;
	Elf_Data *data;
	size_t n, k;

	if (rs->sh.sh_type == SHT_REL)
		return diag_refuse(d, o->path, rs->name, "SHT_REL relocations (expected RELA)");
	if (rs->sh.sh_info >= o->nsecs || !rs->sh.sh_entsize)
		return diag_refuse(d, o->path, rs->name, "bad relocation section");
	target = &o->secs[rs->sh.sh_info];
	data = elf_getdata(elf_getscn(o->elf, rs->idx), NULL);
	n = rs->sh.sh_size / rs->sh.sh_entsize;
	if (!data || target->rela)
		return diag_refuse(d, o->path, rs->name, "bad relocation section");
	target->rela = xhp_calloc(n ? n : 1, sizeof(*target->rela));
	target->nrela = n;
	for (k = 0; k < n; k++) {
		GElf_Rela r;
		size_t si;

		if (!gelf_getrela(data, (int)k, &r))
			return elf_fail(d, o->path, "relocation");
		si = GELF_R_SYM(r.r_info);
		if (si == 0 || si >= o->nsyms)
			return diag_refuse(d, o->path, rs->name, "relocation %zu has no valid symbol", k);
		target->rela[k].off = r.r_offset;
		target->rela[k].type = (uint32_t)GELF_R_TYPE(r.r_info);
		target->rela[k].sym = &o->syms[si];
		target->rela[k].addend = r.r_addend;
	}
	qsort(target->rela, n, sizeof(*target->rela), cmp_rela);
	return 0;
}

static int cmp_elem(const void *a, const void *b)
{
	const struct osym *x = *(struct osym *const *)a, *y = *(struct osym *const *)b;

	if (x->s.st_value != y->s.st_value)
		return x->s.st_value < y->s.st_value ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Attach FUNC/OBJECT symbols to their sections and set element ranges. */
static void index_elements(struct obj *o)
{
	size_t i;

	for (i = 0; i < o->nsyms; i++) {
		struct osym *s = &o->syms[i];

		if ((s->type != STT_FUNC && s->type != STT_OBJECT) || !s->sec)
			continue;
		s->sec->elems = xhp_realloc(s->sec->elems,
					    (s->sec->nelems + 1) * sizeof(*s->sec->elems));
		s->sec->elems[s->sec->nelems++] = s;
	}
	for (i = 0; i < o->nsecs; i++) {
		struct osec *sec = &o->secs[i];
		size_t k;

		if (!sec->nelems)
			continue;
		qsort(sec->elems, sec->nelems, sizeof(*sec->elems), cmp_elem);
		for (k = 0; k < sec->nelems; k++) {
			struct osym *s = sec->elems[k];

			s->is_elem = true;
			s->state = ST_NONE;
			if (sec->nelems == 1) {
				s->start = 0;
				s->end = sec->sh.sh_size;
			} else {
				s->start = s->s.st_value;
				s->end = s->s.st_value + s->s.st_size;
			}
		}
	}
}

/* "f.cold" pieces know their parent function. */
static void link_cold_parents(struct obj *o)
{
	size_t i, k;

	for (i = 0; i < o->nsyms; i++) {
		struct osym *c = &o->syms[i];
		const char *dot;

		if (!c->is_elem || !sym_is_cold(c))
			continue;
		dot = strstr(c->name, ".cold");
		for (k = 0; k < o->nsyms; k++) {
			struct osym *p = &o->syms[k];

			if (p != c && p->is_elem && p->type == STT_FUNC &&
			    strlen(p->name) == (size_t)(dot - c->name) &&
			    !strncmp(p->name, c->name, (size_t)(dot - c->name))) {
				c->parent = p;
				break;
			}
		}
	}
}

int obj_load(struct obj *o, const char *path, const char *src, struct diag *d)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->path = xhp_strdup(path);
	o->src = xhp_strdup(src);
	if (open_elf(o, d) || load_sections(o, d) || load_symbols(o, d))
		return -EINVAL;
	for (i = 1; i < o->nsecs; i++) {
		struct osec *rs = &o->secs[i];

		if ((rs->sh.sh_type == SHT_RELA || rs->sh.sh_type == SHT_REL) &&
		    load_rela(o, rs, d))
			return -EINVAL;
	}
	index_elements(o);
	link_cold_parents(o);
	return 0;
}

void obj_free(struct obj *o)
{
	size_t i;

	for (i = 0; i < o->nsecs; i++) {
		free(o->secs[i].rela);
		free(o->secs[i].elems);
		free(o->secs[i].insn);
	}
	for (i = 0; i < o->nsyms; i++)
		free(o->syms[i].users);
	free(o->secs);
	free(o->syms);
	if (o->elf)
		elf_end(o->elf);
	if (o->fd >= 0)
		close(o->fd);
	free(o->path);
	free(o->src);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
}

struct osec *obj_sec(const struct obj *o, const char *name)
{
	size_t i;

	for (i = 1; i < o->nsecs; i++)
		if (!strcmp(o->secs[i].name, name))
			return &o->secs[i];
	return NULL;
}

const char *obj_file_symbol(const struct obj *o)
{
	size_t i;

	for (i = 0; i < o->nsyms; i++)
		if (o->syms[i].type == STT_FILE)
			return o->syms[i].name;
	return "";
}

struct osym *sec_elem_at(const struct osec *s, uint64_t off)
{
	struct osym *ends_here = NULL;
	size_t k;

	for (k = 0; k < s->nelems; k++) {
		struct osym *e = s->elems[k];

		if (e->start <= off && off < e->end)
			return e;
		if (e->end == off && e->end > e->start)
			ends_here = e;
	}
	return ends_here;
}

size_t sec_rela_range(const struct osec *s, uint64_t from, uint64_t to, size_t *first)
{
	size_t lo = 0, hi = s->nrela, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->rela[mid].off < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (k = lo; k < s->nrela && s->rela[k].off < to; k++)
		;
	return k - lo;
}

static bool starts_with(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

bool sec_is_alloc(const struct osec *s)
{
	return s->sh.sh_flags & SHF_ALLOC;
}

bool sec_is_text(const struct osec *s)
{
	return (s->sh.sh_flags & SHF_ALLOC) && (s->sh.sh_flags & SHF_EXECINSTR);
}

bool sec_is_writable(const struct osec *s)
{
	if (!(s->sh.sh_flags & SHF_WRITE))
		return false;
	/* Pointers in const data under -fpic: written only by relocation. */
	return !starts_with(s->name, ".data.rel.ro");
}

bool sec_is_strings(const struct osec *s)
{
	return (s->sh.sh_flags & SHF_MERGE) && (s->sh.sh_flags & SHF_STRINGS);
}

bool sec_is_consts(const struct osec *s)
{
	return (s->sh.sh_flags & SHF_MERGE) && !(s->sh.sh_flags & SHF_STRINGS) &&
	       s->sh.sh_entsize;
}

bool sec_is_init(const struct osec *s)
{
	return starts_with(s->name, ".init.") || !strcmp(s->name, ".init") ||
	       starts_with(s->name, ".exit.");
}

bool sec_is_percpu(const struct osec *s)
{
	return starts_with(s->name, ".bss.percpu") || starts_with(s->name, ".data.percpu");
}

bool sec_is_boot_table(const struct osec *s)
{
	return sec_is_init(s) || starts_with(s->name, ".data.param") ||
	       starts_with(s->name, ".initcall");
}

bool sec_is_ignored(const struct osec *s)
{
	static const char *const names[] = {
		".comment", ".eh_frame", ".discard", ".note", ".debug", ".zdebug",
		".stab", ".gnu.", ".llvm",
	};
	size_t i;

	if (!(s->sh.sh_flags & SHF_ALLOC) && s->sh.sh_type != SHT_PROGBITS &&
	    s->sh.sh_type != SHT_NOBITS)
		return true;	/* symtab, strtab, rela, group... */
	for (i = 0; i < XHP_ARRAY_SIZE(names); i++)
		if (starts_with(s->name, names[i]))
			return true;
	return !(s->sh.sh_flags & SHF_ALLOC);
}

bool sec_is_special(const struct osec *s)
{
	static const char *const names[] = {
		".livepatch.", ".altinstructions", ".altinstr_replacement", ".ex_table",
		".fixup", ".bug_frames.",
	};
	size_t i;

	for (i = 0; i < XHP_ARRAY_SIZE(names); i++)
		if (starts_with(s->name, names[i]))
			return true;
	return false;
}

void sym_base_name(const char *name, char *out, size_t n)
{
	size_t len = strlen(name);

	/* strip one trailing ".<digits>" */
	while (len > 0 && name[len - 1] >= '0' && name[len - 1] <= '9')
		len--;
	if (len > 0 && len < strlen(name) && name[len - 1] == '.')
		len--;
	else
		len = strlen(name);
	if (len >= n)
		len = n - 1;
	memcpy(out, name, len);
	out[len] = '\0';
}

bool sym_is_cold(const struct osym *s)
{
	const char *p = strstr(s->name, ".cold");

	return s->type == STT_FUNC && p && p != s->name &&
	       (p[5] == '\0' || p[5] == '.');
}

bool sym_is_clone(const struct osym *s)
{
	return s->type == STT_FUNC && s->bind == STB_LOCAL &&
	       (strstr(s->name, ".isra.") || strstr(s->name, ".constprop.") ||
		strstr(s->name, ".part."));
}

bool sym_is_func(const struct osym *s)
{
	return s->is_elem && s->type == STT_FUNC;
}

bool sym_is_object(const struct osym *s)
{
	return s->is_elem && s->type == STT_OBJECT;
}

const uint8_t *elem_bytes(const struct osym *s)
{
	return s->sec->data ? s->sec->data + s->start : NULL;
}
