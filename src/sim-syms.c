// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim-syms.c: the running Xen's symbol table and code, for the simulated
 * hypervisor (`init --xen-syms FILE`).
 *
 * Xen resolves names in a table built at link time by xen/tools/symbols from
 * `nm -pa --format=sysv xen-syms` (with --all-symbols when LIVEPATCH=y):
 * global symbols by their name, local ones as "FILE#name" after the last
 * STT_FILE symbol, absolute and undefined ones left out (§1.6, §1.7). From
 * an ELF xen-syms the same table is rebuilt here, and its .text is kept for
 * expectations and ENDBR64. A symbol map (xen-syms.map, "ADDR TYPE NAME"
 * lines, which the Xen build writes from the same table) gives the table
 * without code.
 *
 * In DIR: xen-syms.tsv ("NAME<TAB>HEX-ADDRESS" lines sorted by name) and
 * xen-text (the bytes of .text; its address and size are in state.json).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim-int.h"

struct sym {
	char *name;
	uint64_t addr;
};

struct sim_syms {
	struct sym *v;
	size_t n, cap;
	int text_fd;			/* DIR/xen-text, -1 when none */
	unsigned long long text_start, text_size;
};

static void syms_add(struct sim_syms *t, const char *name, uint64_t addr)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->v = xhp_realloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n].name = xhp_strdup(name);
	t->v[t->n++].addr = addr;
}

static int cmp_sym(const void *a, const void *b)
{
	return strcmp(((const struct sym *)a)->name, ((const struct sym *)b)->name);
}

void sim_syms_close(struct sim_syms *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	if (t->text_fd >= 0)
		close(t->text_fd);
	free(t);
}

/* ---- import ---------------------------------------------------------------------- */

/* One symbol of an ELF xen-syms as tools/symbols keeps it, into t. */
static void elf_symbol(struct sim_syms *t, Elf *elf, size_t strndx, const GElf_Sym *s,
		       const char **file)
{
	const char *name = elf_strptr(elf, strndx, s->st_name);
	GElf_Shdr sh;
	char *full;

	if (!name)
		return;
	if (GELF_ST_TYPE(s->st_info) == STT_FILE) {
		*file = *name ? name : NULL;
		return;
	}
	if (!*name || GELF_ST_TYPE(s->st_info) == STT_SECTION || s->st_shndx == SHN_UNDEF ||
	    (s->st_shndx == SHN_ABS && strcmp(name, "__gp")) || strstr(name, "_compiled."))
		return;
	if (s->st_shndx != SHN_ABS && s->st_shndx < SHN_LORESERVE &&
	    (!gelf_getshdr(elf_getscn(elf, s->st_shndx), &sh) || !(sh.sh_flags & SHF_ALLOC)))
		return;	/* nm's N: debugging symbols */
	if (GELF_ST_BIND(s->st_info) == STB_LOCAL && *file) {
		full = xhp_asprintf("%s#%s", *file, name);
		syms_add(t, full, s->st_value);
		free(full);
	} else {
		syms_add(t, name, s->st_value);
	}
}

static void elf_build_id(Elf_Data *d, struct xhp_build_id *id)
{
	const uint8_t *b = d->d_buf;
	uint32_t namesz, descsz, off;

	if (d->d_size < 16)
		return;
	memcpy(&namesz, b, 4);
	memcpy(&descsz, b + 4, 4);
	off = 12 + ((namesz + 3) & ~3u);
	if (descsz && descsz <= XHP_BUILD_ID_MAX && off + descsz <= d->d_size) {
		id->len = (uint8_t)descsz;
		memcpy(id->b, b + off, descsz);
	}
}

/* .text into DIR/xen-text. */
static int elf_text(const char *dir, Elf_Scn *scn, const GElf_Shdr *sh,
		    unsigned long long *start, unsigned long long *size)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	_cleanup_free_ char *path = sim_path(dir, SIM_TEXT_FILE);
	int r;

	if (!d || d->d_size != sh->sh_size)
		return 0;
	r = xhp_write_file_atomic(path, d->d_buf, d->d_size, 0644);
	if (r == 0) {
		*start = sh->sh_addr;
		*size = sh->sh_size;
	}
	return r;
}

static int import_elf(const char *dir, int fd, struct sim_syms *t, struct xhp_build_id *id,
		      unsigned long long *text_start, unsigned long long *text_size)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int r = 0;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx)) {
		elf_end(elf);
		return -EINVAL;
	}
	while (r == 0 && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;
		const char *file = NULL;
		GElf_Sym s;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (sh.sh_type == SHT_NOTE && !strcmp(name, ".note.gnu.build-id") &&
		    (d = elf_getdata(scn, NULL)))
			elf_build_id(d, id);
		else if (sh.sh_type == SHT_PROGBITS && !strcmp(name, ".text"))
			r = elf_text(dir, scn, &sh, text_start, text_size);
		else if (sh.sh_type == SHT_SYMTAB && (d = elf_getdata(scn, NULL)))
			for (int i = 1; gelf_getsym(d, i, &s); i++)
				elf_symbol(t, elf, sh.sh_link, &s, &file);
	}
	elf_end(elf);
	return r;
}

