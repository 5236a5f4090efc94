#!/usr/bin/python3
"""hostile_gen.py -- writes the hostile inputs that tests/cli/hostile_cli.sh
feeds to every `monologue` subcommand: a small well-formed Qwen2 GGUF
(with a byte-level tokenizer) and Hugging Face folder as positive controls,
then broken variants of each -- GGUF hyper-parameters that contradict the
tensors or are zero / huge / NaN, hostile tokenizer metadata, config.json
with wrong types and values, generation_config.json out of range,
tokenizer.json with wrong types, unknown model types, merges naming
unknown tokens, duplicate ids, deep nesting, invalid UTF-8; text inputs
with invalid UTF-8. Nothing large: the whole folder is a few MB.

usage: hostile_gen.py OUT_DIR GOLDEN_MODEL_DIR QWEN_TOKENIZER_JSON"""
import json, os, random, shutil, struct, sys

OUT, GOLDEN, QWEN_TOK = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(OUT, ignore_errors=True)     # regenerated whole: no stale files
os.makedirs(OUT)
rng = random.Random(11)


def put(name, data):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


# ---------------------------------------------------------------- GGUF ----
def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(x)) + x

def pad(b, a=32):
    return b + bytes((-len(b)) % a)

U32, I32, F32, BOOL, STR, ARR, U64 = 4, 5, 6, 7, 8, 9, 10
def u32(v): return (U32, struct.pack("<I", v))
def f32(v): return (F32, struct.pack("<f", v))
def st(v): return (STR, s(v))
def arr_str(xs): return (ARR, struct.pack("<IQ", STR, len(xs)) + b"".join(s(x) for x in xs))
def arr_i32(xs): return (ARR, struct.pack("<IQ", I32, len(xs)) + b"".join(struct.pack("<i", x) for x in xs))

def gguf(kvs, tensors):
    out = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(kvs))
    for k, (t, v) in kvs.items():
        out += s(k) + struct.pack("<I", t) + v
    off, data = 0, b""
    for name, ne, ty, raw in tensors:
        out += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", x) for x in ne) + struct.pack("<IQ", ty, off)
        chunk = pad(raw)
        data += chunk
        off += len(chunk)
    return pad(out) + data

# GPT-2 byte-to-unicode map: the vocabulary's spelling of raw bytes
def byte_chars():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]

BYTES = byte_chars()
MERGES = ["h e", "l l", "he ll", "Ġ t"]
TOKENS = BYTES + ["he", "ll", "hell", "Ġt"] + ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
V = 272                      # 263 tokens, padded up so the embedding has spare rows
TOKENS += ["[PAD%d]" % i for i in range(V - len(TOKENS))]
TYPES = [1] * 260 + [3, 3, 3] + [1] * (V - 263)   # 3 = control

def model_kvs(E=16, H=2, KV=1, FF=24, L=1, ctx=64):
    return {"general.architecture": st("qwen2"), "qwen2.block_count": u32(L),
            "qwen2.embedding_length": u32(E), "qwen2.feed_forward_length": u32(FF),
            "qwen2.attention.head_count": u32(H), "qwen2.attention.head_count_kv": u32(KV),
            "qwen2.context_length": u32(ctx), "qwen2.rope.freq_base": f32(1e6),
            "qwen2.attention.layer_norm_rms_epsilon": f32(1e-6),
            "tokenizer.ggml.model": st("gpt2"), "tokenizer.ggml.pre": st("qwen2"),
            "tokenizer.ggml.tokens": arr_str(TOKENS), "tokenizer.ggml.token_type": arr_i32(TYPES),
            "tokenizer.ggml.merges": arr_str(MERGES), "tokenizer.ggml.eos_token_id": u32(262),
            "tokenizer.ggml.bos_token_id": u32(260)}

def f32s(n, center=0.0, scale=0.3, value=None):
    return b"".join(struct.pack("<f", center + scale * (2 * rng.random() - 1) if value is None else value) for _ in range(n))

