// libFuzzer target: the spiece.model parser, tokenizer.json loader, encoder and prompt cleaning.
#include <cstddef>
#include <cstdint>
#include <string>
#include "src/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t mode = data[0] % 3;
    data++, size--;
    if (mode == 0) {
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
