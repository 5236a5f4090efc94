#!/usr/bin/env bash
# hostile_cli.sh -- every `monologue` subcommand (bench too) against bad input: hostile
# GGUF / safetensors / config.json / generation_config.json / tokenizer.json
# files (made at test time by hostile_gen.py into build/hostile/), invalid
# UTF-8 on stdin and in prompts, prompts longer than the context, token ids
# out of range, bad flags and flag values (negative, NaN, huge, missing),
# missing files, directories where files belong, empty files, /dev/null.
#
# Each call must exit 1 (error) or 2 (usage) as the case says, write a
# message to stderr, finish within the timeout, and -- under the ASan+UBSan
# build too, when it exists -- report no sanitizer finding (leaks included).
# A few positive controls (exit 0) show the hostile files differ from good
# ones only in what they break. MONO_BIN=path tests one binary only.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
GOLD="$SHARED/golden/models/tiny-f32"
QTOK="$SHARED/tokenizers/qwen2.5/tokenizer.json"
H=build/hostile
$PY tests/cli/hostile_gen.py "$H" "$GOLD" "$QTOK" >/dev/null || { echo "FAIL hostile_gen.py"; exit 1; }

bins=("${MONO_BIN:-build/monologue}")
if [ -x build/asan/monologue ] && [ -z "${MONO_BIN:-}" ]; then
  # a stale sanitizer build (MONO_QUICK=1 skips `make asan`) would test old code
  if [ build/monologue -nt build/asan/monologue ]; then echo "note: build/asan/monologue is older than build/monologue: not used (make asan)"
  else bins+=(build/asan/monologue); fi
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
export MONO_MODEL=$H/good.gguf      # the default model, so a missing -m never loads a big one
n=0

# c NAME WANT STDIN ARGS... -- WANT is the allowed exit codes ("1", "2", "12", "0")
c() {
  local name=$1 want=$2 in=$3; shift 3
  local bin rc
  for bin in "${bins[@]}"; do
    n=$((n + 1))
    timeout 30 "$bin" "$@" < "$in" > "$TMP/out" 2> "$TMP/err"
    rc=$?
    local why=""
    if [ $rc = 124 ]; then why="timed out"
    elif [[ $want != *$rc* ]]; then why="exit $rc (want $want)"
    elif [ $rc != 0 ] && ! [ -s "$TMP/err" ]; then why="no message on stderr"
    elif grep -q -e "AddressSanitizer" -e "LeakSanitizer" -e "runtime error" "$TMP/err"; then why="sanitizer report"
    fi
    [ -n "${HOSTILE_VERBOSE:-}" ] && printf '%-40s %s %s\n' "$name" "$rc" "$(grep -v '^model: ' "$TMP/err" | head -1 | cut -c1-160)"
    if [ -n "$why" ]; then
      echo "FAIL $name [$bin]: $why"; head -c 1500 "$TMP/err" | sed 's/^/    /'; fail=1
    fi
  done
}
N=/dev/null
# full NAME WANT STDIN ARGS...: a case writing to /dev/full, which must stay the device afterwards
full() {
  [ -c /dev/full ] || { echo "skip $1: /dev/full is not a character device here"; return; }
  c "$@"
  [ -c /dev/full ] || { echo "FAIL $1: /dev/full is no longer a device (the writer removed it)"; fail=1; }
}
T="$TMP/in.txt"; printf 'hello world\n' > "$T"
G=$H/good.gguf

# ---- positive controls: the generated good files work ----
c ctl_run_gguf 0 $N run -m $G -p hello -n 3 --temp 0 -q
c ctl_run_hf 0 $N run -m $H/hf_good --tokens 1,2 -n 2 -q
c ctl_tokenize 0 "$T" tokenize -t $H/tok/good.json
c ctl_tokenize_gguf 0 "$T" tokenize -t $G
c ctl_info_gguf_folder 0 $N info -m $H/ok_gguf_folder
c ctl_quantize_gguf_folder 0 $N quantize $H/ok_gguf_folder "$TMP/q.gguf" q8_0
rm -f "$TMP/q.gguf"
c ctl_notok_ids 0 $N run -m $H/gt_notok.gguf --tokens 1,2 -n 2 -q
# no tokenizer: the answer is shown as ids, never as empty text
grep -qE '^[0-9]+ [0-9]+$' "$TMP/out" || { echo "FAIL ctl_notok_ids: no ids on stdout: '$(cat "$TMP/out")'"; fail=1; }

