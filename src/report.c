/* SPDX-License-Identifier: GPL-2.0-only */
/* The JSON documents of the CLI and the Python bindings (report.h). */
#include <libgen.h>
#include <string.h>

#include "report.h"
#include "util.h"

char *xhp_payload_name_of(const char *path)
{
	_cleanup_free_ char *p = xhp_strdup(path);
	const char *b = basename(p);
	size_t n = strlen(b);

	if (n > 10 && !strcmp(b + n - 10, ".livepatch"))
		n -= 10;
	return xhp_strndup(b, n);
}

const char *xhp_payload_stacks_on(const struct xhp_payload *pl)
{
	return xhp_build_id_eq(&pl->depends, &pl->xen_depends) ? "hypervisor" : "payload";
}

json_object *xhp_report_payload(const char *path, const struct xhp_payload *pl)
{
	json_object *o = json_object_new_object(), *funcs = json_object_new_array(),
		    *hooks = json_object_new_array(), *mi = json_object_new_object();
	char hex[XHP_BUILD_ID_HEX_SIZE];
	_cleanup_free_ char *stem = xhp_payload_name_of(path);
	size_t i;

	json_object_object_add(o, "file", json_object_new_string(path));
	json_object_object_add(o, "name", json_object_new_string(stem));
	json_object_object_add(o, "build_id", json_object_new_string(xhp_build_id_hex(&pl->id, hex, sizeof(hex))));
	json_object_object_add(o, "depends", json_object_new_string(xhp_build_id_hex(&pl->depends, hex, sizeof(hex))));
	json_object_object_add(o, "xen_depends",
			       json_object_new_string(xhp_build_id_hex(&pl->xen_depends, hex, sizeof(hex))));
	json_object_object_add(o, "stacks_on", json_object_new_string(xhp_payload_stacks_on(pl)));
	for (i = 0; i < pl->nfuncs; i++) {
		const struct xhp_func *f = &pl->funcs[i];
		json_object *fo = json_object_new_object();

		json_object_object_add(fo, "name", f->name ? json_object_new_string(f->name) : NULL);
		json_object_object_add(fo, "old_size", json_object_new_int64(f->old_size));
		json_object_object_add(fo, "new_size", json_object_new_int64(f->new_size));
		json_object_object_add(fo, "nop", json_object_new_boolean(!f->has_new));
		json_object_object_add(fo, "expect", json_object_new_boolean(f->expect_enabled));
		if (f->expect_enabled)
			json_object_object_add(fo, "expect_len", json_object_new_int(f->expect_len));
		json_object_array_add(funcs, fo);
	}
	json_object_object_add(o, "funcs", funcs);
	for (i = 0; i < XHP_HOOK_COUNT; i++)
		if (pl->hooks_present & (1u << i))
			json_object_array_add(hooks, json_object_new_string(xhp_hook_label[i]));
	json_object_object_add(o, "hooks", hooks);
	json_object_object_add(o, "vetoing_hooks",
			       json_object_new_boolean((pl->hooks_enabled & XHP_HOOKS_VETOING) != 0));
	for (i = 0; i < pl->nmodinfo; i++)
		json_object_object_add(mi, pl->modinfo[i].key,
				       json_object_new_string(pl->modinfo[i].value ? pl->modinfo[i].value : ""));
	json_object_object_add(o, "modinfo", mi);
	json_object_object_add(o, "safe_to_reapply", json_object_new_boolean(pl->safe_to_reapply));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)pl->size));
	return o;
}