def model_tensors(E=16, H=2, KV=1, FF=24, L=1, vocab=V, nan=False):
    HD = E // H if H else 4
    ts = []
    def t(name, ne, center=0.0, scale=0.3):
        n = 1
        for x in ne: n *= x
        ts.append((name, ne, 0, f32s(n, center, scale, float("nan") if nan and name == "token_embd.weight" else None)))
    t("token_embd.weight", [E, vocab], scale=1.0)
    for il in range(L):
        p = "blk.%d." % il
        t(p + "attn_norm.weight", [E], 1.0, 0.2)
        t(p + "attn_q.weight", [E, H * HD]); t(p + "attn_q.bias", [H * HD])
        t(p + "attn_k.weight", [E, KV * HD]); t(p + "attn_k.bias", [KV * HD])
        t(p + "attn_v.weight", [E, KV * HD]); t(p + "attn_v.bias", [KV * HD])
        t(p + "attn_output.weight", [H * HD, E])
        t(p + "ffn_norm.weight", [E], 1.0, 0.2)
        t(p + "ffn_gate.weight", [E, FF]); t(p + "ffn_up.weight", [E, FF]); t(p + "ffn_down.weight", [FF, E])
    t("output_norm.weight", [E], 1.0, 0.2)
    return ts

GOOD_TENSORS = model_tensors()
def gmodel(name, drop=(), tensors=None, **kv):
    kvs = model_kvs()
    for k in drop: kvs.pop(k)
    for k, v in kv.items(): kvs[k.replace("__", ".")] = v
    put(name, gguf(kvs, GOOD_TENSORS if tensors is None else tensors))

gmodel("good.gguf")                                               # positive control
A = "qwen2__attention__"
gmodel("g_heads0.gguf", **{A + "head_count": u32(0)})
gmodel("g_heads3.gguf", **{A + "head_count": u32(3)})             # 16 % 3 != 0
gmodel("g_kv0.gguf", **{A + "head_count_kv": u32(0)})
gmodel("g_kv_gt.gguf", **{A + "head_count_kv": u32(4)})
gmodel("g_heads_huge.gguf", **{A + "head_count": u32(2**31)})
gmodel("g_blocks0.gguf", **{"qwen2__block_count": u32(0)})
gmodel("g_blocks_huge.gguf", **{"qwen2__block_count": u32(2**32 - 1)})
gmodel("g_embd0.gguf", **{"qwen2__embedding_length": u32(0)})
gmodel("g_embd_wrong.gguf", **{"qwen2__embedding_length": u32(32)})
gmodel("g_ff_wrong.gguf", **{"qwen2__feed_forward_length": u32(25)})
gmodel("g_ctx0.gguf", **{"qwen2__context_length": u32(0)})
gmodel("g_ctx_huge.gguf", **{"qwen2__context_length": u32(2**32 - 1)})
gmodel("g_rope_nan.gguf", **{"qwen2__rope__freq_base": f32(float("nan"))})
gmodel("g_rope_neg.gguf", **{"qwen2__rope__freq_base": f32(-5.0)})
gmodel("g_eps_nan.gguf", **{A + "layer_norm_rms_epsilon": f32(float("nan"))})
gmodel("g_eps_neg.gguf", **{A + "layer_norm_rms_epsilon": f32(-1.0)})
gmodel("g_blocks_str.gguf", **{"qwen2__block_count": st("one")})
gmodel("g_arch_llama.gguf", **{"general__architecture": st("llama")})
gmodel("g_arch_bogus.gguf", **{"general__architecture": st("x" * 300)})
gmodel("g_arch_int.gguf", **{"general__architecture": u32(7)})
gmodel("g_missing_tensor.gguf", tensors=[t for t in GOOD_TENSORS if t[0] != "blk.0.ffn_up.weight"])
gmodel("g_shape_tensor.gguf", tensors=[(n, ([ne[0], ne[1] - 1] if n == "blk.0.attn_q.weight" else ne), ty,
                                        raw[:-4 * ne[0]] if n == "blk.0.attn_q.weight" else raw)
                                       for n, ne, ty, raw in GOOD_TENSORS])
