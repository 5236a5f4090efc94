/*
 * test_train.c -- the BPE trainer and the tokenizer.json writer.
 *
 * The core check compares the trainer's merges with a deliberately naive
 * reference written here (recount every pair from scratch before each
 * merge, pick the best by count then smaller ids, rewrite every word) on
 * random corpora over tiny alphabets, where runs like "aaaa" exercise the
 * overlapping-pair and duplicate-token paths. Then: hand-worked merges,
 * special tokens, NFC, the GPT-2 pattern, chunked file feeding, errors, and
 * the JSON layout parsed back with the project's JSON parser.
 */
#define _POSIX_C_SOURCE 200809L   /* mkstemp */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/json.h"
#include "monologue.h"
#include "test.h"
#include "tokenizer/nfc.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/train_internal.h"

/* ---- a naive reference trainer ------------------------------------------ */

typedef struct ref_tok { uint8_t s[4096]; size_t n; } ref_tok;
typedef struct ref_pair { uint32_t a, b; int64_t n; } ref_pair;

static int ref_pair_cmp(const void *x, const void *y) {
    const ref_pair *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return 0;
}

/* Learns merges from the trainer's counted pieces; returns the merge count
 * and fills merges[2*i], merges[2*i+1] (ids), result[i], and toks. */
static uint32_t ref_train(const mono_trainer *tr, uint32_t target, uint32_t *merges, uint32_t *result,
                          ref_tok *toks, uint32_t *n_toks, const char *forbid) {
    uint32_t id_of_byte[256], nt = 0;
    for (int b = 0; b < 256; b++) {
        uint32_t cp = mono_bytelevel_char((uint8_t)b), r = 0;
        for (int o = 0; o < 256; o++) r += mono_bytelevel_char((uint8_t)o) < cp;
        id_of_byte[b] = r;
        toks[r].s[0] = (uint8_t)b;
        toks[r].n = 1;
    }
    nt = 256;
    size_t nw = tr->n_pieces;
    uint32_t **w = calloc(nw, sizeof *w), *wl = calloc(nw, sizeof *wl);
    for (size_t i = 0; i < nw; i++) {
        w[i] = malloc(tr->pieces[i].len * sizeof **w);
        wl[i] = tr->pieces[i].len;
        for (uint32_t k = 0; k < wl[i]; k++) w[i][k] = id_of_byte[tr->arena[tr->pieces[i].off + k]];
    }
    uint32_t nm = 0;
    /* distinct pairs of the current words: all occurrences, sorted, summed */
    size_t cap = 1;
    for (size_t i = 0; i < nw; i++) cap += wl[i];
    ref_pair *occ = malloc(cap * sizeof *occ);
    uint32_t *pa = malloc(cap * sizeof *pa), *pb = malloc(cap * sizeof *pb);
    int64_t *pc = malloc(cap * sizeof *pc);
    int64_t best = 0;
    uint32_t ba = 0, bb = 0;
    while (nt < target) {
        size_t no = 0, np = 0;
        for (size_t i = 0; i < nw; i++)
            for (uint32_t k = 0; k + 1 < wl[i]; k++)
                occ[no++] = (ref_pair){w[i][k], w[i][k + 1], (int64_t)tr->pieces[i].count};
        qsort(occ, no, sizeof *occ, ref_pair_cmp);
        for (size_t j = 0; j < no; j++) {
            if (np && pa[np - 1] == occ[j].a && pb[np - 1] == occ[j].b) { pc[np - 1] += occ[j].n; continue; }
            pa[np] = occ[j].a; pb[np] = occ[j].b; pc[np++] = occ[j].n;
        }
        for (;;) {
            best = 0;
            for (size_t j = 0; j < np; j++)
                if (pc[j] > best || (pc[j] == best && best > 0 && (pa[j] < ba || (pa[j] == ba && pb[j] < bb)))) {
                    best = pc[j]; ba = pa[j]; bb = pb[j];
                }
            if (best == 0) break;
            uint8_t buf[4096];
            size_t n = toks[ba].n + toks[bb].n;
            memcpy(buf, toks[ba].s, toks[ba].n);
            memcpy(buf + toks[ba].n, toks[bb].s, toks[bb].n);
            if (forbid && n == strlen(forbid) && !memcmp(buf, forbid, n)) {
                for (size_t j = 0; j < np; j++) if (pa[j] == ba && pb[j] == bb) pc[j] = 0;
                continue;
            }
            break;
        }
        if (best == 0) break;
        uint8_t buf[4096];
        size_t n = toks[ba].n + toks[bb].n;
        memcpy(buf, toks[ba].s, toks[ba].n);
        memcpy(buf + toks[ba].n, toks[bb].s, toks[bb].n);
        uint32_t id = nt;
        for (uint32_t t = 0; t < nt; t++)
            if (toks[t].n == n && !memcmp(toks[t].s, buf, n)) { id = t; break; }
        if (id == nt) {
            memcpy(toks[nt].s, buf, n);
            toks[nt++].n = n;
        }
        merges[2 * nm] = ba;
        merges[2 * nm + 1] = bb;
        result[nm++] = id;
        for (size_t i = 0; i < nw; i++) {
            uint32_t j = 0;
            for (uint32_t k = 0; k < wl[i];) {
                if (k + 1 < wl[i] && w[i][k] == ba && w[i][k + 1] == bb) { w[i][j++] = id; k += 2; }
                else w[i][j++] = w[i][k++];
            }
            wl[i] = j;
        }
    }
    free(occ);
    free(pa);
    free(pb);
    free(pc);
    for (size_t i = 0; i < nw; i++) free(w[i]);
    free(w);
    free(wl);
    *n_toks = nt;
    return nm;
}

