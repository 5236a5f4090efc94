/*
 * test_generate.c -- the generation loop and chat sessions on real (tiny,
 * random-weight) models from shared/golden: greedy continuations equal
 * Hugging Face's, streamed text equals the tokenizer's decode and never
 * splits a character, stop tokens / stop strings / max tokens / a full
 * context / cancelling each end the loop as documented, and a chat session
 * that reuses its KV cache answers exactly like a fresh one.
 *
 * The golden folders carry no tokenizer, so one is trained here (the
 * project's BPE trainer) on generated text with exactly the model's
 * vocabulary size, the ChatML specials last.
 */
#include <stdlib.h>

#include "core/file.h"
#include "core/json.h"
#include "runtime/chat.h"
#include "runtime/generate.h"
#include "test.h"

typedef struct fixture {
    mono_model *model;
    mono_tokenizer *tok;
    int32_t prompt[64], greedy[64];
    int n_prompt, n_greedy;
    int32_t im_start, im_end, eot;
} fixture;

static int read_ids(const mono_json *root, const char *key, int32_t *out, int cap) {
    const mono_json *a = mono_json_get_typed(root, key, MONO_JSON_ARRAY);
    if (!a) return -1;
    int n = (int)a->len < cap ? (int)a->len : cap;
    for (int i = 0; i < n; i++) {
        int64_t v;
        if (!mono_json_as_int64(&a->u.items[i], &v)) return -1;
        out[i] = (int32_t)v;
    }
    return n;
}

/* Pseudo-words over a few syllables plus some multi-byte characters, so the
 * trainer finds plenty of merges and generations contain split characters. */
static char *make_corpus(size_t *len) {
    static const char *syl[] = {"ka", "lo", "mi", "ne", "ru", "ta", "po", "si", "de", "fa", "gu", "ho", "ji", "be",
                                "vo", "ze", "wa", "qu", "xi", "yo", "an", "el", "in", "on", "us", "th", "ch", "sh",
                                "é", "ü", "你", "好", "ß", "🙂", "ø", "ñ"};
    size_t cap = 200000, n = 0;
    char *s = malloc(cap);
    uint64_t x = 2024;
    while (n + 64 < cap) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int w = 1 + (int)((x >> 40) % 4);
        for (int i = 0; i < w; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            const char *p = syl[(x >> 33) % (sizeof syl / sizeof *syl)];
            size_t l = strlen(p);
            memcpy(s + n, p, l);
            n += l;
        }
        s[n++] = (x >> 20) % 11 == 0 ? '\n' : (x >> 20) % 7 == 0 ? ',' : ' ';
    }
    *len = n;
    return s;
}

static int fixture_open(mt_ctx *t, fixture *f, const char *name, int need_tok) {
    memset(f, 0, sizeof *f);
    char rel[128], dir[512], path[600];
    snprintf(rel, sizeof rel, "golden/models/%s", name);
    mt_shared_path(dir, sizeof dir, rel);
    mono_error err;
    if (mono_model_load(dir, NULL, &f->model, &err) != MONO_OK) {
        mt_skip(t, err.message);
        return 0;
    }
    snprintf(path, sizeof path, "%s/expected.json", dir);
    char *text = NULL;
    size_t size = 0;
    mono_json_doc *doc = NULL;
    if (!MT_CHECK(t, mono_file_read_text(path, &text, &size, &err) == MONO_OK)) return 0;
    if (MT_CHECK(t, mono_json_parse(text, size, &doc, &err) == MONO_OK)) {
        f->n_prompt = read_ids(mono_json_root(doc), "prompt_ids", f->prompt, 64);
        f->n_greedy = read_ids(mono_json_root(doc), "greedy_ids", f->greedy, 64);
        MT_CHECK(t, f->n_prompt > 0 && f->n_greedy > 0);
    }
    mono_json_doc_free(doc);
    free(text);

    if (!need_tok) return 1;
    mono_model_info info;
    mono_model_info_get(f->model, &info);
    mono_train_options opts;
    mono_train_options_init(&opts);
    const char *specials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    opts.vocab_size = (uint32_t)info.n_vocab;
    opts.special_tokens = specials;
    opts.n_special = 3;
    size_t clen;
    char *corpus = make_corpus(&clen);
    const char *texts[] = {corpus};
    char *json = NULL;
    size_t json_len = 0;
    mono_train_stats ts;
    int ok = MT_CHECK_MSG(t, mono_tokenizer_train_texts(texts, &clen, 1, &opts, &json, &json_len, &ts, &err) == MONO_OK,
                          "%s", err.message) &&
             MT_CHECK_MSG(t, (int)ts.vocab_size == info.n_vocab, "trained vocab %u, model %d", ts.vocab_size, info.n_vocab) &&
             MT_CHECK_MSG(t, mono_tokenizer_load_json_bytes(json, json_len, &f->tok, &err) == MONO_OK, "%s", err.message);
    free(corpus);
    mono_free(json);
    if (!ok) return 0;
    f->eot = mono_tokenizer_token_id(f->tok, "<|endoftext|>", 13);
    f->im_start = mono_tokenizer_token_id(f->tok, "<|im_start|>", 12);
    f->im_end = mono_tokenizer_token_id(f->tok, "<|im_end|>", 10);
    return MT_CHECK(t, f->eot >= 0 && f->im_start >= 0 && f->im_end >= 0 && mono_tokenizer_n_vocab(f->tok) == info.n_vocab);
}

