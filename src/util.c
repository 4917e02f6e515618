/* SPDX-License-Identifier: GPL-2.0-only */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

void xhp_err_set(struct xhp_err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static void oom(void)
{
	fputs("xen-hotpatch: out of memory\n", stderr);
	abort();
}

void *xhp_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xhp_calloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		oom();
	return p;
}

void *xhp_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xhp_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		oom();
	return d;
}

char *xhp_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return s;
}

char *xhp_path_join(const char *root, const char *path)
{
	if (!root || !*root || (root[0] == '/' && !root[1]))
		return xhp_strdup(path);
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	while (*path == '/')
		path++;
	return xhp_asprintf("%.*s/%s", (int)rl, root, path);
}

/* ---- build-ids and names ------------------------------------------------ */

static const char hex_digits[] = "0123456789abcdef";

char *xhp_build_id_hex(const struct xhp_build_id *id, char *hex, size_t hexsz)
{
	size_t i;

	if (hexsz == 0)
		return hex;
	for (i = 0; i < id->len && 2 * i + 2 < hexsz; i++) {
		hex[2 * i] = hex_digits[id->b[i] >> 4];
		hex[2 * i + 1] = hex_digits[id->b[i] & 15];
	}
	hex[2 * i] = '\0';
	return hex;
}

char *xhp_hex_encode(const uint8_t *b, size_t n)
{
	char *h = xhp_malloc(2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++) {
		h[2 * i] = hex_digits[b[i] >> 4];
		h[2 * i + 1] = hex_digits[b[i] & 15];
	}
	h[2 * n] = '\0';
	return h;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int xhp_build_id_from_hex(struct xhp_build_id *id, const char *hex)
{
	size_t n = strlen(hex), i;

	if (n == 0 || n % 2 || n / 2 > XHP_BUILD_ID_MAX)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)hex[2 * i]);
		int lo = hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		id->b[i] = (uint8_t)(hi << 4 | lo);
	}
	id->len = (uint8_t)(n / 2);
	return 0;
}

int xhp_hex_decode(const char *hex, uint8_t **out, size_t *n)
{
	size_t len = strlen(hex), i;
	uint8_t *b;

	if (len % 2)
		return -EINVAL;
	b = xhp_malloc(len / 2 + 1);
	for (i = 0; i < len / 2; i++) {
		int hi = hexval((unsigned char)hex[2 * i]);
		int lo = hexval((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -EINVAL;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*n = len / 2;
	return 0;
}

bool xhp_build_id_eq(const struct xhp_build_id *a, const struct xhp_build_id *b)
{
	return a->len == b->len && a->len && memcmp(a->b, b->b, a->len) == 0;
}

int xhp_name_check(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0)
		return -EINVAL;
	if (n > XHP_NAME_MAX)
		return -ENAMETOOLONG;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return -EINVAL;
	}
	return 0;
}

/* ---- files ---------------------------------------------------------------- */

int xhp_read_file(const char *path, char **buf, size_t *len, size_t max)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t got = 0, cap;
	char *b;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((size_t)st.st_size > max)
		return -EFBIG;
	/* Read to EOF, not to st_size: /proc and /sys files report size 0. */
	cap = (size_t)st.st_size + 1 > 4096 ? (size_t)st.st_size + 1 : 4096;
	b = xhp_malloc(cap);
	for (;;) {
		ssize_t r;

		if (got + 1 >= cap) {
			if (cap > max) {
				free(b);
				return -EFBIG;
			}
			cap *= 2;
			b = xhp_realloc(b, cap);
		}
		r = read(fd, b + got, cap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;

			free(b);
			return e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > max) {
		free(b);
		return -EFBIG;
	}
	b[got] = '\0';
	*buf = b;
	if (len)
		*len = got;
	return 0;
}

int xhp_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = xhp_asprintf("%s.tmp.%ld", path, (long)getpid());
	_cleanup_free_ char *dir = xhp_strdup(path);
	const char *p = buf;
	int fd, r = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

int xhp_mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xhp_strdup(path);
	char *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* ---- errno names ---------------------------------------------------------- */

static const struct {
	int no;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EIO, "EIO" },
	{ E2BIG, "E2BIG" }, { ENOEXEC, "ENOEXEC" }, { EAGAIN, "EAGAIN" },
	{ ENOMEM, "ENOMEM" }, { EACCES, "EACCES" }, { EFAULT, "EFAULT" },
	{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
	{ EINVAL, "EINVAL" }, { EFBIG, "EFBIG" }, { ENOSPC, "ENOSPC" },
	{ EROFS, "EROFS" }, { ERANGE, "ERANGE" }, { ENAMETOOLONG, "ENAMETOOLONG" },
	{ ENOSYS, "ENOSYS" }, { ENODATA, "ENODATA" }, { ETIME, "ETIME" },
	{ EPROTO, "EPROTO" }, { EOVERFLOW, "EOVERFLOW" }, { ELOOP, "ELOOP" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { ETIMEDOUT, "ETIMEDOUT" },
	{ ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { ENOBUFS, "ENOBUFS" },
	{ ECANCELED, "ECANCELED" }, { ESRCH, "ESRCH" }, { EINTR, "EINTR" },
};

const char *xhp_errno_name(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < XHP_ARRAY_SIZE(errnames); i++)
		if (errnames[i].no == err)
			return errnames[i].name;
	return "E?";
}

int xhp_errno_parse(const char *s)
{
	size_t i;
	char *end;
	long v;

	for (i = 0; i < XHP_ARRAY_SIZE(errnames); i++)
		if (!strcmp(errnames[i].name, s))
			return errnames[i].no;
	if (!strcmp(s, "ENOTSUP"))
		return EOPNOTSUPP;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 4095)
		return -1;
	return (int)v;
}

/* ---- time ----------------------------------------------------------------- */

unsigned long long xhp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
}

void xhp_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- string vectors ------------------------------------------------------- */

void xhp_strv_add(struct xhp_strv *s, const char *str)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->v = xhp_realloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = xhp_strdup(str);
}

bool xhp_strv_has(const struct xhp_strv *s, const char *str)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return true;
	return false;
}

void xhp_strv_free(struct xhp_strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

char *xhp_strndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		oom();
	return d;
}