static void random_corpus(char *buf, size_t n, const char *alphabet, uint64_t *rng) {
    size_t k = strlen(alphabet);
    for (size_t i = 0; i < n; i++) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = alphabet[(*rng >> 33) % k];
    }
}

static void check_against_reference(mt_ctx *t, const char *alphabet, size_t len, uint64_t seed, uint32_t vocab,
                                    const char *special, const char *forbid_raw) {
    char *text = malloc(len);
    uint64_t rng = seed;
    random_corpus(text, len, alphabet, &rng);
    mono_train_options o;
    mono_train_options_init(&o);
    o.vocab_size = vocab + (special ? 1 : 0);
    o.special_tokens = &special;
    o.n_special = special ? 1 : 0;
    o.nfc = 0;
    mono_trainer *tr;
    mono_error err;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_OK);
    MT_CHECK(t, mono_trainer_feed(tr, (const uint8_t *)text, len, &err) == MONO_OK);
    uint32_t *rm = malloc(sizeof *rm * 2 * 1024), *rr = malloc(sizeof *rr * 1024), rn_tok = 0;
    ref_tok *toks = malloc(sizeof *toks * 1024);
    uint32_t rn = ref_train(tr, vocab, rm, rr, toks, &rn_tok, forbid_raw);
    mono_bpe_model *m = NULL;
    mono_train_stats st;
    MT_CHECK(t, mono_trainer_finish(tr, &m, &st, &err) == MONO_OK);
    if (m) {
        MT_CHECK_EQ_INT(t, m->n_merges, rn);
        MT_CHECK_EQ_INT(t, m->n_tokens, rn_tok);
        int same = m->n_merges == rn;
        for (uint32_t i = 0; same && i < rn; i++)
            same = m->merges[2 * i] == rm[2 * i] && m->merges[2 * i + 1] == rm[2 * i + 1] && m->merge_result[i] == rr[i];
        MT_CHECK_MSG(t, same, "merges differ from the reference (alphabet '%s', seed %llu)", alphabet,
                     (unsigned long long)seed);
        int tok_same = 1;
        for (uint32_t i = 0; tok_same && i < m->n_tokens && i < rn_tok; i++) {
            size_t n;
            const uint8_t *s = mono_bpe_model_token(m, i, &n);
            tok_same = n == toks[i].n && !memcmp(s, toks[i].s, n);
        }
        MT_CHECK(t, tok_same);
        MT_CHECK_EQ_INT(t, st.vocab_size, m->n_tokens + m->n_special);
        MT_CHECK(t, m->n_merges >= m->n_tokens - 256);
    }
    mono_bpe_model_free(m);
    mono_trainer_free(tr);
    free(rm);
    free(rr);
    free(toks);
    free(text);
}

/* ---- helpers -------------------------------------------------------------- */

static uint64_t piece_count_of(const mono_trainer *tr, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < tr->n_pieces; i++)
        if (tr->pieces[i].len == n && !memcmp(tr->arena + tr->pieces[i].off, s, n)) return tr->pieces[i].count;
    return 0;
}

