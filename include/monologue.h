/*
 * monologue.h -- the one public header of Monologue, a small LLM inference
 * engine in C11 that runs Qwen2-family models on the CPU, in WebAssembly and
 * (later) on WebGPU.
 *
 * Read this file top to bottom: it is the tutorial.
 *
 *   1. Errors        every fallible call returns a mono_status and fills an
 *                    optional mono_error with a message you can print.
 *   2. Tokenizer     byte-level BPE, exactly Hugging Face's on Qwen2/GPT-2
 *                    tokenizer.json files; it also trains new vocabularies.
 *   3. Model         load a GGUF file or a Hugging Face folder once ...
 *   4. Context       ... and run any number of independent contexts on it,
 *                    each with its own KV cache.
 *   5. Sampler       turn logits into the next token.
 *   6. Generation    the loop that streams text (stop tokens and strings,
 *                    cancel), chat templates and multi-turn chat sessions.
 *
 * Conventions
 *   - Every name starts with mono_ and reads prefix_noun_verb.
 *   - Objects come in init/free (or load/free) pairs; free(NULL) is a no-op.
 *   - Nothing here prints, exits or keeps global mutable state: two threads
 *     may use two different objects freely. One object is not thread-safe
 *     unless its comment says so (a loaded mono_model and mono_tokenizer are
 *     read-only after loading and may be shared by many contexts/threads).
 *   - Arrays the library allocates for you are released with mono_free().
 */
#ifndef MONOLOGUE_H
#define MONOLOGUE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MONO_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------
 * 1. Errors
 *
 *   mono_error err;
 *   if (mono_tokenizer_load("tokenizer.json", &tok, &err) != MONO_OK)
 *       fprintf(stderr, "error: %s\n", err.message);
 *
 * Passing NULL for the mono_error* is allowed: you still get the status.
 * ---------------------------------------------------------------------- */
typedef enum mono_status {
    MONO_OK = 0,
    MONO_ERR_INVALID_ARG,  /* a bad argument from the caller (NULL, range)   */
    MONO_ERR_IO,           /* a file could not be opened, read or written    */
    MONO_ERR_FORMAT,       /* a file is malformed, truncated or inconsistent */
    MONO_ERR_UNSUPPORTED,  /* well-formed, but a feature we do not handle    */
    MONO_ERR_NOMEM,        /* an allocation failed or a size would overflow  */
    MONO_ERR_RANGE,        /* e.g. a prompt longer than the context          */
    MONO_ERR_CANCELLED     /* a callback asked to stop                        */
} mono_status;

typedef struct mono_error {
    mono_status status;
    char message[512];     /* NUL-terminated, human readable, no newline */
} mono_error;

/* A short constant name for a status ("invalid argument", "format", ...). */
const char *mono_status_name(mono_status status);

/* Releases memory that a mono_ call allocated and handed to you. */
void mono_free(void *ptr);

/* ------------------------------------------------------------------------
 * 2. Tokenizer
 *
 * Byte-level BPE that gives exactly Hugging Face's ids on Qwen2/Qwen2.5 and
 * GPT-2 style tokenizer.json files (and on the same vocabulary stored in a
 * GGUF file):
 *
 *   mono_tokenizer *tok;
 *   if (mono_tokenizer_load("tokenizer.json", &tok, &err) != MONO_OK) ...
 *   int32_t *ids; size_t n;
 *   mono_tokenizer_encode(tok, "Hello, world!", 13, 0, &ids, &n, &err);
 *   char *text; size_t len;
 *   mono_tokenizer_decode(tok, ids, n, &text, &len, &err);   // "Hello, world!"
 *   mono_free(ids); mono_free(text); mono_tokenizer_free(tok);
 *
 * A loaded tokenizer is read-only: share it between threads freely. The
 * per-call state (scratch space, a cache of recent pieces) lives in a
 * mono_encoder, one per thread, when you encode many texts.
 *
 * Text is UTF-8. Encoding never fails on bad input: a byte that is not
 * valid UTF-8 is treated as one character of its own that is neither
 * letter, digit nor space, so it ends up as its own byte token, and
 * mono_tokenizer_decode_bytes gives the exact input bytes back.
 * (Hugging Face cannot take such input at all; on valid UTF-8 the two agree.)
 * ---------------------------------------------------------------------- */
typedef struct mono_tokenizer mono_tokenizer;

/* Loads a tokenizer.json, a GGUF file (recognised by its magic), or a folder
 * holding tokenizer.json. A tokenizer_config.json next to the JSON supplies
 * the bos/eos/pad tokens. Unsupported pieces (a non-BPE model, an unknown
 * pre-tokenizer regex) fail with MONO_ERR_UNSUPPORTED; malformed files (wrong
 * types, merges naming unknown tokens, duplicate ids) with MONO_ERR_FORMAT;
 * the message names the problem. Added tokens get the ids Hugging Face
 * gives them when it reads the file (an added token whose text is already
 * in the vocabulary keeps that token's id). */
