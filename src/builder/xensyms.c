/* SPDX-License-Identifier: GPL-2.0-only */
/* The kit's xen-syms: build-id, symbols by (file, name), bytes by address. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "xensyms.h"

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0;
	return strcmp(a, b);
}

static int cmp_xsym(const void *a, const void *b)
{
	const struct xsym *x = a, *y = b;
	int c = cmp_str(x->file, y->file);

	return c ? c : strcmp(x->name, y->name);
}

/* Build-id: the descriptor of the NT_GNU_BUILD_ID note in .note.gnu.build-id
 * (or any note section holding one). */
static void read_build_id(struct xensyms *x, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, noff, doff;
	GElf_Nhdr nh;

	while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + noff, "GNU", 4) &&
		    nh.n_descsz && nh.n_descsz <= XHP_BUILD_ID_MAX) {
			x->build_id.len = (uint8_t)nh.n_descsz;
			memcpy(x->build_id.b, (char *)data->d_buf + doff, nh.n_descsz);
			return;
		}
	}
}

static void add_file(struct xensyms *x, const char *name)
{
	x->files = xhp_realloc(x->files, (x->nfiles + 1) * sizeof(*x->files));
	x->files[x->nfiles++] = (char *)name;
}

static int read_symtab(struct xensyms *x, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	const char *file = NULL;
	size_t n, i;

	if (!data || !sh->sh_entsize)
		return -EINVAL;
	n = sh->sh_size / sh->sh_entsize;
	x->syms = xhp_calloc(n ? n : 1, sizeof(*x->syms));
	for (i = 1; i < n; i++) {
		GElf_Sym gs;
		const char *name;
		struct xsym *s;

		if (!gelf_getsym(data, (int)i, &gs))
			return -EINVAL;
		name = elf_strptr(elf, sh->sh_link, gs.st_name);
		if (!name || !*name)
			continue;
		if (GELF_ST_TYPE(gs.st_info) == STT_FILE) {
			file = name;
			add_file(x, (char *)name);
			continue;
		}
		if (gs.st_shndx == SHN_UNDEF || GELF_ST_TYPE(gs.st_info) == STT_SECTION)
			continue;
		if (!strcmp(name, "__init_begin"))
			x->init_begin = gs.st_value;
		else if (!strcmp(name, "__init_end"))
			x->init_end = gs.st_value;
		s = &x->syms[x->nsyms++];
		s->local = GELF_ST_BIND(gs.st_info) == STB_LOCAL;
		s->file = s->local ? file : NULL;
		s->name = name;
		s->value = gs.st_value;
		s->size = gs.st_size;
		s->type = GELF_ST_TYPE(gs.st_info);
	}
	qsort(x->syms, x->nsyms, sizeof(*x->syms), cmp_xsym);
	return 0;
}

static int read_elf(struct xensyms *x, Elf *elf, struct diag *d)
{
	size_t shstrndx, n, i;
	bool have_symtab = false;

	if (elf_getshdrnum(elf, &n) || elf_getshdrstrndx(elf, &shstrndx))
		return diag_refuse(d, x->path, NULL, "not a readable ELF file");
	x->secs = xhp_calloc(n ? n : 1, sizeof(*x->secs));
	for (i = 1; i < n; i++) {
		Elf_Scn *scn = elf_getscn(elf, i);
		GElf_Shdr sh;

		if (!scn || !gelf_getshdr(scn, &sh))
			return diag_refuse(d, x->path, NULL, "bad section header %zu", i);
		if (sh.sh_type == SHT_NOTE && !x->build_id.len)
			read_build_id(x, scn);
		if (sh.sh_type == SHT_SYMTAB) {
			if (read_symtab(x, elf, scn, &sh))
				return diag_refuse(d, x->path, NULL, "bad symbol table");
			have_symtab = true;
		}
		if ((sh.sh_flags & SHF_ALLOC) && sh.sh_size) {
			struct xsec *xs = &x->secs[x->nsecs++];

			xs->addr = sh.sh_addr;
			xs->size = sh.sh_size;
			xs->off = sh.sh_offset;
			xs->nobits = sh.sh_type == SHT_NOBITS;
		}
	}
	if (!have_symtab)
		return diag_refuse(d, x->path, NULL, "no symbol table (a stripped hypervisor)");
	if (!x->build_id.len)
		return diag_refuse(d, x->path, NULL, "no GNU build-id note");
	return 0;
}

