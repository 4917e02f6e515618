/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pairing each element of the patched object with its original ("twin").
 *
 * Functions: the same name only. A clone GCC numbered differently
 * ("f.isra.0" -> "f.isra.1") may have another calling convention: it is a
 * new function, and the callers that call it change with it.
 * Objects: globals and unnumbered statics by name. Numbered statics
 * ("calls.2", "__func__.7") may be renumbered by the patch: a read-only one
 * is paired with an original of the same base name and the same content, a
 * writable one with an original of the same base name used by the twin of
 * one of its users -- a function-local static is its function's.
 */
#include <string.h>

#include "engine.h"

#define NAME_MAX_LEN 256

static bool candidate(const struct osym *p, const struct osym *o)
{
	return o->is_elem && !o->twin && o->type == p->type &&
	       !sec_is_special(o->sec) && !sec_is_ignored(o->sec);
}

static bool eligible(const struct osym *p)
{
	return p->is_elem && !p->twin && !sec_is_special(p->sec) && !sec_is_ignored(p->sec);
}

static bool numbered(const char *name)
{
	char base[NAME_MAX_LEN];

	sym_base_name(name, base, sizeof(base));
	return strcmp(base, name) != 0;
}

static void twin(struct osym *p, struct osym *o)
{
	p->twin = o;
	o->twin = p;
}

static struct osym *by_name(struct obj *o, const struct osym *p)
{
	size_t i;

	for (i = 0; i < o->nsyms; i++)
		if (candidate(p, &o->syms[i]) && !strcmp(o->syms[i].name, p->name))
			return &o->syms[i];
	return NULL;
}

static bool shares_user(const struct osym *p, const struct osym *o)
{
	size_t i, k;

	for (i = 0; i < p->nusers; i++)
		for (k = 0; k < o->nusers; k++)
			if (p->users[i]->twin == o->users[k])
				return true;
	return false;
}

static bool same_base(const struct osym *a, const struct osym *b);

/* A user of p and a user of o with the same name but for GCC's number
 * (both unpaired yet: "__setup_opt.6" pointing at "opt.8"). */
static bool shares_user_name(const struct osym *p, const struct osym *o)
{
	size_t i, k;

	for (i = 0; i < p->nusers; i++)
		for (k = 0; k < o->nusers; k++)
			if (!p->users[i]->twin && !o->users[k]->twin &&
			    same_base(p->users[i], o->users[k]))
				return true;
	return false;
}

static bool same_base(const struct osym *a, const struct osym *b)
{
	char x[NAME_MAX_LEN], y[NAME_MAX_LEN];

	sym_base_name(a->name, x, sizeof(x));
	sym_base_name(b->name, y, sizeof(y));
	return !strcmp(x, y);
}

/* Among the unpaired originals with p's base name: the one with the same
 * name if it qualifies, else the first that qualifies. */
static struct osym *pick(struct obj *o, const struct osym *p,
			 bool (*ok)(const struct osym *, const struct osym *))
{
	struct osym *first = NULL;
	size_t i;

	for (i = 0; i < o->nsyms; i++) {
		struct osym *c = &o->syms[i];

		if (!candidate(p, c) || !same_base(p, c) || !ok(p, c))
			continue;
		if (!strcmp(c->name, p->name))
			return c;
		if (!first)
			first = c;
	}
	return first;
}

static bool same_content(const struct osym *p, const struct osym *o)
{
	return sec_is_writable(o->sec) == sec_is_writable(p->sec) &&
	       elem_equal((struct osym *)p, (struct osym *)o, 2);
}

static void pair_functions(struct pair *pr)
{
	size_t i;

	for (i = 0; i < pr->p.nsyms; i++) {
		struct osym *p = &pr->p.syms[i], *o;

		if (eligible(p) && p->type == STT_FUNC && (o = by_name(&pr->o, p)))
			twin(p, o);
	}
}

static bool numbered_static(const struct osym *p)
{
	return p->type == STT_OBJECT && p->bind == STB_LOCAL && numbered(p->name);
}

/* Globals and unnumbered statics: by name. */
static void pair_named_objects(struct pair *pr)
{
	size_t i;

	for (i = 0; i < pr->p.nsyms; i++) {
		struct osym *p = &pr->p.syms[i], *o;

		if (eligible(p) && p->type == STT_OBJECT && !numbered_static(p) &&
		    (o = by_name(&pr->o, p)))
			twin(p, o);
	}
}

/* Numbered statics: a read-only one by content, a writable one by a user
 * whose twin uses the candidate. Users may be numbered statics themselves,
 * so this repeats while it pairs something. */
static bool pair_numbered_objects(struct pair *pr)
{
	bool progress = false;
	size_t i;

	for (i = 0; i < pr->p.nsyms; i++) {
		struct osym *p = &pr->p.syms[i], *o = NULL;

		if (!eligible(p) || !numbered_static(p))
			continue;
		if (!sec_is_writable(p->sec))
			o = pick(&pr->o, p, same_content);
		if (!o)
			o = pick(&pr->o, p, shares_user);
		if (o) {
			twin(p, o);
			progress = true;
		}
	}
	return progress;
}

static bool unused_same_content(const struct osym *p, const struct osym *o)
{
	return !o->nusers && elem_equal((struct osym *)p, (struct osym *)o, 2);
}

/* What is left and nobody uses keeps its name, or is the original with its
 * base name and content (table entries such as __setup_opt.N, renumbered
 * when the patch adds a static before them). */
static void pair_unused_objects(struct pair *pr)
{
	size_t i;

	for (i = 0; i < pr->p.nsyms; i++) {
		struct osym *p = &pr->p.syms[i], *o;

		if (!eligible(p) || !numbered_static(p) || p->nusers)
			continue;
		o = by_name(&pr->o, p);
		if (o && o->nusers)
			o = NULL;
		if (o || (o = pick(&pr->o, p, unused_same_content)))
			twin(p, o);
	}
}

/* Numbered statics whose users are unpaired numbered statics too. */
static void pair_by_user_names(struct pair *pr)
{
	size_t i;

	for (i = 0; i < pr->p.nsyms; i++) {
		struct osym *p = &pr->p.syms[i], *o;

		if (eligible(p) && numbered_static(p) && (o = pick(&pr->o, p, shares_user_name)))
			twin(p, o);
	}
}

static void pair_objects(struct pair *pr)
{
	pair_named_objects(pr);
	while (pair_numbered_objects(pr))
		;
	pair_by_user_names(pr);
	while (pair_numbered_objects(pr))
		;
	pair_unused_objects(pr);
}

static void pair_sections(struct pair *pr)
{
	size_t i;

	for (i = 1; i < pr->p.nsecs; i++) {
		struct osec *o = obj_sec(&pr->o, pr->p.secs[i].name);

		if (o && !o->twin) {
			pr->p.secs[i].twin = o;
			o->twin = &pr->p.secs[i];
		}
	}
}

int correlate_pair(struct engine *e, struct pair *pr)
{
	(void)e;
	index_users(&pr->o);
	index_users(&pr->p);
	pair_sections(pr);
	pair_functions(pr);
	pair_objects(pr);
	return 0;
}
