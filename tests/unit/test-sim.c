// SPDX-License-Identifier: GPL-2.0-only
/*
 * test-sim: the simulated hypervisor (src/sim.c) against the rules of Xen
 * 4.17.7 (../shared/reference/xen-livepatch-semantics.md), with real payloads
 * forged by tests/fixtures/make-set.sh (gcc/as/objcopy/ld) into
 * build/test-sim.PID/ (under $XHP_TOP, else the current directory).
 * Set XHP_KEEP=1 to keep that directory.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "backend.h"
#include "payload.h"
#include "sim.h"

#define XEN_HEX "aabbccddeeff00112233445566778899aabbccdd"

#define TOP_MAX 1024
static char g_top[TOP_MAX];	/* repository */
static char g_work[TOP_MAX + 64]; /* build/test-sim.PID */
static char g_set[TOP_MAX + 128]; /* the fixture set */
static char g_dir[TOP_MAX + 128]; /* this test's simulated hypervisor */
static char g_other_hex[130];	/* OTHER_XEN_ID of the set */
static struct xhp_build_id g_xen, g_other;
static struct xhp_sim *g_sim;
static int g_count;

/* ---- helpers ------------------------------------------------------------ */

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint8_t *fixture(const char *file, size_t *len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.livepatch", g_set, file);
	return slurp(path, len);
}

/* Upload fixture FILE under NAME through handle s. */
static int up_as_on(struct xhp_sim *s, const char *file, const char *name)
{
	size_t len;
	uint8_t *buf = fixture(file, &len);
	int r = xhp_sim_upload(s, name, buf, len);

	free(buf);
	return r;
}

static int up_as(const char *file, const char *name)
{
	return up_as_on(g_sim, file, name);
}

static int up(const char *name)
{
	return up_as(name, name);
}

static int act(const char *name, int action)
{
	return xhp_sim_action(g_sim, name, action, 0, 0);
}

static struct xhp_status get(const char *name)
{
	struct xhp_status st = { 0, 0 };

	assert_int_equal(xhp_sim_get(g_sim, name, &st), 0);
	return st;
}

/* Let the pending work's time come, then GET. */
static struct xhp_status settle(const char *name)
{
	struct xhp_err err;

	assert_int_equal(xhp_sim_advance(g_dir, 0, &err), 0);
	return get(name);
}

static void assert_status(const char *name, int state, int rc)
{
	struct xhp_status st = get(name);

	assert_int_equal(st.state, state);
	assert_int_equal(st.rc, rc);
}

static void apply_ok(const char *name)
{
	struct xhp_status st;

	assert_int_equal(act(name, XHP_ACTION_APPLY), 0);
	st = settle(name);
	assert_int_equal(st.rc, 0);
	assert_int_equal(st.state, XHP_STATE_APPLIED);
}

static void upload_ok(const char *name)
{
	int r = up(name);

	if (r != 0)
		fail_msg("upload %s: %d (%s)", name, r, xhp_sim_last_error(g_sim));
}

static json_object *show(void)
{
	char *out = NULL;
	json_object *j;

	assert_int_equal(xhp_sim_show(g_sim, true, &out), 0);
	j = json_tokener_parse(out);
	assert_non_null(j);
	free(out);
	return j;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

/* "a,b" from an array of strings. */
static void names_str(json_object *arr, char *buf, size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		n += (size_t)snprintf(buf + n, sz - n, "%s%s", i ? "," : "",
				      json_object_get_string(json_object_array_get_idx(arr, i)));
}

/* The applied stack from show --json, "a,b" bottom first. */
static const char *applied(void)
{
	static char buf[4096];
	json_object *j = show();

	names_str(member(j, "applied"), buf, sizeof(buf));
	json_object_put(j);
	return buf;
}

/* History as "[a] [a,b] []" */
static const char *history(void)
{
	static char buf[8192];
	json_object *j = show(), *h = member(j, "history");
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(h); i++) {
		char one[4096];

		names_str(json_object_array_get_idx(h, i), one, sizeof(one));
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s[%s]", i ? " " : "", one);
	}
	json_object_put(j);
	return buf;
}

/* Actions as "apply:a:0:0 revert:b:-16:0" (op:name:ret:rc) */
static const char *actions(void)
{
	static char buf[8192];
	json_object *j = show(), *a = member(j, "actions");
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s:%s:%d:%d", i ? " " : "",
				      json_object_get_string(member(e, "op")),
				      json_object_get_string(member(e, "name")),
				      json_object_get_int(member(e, "ret")),
				      json_object_get_int(member(e, "rc")));
	}
	json_object_put(j);
	return buf;
}

/* "op:name" of the pending work, or "none". */
static const char *pending(void)
{
	static char buf[256];
	json_object *j = show(), *p = member(j, "pending");

	if (!p)
		snprintf(buf, sizeof(buf), "none");
	else
		snprintf(buf, sizeof(buf), "%s:%s", json_object_get_string(member(p, "op")),
			 json_object_get_string(member(p, "name")));
	json_object_put(j);
	return buf;
}

/* ---- setup ---------------------------------------------------------------- */

/* Flip the expectation's rsv bits (bits 6-7 of the bitfield byte, spec §1.5)
 * of the entry whose expected bytes are `pattern`. */
static void set_rsv(const char *path, const uint8_t *pattern, size_t plen)
{
	size_t len;
	uint8_t *buf = slurp(path, &len), *hit = NULL;
	FILE *f;

	for (size_t i = 1; i + plen <= len; i++)
		if (memcmp(buf + i, pattern, plen) == 0 && buf[i - 1] == (1 | plen << 1)) {
			assert_null(hit); /* unique */
			hit = buf + i - 1;
		}
	assert_non_null(hit);
	*hit |= 0x40;
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(buf);
}

static int group_setup(void **state)
{
	const char *top = getenv("XHP_TOP");
	static const uint8_t rsv_bytes[] = { 0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xf0, 0x0d };
	char path[PATH_MAX], line[512];
	FILE *f;

	(void)state;
	if (!top || !*top)
		top = ".";
	{
		char *real = realpath(top, NULL);

		if (!real || strlen(real) >= sizeof(g_top)) {
			free(real);
			return -1;
		}
		strcpy(g_top, real);
		free(real);
	}
	snprintf(g_work, sizeof(g_work), "%s/build/test-sim.%ld", g_top, (long)getpid());
	snprintf(g_set, sizeof(g_set), "%s/set", g_work);
	unsetenv(XHP_SIM_ENV_FAIL);
	unsetenv(XHP_SIM_ENV_WORK_MS);
	if (xhp_build_id_from_hex(&g_xen, XEN_HEX) < 0)
		return -1;

	/* the standard set, and two payloads for expectation rules */
	if (run("'%s/tests/fixtures/make-set.sh' '%s' %s >/dev/null", g_top, g_set,
		XEN_HEX) != 0)
		return -1;
	if (run("'%s/tests/fixtures/forge-payload.sh' -o '%s/exp-range.livepatch' "
		"--xen-id %s --func xen_extra_version:6 --expect 0011223344556677 "
		">/dev/null", g_top, g_set, XEN_HEX) != 0)
		return -1;
	if (run("'%s/tests/fixtures/forge-payload.sh' -o '%s/exp-rsv.livepatch' "
		"--xen-id %s --func xen_extra_version:16 --expect deadbeefcafef00d "
		">/dev/null", g_top, g_set, XEN_HEX) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/exp-rsv.livepatch", g_set);
	set_rsv(path, rsv_bytes, sizeof(rsv_bytes));

	snprintf(path, sizeof(path), "%s/ids.env", g_set);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "OTHER_XEN_ID=%129[0-9a-f]", g_other_hex) == 1)
			break;
	fclose(f);
	return xhp_build_id_from_hex(&g_other, g_other_hex) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (!getenv("XHP_KEEP"))
		run("rm -rf '%s'", g_work);
	return 0;
}