# ---- top level ----
c top_none 2 $N
c top_unknown 2 $N frobnicate
c top_dash 2 $N --bogus
c top_empty 2 $N ""

# ---- info / run / eval / convert / quantize / tokenize / chat on every hostile model ----
models=$(cd $H && ls -d g_*.gguf gt_*.gguf empty.gguf garbage.gguf text.gguf hf_* | grep -v -e hf_good -e gt_notok)
for m in $models; do
  p=$H/$m
  info=1 ids=12 tok=- txt=12
  case $m in
    # a broken tokenizer or generation_config leaves the weights usable:
    # info and --tokens may succeed, text in or out must not
    gt_bos_str.gguf|gt_eos_range.gguf|gt_tokens_long.gguf) info=012 ids=012 tok=01 ;;
    # an empty token string is taken as it is (never matched)
    gt_token_emptystr.gguf) info=012 ids=012 tok=01 txt=012 ;;
    hf_tok_too_big) info=012 ids=012 tok=01 ;;    # fine alone; too big for the model's 1024 rows
    gt_*|hf_tok_*) info=012 ids=012 tok=1 ;;
    hf_gen_*) info=012 ;;
    # lenient on purpose: unused keys / fields info only shows
    hf_bom_cfg) info=012 ids=012 txt=012 ;;    # a UTF-8 byte-order mark is skipped
    hf_dupkey_cfg|hf_badutf8_cfg|hf_nul_cfg|hf_surrogate_cfg|hf_sliding|hf_layer_types|hf_rope_yarn) info=012 ;;
    hf_type_llama|g_nan_weights.gguf|g_arch_llama.gguf) info=012 ;;
    empty.gguf|garbage.gguf|text.gguf|g_cut*.gguf) tok=1 ;;
  esac
  c "info:$m" $info $N info -m "$p"
  c "run:$m" $txt $N run -m "$p" -p "hello" -n 4 --temp 0 -q
  c "run_ids:$m" $ids $N run -m "$p" --tokens 1,2,3 -n 4 -q
  c "eval:$m" $ids $N eval -m "$p" --tokens 1,2,3 --logits-out "$TMP/logits"
  c "chat:$m" $txt "$T" chat -m "$p" -n 4 --temp 0 -q
  [ $m = g_nan_weights.gguf ] && b=012 || b=$ids    # a benchmark times, it does not read the logits
  c "bench:$m" $b $N bench -m "$p" -p 4 -n 2 -r 1 --no-warmup
  [ $tok != - ] && c "tokenize:$m" $tok "$T" tokenize -t "$p"
done
# conversion of structurally broken models
# (quantize re-encodes a GGUF's tensors as they are, as llama-quantize does:
# only files it cannot read must fail)
for m in g_cut.gguf g_cut_data.gguf empty.gguf garbage.gguf \
         hf_hidden_str hf_hidden_huge hf_st_cut hf_st_cut_data hf_st_hlen hf_st_negoff hf_st_shape_huge hf_cfg_dir hf_weights_dir; do
  c "convert:$m" 1 $N convert -m $H/$m -o "$TMP/out.gguf"
  [ -e "$TMP/out.gguf" ] && { echo "FAIL convert:$m left a partial output file"; fail=1; rm -f "$TMP/out.gguf"; }
  c "quantize:$m" 1 $N quantize $H/$m "$TMP/q.gguf" q8_0
  [ -e "$TMP/q.gguf" ] && { echo "FAIL quantize:$m left a partial output file"; fail=1; rm -f "$TMP/q.gguf"; }
done