gmodel("g_3d_tensor.gguf", tensors=[(n, ([ne[0], 1, ne[1]] if n == "blk.0.attn_k.weight" else ne), ty, raw)
                                    for n, ne, ty, raw in GOOD_TENSORS])
gmodel("g_nan_weights.gguf", tensors=model_tensors(nan=True))
def retype(name, ty, ne=None, raw=None):
    return [(n, ne if (ne and n == name) else e, ty if n == name else t, raw if (raw is not None and n == name) else r)
            for n, e, t, r in GOOD_TENSORS]
gmodel("g_q8_badrow.gguf", tensors=retype("blk.0.attn_q.weight", 8, [20, 16], bytes(34 * 16)))   # Q8_0 needs rows of 32
gmodel("g_norm_q8.gguf", tensors=retype("blk.0.attn_norm.weight", 8, [32], bytes(68)))           # a quantized norm
gmodel("g_norm_2d.gguf", tensors=retype("output_norm.weight", 0, [8, 2]))
gmodel("g_heads_f32.gguf", **{A + "head_count": f32(2.0)})
gmodel("g_heads_bool.gguf", **{A + "head_count": (BOOL, b"\x01")})
gmodel("g_heads_arr.gguf", **{A + "head_count": arr_i32([2, 2])})
gmodel("g_heads_u64.gguf", **{A + "head_count": (U64, struct.pack("<Q", 2**40))})
gmodel("g_heads_neg.gguf", **{A + "head_count": (I32, struct.pack("<i", -2))})
gmodel("g_ctx_neg.gguf", **{"qwen2__context_length": (I32, struct.pack("<i", -64))})
gmodel("g_eps_huge.gguf", **{A + "layer_norm_rms_epsilon": f32(float("inf"))})
# tokenizer metadata
T = "tokenizer__ggml__"
gmodel("gt_model_llama.gguf", **{T + "model": st("llama")})
gmodel("gt_model_int.gguf", **{T + "model": u32(3)})
gmodel("gt_pre_bogus.gguf", **{T + "pre": st("bogus-pre")})
gmodel("gt_tokens_int.gguf", **{T + "tokens": arr_i32(list(range(V)))})
gmodel("gt_tokens_short.gguf", **{T + "tokens": arr_str(TOKENS[:100]), T + "token_type": arr_i32(TYPES[:100])})
gmodel("gt_tokens_long.gguf", **{T + "tokens": arr_str(TOKENS + ["x%d" % i for i in range(50)]),
                                 T + "token_type": arr_i32(TYPES + [1] * 50)})
gmodel("gt_tokens_empty.gguf", **{T + "tokens": arr_str([]), T + "token_type": arr_i32([])})
gmodel("gt_tokens_dup.gguf", **{T + "tokens": arr_str(TOKENS[:-1] + ["hell"])})
gmodel("gt_token_emptystr.gguf", **{T + "tokens": arr_str(TOKENS[:-1] + [""])})
gmodel("gt_types_short.gguf", **{T + "token_type": arr_i32(TYPES[:10])})
gmodel("gt_types_str.gguf", **{T + "token_type": arr_str(TOKENS)})
gmodel("gt_merge_unknown.gguf", **{T + "merges": arr_str(MERGES + ["zz qq"])})
gmodel("gt_merge_nospace.gguf", **{T + "merges": arr_str(MERGES + ["hello"])})
gmodel("gt_merge_3parts.gguf", **{T + "merges": arr_str(MERGES + ["h e l"])})
gmodel("gt_merges_int.gguf", **{T + "merges": arr_i32([1, 2, 3])})
gmodel("gt_eos_range.gguf", **{T + "eos_token_id": u32(999999)})
gmodel("gt_bos_str.gguf", **{T + "bos_token_id": st("<s>")})
gmodel("gt_token_badutf8.gguf", **{T + "tokens": (ARR, struct.pack("<IQ", STR, V) +
                                                  b"".join(s(x) for x in TOKENS[:-1]) + s(b"\xff\xfe\xc3"))})
