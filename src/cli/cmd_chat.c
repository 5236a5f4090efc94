/*
 * cmd_chat.c -- `monologue chat`: an interactive multi-turn chat on stdin /
 * stdout.
 *
 *   monologue chat -m MODEL [--system TEXT] [sampling flags as in run]
 *
 * Each line typed is a user message; the reply streams to stdout. The
 * conversation stays in the KV cache, so a follow-up costs only its own
 * tokens. Lines ending in a backslash continue on the next line. Commands:
 * /reset (start over: clears the conversation and the cache), /exit (or
 * /quit), /help. Ctrl-C stops the answer being written, not the program; a
 * second Ctrl-C at the prompt exits; so does end of input.
 *
 * Exit status: 0, or 1 when the model could not be loaded or any turn failed
 * (bad UTF-8, a conversation too long for the context, ...: the message
 * goes to stderr and the chat goes on), 2 for bad flags.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/engine.h"
#include "monologue.h"

/* Set by SIGINT, cleared by the REPL. (The one piece of process-wide state:
 * a signal handler can reach nothing else.) */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

typedef struct chat_opts {
    const char *model, *system;
    const char *stops[16];
    int n_stops;
    long long n_predict, n_threads, n_ctx;
    cli_sampling sampling;      /* as run's, and --presence-penalty --frequency-penalty */
    int kv_type, verbose, tmpl; /* tmpl: -1 = from the model */
} chat_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: monologue chat [-m MODEL] [options]\n"
            "\n"
            "An interactive chat: type a message, get the reply. /reset starts over,\n"
            "/exit quits, Ctrl-C stops an answer (twice at the prompt: quit).\n"
            "\n"
            CLI_MODEL_HELP
            "  --system TEXT          system prompt (default: the template's; Qwen's for qwen2)\n"
            "  --template NAME        auto (default: the model's), qwen2 (ChatML with Qwen's default\n"
            "                         system prompt) or chatml (no default system prompt)\n"
            "  -n, --n-predict N      tokens per reply at most (default -1: until a stop token)\n"
            CLI_SAMPLING_HELP
            CLI_SAMPLING_HELP_OPENAI
            CLI_SAMPLING_HELP_SEED
            "  --stop TEXT            also stop a reply at TEXT (repeatable, up to 16)\n"
            "  -t, --threads N        worker threads (default: all cores)\n"
            "  -c, --ctx-size N       context length (default: the model's, at most 4096)\n"
            "  --kv f32|f16           KV cache precision (default f32)\n"
            "  -q, --quiet            no banner and no per-reply speed report on stderr\n");
}

#define NEED(v) do { if (!((v) = cli_flag_value("chat", argc, argv, &i))) return 0; } while (0)

/* 1 on success, 0 on a bad flag (message printed), -1 for --help. */
static int parse_args(int argc, char **argv, chat_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_predict = -1;
    o->verbose = 1;
    o->tmpl = -1;
    cli_sampling_init(&o->sampling, "chat", CLI_SAMPLING_OPENAI_PENALTIES, 1e-6);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int sampling = cli_sampling_parse(&o->sampling, argc, argv, &i);
        if (sampling < 0) return 0;
        if (sampling) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return -1;
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) NEED(o->model);
        else if (!strcmp(a, "--system")) NEED(o->system);
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->verbose = 0;
        else if (!strcmp(a, "--template")) {
            NEED(v);
            if (!strcmp(v, "auto")) o->tmpl = -1;
            else if (!strcmp(v, "qwen2")) o->tmpl = MONO_CHAT_QWEN2;
            else if (!strcmp(v, "chatml")) o->tmpl = MONO_CHAT_CHATML;
            else { fprintf(stderr, "monologue chat: bad value for --template: '%s' (expected auto, qwen2 or chatml)\n", v); return 0; }
        } else if (!strcmp(a, "--stop")) {
            NEED(v);
            if (o->n_stops == 16) { fprintf(stderr, "monologue chat: at most 16 --stop strings\n"); return 0; }
            if (!*v) { fprintf(stderr, "monologue chat: bad value for --stop: the stop string is empty\n"); return 0; }
            o->stops[o->n_stops++] = v;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            NEED(v);
            if (!cli_parse_int("chat", a, v, -1, 1 << 24, &o->n_predict)) return 0;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            NEED(v);
            if (!cli_parse_int("chat", a, v, 1, 256, &o->n_threads)) return 0;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            NEED(v);
            if (!cli_parse_int("chat", a, v, 16, 1 << 24, &o->n_ctx)) return 0;
        } else if (!strcmp(a, "--kv")) {
            NEED(v);
            if (!cli_parse_kv("chat", v, &o->kv_type)) return 0;
        } else {
            fprintf(stderr, "monologue chat: unknown option '%s'\n", a);
            usage(stderr);
            return 0;
        }
    }
    return 1;
}

