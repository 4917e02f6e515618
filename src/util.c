/* SPDX-License-Identifier: GPL-2.0-only */
#include <ctype.h>
#include <dirent.h>
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

void *xhp_grow(void *p, size_t n, size_t sz)
{
	p = xhp_realloc(p, (n + 1) * sz);
	memset((char *)p + n * sz, 0, sz);
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

static const char *file_kind(mode_t m)
{
	static const struct {
		mode_t type;
		const char *what;
	} kinds[] = {
		{ S_IFDIR, "a directory" }, { S_IFIFO, "a FIFO" }, { S_IFCHR, "a character device" },
		{ S_IFBLK, "a block device" }, { S_IFSOCK, "a socket" }, { S_IFLNK, "a symbolic link" },
	};

	for (size_t i = 0; i < XHP_ARRAY_SIZE(kinds); i++)
		if ((m & S_IFMT) == kinds[i].type)
			return kinds[i].what;
	return "of an unknown type";
}

/* 0 when st is a regular file, else the error with its words. */
static int want_regular(const struct stat *st, struct xhp_err *err)
{
	if (S_ISREG(st->st_mode))
		return 0;
	xhp_err_set(err, "is %s, not a regular file", file_kind(st->st_mode));
	return S_ISDIR(st->st_mode) ? -EISDIR : S_ISLNK(st->st_mode) ? -ELOOP : -ENXIO;
}

int xhp_open_regular(const char *path, unsigned flags, struct stat *st, struct xhp_err *err)
{
	bool nofollow = flags & XHP_OPEN_NOFOLLOW, append = flags & XHP_OPEN_APPEND;
	int fd, r;

	/* look first, so that a FIFO or a device is not even opened */
	r = nofollow ? lstat(path, st) : stat(path, st);
	if (r < 0 && !(append && errno == ENOENT)) {
		r = -errno;
		xhp_err_set(err, "%s", strerror(-r));
		return r;
	}
	r = r < 0 ? 0 : want_regular(st, err);
	if (r < 0)
		return r;
	fd = open(path, (append ? O_WRONLY | O_APPEND | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOCTTY |
			O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0), 0644);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP && nofollow)
			xhp_err_set(err, "is a symbolic link, not a regular file");
		else
			xhp_err_set(err, "%s", strerror(-r));
		return r;
	}
	/* what counts is what was opened: the path may have changed since */
	if (fstat(fd, st) < 0) {
		r = -errno;
		xhp_err_set(err, "%s", strerror(-r));
		close(fd);
		return r;
	}
	r = want_regular(st, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

FILE *xhp_fopen_append(const char *path)
{
	struct stat st;
	int fd = xhp_open_regular(path, XHP_OPEN_APPEND, &st, NULL);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "a");
	if (!f)
		close(fd);
	return f;
}