static mono_trainer *trainer_on(mt_ctx *t, const char *text, int pretok, int nfc, const char *special) {
    mono_train_options o;
    mono_train_options_init(&o);
    o.vocab_size = 1000;
    o.pretokenizer = pretok;
    o.nfc = nfc;
    o.special_tokens = &special;
    o.n_special = special ? 1 : 0;
    mono_trainer *tr = NULL;
    mono_error err;
    if (!MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_OK)) return NULL;
    MT_CHECK(t, mono_trainer_feed(tr, (const uint8_t *)text, strlen(text), &err) == MONO_OK);
    return tr;
}

static int has_token(const mono_bpe_model *m, const char *s) {
    size_t n = strlen(s);
    for (uint32_t i = 0; i < m->n_tokens; i++) {
        size_t k;
        const uint8_t *p = mono_bpe_model_token(m, i, &k);
        if (k == n && !memcmp(p, s, n)) return 1;
    }
    return 0;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_byte_level(mt_ctx *t) {
    MT_CHECK_EQ_INT(t, mono_bytelevel_char(' '), 0x120);
    MT_CHECK_EQ_INT(t, mono_bytelevel_char('\n'), 0x10A);
    MT_CHECK_EQ_INT(t, mono_bytelevel_char(0), 0x100);
    MT_CHECK_EQ_INT(t, mono_bytelevel_char(0x7F), 0x121);
    MT_CHECK_EQ_INT(t, mono_bytelevel_char(0xA0), 0x142);
    MT_CHECK_EQ_INT(t, mono_bytelevel_char(0xAD), 0x143);
    MT_CHECK_EQ_INT(t, mono_bytelevel_char('A'), 'A');
    MT_CHECK_EQ_INT(t, mono_bytelevel_char(0xFF), 0xFF);
    int seen[0x144] = {0}, ok = 1;
    for (int b = 0; b < 256; b++) {
        uint32_t cp = mono_bytelevel_char((uint8_t)b);
        if (cp >= 0x144 || seen[cp]++) ok = 0;
    }
    MT_CHECK_MSG(t, ok, "bytes_to_unicode is not a bijection onto U+0021..U+0143");
}

static void test_hand_worked(mt_ctx *t) {
    /* Qwen2 pieces: "ab", " ab", " ab", " cd". Merges: a+b (3), Ġ+ab (2), then a
     * tie at 1 between Ġ+c and c+d: c (id 66) < Ġ (id 220), so c+d, then Ġ+cd. */
    const char *text = "ab ab ab cd";
    mono_train_options o;
    mono_train_options_init(&o);
    o.vocab_size = 300;
    size_t len = strlen(text);
    char *json = NULL;
    size_t json_len = 0;
    mono_train_stats st;
    mono_error err;
    MT_CHECK(t, mono_tokenizer_train_texts(&text, &len, 1, &o, &json, &json_len, &st, &err) == MONO_OK);
    MT_CHECK_EQ_INT(t, st.merges, 4);
    MT_CHECK_EQ_INT(t, st.vocab_size, 260);
    MT_CHECK_EQ_INT(t, st.pieces, 4);
    MT_CHECK_EQ_INT(t, st.unique_pieces, 3);
    MT_CHECK_EQ_INT(t, st.bytes, len);
    if (json) {
        const char *want = "\"merges\": [\n      [\"a\", \"b\"],\n      [\"\xc4\xa0\", \"ab\"],\n"
                           "      [\"c\", \"d\"],\n      [\"\xc4\xa0\", \"cd\"]\n    ]";
        MT_CHECK_MSG(t, strstr(json, want) != NULL, "merges not as worked out by hand");
        MT_CHECK(t, strstr(json, "\"\xc4\xa0" "ab\": 257") != NULL);
        MT_CHECK_EQ_INT(t, strlen(json), json_len);
    }
    mono_free(json);
    /* min_frequency 2 stops before the count-1 merges */
    o.min_frequency = 2;
    MT_CHECK(t, mono_tokenizer_train_texts(&text, &len, 1, &o, &json, NULL, &st, &err) == MONO_OK);
    MT_CHECK_EQ_INT(t, st.merges, 2);
    mono_free(json);
}

static void test_reference(mt_ctx *t) {
    check_against_reference(t, "ab", 600, 1, 700, NULL, NULL);
    check_against_reference(t, "a", 300, 2, 400, NULL, NULL);        /* one long run: overlapping pairs */
    check_against_reference(t, "aab ", 800, 3, 600, NULL, NULL);
    check_against_reference(t, "abc \n", 1000, 4, 650, NULL, NULL);
    check_against_reference(t, "ab1 .", 1000, 5, 500, NULL, NULL);
    check_against_reference(t, "abcde  ", 20000, 8, 1000, NULL, NULL);  /* many words, many ties */
    check_against_reference(t, "aab \n", 20000, 9, 1000, NULL, NULL);
    check_against_reference(t, "aaaaab  ", 1200, 6, 700, NULL, NULL);
    for (uint64_t seed = 10; seed < 16; seed++) check_against_reference(t, "aab", 400, seed, 600, NULL, NULL);
    /* A special token spelled "Ġab" forbids learning the bytes " ab". */
    check_against_reference(t, "ab ", 800, 7, 600, "\xc4\xa0" "ab", " ab");
}

static void test_specials(mt_ctx *t) {
    mono_trainer *tr = trainer_on(t, "hello<|end|>world<|end|><|end|>hello <|end", 0, 1, "<|end|>");
    if (tr) {
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "hello"), 2);
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "world"), 1);
        MT_CHECK_EQ_INT(t, piece_count_of(tr, " <|"), 1);    /* the unterminated "<|end" is text */
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "end"), 1);
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "|>"), 0);
        MT_CHECK_EQ_INT(t, piece_count_of(tr, ">"), 0);
        mono_trainer_free(tr);
    }
    /* A learned token may not equal a special's byte-level spelling. */
    const char *text = " ab ab ab ab x";
    const char *sp[] = {"\xc4\xa0" "ab", "<s>"};
    mono_train_options o;
    mono_train_options_init(&o);
    o.vocab_size = 300;
    o.special_tokens = sp;
    o.n_special = 2;
    mono_error err;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_OK);
    MT_CHECK(t, mono_trainer_feed(tr, (const uint8_t *)text, strlen(text), &err) == MONO_OK);
    mono_bpe_model *m = NULL;
    MT_CHECK(t, mono_trainer_finish(tr, &m, NULL, &err) == MONO_OK);
    if (m) {
        MT_CHECK(t, has_token(m, "ab"));
        MT_CHECK(t, !has_token(m, " ab"));
        MT_CHECK_EQ_INT(t, m->n_special, 2);
        char *json = NULL;
        MT_CHECK(t, mono_bpe_model_to_json(m, &json, NULL, &err) == MONO_OK);
        if (json) {
            char want[128];
            snprintf(want, sizeof want, "{\"id\": %u, \"content\": \"<s>\"", m->n_tokens + 1);
            MT_CHECK(t, strstr(json, want) != NULL);
        }
        mono_free(json);
    }
    mono_bpe_model_free(m);
    mono_trainer_free(tr);
}