static int on_text(const char *text, size_t len, void *user) {
    (void)user;
    if (len) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
    return interrupted != 0;
}

/* Reads one message (backslash-newline continues it) into *buf without the
 * final newline. Returns 1 with a line, 2 with a line holding a NUL byte,
 * 0 at end of input, -1 when Ctrl-C interrupted the read. */
static int read_message(char **buf, size_t *cap, int tty) {
    size_t len = 0;
    char *line = NULL;
    size_t line_cap = 0;
    int nul = 0;
    if (!*buf) {
        *cap = 256;
        if (!(*buf = malloc(*cap))) return 0;
    }
    (*buf)[0] = '\0';
    for (;;) {
        errno = 0;
        ssize_t n = getline(&line, &line_cap, stdin);
        if (n < 0) {
            int intr = errno == EINTR || interrupted;
            clearerr(stdin);
            free(line);
            if (intr) return -1;
            return len > 0 ? 1 + nul : 0;
        }
        if (memchr(line, '\0', (size_t)n)) nul = 1;   /* the text would end there: refuse, never truncate */
        if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
        if (n > 0 && line[n - 1] == '\r') line[--n] = '\0';
        int more = n > 0 && line[n - 1] == '\\';
        if (more) line[--n] = '\n'; /* the continuation keeps its line break */
        if (len + (size_t)n + 1 > *cap) {
            size_t c = (len + (size_t)n + 1) * 2;
            char *b = realloc(*buf, c);
            if (!b) { free(line); return 0; }
            *buf = b;
            *cap = c;
        }
        memcpy(*buf + len, line, (size_t)n);
        len += (size_t)n;
        (*buf)[len] = '\0';
        if (!more) break;
        if (tty) { fputs(". ", stdout); fflush(stdout); }
    }
    free(line);
    return 1 + nul;
}

/* Stop tokens: the model's end-of-generation ids, plus the template's
 * end-of-turn token when the tokenizer has it. */
static int stop_tokens(const mono_model *m, const mono_tokenizer *tok, int32_t *ids) {
    mono_model_info info;
    mono_model_info_get(m, &info);
    int n = 0;
    for (int i = 0; i < info.n_eos; i++) ids[n++] = info.eos_ids[i];
    int32_t im_end = mono_tokenizer_token_id(tok, "<|im_end|>", 10);
    int have = 0;
    for (int i = 0; i < n; i++) have |= ids[i] == im_end;
    if (im_end >= 0 && !have) ids[n++] = im_end;
    return n;
}

typedef struct repl {
    const chat_opts *o;
    mono_chat *chat;
    mono_sampler *smp;
    mono_gen_params gp;
    int failures;
} repl;

/* One user turn; returns 0 normally, 1 if Ctrl-C stopped the answer. */
static int turn(repl *r, const char *text) {
    mono_error err;
    mono_gen_stats gs;
    interrupted = 0;
    mono_status s = mono_chat_respond(r->chat, text, r->smp, &r->gp, on_text, NULL, &gs, &err);
    /* too long for the context: forget the oldest exchange and try again */
    while (s == MONO_ERR_RANGE && mono_chat_n_messages(r->chat) >= (size_t)(r->o->system ? 3 : 2)) {
        mono_chat_forget(r->chat, 2);
        if (r->o->verbose) fprintf(stderr, "[context full: forgot the oldest exchange]\n");
        s = mono_chat_respond(r->chat, text, r->smp, &r->gp, on_text, NULL, &gs, &err);
    }
    fputs("\n", stdout);
    fflush(stdout);
    if (s == MONO_ERR_CANCELLED) {
        if (r->o->verbose) fprintf(stderr, "[stopped]\n");
        return 1;
    }
    if (s != MONO_OK) {
        fprintf(stderr, "monologue chat: %s\n", err.message);
        r->failures++;
        return 0;
    }
    if (r->o->verbose)
        fprintf(stderr, "[prefill %d tokens (%d cached), %.1f tok/s | reply %d tokens, %.1f tok/s | %s]\n", gs.n_prompt,
                gs.n_cached, gs.prefill_tok_s, gs.n_generated, gs.decode_tok_s, mono_stop_reason_name(gs.stop_reason));
    return 0;
}