# vocabulary only, the file ending exactly at a page boundary with an unknown
# merge as its last bytes: an error message must not read past the string
def page_end():
    kvs = {k: v for k, v in model_kvs().items() if k.startswith("tokenizer.") and k != "tokenizer.ggml.merges"}
    kvs["general.architecture"] = st("qwen2")
    merges = MERGES + ["zz qq"]
    for filler in range(0, 9000):
        kvs["general.name"] = st("x" * filler)
        kvs2 = dict(kvs); kvs2["tokenizer.ggml.merges"] = arr_str(merges)
        b = gguf(kvs2, [])
        body = struct.pack("<IIQQ", 0x46554747, 3, 0, len(kvs2)) + b"".join(
            s(k) + struct.pack("<I", t) + v for k, (t, v) in kvs2.items())
        if len(body) % 4096 == 0:
            return body
put("gt_vocab_only_pageend.gguf", page_end())
gmodel("ok_name_escape.gguf", **{"general__name": (STR, s(b"ab\xff\x1b[2J\x1b[31mRED\x00z"))})  # loads; info escapes it
gmodel("gt_notok.gguf", drop=[k for k in model_kvs() if k.startswith("tokenizer.")])   # positive: needs --tokens
put("g_cut.gguf", open(os.path.join(OUT, "good.gguf"), "rb").read()[:5000])
put("g_cut_data.gguf", open(os.path.join(OUT, "good.gguf"), "rb").read()[:-100])
put("empty.gguf", b"")
put("garbage.gguf", bytes(rng.randrange(256) for _ in range(4096)))
put("text.gguf", "this is not a model\n" * 10)

# ------------------------------------------------- Hugging Face folders ----
cfg = json.load(open(os.path.join(GOLDEN, "config.json")))
weights = os.path.join(GOLDEN, "model.safetensors")

def hf(name, config=None, raw_config=None, gen=None, tok=None, weights_data=None, no_weights=False):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    if raw_config is not None:
        put(name + "/config.json", raw_config)
    else:
        c = dict(cfg)
        for k, v in (config or {}).items():
            if v is DELETE: c.pop(k, None)
            else: c[k] = v
        put(name + "/config.json", json.dumps(c))
    if weights_data is not None: put(name + "/model.safetensors", weights_data)
    elif not no_weights:
        link = os.path.join(d, "model.safetensors")
        if not os.path.exists(link): os.symlink(os.path.abspath(weights), link)
    if gen is not None: put(name + "/generation_config.json", gen)
    if tok is not None: put(name + "/tokenizer.json", tok)

