/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What may change, and what must change together.
 *
 * Refused: changed __init code or data (it ran at boot and is freed); a
 * changed size of any variable (a data layout the running code depends
 * on); changed initial contents of writable data (the running hypervisor's
 * copy holds live state); changed read-only data that is global (code in
 * other objects reads the old copy).
 *
 * Carried along: a changed "f.cold" piece makes f changed (f jumps into it
 * anywhere); a changed GCC clone makes its callers changed (it keeps its
 * name but not necessarily its calling convention); a changed read-only
 * static is copied into the payload and every function of the object that
 * uses it is replaced too, so no running code keeps reading the old copy.
 */
#include <string.h>

#include "engine.h"

static void mark_changed(struct engine *e, struct pair *pr, struct osym *s, const char *why)
{
	if (s->state != ST_SAME)
		return;
	s->state = ST_CHANGED;
	s->why = why;
	diag_note(e->d, "%s: changed %s (%s)", pr->p.src, s->name, why);
}

static int changed_readonly(struct engine *e, struct pair *pr, struct osym *s, int depth);

/* Every user of a changed read-only static moves into the payload. */
static int pull_users(struct engine *e, struct pair *pr, struct osym *s, int depth)
{
	size_t i;

	for (i = 0; i < s->nusers; i++) {
		struct osym *u = s->users[i];

		if (sec_is_init(u->sec) || u->state != ST_SAME)
			continue;
		if (u->type == STT_FUNC) {
			mark_changed(e, pr, u, "uses changed read-only data");
			continue;
		}
		if (sec_is_writable(u->sec) || u->bind != STB_LOCAL)
			return diag_refuse(e->d, pr->p.src, u->name,
					   "%s data refers to changed read-only data %s: not patchable",
					   sec_is_writable(u->sec) ? "writable" : "global", s->name);
		mark_changed(e, pr, u, "refers to changed read-only data");
		if (changed_readonly(e, pr, u, depth + 1))
			return -1;
	}
	return 0;
}

static int changed_readonly(struct engine *e, struct pair *pr, struct osym *s, int depth)
{
	if (s->bind != STB_LOCAL)
		return diag_refuse(e->d, pr->p.src, s->name,
				   "changed global read-only data (other objects use the running copy)");
	if (depth > 8)
		return diag_refuse(e->d, pr->p.src, s->name,
				   "changed read-only data referred to through too many levels");
	return pull_users(e, pr, s, depth);
}

static int changed_object(struct engine *e, struct pair *pr, struct osym *s)
{
	const struct osym *o = s->twin;

	if (s->s.st_size != o->s.st_size)
		return diag_refuse(e->d, pr->p.src, s->name,
				   "size changed from %llu to %llu bytes: data layout changes are not patchable",
				   (unsigned long long)o->s.st_size, (unsigned long long)s->s.st_size);
	if (sec_is_writable(s->sec) || sec_is_writable(o->sec))
		return diag_refuse(e->d, pr->p.src, s->name,
				   "changed initialised data: the running hypervisor's copy holds live state");
	return changed_readonly(e, pr, s, 0);
}

/* A GCC clone (f.isra.0, f.constprop.1, f.part.0) has the calling
 * convention GCC chose for this build: a changed one may expect other
 * arguments under the same name. It is not patched in place; every function
 * calling it moves to the payload and calls the new copy. */
static int changed_clone(struct engine *e, struct pair *pr, struct osym *s)
{
	size_t i;

	for (i = 0; i < s->nusers; i++) {
		struct osym *u = s->users[i];

		if (u->type == STT_FUNC && !sec_is_init(u->sec))
			mark_changed(e, pr, u, "calls a changed GCC clone");
	}
	return 0;
}

static int check_changed(struct engine *e, struct pair *pr, struct osym *s)
{
	if (sec_is_init(s->sec) || sec_is_init(s->twin->sec)) {
		if (!sec_is_init(s->twin->sec))
			return diag_refuse(e->d, pr->p.src, s->name,
					   "moved into __init: not patchable");
		if (sec_is_init(s->sec))
			return diag_refuse(e->d, pr->p.src, s->name,
					   "changed __init %s: it ran at boot and is freed",
					   s->type == STT_FUNC ? "code" : "data");
		/* __init removed: a new copy, no .livepatch.funcs entry */
		return 0;
	}
	if (s->type == STT_OBJECT)
		return changed_object(e, pr, s);
	if (sym_is_cold(s) && s->parent)
		mark_changed(e, pr, s->parent, "its .cold part changed");
	if (sym_is_clone(s))
		return changed_clone(e, pr, s);
	return 0;
}

int policy_pair(struct engine *e, struct pair *pr)
{
	size_t i;

	for (i = 0; i < pr->p.nsyms; i++) {
		struct osym *s = &pr->p.syms[i];

		if (s->is_elem && s->state == ST_CHANGED && check_changed(e, pr, s))
			return -1;
	}
	return 0;
}
