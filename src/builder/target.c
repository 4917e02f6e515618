/* SPDX-License-Identifier: GPL-2.0-only */
/* Classifying relocation targets (target.h). */
#include <string.h>

#include "target.h"
#include "util.h"

int64_t rela_raw(const struct orela *r)
{
	int64_t base = r->sym->type == STT_SECTION ? 0 : (int64_t)r->sym->s.st_value;

	return base + r->addend;
}

static bool pc_relative(uint32_t type)
{
	return type == R_X86_64_PC32 || type == R_X86_64_PLT32 ||
	       type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
	       type == R_X86_64_REX_GOTPCRELX || type == R_X86_64_PC64;
}

size_t default_probes(const struct osec *from, const struct orela *r, int64_t *probes)
{
	static const int64_t imm[MAX_PROBES] = { 0, 1, 2, 4 };
	int64_t raw = rela_raw(r);
	size_t i;

	if (!pc_relative(r->type) || !sec_is_text(from)) {
		probes[0] = raw;
		return 1;
	}
	for (i = 0; i < MAX_PROBES; i++)
		probes[i] = raw + 4 + imm[i];
	return MAX_PROBES;
}

/* The first probe inside sec, or -1. */
static int64_t first_inside(const struct osec *sec, const int64_t *probes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (probes[i] >= 0 && (uint64_t)probes[i] < sec->sh.sh_size)
			return probes[i];
	return -1;
}

static void set_none(struct target *t, const char *why)
{
	t->kind = T_NONE;
	t->why = why;
}

/* The NUL-terminated string holding offset at. */
static void classify_string(struct osec *sec, int64_t at, int64_t raw, struct target *t)
{
	uint64_t s = (uint64_t)at, e = (uint64_t)at;

	if (!sec->data)
		return set_none(t, "string section without data");
	while (s > 0 && sec->data[s - 1] != '\0')
		s--;
	while (e < sec->sh.sh_size && sec->data[e] != '\0')
		e++;
	if (e >= sec->sh.sh_size)
		return set_none(t, "unterminated string");
	t->kind = T_STRING;
	t->start = s;
	t->len = e + 1 - s;
	t->rel = raw - (int64_t)s;
}

static void classify_const(struct osec *sec, int64_t at, int64_t raw, struct target *t)
{
	uint64_t es = sec->sh.sh_entsize;

	t->kind = T_CONST;
	t->start = (uint64_t)at - (uint64_t)at % es;
	t->len = es;
	if (t->start + es > sec->sh.sh_size || !sec->data)
		return set_none(t, "constant past its section");
	t->rel = raw - (int64_t)t->start;
}

/* A PC-relative reference from code: the instruction's end says where it
 * points (raw + end - field). */
static bool disambiguate(const struct osec *from, const struct orela *r, int64_t raw,
			 struct osym **hit)
{
	uint64_t end;
	struct osym *e;

	if (!pc_relative(r->type) || !sec_is_text(from))
		return false;
	end = sec_insn_end((struct osec *)from, r->off);
	if (end <= r->off || end - r->off > 15)
		return false;
	e = sec_elem_at(r->sym->sec, (uint64_t)(raw + (int64_t)(end - r->off)));
	if (!e)
		return false;
	*hit = e;
	return true;
}

/* A reference by section symbol or label into a section that is not
 * mergeable: the element the probes land in. */
