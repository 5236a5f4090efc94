/*
 * monologue_module.c -- the `monologue` Python module: Monologue's byte-level
 * BPE tokenizer and trainer, written against the CPython C API alone.
 *
 *   import monologue
 *   tok = monologue.Tokenizer.from_file("tokenizer.json")   # or .gguf, or a folder
 *   ids = tok.encode("Hello, world!")
 *   tok.decode(ids)
 *   new = monologue.Tokenizer.train(["a.txt", "b.txt"], 8000, ["<|endoftext|>"])
 *   new.save("tokenizer.json")
 *
 * Encoding, decoding, loading and training release the GIL: a Tokenizer is
 * read-only once made, so many Python threads may use one at the same time.
 * Errors from the library raise with its message: OSError for files that
 * cannot be read or written, MemoryError, and ValueError for everything else
 * (bad arguments, malformed files, ids out of range). A str holding lone
 * surrogates ("\ud800") cannot be UTF-8 and raises UnicodeEncodeError, as
 * str.encode("utf-8") does; bytes are accepted as they are.
 *
 * save() and to_json() give back a tokenizer.json loaded as it was; one
 * loaded from GGUF is written out from the loaded vocabulary (bos/eos/pad
 * ids, which live in tokenizer_config.json, are not part of it).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monologue.h"

/* ---- errors --------------------------------------------------------------- */

static PyObject *raise_mono(const mono_error *err) {
    PyObject *type = PyExc_ValueError;
    switch (err->status) {
    case MONO_ERR_IO: type = PyExc_OSError; break;
    case MONO_ERR_NOMEM: type = PyExc_MemoryError; break;
    default: break;
    }
    PyErr_SetString(type, err->message[0] ? err->message : mono_status_name(err->status));
    return NULL;
}

/* ---- the Tokenizer type -------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    mono_tokenizer *tok;
    PyObject *json;     /* bytes of the tokenizer.json it came from; NULL until needed for GGUF */
} TokObject;

static PyTypeObject TokType;

static PyObject *tok_wrap(mono_tokenizer *tok, PyObject *json) {
    TokObject *self = PyObject_New(TokObject, &TokType);
    if (!self) {
        mono_tokenizer_free(tok);
        return NULL;
    }
    self->tok = tok;
    Py_XINCREF(json);
    self->json = json;
    return (PyObject *)self;
}

static void tok_dealloc(TokObject *self) {
    mono_tokenizer_free(self->tok);
    Py_XDECREF(self->json);
    PyObject_Free(self);
}

/* Reads a whole file into a new bytes object; NULL with an exception set. */
static PyObject *read_file_bytes(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    PyObject *out = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            out = PyBytes_FromStringAndSize(NULL, size);
            if (out && fread(PyBytes_AS_STRING(out), 1, (size_t)size, f) != (size_t)size) {
                Py_CLEAR(out);
                PyErr_Format(PyExc_OSError, "%s: read failed", path);
            }
        }
    }
    if (!out && !PyErr_Occurred()) PyErr_Format(PyExc_OSError, "%s: cannot read", path);
    fclose(f);
    return out;
}

/* The tokenizer.json bytes behind path (a JSON file, or a folder holding
 * tokenizer.json); Py_None for a GGUF file. */
static PyObject *source_json(const char *path) {
    char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    size_t got = fread(magic, 1, 4, f);
    int is_dir = got == 0 && ferror(f);   /* reading a folder fails with EISDIR */
    fclose(f);
    if (got == 4 && !memcmp(magic, "GGUF", 4)) Py_RETURN_NONE;
    if (is_dir) {
        PyObject *p = PyUnicode_FromFormat("%s/tokenizer.json", path);
        if (!p) return NULL;
        PyObject *b = NULL;
        if (PyUnicode_FSConverter(p, &b)) {
            PyObject *json = read_file_bytes(PyBytes_AS_STRING(b));
            Py_DECREF(b);
            Py_DECREF(p);
            return json;
        }
        Py_DECREF(p);
        return NULL;
    }
    return read_file_bytes(path);
}

