/*
 * cmd_tokenize.c -- `monologue tokenize`: text to token ids and back, for
 * scripts and for comparing against other tokenizers.
 *
 *   monologue tokenize -t tokenizer.json < text.txt        -> [9707, 11, ...]
 *   monologue tokenize -t model.gguf --jsonl < in.jsonl     one {"text": ...}
 *                                                           per line -> one
 *                                                           id array per line
 *   monologue tokenize -t tok.json --decode < ids.json      -> the text
 *   monologue tokenize -t tok.json --decode --jsonl         one id array per
 *                                                           line -> one
 *                                                           {"text": ...} line
 *
 *   monologue tokenize -t tok.json --pieces < text.txt      -> ["Hello", ",", ...]
 *                                                           the pre-tokenized pieces
 *                                                           (vocabulary spelling,
 *                                                           "\u0120world" for " world")
 *
 * Decoded text is Hugging Face's (invalid UTF-8 becomes U+FFFD); --raw
 * writes the tokens' bytes as they are instead (not with --jsonl, whose
 * output must be valid JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/json.h"
#include "monologue.h"
#include "tokenizer/utf8.h"

typedef struct opts {
    const char *tokenizer;
    int jsonl, decode, raw, pieces, skip_special, bytes;
    unsigned flags;
} opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: monologue tokenize -t FILE [--jsonl] [--decode [--raw] [--skip-special]] [--pieces]\n"
            "                          [--special-as-text] [--bytes]\n"
            "\n"
            "Reads stdin, writes stdout. FILE is a tokenizer.json, a folder holding one, or a .gguf.\n"
            "  (default)          UTF-8 text in, one JSON array of token ids out (input that is not\n"
            "                     valid UTF-8 is an error)\n"
            "  --bytes            encode the input's bytes as they are, valid UTF-8 or not (byte-level BPE)\n"
            "  --jsonl            each input line is a JSON object with a \"text\" string;\n"
            "                     each output line is that text's id array\n"
            "  --decode           a JSON array of ids in, the decoded text out (invalid UTF-8 -> U+FFFD);\n"
            "                     with --jsonl: one array per line in, one {\"text\": ...} per line out\n"
            "  --raw              with --decode: write the tokens' bytes unchanged\n"
            "  --skip-special     with --decode: leave special tokens out\n"
            "  --pieces           print the pre-tokenized pieces (JSON strings in the vocabulary's\n"
            "                     byte-level spelling) instead of ids; works with --jsonl\n"
            "  --special-as-text  encode special tokens written in the text (<|im_end|>) as plain text\n");
}

static int fail(const char *what, const mono_error *err) {
    fprintf(stderr, "monologue tokenize: %s%s%s\n", what, err ? ": " : "", err ? err->message : "");
    return 1;
}

static void write_ids(const int32_t *ids, size_t n) {
    char tmp[16];
    putchar('[');
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(tmp, sizeof tmp, i ? ", %d" : "%d", ids[i]);
        fwrite(tmp, 1, (size_t)len, stdout);
    }
    fputs("]\n", stdout);
}

/* Parses a JSON array of ids (checked to be int32). */
static int parse_ids(const char *s, size_t len, int32_t **ids, size_t *n, char *why, size_t why_size) {
    mono_json_doc *doc;
    mono_error err;
    if (mono_json_parse(s, len, &doc, &err) != MONO_OK) {
        snprintf(why, why_size, "%s", err.message);
        return 0;
    }
    const mono_json *r = mono_json_root(doc);
    if (r->type != MONO_JSON_ARRAY) {
        snprintf(why, why_size, "expected a JSON array of token ids, found %s", mono_json_type_name(r->type));
        mono_json_doc_free(doc);
        return 0;
    }
    *ids = malloc((r->len ? r->len : 1) * sizeof **ids);
    if (!*ids) {
        snprintf(why, why_size, "out of memory");
        mono_json_doc_free(doc);
        return 0;
    }
    for (uint32_t i = 0; i < r->len; i++) {
        int64_t v;
        if (!mono_json_as_int64(&r->u.items[i], &v) || v < INT32_MIN || v > INT32_MAX) {
            snprintf(why, why_size, "element %u is not an integer token id", i);
            free(*ids);
            mono_json_doc_free(doc);
            return 0;
        }
        (*ids)[i] = (int32_t)v;
    }
    *n = r->len;
    mono_json_doc_free(doc);
    return 1;
}