int xensyms_load(struct xensyms *x, const char *path, struct diag *d)
{
	struct stat st;
	Elf *elf;
	int fd, rc;

	memset(x, 0, sizeof(*x));
	x->path = xhp_strdup(path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return diag_refuse(d, path, NULL, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 64) {
		close(fd);
		return diag_refuse(d, path, NULL, "not a regular ELF file");
	}
	x->len = (size_t)st.st_size;
	x->map = mmap(NULL, x->len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (x->map == MAP_FAILED) {
		x->map = NULL;
		return diag_refuse(d, path, NULL, "cannot map: %s", strerror(errno));
	}
	elf = elf_memory(x->map, x->len);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		return diag_refuse(d, path, NULL, "not an ELF file");
	}
	rc = read_elf(x, elf, d);
	/* Names point into the mapping (elf_memory does not copy): keep the
	 * mapping, drop the descriptor. */
	elf_end(elf);
	return rc;
}

void xensyms_free(struct xensyms *x)
{
	free(x->syms);
	free(x->files);
	free(x->secs);
	if (x->map)
		munmap(x->map, x->len);
	free(x->path);
	memset(x, 0, sizeof(*x));
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

const char *xensyms_file(const struct xensyms *x, const char *src)
{
	const char *found = NULL;
	size_t i;

	for (i = 0; i < x->nfiles; i++)
		if (!strcmp(x->files[i], src))
			return x->files[i];
	/* Without ENFORCE_UNIQUE_SYMBOLS the FILE symbol is the base name. */
	for (i = 0; i < x->nfiles; i++) {
		if (strcmp(base_of(x->files[i]), base_of(src)))
			continue;
		if (found && strcmp(found, x->files[i]))
			return NULL;	/* ambiguous */
		found = x->files[i];
	}
	return found;
}

/* The entry equal to key, NULL if none; *dup when there are several. */
static const struct xsym *find_one(const struct xensyms *x, const struct xsym *key, bool *dup)
{
	const struct xsym *s = bsearch(key, x->syms, x->nsyms, sizeof(*x->syms), cmp_xsym);

	if (s && ((s > x->syms && !cmp_xsym(s - 1, key)) ||
		  (s + 1 < x->syms + x->nsyms && !cmp_xsym(s + 1, key))))
		*dup = true;
	return s;
}

const struct xsym *xensyms_find(const struct xensyms *x, const char *file, const char *name,
				bool *ambiguous)
{
	struct xsym key = { .file = file, .name = name };
	bool dup = false;
	const struct xsym *s;

	s = find_one(x, &key, &dup);
	if (ambiguous)
		*ambiguous = dup;
	return dup ? NULL : s;
}

const uint8_t *xensyms_bytes(const struct xensyms *x, uint64_t addr, uint64_t len)
{
	size_t i;

	for (i = 0; i < x->nsecs; i++) {
		const struct xsec *s = &x->secs[i];

		if (s->nobits || addr < s->addr || addr - s->addr > s->size ||
		    len > s->size - (addr - s->addr))
			continue;
		if (s->off + (addr - s->addr) + len > x->len)
			return NULL;
		return (const uint8_t *)x->map + s->off + (addr - s->addr);
	}
	return NULL;
}

bool is_endbr64(const uint8_t *p)
{
	static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };

	return p && !memcmp(p, endbr64, sizeof(endbr64));
}

bool xensyms_has_endbr(const struct xensyms *x)
{
	size_t i;

	for (i = 0; i < x->nsyms; i++)
		if (x->syms[i].type == STT_FUNC && x->syms[i].size >= 4 &&
		    is_endbr64(xensyms_bytes(x, x->syms[i].value, 4)))
			return true;
	return false;
}

bool xensyms_is_init(const struct xensyms *x, uint64_t addr)
{
	return x->init_begin < x->init_end && addr >= x->init_begin && addr < x->init_end;
}

char *xensyms_runtime_name(const struct xsym *s)
{
	if (!s->local || !s->file)
		return xhp_strdup(s->name);
	return xhp_asprintf("%s#%s", s->file, s->name);
}