/* Each test: a freshly initialised hypervisor and a handle on it. */
static int setup(void **state)
{
	struct xhp_err err = { { 0 } };

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "%s/hv-%d", g_work, ++g_count);
	if (xhp_sim_init(g_dir, &g_xen, NULL, &err) < 0 ||
	    xhp_sim_open(g_dir, &g_sim, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	/* work takes a minute unless time is advanced (settle()) */
	xhp_sim_set_work_ms(g_sim, 60000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv(XHP_SIM_ENV_FAIL);
	xhp_sim_close(g_sim);
	g_sim = NULL;
	return 0;
}

/* ---- lifetime ------------------------------------------------------------- */

static void test_init_and_show(void **state)
{
	json_object *j = show();
	struct xhp_build_id id;
	unsigned long boot;
	char *txt;

	(void)state;
	assert_string_equal(json_object_get_string(member(j, "build_id")), XEN_HEX);
	assert_int_equal(json_object_get_int(member(j, "boot")), 1);
	assert_int_equal(json_object_array_length(member(j, "applied")), 0);
	assert_int_equal(json_object_array_length(member(j, "loaded")), 0);
	assert_int_equal(json_object_array_length(member(j, "history")), 0);
	assert_int_equal(json_object_array_length(member(j, "actions")), 0);
	assert_null(member(j, "pending"));
	assert_int_equal(json_object_get_int(member(j, "version")), 1);
	assert_false(json_object_get_boolean(member(j, "xen_syms")));
	assert_int_equal(json_object_object_length(j), 9);
	json_object_put(j);

	assert_int_equal(xhp_sim_build_id(g_sim, &id), 0);
	assert_true(xhp_build_id_eq(&id, &g_xen));
	assert_int_equal(xhp_sim_boot(g_sim, &boot), 0);
	assert_int_equal(boot, 1);

	assert_int_equal(xhp_sim_show(g_sim, false, &txt), 0);
	assert_non_null(strstr(txt, XEN_HEX));
	assert_non_null(strstr(txt, "(nothing)"));
	free(txt);
}

static void test_open_not_initialised(void **state)
{
	struct xhp_sim *s = NULL;
	struct xhp_err err = { { 0 } };
	char path[PATH_MAX + 32];

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist", g_work);
	assert_int_equal(xhp_sim_open(path, &s, &err), -ENODEV);
	assert_null(s);
	assert_non_null(strstr(err.msg, path));

	snprintf(path, sizeof(path), "%s/empty-dir", g_work);
	assert_int_equal(mkdir(path, 0755), 0);
	err.msg[0] = '\0';
	assert_int_equal(xhp_sim_open(path, &s, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "init"));
	assert_int_equal(xhp_sim_reboot(path, NULL, NULL, &err), -ENODEV);
}

static void test_reboot_forgets_everything(void **state)
{
	struct xhp_err err = { { 0 } };
	char pdir[PATH_MAX + 16];
	struct dirent *de;
	json_object *j;
	unsigned long boot;
	struct xhp_build_id id;
	DIR *d;
	int files = 0;

	(void)state;
	upload_ok("zz-base");
	upload_ok("mm-middle");
	apply_ok("zz-base");
	assert_int_equal(act("mm-middle", XHP_ACTION_APPLY), 0); /* left pending */

	assert_int_equal(xhp_sim_reboot(g_dir, NULL, NULL, &err), 0);
	j = show();
	assert_int_equal(json_object_get_int(member(j, "boot")), 2);
	assert_string_equal(json_object_get_string(member(j, "build_id")), XEN_HEX);
	assert_int_equal(json_object_array_length(member(j, "loaded")), 0);
	assert_int_equal(json_object_array_length(member(j, "applied")), 0);
	assert_int_equal(json_object_array_length(member(j, "history")), 0);
	assert_int_equal(json_object_array_length(member(j, "actions")), 0);
	assert_null(member(j, "pending"));
	json_object_put(j);
	snprintf(pdir, sizeof(pdir), "%s/payloads", g_dir);
	d = opendir(pdir);
	assert_non_null(d);
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 0);
	assert_int_equal(xhp_sim_get(g_sim, "zz-base", &(struct xhp_status){ 0, 0 }),
			 -ENOENT);

	/* the same payloads load again after the reboot */
	upload_ok("zz-base");
	apply_ok("zz-base");

	/* a new hypervisor build: old payloads no longer fit (§1.8 step 9) */
	assert_int_equal(xhp_sim_reboot(g_dir, &g_other, NULL, &err), 0);
	assert_int_equal(xhp_sim_boot(g_sim, &boot), 0);
	assert_int_equal(boot, 3);
	assert_int_equal(xhp_sim_build_id(g_sim, &id), 0);
	assert_true(xhp_build_id_eq(&id, &g_other));
	assert_int_equal(up("zz-base"), -EINVAL);
	assert_int_equal(up("for-other-xen"), 0);
}

static void test_corrupt_state(void **state)
{
	char path[PATH_MAX + 16];
	struct xhp_err err = { { 0 } };
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/state.json", g_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"format\": 1, \"build_id\": 7}\n", f);
	fclose(f);
	assert_int_equal(xhp_sim_get(g_sim, "x", &(struct xhp_status){ 0, 0 }), -EBADMSG);
	assert_non_null(strstr(xhp_sim_last_error(g_sim), "state.json"));
	/* init repairs it */
	assert_int_equal(xhp_sim_init(g_dir, &g_xen, NULL, &err), 0);
	upload_ok("zz-base");
}

/* ---- UPLOAD (§1.8) ------------------------------------------------------------ */

static void test_upload_and_list(void **state)
{
	struct xhp_loaded *l;
	size_t n;

	(void)state;
	upload_ok("zz-base");
	upload_ok("cum-v2");
	upload_ok("indep");
	assert_status("zz-base", XHP_STATE_CHECKED, 0);

	assert_int_equal(xhp_sim_list(g_sim, &l, &n), 0);
	assert_int_equal(n, 3);
	/* upload order, raw .modinfo as metadata */
	assert_string_equal(l[0].name, "zz-base");
	assert_string_equal(l[1].name, "cum-v2");
	assert_string_equal(l[2].name, "indep");
	assert_int_equal(l[0].st.state, XHP_STATE_CHECKED);
	assert_int_equal(l[0].st.rc, 0);
	assert_non_null(l[0].metadata);
	assert_non_null(memmem(l[0].metadata, l[0].metadata_len, "version=1", 10));
	assert_int_equal(l[0].metadata[l[0].metadata_len - 1], '\0');
	assert_non_null(memmem(l[1].metadata, l[1].metadata_len, "version=2", 10));
	xhp_loaded_free(l, n);
}

static void test_upload_name_and_size_rules(void **state)
{
	char name[200];
	size_t len;
	uint8_t *buf = fixture("zz-base", &len), *big;

	(void)state;
	memset(name, 'n', sizeof(name));
	name[128] = '\0'; /* 128 characters: 129 bytes with the NUL */
	assert_int_equal(xhp_sim_upload(g_sim, name, buf, len), -EINVAL);
	name[127] = '\0'; /* 127: the longest Xen accepts */
	assert_int_equal(xhp_sim_upload(g_sim, name, buf, len), 0);
	assert_int_equal(act(name, XHP_ACTION_UNLOAD), 0);
	name[127] = 'n';
	assert_int_equal(xhp_sim_get(g_sim, name, &(struct xhp_status){ 0, 0 }), -EINVAL);

	/* size 1 (just the NUL) passes Xen's get_name(): "" is a valid name */
	assert_int_equal(xhp_sim_upload(g_sim, "", buf, len), 0);
	assert_status("", XHP_STATE_CHECKED, 0);
	assert_int_equal(act("", XHP_ACTION_UNLOAD), 0);

	assert_int_equal(xhp_sim_upload(g_sim, "zero", buf, 0), -EINVAL);
	assert_int_equal(xhp_sim_upload(g_sim, "null", NULL, len), -EFAULT);
	big = calloc(1, XHP_PAYLOAD_MAX_SIZE + 1);
	assert_non_null(big);
	memcpy(big, buf, len);
	assert_int_equal(xhp_sim_upload(g_sim, "big", big, XHP_PAYLOAD_MAX_SIZE + 1),
			 -EINVAL);
	free(big);

	/* an existing name is refused before the bytes are even looked at */
	assert_int_equal(xhp_sim_upload(g_sim, "zz-base", buf, len), 0);
	assert_int_equal(xhp_sim_upload(g_sim, "zz-base", "junk", 4), -EEXIST);
	free(buf);
}

static void test_upload_duplicate_build_id(void **state)
{
	(void)state;
	upload_ok("zz-base");
	/* same bytes, other name: own build-id already loaded (§1.8 step 8) */
	assert_int_equal(up_as("zz-base", "copy"), -EEXIST);
	assert_non_null(strstr(xhp_sim_last_error(g_sim), "zz-base"));
	apply_ok("zz-base");
	assert_int_equal(up_as("zz-base", "copy"), -EEXIST);
	/* any state: a reverted (CHECKED) payload still blocks it */
	assert_int_equal(act("zz-base", XHP_ACTION_REVERT), 0);
	assert_int_equal(settle("zz-base").state, XHP_STATE_CHECKED);
	assert_int_equal(up_as("zz-base", "copy"), -EEXIST);
	assert_int_equal(act("zz-base", XHP_ACTION_UNLOAD), 0);
	assert_int_equal(up_as("zz-base", "copy"), 0);
}

static void test_upload_wrong_hypervisor(void **state)
{
	(void)state;
	assert_int_equal(up("for-other-xen"), -EINVAL);
	assert_non_null(strstr(xhp_sim_last_error(g_sim), "xen_depends"));
	assert_int_equal(xhp_sim_get(g_sim, "for-other-xen", &(struct xhp_status){ 0, 0 }),
			 -ENOENT);
}

