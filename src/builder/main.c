/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-hotpatch-diff: the payload builder's diff engine. It takes pairs of
 * objects (the original and the patched build of one source file, compiled
 * with -ffunction-sections -fdata-sections) and the kit's xen-syms, and
 * writes one livepatch payload -- or refuses with one line.
 *
 *   xen-hotpatch-diff --xen-syms FILE --name NAME -o OUT [--xen-id HEX]
 *                     [--depends PAYLOAD] [--modinfo KEY=VALUE]... [-v]
 *                     ORIGINAL.o PATCHED.o SOURCE-PATH [...]
 *
 * Exit: 0 written, 1 refused (nothing written), 2 usage.
 * On success stdout lists what the payload holds, one "KIND SOURCE SYMBOL"
 * line each (KIND: changed, new, copied; "ignored" for new entries of boot-time
 * tables, with the reason), then "build-id HEX".
 * scripts/build-payload.sh is its only caller.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "payload.h"
#include "util.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

struct opts {
	const char *xen_syms, *name, *out, *xen_id, *depends;
	struct xhp_strv modinfo;
	bool verbose;
	bool all_changed;	/* --all-changed: every function counts as changed */
	char **triples;
	int ntriples;
};

static void usage(FILE *f)
{
	fputs("usage: xen-hotpatch-diff --xen-syms FILE --name NAME -o OUT [--xen-id HEX]\n"
	      "         [--depends PAYLOAD] [--modinfo KEY=VALUE]... [--all-changed] [-v]\n"
	      "         ORIGINAL.o PATCHED.o SOURCE-PATH [ORIGINAL.o PATCHED.o SOURCE-PATH]...\n",
	      f);
}

static int bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "xen-hotpatch-diff: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	usage(stderr);
	return EXIT_USAGE;
}