static void fixture_close(fixture *f) {
    mono_tokenizer_free(f->tok);
    mono_model_free(f->model);
}

static mono_context *ctx_new(mt_ctx *t, fixture *f, int n_ctx) {
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = n_ctx;
    cp.n_threads = 1;
    mono_context *ctx = NULL;
    mono_error err;
    MT_CHECK_MSG(t, mono_context_init(f->model, &cp, &ctx, &err) == MONO_OK, "%s", err.message);
    return ctx;
}

static mono_sampler *sampler_new(float temp, float rep, uint64_t seed) {
    mono_sampler_params sp = mono_sampler_params_default();
    sp.temperature = temp;
    sp.top_k = 0;
    sp.repetition_penalty = rep;
    sp.seed = seed;
    mono_sampler *s = NULL;
    mono_sampler_init(&sp, &s, NULL);
    return s;
}

/* Collects streamed pieces; checks each is whole UTF-8; may cancel. */
typedef struct stream {
    char text[8192];
    size_t len;
    int pieces, polls, bad_utf8, cancel_at; /* cancel on the cancel_at-th non-empty piece */
} stream;

static int stream_fn(const char *text, size_t len, void *user) {
    stream *s = user;
    if (len == 0) { s->polls++; return 0; }
    if (mono_utf8_valid_prefix(text, len) != len) s->bad_utf8++;
    if (s->len + len < sizeof s->text) {
        memcpy(s->text + s->len, text, len);
        s->len += len;
        s->text[s->len] = '\0';
    }
    s->pieces++;
    return s->cancel_at && s->pieces >= s->cancel_at;
}

/* Cancels at the first empty poll (during the prompt), records text otherwise. */
static int poll_cancel(const char *text, size_t len, void *user) {
    if (len == 0) return 1;
    return stream_fn(text, len, user);
}

static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m)) return hay + i;
    return NULL;
}