static void test_nfc_and_patterns(mt_ctx *t) {
    const char *text = "caf\x65\xcc\x81 123 don't";   /* "cafe" + U+0301 */
    mono_trainer *tr = trainer_on(t, text, 0, 1, NULL);
    if (tr) {
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "caf\xc3\xa9"), 1);
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "1"), 1);        /* Qwen2: one digit a piece */
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "'t"), 1);
        MT_CHECK_EQ_INT(t, tr->n_piece_total, 7);              /* café,␣,1,2,3,␣don,'t */
        mono_trainer_free(tr);
    }
    tr = trainer_on(t, text, 0, 0, NULL);
    if (tr) {
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "cafe"), 1);    /* U+0301 is no letter */
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "\xcc\x81"), 1);
        MT_CHECK_EQ_INT(t, piece_count_of(tr, "caf\xc3\xa9"), 0);
        mono_trainer_free(tr);
    }
    tr = trainer_on(t, text, 1, 1, NULL);
    if (tr) {
        MT_CHECK_EQ_INT(t, piece_count_of(tr, " 123"), 1);     /* GPT-2: digit runs with a space */
        MT_CHECK_EQ_INT(t, piece_count_of(tr, " don"), 1);
        mono_trainer_free(tr);
    }
    /* invalid UTF-8 is accepted and counted byte by byte */
    tr = trainer_on(t, "ab\xff\xfe cd", 0, 1, NULL);
    if (tr) {
        MT_CHECK(t, tr->n_piece_total >= 3);
        mono_trainer_free(tr);
    }
}