# ---- hostile tokenizer.json files ----
for f in $(cd $H/tok && ls | grep -v '^good.json$'); do
  want=1
  # Hugging Face's tokenizers loads these too (checked with tokenizers@0.23.2)
  case $f in added_dup_content.json|added_dup_id.json|added_empty_content.json|vocab_gap_id.json) want=01 ;;
    bignum.json) want=01 ;;    # an unused key holding 1e400: ignored (HF's serde refuses the number)
  esac
  c "tokenize:tok/$f" $want "$T" tokenize -t $H/tok/$f
  c "decode:tok/$f" 1 $N tokenize -t $H/tok/$f --decode
  cwant=$want
  # convert copies vocabulary and merges: pipelines Monologue cannot run may still be llama.cpp's
  case $f in byte_fallback.json|decoder_bogus.json|dropout.json|normalizer_bogus.json|pretok_*.json) cwant=01 ;; esac
  c "convert_tok:tok/$f" $cwant $N convert -m $H/hf_good -o "$TMP/t.gguf" --tokenizer $H/tok/$f
  rm -f "$TMP/t.gguf"
done

# ---- tokenize: inputs and flags ----
TOK=$H/tok/good.json
c tok_no_t 2 "$T" tokenize
c tok_t_missing_value 2 "$T" tokenize -t
c tok_missing_file 1 "$T" tokenize -t $H/nope.json
c tok_devnull 1 "$T" tokenize -t /dev/null
c tok_gguf_without_vocab 1 "$T" tokenize -t $H/gt_notok.gguf
c tok_safetensors 1 "$T" tokenize -t $H/hf_good/model.safetensors
c tok_dir_without 1 "$T" tokenize -t $H/tok
c tok_raw_alone 2 "$T" tokenize -t $TOK --raw
c tok_skip_alone 2 "$T" tokenize -t $TOK --skip-special
c tok_unknown_flag 2 "$T" tokenize -t $TOK --frob
c tok_positional 2 "$T" tokenize -t $TOK extra
for f in bad_ids neg float nested obj huge_array; do
  c "tok_decode:$f" 1 $H/ids/$f.json tokenize -t $TOK --decode
done
c tok_decode_text 1 "$T" tokenize -t $TOK --decode
c tok_decode_empty 1 $N tokenize -t $TOK --decode
for f in bad badutf8 notjson; do
  c "tok_jsonl:$f" 1 $H/jsonl/$f.jsonl tokenize -t $TOK --jsonl
done
c tok_jsonl_decode 1 $H/jsonl/notjson.jsonl tokenize -t $TOK --jsonl --decode
c tok_jsonl_decode_range 1 $H/jsonl/ids_range.jsonl tokenize -t $TOK --jsonl --decode
c tok_jsonl_decode_neg 1 $H/jsonl/ids_neg.jsonl tokenize -t $TOK --jsonl --decode
c tok_jsonl_text_as_ids 1 $H/jsonl/bad.jsonl tokenize -t $TOK --jsonl --decode
c tok_pieces_decode 2 "$T" tokenize -t $TOK --decode --pieces
c tok_badutf8_stdin 1 $H/text/invalid_utf8.txt tokenize -t $TOK
c tok_overlong_stdin 1 $H/text/overlong.txt tokenize -t $TOK
c tok_badutf8_pieces 1 $H/text/invalid_utf8.txt tokenize -t $TOK --pieces
c ctl_tok_bytes 0 $H/text/invalid_utf8.txt tokenize -t $TOK --bytes
c tok_bytes_decode 2 $N tokenize -t $TOK --bytes --decode
c tok_bytes_jsonl 2 $N tokenize -t $TOK --bytes --jsonl

# ---- train-tokenizer ----
TX=$H/text/good.txt
c tt_no_args 2 $N train-tokenizer
c tt_no_files 2 $N train-tokenizer --vocab-size 300 --out "$TMP/t.json"
c tt_no_out 2 $N train-tokenizer --vocab-size 300 $TX
c tt_no_vocab 2 $N train-tokenizer --out "$TMP/t.json" $TX
for v in 0 -1 255 abc nan 1e9 99999999999999999999 ""; do
  c "tt_vocab:$v" 12 $N train-tokenizer --vocab-size "$v" --out "$TMP/t.json" $TX
