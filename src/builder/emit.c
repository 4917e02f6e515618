/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Relocations, symbols and .livepatch.funcs of the payload.
 *
 * A reference to something copied becomes section symbol + offset. A
 * reference to something the running hypervisor keeps becomes an SHN_ABS
 * symbol whose value is its address in the kit's xen-syms (named as Xen
 * names it at run time: "name" or "file#name"): Xen takes ABS values as
 * they are, so no lookup by name happens at upload and statics of
 * different files never get confused.
 */
#include <string.h>

#include "engine.h"
#include "util.h"

#define FUNC_SIZE 104	/* struct livepatch_func, version 2 */
#define FUNC_VERSION 2

static const char *rela_name(uint32_t t)
{
	switch (t) {
	case R_X86_64_32:
		return "R_X86_64_32";
	case R_X86_64_32S:
		return "R_X86_64_32S";
	case R_X86_64_GOTPCREL:
		return "R_X86_64_GOTPCREL";
	case R_X86_64_GOTPCRELX:
		return "R_X86_64_GOTPCRELX";
	case R_X86_64_REX_GOTPCRELX:
		return "R_X86_64_REX_GOTPCRELX";
	case R_X86_64_PC64:
		return "R_X86_64_PC64";
	default:
		return "unknown";
	}
}

int check_rela_type(struct engine *e, const struct placed *pl, const struct orela *r)
{
	switch (r->type) {
	case R_X86_64_NONE:
	case R_X86_64_64:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		return 0;
	default:
		return diag_refuse(e->d, pl->pr->p.src, placed_user(pl),
				   "relocation type %u (%s) against %s: Xen takes only R_X86_64_64, _PC32 and _PLT32",
				   r->type, rela_name(r->type), r->sym->name);
	}
}

static int external(struct engine *e, const struct placed *pl, const struct osym *x,
		    size_t *sym, int64_t *addend, int64_t rel)
{
	const struct xsym *xs = external_sym(e, pl->pr, x, placed_user(pl));
	char *name;

	if (!xs)
		return -1;
	name = xensyms_runtime_name(xs);
	*sym = out_abs(&e->out, name, xs->type == STT_FUNC ? STT_FUNC : STT_OBJECT,
		       xs->value, xs->size);
	free(name);
	/* rel is from the element's start; the address is the symbol's */
	*addend = rel + (int64_t)x->start - (int64_t)x->s.st_value;
	return 0;
}

static int to_elem(struct engine *e, const struct placed *pl, const struct target *t,
		   size_t *sym, int64_t *addend)
{
	const struct osym *x = t->ambiguous ? t->cands[0] : t->elem;

	if (!t->ambiguous && x->out >= 0) {
		*sym = out_secsym(&e->out, x->out);
		*addend = (int64_t)x->out_off + t->rel;
		return 0;
	}
	return external(e, pl, x, sym, addend, t->rel);
}

static int to_undef(struct engine *e, const struct placed *pl, const struct target *t,
		    size_t *sym, int64_t *addend)
{
	struct pair *owner;
	struct osym *g = payload_global(e, t->sym->name, &owner);
	const struct xsym *xs;
	bool dup = false;

	if (g && g->out >= 0) {
		*sym = out_secsym(&e->out, g->out);
		*addend = (int64_t)g->out_off + (int64_t)(g->s.st_value - g->start) + t->rel;
		return 0;
	}
	xs = xensyms_find(e->xs, NULL, t->sym->name, &dup);
	if (!xs)
		return diag_refuse(e->d, pl->pr->p.src, placed_user(pl),
				   "refers to %s, which xen-syms does not define", t->sym->name);
	*sym = out_abs(&e->out, xs->name, xs->type == STT_FUNC ? STT_FUNC : STT_OBJECT,
		       xs->value, xs->size);
	*addend = t->rel;
	return 0;
}

static int out_target(struct engine *e, const struct placed *pl, const struct target *t,
		      size_t *sym, int64_t *addend)
{
	const struct placed *c;
	uint64_t off;

	switch (t->kind) {
	case T_ELEM:
		return to_elem(e, pl, t, sym, addend);
	case T_STRING:
		off = out_string(&e->out, t->sec->data + t->start, t->len);
		*sym = out_secsym(&e->out, OUT_STR);
		*addend = (int64_t)off + t->rel;
		return 0;
	case T_CONST:
	case T_ANON:
		c = placed_cover(e, t->sec, t->start, t->len);
		if (!c)
			break;
		*sym = out_secsym(&e->out, c->out);
		*addend = (int64_t)c->out_off + (int64_t)(t->start - c->start) + t->rel;
		return 0;
	case T_UNDEF:
		return to_undef(e, pl, t, sym, addend);
	case T_ABS:
		*sym = out_abs(&e->out, t->sym->name[0] ? t->sym->name : "*ABS*", STT_NOTYPE,
			       t->sym->s.st_value, 0);
		*addend = t->rel;
		return 0;
	case T_NONE:
		break;
	}
	return diag_refuse(e->d, pl->pr->p.src, placed_user(pl), "internal: unplaced target");
}

