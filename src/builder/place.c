/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copying into the payload: the changed and new functions first, then, by
 * following their relocations until nothing new is reached, whatever they
 * need that the running hypervisor does not have (new variables, strings,
 * constants, read-only data that changed or has no symbol in xen-syms,
 * anonymous chunks such as jump tables), then the special-section entries
 * of what was copied. Everything else they refer to stays in the
 * hypervisor and is reached by address (see emit.c).
 */
#include <string.h>

#include "engine.h"
#include "util.h"

static int out_for(const struct osec *s)
{
	if (!strcmp(s->name, ".fixup"))
		return OUT_FIXUP;
	if (!strcmp(s->name, ".altinstr_replacement"))
		return OUT_ALTREPL;
	if (sec_is_text(s))
		return OUT_TEXT;
	if (s->sh.sh_type == SHT_NOBITS)
		return OUT_BSS;
	if (sec_is_strings(s))
		return OUT_STR;
	return sec_is_writable(s) ? OUT_DATA : OUT_RODATA;
}

/* The alignment a copy of [start, ...) of s needs. */
static uint64_t align_for(const struct osec *s, uint64_t start)
{
	uint64_t a = s->sh.sh_addralign ? s->sh.sh_addralign : 1;

	while (a > 1 && start % a)
		a /= 2;
	return a;
}

const char *placed_user(const struct placed *pl)
{
	return pl->elem ? pl->elem->name : pl->sec->name;
}

size_t placed_add(struct engine *e, struct pair *pr, struct osec *sec, uint64_t start,
		  uint64_t len, int out, enum pmode mode)
{
	struct placed *pl;

	e->placed = xhp_realloc(e->placed, (e->nplaced + 1) * sizeof(*e->placed));
	pl = &e->placed[e->nplaced];
	memset(pl, 0, sizeof(*pl));
	pl->pr = pr;
	pl->sec = sec;
	pl->start = start;
	pl->len = len;
	pl->out = out;
	pl->mode = mode;
	pl->out_off = out_append(&e->out, out, sec->data ? sec->data + start : NULL, len,
				 align_for(sec, start));
	return e->nplaced++;
}

struct placed *placed_cover(struct engine *e, const struct osec *sec, uint64_t start, uint64_t len)
{
	size_t i;

	for (i = 0; i < e->nplaced; i++) {
		struct placed *pl = &e->placed[i];

		if (pl->sec == sec && pl->start <= start && start + len <= pl->start + pl->len)
			return pl;
	}
	return NULL;
}

struct placed *placed_find(struct engine *e, const struct osec *sec, uint64_t off)
{
	size_t i;

	for (i = 0; i < e->nplaced; i++) {
		struct placed *pl = &e->placed[i];

		if (pl->sec == sec && (pl->start == off || (pl->start < off && off < pl->start + pl->len)))
			return pl;
	}
	return NULL;
}

static void place_elem(struct engine *e, struct pair *pr, struct osym *s)
{
	size_t i;

	if (s->out >= 0)
		return;
	i = placed_add(e, pr, s->sec, s->start, s->end - s->start, out_for(s->sec), PM_ELEM);
	e->placed[i].elem = s;
	s->keep = true;
	s->out = e->placed[i].out;
	s->out_off = e->placed[i].out_off;
}

const struct xsym *external_sym(struct engine *e, struct pair *pr, const struct osym *x,
				const char *user)
{
	const struct osym *o = x->twin ? x->twin : x;
	const char *file = o->bind == STB_LOCAL ? pr->xfile : NULL;
	const struct xsym *xs;
	bool dup = false;

	if (o->bind == STB_LOCAL && !file) {
		diag_refuse(e->d, pr->p.src, user, "refers to %s, but xen-syms has no symbols of %s",
			    o->name, pr->p.src);
		return NULL;
	}
	xs = xensyms_find(e->xs, file, o->name, &dup);
	if (!xs) {
		diag_refuse(e->d, pr->p.src, user, "refers to %s, which xen-syms %s", o->name,
			    dup ? "has more than once" : "does not have");
		return NULL;
	}
	if (xs->size != o->s.st_size) {
		diag_refuse(e->d, pr->p.src, o->name,
			    "%llu bytes in xen-syms, %llu in the recompiled original: not the symbol the hypervisor has (is %s linked into it?), or the kit does not match",
			    (unsigned long long)xs->size, (unsigned long long)o->s.st_size, pr->p.src);
		return NULL;
	}
	return xs;
}

