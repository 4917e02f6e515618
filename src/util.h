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
char *xhp_strdup(const char *s);
char *xhp_strndup(const char *s, size_t n);
char *xhp_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "ROOT" + "/path" (ROOT NULL or "" or "/" means none). Malloc'd. */
char *xhp_path_join(const char *root, const char *path);

/* Read a whole (small) file. -errno. */
int xhp_read_file(const char *path, char **buf, size_t *len, size_t max);
/* Write atomically: PATH.tmp.PID, fsync, rename, fsync dir. -errno. */
int xhp_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);
/* mkdir -p with mode. -errno. */
int xhp_mkdir_p(const char *path, mode_t mode);

/* Bytes as lower-case hex (malloc'd), and back (*out malloc'd; -EINVAL). */
char *xhp_hex_encode(const uint8_t *b, size_t n);
int xhp_hex_decode(const char *hex, uint8_t **out, size_t *n);

/* strerror-style name of an errno: "EBUSY". */
const char *xhp_errno_name(int err);
/* Parse "EBUSY" or "16" into 16; -1 if unknown. */
int xhp_errno_parse(const char *s);

/* Monotonic milliseconds. */
unsigned long long xhp_now_ms(void);
void xhp_sleep_ms(unsigned ms);

/* Dynamic array of strings. */
struct xhp_strv {
	char **v;
	size_t n, cap;
};
void xhp_strv_add(struct xhp_strv *s, const char *str);
bool xhp_strv_has(const struct xhp_strv *s, const char *str);
void xhp_strv_free(struct xhp_strv *s);

#endif