int emit_relocations(struct engine *e)
{
	size_t i, k, first, n;

	for (i = 0; i < e->nplaced; i++) {
		const struct placed *pl = &e->placed[i];

		n = sec_rela_range(pl->sec, pl->start, pl->start + pl->len, &first);
		for (k = first; k < first + n; k++) {
			const struct orela *r = &pl->sec->rela[k];
			struct target t;
			size_t sym = 0;
			int64_t addend = 0;

			if (r->type == R_X86_64_NONE)
				continue;
			range_target(e, pl, r, &t);
			if (out_target(e, pl, &t, &sym, &addend))
				return -1;
			out_rela_add(&e->out, pl->out, pl->out_off + (r->off - pl->start), r->type,
				     sym, addend);
		}
	}
	return 0;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Changed functions are patched in place, but for .cold parts (entered
 * from their parent only), GCC clones (their callers move instead, see
 * policy.c) and functions whose original is __init. */
static bool gets_funcs_entry(const struct osym *s)
{
	return sym_is_func(s) && s->state == ST_CHANGED && s->out >= 0 && !sym_is_cold(s) &&
	       !sym_is_clone(s) && !sec_is_init(s->twin->sec);
}

/* Xen writes a 5-byte jump, after the 4-byte ENDBR64 when there is one. */
static int check_room(struct engine *e, struct pair *pr, const struct xsym *xs)
{
	unsigned need = is_endbr64(xensyms_bytes(e->xs, xs->value, 4)) ? 9 : 5;

	if (xs->size >= need)
		return 0;
	return diag_refuse(e->d, pr->p.src, xs->name,
			   "%llu bytes: too small for a jump (Xen needs at least %u)",
			   (unsigned long long)xs->size, need);
}

static unsigned rela_width(uint32_t type)
{
	return type == R_X86_64_64 || type == R_X86_64_PC64 ? 8 : type == R_X86_64_NONE ? 0 : 4;
}

/* The function being replaced must be the original object's: its bytes in
 * xen-syms equal the object's but where relocations go. A global of the
 * same name from another object (lib/memcpy.c's memcpy when the hypervisor
 * links arch/x86/memcpy.S's) is caught here. */
static int check_same_code(struct engine *e, struct pair *pr, const struct osym *o,
			   const struct xsym *xs)
{
	const uint8_t *x = xensyms_bytes(e->xs, xs->value, xs->size);
	const uint8_t *b = o->sec->data;
	uint64_t from = o->s.st_value, i;
	size_t first, n, k;
	uint8_t *mask;
	int rc = 0;

	if (!x || !b || from + xs->size > o->sec->sh.sh_size)
		return 0;
	mask = xhp_calloc(xs->size ? xs->size : 1, 1);
	n = sec_rela_range(o->sec, from, from + xs->size, &first);
	for (k = first; k < first + n; k++)
		for (i = 0; i < rela_width(o->sec->rela[k].type); i++)
			if (o->sec->rela[k].off - from + i < xs->size)
				mask[o->sec->rela[k].off - from + i] = 1;
	for (i = 0; i < xs->size && !rc; i++)
		if (!mask[i] && x[i] != b[from + i])
			rc = diag_refuse(e->d, pr->p.src, o->name,
					 "the hypervisor's code differs from the kit's object at +%#llx: not the function the hypervisor runs, or the kit does not match",
					 (unsigned long long)i);
	free(mask);
	return rc;
}

static int one_func(struct engine *e, struct pair *pr, struct osym *s)
{
	const struct xsym *xs = external_sym(e, pr, s, s->name);
	uint8_t ent[FUNC_SIZE] = { 0 };
	uint64_t off, name_off, len = s->end - s->start;
	char *name;
	size_t fsym;

	if (!xs)
		return -1;
	if (xensyms_is_init(e->xs, xs->value))
		return diag_refuse(e->d, pr->p.src, s->name,
				   "is __init code in the hypervisor: it ran at boot and is freed");
	if (check_same_code(e, pr, s->twin, xs) || check_room(e, pr, xs))
		return -1;
	name = xensyms_runtime_name(xs);
	put_le(ent + 16, xs->value, 8);		/* old_addr: no lookup at upload */
	put_le(ent + 24, len, 4);		/* new_size */
	put_le(ent + 28, xs->size, 4);		/* old_size */
	ent[32] = FUNC_VERSION;
	off = out_append(&e->out, OUT_FUNCS, ent, FUNC_SIZE, 8);
	name_off = out_string(&e->out, name, strlen(name) + 1);
	out_rela_add(&e->out, OUT_FUNCS, off, R_X86_64_64, out_secsym(&e->out, OUT_STR),
		     (int64_t)name_off);
	/* new_addr points at a symbol of the old function's name: Xen then
	 * counts it as "overriding", not as a new symbol */
	fsym = out_sym_add(&e->out, name, STT_FUNC, s->out, s->out_off, len);
	out_rela_add(&e->out, OUT_FUNCS, off + 8, R_X86_64_64, fsym, 0);
	xhp_strv_add(&e->func_names, name);
	free(name);
	e->nchanged++;
	return 0;
}

int emit_funcs(struct engine *e)
{
	size_t i, k;

	for (i = 0; i < e->npairs; i++)
		for (k = 0; k < e->pairs[i].p.nsyms; k++) {
			struct osym *s = &e->pairs[i].p.syms[k];

			if (gets_funcs_entry(s) && one_func(e, &e->pairs[i], s))
				return -1;
		}
	return 0;
}

/* Names for what the payload adds (new functions and variables, .cold
 * pieces): "<payload>#<name>", unique among loaded payloads because payload
 * names are. Copies of existing read-only data stay unnamed. */
int emit_symbol_names(struct engine *e)
{
	size_t i;

	for (i = 0; i < e->nplaced; i++) {
		const struct placed *pl = &e->placed[i];
		const struct osym *s = pl->elem;
		char *name;

		if (!s || !(s->state == ST_NEW || sym_is_cold(s) || sym_is_clone(s) ||
			    (sym_is_func(s) && s->state == ST_CHANGED && !gets_funcs_entry(s))))
			continue;
		name = xhp_asprintf("%s#%s", e->name, s->name);
		out_sym_add(&e->out, name, s->type, pl->out,
			    pl->out_off + (s->s.st_value - s->start), s->s.st_size);
		xhp_strv_add(&e->new_names, name);
		free(name);
	}
	return 0;
}
