// bpe.h — byte-level BPE tokenizer (the Llama 3 and CLIP-L text encoders of
// HunyuanVideo). Internal C++ API.
//
// Loads a Hugging Face tokenizer.json whose model is BPE from memory and
// encodes as HF tokenizers' encode(text, add_special_tokens) does:
//  - added tokens split off the raw text first (leftmost, longest match;
//    lstrip / rstrip swallow the whitespace beside them; `normalized` ones
//    are matched in the normalized text instead);
//  - normalizers: Sequence, NFC, Lowercase (Unicode tables in
//    unicode/unicode-tables.inc), Replace with a literal or the regex \s+;
//  - pre-tokenizers: Sequence, Split (behaviours Isolated / Removed, invert)
//    and ByteLevel (add_prefix_space, use_regex = the GPT-2 split). Split
//    patterns are not compiled: the known ones (Llama 3, GPT-2, CLIP with or
//    without its special-token alternatives) have hand-written matchers that
//    follow Oniguruma's leftmost-first backtracking;
//  - the BPE model: merges by rank (lowest first, then leftmost), both merge
//    forms ("a b" and ["a", "b"]), ignore_merges, continuing_subword_prefix,
//    end_of_word_suffix, byte_fallback, unk_token / fuse_unk;
//  - post-processors: TemplateProcessing, RobertaProcessing,
//    BertProcessing, ByteLevel (no effect on ids) and Sequence of them.
// decode follows tokenizers' decode(ids, skip_special_tokens=False) with
// the ByteLevel and BPEDecoder decoders (or a Sequence of them).
// Other component types, patterns or flags (single_word, dropout) are
// refused at load with an error naming them. The Unicode data (letters,
// numbers, lowercase, NFC) is that of tokenizers 0.23: Unicode 16.0, and
// 17.0's case pairs (see unicode/make_unicode_tables.py).
//
// Errors never abort: a failing call returns false / an empty result and sets
// svg_last_error(). Hostile input (corrupt json, invalid UTF-8 text — encoded
// as its lossy conversion, each bad sequence one U+FFFD, as Rust's
// from_utf8_lossy) never crashes. A loaded tokenizer is immutable:
// encode/decode may run from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct svg_bpe_tokenizer {
    svg_bpe_tokenizer() { clear(); }

    // A successful load replaces any previous model; a failed one leaves the
    // tokenizer empty (loaded() == false).
    bool load_hf_json(const void *data, size_t size);
    bool loaded() const { return !tokens_.empty(); }

    // text → ids; add_special applies the post-processor (Llama 3: a leading
    // <|begin_of_text|>; CLIP: <|startoftext|> … <|endoftext|>). Empty when
    // not loaded.
    std::vector<int32_t> encode(std::string_view text, bool add_special) const;
    // ids → text through the decoder; special tokens are kept. An id outside
    // the vocabulary: false with an error.
    bool decode(const std::vector<int32_t> &ids, std::string *out) const;

    int token_id(std::string_view token) const;  // added token or vocabulary entry, -1 when absent
    int n_vocab() const { return (int)tokens_.size(); }
    // -1 when unknown. bos / eos: the special tokens the post-processor puts
    // before / after the text, else the added tokens Llama 3 and CLIP name
    // so; pad: an added <pad> / <|pad|>, else eos (what both pad with).
    int bos_id() const { return bos_id_; }
    int eos_id() const { return eos_id_; }
    int pad_id() const { return pad_id_; }

    struct added_token {
        std::string content, match;  // match: content, normalized when `normalized`
        int32_t id;
        bool lstrip, rstrip, normalized;
    };
    // a normalizer, pre-tokenizer, post-processor or decoder step
    struct step {
        enum kind_t : uint8_t {
            NFC, LOWERCASE, REPLACE, REPLACE_WS,  // normalizers
            SPLIT, BYTE_LEVEL,                    // pre-tokenizers (BYTE_LEVEL is also a decoder)
            TEMPLATE,                             // post-processors: ids around the text
            BPE_DECODER,
        } kind;
        std::string pattern, content;          // REPLACE (pattern → content); BPE_DECODER: content = suffix
        uint8_t regex = 0;                     // SPLIT: which known pattern
        bool removed = false, invert = false;  // SPLIT
        bool add_prefix_space = false, use_regex = true;  // BYTE_LEVEL
        std::vector<int32_t> before, after;    // TEMPLATE
    };

   private:
    void clear();
    bool parse(const void *data, size_t size);
    std::string normalize(std::string_view text) const;
    void pre_tokenize(std::string piece, std::vector<std::string> *words) const;
    void bpe(const std::string &word, std::vector<int32_t> *ids) const;
    void encode_piece(std::string_view piece, std::vector<int32_t> *ids) const;
    int vocab_id(std::string_view token) const;

    std::vector<std::string> tokens_;  // by id (model vocabulary, then added tokens)
    std::vector<bool> is_token_;       // false: an id no token has
    std::unordered_map<std::string, int32_t> vocab_;  // the model's vocabulary
    std::unordered_map<uint64_t, std::pair<uint32_t, int32_t>> merges_;  // (left, right) → (rank, merged id)
    std::vector<added_token> added_;
    std::vector<step> normalizers_, pre_tokenizers_, post_processors_, decoders_;
    std::string continuing_prefix_, end_suffix_;
    int32_t unk_id_ = -1;
    bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
    int32_t byte_ids_[256];  // <0xXX> tokens of byte_fallback, -1 when absent
    int bos_id_ = -1, eos_id_ = -1, pad_id_ = -1;
};

// CLIP's "slow" tokenizer files (vocab.json + merges.txt, as openai's
// clip-vit-large-patch14 and HunyuanVideo's tokenizer_2/ ship) → the
// tokenizer.json text transformers' CLIPTokenizer builds from them:
// NFC + Replace(\s+ → " ") + Lowercase, the CLIP split regex + ByteLevel, BPE
// with end_of_word_suffix "</w>" and unk <|endoftext|>, post-processor
// <|startoftext|> $A <|endoftext|>, ByteLevel decoder. merges.txt lines are
// read as tokenizers reads them (lines starting with "#version" skipped, each
// other line exactly two tokens split by one space). Returns false with
// svg_last_error() on bad input.
bool svg_bpe_clip_json_from_vocab_merges(std::string_view vocab_json, std::string_view merges_txt,
                                         std::string *tokenizer_json);