typedef struct piece_out {
    int first;
} piece_out;

/* Writes one piece as a JSON string in byte-level spelling (an added token
 * as its content). */
static void write_piece(void *user, const char *p, size_t n, int32_t added_id) {
    piece_out *po = user;
    fputs(po->first ? "\"" : ", \"", stdout);
    po->first = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)p[i];
        if (added_id < 0) {
            /* GPT-2's byte alphabet: printable Latin-1 stands for itself */
            if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || c >= 174)) {
                unsigned k = c <= 32 ? c : c <= 160 ? c - 127 + 33 : 67;
                printf("\\u%04x", 256 + k);
                continue;
            }
            if (c >= 128) {
                printf("\\u%04x", c);
                continue;
            }
        } else if (c < 32) {
            printf("\\u%04x", c);
            continue;
        }
        if (c == '"' || c == '\\') putchar('\\');
        putchar((int)c);
    }
    putchar('"');
}

static int run_encode(const opts *o, mono_encoder *enc, const char *in, size_t len) {
    int32_t *ids;
    size_t n;
    mono_error err;
    if (o->pieces) {
        piece_out po = {1};
        putchar('[');
        if (mono_encoder_pieces(enc, in, len, o->flags, write_piece, &po, &err) != MONO_OK) return fail("encoding", &err);
        fputs("]\n", stdout);
        return 0;
    }
    if (mono_encoder_encode(enc, in, len, o->flags, &ids, &n, &err) != MONO_OK) return fail("encoding", &err);
    write_ids(ids, n);
    mono_free(ids);
    return 0;
}

static int run_decode(const opts *o, const mono_tokenizer *tok, const char *in, size_t len, size_t line) {
    int32_t *ids;
    size_t n;
    char why[600];
    if (!parse_ids(in, len, &ids, &n, why, sizeof why)) {
        if (line) fprintf(stderr, "monologue tokenize: line %zu: %s\n", line, why);
        else fprintf(stderr, "monologue tokenize: %s\n", why);
        return 1;
    }
    char *text;
    size_t tlen;
    mono_error err;
    unsigned flags = (o->raw ? MONO_DECODE_RAW_BYTES : 0) | (o->skip_special ? MONO_DECODE_SKIP_SPECIAL : 0);
    mono_status st = mono_tokenizer_decode_ex(tok, ids, n, flags, &text, &tlen, &err);
    free(ids);
    if (st != MONO_OK) {
        if (line) fprintf(stderr, "monologue tokenize: line %zu: %s\n", line, err.message);
        else fprintf(stderr, "monologue tokenize: %s\n", err.message);
        return 1;
    }
    if (o->jsonl) {
        fputs("{\"text\": ", stdout);
        mono_json_write_string(stdout, text, tlen);
        fputs("}\n", stdout);
    } else {
        fwrite(text, 1, tlen, stdout);
    }
    mono_free(text);
    return 0;
}

/* One --jsonl encode line: {"text": "..."} -> ids. */
static int run_encode_line(const opts *o, mono_encoder *enc, const char *s, size_t len, size_t line) {
    mono_json_doc *doc;
    mono_error err;
    if (mono_json_parse(s, len, &doc, &err) != MONO_OK) {
        fprintf(stderr, "monologue tokenize: line %zu: %s\n", line, err.message);
        return 1;
    }
    const mono_json *text = mono_json_get_typed(mono_json_root(doc), "text", MONO_JSON_STRING);
    int rc;
    if (!text) {
        fprintf(stderr, "monologue tokenize: line %zu: expected an object with a \"text\" string\n", line);
        rc = 1;
    } else {
        rc = run_encode(o, enc, text->u.str, text->len);
    }
    mono_json_doc_free(doc);
    return rc;
}

