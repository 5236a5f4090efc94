/*
 * cmd_run.c -- `monologue run`: generate text (or ids) from a prompt.
 *
 *   monologue run -m MODEL -p "Once upon a time" -n 64
 *   monologue run -m MODEL --chat --system "Be brief." -p "What is RoPE?"
 *   monologue run -m MODEL --tokens 1,2,3 -n 8 --temp 0 --print-ids
 *
 * Text streams to stdout as it is generated (whole UTF-8 characters only);
 * load time and prefill/decode speed go to stderr. Sampling defaults come
 * from the model's generation_config, overridden by the flags. Generation
 * stops at the model's end-of-generation tokens, after -n tokens, when the
 * context is full, or on Ctrl-C.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/engine.h"
#include "core/file.h"
#include "model/model.h"
#include "runtime/chat.h"
#include "monologue.h"

/* Set by SIGINT; the text callback turns it into a cancel. (The one piece
 * of process-wide state: a signal handler can reach nothing else.) */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

typedef struct run_opts {
    const char *model, *prompt, *tokens, *system, *prompt_file;
    char *prompt_buf;            /* the contents of -f FILE (malloc'd) */
    long long n_predict, n_threads, n_ctx;
    cli_sampling sampling;       /* --temp --top-k --top-p --min-p --repeat-penalty --seed */
    int chat, print_ids, kv_type, verbose, ignore_eos;
} run_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: monologue run [-m MODEL] (-p PROMPT | --tokens ID,ID,...) [options]\n"
            "\n"
            CLI_MODEL_HELP
            "  -p, --prompt TEXT      the prompt\n"
            "  -f, --file FILE        the prompt is the contents of FILE ('-': standard input)\n"
            "  --tokens IDS           the prompt as token ids (comma separated)\n"
            "  -n, --n-predict N      tokens to generate at most (default 256; -1: until a stop token;\n"
            "                         0: only evaluate the prompt)\n"
            CLI_SAMPLING_HELP
            CLI_SAMPLING_HELP_SEED
            "  -t, --threads N        worker threads (default: all cores)\n"
            "  -c, --ctx-size N       context length (default: the model's, at most 4096)\n"
            "  --kv f32|f16           KV cache precision (default f32)\n"
            "  --chat                 wrap the prompt in the model's chat template (ChatML)\n"
            "  --system TEXT          system prompt for --chat (default: Qwen's)\n"
            "  --print-ids            print the generated ids (space separated) instead of text\n"
            "  --ignore-eos           do not stop at end-of-generation tokens (e.g. for timing)\n"
            "  -q, --quiet            no load/speed report on stderr\n");
}

/* Reads -f FILE (or standard input for '-') into o->prompt. */
static int read_prompt_file(run_opts *o) {
    char *buf;
    size_t len;
    mono_error err;
    mono_status st = strcmp(o->prompt_file, "-") ? mono_file_read_text(o->prompt_file, &buf, &len, &err)
                                                  : mono_file_read_stream(stdin, "standard input", &buf, &len, &err);
    if (st != MONO_OK) {
        fprintf(stderr, "monologue run: cannot open the prompt: %s\n", err.message);
        return 0;
    }
    if (strlen(buf) != len) {
        free(buf);
        fprintf(stderr, "monologue run: %s contains a NUL byte; a prompt is text\n", o->prompt_file);
        return 0;
    }
    o->prompt_buf = buf;
    o->prompt = buf;
    return 1;
}

#define NEED(v) do { if (!((v) = cli_flag_value("run", argc, argv, &i))) return 0; } while (0)

