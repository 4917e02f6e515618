/* SPDX-License-Identifier: GPL-2.0-only */
/* The hypervisor and payload a new payload stacks on; reading it back. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "payload.h"

int check_xen_id(struct engine *e, const char *hex)
{
	struct xhp_build_id want;
	char a[XHP_BUILD_ID_HEX_SIZE], b[XHP_BUILD_ID_HEX_SIZE];

	if (!hex)
		return 0;
	if (xhp_build_id_from_hex(&want, hex))
		return diag_refuse(e->d, e->xs->path, NULL, "--xen-id %s is not a hex build-id", hex);
	if (!xhp_build_id_eq(&want, &e->xs->build_id))
		return diag_refuse(e->d, e->xs->path, NULL,
				   "build-id %s, but the kit is for %s",
				   xhp_build_id_hex(&e->xs->build_id, a, sizeof(a)),
				   xhp_build_id_hex(&want, b, sizeof(b)));
	return 0;
}

/* What the lower payload replaces or defines must not come back here. */
static int check_overlap(struct engine *e, const char *path, const struct xhp_payload *p)
{
	size_t i;

	for (i = 0; i < p->nfuncs; i++)
		if (p->funcs[i].name && xhp_strv_has(&e->func_names, p->funcs[i].name))
			return diag_refuse(e->d, path, p->funcs[i].name,
					   "replaced by both payloads: stacking would undo the lower one; build one --cumulative payload from all the patches");
	for (i = 0; i < p->nnew_syms; i++)
		if (xhp_strv_has(&e->new_names, p->new_syms[i]))
			return diag_refuse(e->d, path, p->new_syms[i],
					   "defined by both payloads: Xen refuses the second (duplicate new symbol)");
	return 0;
}

static int check_lower(struct engine *e, const char *path, const struct xhp_payload *p)
{
	const char *name = xhp_payload_modinfo(p, "name");
	char a[XHP_BUILD_ID_HEX_SIZE], b[XHP_BUILD_ID_HEX_SIZE];

	if (!xhp_build_id_eq(&p->xen_depends, &e->xs->build_id))
		return diag_refuse(e->d, path, NULL, "built for hypervisor %s, the kit is %s",
				   xhp_build_id_hex(&p->xen_depends, a, sizeof(a)),
				   xhp_build_id_hex(&e->xs->build_id, b, sizeof(b)));
	if (name && !strcmp(name, e->name))
		return diag_refuse(e->d, path, name,
				   "has the name of the payload being built: Xen loads one payload per name");
	return check_overlap(e, path, p);
}

int stack_on(struct engine *e, const char *path, struct xhp_build_id *dep)
{
	struct xhp_payload p;
	struct xhp_err err = { "" };
	int rc;

	if (!path) {
		*dep = e->xs->build_id;
		return 0;
	}
	if (xhp_payload_load(path, &p, NULL, NULL, &err))
		return diag_refuse(e->d, path, NULL, "not a usable payload: %s", err.msg);
	rc = check_lower(e, path, &p);
	if (!rc)
		*dep = p.id;
	xhp_payload_free(&p);
	return rc;
}

int self_check(void *arg, const char *path)
{
	struct engine *e = arg;
	struct xhp_payload p;
	struct xhp_err err = { "" };
	struct stat st;
	int rc = 0;

	if (!stat(path, &st) && st.st_size > (off_t)XHP_PAYLOAD_MAX_SIZE)
		return diag_refuse(e->d, e->out_path, NULL,
				   "%lld bytes: more than the %u Xen takes for a payload (patch less at once)",
				   (long long)st.st_size, XHP_PAYLOAD_MAX_SIZE);
	if (xhp_payload_load(path, &p, NULL, NULL, &err))
		return diag_refuse(e->d, e->out_path, NULL,
				   "internal error: the payload reader refuses the result: %s", err.msg);
	if (p.nfuncs != e->nchanged)
		rc = diag_refuse(e->d, e->out_path, NULL,
				 "internal error: %zu functions written, the reader sees %zu",
				 e->nchanged, p.nfuncs);
	xhp_payload_free(&p);
	return rc;
}

static const char *kind_of(const struct osym *s)
{
	if (s->state == ST_NEW)
		return "new";
	if (s->state == ST_CHANGED && sym_is_func(s) && !sym_is_cold(s) && !sym_is_clone(s))
		return "changed";
	return "copied";
}

/* New entries of boot-time and parameter tables are left out: said so. */
static void report_ignored(const struct engine *e)
{
	size_t i, k;

	for (i = 0; i < e->npairs; i++)
		for (k = 0; k < e->pairs[i].p.nsyms; k++) {
			const struct osym *s = &e->pairs[i].p.syms[k];

			if (s->is_elem && s->state == ST_NEW && s->out < 0 &&
			    sec_is_boot_table(s->sec))
				printf("ignored %s %s (new entry of %s: read at boot only)\n",
				       e->pairs[i].p.src, s->name, s->sec->name);
		}
}

void report(const struct engine *e, const struct xhp_build_id *own)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	size_t i;

	report_ignored(e);
	for (i = 0; i < e->nplaced; i++) {
		const struct placed *pl = &e->placed[i];

		if (pl->elem)
			printf("%s %s %s\n", kind_of(pl->elem), pl->pr->p.src, pl->elem->name);
	}
	printf("build-id %s\n", xhp_build_id_hex(own, hex, sizeof(hex)));
}