static bool all_same(const struct target *t)
{
	size_t i;

	for (i = 0; i < t->ncands; i++)
		if (t->cands[i]->state != ST_SAME || t->cands[i]->out >= 0)
			return false;
	return layout_same(t->sec, t->sec->twin);
}

/* Does the original of user already refer to the original of x? */
static bool referred_before(const struct osym *user, const struct osym *x)
{
	size_t i;

	if (!user || !user->twin || !x->twin)
		return false;
	for (i = 0; i < x->twin->nusers; i++)
		if (x->twin->users[i] == user->twin)
			return true;
	return false;
}

/* A reference to an element: copy it, or make sure the hypervisor has it.
 * __init code and data are freed after boot: a reference the original
 * function already made (code paths that run only at boot) stays, a new one
 * is refused. */
static int need_elem(struct engine *e, const struct placed *pl, const struct target *t)
{
	struct pair *pr = pl->pr;
	const char *user = placed_user(pl);
	struct osym *x = t->elem;

	if (t->ambiguous) {
		if (!all_same(t))
			return diag_refuse(e->d, pr->p.src, user,
					   "ambiguous reference into %s (near %s) whose layout changed",
					   t->sec->name, x->name);
		return external_sym(e, pr, x, user) ? 0 : -1;
	}
	if (x->out >= 0)
		return 0;
	if (sec_is_init(x->sec) && !referred_before(pl->elem, x))
		return diag_refuse(e->d, pr->p.src, user,
				   "refers to __init %s, which is freed after boot", x->name);
	if (x->state == ST_NONE)
		return diag_refuse(e->d, pr->p.src, user, "refers to %s in section %s",
				   x->name, x->sec->name);
	if (x->state == ST_NEW && sec_is_percpu(x->sec))
		return diag_refuse(e->d, pr->p.src, x->name,
				   "a new per-CPU variable: a payload cannot add to the per-CPU areas");
	if (x->state != ST_SAME) {
		place_elem(e, pr, x);
		return 0;
	}
	if (x->type == STT_OBJECT && !sec_is_writable(x->sec)) {
		bool dup = false;
		const char *file = x->twin->bind == STB_LOCAL ? pr->xfile : NULL;

		/* Read-only data may be copied when it has no address to use. */
		if ((x->twin->bind == STB_LOCAL && !file) ||
		    !xensyms_find(e->xs, file, x->twin->name, &dup)) {
			place_elem(e, pr, x);
			return 0;
		}
	}
	return external_sym(e, pr, x, user) ? 0 : -1;
}

struct osym *payload_global(struct engine *e, const char *name, struct pair **owner)
{
	size_t i, k;

	for (i = 0; i < e->npairs; i++)
		for (k = 0; k < e->pairs[i].p.nsyms; k++) {
			struct osym *s = &e->pairs[i].p.syms[k];

			if (s->is_elem && s->bind != STB_LOCAL && s->state != ST_SAME &&
			    s->state != ST_NONE && !strcmp(s->name, name)) {
				*owner = &e->pairs[i];
				return s;
			}
		}
	return NULL;
}

