/* SPDX-License-Identifier: GPL-2.0-only */
/* info: what a payload is. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "report.h"

/* "  LABEL:         " then an escaped value; "" labels continue a list. */
static void print_field(const char *label, const char *value)
{
	_cleanup_free_ char *e = xhp_escape(value);

	printf("  %-15s %s\n", label, e);
}

static void print_hooks(const struct xhp_payload *pl)
{
	size_t i;
	bool first = true;

	printf("  hooks:          ");
	for (i = 0; i < XHP_HOOK_COUNT; i++)
		if (pl->hooks_present & (1u << i)) {
			printf("%s%s", first ? "" : ", ", xhp_hook_label[i]);
			first = false;
		}
	printf("%s%s\n", first ? "none" : "",
	       pl->hooks_enabled & XHP_HOOKS_VETOING ? " (pre/post hooks: cannot be used with REPLACE)" : "");
}

/* Every string from the file or the command line is escaped: one field per
 * line, and nothing the terminal would act on. */
static void print_human(const char *path, const struct xhp_payload *pl)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	_cleanup_free_ char *epath = xhp_escape(path), *stem = xhp_payload_name_of(path);
	size_t i;

	printf("%s\n", epath);
	print_field("name:", stem);
	print_field("build-id:", xhp_build_id_hex(&pl->id, hex, sizeof(hex)));
	printf("  depends:        %s (%s)\n", xhp_build_id_hex(&pl->depends, hex, sizeof(hex)),
	       xhp_payload_stacks_on(pl));
	print_field("xen_depends:", xhp_build_id_hex(&pl->xen_depends, hex, sizeof(hex)));
	for (i = 0; i < pl->nfuncs; i++) {
		const struct xhp_func *f = &pl->funcs[i];
		_cleanup_free_ char *name = xhp_escape(f->name ? f->name : "(unnamed)");

		printf("  %-15s %s (old %u bytes, %s %u bytes)%s\n", i ? "" : "functions:", name,
		       f->old_size, f->has_new ? "new" : "NOP", f->new_size,
		       f->expect_enabled ? " [expectation]" : "");
	}
	if (!pl->nfuncs)
		print_field("functions:", "none");
	print_hooks(pl);
	print_field("reapply:", pl->safe_to_reapply ? "safe after a revert"
			: "unsafe after a revert (has writable data): reloaded instead");
	for (i = 0; i < pl->nmodinfo; i++) {
		_cleanup_free_ char *kv = xhp_asprintf("%s%s%s", pl->modinfo[i].key,
						       pl->modinfo[i].value ? "=" : "",
						       pl->modinfo[i].value ? pl->modinfo[i].value : "");

		print_field(i ? "" : "modinfo:", kv);
	}
	printf("  size:           %zu bytes\n", pl->size);
}

/* Every .modinfo key=value, escaped, separated by ';' (a ';' inside one is
 * written \x3b, so that the separator stays one). */
static char *modinfo_joined(const struct xhp_payload *pl)
{
	struct xhp_strv parts = { 0 };
	size_t i, n = 1;
	char *out, *o;

	for (i = 0; i < pl->nmodinfo; i++) {
		_cleanup_free_ char *kv = xhp_asprintf("%s%s%s", pl->modinfo[i].key,
						       pl->modinfo[i].value ? "=" : "",
						       pl->modinfo[i].value ? pl->modinfo[i].value : "");
		_cleanup_free_ char *e = xhp_escape(kv);

		xhp_strv_add(&parts, e);
		n += 4 * strlen(e) + 1;
	}
	out = o = xhp_malloc(n);
	for (i = 0; i < parts.n; i++) {
		const char *c;

		if (i)
			*o++ = ';';
		for (c = parts.v[i]; *c; c++) {
			if (*c == ';') {
				memcpy(o, "\\x3b", 4);
				o += 4;
			} else {
				*o++ = *c;
			}
		}
	}
	*o = '\0';
	xhp_strv_free(&parts);
	return out;
}