done
c tt_vocab_missing_value 2 $N train-tokenizer --out "$TMP/t.json" $TX --vocab-size
c tt_missing_file 1 $N train-tokenizer --vocab-size 300 --out "$TMP/t.json" $H/text/nope.txt
c tt_dir_input 1 $N train-tokenizer --vocab-size 300 --out "$TMP/t.json" $H/text
c tt_out_dir 1 $N train-tokenizer --vocab-size 300 --out $H/text $TX
c tt_out_nodir 1 $N train-tokenizer --vocab-size 300 --out /nonexistent/dir/t.json $TX
full tt_out_full 1 $N train-tokenizer --vocab-size 300 --out /dev/full $TX
c tt_pretok 2 $N train-tokenizer --vocab-size 300 --out "$TMP/t.json" --pretokenizer bogus $TX
for v in -1 abc nan 1e99; do
  c "tt_minfreq:$v" 2 $N train-tokenizer --vocab-size 300 --out "$TMP/t.json" --min-frequency "$v" $TX
done
c tt_special_empty 12 $N train-tokenizer --vocab-size 300 --out "$TMP/t.json" --special "" $TX
c tt_special_badutf8 12 $N train-tokenizer --vocab-size 300 --out "$TMP/t.json" --special $'\xff\xfe' $TX
c tt_special_dup 12 $N train-tokenizer --vocab-size 300 --out "$TMP/t.json" --special '<a>' --special '<a>' $TX
c tt_vocab_too_small_for_specials 12 $N train-tokenizer --vocab-size 257 --out "$TMP/t.json" --special '<a>' --special '<b>' $TX
c tt_unknown 2 $N train-tokenizer --vocab-size 300 --out "$TMP/t.json" --frob $TX

# ---- run ----
c run_no_prompt 2 $N run -m $G
c run_both 2 $N run -m $G -p hi --tokens 1
c run_empty_prompt 2 $N run -m $G -p ""
c run_badutf8_prompt 12 $N run -m $G -p $'hello \xff\xfe' -n 2 -q
c run_overlong_prompt 12 $N run -m $G -p $'\xc0\xaf' -n 2 -q
c run_surrogate_prompt 12 $N run -m $G -p $'\xed\xa0\x80' -n 2 -q
c run_badutf8_system 12 $N run -m $G -p hi --chat --system $'\xff' -n 2 -q
c run_file_badutf8 12 $N run -m $G -f $H/text/invalid_utf8.txt -n 2 -q
c run_file_stdin_badutf8 12 $H/text/invalid_utf8.txt run -m $G -f - -n 2 -q
c run_file_dir 12 $N run -m $G -f $H/text -n 2 -q
c run_file_devnull 12 $N run -m $G -f /dev/null -n 2 -q
c run_file_missing 12 $N run -m $G -f $H/nope.txt -n 2 -q
c run_file_nul 12 $N run -m $G -f $H/text/nul.txt -n 2 -q
c run_file_long 1 $N run -m $G -f $H/long_prompt.txt -n 2 -q
c run_file_and_prompt 2 $N run -m $G -f $H/text/good.txt -p hi -n 2 -q
c run_system_nochat 2 $N run -m $G -p hi --system x
c run_long_prompt 1 $N run -m $G -p "$(cat $H/long_prompt.txt)" -n 2 -c 64 -q
c run_long_prompt_model_ctx 1 $N run -m $G -p "$(cat $H/long_prompt.txt)" -n 2 -q
c run_ids_long 1 $N run -m $G --tokens "$(seq -s, 1 100)" -n 2 -c 16 -q
c run_ids_range 1 $N run -m $G --tokens 1,2,272 -n 2 -q
c run_ids_huge 12 $N run -m $G --tokens 1,99999999999999999999 -n 2 -q
for ids in -1 "" 1,,2 1, a 1.5 0x10 "1 2" "1;2"; do
  c "run_ids:'$ids'" 12 $N run -m $G --tokens "$ids" -n 2 -q