static int parse_args(int argc, char **argv, run_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_predict = 256;
    o->verbose = 1;
    cli_sampling_init(&o->sampling, "run", 0, 0);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int sampling = cli_sampling_parse(&o->sampling, argc, argv, &i);
        if (sampling < 0) return 0;
        if (sampling) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) NEED(o->model);
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) NEED(o->prompt);
        else if (!strcmp(a, "--tokens")) NEED(o->tokens);
        else if (!strcmp(a, "-f") || !strcmp(a, "--file")) NEED(o->prompt_file);
        else if (!strcmp(a, "--ignore-eos")) o->ignore_eos = 1;
        else if (!strcmp(a, "--system")) NEED(o->system);
        else if (!strcmp(a, "--chat")) o->chat = 1;
        else if (!strcmp(a, "--print-ids")) o->print_ids = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->verbose = 0;
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            NEED(v);
            if (!cli_parse_int("run", a, v, -1, 1 << 24, &o->n_predict)) return 0;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            NEED(v);
            if (!cli_parse_int("run", a, v, 1, 256, &o->n_threads)) return 0;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            NEED(v);
            if (!cli_parse_int("run", a, v, 1, 1 << 24, &o->n_ctx)) return 0;
        } else if (!strcmp(a, "--kv")) {
            NEED(v);
            if (!cli_parse_kv("run", v, &o->kv_type)) return 0;
        } else {
            fprintf(stderr, "monologue run: unknown option '%s'\n", a);
            usage(stderr);
            return 0;
        }
    }
    if ((o->prompt != NULL) + (o->tokens != NULL) + (o->prompt_file != NULL) != 1) {
        fprintf(stderr, "monologue run: give exactly one of -p PROMPT, -f FILE and --tokens IDS\n");
        return 0;
    }
    if (o->system && !o->chat) {
        fprintf(stderr, "monologue run: --system needs --chat\n");
        return 0;
    }
    if (o->chat && o->tokens) {
        fprintf(stderr, "monologue run: --chat formats a text prompt: use -p, not --tokens\n");
        return 0;
    }
    if (o->prompt_file && !read_prompt_file(o)) return 0;
    return 1;
}

/* The prompt as ids: --tokens as given; -p encoded (in the chat template
 * with --chat), special tokens written in the text recognised. */
static int prompt_ids(const run_opts *o, const mono_model *model, int32_t **ids, int *n) {
    const mono_tokenizer *tok = mono_model_tokenizer(model);
    if (o->tokens) return cli_parse_tokens("run", o->tokens, ids, n);
    if (!tok) {
        fprintf(stderr, "monologue run: the model has no usable tokenizer (%s); give the prompt as --tokens IDS\n",
                mono_model_tokenizer_note(model));
        return 0;
    }
    mono_error err;
    char *text = NULL;
    size_t len = strlen(o->prompt);
    const char *src = o->prompt;
    size_t valid = mono_utf8_valid_prefix(o->prompt, len);
    if (valid != len) {     /* the chat path says the same; plain prompts too (tokenize is for raw bytes) */
        fprintf(stderr, "monologue run: the prompt is not valid UTF-8 (bad byte 0x%02x at offset %zu)\n",
                (unsigned char)o->prompt[valid], valid);
        return 0;
    }
    if (o->chat) {
        mono_chat_message msgs[2];
        size_t k = 0;
        if (o->system) msgs[k++] = (mono_chat_message){"system", o->system};
        msgs[k++] = (mono_chat_message){"user", o->prompt};
        if (mono_chat_format(MONO_CHAT_QWEN2, msgs, k, 1, &text, &len, &err) != MONO_OK) {
            fprintf(stderr, "monologue run: %s\n", err.message);
            return 0;
        }
        src = text;
    }
    int32_t *v = NULL;
    size_t count = 0;
    mono_status s = mono_tokenizer_encode(tok, src, len, 0, &v, &count, &err);
    mono_free(text);
    if (s != MONO_OK) {
        fprintf(stderr, "monologue run: encoding the prompt: %s\n", err.message);
        return 0;
    }
    if (count == 0 || count > INT32_MAX) {
        mono_free(v);
        fprintf(stderr, "monologue run: the prompt is empty\n");
        return 0;
    }
    *ids = malloc(count * sizeof **ids);
    if (!*ids) { mono_free(v); fprintf(stderr, "monologue run: out of memory\n"); return 0; }
    memcpy(*ids, v, count * sizeof **ids);
    mono_free(v);
    *n = (int)count;
    return 1;
}

static int on_text(const char *text, size_t len, void *user) {
    const run_opts *o = user;
    if (len && !o->print_ids) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
    return interrupted != 0;
}