mono_status mono_tokenizer_load(const char *path, mono_tokenizer **out, mono_error *err);
/* The same from the bytes of a tokenizer.json (e.g. fetched by a browser). */
mono_status mono_tokenizer_load_json_bytes(const void *data, size_t len, mono_tokenizer **out, mono_error *err);
/* The same from a GGUF file's tokenizer.ggml.* metadata (model "gpt2";
 * pre "qwen2" selects the Qwen2 split and NFC, "gpt2"/"default"/none GPT-2's
 * split; token_type 3 "control" tokens are special added tokens, 4
 * "user-defined" ones plain added tokens, 5 "unused" never produced). */
mono_status mono_tokenizer_load_gguf(const char *path, mono_tokenizer **out, mono_error *err);
/* The same from the bytes of a GGUF file held in memory (only its metadata
 * is read; the bytes may be freed after the call). */
mono_status mono_tokenizer_load_gguf_bytes(const void *data, size_t len, mono_tokenizer **out, mono_error *err);
void mono_tokenizer_free(mono_tokenizer *tok);

/* Flags for encoding. */
enum {
    /* Special tokens written in the text ("<|im_end|>") are matched as
     * tokens by default (Hugging Face's behaviour); with this flag they are
     * encoded as ordinary text (HF's encode_special_tokens = true). Added
     * tokens that are not special are still matched. */
    MONO_ENCODE_SPECIAL_AS_TEXT = 1
};

/* Encodes text[0..len) into a new array *ids of *n_ids ids (free it with
 * mono_free). Adds no BOS/EOS: add them yourself if the model wants them. */
mono_status mono_tokenizer_encode(const mono_tokenizer *tok, const char *text, size_t len, unsigned flags,
                                  int32_t **ids, size_t *n_ids, mono_error *err);

/* Reusable encoding state: faster than mono_tokenizer_encode for many texts
 * (it keeps a cache of pieces). One per thread; the tokenizer must outlive it. */
typedef struct mono_encoder mono_encoder;
mono_status mono_encoder_init(const mono_tokenizer *tok, mono_encoder **out, mono_error *err);
mono_status mono_encoder_encode(mono_encoder *enc, const char *text, size_t len, unsigned flags, int32_t **ids,
                                size_t *n_ids, mono_error *err);
void mono_encoder_free(mono_encoder *enc);

/* What encoding does before BPE, for debugging and for comparing with other
 * tokenizers: calls fn once per piece, in order, with the piece's bytes
 * (after added-token splitting, normalization, the prefix space and the
 * pre-tokenizer; BPE merges only within a piece), or with an added token's
 * content and its id (added_id >= 0; -1 for ordinary pieces). */
typedef void (*mono_piece_fn)(void *user, const char *piece, size_t len, int32_t added_id);
mono_status mono_encoder_pieces(mono_encoder *enc, const char *text, size_t len, unsigned flags, mono_piece_fn fn,
                                void *user, mono_error *err);

/* Decodes ids into a new NUL-terminated UTF-8 string (free with mono_free),
 * exactly as Hugging Face's decode (special tokens included): byte sequences
 * that are not valid UTF-8 become U+FFFD, one per maximal invalid subpart.
 * An id outside the vocabulary fails with MONO_ERR_RANGE. */
mono_status mono_tokenizer_decode(const mono_tokenizer *tok, const int32_t *ids, size_t n, char **text, size_t *len,
                                  mono_error *err);
/* The same without replacement: the tokens' raw bytes (NUL-terminated too),
 * so decode_bytes(encode(x)) == x for any bytes x. */
mono_status mono_tokenizer_decode_bytes(const mono_tokenizer *tok, const int32_t *ids, size_t n, char **bytes,
                                        size_t *len, mono_error *err);

/* Decoding with options: MONO_DECODE_SKIP_SPECIAL leaves special tokens out
 * (HF's skip_special_tokens=True), MONO_DECODE_RAW_BYTES is decode_bytes. */
enum { MONO_DECODE_SKIP_SPECIAL = 1, MONO_DECODE_RAW_BYTES = 2 };
mono_status mono_tokenizer_decode_ex(const mono_tokenizer *tok, const int32_t *ids, size_t n, unsigned flags,
                                     char **text, size_t *len, mono_error *err);

/* Streaming decoder for generation: push one id at a time and get back the
 * text that is now complete (a character split over two tokens comes out
 * whole with the second). *text points into the decoder and stays valid
 * until its next call. At the end, mono_detok_flush emits what is held
 * back as U+FFFD; everything emitted, concatenated, equals
 * mono_tokenizer_decode of all the ids. */
