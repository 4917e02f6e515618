/* SPDX-License-Identifier: GPL-2.0-only */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "config.h"

void xhp_config_defaults(struct xhp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->backend = xhp_strdup("xen");
	c->apply_on_install = XHP_AOI_AUTO;
	c->boot_apply = true;
	c->action_timeout_ms = 30;
	c->deadline_ms = 30000;
	c->lock_wait_ms = 60000;
	c->payload_dir = xhp_strdup("/usr/lib/xen-hotpatch");
	c->metrics_dir = xhp_strdup("/var/lib/prometheus/node-exporter");
}

void xhp_config_free(struct xhp_config *c)
{
	free(c->backend);
	free(c->payload_dir);
	free(c->metrics_dir);
	xhp_strv_free(&c->blocked);
	xhp_strv_free(&c->independent);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* A whole number in [min, max]: decimal digits only (no sign, no spaces, no
 * base prefix, no unit), so "+5", "-1", "5ms" and "0x10" are refused. */
static int parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long n = 0;
	const char *c;

	if (!*v)
		return -EINVAL;
	for (c = v; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		n = n * 10 + (unsigned)(*c - '0');
		if (n > max)
			return -ERANGE;
	}
	if (n < min)
		return -ERANGE;
	*out = (unsigned)n;
	return 0;
}

/* A list value: names (or build-ids) separated by spaces or commas.
 * Replaces the list; a word that cannot be a payload name is refused. */