DELETE = object()
hf("hf_good")                                                      # positive control
hf("hf_hidden_str", {"hidden_size": "64"})
hf("hf_hidden_float", {"hidden_size": 64.5})
hf("hf_hidden_neg", {"hidden_size": -64})
hf("hf_hidden_huge", {"hidden_size": 2**62})
hf("hf_hidden_zero", {"hidden_size": 0})
hf("hf_heads_zero", {"num_attention_heads": 0})
hf("hf_heads_nodiv", {"num_attention_heads": 3})
hf("hf_kv_zero", {"num_key_value_heads": 0})
hf("hf_kv_nodiv", {"num_key_value_heads": 3})
hf("hf_layers_neg", {"num_hidden_layers": -1})
hf("hf_layers_huge", {"num_hidden_layers": 10**9})
hf("hf_vocab_zero", {"vocab_size": 0})
hf("hf_ctx_zero", {"max_position_embeddings": 0})
hf("hf_ctx_neg", {"max_position_embeddings": -5})
hf("hf_eps_neg", {"rms_norm_eps": -1e-6})
hf("hf_eps_str", {"rms_norm_eps": "small"})
hf("hf_rope_zero", {"rope_parameters": {"rope_theta": 0.0, "rope_type": "default"}})
hf("hf_rope_yarn", {"rope_parameters": {"rope_theta": 1e6, "rope_type": "yarn", "factor": 4.0}})
hf("hf_rope_str", {"rope_parameters": "fast"})
hf("hf_tie_str", {"tie_word_embeddings": "yes"})
hf("hf_type_llama", {"model_type": "llama"})
hf("hf_type_int", {"model_type": 5})
hf("hf_type_missing", {"model_type": DELETE, "architectures": DELETE})
hf("hf_hidden_missing", {"hidden_size": DELETE})
hf("hf_act_gelu", {"hidden_act": "gelu"})
hf("hf_headdim_wrong", {"head_dim": 7})
hf("hf_sliding", {"use_sliding_window": True, "sliding_window": 16})
hf("hf_layer_types", {"layer_types": ["full_attention", "sliding_attention"], "use_sliding_window": True, "sliding_window": 16})
hf("hf_inf", raw_config=json.dumps(cfg).replace('"rms_norm_eps": 1e-06', '"rms_norm_eps": 1e999'))
hf("hf_array_root", raw_config="[1, 2, 3]")
hf("hf_empty_cfg", raw_config="")
hf("hf_bom_cfg", raw_config="\ufeff" + json.dumps(cfg))
hf("hf_deep_cfg", raw_config="[" * 100000 + "]" * 100000)
hf("hf_trailing_cfg", raw_config=json.dumps(cfg) + " {}")
hf("hf_dupkey_cfg", raw_config=json.dumps(cfg)[:-1] + ', "hidden_size": 128}')
hf("hf_badutf8_cfg", raw_config=json.dumps(cfg)[:-1].encode() + b', "name": "\xff\xfe"}')
hf("hf_nul_cfg", raw_config=json.dumps(cfg)[:-1].encode() + b', "name": "a\x00b"}')
hf("hf_surrogate_cfg", raw_config=json.dumps(cfg)[:-1] + ', "name": "\\ud800"}')
hf("hf_gen_temp_str", gen='{"temperature": "hot"}')
hf("hf_gen_temp_neg", gen='{"temperature": -1.0, "do_sample": true}')
hf("hf_gen_temp_inf", gen='{"temperature": 1e999, "do_sample": true}')
hf("hf_gen_topk_neg", gen='{"top_k": -4, "do_sample": true}')
hf("hf_gen_topp_big", gen='{"top_p": 7.5, "do_sample": true}')
hf("hf_gen_eos_range", gen='{"eos_token_id": 99999}')
hf("hf_gen_eos_list", gen='{"eos_token_id": [1, "two"]}')
hf("hf_gen_array", gen='[]')
hf("hf_gen_trunc", gen='{"temperature": 0.')
hf("hf_no_weights", no_weights=True)
hf("hf_st_empty", weights_data=b"")
hf("hf_st_cut", weights_data=open(weights, "rb").read()[:1000])
hf("hf_st_cut_data", weights_data=open(weights, "rb").read()[:-64])
hf("hf_st_hlen", weights_data=struct.pack("<Q", 2**64 - 1) + b"{}")
hf("hf_st_notobj", weights_data=struct.pack("<Q", 8) + b"[1,2,3] ")
hf("hf_st_negoff", weights_data=struct.pack("<Q", 64) + b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}'.ljust(64) + bytes(4))
hf("hf_st_shape_neg", weights_data=struct.pack("<Q", 64) + b'{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}'.ljust(64) + bytes(4))
hf("hf_st_shape_huge", weights_data=struct.pack("<Q", 96) + b'{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}'.ljust(96) + bytes(4))
hf("hf_st_dtype_int", weights_data=struct.pack("<Q", 64) + b'{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}'.ljust(64) + bytes(4))
hf("hf_cfg_dir")
os.remove(os.path.join(OUT, "hf_cfg_dir/config.json")); os.mkdir(os.path.join(OUT, "hf_cfg_dir/config.json"))
hf("hf_weights_dir", no_weights=True); os.makedirs(os.path.join(OUT, "hf_weights_dir/model.safetensors"), exist_ok=True)