typedef struct mono_detok mono_detok;   /* one per output stream / thread */
mono_status mono_detok_init(const mono_tokenizer *tok, mono_detok **out, mono_error *err);
mono_status mono_detok_push(mono_detok *d, int32_t id, const char **text, size_t *len, mono_error *err);
mono_status mono_detok_flush(mono_detok *d, const char **text, size_t *len, mono_error *err);
void mono_detok_reset(mono_detok *d);    /* forget anything held back */
void mono_detok_free(mono_detok *d);

/* Vocabulary. Ids are [0, n_vocab); a few may be unused (no token). */
int32_t mono_tokenizer_n_vocab(const mono_tokenizer *tok);
/* The token as written in the vocabulary ("\xc4\xa0the" = "Ġthe" for " the";
 * added tokens as their content), NUL-terminated; NULL for unused ids. */
const char *mono_tokenizer_token_text(const mono_tokenizer *tok, int32_t id);
/* The bytes the token decodes to (" the"); NULL for unused ids. */
const char *mono_tokenizer_token_bytes(const mono_tokenizer *tok, int32_t id, size_t *len);
/* The id of a vocabulary string or added token content, or -1. */
int32_t mono_tokenizer_token_id(const mono_tokenizer *tok, const char *text, size_t len);
/* 1 for special ("control") tokens such as <|im_end|>, else 0. */
int mono_tokenizer_token_is_special(const mono_tokenizer *tok, int32_t id);
/* 1 for added tokens (special or not), matched in text before splitting. */
int mono_tokenizer_token_is_added(const mono_tokenizer *tok, int32_t id);
/* Beginning/end-of-text and padding ids, or -1 when the files don't say. */
int32_t mono_tokenizer_bos_id(const mono_tokenizer *tok);
int32_t mono_tokenizer_eos_id(const mono_tokenizer *tok);
int32_t mono_tokenizer_pad_id(const mono_tokenizer *tok);

/* ------------------------------------------------------------------------
 * 2b. Training (byte-level BPE, src/tokenizer/train.c)
 *
 *   mono_train_options opts;
 *   mono_train_options_init(&opts);
 *   opts.vocab_size = 8000;                  (bytes + merges + specials)
 *   const char *specials[] = {"<|endoftext|>"};
 *   opts.special_tokens = specials;
 *   opts.n_special = 1;
 *   char *json; size_t len;
 *   if (mono_tokenizer_train_files(paths, n_paths, &opts, &json, &len, NULL,
 *                                  &err) != MONO_OK) ...
 *   ... write json to tokenizer.json, or load it ...
 *   mono_free(json);
 *
 * The result is a Hugging Face tokenizer.json in Qwen2's layout (NFC
 * normalizer, the Qwen2 split regex, ByteLevel, BPE without byte fallback,
 * the special tokens as added_tokens with ids after the BPE vocabulary);
 * HF tokenizers and mono_tokenizer encode with it identically.
 * Ids 0..255 are the bytes in GPT-2 byte-level order; then merges in the
 * order learned: most frequent adjacent pair first, ties to the pair with
 * the smaller (left id, right id), as HF's BpeTrainer. Special tokens found
 * in the training text are cut out and never learned from.
 * ---------------------------------------------------------------------- */
typedef struct mono_train_options {
    uint32_t vocab_size;               /* total, specials included (>= 256 + n_special) */
    const char *const *special_tokens; /* [n_special] UTF-8, ids after the BPE vocabulary */
    size_t n_special;
    int pretokenizer;                  /* 0: Qwen2 regex (default); 1: GPT-2 regex */
    int nfc;                           /* 1 (default): NFC-normalize the text; the
                                          tokenizer.json then names the NFC normalizer */
    uint64_t min_frequency;            /* stop when the best pair is rarer (default 0) */
} mono_train_options;

typedef struct mono_train_stats {
    uint64_t bytes;                    /* text bytes fed */
    uint64_t pieces;                   /* pre-tokenized pieces counted */
    uint64_t unique_pieces;
    uint32_t vocab_size;               /* reached: BPE tokens + specials (may be
                                          below the target on a small corpus) */
    uint32_t merges;
} mono_train_stats;

void mono_train_options_init(mono_train_options *opts);

/* Trains on whole files; *json (NUL-terminated, release with mono_free) is
 * the tokenizer.json text. stats may be NULL. Errors: a missing or
 * unreadable file (MONO_ERR_IO, naming it), no text at all, a vocabulary
 * below 256 + specials, bad special tokens (MONO_ERR_INVALID_ARG). */
mono_status mono_tokenizer_train_files(const char *const *paths, size_t n_paths,
                                       const mono_train_options *opts, char **json,
                                       size_t *json_len, mono_train_stats *stats, mono_error *err);