static void test_upload_duplicate_new_symbol(void **state)
{
	(void)state;
	upload_ok("dup-sym-a");
	assert_int_equal(up("dup-sym-b"), -EEXIST);
	assert_non_null(strstr(xhp_sim_last_error(g_sim), "dup-sym-a"));
	assert_int_equal(act("dup-sym-a", XHP_ACTION_UNLOAD), 0);
	upload_ok("dup-sym-b");
}

static void test_upload_malformed(void **state)
{
	char dir[PATH_MAX + 8];
	struct dirent *de;
	DIR *d;
	int seen = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/bad", g_set);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[2 * PATH_MAX], name[256];
		struct xhp_payload pl;
		struct xhp_err err;
		size_t len;
		uint8_t *buf;
		int want, r;

		if (!strstr(de->d_name, ".livepatch"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(de->d_name) - 10),
			 de->d_name);
		buf = slurp(path, &len);
		if (len > XHP_PAYLOAD_MAX_SIZE) {
			want = -EINVAL; /* §1.8 step 1, before the ELF is read */
		} else {
			want = xhp_payload_parse(buf, len, &pl, &err);
			xhp_payload_free(&pl);
		}
		r = xhp_sim_upload(g_sim, name, buf, len);
		free(buf);
		if (r != want || r >= 0)
			fail_msg("bad/%s: upload %d, expected %d", name, r, want);
		if (strcmp(name, "note-wrong-type") == 0)
			assert_int_equal(r, -EINVAL);
		if (strcmp(name, "wrong-machine") == 0 || strcmp(name, "wx-section") == 0)
			assert_int_equal(r, -EOPNOTSUPP);
		seen++;
	}
	closedir(d);
	assert_true(seen >= 20);
	{
		json_object *j = show();

		assert_int_equal(json_object_array_length(member(j, "loaded")), 0);
		assert_int_equal(json_object_array_length(member(j, "actions")), seen);
		json_object_put(j);
	}
}

/* ---- GET / ACTION basics (§3.2) ------------------------------------------------ */

static void test_unknown_names_and_actions(void **state)
{
	(void)state;
	assert_int_equal(xhp_sim_get(g_sim, "nope", &(struct xhp_status){ 0, 0 }), -ENOENT);
	assert_int_equal(act("nope", XHP_ACTION_APPLY), -ENOENT);
	assert_int_equal(act("nope", 9), -ENOENT); /* the name is looked up first */
	upload_ok("zz-base");
	assert_int_equal(act("zz-base", 9), -EOPNOTSUPP);
	assert_int_equal(act("zz-base", 0), -EOPNOTSUPP);
	assert_status("zz-base", XHP_STATE_CHECKED, 0);
}

/* ---- dependency rules (§2) ----------------------------------------------------- */

static void test_apply_dependency_chain(void **state)
{
	(void)state;
	upload_ok("aa-top");
	upload_ok("mm-middle");
	upload_ok("zz-base");
	upload_ok("cum-v2");
	/* nothing applied: depends must be the hypervisor */
	assert_int_equal(act("mm-middle", XHP_ACTION_APPLY), -EINVAL);
	assert_status("mm-middle", XHP_STATE_CHECKED, 0); /* rc unchanged */
	apply_ok("zz-base");
	/* then the top of the applied stack, whatever the upload order */
	assert_int_equal(act("aa-top", XHP_ACTION_APPLY), -EINVAL);
	assert_int_equal(act("cum-v2", XHP_ACTION_APPLY), -EINVAL);
	apply_ok("mm-middle");
	apply_ok("aa-top");
	assert_string_equal(applied(), "zz-base,mm-middle,aa-top");
	assert_status("cum-v2", XHP_STATE_CHECKED, 0);
}

static void test_apply_nodeps(void **state)
{
	(void)state;
	upload_ok("zz-base");
	upload_ok("indep");
	upload_ok("mm-middle");
	/* NODEPS skips the inter-payload check, on an empty stack too */
	assert_int_equal(xhp_sim_action(g_sim, "mm-middle", XHP_ACTION_APPLY, 0,
					XHP_ACTION_APPLY_NODEPS), 0);
	assert_int_equal(settle("mm-middle").state, XHP_STATE_APPLIED);
	assert_int_equal(act("indep", XHP_ACTION_APPLY), -EINVAL);
	assert_int_equal(xhp_sim_action(g_sim, "indep", XHP_ACTION_APPLY, 0,
					XHP_ACTION_APPLY_NODEPS | 0x80), 0);
	assert_int_equal(settle("indep").state, XHP_STATE_APPLIED);
	assert_string_equal(applied(), "mm-middle,indep");
	/* the top is now indep: its build-id is what the next one must name */
	assert_int_equal(act("zz-base", XHP_ACTION_APPLY), -EINVAL);
}

static void test_revert_only_top(void **state)
{
	(void)state;
	upload_ok("zz-base");
	upload_ok("mm-middle");
	apply_ok("zz-base");
	apply_ok("mm-middle");
	assert_int_equal(act("zz-base", XHP_ACTION_REVERT), -EBUSY);
	assert_status("zz-base", XHP_STATE_APPLIED, 0);
	assert_string_equal(pending(), "none");
	assert_int_equal(act("mm-middle", XHP_ACTION_REVERT), 0);
	assert_int_equal(settle("mm-middle").state, XHP_STATE_CHECKED);
	assert_int_equal(act("zz-base", XHP_ACTION_REVERT), 0);
	assert_int_equal(settle("zz-base").state, XHP_STATE_CHECKED);
	assert_string_equal(applied(), "");
}

static void test_unload_only_checked(void **state)
{
	(void)state;
	upload_ok("zz-base");
	upload_ok("mm-middle");
	apply_ok("zz-base");
	assert_int_equal(act("zz-base", XHP_ACTION_UNLOAD), -EINVAL);
	assert_status("zz-base", XHP_STATE_APPLIED, 0);
	/* no dependency check on unload: mm-middle depends on zz-base */
	assert_int_equal(act("mm-middle", XHP_ACTION_UNLOAD), 0);
	assert_int_equal(xhp_sim_get(g_sim, "mm-middle", &(struct xhp_status){ 0, 0 }),
			 -ENOENT);
	assert_int_equal(act("mm-middle", XHP_ACTION_UNLOAD), -ENOENT);
	/* the name is free again */
	upload_ok("mm-middle");
}

static void test_silent_noops(void **state)
{
	(void)state;
	upload_ok("zz-base");
	upload_ok("cum-v2");
	/* REVERT of CHECKED: 0, nothing scheduled (§0.7) */
	assert_int_equal(act("zz-base", XHP_ACTION_REVERT), 0);
	assert_string_equal(pending(), "none");
	assert_status("zz-base", XHP_STATE_CHECKED, 0);
	apply_ok("zz-base");
	/* APPLY / REPLACE of APPLIED: 0, nothing scheduled */
	assert_int_equal(act("zz-base", XHP_ACTION_APPLY), 0);
	assert_string_equal(pending(), "none");
	assert_int_equal(act("zz-base", XHP_ACTION_REPLACE), 0);
	assert_string_equal(pending(), "none");
	assert_status("zz-base", XHP_STATE_APPLIED, 0);
	assert_string_equal(applied(), "zz-base");
}

static void test_reapply_after_revert(void **state)
{
	(void)state;
	upload_ok("unsafe");
	upload_ok("zz-base");
	apply_ok("unsafe");
	assert_int_equal(act("unsafe", XHP_ACTION_REVERT), 0);
	assert_int_equal(settle("unsafe").state, XHP_STATE_CHECKED);
	/* .data: APPLY "succeeds", nothing is scheduled, rc says -EINVAL */
	assert_int_equal(act("unsafe", XHP_ACTION_APPLY), 0);
	assert_string_equal(pending(), "none");
	assert_status("unsafe", XHP_STATE_CHECKED, -EINVAL);
	assert_string_equal(applied(), "");
	/* REPLACE does not look at it (§6) */
	assert_int_equal(act("unsafe", XHP_ACTION_REPLACE), 0);
	assert_status("unsafe", XHP_STATE_CHECKED, -EAGAIN);
	assert_int_equal(settle("unsafe").state, XHP_STATE_APPLIED);
	assert_int_equal(act("unsafe", XHP_ACTION_REVERT), 0);
	settle("unsafe");
	/* a payload with no RW section but .livepatch.funcs reapplies fine */
	apply_ok("zz-base");
	assert_int_equal(act("zz-base", XHP_ACTION_REVERT), 0);
	assert_int_equal(settle("zz-base").state, XHP_STATE_CHECKED);
	apply_ok("zz-base");
}

/* ---- REPLACE (§6) ------------------------------------------------------------- */

