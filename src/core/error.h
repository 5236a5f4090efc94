/*
 * error.h -- private helpers for filling a caller's mono_error.
 *
 * Library code never prints: it records what went wrong in the caller's
 * mono_error (which may be NULL) and returns the status up the stack.
 *
 *     return mono_error_set(err, MONO_ERR_FORMAT, "%s: bad magic", path);
 */
#ifndef MONO_CORE_ERROR_H
#define MONO_CORE_ERROR_H

#include "monologue.h"

#if defined(__GNUC__)
#define MONO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MONO_PRINTF(a, b)
#endif

/* Fills err (if not NULL) and returns status, so it can end a return. */
mono_status mono_error_set(mono_error *err, mono_status status, const char *fmt, ...)
    MONO_PRINTF(3, 4);

/* Prefixes an existing message with context ("loading x: <old message>"). */
mono_status mono_error_prefix(mono_error *err, const char *fmt, ...) MONO_PRINTF(2, 3);

/* Overflow-checked size arithmetic: return 0 on overflow, 1 on success. */
int mono_size_mul(size_t a, size_t b, size_t *out);
int mono_size_add(size_t a, size_t b, size_t *out);

#endif