/* The same from texts in memory (texts[i] has lens[i] bytes; each is a
 * separate document: no piece spans two). */
mono_status mono_tokenizer_train_texts(const char *const *texts, const size_t *lens, size_t n_texts,
                                       const mono_train_options *opts, char **json,
                                       size_t *json_len, mono_train_stats *stats, mono_error *err);

/* Writes any loaded tokenizer (from tokenizer.json or GGUF) as tokenizer.json
 * text that loads back to the same tokenizer: same ids, merges, added tokens
 * and pre-processing (bos/eos/pad live in tokenizer_config.json, not here).
 * *json is NUL-terminated; release it with mono_free. */
mono_status mono_tokenizer_to_json(const mono_tokenizer *tok, char **json, size_t *json_len, mono_error *err);

/* ------------------------------------------------------------------------
 * 3. Model
 *
 * A model is loaded once and is then read-only: any number of contexts
 * (section 4), on any threads, may use it at the same time.
 *
 *   mono_model *model;
 *   mono_error err;
 *   mono_model_params mp = mono_model_params_default();
 *   if (mono_model_load("qwen2.5-0.5b.gguf", &mp, &model, &err) != MONO_OK) {
 *       fprintf(stderr, "error: %s\n", err.message);
 *       return 1;
 *   }
 *   mono_model_info info;
 *   mono_model_info_get(model, &info);
 *   printf("%s: %d layers, %lld parameters\n", info.arch, info.n_layer,
 *          (long long)info.n_params);
 *   ...
 *   mono_model_free(model);
 *
 * The path is a GGUF file or a Hugging Face folder (config.json, one or more
 * *.safetensors, optionally tokenizer.json and generation_config.json).
 * Any weight type the kernels know (f32, f16, bf16, the llama.cpp quantized
 * types) runs as it is stored. Where the CPU has faster kernels for a
 * repacked layout (AVX-512 VNNI: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K,
 * Q6_K; AVX2/AVX-512: F16/BF16 rows longer than 1024), those matrices are
 * repacked once at load, and with transparent huge pages the others are
 * copied as they are; the file pages are released, so one copy stays
 * resident (see mono_model_params.no_repack). Otherwise, and for models
 * loaded from memory, weights are used in place.
 * ---------------------------------------------------------------------- */
typedef struct mono_model mono_model;

/* Called during loading with fraction in [0, 1]; return non-zero to cancel
 * (mono_model_load then returns MONO_ERR_CANCELLED). */
typedef int (*mono_progress_fn)(float fraction, void *user_data);

typedef struct mono_model_params {
    mono_progress_fn progress;   /* optional */
    void *progress_user_data;
    /* 1: compute from the mapped file's own bytes only. By default, where
     * the CPU has kernels for a repacked layout (AVX-512: Q4_0, Q4_1, Q5_0,
     * Q5_1, Q8_0, Q4_K, Q5_K, Q6_K), those matrices are repacked once at
     * load into memory of about the same size and their file pages
     * released; where the OS has transparent huge pages, that memory is
     * huge pages and the other matrices (F16, F32, ...) are copied into it
     * as they are (decode reads every weight once per token; 2 MiB pages
     * made it 7-19% faster). Environment: MONO_NO_REPACK=1 does the same as
     * this flag; MONO_NO_HUGE_PAGES=1 keeps 4 KiB pages and copies nothing
     * that is not repacked. Models loaded from memory are used in place. */
    int no_repack;
    /* Threads that repack at load (a temporary pool, gone when loading
     * returns; the result does not depend on it): 0 = all online CPUs (at
     * most 64), as mono_context_params.n_threads; negative or above 256 is
     * refused with MONO_ERR_INVALID_ARG. */
    int n_threads;
} mono_model_params;

/* Defaults: no progress callback, repacking where it pays, n_threads 0. */
mono_model_params mono_model_params_default(void);

/* Loads a model. params may be NULL (defaults). Architectures other than
 * the tested ones (qwen2) are refused with MONO_ERR_UNSUPPORTED; a file whose
 * tensors do not match its hyper-parameters with MONO_ERR_FORMAT. */
mono_status mono_model_load(const char *path, const mono_model_params *params,
                            mono_model **out, mono_error *err);

/* The same from a GGUF image already in memory (e.g. fetched by a browser).
 * data is used in place and must outlive the model. */
mono_status mono_model_load_from_memory(const void *data, size_t size, const mono_model_params *params,
                                        mono_model **out, mono_error *err);

void mono_model_free(mono_model *model);

#define MONO_MAX_EOS 8