int xhp_read_fd(int fd, size_t max, char **buf, size_t *len)
{
	size_t got = 0, cap = 4096;
	char *b = xhp_malloc(cap);

	for (;;) {
		ssize_t r;

		if (got == cap - 1) {
			if (got > max)
				break;
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

int xhp_read_file_err(const char *path, char **buf, size_t *len, size_t max, struct xhp_err *err)
{
	struct xhp_err e = { { 0 } };
	struct stat st;
	int fd, r;

	fd = xhp_open_regular(path, 0, &st, &e);
	if (fd < 0) {
		r = fd;
	} else {
		r = (size_t)st.st_size > max ? -EFBIG : xhp_read_fd(fd, max, buf, len);
		close(fd);
		if (r == -EFBIG)
			xhp_err_set(&e, "larger than %zu bytes", max);
		else if (r < 0)
			xhp_err_set(&e, "%s", strerror(-r));
	}
	if (r < 0 && err) {
		_cleanup_free_ char *ep = xhp_escape(path);

		xhp_err_set(err, "%s: %s", ep, e.msg);
	}
	return r;
}

int xhp_read_file(const char *path, char **buf, size_t *len, size_t max)
{
	return xhp_read_file_err(path, buf, len, max, NULL);
}

static int write_file_replace(const char *path, const void *buf, size_t len, mode_t mode, bool durable)
{
	_cleanup_free_ char *tmp = xhp_asprintf("%s.tmp.%ld", path, (long)getpid());
	_cleanup_free_ char *dir = xhp_strdup(path);
	const char *p = buf;
	int fd, r = 0;

	(void)unlink(tmp); /* a leftover of a killed run with this pid (or anything else): never opened */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
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
	if (!r && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	fd = durable ? open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

int xhp_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	return write_file_replace(path, buf, len, mode, true);
}

int xhp_write_file_replace(const char *path, const void *buf, size_t len, mode_t mode)
{
	return write_file_replace(path, buf, len, mode, false);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int xhp_dir_list(const char *dir, struct xhp_strv *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			xhp_strv_add(out, de->d_name);
	closedir(d);
	if (out->n > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
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

/* ---- escaping untrusted strings ------------------------------------------ */

/* The length of the valid UTF-8 sequence at s (at most len bytes) and its
 * code point, or 0 when s does not start one (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Code points printed as "\uXXXX": C1 controls (0x9b is a CSI), line and
 * paragraph separators, bidirectional embeddings, overrides and isolates. */
static bool cp_is_hidden(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* The character at s: returns its length in bytes and puts its escaped form
 * in esc (empty when it prints as it is). json: escape invalid bytes only. */
static size_t escape_one(const unsigned char *s, size_t len, bool json, char esc[16])
{
	static const char named[] = "abtnvfr"; /* \a..\r: 0x07..0x0d */
	uint32_t cp;
	size_t n = utf8_seq(s, len, &cp);

	esc[0] = '\0';
	if (n == 0)
		snprintf(esc, 16, "\\x%02x", s[0]);
	else if (json)
		;
	else if (cp == '\\')
		strcpy(esc, "\\\\");
	else if (cp >= 0x07 && cp <= 0x0d)
		snprintf(esc, 16, "\\%c", named[cp - 0x07]);
	else if (cp < 0x20 || cp == 0x7f)
		snprintf(esc, 16, "\\x%02x", (unsigned)cp);
	else if (cp_is_hidden(cp))
		snprintf(esc, 16, "\\u%04x", (unsigned)cp);
	return n ? n : 1;
}

/* Escape len bytes at s into out (outsz bytes, >= 4); when they do not fit,
 * cut at a whole character where "..." still fits, and end with it. */
static char *escape_into(char *out, size_t outsz, const char *s, size_t len, bool json)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, cut = 0;

	while (i < len) {
		char esc[16];
		size_t n = escape_one(u + i, len - i, json, esc);
		size_t w = esc[0] ? strlen(esc) : n;

		if (o + w >= outsz) {
			strcpy(out + cut, "...");
			return out;
		}
		memcpy(out + o, esc[0] ? esc : (const char *)u + i, w);
		o += w;
		i += n;
		if (o + 4 <= outsz)
			cut = o;
	}
	out[o] = '\0';
	return out;
}

/* The worst case is 4 output bytes for 1 input byte ("\x00"), plus "...". */
char *xhp_escape_n(const char *s, size_t len)
{
	size_t sz = 4 * len + 4;

	return escape_into(xhp_malloc(sz), sz, s, len, false);
}

char *xhp_escape(const char *s)
{
	return s ? xhp_escape_n(s, strlen(s)) : NULL;
}

char *xhp_escape_buf(char *out, size_t outsz, const char *s)
{
	return escape_into(out, outsz, s ? s : "", s ? strlen(s) : 0, false);
}

char *xhp_escape_json(const char *s)
{
	size_t len, sz;

	if (!s)
		return NULL;
	len = strlen(s);
	sz = 4 * len + 4;
	return escape_into(xhp_malloc(sz), sz, s, len, true);
}

/* ---- time ----------------------------------------------------------------- */

unsigned long long xhp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
}

unsigned long long xhp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
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

char *xhp_strv_join(const struct xhp_strv *s, const char *sep)
{
	size_t i, len = 1;
	char *out;

	for (i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + strlen(sep);
	out = xhp_calloc(len, 1);
	for (i = 0; i < s->n; i++) {
		if (i)
			strcat(out, sep);
		strcat(out, s->v[i]);
	}
	return out;
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
