/*
 * error.c -- status names and the mono_error helpers every layer uses.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mono_status_name(mono_status status) {
    switch (status) {
    case MONO_OK: return "ok";
    case MONO_ERR_INVALID_ARG: return "invalid argument";
    case MONO_ERR_IO: return "i/o error";
    case MONO_ERR_FORMAT: return "format error";
    case MONO_ERR_UNSUPPORTED: return "unsupported";
    case MONO_ERR_NOMEM: return "out of memory";
    case MONO_ERR_RANGE: return "out of range";
    case MONO_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

void mono_free(void *ptr) { free(ptr); }

mono_status mono_error_set(mono_error *err, mono_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

mono_status mono_error_prefix(mono_error *err, const char *fmt, ...) {
    if (!err) return MONO_ERR_INVALID_ARG;
    char prefix[256], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    old[sizeof old - 1] = '\0';
    /* the old message is cut to what fits after the prefix */
    int room = (int)sizeof err->message - (int)strlen(prefix) - 3;
    snprintf(err->message, sizeof err->message, "%s: %.*s", prefix, room > 0 ? room : 0, old);
    return err->status;
}

int mono_size_mul(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > (size_t)-1 / a) return 0;
    *out = a * b;
    return 1;
}

int mono_size_add(size_t a, size_t b, size_t *out) {
    if (b > (size_t)-1 - a) return 0;
    *out = a + b;
    return 1;
}