/* Same unique pieces with the same counts. */
static int same_pieces(const mono_trainer *a, const mono_trainer *b) {
    if (a->n_pieces != b->n_pieces || a->n_piece_total != b->n_piece_total) return 0;
    for (size_t i = 0; i < a->n_pieces; i++) {
        char buf[4096];
        size_t n = a->pieces[i].len;
        if (n >= sizeof buf) return 0;
        memcpy(buf, a->arena + a->pieces[i].off, n);
        buf[n] = 0;
        if (strlen(buf) != n || piece_count_of(b, buf) != a->pieces[i].count) return 0;
    }
    return 1;
}

/* The trainer normalizes line by line; that must equal NFC of the whole
 * text (combining marks at line starts, jamo, reordering, singletons). */
static void test_nfc_lines(mt_ctx *t) {
    static const char *bits[] = {"e\xcc\x81", "\xcc\x81", "\n", "\n\xcc\x81", "a\xcc\xa3\xcc\x87", "\xe1\x84\x80",
                                 "\xe1\x85\xa1", "\xe1\x86\xa8", "\xe2\x84\xab", " ", "x", "\xe4\xb8\xad", "\r\n",
                                 "\xef\xac\x81", "\xff", "'s"};
    size_t nb = sizeof bits / sizeof *bits, len = 0;
    char *text = malloc(40000);
    uint64_t rng = 7;
    while (len < 30000) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        const char *b = bits[(rng >> 33) % nb];
        memcpy(text + len, b, strlen(b));
        len += strlen(b);
    }
    text[len] = 0;
    uint8_t *norm = NULL;
    size_t norm_len = 0, norm_cap = 0;
    mono_error err;
    MT_CHECK(t, mono_nfc_append((const uint8_t *)text, len, &norm, &norm_len, &norm_cap, &err) == MONO_OK);
    MT_CHECK(t, norm_len != len || memcmp(norm, text, len));   /* the text did need normalizing */
    char *ntext = malloc(norm_len + 1);
    memcpy(ntext, norm, norm_len);
    ntext[norm_len] = 0;
    mono_trainer *a = trainer_on(t, text, 0, 1, NULL), *b = trainer_on(t, ntext, 0, 0, NULL);
    if (a && b) MT_CHECK_MSG(t, same_pieces(a, b), "line-wise NFC differs from NFC of the whole text");
    mono_trainer_free(a);
    mono_trainer_free(b);
    free(ntext);
    free(norm);
    free(text);
}

static void test_file_chunks(mt_ctx *t) {
    /* Feeding a file in small chunks must count exactly what feeding it whole does. */
    size_t len = 20000;
    char *text = malloc(len + 1);
    uint64_t rng = 99;
    random_corpus(text, len, "ab cD\n\n 1.\r\xc3\xa9!", &rng);
    text[len] = 0;
    char path[] = "/tmp/mono_train_test_XXXXXX";
    int fd = mkstemp(path);
    MT_CHECK(t, fd >= 0);
    if (fd < 0) { free(text); return; }
    MT_CHECK(t, write(fd, text, len) == (ssize_t)len);
    close(fd);
    for (int pretok = 0; pretok < 2; pretok++) {
        mono_trainer *whole = trainer_on(t, text, pretok, 1, NULL), *chunked = trainer_on(t, "", pretok, 1, NULL);
        mono_error err;
        if (!whole || !chunked) break;
        chunked->chunk_size = 97;
        MT_CHECK(t, mono_trainer_feed_file(chunked, path, &err) == MONO_OK);
        MT_CHECK_EQ_INT(t, chunked->n_piece_total, whole->n_piece_total);
        MT_CHECK_EQ_INT(t, chunked->n_pieces, whole->n_pieces);
        int same = chunked->n_pieces == whole->n_pieces;
        for (size_t i = 0; same && i < whole->n_pieces; i++) {
            char buf[4096];
            size_t n = whole->pieces[i].len < sizeof buf - 1 ? whole->pieces[i].len : sizeof buf - 1;
            memcpy(buf, whole->arena + whole->pieces[i].off, n);
            buf[n] = 0;
            same = strlen(buf) == n && piece_count_of(chunked, buf) == whole->pieces[i].count;
        }
        MT_CHECK_MSG(t, same, "chunked feeding counted different pieces (pretok %d)", pretok);
        mono_trainer_free(whole);
        mono_trainer_free(chunked);
    }
    unlink(path);
    free(text);
}