typedef struct mono_model_info {
    char arch[32];               /* "qwen2" */
    char name[128];              /* the file's model name, or "" */
    int n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab;
    int n_ctx_train;             /* context length the model was trained for */
    float rope_theta, rms_eps;
    int tied_embeddings;         /* the output projection reuses the embeddings */
    int bos_id;                  /* -1 if the file does not say */
    int n_eos;                   /* end-of-generation token ids (stop tokens) */
    int eos_ids[MONO_MAX_EOS];
    long long n_params;          /* number of weights */
    size_t weight_bytes;         /* bytes of weights as stored */
    size_t decode_bytes;         /* of those, the bytes one decoded token reads: all
                                    but an embedding table the output does not reuse */
    const char *weight_type;     /* type of most weight bytes: "f32", "bf16", "q4_K"... */
    const char *isa;             /* kernels in use: "portable", "avx2", "avx512"... */
    /* Sampling defaults the model ships (generation_config.json); has_* = 0
     * when it does not say. */
    int has_temperature, has_top_k, has_top_p, has_repetition_penalty;
    float temperature, top_p, repetition_penalty;
    int top_k;
} mono_model_info;

/* Fills info (never fails on a loaded model). */
void mono_model_info_get(const mono_model *model, mono_model_info *info);

/* The model's own tokenizer (GGUF metadata or the folder's tokenizer.json),
 * owned by the model; NULL when the file has none. */
const mono_tokenizer *mono_model_tokenizer(const mono_model *model);

/* ------------------------------------------------------------------------
 * 4. Context
 *
 * A context is one conversation: a KV cache of n_ctx positions plus the
 * scratch memory and worker threads to run the model. Feed it tokens with
 * mono_context_eval; it keeps what it has seen, so the next call continues
 * where the last ended. Contexts are independent: two threads may each run
 * their own context on one shared model.
 *
 *   mono_context_params cp = mono_context_params_default();
 *   cp.n_ctx = 2048;
 *   mono_context *ctx;
 *   if (mono_context_init(model, &cp, &ctx, &err) != MONO_OK) ...
 *
 *   const float *logits;                       // n_vocab floats
 *   mono_context_eval(ctx, prompt, n_prompt, 0, &logits, &err);  // prefill
 *   for (;;) {
 *       int32_t next = pick(logits);          // e.g. the sampler, section 5
 *       if (is_eos(next)) break;
 *       mono_context_eval(ctx, &next, 1, 0, &logits, &err);      // decode
 *   }
 *   mono_context_truncate(ctx, n_prompt, &err);  // rewind: regenerate
 *   mono_context_free(ctx);
 *
 * A prompt is evaluated as a matrix (all its tokens at once, in batches of
 * n_batch), which is much faster than one token at a time; the results are
 * the same either way up to float rounding.
 * ---------------------------------------------------------------------- */
typedef struct mono_context mono_context;

typedef enum mono_kv_type {
    MONO_KV_F32 = 0,             /* exact */
    MONO_KV_F16 = 1              /* half the memory, ~1e-3 relative rounding */
} mono_kv_type;

typedef struct mono_context_params {
    int n_ctx;                   /* positions in the KV cache; 0 = the model's
                                    n_ctx_train capped at 4096 */
    int n_batch;                 /* most tokens run as one matrix; 0 = 256 */
    int n_threads;               /* 0 = all online CPUs (at most 64) */
    mono_kv_type kv_type;
} mono_context_params;

/* Defaults: n_ctx 0 (see above), n_batch 0, n_threads 0, f32 KV cache. */
mono_context_params mono_context_params_default(void);

/* Creates a context on model (params may be NULL). The model must outlive it. */
mono_status mono_context_init(const mono_model *model, const mono_context_params *params,
                              mono_context **out, mono_error *err);
void mono_context_free(mono_context *ctx);

/* Runs tokens[0..n) at positions n_past .. n_past+n-1 and appends them to
 * the KV cache. If want_all_logits, logits for every one of the n positions
 * are kept ([n, n_vocab] row-major); otherwise only the last position's
 * (cheaper: the output projection over the whole vocabulary runs once).
 * *logits (if logits is not NULL) receives that buffer; it stays valid until
 * the next call on ctx. Errors, with the context unchanged:
 *   MONO_ERR_RANGE        n_past + n > n_ctx (the message gives the numbers)
 *   MONO_ERR_INVALID_ARG  a token id outside [0, n_vocab) (named), n < 1 */
mono_status mono_context_eval(mono_context *ctx, const int32_t *tokens, int n, int want_all_logits,
                              const float **logits, mono_error *err);

/* The last evaluated position's logits (n_vocab floats), or NULL when
 * nothing has been evaluated since init/reset/truncate. */
const float *mono_context_logits(const mono_context *ctx);

int mono_context_n_past(const mono_context *ctx);   /* positions in the cache */
int mono_context_n_ctx(const mono_context *ctx);    /* capacity */
int mono_context_n_vocab(const mono_context *ctx);
const mono_model *mono_context_model(const mono_context *ctx);

