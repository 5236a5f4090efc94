/*
 * stop.c -- the stop-string matcher (see generate.h): decoded text in,
 * text before the first stop string out, held back only while the tail
 * could still grow into a stop string.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "runtime/generate.h"

mono_status mono_stop_matcher_init(mono_stop_matcher *m, const char *const *stops, int n, mono_error *err) {
    memset(m, 0, sizeof *m);
    if (n < 0 || (n > 0 && !stops))
        return mono_error_set(err, MONO_ERR_INVALID_ARG, "stop strings: bad list (%d strings)", n);
    if (n == 0) return MONO_OK;
    m->stops = calloc((size_t)n, sizeof *m->stops);
    m->lens = calloc((size_t)n, sizeof *m->lens);
    if (!m->stops || !m->lens) {
        mono_stop_matcher_free(m);
        return mono_error_set(err, MONO_ERR_NOMEM, "stop strings: out of memory");
    }
    m->n = n;
    for (int i = 0; i < n; i++) {
        const char *s = stops[i];
        size_t len = s ? strlen(s) : 0;
        if (len == 0) {
            mono_stop_matcher_free(m);
            return mono_error_set(err, MONO_ERR_INVALID_ARG, "stop string %d is empty", i);
        }
        size_t ok = mono_utf8_valid_prefix(s, len);
        if (ok != len) {
            mono_stop_matcher_free(m);
            return mono_error_set(err, MONO_ERR_INVALID_ARG, "stop string %d is not valid UTF-8 (byte %zu)", i, ok);
        }
        m->stops[i] = malloc(len + 1);
        if (!m->stops[i]) {
            mono_stop_matcher_free(m);
            return mono_error_set(err, MONO_ERR_NOMEM, "stop strings: out of memory");
        }
        memcpy(m->stops[i], s, len + 1);
        m->lens[i] = len;
    }
    return MONO_OK;
}

void mono_stop_matcher_free(mono_stop_matcher *m) {
    if (!m) return;
    for (int i = 0; m->stops && i < m->n; i++) free(m->stops[i]);
    free(m->stops);
    free(m->lens);
    mono_strbuf_free(&m->held);
    memset(m, 0, sizeof *m);
}

void mono_stop_matcher_reset(mono_stop_matcher *m) {
    m->held.len = 0;
    if (m->held.data) m->held.data[0] = '\0';
    m->stopped = 0;
}

static int emit_text(mono_text_fn emit, void *user, const char *text, size_t len) {
    if (len == 0 || !emit) return MONO_MATCH_MORE;
    return emit(text, len, user) ? MONO_MATCH_CANCEL : MONO_MATCH_MORE;
}

/* Drops the first n held bytes. */
static void held_consume(mono_strbuf *h, size_t n) {
    memmove(h->data, h->data + n, h->len - n);
    h->len -= n;
    h->data[h->len] = '\0';
}

int mono_stop_matcher_feed(mono_stop_matcher *m, const char *text, size_t len, mono_text_fn emit, void *user) {
    if (m->stopped) return MONO_MATCH_STOP;
    if (m->n == 0) return emit_text(emit, user, text, len);
    if (!mono_strbuf_append(&m->held, text, len)) return MONO_MATCH_NOMEM;
    const char *h = m->held.data;
    size_t hn = m->held.len;
    /* The stop string that completes first, as if the text had come one
     * byte at a time (so the result does not depend on how the text was cut
     * into tokens); of those ending at the same byte, the longest. */
    for (size_t end = 1; end <= hn; end++) {
        size_t start = end;
        for (int i = 0; i < m->n; i++)
            if (m->lens[i] <= end && end - m->lens[i] < start && memcmp(h + end - m->lens[i], m->stops[i], m->lens[i]) == 0)
                start = end - m->lens[i];
        if (start < end) {
            m->stopped = 1;
            int r = emit_text(emit, user, h, start);
            m->held.len = 0;
            return r == MONO_MATCH_MORE ? MONO_MATCH_STOP : r;
        }
    }
    /* hold the earliest tail that is a proper prefix of some stop string */
    size_t keep_from = hn;
    for (size_t pos = 0; pos < hn && keep_from == hn; pos++) {
        for (int i = 0; i < m->n; i++) {
            if (hn - pos < m->lens[i] && memcmp(h + pos, m->stops[i], hn - pos) == 0) {
                keep_from = pos;
                break;
            }
        }
    }
    int r = emit_text(emit, user, h, keep_from);
    held_consume(&m->held, keep_from);
    return r;
}

int mono_stop_matcher_flush(mono_stop_matcher *m, mono_text_fn emit, void *user) {
    if (m->stopped || m->held.len == 0) return m->stopped ? MONO_MATCH_STOP : MONO_MATCH_MORE;
    int r = emit_text(emit, user, m->held.data, m->held.len);
    m->held.len = 0;
    m->held.data[0] = '\0';
    return r;
}
