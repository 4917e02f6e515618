/* SPDX-License-Identifier: GPL-2.0-only */
/* The policy reader: every key's edges, NUL bytes, conf.d entries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char root[] = "/tmp/xhp-config-XXXXXX";
static char conf[128], dropin[128];

/* Write len bytes as the main policy file. */
static void write_conf(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* Load the root's policy holding text (strlen); 0 or -errno, err filled. */
static int load(const char *text, struct xhp_config *c, struct xhp_err *err)
{
	write_conf(conf, text, strlen(text));
	xhp_config_defaults(c);
	return xhp_config_load(c, root, NULL, err);
}

/* KEY = VALUE is refused, with the file, line 1 and "bad value" said. */
static void refused(const char *line)
{
	struct xhp_config c;
	struct xhp_err err = { { 0 } };

	assert_int_equal(load(line, &c, &err), -EINVAL);
	if (!strstr(err.msg, ":1: bad value"))
		fail_msg("%s: %s", line, err.msg);
	xhp_config_free(&c);
}

static unsigned accepted_uint(const char *line, unsigned *(*field)(struct xhp_config *))
{
	struct xhp_config c;
	struct xhp_err err = { { 0 } };
	unsigned v;

	if (load(line, &c, &err) != 0)
		fail_msg("%s: %s", line, err.msg);
	v = *field(&c);
	xhp_config_free(&c);
	return v;
}

static unsigned *deadline(struct xhp_config *c) { return &c->deadline_ms; }
static unsigned *lock_wait(struct xhp_config *c) { return &c->lock_wait_ms; }
static unsigned *action_timeout(struct xhp_config *c) { return &c->action_timeout_ms; }

static void numbers(void **state)
{
	static const char *const bad[] = {
		"deadline_ms = +5", "deadline_ms = -5", "deadline_ms = -0", "deadline_ms = 5ms",
		"deadline_ms = 0x10", "deadline_ms = 1e3", "deadline_ms = 5 5", "deadline_ms = 5.0",
		"deadline_ms =", "deadline_ms = 99999999999999999999", "deadline_ms = 4294967296",
		"deadline_ms = 18446744073709551617", "deadline_ms = 3600001", "deadline_ms = 0",
		"lock_wait_ms = 3600001", "lock_wait_ms = +0", "action_timeout_ms = 4295",
		"action_timeout_ms = -1", "action_timeout_ms = 4294967326",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i]);
	assert_int_equal(accepted_uint("deadline_ms = 1", deadline), 1);
	assert_int_equal(accepted_uint("deadline_ms=3600000", deadline), 3600000);
	assert_int_equal(accepted_uint("deadline_ms = 007  ", deadline), 7);
	assert_int_equal(accepted_uint("lock_wait_ms = 0", lock_wait), 0);
	assert_int_equal(accepted_uint("action_timeout_ms = 4294", action_timeout), 4294);
	assert_int_equal(accepted_uint("action_timeout_ms = 0", action_timeout), 0);
}

static void words_and_lists(void **state)
{
	struct xhp_config c;
	struct xhp_err err = { { 0 } };

	(void)state;
	refused("apply_on_install = sometimes");
	refused("boot_apply = maybe");
	refused("on_failure = Rollback");
	refused("replace_without_replace = ");
	refused("backend = sim:");
	refused("backend = kvm");
	refused("payload_dir = relative/path");
	refused("blocked = a;b");
	refused("independent = ../x");
	assert_int_equal(load("blocked = a, b\tc\nindependent = i1\non_failure = rollback\n"
			      "replace_without_replace = allow\nboot_apply = off\n", &c, &err), 0);
	assert_int_equal(c.blocked.n, 3);
	assert_string_equal(c.blocked.v[2], "c");
	assert_int_equal(c.independent.n, 1);
	assert_true(c.on_failure_rollback);
	assert_true(c.replace_allow);
	assert_false(c.boot_apply);
	xhp_config_free(&c);
}

/* A NUL is an error at its line, not the end of the file. */
static void nul_byte(void **state)
{
	static const char text[] = "# policy\nboot_apply = yes\0junk\nblocked = x\n";
	struct xhp_config c;
	struct xhp_err err = { { 0 } };

	(void)state;
	write_conf(conf, text, sizeof(text) - 1);
	xhp_config_defaults(&c);
	assert_int_equal(xhp_config_load(&c, root, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "xen-hotpatch.conf:2: a NUL byte"));
	xhp_config_free(&c);
}

/* The file, the unknown key and the bad value are escaped in the message. */
static void messages_escaped(void **state)
{
	struct xhp_config c;
	struct xhp_err err = { { 0 } };

	(void)state;
	assert_int_equal(load("\n\n\x1b[2Jkey = 1\n", &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, ":3: unknown key \"\\x1b[2Jkey\""));
	xhp_config_free(&c);
	assert_int_equal(load("on_failure = stop\r\x07\x7f\n", &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bad value \"stop\\r\\a\\x7f\" for on_failure (expected stop or rollback)"));
	xhp_config_free(&c);
}

static void conf_d(void **state)
{
	char p[192];
	struct xhp_config c;
	struct xhp_err err = { { 0 } };

	(void)state;
	/* later files override, in name order; others are not read */
	snprintf(p, sizeof(p), "%s/20-b.conf", dropin);
	write_conf(p, "deadline_ms = 20\n", 17);
	snprintf(p, sizeof(p), "%s/10-a.conf", dropin);
	write_conf(p, "deadline_ms = 10\n", 17);
	snprintf(p, sizeof(p), "%s/30-c.conf.dpkg-old", dropin);
	write_conf(p, "bogus\n", 6);
	snprintf(p, sizeof(p), "%s/.40-d.conf", dropin);
	write_conf(p, "bogus\n", 6);
	assert_int_equal(load("", &c, &err), 0);
	assert_int_equal(c.deadline_ms, 20);
	xhp_config_free(&c);

	/* a *.conf that is a directory or a FIFO is named, not read */
	snprintf(p, sizeof(p), "%s/50-dir.conf", dropin);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(load("", &c, &err), -EISDIR);
	assert_non_null(strstr(err.msg, "conf.d/50-dir.conf: is a directory, not a regular file"));
	xhp_config_free(&c);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/50-fifo.conf", dropin);
	assert_int_equal(mkfifo(p, 0644), 0);
	alarm(10);
	assert_int_equal(load("", &c, &err), -ENXIO);
	alarm(0);
	assert_non_null(strstr(err.msg, "conf.d/50-fifo.conf: is a FIFO, not a regular file"));
	xhp_config_free(&c);
	unlink(p);
}

static int setup(void **state)
{
	char etc[96];

	(void)state;
	if (!mkdtemp(root))
		return -1;
	snprintf(etc, sizeof(etc), "%s/etc", root);
	mkdir(etc, 0755);
	snprintf(etc, sizeof(etc), "%s/etc/xen-hotpatch", root);
	mkdir(etc, 0755);
	snprintf(conf, sizeof(conf), "%s/xen-hotpatch.conf", etc);
	snprintf(dropin, sizeof(dropin), "%s/conf.d", etc);
	return mkdir(dropin, 0755);
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers),
		cmocka_unit_test(words_and_lists),
		cmocka_unit_test(nul_byte),
		cmocka_unit_test(messages_escaped),
		cmocka_unit_test(conf_d),
	};

	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