/* Forgets everything after the first n positions (0 <= n <= n_past), e.g.
 * to regenerate a reply or drop a turn; the next eval continues at n. */
mono_status mono_context_truncate(mono_context *ctx, int n, mono_error *err);

/* Empties the cache (the same as truncate to 0). */
void mono_context_reset(mono_context *ctx);

typedef struct mono_context_stats {
    long long n_prefill_tokens;  /* tokens run in calls with n > 1 */
    double prefill_seconds;
    long long n_decode_tokens;   /* tokens run one per call */
    double decode_seconds;
    size_t weight_bytes;         /* the model's weights (shared, mapped) */
    size_t kv_bytes;             /* this context's KV cache */
    size_t scratch_bytes;        /* this context's other buffers */
    int n_threads;
} mono_context_stats;

/* Counters since init (or the last mono_context_stats_reset). tokens/s are
 * n_*_tokens / *_seconds. */
void mono_context_stats_get(const mono_context *ctx, mono_context_stats *stats);
void mono_context_stats_reset(mono_context *ctx);

/* ------------------------------------------------------------------------
 * 5. Sampler
 *
 * A sampler turns one row of logits into the next token. It owns its
 * random state (xoshiro256**, seeded from params.seed: the same seed and the
 * same logits give the same tokens) and the token history that the
 * penalties look at.
 *
 *   mono_sampler_params sp = mono_sampler_params_default();
 *   sp.temperature = 0.7f; sp.top_p = 0.8f; sp.top_k = 20; sp.seed = 42;
 *   mono_sampler *s;
 *   mono_sampler_init(&sp, &s, &err);
 *   for each prompt token t: mono_sampler_accept(s, t, &err);
 *                                          (HF penalises the prompt too)
 *   loop: mono_sampler_sample(s, logits, n_vocab, &tok, &err);
 *         mono_sampler_accept(s, tok, &err); ...
 *   mono_sampler_free(s);
 *
 * Order of operations, as Hugging Face's logits processors run for a Qwen
 * generation_config:
 *   1. repetition penalty  (HF: every distinct token in the history, prompt
 *                           included: logit > 0 ? logit / r : logit * r)
 *   2. presence/frequency  (OpenAI / llama.cpp: logit -= count * frequency
 *                           + (count > 0) * presence)
 *   3. temperature         (logit / T; T <= 0 means greedy: argmax of the
 *                           penalised logits, first index on ties)
 *   4. top-k               (keep logits >= the k-th largest; ties kept, as HF)
 *   5. top-p               (keep the most probable tokens while the mass of
 *                           those ranked above is < p: the smallest set whose
 *                           mass reaches p)
 *   6. min-p               (keep p >= min_p * max p)
 * then one draw from the renormalised survivors. The history window is the
 * whole history (HF's input_ids) unless penalty_last_n > 0 (llama.cpp's
 * "last n"). NaN logits are treated as -inf.
 * ---------------------------------------------------------------------- */
typedef struct mono_sampler mono_sampler;

typedef struct mono_sampler_params {
    float temperature;         /* <= 0: greedy                      (1.0)  */
    int top_k;                 /* <= 0: off                         (50)   */
    float top_p;               /* >= 1: off                         (1.0)  */
    float min_p;               /* <= 0: off                         (0.0)  */
    float repetition_penalty;  /* 1: off; > 0                       (1.0)  */
    float presence_penalty;    /* 0: off                            (0.0)  */
    float frequency_penalty;   /* 0: off                            (0.0)  */
    int penalty_last_n;        /* <= 0: whole history               (0)    */
    uint64_t seed;             /*                                   (0)    */
} mono_sampler_params;

/* Hugging Face GenerationConfig's defaults for the fields above (sampling
 * on: temperature 1, top_k 50), penalties off, seed 0. */
mono_sampler_params mono_sampler_params_default(void);

mono_status mono_sampler_init(const mono_sampler_params *params, mono_sampler **out, mono_error *err);
void mono_sampler_free(mono_sampler *s);
const mono_sampler_params *mono_sampler_get_params(const mono_sampler *s);

/* Picks the next token from logits[0..n_vocab). Does not add it to the
 * history: call mono_sampler_accept for every token that enters the
 * sequence (prompt tokens too). Fails only on bad arguments, allocation
 * failure, or logits that are all -inf/NaN. */
mono_status mono_sampler_sample(mono_sampler *s, const float *logits, int n_vocab, int32_t *token, mono_error *err);

/* Appends a token to the history the penalties see. */
mono_status mono_sampler_accept(mono_sampler *s, int32_t token, mono_error *err);
/* Forgets the history and restarts the random stream from params.seed. */
void mono_sampler_reset(mono_sampler *s);
/* Restarts the random stream from a new seed (history kept). */
void mono_sampler_set_seed(mono_sampler *s, uint64_t seed);