static void test_replace(void **state)
{
	(void)state;
	upload_ok("zz-base");
	upload_ok("mm-middle");
	upload_ok("cum-v2");
	upload_ok("on-cum3");
	apply_ok("zz-base");
	apply_ok("mm-middle");
	assert_int_equal(act("cum-v2", XHP_ACTION_REPLACE), 0);
	assert_status("cum-v2", XHP_STATE_CHECKED, -EAGAIN);
	assert_int_equal(settle("cum-v2").state, XHP_STATE_APPLIED);
	assert_string_equal(applied(), "cum-v2");
	/* the replaced ones stay loaded, CHECKED, rc 0, reverted */
	assert_status("zz-base", XHP_STATE_CHECKED, 0);
	assert_status("mm-middle", XHP_STATE_CHECKED, 0);
	/* one atomic switch: the stack was never empty */
	assert_string_equal(history(), "[] [zz-base] [zz-base] [zz-base,mm-middle] "
			    "[zz-base,mm-middle] [cum-v2]");
	/* APPLY on top of it must name cum-v2's build-id now */
	assert_int_equal(act("zz-base", XHP_ACTION_APPLY), -EINVAL);
	/* on-cum3 depends on cum-v3 (not loaded): refused, and REPLACE needs
	 * depends == hypervisor whatever the flags */
	assert_int_equal(act("on-cum3", XHP_ACTION_REPLACE), -EINVAL);
	assert_int_equal(xhp_sim_action(g_sim, "on-cum3", XHP_ACTION_REPLACE, 0,
					XHP_ACTION_APPLY_NODEPS), -EINVAL);
	assert_status("on-cum3", XHP_STATE_CHECKED, 0);
}

static void test_replace_depends_on_payload(void **state)
{
	(void)state;
	upload_ok("zz-base");
	upload_ok("mm-middle");
	apply_ok("zz-base");
	assert_int_equal(act("mm-middle", XHP_ACTION_REPLACE), -EINVAL);
	assert_status("mm-middle", XHP_STATE_CHECKED, 0);
	assert_string_equal(applied(), "zz-base");
}

static void test_replace_vetoing_hooks(void **state)
{
	(void)state;
	upload_ok("hooks-prepost");
	upload_ok("hooks-loadonly");
	upload_ok("cum-v2");
	/* on the replacement itself */
	assert_int_equal(act("hooks-prepost", XHP_ACTION_REPLACE), -EOPNOTSUPP);
	assert_status("hooks-prepost", XHP_STATE_CHECKED, 0);
	/* load/unload hooks do not veto */
	assert_int_equal(act("hooks-loadonly", XHP_ACTION_REPLACE), 0);
	assert_int_equal(settle("hooks-loadonly").state, XHP_STATE_APPLIED);
	/* on anything applied */
	assert_int_equal(xhp_sim_action(g_sim, "hooks-prepost", XHP_ACTION_APPLY, 0,
					XHP_ACTION_APPLY_NODEPS), 0);
	assert_int_equal(settle("hooks-prepost").state, XHP_STATE_APPLIED);
	assert_int_equal(act("cum-v2", XHP_ACTION_REPLACE), -EOPNOTSUPP);
	assert_string_equal(applied(), "hooks-loadonly,hooks-prepost");
	/* and without it, fine */
	assert_int_equal(act("hooks-prepost", XHP_ACTION_REVERT), 0);
	settle("hooks-prepost");
	assert_int_equal(act("cum-v2", XHP_ACTION_REPLACE), 0);
	assert_int_equal(settle("cum-v2").state, XHP_STATE_APPLIED);
	assert_string_equal(applied(), "cum-v2");
}

/* ---- expectations (§1.6) ------------------------------------------------------ */

static void test_expectations(void **state)
{
	(void)state;
	upload_ok("exp-range");
	upload_ok("exp-rsv");
	upload_ok("zz-base");
	/* checked at APPLY, not at upload; rc unchanged */
	assert_int_equal(act("exp-range", XHP_ACTION_APPLY), -ERANGE);
	assert_status("exp-range", XHP_STATE_CHECKED, 0);
	assert_int_equal(act("exp-rsv", XHP_ACTION_APPLY), -EINVAL);
	assert_status("exp-rsv", XHP_STATE_CHECKED, 0);
	assert_string_equal(pending(), "none");
	/* REPLACE checks them after reverting everything: left unpatched */
	apply_ok("zz-base");
	assert_int_equal(act("exp-range", XHP_ACTION_REPLACE), 0);
	assert_int_equal(settle("exp-range").rc, -ERANGE);
	assert_status("exp-range", XHP_STATE_CHECKED, -ERANGE);
	assert_status("zz-base", XHP_STATE_CHECKED, 0);
	assert_string_equal(applied(), "");
}

/* ---- asynchronous completion (§3.3) -------------------------------------------- */

/* Work completes when its time has come (XEN_HOTPATCH_SIM_WORK_MS after it
 * was scheduled), whoever looks: not after some number of observations. */
static void test_work_completes_on_time(void **state)
{
	struct xhp_loaded *l;
	struct xhp_err err;
	size_t n;
	char *out;

	(void)state;
	upload_ok("zz-base");
	/* a minute: every look before then sees the work pending */
	assert_int_equal(act("zz-base", XHP_ACTION_APPLY), 0);
	for (int i = 0; i < 5; i++)
		assert_status("zz-base", XHP_STATE_CHECKED, -EAGAIN);
	assert_int_equal(xhp_sim_list(g_sim, &l, &n), 0);
	assert_int_equal(l[0].st.rc, -EAGAIN);
	xhp_loaded_free(l, n);
	assert_int_equal(xhp_sim_show(g_sim, false, &out), 0);
	assert_non_null(strstr(out, "pending   apply zz-base (due in "));
	free(out);
	/* 59 s later still pending, one more second and it is done */
	assert_int_equal(xhp_sim_advance(g_dir, 59000, &err), 0);
	assert_status("zz-base", XHP_STATE_CHECKED, -EAGAIN);
	assert_int_equal(xhp_sim_advance(g_dir, 1000, &err), 0);
	assert_string_equal(pending(), "none");
	assert_status("zz-base", XHP_STATE_APPLIED, 0);

	/* duration 0: done at the next call, whichever */
	xhp_sim_set_work_ms(g_sim, 0);
	assert_int_equal(act("zz-base", XHP_ACTION_REVERT), 0);
	assert_string_equal(pending(), "none");
	assert_status("zz-base", XHP_STATE_CHECKED, 0);

	/* real time: 30 ms, from the scheduling process's environment; nobody
	 * looks meanwhile, and the next look finds it done */
	setenv(XHP_SIM_ENV_WORK_MS, "30", 1);
	{
		struct xhp_sim *s;

		assert_int_equal(xhp_sim_open(g_dir, &s, &err), 0);
		assert_int_equal(xhp_sim_action(s, "zz-base", XHP_ACTION_APPLY, 0, 0), 0);
		xhp_sim_close(s);
		setenv(XHP_SIM_ENV_WORK_MS, "x", 1);
		assert_int_equal(xhp_sim_open(g_dir, &s, &err), -EINVAL);
		assert_non_null(strstr(err.msg, XHP_SIM_ENV_WORK_MS));
	}
	unsetenv(XHP_SIM_ENV_WORK_MS);
	usleep(60 * 1000);
	assert_status("zz-base", XHP_STATE_APPLIED, 0);
	/* the completion is recorded with the action that scheduled it */
	assert_non_null(strstr(actions(), "apply:zz-base:0:0 revert:zz-base:0:0 apply:zz-base:0:0"));
}

static void test_one_work_slot(void **state)
{
	(void)state;
	upload_ok("zz-base");
	upload_ok("indep");
	upload_ok("cum-v2");
	upload_ok("mm-middle");
	assert_int_equal(act("zz-base", XHP_ACTION_APPLY), 0);
	/* this payload's work is pending */
	assert_int_equal(act("zz-base", XHP_ACTION_APPLY), -EBUSY);
	assert_int_equal(act("zz-base", XHP_ACTION_UNLOAD), -EBUSY);
	/* another payload: every check passes, then the slot is taken: -EBUSY
	 * and its rc stays -EAGAIN (§3.2 Quirk) */
	assert_int_equal(xhp_sim_action(g_sim, "indep", XHP_ACTION_APPLY, 0,
					XHP_ACTION_APPLY_NODEPS), -EBUSY);
	assert_status("indep", XHP_STATE_CHECKED, -EAGAIN);
	/* a failing check still wins over the busy slot, and leaves rc alone
	 * (mm-middle depends on zz-base, whose apply has not completed) */
	assert_int_equal(act("mm-middle", XHP_ACTION_APPLY), -EINVAL);
	assert_status("mm-middle", XHP_STATE_CHECKED, 0);
	/* UNLOAD schedules nothing: fine while other work is pending */
	assert_int_equal(act("cum-v2", XHP_ACTION_UNLOAD), 0);
	assert_string_equal(pending(), "apply:zz-base");
	assert_int_equal(settle("zz-base").state, XHP_STATE_APPLIED);
	/* the stale -EAGAIN outlives the work; re-issuing clears it */
	assert_status("indep", XHP_STATE_CHECKED, -EAGAIN);
	assert_int_equal(xhp_sim_action(g_sim, "indep", XHP_ACTION_APPLY, 0,
					XHP_ACTION_APPLY_NODEPS), 0);
	assert_int_equal(settle("indep").state, XHP_STATE_APPLIED);
	assert_status("indep", XHP_STATE_APPLIED, 0);
	assert_string_equal(applied(), "zz-base,indep");
}