static void test_greedy_matches_hf(mt_ctx *t) {
    fixture f;
    if (!fixture_open(t, &f, "small-bf16-untied", 0)) { fixture_close(&f); return; }
    mono_context *ctx = ctx_new(t, &f, 256);
    mono_sampler *s = sampler_new(0.0f, 1.0f, 0);
    mono_gen_params gp = mono_gen_params_default();
    int32_t none = -1;
    gp.stop_tokens = &none; /* HF ran without an eos */
    gp.n_stop_tokens = 0;
    gp.max_tokens = f.n_greedy;
    mono_gen_stats st;
    int32_t *out = NULL;
    size_t n_out = 0;
    mono_error err;
    MT_CHECK_MSG(t, mono_generate(ctx, NULL, s, f.prompt, (size_t)f.n_prompt, &gp, NULL, NULL, &st, &out, &n_out, &err) == MONO_OK,
                 "%s", err.message);
    MT_CHECK_EQ_INT(t, n_out, f.n_greedy);
    int same = n_out == (size_t)f.n_greedy;
    for (size_t i = 0; same && i < n_out; i++) same = out[i] == f.greedy[i];
    MT_CHECK_MSG(t, same, "greedy continuation differs from Hugging Face's");
    MT_CHECK(t, st.stop_reason == MONO_STOP_MAX_TOKENS && st.n_prompt == f.n_prompt && st.n_generated == f.n_greedy);
    MT_CHECK(t, st.prefill_tok_s > 0 && st.decode_tok_s > 0);
    /* the last sampled token is not evaluated: the cache holds prompt + n-1 */
    MT_CHECK_EQ_INT(t, mono_context_n_past(ctx), f.n_prompt + f.n_greedy - 1);
    mono_free(out);

    /* a stop token ends the loop before it is shown or kept */
    mono_context_reset(ctx);
    int k = 5;
    while (k < f.n_greedy && f.greedy[k] == f.greedy[k - 1]) k++;
    gp.stop_tokens = &f.greedy[k];
    gp.n_stop_tokens = 1;
    gp.max_tokens = -1;
    MT_CHECK(t, mono_generate(ctx, NULL, s, f.prompt, (size_t)f.n_prompt, &gp, NULL, NULL, &st, &out, &n_out, &err) == MONO_OK);
    int first = 0;
    while (f.greedy[first] != f.greedy[k]) first++;
    MT_CHECK_EQ_INT(t, n_out, first);
    MT_CHECK(t, st.stop_reason == MONO_STOP_TOKEN && st.n_generated == first + 1);
    mono_free(out);

    /* an empty prompt continues from the last logits; without any, it is refused */
    mono_context_reset(ctx);
    MT_CHECK(t, mono_generate(ctx, NULL, s, NULL, 0, &gp, NULL, NULL, &st, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_context_eval(ctx, f.prompt, f.n_prompt, 0, NULL, &err) == MONO_OK);
    gp.n_stop_tokens = 0;
    gp.max_tokens = 3;
    MT_CHECK(t, mono_generate(ctx, NULL, s, NULL, 0, &gp, NULL, NULL, &st, &out, &n_out, &err) == MONO_OK);
    MT_CHECK(t, n_out == 3 && out[0] == f.greedy[0] && out[1] == f.greedy[1] && out[2] == f.greedy[2]);
    mono_free(out);

    /* bad arguments */
    MT_CHECK(t, mono_generate(NULL, NULL, s, f.prompt, 1, &gp, NULL, NULL, NULL, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_generate(ctx, NULL, NULL, f.prompt, 1, &gp, NULL, NULL, NULL, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_generate(ctx, NULL, s, NULL, 3, &gp, NULL, NULL, NULL, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    const char *stops[] = {"x"};
    gp.stop_strings = stops;
    gp.n_stop_strings = 1; /* stop strings without a tokenizer */
    MT_CHECK(t, mono_generate(ctx, NULL, s, f.prompt, 1, &gp, NULL, NULL, NULL, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    mono_sampler_free(s);
    mono_context_free(ctx);
    fixture_close(&f);
}

static void test_streaming_and_stops(mt_ctx *t) {
    fixture f;
    if (!fixture_open(t, &f, "tiny-f32", 1)) { fixture_close(&f); return; }
    mono_context *ctx = ctx_new(t, &f, 512);
    mono_gen_params gp = mono_gen_params_default();
    gp.stop_tokens = &f.eot;
    gp.n_stop_tokens = 0; /* no stop tokens: run to max_tokens */
    gp.max_tokens = 200;
    mono_error err;
    mono_gen_stats st;

    /* 1. streamed text = decode of the non-special tokens, in whole characters */
    mono_sampler *s = sampler_new(1.0f, 1.0f, 7);
    stream a = {0};
    int32_t *out = NULL;
    size_t n_out = 0;
    MT_CHECK_MSG(t, mono_generate(ctx, f.tok, s, f.prompt, (size_t)f.n_prompt, &gp, stream_fn, &a, &st, &out, &n_out, &err) == MONO_OK,
                 "%s", err.message);
    MT_CHECK(t, n_out == 200 && st.stop_reason == MONO_STOP_MAX_TOKENS);
    int32_t *plain = malloc(sizeof(int32_t) * (n_out + 1));
    size_t n_plain = 0;
    for (size_t i = 0; i < n_out; i++)
        if (!mono_tokenizer_token_is_special(f.tok, out[i])) plain[n_plain++] = out[i];
    char *want = NULL;
    size_t want_len = 0;
    MT_CHECK(t, mono_tokenizer_decode(f.tok, plain, n_plain, &want, &want_len, &err) == MONO_OK);
    MT_CHECK_MSG(t, a.len == want_len && memcmp(a.text, want, want_len) == 0, "streamed text differs from decode");
    MT_CHECK_EQ_INT(t, a.bad_utf8, 0);
    MT_CHECK(t, a.pieces > 20);
    if (t->verbose) fprintf(stderr, "    streamed %zu bytes in %d pieces: %.60s\n", a.len, a.pieces, a.text);

    /* 2. same seed, same tokens */
    mono_context_reset(ctx);
    mono_sampler_reset(s);
    stream b = {0};
    int32_t *out2 = NULL;
    size_t n_out2 = 0;
    MT_CHECK(t, mono_generate(ctx, f.tok, s, f.prompt, (size_t)f.n_prompt, &gp, stream_fn, &b, &st, &out2, &n_out2, &err) == MONO_OK);
    MT_CHECK(t, n_out2 == n_out && !memcmp(out, out2, n_out * sizeof *out));
    mono_free(out2);

    /* 3. a stop string taken from the middle of that text: output ends right before its first occurrence */
    if (MT_CHECK(t, want_len > 40)) {
        size_t at = want_len / 2, sl = 3;
        for (;; at++) { /* a 3+ byte piece on character boundaries, no NUL */
            while (at < want_len && ((uint8_t)want[at] & 0xC0) == 0x80) at++;
            sl = 3;
            while (at + sl < want_len && ((uint8_t)want[at + sl] & 0xC0) == 0x80) sl++;
            if (at + sl >= want_len || (sl < 16 && !memchr(want + at, 0, sl))) break;
        }
        char stop[16];
        memcpy(stop, want + at, sl);
        stop[sl] = '\0';
        const char *stops[] = {"never-in-the-output-\xe2\x9c\x93", stop};
        gp.stop_strings = stops;
        gp.n_stop_strings = 2;
        const char *first = find_bytes(want, want_len, stop, sl);
        mono_context_reset(ctx);
        mono_sampler_reset(s);
        stream c = {0};
        MT_CHECK(t, mono_generate(ctx, f.tok, s, f.prompt, (size_t)f.n_prompt, &gp, stream_fn, &c, &st, &out2, &n_out2, &err) == MONO_OK);
        MT_CHECK(t, st.stop_reason == MONO_STOP_STRING);
        MT_CHECK_MSG(t, first && c.len == (size_t)(first - want) && !memcmp(c.text, want, c.len),
                     "stop string '%s': got %zu bytes, want %zu", stop, c.len, first ? (size_t)(first - want) : 0);
        MT_CHECK(t, n_out2 < n_out);
        mono_free(out2);
        gp.stop_strings = NULL;
        gp.n_stop_strings = 0;
    }

    /* 4. the callback cancels: MONO_ERR_CANCELLED, the tokens so far still returned */
    mono_context_reset(ctx);
    mono_sampler_reset(s);
    stream d = {0};
    d.cancel_at = 5;
    MT_CHECK(t, mono_generate(ctx, f.tok, s, f.prompt, (size_t)f.n_prompt, &gp, stream_fn, &d, &st, &out2, &n_out2, &err) == MONO_ERR_CANCELLED);
    MT_CHECK(t, st.stop_reason == MONO_STOP_CANCELLED && d.pieces == 5 && n_out2 >= 5 && n_out2 < 200);
    MT_CHECK(t, n_out2 <= n_out && !memcmp(out2, out, n_out2 * sizeof *out));
    mono_free(out2);

    /* 5. the context fills up */
    mono_context *small = ctx_new(t, &f, f.n_prompt + 6);
    mono_sampler_reset(s);
    MT_CHECK(t, mono_generate(small, f.tok, s, f.prompt, (size_t)f.n_prompt, &gp, NULL, NULL, &st, &out2, &n_out2, &err) == MONO_OK);
    MT_CHECK(t, st.stop_reason == MONO_STOP_CONTEXT_FULL && n_out2 == 7);
    MT_CHECK_EQ_INT(t, mono_context_n_past(small), f.n_prompt + 6);
    mono_free(out2);
    /* and a prompt that cannot fit is refused up front, cache untouched */
    mono_context_reset(small);
    int32_t longp[64];
    for (int i = 0; i < 64; i++) longp[i] = f.prompt[i % f.n_prompt];
    MT_CHECK(t, mono_generate(small, f.tok, s, longp, 64, &gp, NULL, NULL, &st, NULL, NULL, &err) == MONO_ERR_RANGE);
    MT_CHECK(t, strstr(err.message, "64") != NULL && mono_context_n_past(small) == 0);
    mono_context_free(small);

    /* 6. special tokens are skipped unless special_text, stop tokens never shown */
    int32_t pr[3] = {f.prompt[0], f.prompt[1], f.prompt[2]};
    mono_sampler *g = sampler_new(0.0f, 1.0f, 0);
    mono_context_reset(ctx);
    gp.max_tokens = 40;
    stream e = {0};
    MT_CHECK(t, mono_generate(ctx, f.tok, g, pr, 3, &gp, stream_fn, &e, &st, &out2, &n_out2, &err) == MONO_OK);
    MT_CHECK(t, e.polls + e.pieces >= (int)n_out2); /* every step gave the callback a chance to cancel */
    mono_free(out2);
    mono_sampler_free(g);

    /* 7. special_text: special tokens stream as their text, so the stream is decode(all) */
    mono_context_reset(ctx);
    mono_sampler_reset(s);
    gp.special_text = 1;
    gp.max_tokens = 200;
    stream h = {0};
    MT_CHECK(t, mono_generate(ctx, f.tok, s, f.prompt, (size_t)f.n_prompt, &gp, stream_fn, &h, &st, &out2, &n_out2, &err) == MONO_OK);
    char *all = NULL;
    size_t all_len = 0;
    int n_special = 0;
    for (size_t i = 0; i < n_out2; i++) n_special += mono_tokenizer_token_is_special(f.tok, out2[i]);
    MT_CHECK(t, mono_tokenizer_decode(f.tok, out2, n_out2, &all, &all_len, &err) == MONO_OK);
    MT_CHECK_MSG(t, h.len == all_len && !memcmp(h.text, all, all_len), "special_text stream differs from decode (%d specials)", n_special);
    mono_free(all);
    mono_free(out2);
    gp.special_text = 0;

    /* 8. a tokenizer smaller than the model's vocabulary: a clear error, not a crash */
    mono_train_options opts;
    mono_train_options_init(&opts);
    opts.vocab_size = 300;
    size_t clen;
    char *corpus = make_corpus(&clen);
    const char *texts[] = {corpus};
    char *json = NULL;
    size_t json_len = 0;
    mono_tokenizer *small_tok = NULL;
    if (MT_CHECK(t, mono_tokenizer_train_texts(texts, &clen, 1, &opts, &json, &json_len, NULL, &err) == MONO_OK) &&
        MT_CHECK(t, mono_tokenizer_load_json_bytes(json, json_len, &small_tok, &err) == MONO_OK)) {
        mono_context_reset(ctx);
        mono_status r = mono_generate(ctx, small_tok, s, f.prompt, (size_t)f.n_prompt, &gp, NULL, NULL, &st, NULL, NULL, &err);
        MT_CHECK_MSG(t, r == MONO_ERR_RANGE && strstr(err.message, "vocabulary"), "status %d: %s", (int)r, err.message);
    }
    mono_tokenizer_free(small_tok);
    mono_free(json);
    free(corpus);

    free(plain);
    mono_free(want);
    mono_free(out);
    mono_sampler_free(s);
    mono_context_free(ctx);
    fixture_close(&f);
}

/* Turn 2 of a session (cache reused) answers exactly as a fresh session
 * given the same history. */
static void test_chat_session(mt_ctx *t) {
    fixture f;
    if (!fixture_open(t, &f, "tiny-f32", 1)) { fixture_close(&f); return; }
    /* no chat template in the folder, no Qwen vocabulary: plain ChatML */
    MT_CHECK(t, mono_chat_template_for_model(f.model) == MONO_CHAT_CHATML);
    MT_CHECK(t, mono_chat_template_for_model(NULL) == MONO_CHAT_QWEN2);
    mono_context *ctx = ctx_new(t, &f, 1024);
    mono_error err;
    mono_chat *chat = NULL;
    MT_CHECK(t, mono_chat_init(ctx, f.tok, MONO_CHAT_QWEN2, NULL, &chat, &err) == MONO_OK);
    mono_sampler *s = sampler_new(0.0f, 1.3f, 0); /* greedy, but the penalty sees the history */
    mono_gen_params gp = mono_gen_params_default();
    int32_t stops[2] = {f.im_end, f.eot};
    gp.stop_tokens = stops;
    gp.n_stop_tokens = 2;
    gp.max_tokens = 12;
    mono_gen_stats st1, st2;
    stream r1 = {0}, r2 = {0};
    MT_CHECK_MSG(t, mono_chat_respond(chat, "kalo mine ruta \xc3\xa9", s, &gp, stream_fn, &r1, &st1, &err) == MONO_OK, "%s", err.message);
    MT_CHECK_EQ_INT(t, st1.n_cached, 0);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(chat), 2);
    const mono_chat_message *m1 = mono_chat_message_at(chat, 1);
    MT_CHECK(t, m1 && !strcmp(m1->role, "assistant") && !strcmp(m1->content, r1.text));
    MT_CHECK(t, !strcmp(mono_chat_message_at(chat, 0)->content, "kalo mine ruta \xc3\xa9"));
    MT_CHECK_MSG(t, mono_chat_respond(chat, "sishe 你好 po", s, &gp, stream_fn, &r2, &st2, &err) == MONO_OK, "%s", err.message);
    MT_CHECK_MSG(t, st2.n_cached > st1.n_prompt, "turn 2 reused %d tokens; turn 1 had %d prompt tokens", st2.n_cached, st1.n_prompt);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(chat), 4);
    if (t->verbose) fprintf(stderr, "    turn 1: %d new tokens; turn 2: %d new, %d reused; reply 2: %s\n", st1.n_prompt, st2.n_prompt, st2.n_cached, r2.text);

    /* fresh context, history replayed */
    mono_context *ctx2 = ctx_new(t, &f, 1024);
    mono_chat *fresh = NULL;
    MT_CHECK(t, mono_chat_init(ctx2, f.tok, MONO_CHAT_QWEN2, NULL, &fresh, &err) == MONO_OK);
    MT_CHECK(t, mono_chat_add(fresh, "user", "kalo mine ruta \xc3\xa9", &err) == MONO_OK);
    MT_CHECK(t, mono_chat_add(fresh, "assistant", r1.text, &err) == MONO_OK);
    stream r3 = {0};
    mono_gen_stats st3;
    MT_CHECK(t, mono_chat_respond(fresh, "sishe 你好 po", s, &gp, stream_fn, &r3, &st3, &err) == MONO_OK);
    MT_CHECK_MSG(t, r3.len == r2.len && !memcmp(r3.text, r2.text, r2.len), "reused-cache reply '%s' vs fresh '%s'", r2.text, r3.text);
    MT_CHECK_EQ_INT(t, st3.n_cached, 0);
    MT_CHECK_EQ_INT(t, st3.n_prompt, st2.n_prompt + st2.n_cached);

    /* the session's cache is what the template renders: same length as fresh */
    MT_CHECK_EQ_INT(t, mono_context_n_past(ctx), mono_context_n_past(ctx2));

    /* cancelling keeps the partial reply */
    stream r4 = {0};
    r4.cancel_at = 2;
    gp.max_tokens = 50;
    mono_gen_stats st4;
    MT_CHECK(t, mono_chat_respond(chat, "again", s, &gp, stream_fn, &r4, &st4, &err) == MONO_ERR_CANCELLED);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(chat), 6);
    MT_CHECK(t, !strcmp(mono_chat_message_at(chat, 5)->content, r4.text));

    /* cancelled while the prompt is evaluated (a long message: the callback
     * is polled between prefill chunks): the message is dropped */
    {
        size_t n_msgs = mono_chat_n_messages(chat);
        char *longmsg = malloc(1501);
        for (int i = 0; i < 1500; i++) longmsg[i] = "ka lo mi ne ru "[i % 15];
        longmsg[1500] = '\0';
        stream c0 = {0};
        c0.cancel_at = -1; /* see poll_cancel */
        mono_gen_stats stc;
        mono_status r = mono_chat_respond(chat, longmsg, s, &gp, poll_cancel, &c0, &stc, &err);
        MT_CHECK_MSG(t, r == MONO_ERR_CANCELLED, "status %d: %s", (int)r, err.message);
        MT_CHECK(t, c0.pieces == 0 && stc.n_generated == 0);
        MT_CHECK_EQ_INT(t, mono_chat_n_messages(chat), n_msgs);
        free(longmsg);
    }

    /* refusals roll the conversation back */
    MT_CHECK(t, mono_chat_respond(chat, "bad \xff utf8", s, &gp, NULL, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(chat), 6);
    MT_CHECK(t, mono_chat_add(chat, "narrator", "x", &err) == MONO_ERR_INVALID_ARG);
    size_t big_len = 20000;
    char *big = malloc(big_len + 1);
    for (size_t i = 0; i < big_len; i++) big[i] = "kalo mine "[i % 10];
    big[big_len] = '\0';
    MT_CHECK(t, mono_chat_respond(chat, big, s, &gp, NULL, NULL, NULL, &err) == MONO_ERR_RANGE);
    MT_CHECK_MSG(t, strstr(err.message, "context") != NULL, "%s", err.message);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(chat), 6);
    free(big);
    /* ... and the session still works afterwards */
    stream r5 = {0};
    gp.max_tokens = 4;
    MT_CHECK(t, mono_chat_respond(chat, "ok", s, &gp, stream_fn, &r5, NULL, &err) == MONO_OK);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(chat), 8);

    /* forgetting the oldest messages: the next turn still works, from a shorter prefix */
    size_t before = mono_chat_n_messages(chat);
    mono_chat_forget(chat, 2);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(chat), before - 2);
    MT_CHECK(t, !strcmp(mono_chat_message_at(chat, 0)->content, "sishe \xe4\xbd\xa0\xe5\xa5\xbd po"));
    mono_gen_stats st6;
    MT_CHECK(t, mono_chat_respond(chat, "ok", s, &gp, NULL, NULL, &st6, &err) == MONO_OK);
    MT_CHECK(t, st6.n_cached > 0 && st6.n_cached < st2.n_cached); /* the system prompt survives in the cache */
    mono_chat_forget(chat, 1000);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(chat), 0);
    mono_chat_forget(NULL, 1);

    /* reset keeps the system prompt only */
    mono_chat *sys = NULL;
    MT_CHECK(t, mono_chat_init(ctx2, f.tok, MONO_CHAT_CHATML, "Be brief.", &sys, &err) == MONO_OK);
    MT_CHECK(t, mono_chat_respond(sys, "hi", s, &gp, NULL, NULL, NULL, &err) == MONO_OK);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(sys), 3);
    mono_chat_reset(sys);
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(sys), 1);
    MT_CHECK_EQ_INT(t, mono_context_n_past(ctx2), 0);
    MT_CHECK(t, mono_chat_respond(sys, "hi", s, &gp, NULL, NULL, NULL, &err) == MONO_OK);
    mono_chat_forget(sys, 1000); /* the system prompt is never forgotten */
    MT_CHECK_EQ_INT(t, mono_chat_n_messages(sys), 1);
    MT_CHECK(t, !strcmp(mono_chat_message_at(sys, 0)->role, "system"));
    mono_chat *bad = (mono_chat *)1;
    MT_CHECK(t, mono_chat_init(ctx2, f.tok, MONO_CHAT_QWEN2, "\xc3", &bad, &err) == MONO_ERR_INVALID_ARG && bad == NULL);
    MT_CHECK(t, mono_chat_init(NULL, f.tok, MONO_CHAT_QWEN2, NULL, &bad, &err) == MONO_ERR_INVALID_ARG);

    mono_chat_free(sys);
    mono_chat_free(fresh);
    mono_chat_free(chat);
    mono_context_free(ctx2);
    mono_context_free(ctx);
    mono_sampler_free(s);
    fixture_close(&f);
}

void suite_generate(mt_ctx *t) {
    test_greedy_matches_hf(t);
    test_streaming_and_stops(t);
    test_chat_session(t);
}