static PyObject *tok_from_file(PyObject *cls, PyObject *arg) {
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(arg, &path)) return NULL;
    const char *p = PyBytes_AS_STRING(path);
    mono_tokenizer *tok = NULL;
    mono_error err = {0};
    mono_status st;
    Py_BEGIN_ALLOW_THREADS
    st = mono_tokenizer_load(p, &tok, &err);
    Py_END_ALLOW_THREADS
    if (st != MONO_OK) {
        Py_DECREF(path);
        return raise_mono(&err);
    }
    PyObject *json = source_json(p);
    Py_DECREF(path);
    if (!json) {
        mono_tokenizer_free(tok);
        return NULL;
    }
    PyObject *out = tok_wrap(tok, json == Py_None ? NULL : json);
    Py_DECREF(json);
    return out;
}

/* Loads from tokenizer.json text (str or bytes). */
static PyObject *tok_from_json_impl(PyObject *data) {
    mono_tokenizer *tok = NULL;
    mono_error err = {0};
    mono_status st;
    const char *s = PyBytes_AS_STRING(data);
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    Py_BEGIN_ALLOW_THREADS
    st = mono_tokenizer_load_json_bytes(s, (size_t)n, &tok, &err);
    Py_END_ALLOW_THREADS
    if (st != MONO_OK) return raise_mono(&err);
    return tok_wrap(tok, data);
}

static PyObject *tok_from_json(PyObject *cls, PyObject *arg) {
    PyObject *data;
    if (PyUnicode_Check(arg)) data = PyUnicode_AsUTF8String(arg);
    else if (PyBytes_Check(arg)) { Py_INCREF(arg); data = arg; }
    else {
        PyErr_SetString(PyExc_TypeError, "from_json() takes the tokenizer.json text as str or bytes");
        return NULL;
    }
    if (!data) return NULL;
    PyObject *out = tok_from_json_impl(data);
    Py_DECREF(data);
    return out;
}

static int tok_init(TokObject *self, PyObject *args, PyObject *kw) {
    PyErr_SetString(PyExc_TypeError, "use Tokenizer.from_file(path), Tokenizer.from_json(text) or Tokenizer.train(...)");
    return -1;
}

/* ---- encoding -------------------------------------------------------------- */

/* Points *s and *n at the UTF-8 of a str, or the bytes of a bytes object. */
static int text_view(PyObject *o, const char **s, Py_ssize_t *n) {
    if (PyUnicode_Check(o)) {
        *s = PyUnicode_AsUTF8AndSize(o, n);
        return *s != NULL;
    }
    if (PyBytes_Check(o)) {
        *s = PyBytes_AS_STRING(o);
        *n = PyBytes_GET_SIZE(o);
        return 1;
    }
    PyErr_Format(PyExc_TypeError, "expected str or bytes, got %.80s", Py_TYPE(o)->tp_name);
    return 0;
}

static PyObject *ids_to_list(const int32_t *ids, size_t n) {
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (!list) return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *v = PyLong_FromLong(ids[i]);
        if (!v) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, v);
    }
    return list;
}

static PyObject *tok_encode(TokObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"text", "special_as_text", NULL};
    PyObject *text;
    int as_text = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$p:encode", kwlist, &text, &as_text)) return NULL;
    const char *s;
    Py_ssize_t n;
    if (!text_view(text, &s, &n)) return NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    mono_error err = {0};
    mono_status st;
    Py_BEGIN_ALLOW_THREADS
    st = mono_tokenizer_encode(self->tok, s, (size_t)n, as_text ? MONO_ENCODE_SPECIAL_AS_TEXT : 0, &ids, &n_ids, &err);
    Py_END_ALLOW_THREADS
    if (st != MONO_OK) return raise_mono(&err);
    PyObject *out = ids_to_list(ids, n_ids);
    mono_free(ids);
    return out;
}