/* KEY=VALUE with a non-empty key of [A-Za-z0-9_.-] and a printable value. */
static bool modinfo_ok(const char *kv)
{
	const char *eq = strchr(kv, '='), *p;

	if (!eq || eq == kv)
		return false;
	for (p = kv; p < eq; p++)
		if (!(*p == '_' || *p == '.' || *p == '-' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
	for (p = eq + 1; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "xen-syms", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "xen-id", required_argument, NULL, 'x' },
		{ "depends", required_argument, NULL, 'd' },
		{ "modinfo", required_argument, NULL, 'm' },
		{ "all-changed", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:vh", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->xen_syms = optarg; break;
		case 'n': o->name = optarg; break;
		case 'x': o->xen_id = optarg; break;
		case 'd': o->depends = optarg; break;
		case 'o': o->out = optarg; break;
		case 'v': o->verbose = true; break;
		case 'A': o->all_changed = true; break;
		case 'm':
			if (!modinfo_ok(optarg))
				return bad_usage("--modinfo wants KEY=VALUE (printable)", optarg);
			xhp_strv_add(&o->modinfo, optarg);
			break;
		case 'h': usage(stdout); exit(0);
		default: return bad_usage("unknown option", NULL);
		}
	}
	if (!o->xen_syms || !o->name || !o->out)
		return bad_usage("--xen-syms, --name and -o are required", NULL);
	if (xhp_name_check(o->name))
		return bad_usage("--name: 1-127 characters of [A-Za-z0-9._-]", o->name);
	o->triples = argv + optind;
	o->ntriples = argc - optind;
	if (o->ntriples < 3 || o->ntriples % 3)
		return bad_usage("expected ORIGINAL.o PATCHED.o SOURCE-PATH triples", NULL);
	return 0;
}

static int load_pairs(struct engine *e, struct opts *o)
{
	int i;

	e->npairs = (size_t)o->ntriples / 3;
	e->pairs = xhp_calloc(e->npairs, sizeof(*e->pairs));
	for (i = 0; i < (int)e->npairs; i++) {
		struct pair *pr = &e->pairs[i];
		const char *src = o->triples[3 * i + 2];

		pr->o.fd = pr->p.fd = -1;
		if (obj_load(&pr->o, o->triples[3 * i], src, e->d) ||
		    obj_load(&pr->p, o->triples[3 * i + 1], src, e->d))
			return -1;
		/* The original's STT_FILE symbol is what xen-syms scopes its
		 * statics by (with ENFORCE_UNIQUE_SYMBOLS, the source path). */
		pr->xfile = xensyms_file(e->xs, obj_file_symbol(&pr->o));
		if (!pr->xfile)
			pr->xfile = xensyms_file(e->xs, src);
	}
	return 0;
}

static void free_pairs(struct engine *e)
{
	size_t i;

	for (i = 0; i < e->npairs; i++) {
		obj_free(&e->pairs[i].o);
		obj_free(&e->pairs[i].p);
	}
	free(e->pairs);
}

/* --all-changed (a robustness check over whole objects): every function
 * that is not __init counts as changed, as if the patch touched them all. */
static void mark_all_changed(struct pair *pr)
{
	size_t i;

	for (i = 0; i < pr->p.nsyms; i++) {
		struct osym *s = &pr->p.syms[i];

		if (sym_is_func(s) && s->state == ST_SAME && !sec_is_init(s->sec))
			s->state = ST_CHANGED;
	}
}

static int analyse(struct engine *e, bool all_changed)
{
	size_t i;

	for (i = 0; i < e->npairs; i++) {
		if (correlate_pair(e, &e->pairs[i]) || compare_pair(e, &e->pairs[i]))
			return -1;
		if (all_changed)
			mark_all_changed(&e->pairs[i]);
	}
	for (i = 0; i < e->npairs; i++)
		if (policy_pair(e, &e->pairs[i]))
			return -1;
	return 0;
}

static bool has_hooks(const struct engine *e)
{
	int k;

	for (k = 0; k < XHP_HOOK_COUNT; k++)
		if (e->out.secs[OUT_HOOK0 + k].size)
			return true;
	return false;
}

static int build(struct engine *e, bool all_changed)
{
	if (analyse(e, all_changed) || place_all(e) || hooks_check_endbr(e) || emit_funcs(e))
		return -1;
	if (!e->nchanged && !has_hooks(e))
		return diag_refuse(e->d, e->pairs[0].p.src, NULL,
				   "the patch changes no function the hypervisor runs: nothing to patch");
	if (emit_relocations(e) || emit_symbol_names(e))
		return -1;
	return 0;
}

static void add_modinfo(struct out *out, const char *kv)
{
	out_append(out, OUT_MODINFO, kv, strlen(kv) + 1, 1);
}

static void write_notes(struct engine *e, const struct opts *o, const struct xhp_build_id *dep)
{
	char *name = xhp_asprintf("name=%s", o->name);
	size_t i;

	out_note(&e->out, OUT_DEPENDS, dep);
	out_note(&e->out, OUT_XEN_DEPENDS, &e->xs->build_id);
	add_modinfo(&e->out, name);
	free(name);
	for (i = 0; i < o->modinfo.n; i++)
		add_modinfo(&e->out, o->modinfo.v[i]);
}

int main(int argc, char **argv)
{
	struct opts o = { .xen_syms = NULL };
	struct diag d = { .set = false };
	struct xensyms xs;
	struct engine e = { .d = &d, .xs = &xs };
	struct xhp_build_id depends, own;
	int rc = EXIT_REFUSED;

	if ((rc = parse_opts(argc, argv, &o)))
		goto done_opts;
	rc = EXIT_REFUSED;
	d.verbose = o.verbose;
	e.name = o.name;
	elf_version(EV_CURRENT);
	out_init(&e.out);
	if (xensyms_load(&xs, o.xen_syms, &d))
		goto done;
	if (check_xen_id(&e, o.xen_id) || load_pairs(&e, &o) || build(&e, o.all_changed) ||
	    stack_on(&e, o.depends, &depends))
		goto done;
	write_notes(&e, &o, &depends);
	e.out_path = o.out;
	if (out_write(&e.out, o.out, &own, self_check, &e, &d))
		goto done;
	report(&e, &own);
	rc = 0;
done:
	if (rc)
		fprintf(stderr, "xen-hotpatch-build: %s\n", d.msg);
	free_pairs(&e);
	free(e.placed);
	xhp_strv_free(&e.func_names);
	xhp_strv_free(&e.new_names);
	out_free(&e.out);
	xensyms_free(&xs);
done_opts:
	xhp_strv_free(&o.modinfo);
	return rc;
}