# sharded folders whose index is hostile
for name, index in [("traversal", {"weight_map": {"model.embed_tokens.weight": "../../etc/passwd"}}),
                    ("missing", {"weight_map": {"model.embed_tokens.weight": "nope.safetensors"}}),
                    ("notobj", {"weight_map": [1]}), ("empty", {"weight_map": {}}), ("dot", {"weight_map": {"a": "."}}),
                    ("valint", {"weight_map": {"a": 5}})]:
    hf("hf_shard_" + name, no_weights=True)
    put("hf_shard_%s/model.safetensors.index.json" % name, json.dumps(index))
put("hf_dir_badgguf/model.gguf", open(os.path.join(OUT, "g_cut_data.gguf"), "rb").read())   # folder holding a broken model.gguf
put("hf_dir_empty_gguf/model.gguf", b"")
put("ok_gguf_folder/model.gguf", open(os.path.join(OUT, "good.gguf"), "rb").read())             # positive control

# ----------------------------------------------------- tokenizer.json ----
qwen = json.load(open(QWEN_TOK, encoding="utf-8"))
def small_tok():
    vocab = {c: i for i, c in enumerate(BYTES)}
    for m in MERGES: vocab[m.replace(" ", "")] = len(vocab)
    n = len(vocab)
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [{"id": n + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": True}
                             for i, c in enumerate(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])],
            "normalizer": qwen["normalizer"], "pre_tokenizer": qwen["pre_tokenizer"],
            "post_processor": qwen["post_processor"], "decoder": qwen["decoder"],
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False, "vocab": vocab, "merges": list(MERGES)}}

def tok(name, edit=None, raw=None):
    if raw is None:
        t = small_tok()
        if edit: edit(t)
        raw = json.dumps(t, ensure_ascii=False)
    put("tok/" + name + ".json", raw)
    return raw