/* Forgets the history only (the random stream goes on): for a caller that
 * re-feeds a conversation's tokens each turn. */
void mono_sampler_history_clear(mono_sampler *s);

/* Greedy choice without a sampler: the index of the first largest logit,
 * NaN ignored; -1 when n < 1 or every logit is -inf or NaN. The sampler's
 * temperature-0 path uses the same scan (vectorised: a benchmark's
 * per-token pick costs ~20 us for a 152k vocabulary, not ~300 us). */
int mono_logits_argmax(const float *logits, int n);

/* The model's sampling defaults (generation_config.json) the way Hugging
 * Face applies them: GenerationConfig's defaults, overridden by what the
 * file sets, greedy (temperature 0) unless it says do_sample: true. Change
 * fields afterwards for command-line overrides; an explicit temperature > 0
 * turns sampling on. model may be NULL (HF defaults, greedy). */
mono_sampler_params mono_sampler_params_from_model(const mono_model *model);

/* ------------------------------------------------------------------------
 * 6. Generation and chat
 *
 * mono_generate is the whole loop: evaluate the prompt (prefill), then
 * sample a token, stream its text, evaluate it, and again, until a stop
 * token, a stop string, max_tokens, a full context, or your callback says
 * stop. Text reaches the callback in pieces that never split a UTF-8
 * character and never contain (or run past) a stop string: text that might
 * be the start of a stop string is held back until it is known not to be.
 * The first stop string to complete ends the text (the same wherever the
 * token boundaries fall).
 *
 *   static int on_text(const char *text, size_t len, void *user_data) {
 *       fwrite(text, 1, len, stdout);  fflush(stdout);
 *       return 0;                              // non-zero: cancel now
 *   }
 *   mono_gen_params gp = mono_gen_params_default();
 *   gp.max_tokens = 256;
 *   mono_gen_stats st;
 *   mono_generate(ctx, tok, sampler, prompt, n_prompt, &gp, on_text, NULL,
 *                 &st, NULL, NULL, &err);     // or &ids, &n_ids: the tokens
 *   fprintf(stderr, "%.1f tok/s\n", st.decode_tok_s);
 *
 * The prompt is appended to what the context already holds (n_past), so a
 * caller that keeps a conversation feeds only the new tokens; reset or
 * truncate the context for a fresh start. A chat session (mono_chat, below)
 * does that bookkeeping for you.
 * ---------------------------------------------------------------------- */

/* Receives generated text; len may be 0 (a chance to cancel during a long
 * prefill). Return non-zero to stop: the call then returns
 * MONO_ERR_CANCELLED with everything so far already delivered. */
typedef int (*mono_text_fn)(const char *text, size_t len, void *user_data);

typedef enum mono_stop_reason {
    MONO_STOP_NONE = 0,        /* did not stop normally (an error) */
    MONO_STOP_TOKEN,           /* a stop token was sampled (not emitted) */
    MONO_STOP_STRING,          /* a stop string appeared (not emitted) */
    MONO_STOP_MAX_TOKENS,      /* max_tokens reached */
    MONO_STOP_CONTEXT_FULL,    /* no room left in the KV cache */
    MONO_STOP_CANCELLED        /* the callback returned non-zero */
} mono_stop_reason;

/* "eos", "stop string", "max tokens", "context full", "cancelled", "error". */
const char *mono_stop_reason_name(mono_stop_reason reason);

typedef struct mono_gen_params {
    int max_tokens;                  /* tokens to sample at most; <= 0: no limit */
    const int32_t *stop_tokens;      /* NULL: the model's end-of-generation ids */
    int n_stop_tokens;
    const char *const *stop_strings; /* UTF-8, non-empty; matched on the text */
    int n_stop_strings;
    int accept_prompt;               /* 1: the prompt enters the sampler's
                                        history (penalties see it, as in HF) */
    int special_text;                /* 1: special tokens other than the stop
                                        tokens are streamed as their text
                                        (e.g. "<|im_start|>"); 0: skipped */
} mono_gen_params;

/* max_tokens -1, the model's stop tokens, no stop strings, accept_prompt 1,
 * special_text 0. */
mono_gen_params mono_gen_params_default(void);

typedef struct mono_gen_stats {
    int n_prompt;                    /* prompt tokens evaluated by this call */
    int n_cached;                    /* prompt tokens already in the cache
                                        (mono_chat reuse; 0 for mono_generate) */
    int n_generated;                 /* tokens sampled, a final stop token included */
    double prefill_seconds, decode_seconds;
    double prefill_tok_s, decode_tok_s;
    mono_stop_reason stop_reason;
} mono_gen_stats;

