/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by the library: files, strings, cleanup. */
#ifndef XHP_UTIL_H
#define XHP_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "xhp.h"

/* Cleanup attributes: one exit path instead of a ladder of labels. */
static inline void xhp_freep(void *p) { free(*(void **)p); }
static inline void xhp_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void xhp_fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_free_ __attribute__((cleanup(xhp_freep)))
#define _cleanup_close_ __attribute__((cleanup(xhp_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(xhp_fclosep)))

#define XHP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* malloc family that aborts on OOM: tool-sized allocations only. */
void *xhp_malloc(size_t n);
void *xhp_calloc(size_t n, size_t sz);
void *xhp_realloc(void *p, size_t n);
/* Array p of n elements of sz bytes grown by one zeroed element (p[n]). */
void *xhp_grow(void *p, size_t n, size_t sz);
char *xhp_strdup(const char *s);
char *xhp_strndup(const char *s, size_t n);
char *xhp_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "ROOT" + "/path" (ROOT NULL or "" or "/" means none). Malloc'd. */
char *xhp_path_join(const char *root, const char *path);

/*
 * Every file the tool reads is opened here, so that none can hang it or make
 * it read what it should not: a FIFO, a device or a socket is refused before
 * it is opened, and the open itself is O_NONBLOCK and O_NOCTTY (a FIFO swapped
 * in between the check and the open does not block either). The opened
 * descriptor is what is checked (fstat), never the path again: anything but a
 * regular file is refused, -EISDIR for a directory and -ENXIO for the rest.
 * With XHP_OPEN_NOFOLLOW a symbolic link as the last component is refused
 * (-ELOOP). With XHP_OPEN_APPEND the file is opened for appending (a log),
 * and created (0644) when missing. st receives the descriptor's stat; err
 * (may be NULL) gets the reason in words ("is a FIFO, not a regular file").
 * Returns the descriptor (O_CLOEXEC) or -errno.
 */
#define XHP_OPEN_NOFOLLOW 1u
#define XHP_OPEN_APPEND 2u
struct stat;
int xhp_open_regular(const char *path, unsigned flags, struct stat *st, struct xhp_err *err);
/* A log opened with XHP_OPEN_APPEND as a stdio stream, or NULL (errno). */
FILE *xhp_fopen_append(const char *path);
/* Read fd to its end (not to st_size: /proc files report 0). -EFBIG when it
 * holds more than max bytes. *buf is NUL-terminated; *len excludes the NUL. */
int xhp_read_fd(int fd, size_t max, char **buf, size_t *len);
/* xhp_open_regular(path, 0) and xhp_read_fd: a whole (small) file. -errno. */
int xhp_read_file(const char *path, char **buf, size_t *len, size_t max);
/* xhp_read_file with the reason in err: "PATH: is a FIFO, not a regular file". */
int xhp_read_file_err(const char *path, char **buf, size_t *len, size_t max, struct xhp_err *err);
/* Write atomically: PATH.tmp.PID, fsync, rename, fsync dir. -errno. */
int xhp_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);
/* The same without the fsyncs: readers see the old or the new content, but
 * a crash may keep the old one (for what is lost at reboot anyway, or where
 * losing the write is the safe side). */
int xhp_write_file_replace(const char *path, const void *buf, size_t len, mode_t mode);
/* The names in a folder but "." and "..", sorted (strcmp): out is added to.
 * -errno from opendir. */
struct xhp_strv;
int xhp_dir_list(const char *dir, struct xhp_strv *out);
/* mkdir -p with mode. -errno. */
int xhp_mkdir_p(const char *path, mode_t mode);

/* Bytes as lower-case hex (malloc'd), and back (*out malloc'd; -EINVAL). */
char *xhp_hex_encode(const uint8_t *b, size_t n);
int xhp_hex_decode(const char *hex, uint8_t **out, size_t *n);

/* strerror-style name of an errno: "EBUSY". */
const char *xhp_errno_name(int err);
/* Parse "EBUSY" or "16" into 16; -1 if unknown. */
int xhp_errno_parse(const char *s);

/*
 * Untrusted strings (payload, function and symbol names, .modinfo keys and
 * values, file names) made safe to print: one line, nothing the terminal
 * interprets. Printable ASCII and valid UTF-8 pass unchanged; a backslash
 * becomes "\\"; \t \n \r and the other C0 controls and DEL become "\t",
 * "\n", "\r", "\x1b"...; bytes that are not valid UTF-8 (stray continuation
 * bytes, overlong forms, surrogates, beyond U+10FFFF, cut sequences) become
 * "\xNN"; the C1 controls U+0080..U+009F, the line and paragraph separators
 * U+2028/U+2029 and the bidirectional overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069) become "\u202e". The result is unambiguous: it can be
 * decoded back to the original bytes.
 *
 * xhp_escape: a malloc'd copy (NULL stays NULL). xhp_escape_n: the same for
 * len bytes that may hold NULs ("\x00"). xhp_escape_buf: into out (outsz >= 4),
 * cut at a whole escape and ended with "..." when it does not fit; returns out.
 * xhp_escape_json: for a JSON string value (json-c escapes the controls
 * itself, but passes bytes through and so would write invalid JSON): valid
 * UTF-8 is kept as it is, and each byte that is not valid UTF-8 becomes the
 * four characters "\xNN". NULL stays NULL.
 */
char *xhp_escape(const char *s);
char *xhp_escape_n(const char *s, size_t len);
char *xhp_escape_buf(char *out, size_t outsz, const char *s);
char *xhp_escape_json(const char *s);

/* Monotonic milliseconds. */
unsigned long long xhp_now_ms(void);
unsigned long long xhp_now_us(void);
void xhp_sleep_ms(unsigned ms);

/* Dynamic array of strings. */
struct xhp_strv {
	char **v;
	size_t n, cap;
};
void xhp_strv_add(struct xhp_strv *s, const char *str);
bool xhp_strv_has(const struct xhp_strv *s, const char *str);
/* The strings joined with sep, malloc'd ("" for none). */
char *xhp_strv_join(const struct xhp_strv *s, const char *sep);
void xhp_strv_free(struct xhp_strv *s);

#endif