static int need_undef(struct engine *e, struct pair *pr, const struct target *t, const char *user)
{
	struct pair *owner = NULL;
	struct osym *g = payload_global(e, t->sym->name, &owner);
	bool dup = false;

	if (g) {
		place_elem(e, owner, g);
		return 0;
	}
	if (xensyms_find(e->xs, NULL, t->sym->name, &dup))
		return 0;
	return diag_refuse(e->d, pr->p.src, user, "refers to %s, which xen-syms %s",
			   t->sym->name, dup ? "has more than once" : "does not define");
}

static int need_chunk(struct engine *e, struct pair *pr, const struct target *t, const char *user)
{
	/* a chunk already copied must hold all of this one: two alternatives
	 * may start their replacements at one offset, the first empty */
	if (placed_cover(e, t->sec, t->start, t->len))
		return 0;
	if (sec_is_init(t->sec))
		return diag_refuse(e->d, pr->p.src, user, "refers to __init section %s",
				   t->sec->name);
	if (sec_is_writable(t->sec))
		return diag_refuse(e->d, pr->p.src, user,
				   "refers to writable data in %s that has no symbol", t->sec->name);
	placed_add(e, pr, t->sec, t->start, t->len, out_for(t->sec), PM_CHUNK);
	return 0;
}

static int need_target(struct engine *e, const struct placed *pl, const struct orela *r,
		       const struct target *t)
{
	struct pair *pr = pl->pr;
	const char *user = placed_user(pl);

	switch (t->kind) {
	case T_ELEM:
		return need_elem(e, pl, t);
	case T_STRING:
		out_string(&e->out, t->sec->data + t->start, t->len);
		return 0;
	case T_CONST:
	case T_ANON:
		return need_chunk(e, pr, t, user);
	case T_UNDEF:
		return need_undef(e, pr, t, user);
	case T_ABS:
		return 0;
	case T_NONE:
		break;
	}
	return diag_refuse(e->d, pr->p.src, user, "relocation at %s+%#llx: %s", pl->sec->name,
			   (unsigned long long)r->off, t->why ? t->why : "unsupported target");
}

/* Follow the relocations of every copied range not yet scanned. */
static int closure(struct engine *e)
{
	while (e->scanned < e->nplaced) {
		size_t idx = e->scanned++, first, n, k;
		struct placed pl = e->placed[idx];	/* e->placed may move */

		n = sec_rela_range(pl.sec, pl.start, pl.start + pl.len, &first);
		for (k = first; k < first + n; k++) {
			const struct orela *r = &pl.sec->rela[k];
			struct target t;

			if (r->type == R_X86_64_NONE)
				continue;
			if (check_rela_type(e, &pl, r))
				return -1;
			range_target(e, &pl, r, &t);
			if (need_target(e, &pl, r, &t))
				return -1;
		}
	}
	return 0;
}

static bool seeds(const struct osym *s)
{
	return sym_is_func(s) && (s->state == ST_CHANGED || s->state == ST_NEW) &&
	       !sec_is_init(s->sec) && !sec_is_special(s->sec) && !sec_is_ignored(s->sec);
}

static void seed_functions(struct engine *e)
{
	size_t i, k;

	for (i = 0; i < e->npairs; i++)
		for (k = 0; k < e->pairs[i].p.nsyms; k++)
			if (seeds(&e->pairs[i].p.syms[k]))
				place_elem(e, &e->pairs[i], &e->pairs[i].p.syms[k]);
	/* a copied function takes its .cold pieces along */
	for (i = 0; i < e->npairs; i++)
		for (k = 0; k < e->pairs[i].p.nsyms; k++) {
			struct osym *c = &e->pairs[i].p.syms[k];

			if (sym_is_cold(c) && c->parent && c->parent->out >= 0)
				place_elem(e, &e->pairs[i], c);
		}
}

int place_all(struct engine *e)
{
	bool progress;

	seed_functions(e);
	if (hooks_place(e))
		return -1;
	do {
		if (closure(e) || special_sections(e, &progress))
			return -1;
	} while (progress);
	return 0;
}