static void classify_located(const struct osec *from, const struct orela *r,
			     struct osec *sec, int64_t raw, const int64_t *probes,
			     size_t n, struct target *t)
{
	struct osym *hit = NULL;
	size_t i;

	if (!sec->nelems) {
		t->kind = T_ANON;
		t->start = 0;
		t->len = sec->sh.sh_size;
		t->rel = raw;
		return;
	}
	/* A section of one element (-ffunction-sections): whatever the
	 * arithmetic (jump tables add their own offset, bug frames add line
	 * numbers), the reference is to that element. */
	if (sec->nelems == 1) {
		hit = sec->elems[0];
		t->cands[t->ncands++] = hit;
		n = 0;
	}
	for (i = 0; i < n && i < MAX_PROBES; i++) {
		struct osym *e;

		if (probes[i] < 0)
			continue;
		e = sec_elem_at(sec, (uint64_t)probes[i]);
		if (!e)
			continue;
		if (hit && e != hit)
			t->ambiguous = true;
		if (!hit)
			hit = e;
		if (!t->ncands || t->cands[t->ncands - 1] != e)
			t->cands[t->ncands++] = e;
	}
	if (!hit)
		return set_none(t, "reference into a part of a section that no symbol covers");
	if (t->ambiguous && disambiguate(from, r, raw, &hit)) {
		t->ambiguous = false;
		t->cands[0] = hit;
		t->ncands = 1;
	}
	t->kind = T_ELEM;
	t->elem = hit;
	t->start = hit->start;
	t->len = hit->end - hit->start;
	t->rel = raw - (int64_t)hit->start;
}

void classify(const struct osec *from, const struct orela *r, const int64_t *probes,
	      size_t nprobes, struct target *t)
{
	int64_t def[MAX_PROBES], raw = rela_raw(r), at;
	struct osym *sym = r->sym;

	memset(t, 0, sizeof(*t));
	t->sym = sym;
	if (!probes) {
		nprobes = default_probes(from, r, def);
		probes = def;
	}
	if (!sym->sec) {
		t->kind = sym->s.st_shndx == SHN_ABS ? T_ABS :
			  sym->s.st_shndx == SHN_UNDEF ? T_UNDEF : T_NONE;
		if (t->kind == T_NONE)
			t->why = "common or reserved-section symbol";
		t->rel = r->addend;
		return;
	}
	t->sec = sym->sec;
	if (sym->is_elem) {
		t->kind = T_ELEM;
		t->elem = sym;
		t->start = sym->start;
		t->len = sym->end - sym->start;
		t->rel = raw - (int64_t)sym->start;
		return;
	}
	if (sec_is_strings(sym->sec) || sec_is_consts(sym->sec)) {
		/* A label (.LC3) marks the start of its string or constant;
		 * a section symbol needs the probes. */
		at = sym->type == STT_SECTION ? first_inside(sym->sec, probes, nprobes) :
						 (int64_t)sym->s.st_value;
		if (at < 0 || (uint64_t)at >= sym->sec->sh.sh_size)
			return set_none(t, "reference past a mergeable section");
		if (sec_is_strings(sym->sec))
			return classify_string(sym->sec, at, raw, t);
		return classify_const(sym->sec, at, raw, t);
	}
	classify_located(from, r, sym->sec, raw, probes, nprobes, t);
}

void target_anon(struct osec *sec, uint64_t start, uint64_t len, int64_t raw, struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->kind = T_ANON;
	t->sec = sec;
	t->start = start;
	t->len = len;
	t->rel = raw - (int64_t)start;
}

static void add_user(struct osym *x, struct osym *user)
{
	size_t i;

	for (i = 0; i < x->nusers; i++)
		if (x->users[i] == user)
			return;
	x->users = xhp_realloc(x->users, (x->nusers + 1) * sizeof(*x->users));
	x->users[x->nusers++] = user;
}

void index_users(struct obj *o)
{
	size_t i, k, first, n;

	for (i = 0; i < o->nsyms; i++) {
		struct osym *e = &o->syms[i];

		if (!e->is_elem || sec_is_special(e->sec) || sec_is_ignored(e->sec))
			continue;
		n = sec_rela_range(e->sec, e->start, e->end, &first);
		for (k = first; k < first + n; k++) {
			struct target t;

			size_t c;

			classify(e->sec, &e->sec->rela[k], NULL, 0, &t);
			if (t.kind != T_ELEM)
				continue;
			/* an ambiguous reference may be to any of the candidates */
			for (c = 0; c < t.ncands; c++)
				if (t.cands[c] != e)
					add_user(t.cands[c], e);
			if (!t.ncands && t.elem != e)
				add_user(t.elem, e);
		}
	}
}