static int parse_list(struct xhp_strv *l, char *v)
{
	char *save = NULL, *w;

	xhp_strv_free(l);
	for (w = strtok_r(v, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		if (xhp_name_check(w) < 0)
			return -EINVAL;
		xhp_strv_add(l, w);
	}
	return 0;
}

static int set_backend(struct xhp_config *c, char *v)
{
	if (strcmp(v, "xen") && (strncmp(v, "sim:", 4) || !v[4]))
		return -EINVAL;
	free(c->backend);
	c->backend = xhp_strdup(v);
	return 0;
}

/* v is one of words[] (NULL-terminated): *out is its index. */
static int parse_word(const char *v, const char *const *words, int *out)
{
	int i;

	for (i = 0; words[i]; i++)
		if (!strcmp(v, words[i])) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

static int set_apply_on_install(struct xhp_config *c, char *v)
{
	static const char *const w[] = { "auto", "always", "never", NULL };
	static const enum xhp_apply_on_install val[] = { XHP_AOI_AUTO, XHP_AOI_ALWAYS, XHP_AOI_NEVER };
	int i;

	if (parse_word(v, w, &i))
		return -EINVAL;
	c->apply_on_install = val[i];
	return 0;
}

static int set_boot_apply(struct xhp_config *c, char *v) { return parse_bool(v, &c->boot_apply); }
static int set_blocked(struct xhp_config *c, char *v) { return parse_list(&c->blocked, v); }
static int set_independent(struct xhp_config *c, char *v) { return parse_list(&c->independent, v); }

/* v is the word off or the word on: *out says which. */
static int parse_pair(const char *v, const char *off, const char *on, bool *out)
{
	if (strcmp(v, off) && strcmp(v, on))
		return -EINVAL;
	*out = !strcmp(v, on);
	return 0;
}

static int set_replace(struct xhp_config *c, char *v) { return parse_pair(v, "refuse", "allow", &c->replace_allow); }
static int set_on_failure(struct xhp_config *c, char *v) { return parse_pair(v, "stop", "rollback", &c->on_failure_rollback); }

/* Xen takes the quiesce timeout in ns in a u32: at most ~4294 ms. */
static int set_action_timeout(struct xhp_config *c, char *v) { return parse_uint(v, 0, 4294, &c->action_timeout_ms); }
static int set_deadline(struct xhp_config *c, char *v) { return parse_uint(v, 1, 3600000, &c->deadline_ms); }
static int set_lock_wait(struct xhp_config *c, char *v) { return parse_uint(v, 0, 3600000, &c->lock_wait_ms); }
static int set_proven_after(struct xhp_config *c, char *v) { return parse_uint(v, 0, 30 * 86400, &c->proven_after_s); }

static int set_payload_dir(struct xhp_config *c, char *v)
{
	if (v[0] != '/')
		return -EINVAL;
	free(c->payload_dir);
	c->payload_dir = xhp_strdup(v);
	return 0;
}

/* Empty (never write metrics) or an absolute path. */
static int set_metrics_dir(struct xhp_config *c, char *v)
{
	if (v[0] && v[0] != '/')
		return -EINVAL;
	free(c->metrics_dir);
	c->metrics_dir = xhp_strdup(v);
	return 0;
}

/* Every key of the policy (policy/README.md), with what it takes. */
static const struct key {
	const char *name;
	int (*set)(struct xhp_config *c, char *v);
	const char *takes;
} keys[] = {
	{ "backend", set_backend, "xen or sim:DIR" },
	{ "apply_on_install", set_apply_on_install, "auto, always or never" },
	{ "boot_apply", set_boot_apply, "yes or no" },
	{ "blocked", set_blocked, "payload names or build-ids, separated by spaces or commas" },
	{ "independent", set_independent, "payload names, separated by spaces or commas" },
	{ "replace_without_replace", set_replace, "refuse or allow" },
	{ "on_failure", set_on_failure, "stop or rollback" },
	{ "action_timeout_ms", set_action_timeout, "a whole number of milliseconds from 0 to 4294" },
	{ "deadline_ms", set_deadline, "a whole number of milliseconds from 1 to 3600000" },
	{ "lock_wait_ms", set_lock_wait, "a whole number of milliseconds from 0 to 3600000" },
	{ "proven_after_s", set_proven_after, "a whole number of seconds from 0 to 2592000" },
	{ "payload_dir", set_payload_dir, "an absolute path" },
	{ "metrics_dir", set_metrics_dir, "an absolute path, or nothing (no metrics)" },
};

/* One "key = value" line (trimmed, not a comment) of path. */
static int parse_line(struct xhp_config *c, const char *path, unsigned lineno, char *line,
		      struct xhp_err *err)
{
	char *eq = strchr(line, '='), *k, *v;
	size_t i;

	if (!eq) {
		_cleanup_free_ char *e = xhp_escape(path);

		xhp_err_set(err, "%s:%u: expected \"key = value\"", e, lineno);
		return -EINVAL;
	}
	*eq = '\0';
	k = trim(line);
	v = trim(eq + 1);
	for (i = 0; i < XHP_ARRAY_SIZE(keys); i++) {
		_cleanup_free_ char *ev = NULL, *ep = NULL;

		if (strcmp(k, keys[i].name))
			continue;
		if (keys[i].set(c, v) == 0)
			return 0;
		ev = xhp_escape(v);
		ep = xhp_escape(path);
		xhp_err_set(err, "%s:%u: bad value \"%s\" for %s (expected %s)", ep, lineno, ev, k,
			    keys[i].takes);
		return -EINVAL;
	}
	{
		_cleanup_free_ char *ek = xhp_escape(k), *ep = xhp_escape(path);

		xhp_err_set(err, "%s:%u: unknown key \"%s\"", ep, lineno, ek);
	}
	return -EINVAL;
}

static int load_file(struct xhp_config *c, const char *path, bool must_exist,
		     struct xhp_err *err)
{
	_cleanup_free_ char *buf = NULL, *ep = xhp_escape(path);
	struct xhp_err e = { { 0 } };
	size_t len, pos, n;
	unsigned lineno = 0;
	int r;

	r = xhp_read_file_err(path, &buf, &len, 1 << 20, &e);
	if (r == -ENOENT && !must_exist)
		return 0;
	if (r < 0) {
		xhp_err_set(err, "%s", e.msg);
		return r;
	}
	for (pos = 0; pos < len; pos += n + 1) {
		char *line = buf + pos, *k;

		n = strcspn(line, "\n"); /* stops at a NUL too */
		lineno++;
		if (pos + n < len && line[n] == '\0') {
			xhp_err_set(err, "%s:%u: a NUL byte: not a text file", ep, lineno);
			return -EINVAL;
		}
		line[n] = '\0';
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		r = parse_line(c, path, lineno, k, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* conf.d/NAME.conf: not hidden, ends in .conf. */
static bool is_dropin(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".conf");
}

int xhp_config_load(struct xhp_config *c, const char *root, const char *config_file,
		    struct xhp_err *err)
{
	_cleanup_free_ char *main_conf = NULL, *dropin = NULL;
	struct xhp_strv files = { 0 };
	size_t i;
	int r;

	if (config_file)
		return load_file(c, config_file, true, err);
	main_conf = xhp_path_join(root, "/etc/xen-hotpatch/xen-hotpatch.conf");
	r = load_file(c, main_conf, false, err);
	if (r < 0)
		return r;
	dropin = xhp_path_join(root, "/etc/xen-hotpatch/conf.d");
	r = xhp_dir_list(dropin, &files);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		_cleanup_free_ char *e = xhp_escape(dropin);

		xhp_err_set(err, "%s: %s", e, strerror(-r));
		return r;
	}
	for (i = 0, r = 0; i < files.n && !r; i++) {
		_cleanup_free_ char *p = xhp_asprintf("%s/%s", dropin, files.v[i]);

		if (is_dropin(files.v[i]))
			r = load_file(c, p, true, err);
	}
	xhp_strv_free(&files);
	return r;
}
