/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Instruction boundaries of a text section, from binutils' objdump (the
 * kit's binutils: a payload build checks they are the host's). Only asked
 * for when a PC-relative reference could mean several small variables of a
 * shared section: the end of the instruction tells the real target.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "obj.h"
#include "util.h"

extern char **environ;

/* "   1a:\tcall ..." -> 0x1a */
static bool parse_addr(const char *line, uint64_t *addr)
{
	char *end;

	while (*line == ' ')
		line++;
	*addr = strtoull(line, &end, 16);
	return end != line && end[0] == ':' && end[1] == '\t';
}

static void add_insn(struct osec *s, uint64_t a, size_t *cap)
{
	if (s->ninsn == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		s->insn = xhp_realloc(s->insn, *cap * sizeof(*s->insn));
	}
	s->insn[s->ninsn++] = a;
}

static void read_insns(struct osec *s)
{
	const char *objdump = getenv("OBJDUMP") ? getenv("OBJDUMP") : "objdump";
	char *jsec = xhp_asprintf("--section=%s", s->name);
	char *argv[] = { (char *)objdump, "-d", "--no-show-raw-insn", jsec, (char *)s->path, NULL };
	posix_spawn_file_actions_t fa;
	char line[512];
	size_t cap = 0;
	int pfd[2], status;
	pid_t pid;
	FILE *f;

	s->insn_read = true;
	if (pipe(pfd)) {
		free(jsec);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, objdump, &fa, NULL, argv, environ))
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		uint64_t a;

		if (parse_addr(line, &a))
			add_insn(s, a, &cap);
	}
	if (f)
		fclose(f);
	else
		close(pfd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	free(jsec);
	add_insn(s, s->sh.sh_size, &cap);	/* the last one ends the section */
}

uint64_t sec_insn_end(struct osec *s, uint64_t off)
{
	size_t lo = 0, hi;

	if (!sec_is_text(s))
		return 0;
	if (!s->insn_read)
		read_insns(s);
	hi = s->ninsn;
	while (lo < hi) {	/* the first start after off */
		size_t mid = lo + (hi - lo) / 2;

		if (s->insn[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->ninsn && lo > 0 ? s->insn[lo] : 0;
}
