// tokenizer.h — SentencePiece unigram tokenizer (T5 / umT5 text encoders) and
// the prompt cleaning of the Wan / diffusers pipelines. Internal C++ API.
//
// Models load from memory, so the tokenizer can live inside a GGUF as a u8
// array:
//  - load_spm: the SentencePiece `spiece.model` (protobuf ModelProto, parsed by
//    hand with full bounds checking; UNIGRAM models only);
//  - load_hf_json: a Hugging Face `tokenizer.json` with a Unigram model.
// spiece.model encoding follows the sentencepiece library exactly: the
// normalizer (precompiled character map = Darts double-array trie +
// replacement strings, longest match; user-defined symbols kept whole;
// invalid UTF-8 bytes → U+FFFD; extra-whitespace removal; dummy prefix;
// ' ' → U+2581), the optimized Viterbi over piece scores in float (unknown
// characters cost min score − 10; user-defined pieces win; UNUSED pieces are
// never produced), runs of unknown characters merged into one <unk>, or with
// byte fallback split into <0xXX> byte pieces.
// tokenizer.json encoding follows HF tokenizers: added tokens split off the
// raw text first (longest match), then the normalizer steps (Precompiled —
// grapheme clusters under 6 bytes replaced whole by the rule of their
// shortest matching prefix, as HF does —, Strip, Replace with a literal or
// " {2,}"), the pre-tokenizers (WhitespaceSplit, Metaspace), and the Unigram
// model per word (every vocabulary string matchable, f64 scores, fused
// unknowns, byte fallback when every byte piece exists). Other normalizer /
// pre-tokenizer types are refused at load.
//
// Errors never abort: a failing call returns false / an empty result and sets
// svg_last_error(). Hostile input (corrupt model bytes, invalid UTF-8 text)
// never crashes. A loaded tokenizer is immutable: encode/decode may run from
// several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct svg_tokenizer {
    // SentencePiece piece types (the ModelProto.SentencePiece.Type values).
    enum piece_type : uint8_t {
        PIECE_NORMAL = 1,
        PIECE_UNKNOWN = 2,
        PIECE_CONTROL = 3,
        PIECE_USER_DEFINED = 4,
        PIECE_BYTE = 6,
        PIECE_UNUSED = 5,
    };

    svg_tokenizer() { clear(); }

    // ------------------------------------------------------------- loading
    // A successful load replaces any previous model; a failed one leaves the
    // tokenizer empty (loaded() == false).
    bool load_spm(const void *data, size_t size);      // spiece.model bytes
    bool load_spm_file(const char *path);
    bool load_hf_json(const void *data, size_t size);  // tokenizer.json text
    bool load_hf_json_file(const char *path);
    bool loaded() const { return !pieces_.empty(); }

    // ------------------------------------------------------------ encoding
    // text → ids (no eos). Empty on error (not loaded) or for empty input;
    // `pieces` (optional) receives the piece strings as SentencePiece reports
    // them (a merged unknown run is its normalized text).
    std::vector<int32_t> encode(std::string_view text, std::vector<std::string> *pieces = nullptr) const;
    // The normalized text the Viterbi segments (U+2581 for spaces); for a
    // tokenizer.json, the normalizer's output before pre-tokenization.
    std::string normalize(std::string_view text) const;
    // ids → text, as SentencePiece decodes: control ids vanish, unknown ids
    // become the unk surface (" ⁇ "), byte pieces are reassembled into UTF-8
    // (invalid sequences → U+FFFD), U+2581 → ' ', leading space dropped.
    // Out-of-range ids: false with an error.
    bool decode(const std::vector<int32_t> &ids, std::string *out) const;
    std::string decode(const std::vector<int32_t> &ids) const;  // "" on error

    // The T5 tokenizer call of the pipelines (padding="max_length",
    // truncation=True, add_special_tokens=True): encode, truncate to
    // max_len − 1, append eos, pad with the pad id (0 when the model has none)
    // to max_len. mask: 1 on real tokens (eos included), 0 on padding.
    // n_tokens = number of real tokens. No cleaning: pass the text through
    // svg_prompt_clean first, as the Wan pipeline does. max_len ≤ 0: empty.
    struct padded {
        std::vector<int32_t> ids;
        std::vector<int32_t> mask;
        int n_tokens = 0;
    };
    padded encode_padded(std::string_view text, int max_len = 512) const;

    // --------------------------------------------------------- vocabulary
    int n_vocab() const { return (int)pieces_.size(); }
    const std::string &id_to_piece(int id) const;  // "" when out of range
    int piece_to_id(std::string_view piece) const;  // unk id when not found
    piece_type type_of(int id) const;
    float score_of(int id) const;

    // special ids: spiece.model's trainer_spec (-1 when unset or out of
    // range); tokenizer.json: the control pieces "</s>", "<s>", "<pad>"
    int unk_id() const { return unk_id_; }
    int eos_id() const { return eos_id_; }
    int bos_id() const { return bos_id_; }
    int pad_id() const { return pad_id_; }
    bool byte_fallback() const { return byte_fallback_; }

    // --------------------------------------------------------- internals
    struct piece_info {
        std::string text;
        float score = 0.f;
        piece_type type = PIECE_NORMAL;
    };
    // Byte trie with contiguous, label-sorted children (built once).
    struct trie {
        struct node {
            uint32_t first = 0;  // index of the first child
            int32_t value = -1;  // piece id ending here, -1 if none
            uint16_t count = 0;  // number of children (≤ 256)
            uint8_t label = 0;
        };
        std::vector<node> nodes;
        int32_t root_child[256];
        trie() { clear(); }
        void clear() {
            nodes.clear();
            for (int32_t &c : root_child) c = -1;
        }
        void build(const std::vector<std::pair<std::string_view, int32_t>> &keys);
        // child of node n labelled c, or -1
        int32_t child(int32_t n, uint8_t c) const;
        bool empty() const { return nodes.size() <= 1; }
    };

   private:
    struct segment {
        size_t begin, end;  // byte range in the normalized string
        int32_t id;
    };
    // tokenizer.json normalizer / pre-tokenizer steps
    struct hf_step {
        enum kind_t { PRECOMPILED, STRIP, REPLACE, COLLAPSE_SPACES, WS_SPLIT, METASPACE } kind;
        bool left = false, right = false;  // STRIP
        std::string pattern, content;      // REPLACE / COLLAPSE_SPACES (content)
        std::string replacement;           // METASPACE
        int prepend = 0;                   // METASPACE: 0 always, 1 first, 2 never
        bool split = true;                 // METASPACE
    };
    struct hf_word {
        std::string text;
        bool at_start;  // begins at offset 0 of the input (Metaspace "first")
    };

    bool finish_load();  // checks the vocabulary (SentencePiece's rules), builds the tries
    void clear();
    bool set_charsmap(std::string_view blob);
    int charsmap_match(const char *s, size_t n, size_t *len, bool shortest = false) const;
    size_t normalize_prefix(const char *s, size_t n, std::string_view *out) const;
    void viterbi(std::string_view norm, std::vector<segment> *out) const;
    void emit(std::string_view norm, const std::vector<segment> &segs, bool fuse_unk, std::vector<int32_t> *ids,
              std::vector<std::string> *pieces) const;
    std::string hf_normalize(std::string_view text) const;
    void hf_pretokenize(std::string_view normalized, bool at_start, std::vector<hf_word> *words) const;
    void hf_encode(std::string_view text, std::vector<int32_t> *ids, std::vector<std::string> *pieces) const;
    bool hf_parse(const void *data, size_t size);

    std::vector<piece_info> pieces_;
    trie trie_;       // NORMAL, USER_DEFINED, UNUSED pieces (SentencePiece's pieces_)
    trie user_trie_;  // USER_DEFINED pieces (the normalizer's prefix matcher)
    std::vector<std::pair<std::string, int32_t>> reserved_;  // CONTROL/UNKNOWN/BYTE, sorted
    int32_t byte_ids_[256];
    int unk_id_ = -1, eos_id_ = -1, bos_id_ = -1, pad_id_ = -1;
    bool byte_fallback_ = false;
    float min_score_ = 0.f, max_score_ = 0.f;
    std::string unk_surface_ = " \xE2\x81\x87 ";

    // normalizer spec
    std::vector<uint32_t> charsmap_units_;  // Darts double-array units
    std::string charsmap_strings_;          // NUL-terminated replacement strings
    bool add_dummy_prefix_ = true;
    bool remove_extra_whitespaces_ = true;
    bool escape_whitespaces_ = true;
    bool treat_ws_as_suffix_ = false;

    // tokenizer.json: the normalizer and pre-tokenizer pipelines, added tokens
    bool hf_mode_ = false;
    bool hf_prepend_ = false;  // a Metaspace prepends U+2581 (decode strips it)
    bool hf_fuse_unk_ = true;
    std::vector<hf_step> hf_normalizers_, hf_pretok_;
    std::vector<std::pair<std::string, int32_t>> hf_added_;
    trie hf_added_trie_;
};

// The Wan / diffusers prompt cleaning (ftfy skipped):
// html.unescape(html.unescape(text)), then re.sub(r"\s+", " ", text).strip().
std::string svg_prompt_clean(std::string_view text);
// Python's html.unescape: HTML5 named references (with the legacy
// no-semicolon forms and longest-prefix rule) and numeric references.
std::string svg_html_unescape(std::string_view text);
// re.sub(r"\s+", " ", text).strip() with Python's Unicode whitespace set.
std::string svg_whitespace_clean(std::string_view text);