/* ---- REPLACE's partial outcomes (§6) ------------------------------------------------ */

static void stack_of_three(void)
{
	upload_ok("zz-base");
	upload_ok("mm-middle");
	upload_ok("aa-top");
	upload_ok("cum-v2");
	apply_ok("zz-base");
	apply_ok("mm-middle");
	apply_ok("aa-top");
}

/* A revert fails halfway: the payloads above it are reverted, it and those
 * below stay applied, the replacement gets -EINVAL. */
static void test_replace_revert_fails_halfway(void **state)
{
	struct xhp_err err;

	(void)state;
	stack_of_three();
	assert_int_equal(xhp_sim_set_faults(g_sim, "revert:mm-middle:EPERM:async", &err), 0);
	assert_int_equal(act("cum-v2", XHP_ACTION_REPLACE), 0);
	assert_int_equal(settle("cum-v2").rc, -EINVAL);
	assert_status("cum-v2", XHP_STATE_CHECKED, -EINVAL);
	assert_status("aa-top", XHP_STATE_CHECKED, 0);
	assert_status("mm-middle", XHP_STATE_APPLIED, -EPERM);
	assert_status("zz-base", XHP_STATE_APPLIED, 0);
	assert_string_equal(applied(), "zz-base,mm-middle");
	assert_non_null(strstr(actions(), "replace:cum-v2:0:-22"));
	/* aa-top was reverted by the REPLACE: unsafe payloads would need a
	 * reload, this one applies again on top of mm-middle */
	apply_ok("aa-top");
	assert_string_equal(applied(), "zz-base,mm-middle,aa-top");
}

/* Everything reverted, then the apply fails: nothing is applied. */
static void test_replace_apply_fails(void **state)
{
	struct xhp_err err;

	(void)state;
	stack_of_three();
	assert_int_equal(xhp_sim_set_faults(g_sim, "apply:cum-v2:EBUSY:async", &err), 0);
	assert_int_equal(act("cum-v2", XHP_ACTION_REPLACE), 0);
	assert_int_equal(settle("cum-v2").rc, -EBUSY);
	assert_string_equal(applied(), "");
	assert_status("zz-base", XHP_STATE_CHECKED, 0);
	assert_status("mm-middle", XHP_STATE_CHECKED, 0);
	assert_status("aa-top", XHP_STATE_CHECKED, 0);
	assert_status("cum-v2", XHP_STATE_CHECKED, -EBUSY);
	assert_non_null(strstr(history(), "[zz-base,mm-middle,aa-top] []"));
}

/* Everything reverted, then the expectations fail ("SYSTEM MIGHT BE
 * INSECURE"): nothing is applied. At APPLY the same injection refuses. */
static void test_replace_expectations_fail(void **state)
{
	struct xhp_err err;

	(void)state;
	stack_of_three();
	assert_int_equal(xhp_sim_set_faults(g_sim, "expect:cum-v2:ERANGE", &err), 0);
	assert_int_equal(act("cum-v2", XHP_ACTION_REPLACE), 0);
	assert_int_equal(settle("cum-v2").rc, -ERANGE);
	assert_string_equal(applied(), "");
	assert_status("zz-base", XHP_STATE_CHECKED, 0);
	assert_int_equal(act("cum-v2", XHP_ACTION_APPLY), -ERANGE);
	assert_status("cum-v2", XHP_STATE_CHECKED, -ERANGE);
	assert_string_equal(pending(), "none");
}

/* The injection travels with the work: another process completes it. */
static void test_replace_outcome_fixed_when_scheduled(void **state)
{
	struct xhp_sim *other;
	struct xhp_err err;

	(void)state;
	stack_of_three();
	assert_int_equal(xhp_sim_set_faults(g_sim, "revert:zz-base:EIO:async", &err), 0);
	assert_int_equal(act("cum-v2", XHP_ACTION_REPLACE), 0);
	assert_int_equal(xhp_sim_open(g_dir, &other, &err), 0);
	assert_int_equal(xhp_sim_advance(g_dir, 0, &err), 0);
	{
		struct xhp_status st;

		assert_int_equal(xhp_sim_get(other, "zz-base", &st), 0);
		assert_int_equal(st.rc, -EIO);
	}
	xhp_sim_close(other);
	assert_string_equal(applied(), "zz-base");
	assert_status("cum-v2", XHP_STATE_CHECKED, -EINVAL);
}

/* ---- hook vetoes (§5) ------------------------------------------------------------------ */

static void test_hook_vetoes(void **state)
{
	struct xhp_err err;

	(void)state;
	upload_ok("hooks-prepost");
	upload_ok("zz-base");
	/* as Xen's xen_prepost_hooks: the first pre-revert call fails */
	assert_int_equal(xhp_sim_set_faults(g_sim, "prerevert:*:EPERM:once,"
					    "preapply:zz-base:EINVAL", &err), 0);
	/* zz-base has no pre-apply hook: nothing to veto */
	apply_ok("zz-base");
	assert_int_equal(act("zz-base", XHP_ACTION_REVERT), 0);
	settle("zz-base");
	apply_ok("hooks-prepost");
	assert_int_equal(act("hooks-prepost", XHP_ACTION_REVERT), -EPERM);
	assert_non_null(strstr(xhp_sim_last_error(g_sim), "pre-revert hook failed"));
	assert_status("hooks-prepost", XHP_STATE_APPLIED, -EPERM);
	assert_string_equal(pending(), "none");
	/* the second call passes */
	assert_int_equal(act("hooks-prepost", XHP_ACTION_REVERT), 0);
	assert_int_equal(settle("hooks-prepost").state, XHP_STATE_CHECKED);
	/* a pre-apply hook that always fails, on a fresh load */
	assert_int_equal(act("hooks-prepost", XHP_ACTION_UNLOAD), 0);
	upload_ok("hooks-prepost");
	assert_int_equal(xhp_sim_set_faults(g_sim, "preapply:hooks-prepost:EINVAL", &err), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(act("hooks-prepost", XHP_ACTION_APPLY), -EINVAL);
		assert_status("hooks-prepost", XHP_STATE_CHECKED, -EINVAL);
	}
	assert_string_equal(applied(), "");
	assert_int_equal(xhp_sim_faults_parse("preapply:x:EPERM:async", &(struct xhp_sim_fault *){ NULL },
					      &(size_t){ 0 }, &err), -EINVAL);
	assert_int_equal(xhp_sim_faults_parse("apply:x:EPERM:once", &(struct xhp_sim_fault *){ NULL },
					      &(size_t){ 0 }, &err), -EINVAL);
}

/* ---- LIST paging (§3.4) ------------------------------------------------------------------ */

static int backend_list(const char *page, const char *churn, size_t *n)
{
	struct xhp_backend *be = NULL;
	struct xhp_err err = { { 0 } };
	struct xhp_loaded *l = NULL;
	char spec[PATH_MAX + 8];
	int r;

	setenv(XHP_SIM_ENV_LIST_PAGE, page, 1);
	setenv(XHP_SIM_ENV_LIST_CHURN, churn, 1);
	snprintf(spec, sizeof(spec), "sim:%s", g_dir);
	assert_int_equal(xhp_backend_open(spec, &be, &err), 0);
	unsetenv(XHP_SIM_ENV_LIST_PAGE);
	unsetenv(XHP_SIM_ENV_LIST_CHURN);
	r = be->ops->list(be, &l, n);
	if (r == 0) {
		assert_string_equal(l[0].name, "zz-base");
		assert_string_equal(l[*n - 1].name, "indep");
	}
	xhp_loaded_free(l, *n);
	xhp_backend_close(be);
	return r;
}