static void repl_loop(repl *r) {
    int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    int ctrl_c = 0; /* consecutive Ctrl-C presses with no message between */
    char *buf = NULL;
    size_t cap = 0;
    for (;;) {
        if (tty) { fputs("> ", stdout); fflush(stdout); }
        interrupted = 0;
        int got = read_message(&buf, &cap, tty);
        if (got == 0) break; /* end of input */
        if (got < 0) {
            if (++ctrl_c >= 2) break;
            fprintf(stderr, "\n(Ctrl-C again or /exit to quit)\n");
            continue;
        }
        if (got != 2 && buf[0] == '\0') continue;
        ctrl_c = 0;
        if (got == 2) {
            fprintf(stderr, "monologue chat: the message contains a NUL byte (skipped)\n");
            r->failures++;
            continue;
        }
        if (buf[0] == '/') {
            if (!strcmp(buf, "/exit") || !strcmp(buf, "/quit")) break;
            if (!strcmp(buf, "/reset")) {
                mono_chat_reset(r->chat);
                mono_sampler_reset(r->smp);
                if (r->o->verbose) fprintf(stderr, "[conversation cleared]\n");
            } else if (!strcmp(buf, "/help")) {
                fprintf(stderr, "/reset clears the conversation, /exit quits; end a line with \\ to continue it\n");
            } else {
                fprintf(stderr, "monologue chat: unknown command '%.40s' (try /help)\n", buf);
                r->failures++;
            }
            continue;
        }
        ctrl_c = turn(r, buf);
    }
    if (tty) fputs("\n", stdout);
    free(buf);
}

int cmd_chat(int argc, char **argv) {
    chat_opts o;
    int pr = parse_args(argc, argv, &o);
    if (pr < 0) { usage(stdout); return 0; }
    if (!pr) return 2;
    int rc = 1;
    mono_error err;
    mono_context *ctx = NULL;
    repl r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    mono_model *m = cli_load_model("chat", o.model, (int)o.n_threads, o.verbose);
    if (!m) return 1;
    const mono_tokenizer *tok = mono_model_tokenizer(m);
    if (!tok) {
        fprintf(stderr, "monologue chat: the model has no tokenizer (a GGUF with tokenizer metadata, or a folder with tokenizer.json, is needed)\n");
        goto done;
    }
    if (mono_tokenizer_token_id(tok, "<|im_start|>", 12) < 0 || mono_tokenizer_token_id(tok, "<|im_end|>", 10) < 0)
        fprintf(stderr, "monologue chat: warning: the tokenizer has no <|im_start|>/<|im_end|> tokens; "
                        "this model was probably not trained for ChatML chat\n");
    mono_context_params cp = mono_context_params_default();
    cp.n_ctx = (int)o.n_ctx;
    cp.n_threads = (int)o.n_threads;
    cp.kv_type = o.kv_type;
    mono_sampler_params sp = cli_sampling_params(&o.sampling, m);
    mono_chat_template tmpl = o.tmpl < 0 ? mono_chat_template_for_model(m) : (mono_chat_template)o.tmpl;
    if (mono_context_init(m, &cp, &ctx, &err) != MONO_OK || mono_sampler_init(&sp, &r.smp, &err) != MONO_OK ||
        mono_chat_init(ctx, tok, tmpl, o.system, &r.chat, &err) != MONO_OK) {
        fprintf(stderr, "monologue chat: %s\n", err.message);
        goto done;
    }
    int32_t stops[MONO_MAX_EOS + 1];
    r.gp = mono_gen_params_default();
    r.gp.max_tokens = (int)o.n_predict;
    r.gp.stop_tokens = stops;
    r.gp.n_stop_tokens = stop_tokens(m, tok, stops);
    r.gp.stop_strings = o.stops;
    r.gp.n_stop_strings = o.n_stops;
    if (o.verbose) {
        char sampling[160];
        if (sp.temperature > 0)
            snprintf(sampling, sizeof sampling, "temperature %g, top-k %d, top-p %g, min-p %g, repetition penalty %g",
                     (double)sp.temperature, sp.top_k, (double)sp.top_p, (double)sp.min_p, (double)sp.repetition_penalty);
        else
            snprintf(sampling, sizeof sampling, "greedy, repetition penalty %g", (double)sp.repetition_penalty);
        fprintf(stderr, "monologue chat: template %s, context %d tokens, %s.\n"
                        "/reset starts over, /exit quits, Ctrl-C stops an answer.\n",
                tmpl == MONO_CHAT_QWEN2 ? "qwen2" : "chatml", mono_context_n_ctx(ctx), sampling);
    }

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: Ctrl-C interrupts a read at the prompt */
    sigaction(SIGINT, &sa, &old);
    repl_loop(&r);
    sigaction(SIGINT, &old, NULL);
    rc = r.failures ? 1 : 0;
done:
    mono_chat_free(r.chat);
    mono_sampler_free(r.smp);
    mono_context_free(ctx);
    mono_model_free(m);
    return rc;
}