static PyObject *tok_encode_batch(TokObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"texts", "special_as_text", NULL};
    PyObject *texts;
    int as_text = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$p:encode_batch", kwlist, &texts, &as_text)) return NULL;
    if (PyUnicode_Check(texts) || PyBytes_Check(texts)) {
        PyErr_SetString(PyExc_TypeError, "encode_batch() takes a list of texts (use encode() for one)");
        return NULL;
    }
    /* A tuple of our own: the caller's list may change while the GIL is off. */
    PyObject *tuple = PySequence_Tuple(texts);
    if (!tuple) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(tuple);
    const char **s = PyMem_Calloc((size_t)n + 1, sizeof *s);
    Py_ssize_t *lens = PyMem_Calloc((size_t)n + 1, sizeof *lens);
    int32_t **ids = PyMem_Calloc((size_t)n + 1, sizeof *ids);
    size_t *n_ids = PyMem_Calloc((size_t)n + 1, sizeof *n_ids);
    PyObject *out = NULL;
    if (!s || !lens || !ids || !n_ids) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (!text_view(PyTuple_GET_ITEM(tuple, i), &s[i], &lens[i])) {
            if (PyErr_ExceptionMatches(PyExc_TypeError))
                PyErr_Format(PyExc_TypeError, "encode_batch(): item %zd is not str or bytes", i);
            goto done;
        }
    mono_error err = {0};
    mono_status st = MONO_OK;
    Py_BEGIN_ALLOW_THREADS
    mono_encoder *enc = NULL;
    st = mono_encoder_init(self->tok, &enc, &err);
    for (Py_ssize_t i = 0; st == MONO_OK && i < n; i++)
        st = mono_encoder_encode(enc, s[i], (size_t)lens[i], as_text ? MONO_ENCODE_SPECIAL_AS_TEXT : 0, &ids[i],
                                 &n_ids[i], &err);
    mono_encoder_free(enc);
    Py_END_ALLOW_THREADS
    if (st != MONO_OK) {
        raise_mono(&err);
        goto done;
    }
    out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *l = ids_to_list(ids[i], n_ids[i]);
        if (!l) Py_CLEAR(out);
        else PyList_SET_ITEM(out, i, l);
    }
done:
    for (Py_ssize_t i = 0; ids && i < n; i++) mono_free(ids[i]);
    PyMem_Free(s);
    PyMem_Free(lens);
    PyMem_Free(ids);
    PyMem_Free(n_ids);
    Py_DECREF(tuple);
    return out;
}

/* ---- decoding -------------------------------------------------------------- */

/* Copies a sequence of ints into a new int32 array (PyMem_Free it). */
static int32_t *ids_from_seq(PyObject *seq, Py_ssize_t *n_out) {
    PyObject *fast = PySequence_Fast(seq, "decode() takes a sequence of token ids");
    if (!fast) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    int32_t *ids = PyMem_Malloc(((size_t)n + 1) * sizeof *ids);
    if (!ids) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyLong_Check(o)) {
            PyErr_Format(PyExc_TypeError, "token id %zd is %.80s, not int", i, Py_TYPE(o)->tp_name);
            goto fail;
        }
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (v == -1 && PyErr_Occurred()) goto fail;
        if (overflow || v < INT32_MIN || v > INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "token id %zd (%R) is out of range", i, o);
            goto fail;
        }
        ids[i] = (int32_t)v;
    }
    Py_DECREF(fast);
    *n_out = n;
    return ids;
fail:
    PyMem_Free(ids);
    Py_DECREF(fast);
    return NULL;
}

