/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Is a patched element the same as its original? Same size, same bytes
 * (relocated fields are zero in a RELA object) and the same relocations,
 * where "same target" means: the twin of the same element at the same
 * offset, the same undefined name, a string or constant with the same
 * bytes, or an anonymous chunk with the same contents. Read-only statics
 * that are not twins (GCC renumbers __func__.N, CSWTCH.N) compare by
 * content.
 */
#include <string.h>

#include "engine.h"

#define COMPARE_DEPTH 3

static bool readonly_local(const struct osym *s)
{
	return s->type == STT_OBJECT && s->bind == STB_LOCAL && !sec_is_writable(s->sec);
}

/* Same elements at the same offsets, pairwise twins. */
bool layout_same(const struct osec *ps, const struct osec *os)
{
	size_t k;

	if (!ps || !os || ps->nelems != os->nelems || ps->sh.sh_size != os->sh.sh_size)
		return false;
	for (k = 0; k < ps->nelems; k++)
		if (ps->elems[k]->twin != os->elems[k] ||
		    ps->elems[k]->start != os->elems[k]->start ||
		    ps->elems[k]->end != os->elems[k]->end)
			return false;
	return true;
}

static bool range_equal(const struct osec *ps, uint64_t pstart, const struct osec *os,
			uint64_t ostart, uint64_t len, int depth);
static bool bytes_equal(const struct osec *ps, uint64_t pstart, const struct osec *os,
			uint64_t ostart, uint64_t len);

static bool elems_match(const struct target *pt, const struct target *ot, int depth)
{
	if (pt->ambiguous || ot->ambiguous)
		return layout_same(pt->sec, ot->sec) &&
		       pt->rel + (int64_t)pt->start == ot->rel + (int64_t)ot->start;
	if (pt->rel != ot->rel)
		return false;
	if (pt->elem->twin == ot->elem)
		return true;
	if (pt->elem->twin || !readonly_local(pt->elem) || !readonly_local(ot->elem))
		return false;
	return depth > 0 && elem_equal(pt->elem, ot->elem, depth - 1);
}

bool targets_equal(const struct target *pt, const struct target *ot, int depth)
{
	if (pt->kind != ot->kind)
		return false;
	switch (pt->kind) {
	case T_ELEM:
		return elems_match(pt, ot, depth);
	case T_STRING:
	case T_CONST:
		return pt->rel == ot->rel && pt->len == ot->len &&
		       !memcmp(pt->sec->data + pt->start, ot->sec->data + ot->start, pt->len);
	case T_ANON:
		/* past the depth limit (chunks referring to each other) the
		 * bytes alone decide */
		if (pt->rel != ot->rel || pt->len != ot->len || strcmp(pt->sec->name, ot->sec->name))
			return false;
		if (depth <= 0)
			return bytes_equal(pt->sec, pt->start, ot->sec, ot->start, pt->len);
		return range_equal(pt->sec, pt->start, ot->sec, ot->start, pt->len, depth - 1);
	case T_UNDEF:
		return pt->rel == ot->rel && !strcmp(pt->sym->name, ot->sym->name);
	case T_ABS:
		return pt->rel == ot->rel && pt->sym->s.st_value == ot->sym->s.st_value;
	case T_NONE:
		/* what cannot be interpreted is still the same when it is the
		 * same symbol (by name) at the same offset */
		return pt->rel == ot->rel && pt->sym->s.st_value == ot->sym->s.st_value &&
		       !strcmp(pt->sym->name, ot->sym->name) &&
		       (!pt->sym->sec || !ot->sym->sec ||
			!strcmp(pt->sym->sec->name, ot->sym->sec->name));
	}
	return false;
}

static bool bytes_equal(const struct osec *ps, uint64_t pstart, const struct osec *os,
			uint64_t ostart, uint64_t len)
{
	if (!ps->data || !os->data)
		return !ps->data && !os->data && ps->sh.sh_type == os->sh.sh_type;
	return !memcmp(ps->data + pstart, os->data + ostart, len);
}

static bool range_equal(const struct osec *ps, uint64_t pstart, const struct osec *os,
			uint64_t ostart, uint64_t len, int depth)
{
	size_t pf, of, pn, on, k;

	if (!bytes_equal(ps, pstart, os, ostart, len))
		return false;
	pn = sec_rela_range(ps, pstart, pstart + len, &pf);
	on = sec_rela_range(os, ostart, ostart + len, &of);
	if (pn != on)
		return false;
	for (k = 0; k < pn; k++) {
		const struct orela *pr = &ps->rela[pf + k], *or = &os->rela[of + k];
		struct target pt, ot;

		if (pr->off - pstart != or->off - ostart || pr->type != or->type)
			return false;
		classify(ps, pr, NULL, 0, &pt);
		classify(os, or, NULL, 0, &ot);
		if (!targets_equal(&pt, &ot, depth))
			return false;
	}
	return true;
}

bool elem_equal(struct osym *pe, struct osym *oe, int depth)
{
	uint64_t len = pe->end - pe->start;

	if (len != oe->end - oe->start || pe->type != oe->type ||
	    pe->s.st_size != oe->s.st_size ||
	    sec_is_text(pe->sec) != sec_is_text(oe->sec) ||
	    sec_is_writable(pe->sec) != sec_is_writable(oe->sec) ||
	    sec_is_init(pe->sec) != sec_is_init(oe->sec))
		return false;
	return range_equal(pe->sec, pe->start, oe->sec, oe->start, len, depth);
}

int compare_pair(struct engine *e, struct pair *pr)
{
	size_t i;

	for (i = 0; i < pr->p.nsyms; i++) {
		struct osym *s = &pr->p.syms[i];

		if (!s->is_elem || sec_is_special(s->sec) || sec_is_ignored(s->sec))
			continue;
		if (!s->twin)
			s->state = ST_NEW;
		else if (elem_equal(s, s->twin, COMPARE_DEPTH))
			s->state = ST_SAME;
		else
			s->state = ST_CHANGED;
		if (s->state != ST_SAME)
			diag_note(e->d, "%s: %s %s", pr->p.src,
				  s->state == ST_NEW ? "new" : "changed", s->name);
	}
	return 0;
}