static int parse_args(int argc, char **argv, opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-t") || !strcmp(a, "--tokenizer")) {
            if (!(o->tokenizer = cli_flag_value("tokenize", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--jsonl")) {
            o->jsonl = 1;
        } else if (!strcmp(a, "--decode")) {
            o->decode = 1;
        } else if (!strcmp(a, "--skip-special")) {
            o->skip_special = 1;
        } else if (!strcmp(a, "--pieces")) {
            o->pieces = 1;
        } else if (!strcmp(a, "--raw")) {
            o->raw = 1;
        } else if (!strcmp(a, "--bytes")) {
            o->bytes = 1;
        } else if (!strcmp(a, "--special-as-text")) {
            o->flags |= MONO_ENCODE_SPECIAL_AS_TEXT;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return -1;
        } else {
            fprintf(stderr, "monologue tokenize: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!o->tokenizer) {
        fprintf(stderr, "monologue tokenize: -t FILE is required\n");
        usage(stderr);
        return 2;
    }
    if (o->skip_special && !o->decode) {
        fprintf(stderr, "monologue tokenize: --skip-special only goes with --decode\n");
        return 2;
    }
    if (o->pieces && o->decode) {
        fprintf(stderr, "monologue tokenize: --pieces and --decode do not go together\n");
        return 2;
    }
    if (o->bytes && (o->decode || o->jsonl)) {
        fprintf(stderr, "monologue tokenize: --bytes only goes with plain text in (no --decode, no --jsonl)\n");
        return 2;
    }
    if (o->raw && (!o->decode || o->jsonl)) {
        fprintf(stderr, "monologue tokenize: --raw only goes with --decode without --jsonl\n");
        return 2;
    }
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    mono_tokenizer *tok;
    mono_error err;
    if (mono_tokenizer_load(o.tokenizer, &tok, &err) != MONO_OK) return fail("loading the tokenizer", &err);
    mono_encoder *enc = NULL;
    if (mono_encoder_init(tok, &enc, &err) != MONO_OK) {
        mono_tokenizer_free(tok);
        return fail("", &err);
    }
    size_t len;
    char *in = NULL;
    if (mono_file_read_stream(stdin, "standard input", &in, &len, &err) != MONO_OK) {
        rc = fail("reading", &err);
    } else if (!o.jsonl && !o.decode && !o.bytes && mono_utf8_valid_prefix(in, len) != len) {
        /* text in is UTF-8, as for Hugging Face's and tiktoken's encoders; --bytes takes any bytes */
        size_t at = mono_utf8_valid_prefix(in, len);
        fprintf(stderr, "monologue tokenize: standard input is not valid UTF-8 (byte 0x%02x at offset %zu); "
                "--bytes encodes raw bytes\n", (unsigned char)in[at], at);
        rc = 1;
    } else if (!o.jsonl) {
        rc = o.decode ? run_decode(&o, tok, in, len, 0) : run_encode(&o, enc, in, len);
    } else {
        size_t line = 0;
        for (char *s = in, *end; s < in + len && !rc; s = end + 1) {
            end = memchr(s, '\n', (size_t)(in + len - s));
            if (!end) end = in + len;
            line++;
            size_t n = (size_t)(end - s);
            if (n && s[n - 1] == '\r') n--;
            rc = o.decode ? run_decode(&o, tok, s, n, line) : run_encode_line(&o, enc, s, n, line);
        }
    }
    if (fflush(stdout) != 0 && !rc) rc = fail("writing stdout failed", NULL);
    free(in);
    mono_encoder_free(enc);
    mono_tokenizer_free(tok);
    return rc;
}