static void test_errors(mt_ctx *t) {
    mono_train_options o;
    mono_train_options_init(&o);
    mono_trainer *tr = NULL;
    mono_error err;
    o.vocab_size = 255;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, strstr(err.message, "too small") != NULL);
    const char *sp[] = {"<a>", "<b>"};
    o.vocab_size = 257;
    o.special_tokens = sp;
    o.n_special = 2;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_ERR_INVALID_ARG);
    o.vocab_size = 258;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_OK);
    mono_trainer_free(tr);
    const char *dup[] = {"<a>", "<a>"}, *empty[] = {""}, *bad[] = {"\xff<"}, *single[] = {"\xc4\xa0"};
    o.vocab_size = 1000;
    o.special_tokens = dup;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, strstr(err.message, "twice") != NULL);
    o.n_special = 1;
    o.special_tokens = empty;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_ERR_INVALID_ARG);
    o.special_tokens = bad;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, strstr(err.message, "UTF-8") != NULL);
    o.special_tokens = single;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_ERR_INVALID_ARG);
    o.special_tokens = NULL;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_ERR_INVALID_ARG);
    o.n_special = 0;
    o.pretokenizer = 7;
    MT_CHECK(t, mono_trainer_init(&tr, &o, &err) == MONO_ERR_INVALID_ARG);
    o.pretokenizer = 0;

    /* empty corpus, or only special tokens */
    char *json = (char *)1;
    const char *texts[] = {"", "<a><a>"};
    size_t lens[] = {0, 6};
    MT_CHECK(t, mono_tokenizer_train_texts(texts, lens, 1, &o, &json, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, json == NULL);
    MT_CHECK(t, strstr(err.message, "empty") != NULL);
    o.special_tokens = sp;
    o.n_special = 1;
    MT_CHECK(t, mono_tokenizer_train_texts(texts, lens, 2, &o, &json, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_tokenizer_train_texts(texts, lens, 0, &o, &json, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    /* missing file: an I/O error naming it */
    const char *paths[] = {"/nonexistent/corpus.txt"};
    MT_CHECK(t, mono_tokenizer_train_files(paths, 1, &o, &json, NULL, NULL, &err) == MONO_ERR_IO);
    MT_CHECK(t, strstr(err.message, "/nonexistent/corpus.txt") != NULL);
    MT_CHECK(t, mono_tokenizer_train_files(paths, 0, &o, &json, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_tokenizer_train_files(NULL, 1, &o, &json, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_tokenizer_train_files(paths, 1, NULL, &json, NULL, NULL, &err) == MONO_ERR_INVALID_ARG);
    MT_CHECK(t, mono_tokenizer_train_files(paths, 1, &o, NULL, NULL, NULL, NULL) == MONO_ERR_INVALID_ARG);
}

static void test_json_layout(mt_ctx *t) {
    const char *text = "The quick brown fox jumps over the lazy dog.\n\"Quotes\" and \\ backslashes\t\x01 too, "
                       "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 the the the";
    const char *sp[] = {"<|endoftext|>", "<|im_start|>", "tab\there"};
    size_t len = strlen(text);
    for (int pretok = 0; pretok < 2; pretok++) {
        mono_train_options o;
        mono_train_options_init(&o);
        o.vocab_size = 320;
        o.special_tokens = sp;
        o.n_special = 3;
        o.pretokenizer = pretok;
        o.nfc = !pretok;
        char *json = NULL;
        size_t json_len = 0;
        mono_train_stats st;
        mono_error err;
        MT_CHECK(t, mono_tokenizer_train_texts(&text, &len, 1, &o, &json, &json_len, &st, &err) == MONO_OK);
        if (!json) continue;
        mono_json_doc *doc = NULL;
        MT_CHECK_MSG(t, mono_json_parse(json, json_len, &doc, &err) == MONO_OK, "%s", err.message);
        const mono_json *root = doc ? mono_json_root(doc) : NULL;
        const mono_json *model = mono_json_get_typed(root, "model", MONO_JSON_OBJECT);
        const mono_json *vocab = mono_json_get_typed(model, "vocab", MONO_JSON_OBJECT);
        const mono_json *merges = mono_json_get_typed(model, "merges", MONO_JSON_ARRAY);
        const mono_json *added = mono_json_get_typed(root, "added_tokens", MONO_JSON_ARRAY);
        MT_CHECK(t, vocab && merges && added);
        if (vocab && merges && added) {
            MT_CHECK_EQ_INT(t, vocab->len + added->len, st.vocab_size);
            MT_CHECK_EQ_INT(t, merges->len, st.merges);
            MT_CHECK_EQ_INT(t, added->len, 3);
            int ids_ok = 1;
            for (uint32_t i = 0; i < vocab->len; i++) {
                int64_t id;
                ids_ok &= mono_json_as_int64(&vocab->u.items[i], &id) && id == i;
            }
            MT_CHECK_MSG(t, ids_ok, "vocab not written in id order");
            MT_CHECK(t, !strcmp(vocab->u.items[0].key, "!"));
            MT_CHECK(t, !strcmp(vocab->u.items[220].key, "\xc4\xa0"));
            const mono_json *a2 = &added->u.items[2], *content = mono_json_get_typed(a2, "content", MONO_JSON_STRING);
            int64_t id = -1;
            mono_json_as_int64(mono_json_get(a2, "id"), &id);
            MT_CHECK_EQ_INT(t, id, vocab->len + 2);
            MT_CHECK(t, content && !strcmp(content->u.str, "tab\there"));
            const mono_json *special = mono_json_get_typed(a2, "special", MONO_JSON_BOOL);
            MT_CHECK(t, special && special->u.boolean);
            const mono_json *m0 = &merges->u.items[0];
            MT_CHECK(t, m0->type == MONO_JSON_ARRAY && m0->len == 2);
        }
        const mono_json *norm = mono_json_get(root, "normalizer");
        MT_CHECK(t, norm && (pretok ? norm->type == MONO_JSON_NULL : norm->type == MONO_JSON_OBJECT));
        const mono_json *pre = mono_json_get_typed(root, "pre_tokenizer", MONO_JSON_OBJECT);
        const mono_json *pt = mono_json_get_typed(pre, "type", MONO_JSON_STRING);
        MT_CHECK(t, pt && !strcmp(pt->u.str, pretok ? "ByteLevel" : "Sequence"));
        if (!pretok) {
            const mono_json *seq = mono_json_get_typed(pre, "pretokenizers", MONO_JSON_ARRAY);
            const mono_json *pat = seq && seq->len == 2 ? mono_json_get(&seq->u.items[0], "pattern") : NULL;
            const mono_json *re = mono_json_get_typed(pat, "Regex", MONO_JSON_STRING);
            MT_CHECK(t, re && !strncmp(re->u.str, "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+", 40));
        }
        mono_json_doc_free(doc);
        mono_free(json);
    }
}

/* Same members, same values, same order: vocab objects, merge lists, added tokens. */
static int json_same(const mono_json *a, const mono_json *b) {
    if (!a || !b || a->type != b->type || a->len != b->len) return 0;
    if ((a->key == NULL) != (b->key == NULL) || (a->key && strcmp(a->key, b->key))) return 0;
    switch (a->type) {
    case MONO_JSON_STRING: return !memcmp(a->u.str, b->u.str, a->len);
    case MONO_JSON_NUMBER: return a->is_int == b->is_int && (a->is_int ? a->u.integer == b->u.integer : a->u.number == b->u.number);
    case MONO_JSON_BOOL: return a->u.boolean == b->u.boolean;
    case MONO_JSON_ARRAY:
    case MONO_JSON_OBJECT:
        for (uint32_t i = 0; i < a->len; i++)
            if (!json_same(&a->u.items[i], &b->u.items[i])) return 0;
        return 1;
    default: return 1;
    }
}

/* The same key -> id pairs, in any order. */
static int vocab_same(const mono_json *a, const mono_json *b) {
    if (!a || !b || a->type != MONO_JSON_OBJECT || b->type != MONO_JSON_OBJECT || a->len != b->len) return 0;
    const char **ka = calloc(a->len, sizeof *ka), **kb = calloc(b->len, sizeof *kb);
    int ok = ka && kb;
    for (int side = 0; ok && side < 2; side++) {
        const mono_json *o = side ? b : a;
        const char **k = side ? kb : ka;
        for (uint32_t i = 0; ok && i < o->len; i++) {
            int64_t id;
            ok = mono_json_as_int64(&o->u.items[i], &id) && id >= 0 && id < a->len && !k[id];
            if (ok) k[id] = o->u.items[i].key;
        }
    }
    for (uint32_t i = 0; ok && i < a->len; i++) ok = !strcmp(ka[i], kb[i]);
    free(ka);
    free(kb);
    return ok;
}

/* A loaded tokenizer written back as tokenizer.json: Qwen2.5's own file
 * comes back with the same vocabulary, merges (in order), added tokens and
 * pre-processing, loads to the same ids, and writing is idempotent. */
static void test_export(mt_ctx *t) {
    char path[512];
    mt_shared_path(path, sizeof path, "tokenizers/qwen2.5/tokenizer.json");
    mono_tokenizer *orig = NULL, *again = NULL;
    mono_error err;
    if (mono_tokenizer_load(path, &orig, &err) != MONO_OK) {
        mt_skip(t, "shared Qwen2.5 tokenizer.json not found");
        return;
    }
    char *json = NULL, *json2 = NULL, *text = NULL;
    size_t len = 0, len2 = 0, text_len = 0;
    MT_CHECK(t, mono_tokenizer_to_json(orig, &json, &len, &err) == MONO_OK);
    MT_CHECK(t, mono_file_read_text(path, &text, &text_len, &err) == MONO_OK);
    mono_json_doc *da = NULL, *db = NULL;
    if (json && text && MT_CHECK(t, mono_json_parse(json, len, &da, &err) == MONO_OK) &&
        MT_CHECK(t, mono_json_parse(text, text_len, &db, &err) == MONO_OK)) {
        const mono_json *ra = mono_json_root(da), *rb = mono_json_root(db);
        const mono_json *ma = mono_json_get(ra, "model"), *mb = mono_json_get(rb, "model");
        MT_CHECK_MSG(t, vocab_same(mono_json_get(ma, "vocab"), mono_json_get(mb, "vocab")), "vocab differs");
        MT_CHECK_MSG(t, json_same(mono_json_get(ma, "merges"), mono_json_get(mb, "merges")), "merges differ");
        MT_CHECK_MSG(t, json_same(mono_json_get(ra, "added_tokens"), mono_json_get(rb, "added_tokens")),
                     "added tokens differ");
        MT_CHECK(t, json_same(mono_json_get(ra, "normalizer"), mono_json_get(rb, "normalizer")));
        MT_CHECK(t, json_same(mono_json_get(ra, "pre_tokenizer"), mono_json_get(rb, "pre_tokenizer")));
        MT_CHECK(t, json_same(mono_json_get(ra, "decoder"), mono_json_get(rb, "decoder")));
    }
    mono_json_doc_free(da);
    mono_json_doc_free(db);
    if (json && MT_CHECK(t, mono_tokenizer_load_json_bytes(json, len, &again, &err) == MONO_OK)) {
        MT_CHECK_EQ_INT(t, mono_tokenizer_n_vocab(again), mono_tokenizer_n_vocab(orig));
        const char *samples[] = {"Hello, world! It's <|im_start|>user\n\u4e2d\u6587 caf\xc3\xa9  \t\r\n 12345",
                                 "def f(x):\n    return x**2  # \xf0\x9f\x98\x80<|endoftext|>"};
        for (size_t i = 0; i < 2; i++) {
            int32_t *a = NULL, *b = NULL;
            size_t na = 0, nb = 0;
            MT_CHECK(t, mono_tokenizer_encode(orig, samples[i], strlen(samples[i]), 0, &a, &na, &err) == MONO_OK);
            MT_CHECK(t, mono_tokenizer_encode(again, samples[i], strlen(samples[i]), 0, &b, &nb, &err) == MONO_OK);
            MT_CHECK(t, na == nb && na > 0 && !memcmp(a, b, na * sizeof *a));
            mono_free(a);
            mono_free(b);
        }
        MT_CHECK(t, mono_tokenizer_to_json(again, &json2, &len2, &err) == MONO_OK);
        MT_CHECK_MSG(t, json2 && len2 == len && !memcmp(json, json2, len), "writing is not idempotent");
    }
    MT_CHECK(t, mono_tokenizer_to_json(NULL, &json2, NULL, &err) == MONO_ERR_INVALID_ARG);
    mono_free(json);
    mono_free(json2);
    free(text);
    mono_tokenizer_free(orig);
    mono_tokenizer_free(again);
}

void suite_train(mt_ctx *t) {
    test_byte_level(t);
    test_hand_worked(t);
    test_reference(t);
    test_specials(t);
    test_nfc_and_patterns(t);
    test_file_chunks(t);
    test_nfc_lines(t);
    test_errors(t);
    test_json_layout(t);
    test_export(t);
}