done
for flag in -n --temp --top-k --top-p --min-p --repeat-penalty --seed -t -c --kv; do
  for v in -5 nan inf -inf abc "" 1e999 99999999999999999999 0x; do
    [ "$flag" = --temp ] && [ "$v" = "" ] && continue
    c "run_flag:$flag=$v" 2 $N run -m $G -p hi $flag "$v" -q
  done
  c "run_flag_missing:$flag" 2 $N run -m $G -p hi -q $flag
done
if [ -f models/default/model.gguf ]; then   # a KV cache too big to allocate: "out of memory", under ASan too
  c run_ctx_unallocatable 1 $N run -m models/default -p hi -n 2 -q -c 16777216
  c chat_ctx_unallocatable 1 "$T" chat -m models/default -n 2 -q -c 16777216
fi
c run_top_p_big 2 $N run -m $G -p hi --top-p 1.5
c run_min_p_big 2 $N run -m $G -p hi --min-p 2
c run_ctx_zero 2 $N run -m $G -p hi -c 0
c run_threads_zero 2 $N run -m $G -p hi -t 0
c run_model_missing 1 $N run -m $H/nope.gguf -p hi
c run_model_devnull 1 $N run -m /dev/null -p hi
c run_model_dir_empty 1 $N run -m "$TMP" -p hi
c run_model_fifo 1 $N run -m /dev/stdin -p hi
c run_model_missing_value 2 $N run -p hi -m
c run_unknown 2 $N run -m $G -p hi --frob
c run_positional 2 $N run -m $G -p hi stray

# ---- eval ----
c eval_no_tokens 2 $N eval -m $G
c eval_range 1 $N eval -m $G --tokens 1,272
c eval_bad_ids 12 $N eval -m $G --tokens 1,x
c eval_out_dir 1 $N eval -m $G --tokens 1,2 --logits-out $H
c eval_out_nodir 1 $N eval -m $G --tokens 1,2 --logits-out /nonexistent/x.bin
full eval_out_full 1 $N eval -m $G --tokens 1,2 --logits-out /dev/full
c eval_threads 2 $N eval -m $G --tokens 1 -t -1
c eval_kv 2 $N eval -m $G --tokens 1 --kv q4
c eval_unknown 2 $N eval -m $G --tokens 1 --frob

# ---- chat ----
c chat_badutf8_stdin 1 $H/text/invalid_utf8.txt chat -m $G -n 2 --temp 0 -q
c chat_overlong_stdin 1 $H/text/overlong.txt chat -m $G -n 2 --temp 0 -q
c chat_nul_stdin 1 $H/text/nul.txt chat -m $G -n 2 --temp 0 -q
c chat_long_message 1 $H/long_prompt.txt chat -m $G -n 2 --temp 0 -q -c 32
c chat_badutf8_system 12 "$T" chat -m $G -n 2 --temp 0 -q --system $'\xff'
c chat_badutf8_stop 12 "$T" chat -m $G -n 2 --temp 0 -q --stop $'\xff'
c chat_template 2 "$T" chat -m $G --template bogus
c chat_stop_empty 2 "$T" chat -m $G --stop ""
c chat_stop_many 2 "$T" chat -m $G $(for i in $(seq 17); do printf -- '--stop s%d ' $i; done)
for flag in -n --temp --top-k --top-p --min-p --repeat-penalty --presence-penalty --frequency-penalty --seed -t -c --kv; do
  for v in nan -inf abc 1e999 99999999999999999999; do
    c "chat_flag:$flag=$v" 2 "$T" chat -m $G $flag "$v" -q
  done
  c "chat_flag_missing:$flag" 2 "$T" chat -m $G -q $flag
done
c chat_unknown 2 "$T" chat -m $G --frob
c chat_model_missing 1 "$T" chat -m $H/nope.gguf

