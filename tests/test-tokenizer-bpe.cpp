// Byte-level BPE tokenizer (Llama 3 / CLIP-L of HunyuanVideo) against HF
// tokenizers' outputs, recorded by tests/data/tokenizer_bpe/make_bpe.py for
// tiny trained tokenizers:
//  - <name>.expected.json: per text the ids without / with special tokens and
//    the decoded text; for clip also transformers' CLIPTokenizer ids from the
//    vocab.json + merges.txt files;
//  - llama3 / clip: the two configurations; *.extra: the same models with
//    added tokens using lstrip, rstrip, normalized and non-special flags.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "src/bpe.h"
#include "svg.h"

namespace {

using json = nlohmann::json;

std::string data_path(const std::string &f) { return std::string(SVG_TEST_DATA) + "/tokenizer_bpe/" + f; }

std::string read_all(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    EXPECT_TRUE(f.good()) << path;
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

const svg_bpe_tokenizer &model(const std::string &name) {
    static std::map<std::string, svg_bpe_tokenizer> cache;
    auto it = cache.find(name);
    if (it == cache.end()) {
        svg_bpe_tokenizer t;
        const std::string text = read_all(data_path(name + ".tokenizer.json"));
        EXPECT_TRUE(t.load_hf_json(text.data(), text.size())) << name << ": " << svg_last_error();
        it = cache.emplace(name, std::move(t)).first;
    }
    return it->second;
}

// the recorded cases; the parsed document is kept whole while its rows are read
const json &expected(const std::string &name) {
    static std::map<std::string, json> cache;
    auto it = cache.find(name);
    if (it == cache.end()) {
        json doc = json::parse(read_all(data_path(name + ".expected.json")));
        it = cache.emplace(name, std::move(doc)).first;
    }
    return it->second.at("texts");
}

std::vector<int32_t> ids_of(const json &j) { return j.get<std::vector<int32_t>>(); }

// loads `text` expecting failure; returns the error
std::string load_error(const std::string &text) {
    svg_bpe_tokenizer t;
    svg_set_error("%s", "");
    EXPECT_FALSE(t.load_hf_json(text.data(), text.size()));
    EXPECT_FALSE(t.loaded());
    EXPECT_TRUE(t.encode("abc", true).empty());
    return svg_last_error();
}

class BpeModel : public ::testing::TestWithParam<const char *> {};

TEST_P(BpeModel, RecordedIdsExact) {
    const svg_bpe_tokenizer &t = model(GetParam());
    ASSERT_TRUE(t.loaded());
    const json &cases = expected(GetParam());
    ASSERT_GT(cases.size(), 50u);
    int failures = 0;
    for (const json &c : cases) {
        const std::string text = c.at("text").get<std::string>();
        const std::vector<int32_t> ids = t.encode(text, false), ids_special = t.encode(text, true);
        EXPECT_EQ(ids, ids_of(c.at("ids"))) << "text: " << text;
        EXPECT_EQ(ids_special, ids_of(c.at("ids_special"))) << "text: " << text;
        failures += ids != ids_of(c.at("ids")) || ids_special != ids_of(c.at("ids_special"));
        if (failures > 10) FAIL() << "more than 10 texts differ";
    }
}

TEST_P(BpeModel, DecodeMatches) {
    const svg_bpe_tokenizer &t = model(GetParam());
    for (const json &c : expected(GetParam())) {
        std::string out;
        ASSERT_TRUE(t.decode(ids_of(c.at("ids_special")), &out)) << svg_last_error();
        EXPECT_EQ(out, c.at("decoded").get<std::string>()) << "text: " << c.at("text").get<std::string>();
    }
}

TEST(BpeTokenizer, Llama3RoundTrip) {
    // without a normalizer or stripping added tokens nothing is lost: decode(encode(text)) == text
    const svg_bpe_tokenizer &t = model("llama3");
    for (const json &c : expected("llama3")) {
        const std::string text = c.at("text").get<std::string>();
        std::string out;
        ASSERT_TRUE(t.decode(t.encode(text, false), &out));
        EXPECT_EQ(out, text);
    }
}

TEST_P(BpeModel, InvalidUtf8IsLossy) {
    // invalid sequences encode as U+FFFD (one per maximal bad subsequence)
    const svg_bpe_tokenizer &t = model(GetParam());
    const std::pair<std::string, std::string> cases[] = {
        {"a\xff" "b", "a\xEF\xBF\xBD" "b"},
        {"x\xe8\x89 y", "x\xEF\xBF\xBD y"},             // truncated 3-byte sequence: one U+FFFD
        {"\xed\xa0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // surrogate: each byte
        {"\xc0\xaf!", "\xEF\xBF\xBD\xEF\xBF\xBD!"},       // overlong
        {"end\xf0\x9f\x98", "end\xEF\xBF\xBD"},
        {std::string("nul\0byte", 8), std::string("nul\0byte", 8)},
    };
    for (const auto &[bad, good] : cases) {
        EXPECT_EQ(t.encode(bad, true), t.encode(good, true)) << bad;
        EXPECT_FALSE(t.encode(bad, false).empty());
    }
}

INSTANTIATE_TEST_SUITE_P(Bpe, BpeModel, ::testing::Values("llama3", "clip", "llama3.extra", "clip.extra"));

TEST(BpeTokenizer, ClipFilesRoute) {
    std::string text;
    ASSERT_TRUE(svg_bpe_clip_json_from_vocab_merges(read_all(data_path("clip.vocab.json")), read_all(data_path("clip.merges.txt")),
                                                    &text))
        << svg_last_error();
    svg_bpe_tokenizer files;
    ASSERT_TRUE(files.load_hf_json(text.data(), text.size())) << svg_last_error();
    const svg_bpe_tokenizer &fast = model("clip");
    EXPECT_EQ(files.n_vocab(), fast.n_vocab());
    EXPECT_EQ(files.bos_id(), fast.bos_id());
    EXPECT_EQ(files.eos_id(), fast.eos_id());
    for (const json &c : expected("clip")) {
        const std::string s = c.at("text").get<std::string>();
        EXPECT_EQ(files.encode(s, true), ids_of(c.at("ids_clip_files"))) << "text: " << s;
        EXPECT_EQ(files.encode(s, false), fast.encode(s, false)) << "text: " << s;
        std::string a, b;
        EXPECT_TRUE(files.decode(ids_of(c.at("ids_special")), &a));
        EXPECT_TRUE(fast.decode(ids_of(c.at("ids_special")), &b));
        EXPECT_EQ(a, b);
    }
}

TEST(BpeTokenizer, ClipFilesErrors) {
    const std::string vocab = read_all(data_path("clip.vocab.json")), merges = read_all(data_path("clip.merges.txt"));
    std::string out = "stale";
    EXPECT_FALSE(svg_bpe_clip_json_from_vocab_merges(vocab.substr(0, vocab.size() / 2), merges, &out));
    EXPECT_NE(std::string(svg_last_error()).find("vocab.json"), std::string::npos) << svg_last_error();
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(svg_bpe_clip_json_from_vocab_merges("{\"a\": \"x\"}", merges, &out));
    EXPECT_FALSE(svg_bpe_clip_json_from_vocab_merges("{\"a\": 0, \"b\": 1}", merges, &out));
    EXPECT_NE(std::string(svg_last_error()).find("<|startoftext|>"), std::string::npos) << svg_last_error();
    EXPECT_FALSE(svg_bpe_clip_json_from_vocab_merges(vocab, merges + "one_token_only\n", &out));
    EXPECT_NE(std::string(svg_last_error()).find("merges.txt: line"), std::string::npos) << svg_last_error();
    EXPECT_FALSE(svg_bpe_clip_json_from_vocab_merges(vocab, merges + "a b c\n", &out));
    EXPECT_FALSE(svg_bpe_clip_json_from_vocab_merges(std::string(100, '['), merges, &out));
    // well-formed files naming a token the vocabulary lacks: the loader refuses them
    ASSERT_TRUE(svg_bpe_clip_json_from_vocab_merges(vocab, merges + "zzqq xxyy\n", &out));
    EXPECT_NE(load_error(out).find("not in the vocabulary"), std::string::npos);
}

TEST(BpeTokenizer, SpecialIds) {
    const svg_bpe_tokenizer &llama = model("llama3"), &clip = model("clip");
    for (const json &c : expected("llama3")) {
        const std::vector<int32_t> ids = ids_of(c.at("ids_special"));
        ASSERT_FALSE(ids.empty());
        EXPECT_EQ(ids.front(), llama.bos_id());
    }
    for (const json &c : expected("clip")) {
        const std::vector<int32_t> ids = ids_of(c.at("ids_special"));
        ASSERT_GE(ids.size(), 2u);
        EXPECT_EQ(ids.front(), clip.bos_id());
        EXPECT_EQ(ids.back(), clip.eos_id());
    }
    EXPECT_EQ(llama.bos_id(), llama.token_id("<|begin_of_text|>"));
    EXPECT_EQ(llama.eos_id(), llama.token_id("<|end_of_text|>"));
    EXPECT_EQ(llama.pad_id(), llama.eos_id());
    EXPECT_EQ(clip.pad_id(), clip.token_id("<|endoftext|>"));
    EXPECT_EQ(llama.token_id("<|eot_id|>") + 1, llama.n_vocab());  // added after the model vocabulary
    EXPECT_EQ(llama.token_id("no such token"), -1);
    EXPECT_GE(llama.token_id("a"), 0);
}

TEST(BpeTokenizer, DecodeErrorsAndEdges) {
    const svg_bpe_tokenizer &t = model("llama3");
    std::string out = "stale";
    EXPECT_TRUE(t.decode({}, &out));
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(t.decode({t.n_vocab()}, &out));
    EXPECT_FALSE(t.decode({-1}, &out));
    EXPECT_FALSE(t.decode({0, 2147483647}, &out));
    // a lone lead byte decodes lossily
    const std::vector<int32_t> lead = t.encode("\xe8\x89\xb2", false);
    ASSERT_GT(lead.size(), 1u) << "expected the character to need several byte tokens";
    EXPECT_TRUE(t.decode({lead[0]}, &out));
    EXPECT_EQ(out, "\xEF\xBF\xBD");
    svg_bpe_tokenizer empty;
    EXPECT_FALSE(empty.decode({0}, &out));
    EXPECT_TRUE(empty.encode("abc", true).empty());
}

// replaces the json value at `path` (keys / indices) in a copy of a tokenizer.json
std::string edited(const std::string &name, const std::function<void(json &)> &edit) {
    json j = json::parse(read_all(data_path(name + ".tokenizer.json")));
    edit(j);
    return j.dump();
}

TEST(BpeTokenizer, BadInputsGiveErrors) {
    const std::string llama = read_all(data_path("llama3.tokenizer.json"));
    auto has = [](const std::string &err, const char *what) {
        EXPECT_NE(err.find(what), std::string::npos) << "error: " << err << "\nexpected to mention: " << what;
    };
    has(load_error(llama.substr(0, llama.size() / 2)), "not valid JSON");
    has(load_error(""), "empty");
    has(load_error("[1, 2]"), "not a JSON object");
    has(load_error(std::string(10000, '[') + std::string(10000, ']')), "nested too deeply");
    has(load_error(edited("llama3", [](json &j) { j["model"]["type"] = "WordPiece"; })), "WordPiece");
    has(load_error(edited("llama3", [](json &j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+"; })),
        "Split regex '\\w+'");
    has(load_error(edited("llama3", [](json &j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Contiguous"; })),
        "Contiguous");
    has(load_error(edited("llama3", [](json &j) { j["pre_tokenizer"]["type"] = "Whitespace"; })), "Whitespace");
    has(load_error(edited("llama3", [](json &j) { j["normalizer"] = {{"type", "NFKC"}}; })), "NFKC");
    has(load_error(edited("clip", [](json &j) { j["normalizer"]["normalizers"][1]["pattern"]["Regex"] = " +"; })),
        "Replace regex");
    has(load_error(edited("llama3", [](json &j) { j["decoder"] = {{"type", "WordPiece"}}; })), "decoder 'WordPiece'");
    has(load_error(edited("llama3", [](json &j) { j["post_processor"] = {{"type", "Mystery"}}; })), "Mystery");
    has(load_error(edited("llama3", [](json &j) { j["model"]["merges"].push_back({"zzqq", "xxyy"}); })),
        "'zzqq', which is not in the vocabulary");
    has(load_error(edited("llama3", [](json &j) { j["model"]["merges"].push_back("a b c"); })), "not two tokens");
    has(load_error(edited("llama3", [](json &j) { j["model"]["merges"].push_back(42); })), "neither");
    has(load_error(edited("llama3", [](json &j) { j["model"]["vocab"]["zz"] = -5; })), "vocab id of 'zz'");
    has(load_error(edited("llama3", [](json &j) { j["model"]["vocab"]["zz"] = 4000000000u; })), "vocab id of 'zz'");
    has(load_error(edited("llama3", [](json &j) { j["model"]["vocab"]["zz"] = 1.5; })), "vocab id of 'zz'");
    has(load_error(edited("llama3", [](json &j) { j["model"]["vocab"]["zz"] = 0; })), "used twice");
    has(load_error(edited("llama3", [](json &j) { j["added_tokens"][0]["id"] = 99999999; })), "added token id");
    has(load_error(edited("llama3", [](json &j) { j["added_tokens"][0]["single_word"] = true; })), "single_word");
    has(load_error(edited("llama3", [](json &j) { j["model"]["unk_token"] = "<nope>"; })), "unk_token '<nope>'");
    has(load_error(edited("llama3", [](json &j) { j["model"]["dropout"] = 0.1; })), "dropout");
    has(load_error(edited("llama3", [](json &j) {
            j["post_processor"]["processors"][1]["special_tokens"]["<|begin_of_text|>"]["ids"] = {123456789};
        })),
        "out of range");
    // a failed load empties a loaded tokenizer
    svg_bpe_tokenizer t;
    ASSERT_TRUE(t.load_hf_json(llama.data(), llama.size()));
    EXPECT_FALSE(t.load_hf_json(llama.data(), 10));
    EXPECT_FALSE(t.loaded());
}

TEST(BpeTokenizer, BpeOptions) {
    // byte_fallback: a character outside the vocabulary becomes its <0xXX> tokens
    const std::string fallback = edited("clip", [](json &j) {
        json &vocab = j["model"]["vocab"];
        for (int b : {0xE2, 0x98, 0x83}) {
            char name[8];
            snprintf(name, sizeof name, "<0x%02X>", b);
            vocab[name] = vocab.size();
        }
        j["model"]["byte_fallback"] = true;
        j["model"]["unk_token"] = nullptr;
        j["normalizer"] = nullptr;
        j["pre_tokenizer"] = nullptr;  // no byte-level mapping: the raw character reaches the model
        j["model"]["end_of_word_suffix"] = nullptr;
    });
    svg_bpe_tokenizer t;
    ASSERT_TRUE(t.load_hf_json(fallback.data(), fallback.size())) << svg_last_error();
    const std::vector<int32_t> want = {t.token_id("<0xE2>"), t.token_id("<0x98>"), t.token_id("<0x83>")};
    EXPECT_EQ(t.encode("\xe2\x98\x83", false), want);  // U+2603
    // without byte tokens or unk, an unknown character vanishes
    EXPECT_EQ(t.encode("\xe2\x98\x84", false), std::vector<int32_t>{});
    // BPEDecoder: the suffix ends words
    const std::string bpe_dec = edited("clip", [](json &j) { j["decoder"] = {{"type", "BPEDecoder"}, {"suffix", "</w>"}}; });
    ASSERT_TRUE(t.load_hf_json(bpe_dec.data(), bpe_dec.size())) << svg_last_error();
    std::string out;
    ASSERT_GE(t.token_id("a</w>"), 0);
    ASSERT_GE(t.token_id("cat</w>"), 0);
    ASSERT_TRUE(t.decode({t.token_id("a</w>"), t.token_id("cat</w>")}, &out));
    EXPECT_EQ(out, "a cat");
}

TEST(BpeTokenizer, AddedTokenNormalizedToNothing) {
    // a normalized added token whose normalized form is empty never matches (and does not hang)
    auto with_replace = [](bool add_token) {
        return edited("clip", [add_token](json &j) {
            j["normalizer"]["normalizers"].push_back({{"type", "Replace"}, {"pattern", {{"String", "q"}}}, {"content", ""}});
            if (add_token)
                j["added_tokens"].push_back({{"id", 0}, {"content", "q"}, {"single_word", false}, {"lstrip", false},
                                             {"rstrip", false}, {"normalized", true}, {"special", false}});
        });
    };
    const std::string a = with_replace(true), b = with_replace(false);
    svg_bpe_tokenizer ta, tb;
    ASSERT_TRUE(ta.load_hf_json(a.data(), a.size())) << svg_last_error();
    ASSERT_TRUE(tb.load_hf_json(b.data(), b.size())) << svg_last_error();
    for (const char *text : {"q", "a quick quiz", "qqq q"}) {
        EXPECT_EQ(ta.encode(text, true), tb.encode(text, true)) << text;
        EXPECT_EQ(ta.encode(text, true).size(), tb.encode(std::string(text) + "q", true).size()) << text;
    }
}

TEST(BpeTokenizer, ThreadsAgree) {
    const svg_bpe_tokenizer &t = model("llama3");
    const json &cases = expected("llama3");
    std::vector<std::vector<int32_t>> got(2);
    std::vector<std::thread> threads;
    for (int k = 0; k < 2; k++)
        threads.emplace_back([&, k] {
            for (const json &c : cases) {
                std::vector<int32_t> ids = t.encode(c.at("text").get<std::string>(), true);
                got[k].insert(got[k].end(), ids.begin(), ids.end());
            }
        });
    for (auto &th : threads) th.join();
    EXPECT_EQ(got[0], got[1]);
    EXPECT_FALSE(got[0].empty());
}

TEST(BpeTokenizer, Performance) {
    // a 256-token-ish prompt (the HunyuanVideo template + a long prompt) well under a millisecond each
    const svg_bpe_tokenizer &t = model("llama3");
    std::string text;
    for (const json &c : expected("llama3")) {
        std::string s = c.at("text").get<std::string>();
        if (s.find("<|start_header_id|>") != std::string::npos && s.size() > text.size()) text = s;
    }
    ASSERT_FALSE(text.empty());
    ASSERT_GT(t.encode(text, true).size(), 150u);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; i++) t.encode(text, true);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 200;
    EXPECT_LT(ms, 5.0) << ms << " ms per encode";
}

}  // namespace