/* "ADDR TYPE NAME" lines (xen-syms.map, nm's BSD format). */
static int import_map(FILE *f, struct sim_syms *t)
{
	char line[1024], name[512], type;
	unsigned long long addr;

	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %511s", &addr, &type, name) != 3)
			return -EINVAL;
		if (type != 'U' && type != 'N' && (type != 'A' || !strcmp(name, "__gp")))
			syms_add(t, name, addr);
	}
	return ferror(f) ? -EIO : 0;
}

static int write_table(const char *dir, struct sim_syms *t)
{
	_cleanup_free_ char *path = sim_path(dir, SIM_SYMS_FILE);
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	int r;

	if (!f)
		abort();
	qsort(t->v, t->n, sizeof(*t->v), cmp_sym);
	for (size_t i = 0; i < t->n; i++)
		fprintf(f, "%s\t%llx\n", t->v[i].name, (unsigned long long)t->v[i].addr);
	if (fclose(f))
		abort();
	r = xhp_write_file_atomic(path, buf, sz, 0644);
	free(buf);
	return r;
}

void sim_syms_remove(const char *dir)
{
	_cleanup_free_ char *a = sim_path(dir, SIM_SYMS_FILE);
	_cleanup_free_ char *b = sim_path(dir, SIM_TEXT_FILE);

	unlink(a);
	unlink(b);
}

int sim_syms_import(const char *dir, const char *file, struct xhp_build_id *id,
		    unsigned long long *text_start, unsigned long long *text_size,
		    struct xhp_err *err)
{
	struct sim_syms t = { .text_fd = -1 };
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	unsigned char magic[4] = { 0 };
	int r;

	memset(id, 0, sizeof(*id));
	*text_start = *text_size = 0;
	sim_syms_remove(dir);
	if (fd < 0 || read(fd, magic, 4) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		r = -errno;
		xhp_err_set(err, "%s: %s", file, strerror(-r));
		return r;
	}
	if (!memcmp(magic, ELFMAG, SELFMAG)) {
		r = import_elf(dir, fd, &t, id, text_start, text_size);
	} else {
		FILE *f = fdopen(dup(fd), "r");

		r = f ? import_map(f, &t) : -errno;
		if (f)
			fclose(f);
	}
	if (r == 0 && !t.n)
		r = -ENOENT;
	if (r == 0)
		r = write_table(dir, &t);
	for (size_t i = 0; i < t.n; i++)
		free(t.v[i].name);
	free(t.v);
	if (r < 0) {
		sim_syms_remove(dir);
		xhp_err_set(err, "%s: %s", file, r == -EINVAL ?
			    "neither an ELF xen-syms nor a symbol map (ADDR TYPE NAME lines)" :
			    r == -ENOENT ? "no symbols" : strerror(-r));
	}
	return r;
}

/* ---- lookups ------------------------------------------------------------------------ */

int sim_syms_open(const char *dir, const struct sim_state *s, struct sim_syms **out,
		  struct xhp_err *err)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	struct sim_syms *t;
	size_t len;
	int r;

	*out = NULL;
	if (!s->have_syms)
		return 0;
	path = sim_path(dir, SIM_SYMS_FILE);
	r = xhp_read_file(path, &data, &len, 256u << 20);
	if (r < 0) {
		xhp_err_set(err, "%s: %s", path, strerror(-r));
		return r;
	}
	t = xhp_calloc(1, sizeof(*t));
	for (char *line = data, *nl; *line; line = nl + 1) {
		char *tab = strchr(line, '\t');

		nl = strchr(line, '\n');
		if (!nl || !tab || tab > nl)
			break;
		*tab = *nl = '\0';
		syms_add(t, line, strtoull(tab + 1, NULL, 16));
	}
	free(path);
	path = sim_path(dir, SIM_TEXT_FILE);
	t->text_fd = s->text_size ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	t->text_start = s->text_start;
	t->text_size = t->text_fd >= 0 ? s->text_size : 0;
	*out = t;
	return 0;
}

uint64_t sim_syms_lookup(const struct sim_syms *t, const char *name)
{
	struct sym key = { (char *)name, 0 };
	const struct sym *hit = bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_sym);

	return hit ? hit->addr : 0;
}

int sim_syms_code(const struct sim_syms *t, uint64_t addr, uint8_t *buf, size_t n)
{
	if (t->text_fd < 0 || addr < t->text_start ||
	    addr - t->text_start > t->text_size || n > t->text_size - (addr - t->text_start))
		return -ENOENT;
	return pread(t->text_fd, buf, n, (off_t)(addr - t->text_start)) == (ssize_t)n ? 0 : -EIO;
}