good_tok = tok("good")                                           # positive control
def setm(k, v): return lambda t: t["model"].__setitem__(k, v)
tok("model_wordpiece", setm("type", "WordPiece"))
tok("model_bogus", setm("type", "Bogus"))
tok("model_type_int", setm("type", 42))
tok("model_notobj", lambda t: t.__setitem__("model", "BPE"))
tok("model_missing", lambda t: t.pop("model"))
tok("vocab_list", setm("vocab", [["a", 0]]))
tok("vocab_str_id", lambda t: t["model"]["vocab"].__setitem__("he", "256"))
tok("vocab_float_id", lambda t: t["model"]["vocab"].__setitem__("he", 256.5))
tok("vocab_neg_id", lambda t: t["model"]["vocab"].__setitem__("he", -3))
tok("vocab_huge_id", lambda t: t["model"]["vocab"].__setitem__("he", 2**40))
tok("vocab_gap_id", lambda t: t["model"]["vocab"].__setitem__("he", 100000))
tok("vocab_dup_id", lambda t: t["model"]["vocab"].__setitem__("he", 5))
tok("vocab_empty", setm("vocab", {}))
tok("merges_unknown", lambda t: t["model"]["merges"].append("zz qq"))
tok("merges_unknown_result", lambda t: t["model"]["merges"].append("Ġ h"))
tok("merges_nospace", lambda t: t["model"]["merges"].append("hello"))
tok("merges_int", lambda t: t["model"]["merges"].append(17))
tok("merges_pair3", lambda t: t["model"]["merges"].append(["h", "e", "l"]))
tok("merges_pair_int", lambda t: t["model"]["merges"].append(["h", 1]))
tok("merges_notarr", setm("merges", "h e"))
tok("added_dup_id", lambda t: t["added_tokens"].append(dict(t["added_tokens"][0], content="<|other|>")))
tok("added_dup_content", lambda t: t["added_tokens"].append(dict(t["added_tokens"][0], id=300)))
tok("added_no_content", lambda t: t["added_tokens"][0].pop("content"))
tok("added_id_str", lambda t: t["added_tokens"][0].__setitem__("id", "260"))
tok("added_id_neg", lambda t: t["added_tokens"][0].__setitem__("id", -1))
tok("added_id_huge", lambda t: t["added_tokens"][0].__setitem__("id", 2**33))
tok("added_empty_content", lambda t: t["added_tokens"][0].__setitem__("content", ""))
tok("added_special_str", lambda t: t["added_tokens"][0].__setitem__("special", "yes"))
tok("added_notarr", lambda t: t.__setitem__("added_tokens", {"a": 1}))
tok("pretok_bogus", lambda t: t.__setitem__("pre_tokenizer", {"type": "Bogus"}))
tok("pretok_badregex", lambda t: t.__setitem__("pre_tokenizer", {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": "(?<=x)[\\p{Bogus}"}, "behavior": "Isolated", "invert": False}]}))
tok("pretok_notype", lambda t: t.__setitem__("pre_tokenizer", {"pretokenizers": []}))
tok("normalizer_bogus", lambda t: t.__setitem__("normalizer", {"type": "Lowercase"}))
tok("normalizer_int", lambda t: t.__setitem__("normalizer", 5))
tok("decoder_bogus", lambda t: t.__setitem__("decoder", {"type": "WordPiece"}))
tok("dropout", setm("dropout", 0.5))
tok("byte_fallback", setm("byte_fallback", True))
tok("unk_unknown", setm("unk_token", "<unk-not-in-vocab>"))
tok("root_array", raw="[]")
tok("empty", raw="")
tok("truncated", raw=good_tok[:len(good_tok) // 2])
tok("trailing", raw=good_tok + "x")
tok("deep", raw='{"model":' * 50000 + "1" + "}" * 50000)
tok("bigstr", raw='{"model": "' + "a" * 3000000 + '"}')
tok("badutf8", raw=good_tok.encode()[:-1] + b', "x": "\xc3\x28"}')
tok("bad_escape", raw=good_tok[:-1] + ', "x": "\\q"}')
tok("lone_surrogate", raw=good_tok[:-1] + ', "x": "\\udc00"}')
tok("nul", raw=good_tok.encode()[:-1] + b', "x": "\x00"}')
tok("bignum", raw=good_tok[:-1] + ', "x": 1' + "0" * 400 + "}")
tok("dupkey", raw=good_tok[:-1] + ', "model": {}}')

# folders: the golden weights with a hostile tokenizer.json next to them
hf("hf_tok_wordpiece", tok=open(os.path.join(OUT, "tok/model_wordpiece.json")).read())
hf("hf_tok_merges_unknown", tok=open(os.path.join(OUT, "tok/merges_unknown.json")).read())
hf("hf_tok_truncated", tok=good_tok[:100])
big_vocab = small_tok()
for i in range(2000): big_vocab["model"]["vocab"]["w%d" % i] = 263 + i
big_vocab["added_tokens"] = []
hf("hf_tok_too_big", tok=json.dumps(big_vocab))      # ids past the model's 1024 rows

# --------------------------------------------------------------- text ----
put("text/invalid_utf8.txt", b"hello \xff\xfe world \xc3\x28 \xed\xa0\x80 end\n")
put("text/overlong.txt", b"\xc0\xaf\xe0\x80\xaf\n")
put("text/nul.txt", b"a\x00b\n")
put("text/good.txt", ("hello world, the quick brown fox. " * 200 + "\n").encode())
put("text/empty.txt", b"")
put("ids/bad_ids.json", "[1, 2, 99999999999]")
put("ids/neg.json", "[-5]")
put("ids/float.json", "[1.5]")
put("ids/nested.json", "[[1]]")
put("ids/obj.json", '{"ids": [1]}')
put("ids/huge_array.json", "[" + ",".join(["1"] * 200000) + ",1e999]")
put("jsonl/bad.jsonl", '{"text": "ok"}\n{"text": 5}\n')
put("jsonl/badutf8.jsonl", b'{"text": "a\xffb"}\n')
put("jsonl/notjson.jsonl", 'hello\n')
put("jsonl/ids_range.jsonl", '[1, 2]\n[1, 99999]\n')
put("jsonl/ids_neg.jsonl", '[-1]\n')
put("long_prompt.txt", "word " * 5000)
print("hostile_gen: wrote", sum(len(f) for _, _, f in os.walk(OUT)), "files to", OUT)
