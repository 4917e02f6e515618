/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The diff engine: original/patched object pairs in, one payload out.
 *
 *   correlate  pair each patched element with its original twin (names,
 *              GCC's numbered suffixes, who uses a static, content)
 *   compare    SAME / CHANGED / NEW for every element
 *   policy     what cannot be patched is refused; what must travel together
 *              is marked (a changed ".cold" piece changes its parent; a
 *              changed read-only static changes the functions using it)
 *   place      the changed and new functions and everything they need are
 *              copied into the payload's sections; special-section entries
 *              (bug frames, alternatives, exception table, hooks) of what
 *              was copied follow
 *   emit       relocations, .livepatch.funcs, notes, .modinfo; write
 */
#ifndef XHP_BUILDER_ENGINE_H
#define XHP_BUILDER_ENGINE_H

#include "diag.h"
#include "obj.h"
#include "out.h"
#include "target.h"
#include "util.h"
#include "xensyms.h"

struct pair {
	struct obj o;		/* original */
	struct obj p;		/* patched */
	const char *xfile;	/* xen-syms' STT_FILE name for the object's statics */
};

/* How the relocations of a copied range are read. */
enum pmode {
	PM_ELEM,	/* a function or variable */
	PM_CHUNK,	/* anonymous data or code, a constant */
	PM_BUG,		/* a bug frame: fields relative to the frame, line bits above bit 24 */
	PM_EXTABLE,	/* an .ex_table entry: fields relative to themselves */
	PM_ALT,		/* an .altinstructions entry */
	PM_HOOK,	/* a hook pointer */
};

/* A range of an input section copied into the payload. */
struct placed {
	struct pair *pr;
	struct osec *sec;
	uint64_t start, len;
	int out;
	uint64_t out_off;
	struct osym *elem;	/* when the range is an element */
	enum pmode mode;
};

struct engine {
	struct diag *d;
	struct xensyms *xs;
	const char *name;	/* payload name: prefix of new symbols */
	const char *out_path;	/* where the payload goes */
	struct pair *pairs;
	size_t npairs;
	struct out out;
	struct placed *placed;
	size_t nplaced, scanned;
	size_t nchanged;	/* functions getting a .livepatch.funcs entry */
	struct xhp_strv func_names;	/* their names, as in .livepatch.funcs */
	struct xhp_strv new_names;	/* the payload's new symbols */
};

/* correlate.c */
int correlate_pair(struct engine *e, struct pair *pr);
/* compare.c */
bool elem_equal(struct osym *pe, struct osym *oe, int depth);
bool targets_equal(const struct target *pt, const struct target *ot, int depth);
bool layout_same(const struct osec *ps, const struct osec *os);
int compare_pair(struct engine *e, struct pair *pr);
/* policy.c */
int policy_pair(struct engine *e, struct pair *pr);
/* place.c */
int place_all(struct engine *e);
struct placed *placed_find(struct engine *e, const struct osec *sec, uint64_t off);
/* A copied range of sec holding all of [start, start + len). */
struct placed *placed_cover(struct engine *e, const struct osec *sec, uint64_t start, uint64_t len);
size_t placed_add(struct engine *e, struct pair *pr, struct osec *sec, uint64_t start,
		  uint64_t len, int out, enum pmode mode);
const char *placed_user(const struct placed *pl);
/* A global the payload defines (new or changed, in any object), or NULL. */
struct osym *payload_global(struct engine *e, const char *name, struct pair **owner);
/* The hypervisor symbol behind element x (a SAME element's twin). */
const struct xsym *external_sym(struct engine *e, struct pair *pr, const struct osym *x,
				const char *user);
/* special.c */
int special_sections(struct engine *e, bool *progress);
int hooks_place(struct engine *e);
int hooks_check_endbr(struct engine *e);
/* What relocation r of copied range pl points at. */
void range_target(struct engine *e, const struct placed *pl, const struct orela *r,
		  struct target *t);
/* emit.c */
int check_rela_type(struct engine *e, const struct placed *pl, const struct orela *r);
int emit_relocations(struct engine *e);
int emit_funcs(struct engine *e);
int emit_symbol_names(struct engine *e);
/* stack.c */
int check_xen_id(struct engine *e, const char *hex);
/* *dep: the build-id this payload stacks on: the payload at path (refusing
 * overlaps with it), or the hypervisor's when path is NULL. */
int stack_on(struct engine *e, const char *path, struct xhp_build_id *dep);
/* The written payload (at path, before it takes its name) read back with the
 * project's payload reader, and within Xen's size limit. arg: the engine. */
int self_check(void *arg, const char *path);
void report(const struct engine *e, const struct xhp_build_id *own);

#endif
