/* SPDX-License-Identifier: GPL-2.0-only */
#include <ctype.h>
#include <dirent.h>
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
}

void xhp_config_free(struct xhp_config *c)
{
	free(c->backend);
	free(c->payload_dir);
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

static int parse_uint(const char *v, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n > max || v[0] == '-')
		return -EINVAL;
	*out = (unsigned)n;
	return 0;
}

/* A list value: words separated by spaces or commas. Replaces the list. */
static void parse_list(struct xhp_strv *l, char *v)
{
	char *save = NULL, *w;

	xhp_strv_free(l);
	for (w = strtok_r(v, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save))
		xhp_strv_add(l, w);
}

static int set_key(struct xhp_config *c, const char *k, char *v)
{
	bool b;

	if (!strcmp(k, "backend")) {
		if (strcmp(v, "xen") && strncmp(v, "sim:", 4))
			return -EINVAL;
		if (!strncmp(v, "sim:", 4) && !v[4])
			return -EINVAL;
		free(c->backend);
		c->backend = xhp_strdup(v);
	} else if (!strcmp(k, "apply_on_install")) {
		if (!strcmp(v, "auto"))
			c->apply_on_install = XHP_AOI_AUTO;
		else if (!strcmp(v, "always"))
			c->apply_on_install = XHP_AOI_ALWAYS;
		else if (!strcmp(v, "never"))
			c->apply_on_install = XHP_AOI_NEVER;
		else
			return -EINVAL;
	} else if (!strcmp(k, "boot_apply")) {
		if (parse_bool(v, &b))
			return -EINVAL;
		c->boot_apply = b;
	} else if (!strcmp(k, "blocked")) {
		parse_list(&c->blocked, v);
	} else if (!strcmp(k, "independent")) {
		parse_list(&c->independent, v);
	} else if (!strcmp(k, "replace_without_replace")) {
		if (!strcmp(v, "refuse"))
			c->replace_allow = false;
		else if (!strcmp(v, "allow"))
			c->replace_allow = true;
		else
			return -EINVAL;
	} else if (!strcmp(k, "on_failure")) {
		if (!strcmp(v, "stop"))
			c->on_failure_rollback = false;
		else if (!strcmp(v, "rollback"))
			c->on_failure_rollback = true;
		else
			return -EINVAL;
	} else if (!strcmp(k, "action_timeout_ms")) {
		/* Xen takes ns in a u32: at most ~4294 ms. */
		return parse_uint(v, 4294, &c->action_timeout_ms);
	} else if (!strcmp(k, "deadline_ms")) {
		return parse_uint(v, 3600000, &c->deadline_ms);
	} else if (!strcmp(k, "lock_wait_ms")) {
		return parse_uint(v, 3600000, &c->lock_wait_ms);
	} else if (!strcmp(k, "proven_after_s")) {
		return parse_uint(v, 30 * 86400, &c->proven_after_s);
	} else if (!strcmp(k, "payload_dir")) {
		if (v[0] != '/')
			return -EINVAL;
		free(c->payload_dir);
		c->payload_dir = xhp_strdup(v);
	} else {
		return -ENOENT;
	}
	return 0;
}

static int load_file(struct xhp_config *c, const char *path, bool must_exist,
		     struct xhp_err *err)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;
	unsigned lineno = 0;
	int r;

	r = xhp_read_file(path, &buf, NULL, 1 << 20);
	if (r == -ENOENT && !must_exist)
		return 0;
	if (r < 0) {
		xhp_err_set(err, "%s: %s", path, strerror(-r));
		return r;
	}
	/* strtok_r skips empty lines, so count them by hand */
	for (line = buf; line && *line; line = save) {
		char *nl = strchr(line, '\n'), *eq, *k, *v;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			xhp_err_set(err, "%s:%u: expected \"key = value\"", path, lineno);
			return -EINVAL;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		r = set_key(c, k, v);
		if (r == -ENOENT) {
			xhp_err_set(err, "%s:%u: unknown key \"%s\"", path, lineno, k);
			return -EINVAL;
		}
		if (r < 0) {
			xhp_err_set(err, "%s:%u: bad value \"%s\" for %s", path, lineno, v, k);
			return -EINVAL;
		}
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int xhp_config_load(struct xhp_config *c, const char *root, const char *config_file,
		    struct xhp_err *err)
{
	_cleanup_free_ char *main_conf = NULL, *dropin = NULL;
	struct xhp_strv files = { 0 };
	struct dirent *de;
	DIR *d;
	size_t i;
	int r;

	if (config_file)
		return load_file(c, config_file, true, err);
	main_conf = xhp_path_join(root, "/etc/xen-hotpatch/xen-hotpatch.conf");
	r = load_file(c, main_conf, false, err);
	if (r < 0)
		return r;
	dropin = xhp_path_join(root, "/etc/xen-hotpatch/conf.d");
	d = opendir(dropin);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] != '.' && n > 5 && !strcmp(de->d_name + n - 5, ".conf"))
			xhp_strv_add(&files, de->d_name);
	}
	closedir(d);
	if (files.n > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(files.v, files.n, sizeof(*files.v), cmp_str);
	for (i = 0, r = 0; i < files.n && !r; i++) {
		_cleanup_free_ char *p = xhp_asprintf("%s/%s", dropin, files.v[i]);

		r = load_file(c, p, true, err);
	}
	xhp_strv_free(&files);
	return r;
}