static PyObject *decode_common(TokObject *self, PyObject *args, PyObject *kw, int as_bytes) {
    static char *kwlist[] = {"ids", "skip_special_tokens", NULL};
    PyObject *seq;
    int skip = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, as_bytes ? "O|$p:decode_bytes" : "O|$p:decode", kwlist, &seq, &skip))
        return NULL;
    Py_ssize_t n = 0;
    int32_t *ids = ids_from_seq(seq, &n);
    if (!ids) return NULL;
    char *text = NULL;
    size_t len = 0;
    mono_error err = {0};
    mono_status st;
    Py_BEGIN_ALLOW_THREADS
    if (skip) {   /* as HF's skip_special_tokens: drop ids of special tokens */
        Py_ssize_t k = 0;
        int32_t nv = mono_tokenizer_n_vocab(self->tok);
        for (Py_ssize_t i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= nv || !mono_tokenizer_token_is_special(self->tok, ids[i])) ids[k++] = ids[i];
        n = k;
    }
    st = as_bytes ? mono_tokenizer_decode_bytes(self->tok, ids, (size_t)n, &text, &len, &err)
                  : mono_tokenizer_decode(self->tok, ids, (size_t)n, &text, &len, &err);
    Py_END_ALLOW_THREADS
    PyMem_Free(ids);
    if (st != MONO_OK) return raise_mono(&err);
    PyObject *out = as_bytes ? PyBytes_FromStringAndSize(text, (Py_ssize_t)len)
                             : PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
    mono_free(text);
    return out;
}

static PyObject *tok_decode(TokObject *self, PyObject *args, PyObject *kw) { return decode_common(self, args, kw, 0); }
static PyObject *tok_decode_bytes(TokObject *self, PyObject *args, PyObject *kw) {
    return decode_common(self, args, kw, 1);
}

/* ---- vocabulary -------------------------------------------------------------- */

static PyObject *tok_token_to_id(TokObject *self, PyObject *arg) {
    const char *s;
    Py_ssize_t n;
    if (!text_view(arg, &s, &n)) return NULL;
    int32_t id = mono_tokenizer_token_id(self->tok, s, (size_t)n);
    if (id < 0) Py_RETURN_NONE;
    return PyLong_FromLong(id);
}

static PyObject *tok_id_to_token(TokObject *self, PyObject *arg) {
    long id = PyLong_AsLong(arg);
    if (id == -1 && PyErr_Occurred()) return NULL;
    if (id < 0 || id >= mono_tokenizer_n_vocab(self->tok)) Py_RETURN_NONE;
    const char *s = mono_tokenizer_token_text(self->tok, (int32_t)id);
    if (!s) Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *opt_id(int32_t id) {
    if (id < 0) Py_RETURN_NONE;
    return PyLong_FromLong(id);
}

static PyObject *tok_get_vocab_size(TokObject *self, void *c) { return PyLong_FromLong(mono_tokenizer_n_vocab(self->tok)); }
static PyObject *tok_get_bos(TokObject *self, void *c) { return opt_id(mono_tokenizer_bos_id(self->tok)); }
static PyObject *tok_get_eos(TokObject *self, void *c) { return opt_id(mono_tokenizer_eos_id(self->tok)); }
static PyObject *tok_get_pad(TokObject *self, void *c) { return opt_id(mono_tokenizer_pad_id(self->tok)); }

/* ---- saving ------------------------------------------------------------------ */

/* The tokenizer.json bytes: those it was loaded from (kept exactly), or,
 * for a GGUF file, written from the loaded tokenizer (once, then kept). */
static PyObject *need_json(TokObject *self) {
    if (self->json) return self->json;
    char *json = NULL;
    size_t len = 0;
    mono_error err = {0};
    mono_status st;
    Py_BEGIN_ALLOW_THREADS
    st = mono_tokenizer_to_json(self->tok, &json, &len, &err);
    Py_END_ALLOW_THREADS
    if (st != MONO_OK) return raise_mono(&err);
    PyObject *b = PyBytes_FromStringAndSize(json, (Py_ssize_t)len);
    mono_free(json);
    if (b && !self->json) self->json = b;    /* another thread may have won */
    else Py_XDECREF(b);
    return self->json;
}

static PyObject *tok_save(TokObject *self, PyObject *arg) {
    if (!need_json(self)) return NULL;
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(arg, &path)) return NULL;
    const char *p = PyBytes_AS_STRING(path);
    const char *data = PyBytes_AS_STRING(self->json);
    size_t n = (size_t)PyBytes_GET_SIZE(self->json);
    int ok, saved_errno = 0;
    Py_BEGIN_ALLOW_THREADS
    FILE *f = fopen(p, "wb");
    ok = f != NULL;
    if (!ok) saved_errno = errno;
    if (ok) {
        ok = fwrite(data, 1, n, f) == n;
        ok = fclose(f) == 0 && ok;
    }
    Py_END_ALLOW_THREADS
    if (!ok) {
        errno = saved_errno ? saved_errno : EIO;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, arg);
        Py_DECREF(path);
        return NULL;
    }
    Py_DECREF(path);
    Py_RETURN_NONE;
}