# ---- convert / quantize flags and outputs ----
c conv_no_out 2 $N convert -m $H/hf_good
c conv_no_model 2 $N convert -o "$TMP/o.gguf"
c conv_type 2 $N convert -m $H/hf_good -o "$TMP/o.gguf" --type q9_9
c conv_type_empty 2 $N convert -m $H/hf_good -o "$TMP/o.gguf" --type ""
c conv_out_dir 1 $N convert -m $H/hf_good -o $H
c conv_out_nodir 1 $N convert -m $H/hf_good -o /nonexistent/o.gguf
full conv_out_full 1 $N convert -m $H/hf_good -o /dev/full
c conv_tok_missing 1 $N convert -m $H/hf_good -o "$TMP/o.gguf" --tokenizer $H/nope.json
c conv_tok_too_big 1 $N convert -m $H/hf_good -o "$TMP/o.gguf" --tokenizer $H/hf_tok_too_big/tokenizer.json
c conv_tok_qwen 1 $N convert -m $H/hf_good -o "$TMP/o.gguf" --tokenizer "$QTOK"
c conv_name_empty 012 $N convert -m $H/hf_good -o "$TMP/o.gguf" --name ""
c conv_unknown 2 $N convert -m $H/hf_good -o "$TMP/o.gguf" --frob
rm -f "$TMP/o.gguf"
c q_no_args 2 $N quantize
c q_two_args 2 $N quantize $G "$TMP/q.gguf"
c q_four_args 2 $N quantize $G "$TMP/q.gguf" q8_0 extra
c q_type 2 $N quantize $G "$TMP/q.gguf" q9_9
c q_type_case 12 $N quantize $G "$TMP/q.gguf" Q8_0X
for v in 0 -1 abc nan 100000; do c "q_threads:$v" 2 $N quantize -t "$v" $G "$TMP/q.gguf" q8_0; done
c q_out_dir 1 $N quantize $G $H q8_0
c q_out_nodir 1 $N quantize $G /nonexistent/q.gguf q8_0
full q_out_full 1 $N quantize $G /dev/full q8_0
c q_in_missing 1 $N quantize $H/nope.gguf "$TMP/q.gguf" q8_0
c q_in_devnull 1 $N quantize /dev/null "$TMP/q.gguf" q8_0
c q_unknown 2 $N quantize --frob $G "$TMP/q.gguf" q8_0
# the same file spelled two ways: the input is mapped while the output is written
cp $G "$TMP/same.gguf"
c q_same_file_other_spelling 0 $N quantize "$TMP/same.gguf" "$TMP/./same.gguf" q8_0
c q_same_file_result_loads 0 $N info -m "$TMP/same.gguf"
# a failed convert leaves an existing output as it was
printf 'keep me' > "$TMP/keep.gguf"
c conv_fail_keeps_old 1 $N convert -m $H/g_cut.gguf -o "$TMP/keep.gguf"
[ "$(cat "$TMP/keep.gguf")" = "keep me" ] || { echo "FAIL conv_fail_keeps_old: the old output was changed"; fail=1; }
ls "$TMP" | grep -q '\.part$' && { echo "FAIL: a .part file was left behind"; fail=1; }

# ---- bench ----
for flag in -p -n -r -t; do
  for v in -1 nan abc 1e999 99999999999999999999; do c "bench_flag:$flag=$v" 2 $N bench -m $G $flag "$v"; done
  c "bench_flag_missing:$flag" 2 $N bench -m $G $flag
done
c bench_nothing 2 $N bench -m $G -p 0 -n 0
c bench_unknown 2 $N bench -m $G --frob
c bench_model_missing 1 $N bench -m $H/nope.gguf

# ---- info ----
c info_none 2 $N info
c info_missing_value 2 $N info -m
c info_dir 1 $N info -m "$TMP"
c info_devnull 1 $N info -m /dev/null
c info_unknown 2 $N info -m $G --frob
c info_name_escape 0 $N info -m $H/ok_name_escape.gguf
if grep -q $'\x1b' "$TMP/out"; then echo "FAIL info_name_escape: a terminal escape from the file reached stdout"; fail=1; fi
for bin in "${bins[@]}"; do   # run's load report on stderr too
  "$bin" run -m $H/ok_name_escape.gguf --tokens 1 -n 1 2>&1 >/dev/null | grep -q $'\x1b' && { echo "FAIL run_name_escape [$bin]: escape on stderr"; fail=1; }
done

if [ $fail = 0 ]; then echo "hostile_cli: all $n calls refused cleanly (${#bins[@]} binaries)"; fi
exit $fail
