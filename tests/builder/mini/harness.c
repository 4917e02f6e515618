/*
 * A user-space stand-in for the hypervisor, to run what the engine wrote.
 *
 * The builder tier links this with the original objects of a test into a
 * non-PIE executable that doubles as the test's xen-syms (symbols, build-id).
 *   harness                 runs test_main() as built
 *   harness PAYLOAD         loads PAYLOAD the way Xen 4.17 does what matters
 *                           here -- allocated sections copied into one
 *                           mapping, SHN_ABS symbols taken as they are,
 *                           R_X86_64_64/PC32/PLT32 applied with overflow
 *                           checks -- writes a jmp over each function of
 *                           .livepatch.funcs (after an ENDBR64), runs the
 *                           load hooks, then runs test_main()
 * Any other relocation type, an undefined symbol or an out-of-range
 * displacement makes it exit 3 with a message.
 *
 * The test gives the engine this executable's symbols moved to Xen's
 * virtual addresses (objcopy --adjust-vma=HARNESS_DELTA): the harness takes
 * $HARNESS_DELTA back off every address the payload names (SHN_ABS symbols,
 * old_addr).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int test_main(void);

/* What the test objects link against. */
__attribute__((visibility("hidden"))) int global_counter;

__attribute__((visibility("hidden"))) int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

__attribute__((visibility("hidden"), noreturn)) void panic(const char *msg)
{
	printf("panic: %s\n", msg);
	exit(4);
}

asm(".globl __x86_return_thunk\n.hidden __x86_return_thunk\n__x86_return_thunk: ret\n"
    ".globl __x86_indirect_thunk_rax\n.hidden __x86_indirect_thunk_rax\n"
    "__x86_indirect_thunk_rax: jmp *%rax\n"
    ".globl __x86_indirect_thunk_nt_rax\n.hidden __x86_indirect_thunk_nt_rax\n"
    "__x86_indirect_thunk_nt_rax: jmp *%rax\n");

static uint64_t delta;	/* $HARNESS_DELTA */

static void die(const char *what)
{
	fprintf(stderr, "harness: %s\n", what);
	exit(3);
}

struct image {
	const uint8_t *f;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	uint8_t **addr;		/* load address of each section */
};

static const char *sec_name(const struct image *im, unsigned i)
{
	return (const char *)im->f + im->sh[im->eh->e_shstrndx].sh_offset + im->sh[i].sh_name;
}

static int sec_by_name(const struct image *im, const char *name)
{
	unsigned i;

	for (i = 1; i < im->eh->e_shnum; i++)
		if (!strcmp(sec_name(im, i), name))
			return (int)i;
	return -1;
}

static void load_sections(struct image *im)
{
	size_t total = 0, off = 0;
	uint8_t *base;
	unsigned i;

	for (i = 1; i < im->eh->e_shnum; i++)
		if (im->sh[i].sh_flags & SHF_ALLOC)
			total += im->sh[i].sh_size + im->sh[i].sh_addralign + 16;
	/* near the executable, as Xen's payloads are near Xen */
	base = mmap((void *)0x40000000, total + 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (base == MAP_FAILED)
		die("mmap");
	for (i = 1; i < im->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &im->sh[i];
		uint64_t a = s->sh_addralign ? s->sh_addralign : 1;

		if (!(s->sh_flags & SHF_ALLOC))
			continue;
		off = (off + a - 1) / a * a;
		im->addr[i] = base + off;
		if (s->sh_type != SHT_NOBITS)
			memcpy(im->addr[i], im->f + s->sh_offset, s->sh_size);
		off += s->sh_size;
	}
}

static uint64_t sym_value(const struct image *im, const Elf64_Sym *sym)
{
	if (sym->st_shndx == SHN_ABS)
		return sym->st_value - delta;
	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= im->eh->e_shnum ||
	    !im->addr[sym->st_shndx])
		die("symbol neither absolute nor in a loaded section");
	return (uint64_t)(uintptr_t)im->addr[sym->st_shndx] + sym->st_value;
}

static void relocate(const struct image *im, unsigned ri)
{
	const Elf64_Shdr *rs = &im->sh[ri];
	const Elf64_Sym *symtab = (const void *)(im->f + im->sh[rs->sh_link].sh_offset);
	const Elf64_Rela *r = (const void *)(im->f + rs->sh_offset);
	uint8_t *base = im->addr[rs->sh_info];
	size_t k;

	if (!base)
		return;
	for (k = 0; k < rs->sh_size / sizeof(*r); k++) {
		uint64_t v = sym_value(im, &symtab[ELF64_R_SYM(r[k].r_info)]) + (uint64_t)r[k].r_addend;
		uint8_t *p = base + r[k].r_offset;
		int64_t d;
		int32_t d32;

		switch (ELF64_R_TYPE(r[k].r_info)) {
		case R_X86_64_64:
			memcpy(p, &v, 8);
			break;
		case R_X86_64_PC32:
		case R_X86_64_PLT32:
			d = (int64_t)(v - (uint64_t)(uintptr_t)p);
			d32 = (int32_t)d;
			if (d32 != d)
				die("PC32 displacement out of range");
			memcpy(p, &d32, 4);
			break;
		default:
			die("relocation type Xen does not take");
		}
	}
}

static void write_jump(uint8_t *old, uint8_t *new)
{
	static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	uintptr_t page = (uintptr_t)old & ~(uintptr_t)4095;
	int32_t rel;

	if (!memcmp(old, endbr64, 4))
		old += 4;
	if (mprotect((void *)page, 8192, PROT_READ | PROT_WRITE | PROT_EXEC))
		die("mprotect");
	rel = (int32_t)(new - (old + 5));
	old[0] = 0xe9;
	memcpy(old + 1, &rel, 4);
}

static void apply(const struct image *im)
{
	int fs = sec_by_name(im, ".livepatch.funcs"), hs = sec_by_name(im, ".livepatch.hooks.load");
	uint64_t i;

	for (i = 0; fs > 0 && i < im->sh[fs].sh_size / 104; i++) {
		const uint8_t *e = im->addr[fs] + i * 104;
		uint64_t new_addr, old_addr;

		memcpy(&new_addr, e + 8, 8);
		memcpy(&old_addr, e + 16, 8);
		if (!old_addr || !new_addr || e[32] != 2)
			die("bad .livepatch.funcs entry");
		old_addr -= delta;
		write_jump((uint8_t *)(uintptr_t)old_addr, (uint8_t *)(uintptr_t)new_addr);
	}
	for (i = 0; hs > 0 && i < im->sh[hs].sh_size / 8; i++) {
		void (*hook)(void);

		memcpy(&hook, im->addr[hs] + i * 8, 8);
		hook();
	}
}

static void load(const char *path)
{
	struct image im;
	struct stat st;
	unsigned i;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die("cannot open the payload");
	im.f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (im.f == MAP_FAILED)
		die("cannot map the payload");
	im.eh = (const void *)im.f;
	im.sh = (const void *)(im.f + im.eh->e_shoff);
	im.addr = calloc(im.eh->e_shnum, sizeof(*im.addr));
	load_sections(&im);
	for (i = 1; i < im.eh->e_shnum; i++)
		if (im.sh[i].sh_type == SHT_RELA && (im.sh[im.sh[i].sh_info].sh_flags & SHF_ALLOC))
			relocate(&im, i);
	apply(&im);
	close(fd);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (getenv("HARNESS_DELTA"))
		delta = strtoull(getenv("HARNESS_DELTA"), NULL, 16);
	if (argc > 1)
		load(argv[1]);
	return test_main();
}