static PyObject *tok_reduce(TokObject *self, PyObject *unused) {
    PyObject *json = need_json(self);
    if (!json) return NULL;
    PyObject *from_json = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "from_json");
    if (!from_json) return NULL;
    PyObject *out = Py_BuildValue("(N(O))", from_json, json);
    return out;
}

static PyObject *tok_to_json(TokObject *self, PyObject *unused) {
    if (!need_json(self)) return NULL;
    return PyUnicode_DecodeUTF8(PyBytes_AS_STRING(self->json), PyBytes_GET_SIZE(self->json), "strict");
}

/* ---- training ---------------------------------------------------------------- */

/* A tuple of bytes file names from one path or a sequence of them. */
static PyObject *paths_tuple(PyObject *files) {
    PyObject *one = NULL;
    if (PyUnicode_Check(files) || PyBytes_Check(files) || PyObject_HasAttrString(files, "__fspath__")) {
        if (!PyUnicode_FSConverter(files, &one)) return NULL;
        PyObject *t = PyTuple_Pack(1, one);
        Py_DECREF(one);
        return t;
    }
    PyObject *fast = PySequence_Fast(files, "train(): files must be a path or a list of paths");
    if (!fast) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject *t = PyTuple_New(n);
    for (Py_ssize_t i = 0; t && i < n; i++) {
        if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(fast, i), &one)) Py_CLEAR(t);
        else PyTuple_SET_ITEM(t, i, one);
    }
    Py_DECREF(fast);
    return t;
}