static void test_list_paging(void **state)
{
	static const char *const names[] = { "zz-base", "mm-middle", "aa-top", "cum-v2", "indep" };
	struct xhp_loaded *l;
	unsigned version, left;
	size_t n;

	(void)state;
	for (size_t i = 0; i < 5; i++)
		upload_ok(names[i]);
	/* one LIST call as Xen answers it */
	assert_int_equal(xhp_sim_list_page(g_sim, 0, 0, &l, &version, &left), 0);
	assert_int_equal(left, 5);
	assert_int_equal(version, 6);
	assert_int_equal(xhp_sim_list_page(g_sim, 1, 2, &l, &version, &left), 2);
	assert_string_equal(l[0].name, "mm-middle");
	assert_string_equal(l[1].name, "aa-top");
	assert_int_equal(left, 2);
	xhp_loaded_free(l, 2);
	assert_int_equal(xhp_sim_list_page(g_sim, 5, 1, &l, &version, &left), -EINVAL);
	assert_int_equal(xhp_sim_list_page(g_sim, 0, 1025, &l, &version, &left), -E2BIG);
	/* the backend pages as libxenctrl: a version change restarts it */
	assert_int_equal(backend_list("2", "0", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(backend_list("2", "4", &n), 0);
	assert_int_equal(n, 5);
	/* every pass sees a change: -EBUSY after the fifth (2 calls each) */
	assert_int_equal(backend_list("2", "100", &n), -EBUSY);
	/* one page: nothing to restart */
	assert_int_equal(backend_list("1024", "9", &n), 0);
	/* the other toolstack's upload+unload shows in the version */
	assert_int_equal(xhp_sim_list_page(g_sim, 0, 0, &l, &version, &left), 0);
	assert_int_equal(version, 6 + 2 * (4 + 5 * 2 + 1));
}


/* ---- Xen's symbol table and code (init --xen-syms) --------------------------------------- */

/* A small "xen-syms": an ET_EXEC at Xen's address with a build-id, global
 * functions, a static one in fake.c, ENDBR64 before one, a global datum. */
static void make_fake_xen(const char *elf, const char *map)
{
	char src[PATH_MAX];
	FILE *f;

	snprintf(src, sizeof(src), "%s/fake-xen.s", g_work);
	f = fopen(src, "w");
	assert_non_null(f);
	fputs("\t.file \"fake.c\"\n\t.text\n"
	      "\t.globl xen_extra_version\nxen_extra_version:\n"
	      "\t.byte 0x55,0x48,0x89,0xe5,0x90,0x90,0x90,0x90,0x90,0x90,0x90,0x90,0x5d,0xc3,0x90,0x90\n"
	      "\t.globl endbr_fn\nendbr_fn:\n"
	      "\t.byte 0xf3,0x0f,0x1e,0xfa,0x90,0x90,0x90,0x90,0x90,0x90,0x90,0x90,0xc3,0x90,0x90,0x90\n"
	      "local_fn:\n\t.fill 16,1,0x90\n"
	      "\t.data\n\t.globl xhp_clash_msg\nxhp_clash_msg:\n\t.long 0\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(run("as --64 -o '%s.o' '%s' && ld -m elf_x86_64 -e xen_extra_version "
			     "-Ttext=0xffff82d040200000 --build-id=sha1 -o '%s' '%s.o'",
			     src, src, elf, src), 0);
	f = fopen(map, "w");
	assert_non_null(f);
	fputs("0xffff82d040200000 T xen_extra_version\n"
	      "0xffff82d040200020 t fake.c#local_fn\n", f);
	assert_int_equal(fclose(f), 0);
}

/* Forge NAME for the fake Xen (id hex), extra forge options; upload it. */
static int forge_up(const char *id, const char *name, const char *opts)
{
	char path[PATH_MAX];
	size_t len;
	uint8_t *buf;
	int r;

	snprintf(path, sizeof(path), "%s/%s.livepatch", g_work, name);
	assert_int_equal(run("'%s/tests/fixtures/forge-payload.sh' -o '%s' --xen-id %s %s >/dev/null",
			     g_top, path, id, opts), 0);
	buf = slurp(path, &len);
	r = xhp_sim_upload(g_sim, name, buf, len);
	free(buf);
	return r;
}

static void test_xen_syms_elf(void **state)
{
	char elf[PATH_MAX], map[PATH_MAX], hex[XHP_BUILD_ID_HEX_SIZE], dep[PATH_MAX + 128];
	struct xhp_build_id id;
	struct xhp_err err;
	json_object *j;

	(void)state;
	snprintf(elf, sizeof(elf), "%s/fake-xen-syms", g_work);
	snprintf(map, sizeof(map), "%s/fake-xen.map", g_work);
	make_fake_xen(elf, map);
	/* the build-id comes from the ELF */
	assert_int_equal(xhp_sim_init(g_dir, NULL, elf, &err), 0);
	assert_int_equal(xhp_sim_build_id(g_sim, &id), 0);
	xhp_build_id_hex(&id, hex, sizeof(hex));
	j = show();
	assert_true(json_object_get_boolean(member(j, "xen_syms")));
	json_object_put(j);

	/* a function Xen has, a static one by file#name, one it lacks */
	assert_int_equal(forge_up(hex, "xs-ok", "--func xen_extra_version:16"), 0);
	assert_int_equal(forge_up(hex, "xs-static", "--func fake.c#local_fn:16"), 0);
	assert_int_equal(forge_up(hex, "xs-plain-static", "--func local_fn:16"), -ENOENT);
	assert_non_null(strstr(xhp_sim_last_error(g_sim), "cannot resolve local_fn"));
	assert_int_equal(forge_up(hex, "xs-none", "--func no_such_function:16"), -ENOENT);
	/* a new symbol Xen already has */
	assert_int_equal(forge_up(hex, "xs-clash", "--func xen_extra_version:16 --sym xhp_clash"), -EEXIST);
	assert_non_null(strstr(xhp_sim_last_error(g_sim), "new symbol xhp_clash_msg is already defined by the hypervisor"));
	/* ENDBR64 at the old function: the jump needs 9 bytes */
	assert_int_equal(forge_up(hex, "xs-endbr8", "--func endbr_fn:8"), -EINVAL);
	assert_int_equal(forge_up(hex, "xs-endbr9", "--func endbr_fn:9"), 0);

	/* expectations against Xen's code */
	assert_int_equal(forge_up(hex, "xs-exp-bad", "--func xen_extra_version:16 --expect 5548 --tag b"), 0);
	assert_int_equal(act("xs-exp-bad", XHP_ACTION_APPLY), 0);	/* 55 48: matches */
	settle("xs-exp-bad");
	assert_int_equal(act("xs-exp-bad", XHP_ACTION_REVERT), 0);
	settle("xs-exp-bad");
	assert_int_equal(forge_up(hex, "xs-exp-wrong", "--func xen_extra_version:16 --expect 9090"), 0);
	assert_int_equal(act("xs-exp-wrong", XHP_ACTION_APPLY), -EINVAL);
	/* patched by an applied payload: the live bytes are its jump */
	apply_ok("xs-ok");
	snprintf(dep, sizeof(dep), "--depends-file '%s/xs-ok.livepatch' --func xen_extra_version:16 "
		 "--expect 554889e5 --tag d", g_work);
	assert_int_equal(forge_up(hex, "xs-exp-above", dep), 0);
	assert_int_equal(act("xs-exp-above", XHP_ACTION_APPLY), -EINVAL);
	/* REPLACE checks them after reverting everything: the original code */
	assert_int_equal(forge_up(hex, "xs-cum", "--func xen_extra_version:16 --expect 554889e5 --tag c"), 0);
	assert_int_equal(act("xs-cum", XHP_ACTION_REPLACE), 0);
	assert_int_equal(settle("xs-cum").state, XHP_STATE_APPLIED);
	assert_int_equal(forge_up(hex, "xs-cum-bad", "--func xen_extra_version:16 --expect 90 --tag e"), 0);
	assert_int_equal(act("xs-cum-bad", XHP_ACTION_REPLACE), 0);
	assert_int_equal(settle("xs-cum-bad").rc, -EINVAL);
	assert_string_equal(applied(), "");

	/* a reboot of the same Xen keeps the table; another Xen drops it */
	assert_int_equal(xhp_sim_reboot(g_dir, NULL, NULL, &err), 0);
	assert_int_equal(forge_up(hex, "xs-none", "--func no_such_function:16"), -ENOENT);
	assert_int_equal(xhp_sim_reboot(g_dir, &g_xen, NULL, &err), 0);
	assert_int_equal(forge_up(XEN_HEX, "xs-none", "--func no_such_function:16 --tag x"), 0);
	j = show();
	assert_false(json_object_get_boolean(member(j, "xen_syms")));
	json_object_put(j);
}

static void test_xen_syms_map(void **state)
{
	char elf[PATH_MAX], map[PATH_MAX], bad[PATH_MAX];
	struct xhp_err err;
	FILE *f;

	(void)state;
	snprintf(elf, sizeof(elf), "%s/fake-xen-syms", g_work);
	snprintf(map, sizeof(map), "%s/fake-xen.map", g_work);
	make_fake_xen(elf, map);
	/* a map has no build-id */
	assert_int_equal(xhp_sim_init(g_dir, NULL, map, &err), -EINVAL);
	assert_int_equal(xhp_sim_init(g_dir, &g_xen, map, &err), 0);
	assert_int_equal(forge_up(XEN_HEX, "xm-ok", "--func fake.c#local_fn:16"), 0);
	assert_int_equal(forge_up(XEN_HEX, "xm-none", "--func endbr_fn:16"), -ENOENT);
	/* no code: expectations are taken to match */
	assert_int_equal(forge_up(XEN_HEX, "xm-exp", "--func xen_extra_version:16 --expect 9090"), 0);
	apply_ok("xm-exp");
	/* neither ELF nor map */
	snprintf(bad, sizeof(bad), "%s/not-syms", g_work);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("hello world\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(xhp_sim_init(g_dir, &g_xen, bad, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "neither an ELF xen-syms nor a symbol map"));
	assert_int_equal(xhp_sim_init(g_dir, &g_xen, "/nonexistent/xen-syms", &err), -ENOENT);
}

/* ---- history and actions --------------------------------------------------------- */

static void test_history_and_actions(void **state)
{
	(void)state;
	upload_ok("zz-base");
	upload_ok("mm-middle");
	apply_ok("zz-base");
	apply_ok("mm-middle");
	assert_int_equal(act("zz-base", XHP_ACTION_REVERT), -EBUSY);
	assert_int_equal(act("mm-middle", XHP_ACTION_REVERT), 0);
	settle("mm-middle");
	assert_int_equal(up("cum-v2"), 0);
	assert_int_equal(up("for-other-xen"), -EINVAL);
	assert_int_equal(act("cum-v2", XHP_ACTION_REPLACE), 0);
	settle("cum-v2");
	assert_int_equal(act("mm-middle", XHP_ACTION_UNLOAD), 0);

	assert_string_equal(history(),
		"[] [zz-base] "				/* apply zz-base, done */
		"[zz-base] [zz-base,mm-middle] "	/* apply mm-middle, done */
		"[zz-base,mm-middle] "			/* revert zz-base refused */
		"[zz-base,mm-middle] [zz-base] "	/* revert mm-middle, done */
		"[zz-base] [cum-v2] "			/* replace, done */
		"[cum-v2]");				/* unload */
	assert_string_equal(actions(),
		"upload:zz-base:0:0 upload:mm-middle:0:0 "
		"apply:zz-base:0:0 apply:mm-middle:0:0 revert:zz-base:-16:0 "
		"revert:mm-middle:0:0 upload:cum-v2:0:0 upload:for-other-xen:-22:-22 "
		"replace:cum-v2:0:0 unload:mm-middle:0:0");
}

/* ---- failure injection ------------------------------------------------------------ */

static void test_fault_spec_parse(void **state)
{
	static const char *const bad[] = {
		"apply:a", "frob:a:EBUSY", "apply:a:ENOPE", "apply:a:0",
		"upload:a:EBUSY:async", "unload:*:EIO:async", "apply:a:crash:async",
		"apply:a:EBUSY:later", "apply::EBUSY", "apply:a:EBUSY:async:x",
	};
	struct xhp_sim_fault *f;
	struct xhp_err err;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (xhp_sim_faults_parse(bad[i], &f, &n, &err) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err.msg, XHP_SIM_ENV_FAIL));
	}
	assert_int_equal(xhp_sim_faults_parse("apply:*:16,revert:b:EINVAL:async,,"
					      "upload:c:crash", &f, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(f[0].op, XHP_ACTION_APPLY);
	assert_string_equal(f[0].name, "*");
	assert_int_equal(f[0].err, EBUSY);
	assert_int_equal(f[0].kind, XHP_SIM_FAULT_SYNC);
	assert_int_equal(f[1].op, XHP_ACTION_REVERT);
	assert_int_equal(f[1].kind, XHP_SIM_FAULT_ASYNC);
	assert_int_equal(f[1].err, EINVAL);
	assert_int_equal(f[2].op, XHP_SIM_OP_UPLOAD);
	assert_int_equal(f[2].kind, XHP_SIM_FAULT_CRASH);
	free(f);

	/* a bad spec in the environment makes open fail, saying why */
	setenv(XHP_SIM_ENV_FAIL, "apply:a", 1);
	{
		struct xhp_sim *s = NULL;

		assert_int_equal(xhp_sim_open(g_dir, &s, &err), -EINVAL);
		assert_null(s);
	}
}

static void test_fault_sync(void **state)
{
	struct xhp_err err;

	(void)state;
	assert_int_equal(xhp_sim_set_faults(g_sim, "apply:zz-base:EBUSY,upload:cum-v2:12,"
					    "revert:*:EIO", &err), 0);
	upload_ok("zz-base");
	upload_ok("indep");
	assert_int_equal(up("cum-v2"), -ENOMEM);
	assert_int_equal(xhp_sim_get(g_sim, "cum-v2", &(struct xhp_status){ 0, 0 }),
			 -ENOENT);
	/* the sysctl fails, nothing changes */
	assert_int_equal(act("zz-base", XHP_ACTION_APPLY), -EBUSY);
	assert_status("zz-base", XHP_STATE_CHECKED, 0);
	assert_string_equal(pending(), "none");
	apply_ok("indep");
	assert_int_equal(act("indep", XHP_ACTION_REVERT), -EIO);
	assert_status("indep", XHP_STATE_APPLIED, 0);
	assert_non_null(strstr(actions(), "apply:zz-base:-16:0"));

	/* from the environment, at open */
	setenv(XHP_SIM_ENV_FAIL, "unload:indep:EPERM", 1);
	{
		struct xhp_sim *s;

		assert_int_equal(xhp_sim_open(g_dir, &s, &err), 0);
		assert_int_equal(xhp_sim_action(s, "zz-base", XHP_ACTION_UNLOAD, 0, 0), 0);
		assert_int_equal(xhp_sim_action(s, "indep", XHP_ACTION_UNLOAD, 0, 0), -EPERM);
		xhp_sim_close(s);
	}
}

static void test_fault_async(void **state)
{
	struct xhp_err err;

	(void)state;
	assert_int_equal(xhp_sim_set_faults(g_sim, "apply:zz-base:EBUSY:async,"
					    "replace:cum-v2:ENOMEM:async,"
					    "revert:indep:ETIMEDOUT:async", &err), 0);
	upload_ok("zz-base");
	upload_ok("cum-v2");
	upload_ok("indep");
	/* accepted, then the work fails: rc, no state change */
	assert_int_equal(act("zz-base", XHP_ACTION_APPLY), 0);
	assert_status("zz-base", XHP_STATE_CHECKED, -EAGAIN);
	assert_int_equal(settle("zz-base").rc, -EBUSY);
	assert_status("zz-base", XHP_STATE_CHECKED, -EBUSY);
	assert_string_equal(applied(), "");
	apply_ok("indep");
	assert_int_equal(act("cum-v2", XHP_ACTION_REPLACE), 0);
	assert_int_equal(settle("cum-v2").rc, -ENOMEM);
	assert_status("cum-v2", XHP_STATE_CHECKED, -ENOMEM);
	assert_status("indep", XHP_STATE_APPLIED, 0);
	assert_int_equal(act("indep", XHP_ACTION_REVERT), 0);
	assert_int_equal(settle("indep").rc, -ETIMEDOUT);
	assert_status("indep", XHP_STATE_APPLIED, -ETIMEDOUT);
	assert_string_equal(applied(), "indep");
	/* the final rc lands in the action record */
	assert_non_null(strstr(actions(), "apply:zz-base:0:-16"));
	assert_non_null(strstr(actions(), "replace:cum-v2:0:-12"));
}

/* Run fn in a child with XEN_HOTPATCH_SIM_FAIL=spec; return its wait status. */
static int in_child(const char *spec, const char *name, int op)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct xhp_sim *s;
		struct xhp_err err;
		size_t len;
		uint8_t *buf;

		setenv(XHP_SIM_ENV_FAIL, spec, 1);
		if (xhp_sim_open(g_dir, &s, &err) < 0)
			_exit(2);
		if (op == XHP_SIM_OP_UPLOAD) {
			buf = fixture(name, &len);
			xhp_sim_upload(s, name, buf, len);
		} else {
			xhp_sim_action(s, name, op, 0, 0);
		}
		_exit(3); /* not reached when the host crashes */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_fault_crash(void **state)
{
	struct xhp_backend *be = NULL;
	struct xhp_err err = { { 0 } };
	char spec[PATH_MAX + 8];
	json_object *j, *p, *l;
	char *txt;
	int st;

	(void)state;
	upload_ok("zz-base");
	upload_ok("mm-middle");
	apply_ok("zz-base");
	st = in_child("apply:mm-middle:crash", "mm-middle", XHP_ACTION_APPLY);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);

	/* the host is dead: the work stays pending, rc -EAGAIN */
	j = show();
	p = member(j, "pending");
	assert_non_null(p);
	assert_string_equal(json_object_get_string(member(p, "op")), "apply");
	assert_string_equal(json_object_get_string(member(p, "name")), "mm-middle");
	l = json_object_array_get_idx(member(j, "loaded"), 1);
	assert_int_equal(json_object_get_int(member(l, "rc")), -EAGAIN);
	json_object_put(j);
	assert_int_equal(xhp_sim_show(g_sim, false, &txt), 0);
	assert_non_null(strstr(txt, "CRASHED"));
	free(txt);
	assert_string_equal(pending(), "apply:mm-middle"); /* show never completes it */
	/* nothing answers until a reboot */
	assert_int_equal(xhp_sim_get(g_sim, "zz-base", &(struct xhp_status){ 0, 0 }),
			 -EHOSTDOWN);
	assert_non_null(strstr(xhp_sim_last_error(g_sim), "reboot"));
	snprintf(spec, sizeof(spec), "sim:%s", g_dir);
	assert_int_equal(xhp_backend_open(spec, &be, &err), -EHOSTDOWN);
	assert_null(be);

	assert_int_equal(xhp_sim_reboot(g_dir, NULL, NULL, &err), 0);
	assert_string_equal(pending(), "none");
	assert_string_equal(applied(), "");
	upload_ok("zz-base");
	apply_ok("zz-base");

	/* a crash during upload loads nothing */
	st = in_child("upload:*:crash", "cum-v2", XHP_SIM_OP_UPLOAD);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(xhp_sim_reboot(g_dir, NULL, NULL, &err), 0);
	assert_int_equal(xhp_sim_get(g_sim, "cum-v2", &(struct xhp_status){ 0, 0 }),
			 -ENOENT);
	/* a crash is only at the point of no return: a refused action is not */
	upload_ok("mm-middle");
	st = in_child("apply:mm-middle:crash", "mm-middle", XHP_ACTION_APPLY);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	assert_status("mm-middle", XHP_STATE_CHECKED, 0);
}

/* ---- the backend ops (what the tool uses) ----------------------------------------- */

static void test_backend_ops(void **state)
{
	struct xhp_backend *be = NULL;
	struct xhp_err err = { { 0 } };
	struct xhp_build_id id;
	struct xhp_status st;
	struct xhp_loaded *l;
	char spec[PATH_MAX + 8], boot[32];
	size_t n, len;
	uint8_t *buf;
	int rc;

	(void)state;
	snprintf(spec, sizeof(spec), "sim:%s", g_dir);
	assert_int_equal(xhp_backend_open(spec, &be, &err), 0);
	assert_string_equal(be->ops->name, "sim");
	assert_int_equal(be->ops->build_id(be, &id), 0);
	assert_true(xhp_build_id_eq(&id, &g_xen));
	assert_int_equal(be->ops->boot_id(be, boot, sizeof(boot)), 0);
	assert_string_equal(boot, "1");
	assert_int_equal(be->ops->boot_id(be, boot, 1), -ENOBUFS);

	buf = fixture("zz-base", &len);
	assert_int_equal(be->ops->upload(be, "zz-base", buf, len), 0);
	assert_int_equal(be->ops->upload(be, "zz-base", buf, len), -EEXIST);
	free(buf);
	buf = fixture("mm-middle", &len);
	assert_int_equal(be->ops->upload(be, "mm-middle", buf, len), 0);
	free(buf);
	assert_int_equal(be->ops->list(be, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[1].name, "mm-middle");
	xhp_loaded_free(l, n);

	/* the poller of backend.c against the simulated asynchrony */
	assert_int_equal(xhp_backend_act(be, "zz-base", XHP_ACTION_APPLY, 0, 0, 10000, &rc), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(xhp_backend_act(be, "mm-middle", XHP_ACTION_APPLY, 0, 0, 10000, &rc), 0);
	assert_int_equal(be->ops->get(be, "mm-middle", &st), 0);
	assert_int_equal(st.state, XHP_STATE_APPLIED);
	assert_int_equal(xhp_backend_act(be, "mm-middle", XHP_ACTION_REVERT, 0, 0, 10000, &rc), 0);
	assert_int_equal(xhp_backend_act(be, "mm-middle", XHP_ACTION_UNLOAD, 0, 0, 10000, &rc), 0);
	assert_int_equal(be->ops->get(be, "mm-middle", &st), -ENOENT);
	assert_int_equal(be->ops->action(be, "zz-base", XHP_ACTION_UNLOAD, 0, 0), -EINVAL);
	xhp_backend_close(be);

	/* no hypervisor there */
	snprintf(spec, sizeof(spec), "sim:%s/nothing-here", g_work);
	assert_int_equal(xhp_backend_open(spec, &be, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "nothing-here"));

	/* after a reboot the boot id changes */
	assert_int_equal(xhp_sim_reboot(g_dir, NULL, NULL, &err), 0);
	snprintf(spec, sizeof(spec), "sim:%s", g_dir);
	assert_int_equal(xhp_backend_open(spec, &be, &err), 0);
	assert_int_equal(be->ops->boot_id(be, boot, sizeof(boot)), 0);
	assert_string_equal(boot, "2");
	xhp_backend_close(be);
}

/* ---- concurrency ------------------------------------------------------------------- */

static const char *const race_names[] = {
	"zz-base", "mm-middle", "aa-top", "cum-v2", "cum-v3", "indep", "unsafe",
	"hooks-loadonly",
};
#define NRACE (sizeof(race_names) / sizeof(race_names[0]))

/* Two processes upload the same eight payloads under the same names (in
 * opposite orders) and apply/revert in parallel: under the lock, each name
 * is loaded exactly once and the state file stays whole. */
static void test_concurrent_processes(void **state)
{
	pid_t pid[2];
	int status[2], mask[2];
	struct xhp_loaded *l;
	size_t n;

	(void)state;
	fflush(NULL);
	for (int c = 0; c < 2; c++) {
		pid[c] = fork();
		assert_true(pid[c] >= 0);
		if (pid[c] == 0) {
			struct xhp_sim *s;
			struct xhp_err err;
			int m = 0;

			if (xhp_sim_open(g_dir, &s, &err) < 0)
				_exit(255);
			xhp_sim_set_work_ms(s, 0);
			for (size_t i = 0; i < NRACE; i++) {
				size_t k = c ? NRACE - 1 - i : i;

				if (up_as_on(s, race_names[k], race_names[k]) == 0)
					m |= 1 << k;
			}
			/* both toggle indep (NODEPS) many times */
			for (int i = 0; i < 20; i++) {
				struct xhp_status st;

				xhp_sim_action(s, "indep", i % 2 ? XHP_ACTION_REVERT :
					       XHP_ACTION_APPLY, 0, XHP_ACTION_APPLY_NODEPS);
				xhp_sim_get(s, "indep", &st);
			}
			xhp_sim_close(s);
			_exit(m);
		}
	}
	for (int c = 0; c < 2; c++) {
		assert_int_equal(waitpid(pid[c], &status[c], 0), pid[c]);
		assert_true(WIFEXITED(status[c]));
		mask[c] = WEXITSTATUS(status[c]);
	}
	assert_int_equal(mask[0] & mask[1], 0);
	assert_int_equal(mask[0] | mask[1], (1 << NRACE) - 1);
	assert_int_equal(xhp_sim_list(g_sim, &l, &n), 0);
	assert_int_equal(n, NRACE);
	for (size_t i = 0; i < NRACE; i++)
		for (size_t j = i + 1; j < NRACE; j++)
			assert_string_not_equal(l[i].name, l[j].name);
	xhp_loaded_free(l, n);
	/* every action of both processes is in the record */
	{
		json_object *j = show();

		assert_int_equal(json_object_array_length(member(j, "actions")),
				 2 * NRACE + 2 * 20);
		json_object_put(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_init_and_show),
		T(test_open_not_initialised),
		T(test_reboot_forgets_everything),
		T(test_corrupt_state),
		T(test_upload_and_list),
		T(test_upload_name_and_size_rules),
		T(test_upload_duplicate_build_id),
		T(test_upload_wrong_hypervisor),
		T(test_upload_duplicate_new_symbol),
		T(test_upload_malformed),
		T(test_unknown_names_and_actions),
		T(test_apply_dependency_chain),
		T(test_apply_nodeps),
		T(test_revert_only_top),
		T(test_unload_only_checked),
		T(test_silent_noops),
		T(test_reapply_after_revert),
		T(test_replace),
		T(test_replace_depends_on_payload),
		T(test_replace_vetoing_hooks),
		T(test_expectations),
		T(test_work_completes_on_time),
		T(test_one_work_slot),
		T(test_replace_revert_fails_halfway),
		T(test_replace_apply_fails),
		T(test_replace_expectations_fail),
		T(test_replace_outcome_fixed_when_scheduled),
		T(test_hook_vetoes),
		T(test_list_paging),
		T(test_xen_syms_elf),
		T(test_xen_syms_map),
		T(test_history_and_actions),
		T(test_fault_spec_parse),
		T(test_fault_sync),
		T(test_fault_async),
		T(test_fault_crash),
		T(test_backend_ops),
		T(test_concurrent_processes),
#undef T
	};

	return cmocka_run_group_tests_name("sim", tests, group_setup, group_teardown);
}
