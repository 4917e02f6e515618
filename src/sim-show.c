// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim-show.c: `xen-hotpatch-sim DIR show [--json]` (formats in sim.h).
 */
#include <stdio.h>
#include <string.h>

#include "sim-int.h"

/* Names and the directory come from whoever uploaded or ran: escaped. */
#define ESCAPED_NAME_SIZE (4 * XHP_NAME_MAX + 4)

static const char *esc(char *buf, const char *name)
{
	return xhp_escape_buf(buf, ESCAPED_NAME_SIZE, name);
}

static long long due_in(const struct sim_state *s)
{
	unsigned long long now = sim_now(s);

	return s->work.due > now ? (long long)(s->work.due - now) : 0;
}

char *sim_show_json(const struct sim_state *s)
{
	json_object *root = json_object_new_object(), *loaded = json_object_new_array();
	json_object *w = NULL;
	char hex[XHP_BUILD_ID_HEX_SIZE];
	char *out;

	json_object_object_add(root, "build_id",
			       json_object_new_string(xhp_build_id_hex(&s->build_id, hex, sizeof(hex))));
	json_object_object_add(root, "boot", json_object_new_int64((int64_t)s->boot));
	json_object_object_add(root, "version", json_object_new_int64((int64_t)s->version));
	json_object_object_add(root, "xen_syms", json_object_new_boolean(s->have_syms));
	json_object_object_add(root, "applied", sim_names_json(s->applied, s->napplied));
	for (size_t i = 0; i < s->np; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(s->p[i]->ident.name));
		json_object_object_add(o, "state",
				       json_object_new_string(sim_state_str(s->p[i]->state)));
		json_object_object_add(o, "rc", json_object_new_int(s->p[i]->rc));
		json_object_array_add(loaded, o);
	}
	json_object_object_add(root, "loaded", loaded);
	json_object_object_add(root, "history", json_object_get(s->history));
	json_object_object_add(root, "actions", json_object_get(s->actions));
	if (s->work.active) {
		w = json_object_new_object();
		json_object_object_add(w, "op", json_object_new_string(xhp_sim_op_name(s->work.op)));
		json_object_object_add(w, "name", json_object_new_string(s->work.name));
		json_object_object_add(w, "due_in_ms", json_object_new_int64(due_in(s)));
	}
	json_object_object_add(root, "pending", w);
	out = xhp_asprintf("%s\n", json_object_to_json_string_ext(root,
			   JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}

static void rc_text(char *buf, size_t sz, int rc)
{
	const char *n = xhp_errno_name(rc);

	if (rc == 0 || strcmp(n, "E?") == 0)
		snprintf(buf, sz, "%d", rc);
	else
		snprintf(buf, sz, "%d (%s)", rc, n);
}

static void show_header(FILE *f, const char *dir, const struct sim_state *s)
{
	char hex[XHP_BUILD_ID_HEX_SIZE], name[ESCAPED_NAME_SIZE];
	_cleanup_free_ char *edir = xhp_escape(dir);

	fprintf(f, "simulated hypervisor %s\n", edir);
	fprintf(f, "  build-id  %s%s\n", xhp_build_id_hex(&s->build_id, hex, sizeof(hex)),
		s->have_syms ? " (symbol table from xen-syms)" : "");
	fprintf(f, "  boot      %lu\n", s->boot);
	fprintf(f, "  applied  ");
	if (!s->napplied)
		fprintf(f, " (nothing)");
	for (size_t i = 0; i < s->napplied; i++)
		fprintf(f, " %s%s", i ? "<- " : "", esc(name, s->applied[i]->ident.name));
	fprintf(f, "%s\n", s->napplied > 1 ? "   (bottom <- top)" : "");
	if (s->work.active)
		fprintf(f, "  pending   %s %s (due in %lld ms)\n", xhp_sim_op_name(s->work.op),
			esc(name, s->work.name), due_in(s));
	else
		fprintf(f, "  pending   none\n");
	if (s->crashed_op) {
		_cleanup_free_ char *op = xhp_escape(s->crashed_op);

		fprintf(f, "  host      CRASHED during %s of %s: run xen-hotpatch-sim "
			"%s reboot\n", op, esc(name, s->crashed_name), edir);
	}
}

char *sim_show_text(const char *dir, const struct sim_state *s)
{
	char *out = NULL, rc[48], name[ESCAPED_NAME_SIZE];
	size_t sz = 0;
	FILE *f = open_memstream(&out, &sz);

	if (!f)
		abort();
	show_header(f, dir, s);
	fprintf(f, "\n  %-40s %-8s %s\n", "NAME", "STATE", "RC");
	if (!s->np)
		fprintf(f, "  (no payload loaded)\n");
	for (size_t i = 0; i < s->np; i++) {
		rc_text(rc, sizeof(rc), s->p[i]->rc);
		fprintf(f, "  %-40s %-8s %s\n", esc(name, s->p[i]->ident.name),
			sim_state_str(s->p[i]->state), rc);
	}
	if (fclose(f) != 0)
		abort();
	return out;
}