/* train() and train_from_texts(): inputs are file names, or texts. */
static PyObject *train_common(PyObject *args, PyObject *kw, int from_texts) {
    static char *kwlist_files[] = {"files", "vocab_size", "special_tokens", "pretokenizer", "nfc", "min_frequency",
                                   NULL};
    static char *kwlist_texts[] = {"texts", "vocab_size", "special_tokens", "pretokenizer", "nfc", "min_frequency",
                                   NULL};
    PyObject *files, *specials_in = NULL;
    long long vocab_size, min_frequency = 0;
    const char *pretok = "qwen2";
    int nfc = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, from_texts ? "OL|O$spL:train_from_texts" : "OL|O$spL:train",
                                     from_texts ? kwlist_texts : kwlist_files, &files, &vocab_size, &specials_in,
                                     &pretok, &nfc, &min_frequency))
        return NULL;
    mono_train_options opts;
    mono_train_options_init(&opts);
    if (vocab_size < 0 || vocab_size > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "vocab_size %lld is out of range", vocab_size);
        return NULL;
    }
    if (min_frequency < 0) {
        PyErr_SetString(PyExc_ValueError, "min_frequency must be >= 0");
        return NULL;
    }
    if (!strcmp(pretok, "qwen2")) opts.pretokenizer = 0;
    else if (!strcmp(pretok, "gpt2")) opts.pretokenizer = 1;
    else {
        PyErr_Format(PyExc_ValueError, "pretokenizer must be 'qwen2' or 'gpt2', not '%s'", pretok);
        return NULL;
    }
    opts.vocab_size = (uint32_t)vocab_size;
    opts.nfc = nfc;
    opts.min_frequency = (uint64_t)min_frequency;

    if (from_texts && (PyUnicode_Check(files) || PyBytes_Check(files))) {
        PyErr_SetString(PyExc_TypeError, "train_from_texts() takes a list of texts, not one text");
        return NULL;
    }
    PyObject *paths = from_texts ? PySequence_Tuple(files) : paths_tuple(files), *specials = NULL, *result = NULL;
    const char **path_v = NULL, **special_v = NULL;
    size_t *text_lens = NULL;
    if (!paths) return NULL;
    Py_ssize_t n_paths = PyTuple_GET_SIZE(paths), n_special = 0;
    if (specials_in && specials_in != Py_None) {
        if (PyUnicode_Check(specials_in)) {
            PyErr_SetString(PyExc_TypeError, "special_tokens must be a list of str, not one str");
            goto done;
        }
        specials = PySequence_Tuple(specials_in);
        if (!specials) goto done;
        n_special = PyTuple_GET_SIZE(specials);
    }
    path_v = PyMem_Calloc((size_t)n_paths + 1, sizeof *path_v);
    text_lens = PyMem_Calloc((size_t)n_paths + 1, sizeof *text_lens);
    special_v = PyMem_Calloc((size_t)n_special + 1, sizeof *special_v);
    if (!path_v || !text_lens || !special_v) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_paths; i++) {
        if (!from_texts) {
            path_v[i] = PyBytes_AS_STRING(PyTuple_GET_ITEM(paths, i));
            continue;
        }
        Py_ssize_t len;
        if (!text_view(PyTuple_GET_ITEM(paths, i), &path_v[i], &len)) goto done;
        text_lens[i] = (size_t)len;
    }
    for (Py_ssize_t i = 0; i < n_special; i++) {
        PyObject *o = PyTuple_GET_ITEM(specials, i);
        if (!PyUnicode_Check(o)) {
            PyErr_Format(PyExc_TypeError, "special token %zd is %.80s, not str", i, Py_TYPE(o)->tp_name);
            goto done;
        }
        Py_ssize_t len;
        special_v[i] = PyUnicode_AsUTF8AndSize(o, &len);
        if (!special_v[i]) goto done;
        if ((size_t)len != strlen(special_v[i])) {
            PyErr_Format(PyExc_ValueError, "special token %zd contains a NUL character", i);
            goto done;
        }
    }
    opts.special_tokens = special_v;
    opts.n_special = (size_t)n_special;
    char *json = NULL;
    size_t json_len = 0;
    mono_error err = {0};
    mono_status st;
    Py_BEGIN_ALLOW_THREADS
    st = from_texts ? mono_tokenizer_train_texts(path_v, text_lens, (size_t)n_paths, &opts, &json, &json_len, NULL, &err)
                    : mono_tokenizer_train_files(path_v, (size_t)n_paths, &opts, &json, &json_len, NULL, &err);
    Py_END_ALLOW_THREADS
    if (st != MONO_OK) {
        raise_mono(&err);
        goto done;
    }
    PyObject *data = PyBytes_FromStringAndSize(json, (Py_ssize_t)json_len);
    mono_free(json);
    if (data) {
        result = tok_from_json_impl(data);
        Py_DECREF(data);
    }
done:
    PyMem_Free(path_v);
    PyMem_Free(text_lens);
    PyMem_Free(special_v);
    Py_XDECREF(specials);
    Py_DECREF(paths);
    return result;
}

static PyObject *tok_train(PyObject *cls, PyObject *args, PyObject *kw) { return train_common(args, kw, 0); }
static PyObject *tok_train_from_texts(PyObject *cls, PyObject *args, PyObject *kw) { return train_common(args, kw, 1); }

static PyObject *tok_repr(TokObject *self) {
    return PyUnicode_FromFormat("<monologue.Tokenizer vocab_size=%d>", (int)mono_tokenizer_n_vocab(self->tok));
}

/* ---- type and module -------------------------------------------------------- */

