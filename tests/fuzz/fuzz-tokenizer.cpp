// libFuzzer target: the spiece.model parser, tokenizer.json loaders (Unigram
// and BPE), the encoders, the CLIP vocab.json + merges.txt conversion and
// prompt cleaning. The first byte picks the mode; 0xC0-0xCF select the BPE
// modes, so the older seeds keep their meaning.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include "src/bpe.h"
#include "src/tokenizer.h"

namespace {

const svg_bpe_tokenizer *bpe_model(const char *name) {
    auto *t = new svg_bpe_tokenizer;
    std::ifstream f(std::string(SVG_TEST_DATA "/tokenizer_bpe/") + name, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    t->load_hf_json(s.data(), s.size());
    return t;
}

void bpe_round_trip(const svg_bpe_tokenizer &t, const std::string &text) {
    std::string out;
    t.decode(t.encode(text, true), &out);
    t.decode(t.encode(text, false), &out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const bool bpe = (data[0] & 0xF0) == 0xC0;
    const uint8_t mode = data[0] % 3;
    data++, size--;
    if (bpe && mode == 0) {
        svg_bpe_tokenizer t;
        if (t.load_hf_json(data, size)) {
            bpe_round_trip(t, "A cat \xe8\x89\xb2 walks\xff on  the <|endoftext|> grass's 12345.\r\n");
            std::string out;
            t.decode({0, t.n_vocab() - 1}, &out);
        }
    } else if (bpe && mode == 1) {
        static const svg_bpe_tokenizer *llama = bpe_model("llama3.extra.tokenizer.json");
        static const svg_bpe_tokenizer *clip = bpe_model("clip.extra.tokenizer.json");
        const std::string s((const char *)data, size);
        bpe_round_trip(*llama, s);
        bpe_round_trip(*clip, s);
    } else if (bpe) {
        // vocab.json, a NUL, merges.txt
        const std::string s((const char *)data, size);
        const size_t nul = s.find('\0');
        std::string json;
        if (nul != std::string::npos && svg_bpe_clip_json_from_vocab_merges(s.substr(0, nul), s.substr(nul + 1), &json)) {
            svg_bpe_tokenizer t;
            if (t.load_hf_json(json.data(), json.size())) bpe_round_trip(t, "a photo of <|startoftext|> CATS' 2 dogs");
        }
    } else if (mode == 0) {
        svg_tokenizer t;
        if (t.load_spm(data, size)) {
            auto ids = t.encode("A cat \xe8\x89\xb2 walks\xff on  the <sep> grass.");
            t.decode(ids);
            t.encode_padded("x y", 8);
        }
    } else if (mode == 1) {
        svg_tokenizer t;
        if (t.load_hf_json(data, size)) {
            auto ids = t.encode("A cat \xe8\x89\xb2 walks\xff on  the </s> grass.");
            t.decode(ids);
        }
    } else {
        std::string s((const char *)data, size);
        svg_prompt_clean(s);
        static svg_tokenizer *m = [] {
            auto *t = new svg_tokenizer;
            t->load_spm_file(SVG_TEST_DATA "/tokenizer_spm/spm_unigram.model");
            return t;
        }();
        auto ids = m->encode(s);
        m->decode(ids);
        static svg_tokenizer *h = [] {
            auto *t = new svg_tokenizer;
            t->load_hf_json_file(SVG_TEST_DATA "/tokenizer_spm/spm_unigram.tokenizer.json");
            return t;
        }();
        h->encode(s);
    }
    return 0;
}
