/*
 * generate.h -- private pieces of the generation loop: the stop-string
 * matcher that sits between the streaming decoder and the caller's
 * callback.
 *
 * Text goes in as it is decoded; what comes out is exactly the text before
 * the first stop string to complete (the earliest end; of those ending
 * together, the longest), delivered as early as possible: bytes are held
 * back only while the held tail could still grow into a stop string. The
 * result does not depend on how the text is cut into pieces.
 */
#ifndef MONO_RUNTIME_GENERATE_H
#define MONO_RUNTIME_GENERATE_H

#include "monologue.h"
#include "runtime/chat.h"

typedef struct mono_stop_matcher {
    char **stops;          /* copies, NUL-terminated */
    size_t *lens;
    int n;
    mono_strbuf held;      /* text not yet emitted */
    int stopped;           /* a stop string was found; feed does nothing more */
} mono_stop_matcher;

/* Results of feed/flush. */
enum {
    MONO_MATCH_MORE = 0,       /* keep going */
    MONO_MATCH_STOP = 1,       /* a stop string completed; the text before it was emitted */
    MONO_MATCH_CANCEL = 2,     /* emit returned non-zero */
    MONO_MATCH_NOMEM = 3
};

/* Copies the stop strings (each non-empty, valid UTF-8). n may be 0. */
mono_status mono_stop_matcher_init(mono_stop_matcher *m, const char *const *stops, int n, mono_error *err);
void mono_stop_matcher_free(mono_stop_matcher *m);
/* Forgets held text and the stopped state. */
void mono_stop_matcher_reset(mono_stop_matcher *m);

/* Feeds text; emits (possibly several times, never with len 0) the part
 * that can no longer start a stop string. */
int mono_stop_matcher_feed(mono_stop_matcher *m, const char *text, size_t len, mono_text_fn emit, void *user);
/* End of text: emits whatever is held (unless a stop string was found). */
int mono_stop_matcher_flush(mono_stop_matcher *m, mono_text_fn emit, void *user);

#endif