static PyMethodDef tok_methods[] = {
    {"from_file", (PyCFunction)tok_from_file, METH_O | METH_CLASS,
     "from_file(path) -> Tokenizer\n\nLoads a tokenizer.json, a GGUF file, or a folder holding tokenizer.json."},
    {"from_json", (PyCFunction)tok_from_json, METH_O | METH_CLASS,
     "from_json(text) -> Tokenizer\n\nLoads from the text (str or bytes) of a tokenizer.json."},
    {"train", (PyCFunction)(void (*)(void))tok_train, METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "train(files, vocab_size, special_tokens=(), *, pretokenizer='qwen2', nfc=True, min_frequency=0) -> Tokenizer\n\n"
     "Learns a byte-level BPE vocabulary from text files. vocab_size counts the 256 byte tokens,\n"
     "the merges and the special tokens (whose ids come last)."},
    {"train_from_texts", (PyCFunction)(void (*)(void))tok_train_from_texts, METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "train_from_texts(texts, vocab_size, special_tokens=(), *, pretokenizer='qwen2', nfc=True, min_frequency=0)"
     " -> Tokenizer\n\nLike train(), from texts (str or bytes) in memory; each is its own document."},
    {"encode", (PyCFunction)(void (*)(void))tok_encode, METH_VARARGS | METH_KEYWORDS,
     "encode(text, *, special_as_text=False) -> list[int]\n\n"
     "Token ids of text (str, or bytes taken as they are). Special tokens written in the text are\n"
     "matched unless special_as_text=True. No BOS/EOS is added."},
    {"encode_batch", (PyCFunction)(void (*)(void))tok_encode_batch, METH_VARARGS | METH_KEYWORDS,
     "encode_batch(texts, *, special_as_text=False) -> list[list[int]]"},
    {"decode", (PyCFunction)(void (*)(void))tok_decode, METH_VARARGS | METH_KEYWORDS,
     "decode(ids, *, skip_special_tokens=False) -> str\n\nAs Hugging Face decodes: invalid UTF-8 becomes U+FFFD."},
    {"decode_bytes", (PyCFunction)(void (*)(void))tok_decode_bytes, METH_VARARGS | METH_KEYWORDS,
     "decode_bytes(ids, *, skip_special_tokens=False) -> bytes\n\nThe tokens' raw bytes."},
    {"__reduce__", (PyCFunction)tok_reduce, METH_NOARGS,
     "Pickles as the tokenizer.json text (so DataLoader workers can take a Tokenizer)."},
    {"token_to_id", (PyCFunction)tok_token_to_id, METH_O,
     "token_to_id(token) -> int | None\n\nThe id of a vocabulary string ('Ġthe') or added token."},
    {"id_to_token", (PyCFunction)tok_id_to_token, METH_O,
     "id_to_token(id) -> str | None\n\nThe vocabulary string of an id ('Ġthe' for ' the')."},
    {"save", (PyCFunction)tok_save, METH_O, "save(path)\n\nWrites the tokenizer.json."},
    {"to_json", (PyCFunction)tok_to_json, METH_NOARGS, "to_json() -> str\n\nThe tokenizer.json text."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef tok_getset[] = {
    {"vocab_size", (getter)tok_get_vocab_size, NULL, "number of ids, added tokens included", NULL},
    {"bos_id", (getter)tok_get_bos, NULL, "beginning-of-text id, or None", NULL},
    {"eos_id", (getter)tok_get_eos, NULL, "end-of-text id, or None", NULL},
    {"pad_id", (getter)tok_get_pad, NULL, "padding id, or None", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject TokType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "monologue.Tokenizer",
    .tp_basicsize = sizeof(TokObject),
    .tp_dealloc = (destructor)tok_dealloc,
    .tp_repr = (reprfunc)tok_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A byte-level BPE tokenizer (Hugging Face tokenizer.json compatible).",
    .tp_methods = tok_methods,
    .tp_getset = tok_getset,
    .tp_init = (initproc)tok_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "monologue",
    .m_doc = "Monologue's byte-level BPE tokenizer and trainer (C, Hugging Face compatible).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit_monologue(void) {
    if (PyType_Ready(&TokType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    Py_INCREF(&TokType);
    if (PyModule_AddObject(m, "Tokenizer", (PyObject *)&TokType) < 0 ||
        PyModule_AddStringConstant(m, "__version__", MONO_VERSION_STRING) < 0) {
        Py_DECREF(&TokType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