/* Runs the loop above. tok may be NULL (no text: the callback only sees
 * len 0 calls, stop strings are refused); callback and stats may be NULL.
 * If tokens is not NULL, *tokens receives the sampled ids (stop token not
 * included; release with mono_free) and *n_tokens their number. Errors:
 * the context's (prompt too long: MONO_ERR_RANGE), the sampler's, bad
 * params (MONO_ERR_INVALID_ARG), MONO_ERR_CANCELLED. An empty prompt
 * continues from the context's last logits. */
mono_status mono_generate(mono_context *ctx, const mono_tokenizer *tok, mono_sampler *sampler,
                          const int32_t *prompt, size_t n_prompt, const mono_gen_params *params,
                          mono_text_fn callback, void *user_data, mono_gen_stats *stats,
                          int32_t **tokens, size_t *n_tokens, mono_error *err);

/* Chat formatting. A message is a role ("system", "user", "assistant" or
 * "tool") and UTF-8 content. MONO_CHAT_QWEN2 renders exactly what Qwen2.5's
 * chat template renders without tools:
 *
 *   <|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a
 *   helpful assistant.<|im_end|>\n          (when messages[0] is no system)
 *   <|im_start|>user\nHi<|im_end|>\n
 *   <|im_start|>assistant\n                 (add_generation_prompt)
 *
 * (consecutive "tool" messages become one user turn of <tool_response>
 * blocks). MONO_CHAT_CHATML is the same without a default system prompt.
 * Special-token text inside content is not escaped, as in HF. */
typedef enum mono_chat_template {
    MONO_CHAT_QWEN2 = 0,
    MONO_CHAT_CHATML = 1
} mono_chat_template;

typedef struct mono_chat_message {
    const char *role;
    const char *content;
} mono_chat_message;

/* The template a model was made for: MONO_CHAT_QWEN2 when its GGUF chat
 * template carries Qwen's default system prompt, or (no template in the
 * file) when its vocabulary is Qwen2's (<|im_start|> = 151644); else
 * MONO_CHAT_CHATML. model may be NULL (MONO_CHAT_QWEN2). */
mono_chat_template mono_chat_template_for_model(const mono_model *model);

/* *out: NUL-terminated text (release with mono_free), *out_len its length
 * (out_len may be NULL). Unknown roles and content that is not valid UTF-8
 * are refused (MONO_ERR_INVALID_ARG, naming the message). */
mono_status mono_chat_format(mono_chat_template tmpl, const mono_chat_message *messages, size_t n,
                             int add_generation_prompt, char **out, size_t *out_len, mono_error *err);

/* A chat session: the conversation so far on one context. Each turn
 * renders the whole conversation, tokenizes it, keeps the longest prefix
 * already in the KV cache and evaluates only the rest, so a follow-up
 * question costs only its own tokens. The session owns the context's cache
 * while it lives (do not eval on the context yourself). */
typedef struct mono_chat mono_chat;

/* system may be NULL (the template's default). ctx and tok must outlive it. */
mono_status mono_chat_init(mono_context *ctx, const mono_tokenizer *tok, mono_chat_template tmpl,
                           const char *system, mono_chat **out, mono_error *err);
void mono_chat_free(mono_chat *chat);

/* Appends the user's message and generates the assistant's reply, streamed
 * through callback (see mono_generate; params NULL: defaults). The reply
 * (the streamed text) joins the conversation, also when cancelled (unless
 * cancelled before the first token: then the user's message is dropped
 * too). On other errors the conversation is left as it was before the
 * call. user_text may be NULL to answer the conversation as it stands.
 * stats->n_cached tells how many prompt tokens were reused from the cache.
 * The sampler's history is set to the conversation's tokens (HF
 * semantics). */
mono_status mono_chat_respond(mono_chat *chat, const char *user_text, mono_sampler *sampler,
                              const mono_gen_params *params, mono_text_fn callback, void *user_data,
                              mono_gen_stats *stats, mono_error *err);

/* Appends a message without generating (e.g. to replay a transcript). */
mono_status mono_chat_add(mono_chat *chat, const char *role, const char *content, mono_error *err);

/* Forgets the conversation (the system prompt stays) and empties the cache. */
void mono_chat_reset(mono_chat *chat);

/* Forgets the n oldest messages after the system prompt (all of them when
 * n is larger), e.g. to make room when mono_chat_respond says the
 * conversation no longer fits the context (MONO_ERR_RANGE). The next turn
 * re-evaluates the conversation from the first changed token. */
void mono_chat_forget(mono_chat *chat, size_t n);

size_t mono_chat_n_messages(const mono_chat *chat);
/* Message i (the system prompt, when one was given, is message 0); NULL
 * when out of range. Valid until the next call that changes the chat. */
const mono_chat_message *mono_chat_message_at(const mono_chat *chat, size_t i);

#ifdef __cplusplus
}
#endif
#endif /* MONOLOGUE_H */