int cmd_run(int argc, char **argv) {
    run_opts o;
    if (!parse_args(argc, argv, &o)) return 2;
    int rc = 1;
    mono_error err;
    mono_context *ctx = NULL;
    mono_sampler *smp = NULL;
    int32_t *ids = NULL, *out = NULL;
    size_t n_out = 0;
    int n_ids = 0;
    mono_model *m = cli_load_model("run", o.model, (int)o.n_threads, o.verbose);
    if (!m) {
        free(o.prompt_buf);
        return 1;
    }
    const mono_tokenizer *tok = mono_model_tokenizer(m);
    if (!prompt_ids(&o, m, &ids, &n_ids)) { rc = 2; goto done; }
    if (!tok && !o.print_ids) {   /* no text to show: never an empty answer that looks like one */
        fprintf(stderr, "monologue run: the model has no tokenizer: printing the generated ids (as --print-ids)\n");
        o.print_ids = 1;
    }

    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = (int)o.n_ctx;
    cp.n_threads = (int)o.n_threads;
    cp.kv_type = o.kv_type;
    mono_sampler_params sp = cli_sampling_params(&o.sampling, m);
    if (mono_context_init(m, &cp, &ctx, &err) != MONO_OK || mono_sampler_init(&sp, &smp, &err) != MONO_OK) {
        fprintf(stderr, "monologue run: %s\n", err.message);
        goto done;
    }
    if (n_ids > mono_context_n_ctx(ctx)) {
        fprintf(stderr, "monologue run: the prompt has %d tokens but the context holds %d (raise -c)\n", n_ids,
                mono_context_n_ctx(ctx));
        goto done;
    }
    if (o.n_predict == 0) { /* -n 0: evaluate the prompt only (e.g. to time prefill) */
        if (mono_context_eval(ctx, ids, n_ids, 0, NULL, &err) != MONO_OK) {
            fprintf(stderr, "monologue run: %s\n", err.message);
            goto done;
        }
        mono_context_stats st;
        mono_context_stats_get(ctx, &st);
        if (o.verbose)
            fprintf(stderr, "prefill: %d tokens, %.1f tokens/s\n", n_ids,
                    st.prefill_seconds + st.decode_seconds > 0 ? n_ids / (st.prefill_seconds + st.decode_seconds) : 0.0);
        rc = 0;
        goto done;
    }
    mono_gen_params gp = mono_gen_params_default();
    gp.max_tokens = (int)o.n_predict;
    static const int32_t no_stop[1] = {-1};
    if (o.ignore_eos) {
        gp.stop_tokens = no_stop; /* a list of none (NULL would mean the model's) */
        gp.n_stop_tokens = 0;
    }
    mono_gen_stats gs;
    memset(&gs, 0, sizeof gs);
    signal(SIGINT, on_sigint);
    mono_status s = mono_generate(ctx, tok, smp, ids, (size_t)n_ids, &gp, on_text, &o, &gs, &out, &n_out, &err);
    signal(SIGINT, SIG_DFL);
    if (o.print_ids) {
        for (size_t i = 0; i < n_out; i++) printf(i ? " %d" : "%d", (int)out[i]);
        printf("\n");
    } else if (n_out) {
        printf("\n");
    }
    fflush(stdout);
    if (s != MONO_OK && s != MONO_ERR_CANCELLED) {
        fprintf(stderr, "monologue run: %s\n", err.message);
        goto done;
    }
    if (o.verbose)
        fprintf(stderr, "prefill: %d tokens, %.1f tokens/s | decode: %d tokens, %.1f tokens/s | stop: %s\n",
                gs.n_prompt, gs.prefill_tok_s, gs.n_generated, gs.decode_tok_s, mono_stop_reason_name(gs.stop_reason));
    rc = s == MONO_ERR_CANCELLED ? 130 : 0;
done:
    free(o.prompt_buf);
    mono_free(out);
    free(ids);
    mono_sampler_free(smp);
    mono_context_free(ctx);
    mono_model_free(m);
    return rc;
}