/* The value of one --query field, malloc'd and escaped; NULL: no such field. */
static char *query_field(const char *path, const struct xhp_payload *pl, const char *k)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	const char *v;

	if (!strcmp(k, "name")) {
		_cleanup_free_ char *stem = xhp_payload_name_of(path);

		return xhp_escape(stem);
	}
	if (!strcmp(k, "modinfo"))
		return modinfo_joined(pl);
	if (!strcmp(k, "build_id"))
		v = xhp_build_id_hex(&pl->id, hex, sizeof(hex));
	else if (!strcmp(k, "depends"))
		v = xhp_build_id_hex(&pl->depends, hex, sizeof(hex));
	else if (!strcmp(k, "xen_depends"))
		v = xhp_build_id_hex(&pl->xen_depends, hex, sizeof(hex));
	else if (!strcmp(k, "stacks_on"))
		v = xhp_payload_stacks_on(pl);
	else if (!strcmp(k, "version"))
		v = xhp_payload_modinfo(pl, "version");
	else if (!strncmp(k, "modinfo.", 8))
		v = xhp_payload_modinfo(pl, k + 8);
	else
		return NULL;
	return xhp_escape(v ? v : "");
}

/* Are the --query fields all known? Says which one is not. */
static bool query_fields_known(const char *fields)
{
	static const char *const known[] = { "name", "build_id", "depends", "xen_depends", "stacks_on",
					     "version", "modinfo" };
	_cleanup_free_ char *f = xhp_strdup(fields);
	char *save = NULL, *k;
	size_t i;

	for (k = strtok_r(f, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		_cleanup_free_ char *ek = NULL;

		for (i = 0; i < XHP_ARRAY_SIZE(known) && strcmp(k, known[i]); i++)
			;
		if (i < XHP_ARRAY_SIZE(known) || (!strncmp(k, "modinfo.", 8) && k[8]))
			continue;
		ek = xhp_escape(k);
		cli_error("--query: unknown field \"%s\" (name build_id depends xen_depends "
			  "stacks_on version modinfo modinfo.KEY)", ek);
		return false;
	}
	return true;
}

/* --query: one tab-separated line per file, whatever the values hold. */
static int print_query(const char *path, const struct xhp_payload *pl, const char *fields)
{
	_cleanup_free_ char *f = xhp_strdup(fields), *line = xhp_strdup("");
	char *save = NULL, *k;
	bool first = true;

	for (k = strtok_r(f, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		_cleanup_free_ char *v = query_field(path, pl, k);
		char *prev = line;

		if (!v)
			return -EINVAL; /* query_fields_known said so */
		line = xhp_asprintf("%s%s%s", prev, first ? "" : "\t", v);
		first = false;
		free(prev);
	}
	puts(line);
	return 0;
}

int cmd_info(struct xhp_cli *cli, int argc, char **argv)
{
	const char *query = cli->query;
	json_object *arr;
	int i, printed = 0, ret = XHP_EXIT_OK;

	/* main.c refuses --json with --query: one format */
	if (query && !query_fields_known(query))
		return XHP_EXIT_ERROR;
	arr = cli->json ? json_object_new_array() : NULL;
	for (i = 1; i < argc; i++) {
		struct xhp_payload pl;
		struct xhp_err err = { { 0 } };
		int r;

		r = xhp_payload_load(argv[i], &pl, NULL, NULL, &err);
		if (r < 0) {
			_cleanup_free_ char *e = xhp_escape(argv[i]);

			cli_error("%s: %s", e, err.msg[0] ? err.msg : strerror(-r));
			ret = XHP_EXIT_ERROR;
			continue;
		}
		if (query) {
			if (print_query(argv[i], &pl, query) < 0)
				ret = XHP_EXIT_ERROR;
		} else if (arr) {
			json_object_array_add(arr, xhp_report_payload(argv[i], &pl));
		} else {
			if (printed++)
				putchar('\n');
			print_human(argv[i], &pl);
		}
		xhp_payload_free(&pl);
	}
	if (arr) {
		puts(json_object_to_json_string_ext(arr, XHP_REPORT_JSON_FLAGS));
		json_object_put(arr);
	}
	return ret;
}

int cmd_version(struct xhp_cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	printf("xen-hotpatch %s (%s)\n", XHP_VERSION_STRING,
	       xhp_have_xen ? "xen backend: libxenctrl" : "built without Xen support: sim backend only");
	return 0;
}
