// SentencePiece unigram tokenizer (spiece.model and tokenizer.json) and the
// Wan prompt cleaning, against the reference libraries' outputs:
//  - tokenizer_spm/*.json: the goldens (sentencepiece);
//  - tokenizer_spm/*.extra.json: more texts, invalid UTF-8 included (as hex),
//    from sentencepiece (ids, pieces, decoded) and from HF tokenizers on the
//    *.tokenizer.json files made by transformers' T5 converter (hf_ids).
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "src/tokenizer.h"
#include "svg.h"

namespace {

using json = nlohmann::json;

std::string data_path(const std::string &f) { return std::string(SVG_TEST_DATA) + "/tokenizer_spm/" + f; }

std::string read_all(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    EXPECT_TRUE(f.good()) << path;
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

json read_json(const std::string &path) { return json::parse(read_all(path)); }

std::string unhex(const std::string &h) {
    std::string s;
    for (size_t i = 0; i + 1 < h.size(); i += 2) s += (char)std::stoi(h.substr(i, 2), nullptr, 16);
    return s;
}

std::string escape(const std::string &s) {
    std::string o;
    char buf[8];
    for (unsigned char c : s) {
        if (c >= 32 && c < 127) o += (char)c;
        else snprintf(buf, sizeof buf, "\\x%02x", c), o += buf;
    }
    return o;
}

std::vector<int32_t> ids_of(const json &j) { return j.get<std::vector<int32_t>>(); }

const svg_tokenizer &model(const std::string &name) {
    static std::map<std::string, svg_tokenizer> cache;
    auto it = cache.find(name);
    if (it == cache.end()) {
        svg_tokenizer t;
        bool ok = name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0 ? t.load_hf_json_file(data_path(name).c_str())
                                                                                    : t.load_spm_file(data_path(name).c_str());
        EXPECT_TRUE(ok) << name << ": " << svg_last_error();
        it = cache.emplace(name, std::move(t)).first;
    }
    return it->second;
}

// The text SentencePiece's decoder gives back for a normalized string: U+2581 → ' ', no leading space.
std::string denormalize(const std::string &norm) {
    std::string o;
    for (size_t i = 0; i < norm.size();) {
        if (norm.compare(i, 3, "\xe2\x96\x81") == 0) o += ' ', i += 3;
        else o += norm[i++];
    }
    while (!o.empty() && o[0] == ' ') o.erase(0, 1);
    return o;
}

class TokenizerModel : public ::testing::TestWithParam<std::string> {};

// ------------------------------------------------------------ the goldens

TEST_P(TokenizerModel, GoldenCasesExact) {
    const svg_tokenizer &t = model(GetParam() + ".model");
    ASSERT_TRUE(t.loaded());
    json g = read_json(data_path(GetParam() + ".json"));
    ASSERT_GE(g["cases"].size(), 10u);
    for (const json &c : g["cases"]) {
        std::string text = c["text"];
        std::vector<std::string> pieces;
        std::vector<int32_t> ids = t.encode(text, &pieces);
        EXPECT_EQ(ids, ids_of(c["ids"])) << escape(text);
        EXPECT_EQ(pieces, c["pieces"].get<std::vector<std::string>>()) << escape(text);
        for (size_t i = 0; i < ids.size() && i < pieces.size(); i++)
            if (t.type_of(ids[i]) != svg_tokenizer::PIECE_UNKNOWN) {
                EXPECT_EQ(t.id_to_piece(ids[i]), pieces[i]);
            }
    }
}

TEST_P(TokenizerModel, ExtraCasesExact) {
    const svg_tokenizer &t = model(GetParam() + ".model");
    json g = read_json(data_path(GetParam() + ".extra.json"));
    ASSERT_GE(g["cases"].size(), 300u);
    for (const json &c : g["cases"]) {
        std::string text = unhex(c["text_hex"]);
        std::vector<std::string> pieces;
        std::vector<int32_t> ids = t.encode(text, &pieces);
        EXPECT_EQ(ids, ids_of(c["ids"])) << escape(text);
        EXPECT_EQ(pieces, c["pieces"].get<std::vector<std::string>>()) << escape(text);
        EXPECT_EQ(t.decode(ids), c["decoded"].get<std::string>()) << escape(text);
    }
}

// decode(encode(x)) gives x up to normalization; re-encoding it is stable.
TEST_P(TokenizerModel, RoundTrip) {
    const svg_tokenizer &t = model(GetParam() + ".model");
    std::vector<std::string> texts;
    const json golden = read_json(data_path(GetParam() + ".json"));
    const json extra = read_json(data_path(GetParam() + ".extra.json"));
    for (const json &c : golden["cases"]) texts.push_back(c["text"]);
    for (const json &c : extra["cases"]) texts.push_back(unhex(c["text_hex"]));
    int checked = 0;
    for (const std::string &x : texts) {
        std::vector<int32_t> ids = t.encode(x);
        bool has_unk = false;
        for (int32_t id : ids) has_unk |= id == t.unk_id();
        std::string back = t.decode(ids);
        if (has_unk) {
            EXPECT_FALSE(t.byte_fallback()) << escape(x);  // byte fallback never yields <unk>
            EXPECT_NE(back.find("\xe2\x81\x87"), std::string::npos);  // the unk surface " ⁇ "
            continue;
        }
        EXPECT_EQ(back, denormalize(t.normalize(x))) << escape(x);
        // re-encoding the goldens' decoded text is stable (not in general:
        // deleting a control character can let NFKC compose its neighbours)
        if (&x - &texts[0] < (ptrdiff_t)golden["cases"].size()) {
            EXPECT_EQ(t.encode(back), ids) << escape(x);
        }
        checked++;
    }
    EXPECT_GT(checked, (int)texts.size() / (t.byte_fallback() ? 2 : 10));
}

// tokenizer.json (HF Unigram + Precompiled/Strip/Replace + Metaspace)
TEST_P(TokenizerModel, HfTokenizerJson) {
    const svg_tokenizer &t = model(GetParam() + ".tokenizer.json");
    ASSERT_TRUE(t.loaded());
    EXPECT_EQ(t.eos_id(), 1);
    EXPECT_EQ(t.pad_id(), 0);
    EXPECT_EQ(t.unk_id(), 2);
    const json golden = read_json(data_path(GetParam() + ".json"));
    const json extra = read_json(data_path(GetParam() + ".extra.json"));
    for (const json &c : golden["cases"]) {
        std::string text = c["text"];
        EXPECT_EQ(t.encode(text), ids_of(c["ids"])) << escape(text);  // the goldens: same as sentencepiece
    }
    int n = 0;
    for (const json &c : extra["cases"]) {
        if (!c.contains("hf_ids")) continue;  // invalid UTF-8: not a Python str
        std::string text = unhex(c["text_hex"]);
        EXPECT_EQ(t.encode(text), ids_of(c["hf_ids"])) << escape(text);
        n++;
    }
    EXPECT_GT(n, 200);
    // decode: Metaspace + byte fallback
    EXPECT_EQ(t.decode(t.encode("A cat walks on the grass")), "A cat walks on the grass");
}

INSTANTIATE_TEST_SUITE_P(Spm, TokenizerModel, ::testing::Values("spm_unigram", "spm_unigram_bytefallback"));

// ------------------------------------------------------------------- API

TEST(Tokenizer, Vocabulary) {
    const svg_tokenizer &t = model("spm_unigram.model");
    EXPECT_EQ(t.n_vocab(), 1000);
    EXPECT_EQ(t.unk_id(), 2);
    EXPECT_EQ(t.eos_id(), 1);
    EXPECT_EQ(t.pad_id(), 0);
    EXPECT_EQ(t.bos_id(), -1);
    EXPECT_FALSE(t.byte_fallback());
    EXPECT_EQ(t.id_to_piece(0), "<pad>");
    EXPECT_EQ(t.id_to_piece(1), "</s>");
    EXPECT_EQ(t.id_to_piece(2), "<unk>");
    EXPECT_EQ(t.id_to_piece(4), "\xe2\x96\x81");
    EXPECT_EQ(t.id_to_piece(-1), "");
    EXPECT_EQ(t.id_to_piece(1000), "");
    EXPECT_EQ(t.piece_to_id("</s>"), 1);
    EXPECT_EQ(t.piece_to_id("\xe2\x96\x81the"), 10);
    EXPECT_EQ(t.piece_to_id("no such piece"), 2);
    EXPECT_EQ(t.type_of(1), svg_tokenizer::PIECE_CONTROL);
    EXPECT_EQ(t.type_of(2), svg_tokenizer::PIECE_UNKNOWN);
    EXPECT_EQ(t.type_of(10), svg_tokenizer::PIECE_NORMAL);
    EXPECT_LT(t.score_of(10), 0.f);

    const svg_tokenizer &b = model("spm_unigram_bytefallback.model");
    EXPECT_TRUE(b.byte_fallback());
    EXPECT_EQ(b.piece_to_id("<0x00>"), 3);
    EXPECT_EQ(b.piece_to_id("<0xFF>"), 258);
    EXPECT_EQ(b.type_of(3), svg_tokenizer::PIECE_BYTE);
    // an unknown character becomes its UTF-8 bytes
    std::vector<std::string> pieces;
    std::vector<int32_t> ids = b.encode("\xe2\x98\x83", &pieces);  // ☃
    EXPECT_EQ(pieces, (std::vector<std::string>{"\xe2\x96\x81", "<0xE2>", "<0x98>", "<0x83>"}));
    EXPECT_EQ(b.decode(ids), "\xe2\x98\x83");
}

TEST(Tokenizer, DecodeRules) {
    const svg_tokenizer &t = model("spm_unigram.model");
    // control ids vanish, unknown ids read " ⁇ ", leading space dropped
    std::vector<int32_t> ids = t.encode("a cat");
    std::vector<int32_t> with = {0};
    with.insert(with.end(), ids.begin(), ids.end());
    with.push_back(1);
    with.push_back(0);
    EXPECT_EQ(t.decode(with), "a cat");
    EXPECT_EQ(t.decode({2}), " \xe2\x81\x87 ");
    EXPECT_EQ(t.decode({}), "");
    std::string out = "x";
    EXPECT_FALSE(t.decode({5, 1000}, &out));
    EXPECT_NE(std::string(svg_last_error()).find("invalid id"), std::string::npos);
    EXPECT_FALSE(t.decode({-3}, &out));
    // byte pieces that are not valid UTF-8 decode to U+FFFD each
    const svg_tokenizer &b = model("spm_unigram_bytefallback.model");
    EXPECT_EQ(b.decode({b.piece_to_id("<0xE2>"), b.piece_to_id("<0x41>")}), "\xef\xbf\xbd" "A");
}

TEST(Tokenizer, NotLoaded) {
    svg_tokenizer t;
    EXPECT_FALSE(t.loaded());
    svg_clear_error();
    EXPECT_TRUE(t.encode("hello").empty());
    EXPECT_NE(std::string(svg_last_error()), "");
    std::string out;
    EXPECT_FALSE(t.decode({1}, &out));
    EXPECT_EQ(t.n_vocab(), 0);
    EXPECT_EQ(t.id_to_piece(0), "");
    EXPECT_FALSE(t.load_spm_file("/nonexistent/spiece.model"));
    EXPECT_FALSE(t.load_hf_json_file("/nonexistent/tokenizer.json"));
    EXPECT_FALSE(t.load_spm(nullptr, 0));
    EXPECT_FALSE(t.load_hf_json(nullptr, 0));
}

// The pipeline call: ids + eos, truncation to max_len, padding, mask.
TEST(Tokenizer, EncodePadded) {
    const svg_tokenizer &t = model("spm_unigram.model");
    std::vector<int32_t> ids = t.encode("A cat walks on the grass, realistic style.");
    svg_tokenizer::padded p = t.encode_padded("A cat walks on the grass, realistic style.", 512);
    ASSERT_EQ(p.ids.size(), 512u);
    ASSERT_EQ(p.mask.size(), 512u);
    EXPECT_EQ(p.n_tokens, (int)ids.size() + 1);
    for (size_t i = 0; i < ids.size(); i++) EXPECT_EQ(p.ids[i], ids[i]);
    EXPECT_EQ(p.ids[ids.size()], 1);
    for (size_t i = 0; i < 512; i++) {
        EXPECT_EQ(p.mask[i], i <= ids.size() ? 1 : 0);
        if (i > ids.size()) {
            EXPECT_EQ(p.ids[i], 0);
        }
    }
    // truncation keeps max_len - 1 tokens and the eos
    std::string long_text;
    for (int i = 0; i < 400; i++) long_text += "cat dog ";
    std::vector<int32_t> all = t.encode(long_text);
    ASSERT_GT(all.size(), 600u);
    p = t.encode_padded(long_text, 512);
    EXPECT_EQ(p.n_tokens, 512);
    EXPECT_EQ(std::vector<int32_t>(p.ids.begin(), p.ids.begin() + 511), std::vector<int32_t>(all.begin(), all.begin() + 511));
    EXPECT_EQ(p.ids[511], 1);
    EXPECT_EQ(p.mask, std::vector<int32_t>(512, 1));
    // empty text: just the eos
    p = t.encode_padded("", 8);
    EXPECT_EQ(p.ids, (std::vector<int32_t>{1, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(p.mask, (std::vector<int32_t>{1, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(p.n_tokens, 1);
    p = t.encode_padded("a cat", 1);
    EXPECT_EQ(p.ids, (std::vector<int32_t>{1}));
    p = t.encode_padded("a cat", 0);
    EXPECT_TRUE(p.ids.empty() && p.mask.empty());
    p = t.encode_padded("a cat", -5);
    EXPECT_TRUE(p.ids.empty());
}

// html.unescape twice + re.sub(r"\s+", " ", text).strip(); expected values from Python 3.11.
TEST(Tokenizer, PromptClean) {
    const std::pair<const char *, const char *> cases[] = {
        {"A &amp; B", "A & B"},
        {"&amp;amp; twice", "& twice"},
        {"&amp;amp;amp; thrice", "&amp; thrice"},
        {"&lt;b&gt;bold&lt;/b&gt;", "<b>bold</b>"},
        {"&#65;&#x42;&#X43;&#0067", "ABCC"},
        {"&copy 2025 &notit; &notin; &amp", "\xc2\xa9 2025 \xc2\xac" "it; \xe2\x88\x89 &"},
        {"caf&eacute; na&iuml;ve", "caf\xc3\xa9 na\xc3\xaf" "ve"},
        {"&#0; &#x80; &#x9F; &#xD800; &#x110000; &#1; &#x7f; &#xFFFE; &#13;",
         "\xef\xbf\xbd \xe2\x82\xac \xc5\xb8 \xef\xbf\xbd \xef\xbf\xbd"},
        {"&#99999999999999999999999;", "\xef\xbf\xbd"},
        {"&unknown; & &; &# &#x; &#xZ;", "&unknown; & &; &# &#x; &#xZ;"},
        {"&AMP;&AMPx &ampx", "&&x &x"},
        {"  tabs\t\tand\nnewlines\r\n  ", "tabs and newlines"},
        {"\xe3\x80\x80ideographic\xc2\xa0nbsp\xe2\x80\xa8line\x1c" "fs\xc2\x85nel  end\xe3\x80\x80",
         "ideographic nbsp line fs nel end"},
        {"&nbsp;x&nbsp;", "x"},
        {"&nbsp;&nbsp;", ""},
        {"a&#x20;&#x20;b", "a b"},
        {"&Afr;&fjlig;&NotEqualTilde;", "\xf0\x9d\x94\x84" "fj\xe2\x89\x82\xcc\xb8"},
        {"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"},
        {"&\xc3\xa9" "acute;", "&\xc3\xa9" "acute;"},
        {"no entities here", "no entities here"},
        {"", ""},
        {"   ", ""},
        {"&#x1F431;&#128008;", "\xf0\x9f\x90\xb1\xf0\x9f\x90\x88"},
        {"&ltx &lt;x &lt;;", "<x <x <;"},
    };
    for (const auto &c : cases) EXPECT_EQ(svg_prompt_clean(c.first), c.second) << escape(c.first);
    EXPECT_EQ(svg_html_unescape("&amp;amp;"), "&amp;");
    EXPECT_EQ(svg_whitespace_clean(" a \t b "), "a b");
    // invalid UTF-8 passes through
    EXPECT_EQ(svg_prompt_clean("\xff &amp;\xc3"), "\xff &\xc3");
    // the pipeline: clean, then the padded T5 call
    const svg_tokenizer &t = model("spm_unigram.model");
    svg_tokenizer::padded a = t.encode_padded(svg_prompt_clean("  A &amp;amp; cat\n\twalks &lt;here&gt; "), 32);
    svg_tokenizer::padded b = t.encode_padded("A & cat walks <here>", 32);
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(a.mask, b.mask);
}

// Normalizer flags, set by appending a second normalizer_spec / trainer_spec
// to the model: protobuf merges repeated sub-messages field by field.
// Expected values from sentencepiece on the same bytes.
TEST(Tokenizer, NormalizerSpecOverrides) {
    const std::string base = read_all(data_path("spm_unigram.model"));
    const std::string U = "\xe2\x81\x87";  // ⁇
    struct c_t {
        const char *suffix_hex, *text;
        std::vector<int32_t> ids;
        std::string decoded;
    };
    const c_t cases[] = {
        // add_dummy_prefix = false
        {"1a021800", "  a  cat ", {15, 4, 441}, "a cat"},
        {"1a021800", "A cat walks.", {127, 4, 441, 324, 15, 19, 107, 7, 5}, "A cat walks."},
        {"1a021800", "\tx\xe3\x80\x80 y  ", {116, 4, 57}, "x y"},
        // remove_extra_whitespaces = false
        {"1a022000", "  a  cat ", {4, 4, 68, 4, 4, 441, 4}, "  a  cat "},
        {"1a022000", "A cat walks.", {256, 4, 441, 324, 15, 19, 107, 7, 5}, "A cat walks."},
        {"1a022000", "\tx\xe3\x80\x80 y  ", {4, 4, 116, 4, 4, 57, 4, 4}, " x  y  "},
        // escape_whitespaces = false: ' ' is no piece of this model
        {"1a022800", "  a  cat ", {2, 15, 2, 441}, " " + U + " a " + U + " cat"},
        {"1a022800", "A cat walks.", {2, 127, 2, 441, 2, 111, 15, 19, 107, 7, 5},
         " " + U + " A " + U + " cat " + U + " walks."},
        {"1a022800", "\tx\xe3\x80\x80 y  ", {2, 116, 2, 57}, " " + U + " x " + U + " y"},
        // trainer_spec.treat_whitespace_as_suffix = true
        {"1203c00101", "  a  cat ", {15, 4, 441, 4}, "a cat "},
        {"1203c00101", "A cat walks.", {127, 4, 441, 324, 15, 19, 107, 7, 5, 4}, "A cat walks. "},
        {"1203c00101", "\tx\xe3\x80\x80 y  ", {116, 4, 57, 4}, "x y "},
    };
    for (const c_t &c : cases) {
        std::string bytes = base + unhex(c.suffix_hex);
        svg_tokenizer t;
        ASSERT_TRUE(t.load_spm(bytes.data(), bytes.size())) << svg_last_error();
        std::vector<int32_t> ids = t.encode(c.text);
        EXPECT_EQ(ids, c.ids) << c.suffix_hex << " " << escape(c.text);
        EXPECT_EQ(t.decode(ids), c.decoded) << c.suffix_hex << " " << escape(c.text);
    }
}

// ------------------------------------------------------ hostile input

// A load either fails with a message or gives a usable tokenizer.
void check_load_or_error(const std::string &bytes, bool hf) {
    svg_tokenizer t;
    svg_clear_error();
    bool ok = hf ? t.load_hf_json(bytes.data(), bytes.size()) : t.load_spm(bytes.data(), bytes.size());
    if (!ok) {
        EXPECT_FALSE(t.loaded());
        EXPECT_STRNE(svg_last_error(), "");
        return;
    }
    for (const char *s : {"A cat walks on the grass.", "\xe8\x89\xb2\xe8\xb0\x83 \xff\xfe x", "", "   "}) {
        std::vector<std::string> pieces;
        std::vector<int32_t> ids = t.encode(s, &pieces);
        EXPECT_EQ(ids.size(), pieces.size());
        for (int32_t id : ids) {
            EXPECT_GE(id, 0);
            EXPECT_LT(id, t.n_vocab());
        }
        std::string out;
        EXPECT_TRUE(t.decode(ids, &out));
        t.encode_padded(s, 16);
    }
}

TEST(Tokenizer, MalformedModelTruncated) {
    std::string full = read_all(data_path("spm_unigram_bytefallback.model"));
    ASSERT_GT(full.size(), 10000u);
    int loaded = 0;
    std::vector<size_t> lengths;
    for (size_t n = 0; n < 6000; n++) lengths.push_back(n);
    for (size_t n = 6000; n < full.size(); n += 997) lengths.push_back(n);
    for (size_t n = full.size() - 64; n < full.size(); n++) lengths.push_back(n);
    for (size_t n : lengths) {
        svg_tokenizer t;
        if (t.load_spm(full.data(), n)) {
            loaded++;
            check_load_or_error(full.substr(0, n), false);
        } else {
            EXPECT_STRNE(svg_last_error(), "") << n;
        }
    }
    // a prefix that ends between pieces is a valid (smaller) model; most are not
    EXPECT_LT(loaded, (int)lengths.size() / 2);
    svg_tokenizer t;
    EXPECT_TRUE(t.load_spm(full.data(), full.size())) << svg_last_error();
}

TEST(Tokenizer, MalformedModelByteFlips) {
    std::string full = read_all(data_path("spm_unigram.model"));
    std::mt19937 rng(1234);
    int loaded = 0;
    for (int it = 0; it < 600; it++) {
        std::string m = full;
        int n = 1 + (int)(rng() % 8);
        for (int k = 0; k < n; k++) {
            // bias towards the protobuf framing at the start and the charsmap header
            size_t pos = (it % 3 == 0) ? rng() % 64 : rng() % m.size();
            m[pos] = (char)(rng() & 0xFF);
        }
        svg_tokenizer t;
        loaded += t.load_spm(m.data(), m.size());
        check_load_or_error(m, false);
    }
    EXPECT_GT(loaded, 0);
    // random garbage
    for (int it = 0; it < 300; it++) {
        std::string m(rng() % 512, '\0');
        for (char &c : m) c = (char)(rng() & 0xFF);
        check_load_or_error(m, false);
    }
}

TEST(Tokenizer, MalformedTokenizerJson) {
    std::string full = read_all(data_path("spm_unigram.tokenizer.json"));
    for (size_t n = 0; n < full.size(); n += 1 + n / 4) check_load_or_error(full.substr(0, n), true);
    const char *bad[] = {
        "", "{}", "[]", "null", "{\"model\": 1}", "{\"model\": {\"type\": \"BPE\"}}",
        "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}",
        "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]]}}",
        "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 5, \"vocab\": [[\"a\", 0.0]]}}",
        "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"a\"]]}}",
        "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"\", 0.0]]}}",
        "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0.0]]}, \"normalizer\": {\"type\": \"NFKC\"}}",
        "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0.0]]}, \"normalizer\": "
        "{\"type\": \"Precompiled\", \"precompiled_charsmap\": \"!!!\"}}",
        "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0.0]]}, \"normalizer\": "
        "{\"type\": \"Precompiled\", \"precompiled_charsmap\": \"/////w==\"}}",
        "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0.0]]}, \"pre_tokenizer\": {\"type\": \"Split\"}}",
    };
    for (const char *b : bad) {
        svg_tokenizer t;
        EXPECT_FALSE(t.load_hf_json(b, strlen(b))) << b;
        EXPECT_STRNE(svg_last_error(), "");
    }
    std::string deep(100000, '[');
    check_load_or_error(deep, true);
    // a minimal valid one
    const char *ok = "{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"<unk>\", 0.0], [\"\\u2581a\", -1.0], "
                     "[\"b\", -2.0]]}, \"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"\\u2581\"}}";
    svg_tokenizer t;
    ASSERT_TRUE(t.load_hf_json(ok, strlen(ok))) << svg_last_error();
    EXPECT_EQ(t.encode("ab a"), (std::vector<int32_t>{1, 2, 1}));
    EXPECT_EQ(t.encode("ac"), (std::vector<int32_t>{1, 0}));
}

// Invalid UTF-8: each bad byte is one character (U+FFFD after normalization).
TEST(Tokenizer, InvalidUtf8) {
    const svg_tokenizer &t = model("spm_unigram.model");
    const svg_tokenizer &b = model("spm_unigram_bytefallback.model");
    std::mt19937 rng(7);
    for (int it = 0; it < 2000; it++) {
        std::string s(rng() % 64, '\0');
        for (char &c : s) c = (char)(rng() & 0xFF);
        for (const svg_tokenizer *m : {&t, &b}) {
            std::vector<std::string> pieces;
            std::vector<int32_t> ids = m->encode(s, &pieces);
            ASSERT_EQ(ids.size(), pieces.size());
            for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < m->n_vocab());
            std::string out;
            EXPECT_TRUE(m->decode(ids, &out));
        }
    }
    // "\xff" → U+FFFD, an unknown character: <unk>, or its three bytes
    EXPECT_EQ(t.normalize("\xff"), "\xe2\x96\x81\xef\xbf\xbd");
    std::vector<std::string> pieces;
    b.encode("a\xff", &pieces);
    EXPECT_EQ(pieces, (std::vector<std::string>{"\xe2\x96\x81" "a", "<0xEF>", "<0xBF>", "<0xBD>"}));
    // a truncated sequence at the end, a lone continuation byte, an overlong form, a surrogate
    for (const char *s : {"abc\xe2\x96", "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
        std::vector<int32_t> ids = b.encode(s);
        EXPECT_FALSE(ids.empty()) << escape(s);
    }
}

// ------------------------------------------------- hand-made ModelProtos

struct pb_writer {
    std::string out;
    void varint(uint64_t v) {
        while (v >= 0x80) out += (char)(v | 0x80), v >>= 7;
        out += (char)v;
    }
    void tag(int f, int wt) { varint((uint64_t)f << 3 | (uint64_t)wt); }
    void bytes(int f, const std::string &s) { tag(f, 2), varint(s.size()), out += s; }
    void u64(int f, uint64_t v) { tag(f, 0), varint(v); }
    void i32(int f, int v) { tag(f, 0), varint((uint64_t)(int64_t)v); }  // negative: 10 bytes
    void f32(int f, float x) {
        tag(f, 5);
        char b[4];
        memcpy(b, &x, 4);
        out.append(b, 4);
    }
};

std::string piece(const std::string &text, float score, int type) {
    pb_writer w;
    w.bytes(1, text);
    w.f32(2, score);
    if (type != 1) w.u64(3, (uint64_t)type);
    return w.out;
}

struct proto_spec {
    std::vector<std::tuple<std::string, float, int>> pieces = {
        {"<pad>", 0, 3}, {"</s>", 0, 3}, {"<unk>", 0, 2}, {"\xe2\x96\x81", -2, 1}, {"a", -3, 1}, {"b", -3, 1},
        {"ab", -4, 1},   {"c", -3, 1},   {"<sep>", 0, 4}, {"abc", -1, 5},
    };
    int model_type = 1;
    bool byte_fallback = false;
    std::string charsmap;
    bool extra_unknown_fields = false;
    std::string build() const {
        pb_writer m;
        if (extra_unknown_fields) {
            m.u64(99, 12345);
            m.tag(100, 1);
            m.out += std::string(8, '\x7f');
            m.bytes(101, "nested unknown message");
        }
        for (const auto &p : pieces) m.bytes(1, piece(std::get<0>(p), std::get<1>(p), std::get<2>(p)));
        pb_writer ts;
        ts.i32(3, model_type);
        ts.i32(4, (int)pieces.size());
        ts.u64(35, byte_fallback);
        ts.i32(40, 2);
        ts.i32(41, -1);  // bos: none (a 10-byte varint)
        ts.i32(42, 1);
        ts.i32(43, 0);
        if (extra_unknown_fields) ts.tag(10, 5), ts.out += std::string(4, '\0');
        m.bytes(2, ts.out);
        pb_writer ns;
        ns.bytes(1, charsmap.empty() ? "identity" : "custom");
        if (!charsmap.empty()) ns.bytes(2, charsmap);
        m.bytes(3, ns.out);
        return m.out;
    }
};

TEST(Tokenizer, HandMadeModel) {
    proto_spec spec;
    std::string bytes = spec.build();
    svg_tokenizer t;
    ASSERT_TRUE(t.load_spm(bytes.data(), bytes.size())) << svg_last_error();
    EXPECT_EQ(t.bos_id(), -1);
    EXPECT_EQ(t.eos_id(), 1);
    std::vector<std::string> pieces;
    // "abc" is UNUSED: never produced; "<sep>" is USER_DEFINED: kept whole
    EXPECT_EQ(t.encode("abc", &pieces), (std::vector<int32_t>{3, 6, 7}));
    EXPECT_EQ(t.encode("a<sep>b", &pieces), (std::vector<int32_t>{3, 4, 8, 5}));
    EXPECT_EQ(pieces, (std::vector<std::string>{"\xe2\x96\x81", "a", "<sep>", "b"}));
    // unknown characters: one <unk> per run
    EXPECT_EQ(t.encode("axyzb", &pieces), (std::vector<int32_t>{3, 4, 2, 5}));
    EXPECT_EQ(pieces[2], "xyz");
    // no charsmap: spaces still collapse, U+2581 escapes
    EXPECT_EQ(t.normalize("  a   b  "), "\xe2\x96\x81" "a\xe2\x96\x81" "b");
    // control pieces are not matched in text
    EXPECT_EQ(t.encode("</s>")[1], 2);

    spec.extra_unknown_fields = true;
    bytes = spec.build();
    EXPECT_TRUE(t.load_spm(bytes.data(), bytes.size())) << svg_last_error();
    EXPECT_EQ(t.encode("ab"), (std::vector<int32_t>{3, 6}));
}

TEST(Tokenizer, HandMadeModelErrors) {
    auto expect_error = [](const proto_spec &spec, const char *what) {
        std::string bytes = spec.build();
        svg_tokenizer t;
        EXPECT_FALSE(t.load_spm(bytes.data(), bytes.size())) << what;
        EXPECT_NE(std::string(svg_last_error()).find(what), std::string::npos) << svg_last_error();
    };
    proto_spec s;
    s.model_type = 2;
    expect_error(s, "model_type");
    s = proto_spec();
    s.pieces.push_back({"a", -1, 1});
    expect_error(s, "already defined");
    s = proto_spec();
    s.pieces[2] = {"<unk>", 0, 1};
    expect_error(s, "unk is not defined");
    s = proto_spec();
    s.pieces.push_back({"<unk2>", 0, 2});
    expect_error(s, "unk is already defined");
    s = proto_spec();
    s.pieces.push_back({"<0x41>", 0, 6});
    expect_error(s, "byte_fallback");
    s = proto_spec();
    s.byte_fallback = true;
    s.pieces.push_back({"<0x41>", 0, 6});
    expect_error(s, "missing");
    s = proto_spec();
    s.pieces.push_back({"", -1, 1});
    expect_error(s, "empty");
    s = proto_spec();
    s.pieces.push_back({"x", -1, 9});
    expect_error(s, "piece type");
    s = proto_spec();
    s.charsmap = std::string("\xff\xff\x00\x00", 4) + "abc";  // trie larger than the blob
    expect_error(s, "charsmap");

    // framing errors
    const std::string bad[] = {
        std::string("\x0a\x80", 2),                            // truncated length
        std::string("\x0a\x05" "ab", 4),                       // length past the end
        std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12),  // 11-byte varint
        std::string("\x0b", 1),                                // start group
        std::string("\x00\x00", 2),                            // field 0
        std::string("\x0d\x00\x00", 3),                        // pieces as fixed32
        std::string("\x0a\x02\x15\x00", 4),                    // score truncated
    };
    for (const std::string &b : bad) {
        svg_tokenizer t;
        EXPECT_FALSE(t.load_spm(b.data(), b.size())) << escape(b);
    }
}

// A hostile charsmap (random double-array units) never reads out of bounds.
TEST(Tokenizer, HostileCharsmap) {
    std::mt19937 rng(99);
    for (int it = 0; it < 200; it++) {
        size_t n_units = 1 + rng() % 600;
        std::string blob(4, '\0');
        uint32_t size = (uint32_t)(n_units * 4);
        memcpy(&blob[0], &size, 4);
        for (size_t i = 0; i < n_units; i++) {
            uint32_t u = rng();
            if (it % 2) u &= 0x800003FF | (rng() % 4 << 10);  // small offsets: deeper walks
            blob.append((const char *)&u, 4);
        }
        for (int k = rng() % 64; k > 0; k--) blob += (char)(rng() % 4 ? 'a' + rng() % 26 : 0);
        proto_spec s;
        s.charsmap = blob;
        std::string bytes = s.build();
        check_load_or_error(bytes, false);
        svg_tokenizer t;
        if (!t.load_spm(bytes.data(), bytes.size())) continue;
        for (int k = 0; k < 20; k++) {
            std::string text(rng() % 32, '\0');
            for (char &c : text) c = (char)(rng() & 0xFF);
            t.encode(text);
        }
    }
}

// ---------------------------------------------------------- performance

TEST(Tokenizer, Performance) {
    const svg_tokenizer &t = model("spm_unigram_bytefallback.model");
    std::string text;
    while (t.encode(text).size() < 512)
        text += "A cinematic shot of a cat walking on the grass, realistic style, 4k, \xe8\x89\xb2\xe8\xb0\x83\xe8\x89\xb3\xe4\xb8\xbd. ";
    const int reps = 50;
    auto t0 = std::chrono::steady_clock::now();
    size_t n = 0;
    for (int i = 0; i < reps; i++) n += t.encode(text).size();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
    printf("encode: %zu bytes → %zu tokens in %.3f ms\n", text.size(), n / reps, ms);
    EXPECT_LT(ms, 20.0);  // well under 1 ms in a release build; generous for sanitizers
    // linear: 16x the text costs far less than 16^2 x
    std::string big;
    for (int i = 0; i < 16; i++) big += text;
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; i++) t.encode(big);
    double ms_big = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 5;
    EXPECT_LT(ms_big, 64 * ms + 5.0);
}

}  // namespace
