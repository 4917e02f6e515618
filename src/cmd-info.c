/* SPDX-License-Identifier: GPL-2.0-only */
/* info: what a payload is. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "report.h"

static void print_human(const char *path, const struct xhp_payload *pl)
{
	char hex[XHP_BUILD_ID_HEX_SIZE];
	_cleanup_free_ char *stem = xhp_payload_name_of(path);
	size_t i;
	bool first;

	printf("%s\n", path);
	printf("  name:           %s\n", stem);
	printf("  build-id:       %s\n", xhp_build_id_hex(&pl->id, hex, sizeof(hex)));
	printf("  depends:        %s (%s)\n", xhp_build_id_hex(&pl->depends, hex, sizeof(hex)),
	       xhp_payload_stacks_on(pl));
	printf("  xen_depends:    %s\n", xhp_build_id_hex(&pl->xen_depends, hex, sizeof(hex)));
	for (i = 0; i < pl->nfuncs; i++) {
		const struct xhp_func *f = &pl->funcs[i];

		printf("  %-15s %s (old %u bytes, %s %u bytes)%s\n", i ? "" : "functions:",
		       f->name ? f->name : "(unnamed)", f->old_size, f->has_new ? "new" : "NOP",
		       f->new_size, f->expect_enabled ? " [expectation]" : "");
	}
	if (!pl->nfuncs)
		printf("  functions:      none\n");
	printf("  hooks:          ");
	for (i = 0, first = true; i < XHP_HOOK_COUNT; i++)
		if (pl->hooks_present & (1u << i)) {
			printf("%s%s", first ? "" : ", ", xhp_hook_label[i]);
			first = false;
		}
	printf("%s%s\n", first ? "none" : "",
	       pl->hooks_enabled & XHP_HOOKS_VETOING ? " (pre/post hooks: cannot be used with REPLACE)" : "");
	printf("  reapply:        %s\n", pl->safe_to_reapply ? "safe after a revert"
				       : "unsafe after a revert (has writable data): reloaded instead");
	for (i = 0; i < pl->nmodinfo; i++)
		printf("  %-15s %s%s%s\n", i ? "" : "modinfo:", pl->modinfo[i].key,
		       pl->modinfo[i].value ? "=" : "", pl->modinfo[i].value ? pl->modinfo[i].value : "");
	printf("  size:           %zu bytes\n", pl->size);
}

/* --query: one tab-separated line per file. */
static int print_query(const char *path, const struct xhp_payload *pl, const char *fields)
{
	_cleanup_free_ char *f = xhp_strdup(fields);
	char hex[XHP_BUILD_ID_HEX_SIZE], *save = NULL, *k;
	bool first = true;

	for (k = strtok_r(f, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		const char *v;
		_cleanup_free_ char *stem = NULL;

		if (!strcmp(k, "name"))
			v = stem = xhp_payload_name_of(path);
		else if (!strcmp(k, "build_id"))
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
		else if (!strcmp(k, "modinfo")) {
			/* every key=value, separated by ';' */
			size_t i, n = 1;

			for (i = 0; i < pl->nmodinfo; i++)
				n += strlen(pl->modinfo[i].key) + 2 +
				     (pl->modinfo[i].value ? strlen(pl->modinfo[i].value) : 0);
			stem = xhp_calloc(n, 1);
			for (i = 0; i < pl->nmodinfo; i++) {
				if (i)
					strcat(stem, ";");
				strcat(stem, pl->modinfo[i].key);
				if (pl->modinfo[i].value) {
					strcat(stem, "=");
					strcat(stem, pl->modinfo[i].value);
				}
			}
			v = stem;
		}
		else {
			cli_error("--query: unknown field \"%s\" (name build_id depends xen_depends "
				  "stacks_on version modinfo modinfo.KEY)", k);
			return -EINVAL;
		}
		printf("%s%s", first ? "" : "\t", v ? v : "");
		first = false;
	}
	putchar('\n');
	return 0;
}

int cmd_info(struct xhp_cli *cli, int argc, char **argv)
{
	json_object *arr = cli->json ? json_object_new_array() : NULL;
	const char *query = NULL;
	int i, ret = XHP_EXIT_OK;

	for (i = 1; i < argc; i++) {
		struct xhp_payload pl;
		struct xhp_err err = { { 0 } };
		int r;

		if (!strcmp(argv[i], "--query") && i + 1 < argc) {
			query = argv[++i];
			continue;
		}
		if (!strncmp(argv[i], "--query=", 8)) {
			query = argv[i] + 8;
			continue;
		}
		r = xhp_payload_load(argv[i], &pl, NULL, NULL, &err);
		if (r < 0) {
			cli_error("%s: %s", argv[i], err.msg[0] ? err.msg : strerror(-r));
			ret = XHP_EXIT_ERROR;
			continue;
		}
		if (query) {
			if (print_query(argv[i], &pl, query) < 0)
				ret = XHP_EXIT_ERROR;
		} else if (arr) {
			json_object_array_add(arr, xhp_report_payload(argv[i], &pl));
		} else {
			if (i > 1)
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
