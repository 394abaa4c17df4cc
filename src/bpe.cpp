// Byte-level BPE tokenizer (HF tokenizers' BPE model with its normalizers,
// pre-tokenizers, post-processors and decoders). See bpe.h. The encoder
// mirrors tokenizers' AddedVocabulary::extract_and_normalize, Split /
// ByteLevel pre_tokenize, BPE::merge_word + Word::merge_all and the
// TemplateProcessing / RobertaProcessing post-processors.
#include "bpe.h"

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <queue>
#include <utility>

#include "json-get.h"
#include "svg-impl.h"
#include "utf8.h"

namespace {

using json = nlohmann::json;
using namespace svg_utf8;

#include "unicode/unicode-tables.inc"

// ---------------------------------------------------------------- Unicode

template <size_t N>
bool in_ranges(const uint32_t (&r)[N][2], uint32_t c) {
    size_t lo = 0, hi = N;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r[mid][1] < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < N && r[lo][0] <= c;
}

bool is_letter(uint32_t c) {
    if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    return in_ranges(k_letter_ranges, c);
}
bool is_number(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    return in_ranges(k_number_ranges, c);
}
// Unicode White_Space: Rust's char::is_whitespace and the regexes' \s
bool is_space(uint32_t c) {
    return (c >= 0x9 && c <= 0xD) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
bool is_other(uint32_t c) { return !is_space(c) && !is_letter(c) && !is_number(c); }  // [^\s\p{L}\p{N}]
bool is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }

void append_lower(std::string &out, uint32_t c) {
    if (c < 0x80) {
        out += (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        return;
    }
    for (const auto &m : k_lower_multi)
        if (m[0] == c) {
            append_utf8(out, m[1]);
            append_utf8(out, m[2]);
            return;
        }
    const size_t n = sizeof(k_lower_runs) / sizeof(k_lower_runs[0]);
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (k_lower_runs[mid].hi < c) lo = mid + 1;
        else hi = mid;
    }
    if (lo < n && k_lower_runs[lo].lo <= c && (c - k_lower_runs[lo].lo) % k_lower_runs[lo].stride == 0)
        c = (uint32_t)((int64_t)c + k_lower_runs[lo].delta);
    append_utf8(out, c);
}

uint8_t ccc_of(uint32_t c) {
    if (c < 0x300) return 0;
    const size_t n = sizeof(k_ccc_ranges) / sizeof(k_ccc_ranges[0]);
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (k_ccc_ranges[mid].hi < c) lo = mid + 1;
        else hi = mid;
    }
    return (lo < n && k_ccc_ranges[lo].lo <= c) ? k_ccc_ranges[lo].ccc : 0;
}

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kSCount = kLCount * kVCount * kTCount;

void decompose(uint32_t c, std::vector<uint32_t> *out) {
    if (c >= kSBase && c < kSBase + kSCount) {
        const uint32_t s = c - kSBase;
        out->push_back(kLBase + s / (kVCount * kTCount));
        out->push_back(kVBase + (s % (kVCount * kTCount)) / kTCount);
        if (s % kTCount) out->push_back(kTBase + s % kTCount);
        return;
    }
    const size_t n = sizeof(k_decomp) / sizeof(k_decomp[0]);
    auto it = std::lower_bound(k_decomp, k_decomp + n, c, [](const uint32_t(&e)[3], uint32_t v) { return e[0] < v; });
    if (it == k_decomp + n || (*it)[0] != c) {
        out->push_back(c);
        return;
    }
    decompose((*it)[1], out);
    if ((*it)[2]) decompose((*it)[2], out);
}

// the primary composite of a + b, 0 when none
uint32_t compose(uint32_t a, uint32_t b) {
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
        return a + (b - kTBase);
    const size_t n = sizeof(k_comp) / sizeof(k_comp[0]);
    auto it = std::lower_bound(k_comp, k_comp + n, std::make_pair(a, b), [](const uint32_t(&e)[3], std::pair<uint32_t, uint32_t> v) {
        return e[0] < v.first || (e[0] == v.first && e[1] < v.second);
    });
    return (it != k_comp + n && (*it)[0] == a && (*it)[1] == b) ? (*it)[2] : 0;
}

// Unicode NFC: canonical decomposition, canonical ordering, canonical composition
std::string nfc(std::string_view s) {
    if (std::all_of(s.begin(), s.end(), [](char c) { return (uint8_t)c < 0x80; })) return std::string(s);
    std::vector<uint32_t> d;
    for (size_t i = 0; i < s.size();) {
        size_t l;
        bool valid;
        decompose(decode_utf8(s.data() + i, s.size() - i, &l, &valid), &d);
        i += l;
    }
    for (size_t i = 0; i < d.size();) {  // stable sort of each run of non-starters by class
        if (ccc_of(d[i]) == 0) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < d.size() && ccc_of(d[j]) != 0) j++;
        std::stable_sort(d.begin() + i, d.begin() + j, [](uint32_t a, uint32_t b) { return ccc_of(a) < ccc_of(b); });
        i = j;
    }
    std::vector<uint32_t> r;
    size_t starter = SIZE_MAX;
    int last_class = -1;
    for (uint32_t c : d) {
        const int cc = ccc_of(c);
        // c joins the last starter unless a character between them blocks it
        if (starter != SIZE_MAX && (r.size() - 1 == starter || (last_class != 0 && last_class < cc))) {
            if (uint32_t comp = compose(r[starter], c)) {
                r[starter] = comp;
                continue;
            }
        }
        if (cc == 0) starter = r.size();
        last_class = cc;
        r.push_back(c);
    }
    std::string out;
    out.reserve(s.size());
    for (uint32_t c : r) append_utf8(out, c);
    return out;
}

// --------------------------------------------------------- split patterns

// The Split regexes tokenizer.json files carry, recognised by their text.
enum regex_id : uint8_t { RE_LLAMA3, RE_GPT2, RE_CLIP, RE_CLIP_SPECIAL };
const std::pair<const char *, regex_id> k_known_regexes[] = {
    {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     RE_LLAMA3},
    {R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)", RE_GPT2},
    {R"('s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+)", RE_CLIP},
    {R"(<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+)", RE_CLIP_SPECIAL},
};

// 's|'t|'re|'ve|'m|'ll|'d at i: its length in characters, or 0. Case
// insensitive as Oniguruma's (?i) (ſ, U+017F, folds to s).
size_t contraction(const std::vector<uint32_t> &c, size_t i, bool icase) {
    const size_t n = c.size();
    if (c[i] != '\'' || i + 1 >= n) return 0;
    auto is = [&](size_t k, char ch) {
        if (k >= n) return false;
        uint32_t x = c[k];
        if (icase && x == 0x17F) x = 's';
        if (icase && x >= 'A' && x <= 'Z') x += 32;
        return x == (uint32_t)ch;
    };
    if (is(i + 1, 's') || is(i + 1, 't') || is(i + 1, 'm') || is(i + 1, 'd')) return 2;
    if ((is(i + 1, 'r') || is(i + 1, 'v')) && is(i + 2, 'e')) return 3;
    if (is(i + 1, 'l') && is(i + 2, 'l')) return 3;
    return 0;
}

template <typename Pred>
size_t run_end(const std::vector<uint32_t> &c, size_t i, Pred p) {
    while (i < c.size() && p(c[i])) i++;
    return i;
}

// \s+(?!\S) | \s+ at a whitespace character i: the run, less its last
// character when a non-space follows (the lookahead backtracks one)
size_t space_run(const std::vector<uint32_t> &c, size_t i) {
    const size_t j = run_end(c, i, is_space);
    return (j < c.size() && j - i > 1) ? j - 1 - i : j - i;
}

// Length in characters of the pattern's match at i (leftmost-first
// alternation with greedy, backtracking quantifiers), 0 when none.
size_t match_at(regex_id re, const std::vector<uint32_t> &c, size_t i) {
    const size_t n = c.size();
    const uint32_t x = c[i];
    switch (re) {
        case RE_LLAMA3: {
            if (size_t k = contraction(c, i, true)) return k;
            if (is_letter(x)) return run_end(c, i, is_letter) - i;  // [^\r\n\p{L}\p{N}]?\p{L}+
            if (!is_crlf(x) && !is_number(x) && i + 1 < n && is_letter(c[i + 1])) return run_end(c, i + 1, is_letter) - i;
            if (is_number(x)) return std::min<size_t>(run_end(c, i, is_number) - i, 3);  // \p{N}{1,3}
            {  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
                size_t j = i;
                if (x == ' ' && i + 1 < n && is_other(c[i + 1])) j++;
                if (is_other(c[j])) return run_end(c, run_end(c, j, is_other), is_crlf) - i;
            }
            if (!is_space(x)) return 0;
            {  // \s*[\r\n]+: the whitespace up to its last line break
                const size_t j = run_end(c, i, is_space);
                for (size_t k = j; k > i; k--)
                    if (is_crlf(c[k - 1])) return k - i;
            }
            return space_run(c, i);
        }
        case RE_GPT2: {
            if (size_t k = contraction(c, i, false)) return k;
            for (bool (*cls)(uint32_t) : {is_letter, is_number, is_other}) {  // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
                size_t j = i;
                if (x == ' ' && i + 1 < n && cls(c[i + 1])) j++;
                if (cls(c[j])) return run_end(c, j, cls) - i;
            }
            return is_space(x) ? space_run(c, i) : 0;
        }
        case RE_CLIP_SPECIAL:
            for (std::string_view lit : {std::string_view("<|startoftext|>"), std::string_view("<|endoftext|>")}) {
                if (n - i < lit.size()) continue;
                size_t k = 0;
                while (k < lit.size() && c[i + k] == (uint8_t)lit[k]) k++;
                if (k == lit.size()) return k;
            }
            // fall through
        case RE_CLIP:
            if (size_t k = contraction(c, i, false)) return k;
            if (is_letter(x)) return run_end(c, i, is_letter) - i;
            if (is_number(x)) return 1;
            if (is_other(x)) return run_end(c, i, is_other) - i;
            return 0;
    }
    return 0;
}

// tokenizers' Split: the pattern's matches and the gaps between them, the
// matches (or with invert the gaps) dropped when `removed`; empty pieces vanish
void split(std::string_view s, regex_id re, bool removed, bool invert, std::vector<std::string> *out) {
    std::vector<uint32_t> c;
    std::vector<size_t> off;
    for (size_t i = 0; i < s.size();) {
        size_t l;
        bool valid;
        c.push_back(decode_utf8(s.data() + i, s.size() - i, &l, &valid));
        off.push_back(i);
        i += l;
    }
    off.push_back(s.size());
    auto emit = [&](size_t a, size_t b, bool is_match) {
        if (a == b || (removed && is_match != invert)) return;
        out->emplace_back(s.substr(off[a], off[b] - off[a]));
    };
    size_t prev = 0;
    for (size_t i = 0; i < c.size();) {
        const size_t len = match_at(re, c, i);
        if (!len) {
            i++;
            continue;
        }
        emit(prev, i, false);
        emit(i, i + len, true);
        i += len;
        prev = i;
    }
    emit(prev, c.size(), false);
}

// ------------------------------------------------------------- byte level

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others
// for U+0100 onwards in byte order
struct byte_alphabet {
    uint32_t to_cp[256];
    int16_t to_byte[324];
    byte_alphabet() {
        std::fill(std::begin(to_byte), std::end(to_byte), (int16_t)-1);
        uint32_t next = 256;
        for (int b = 0; b < 256; b++) {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            to_cp[b] = printable ? (uint32_t)b : next++;
            to_byte[to_cp[b]] = (int16_t)b;
        }
    }
};
const byte_alphabet &bytes_alphabet() {
    static const byte_alphabet a;
    return a;
}

// ------------------------------------------------------------------ json

// a non-negative integer below `limit`
bool jid(const json &v, int64_t limit, int64_t *out) {
    if (v.is_number_unsigned()) {
        uint64_t u = v.get<uint64_t>();
        if (u >= (uint64_t)limit) return false;
        *out = (int64_t)u;
        return true;
    }
    if (!v.is_number_integer()) return false;
    int64_t i = v.get<int64_t>();
    if (i < 0 || i >= limit) return false;
    *out = i;
    return true;
}


bool starts_with(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.compare(0, p.size(), p) == 0; }

// The symbols of a word being merged (tokenizers' Word).
struct symbol {
    int32_t id;
    int32_t prev, next;  // -1: none
    size_t len;          // 0: merged into its left neighbour
};
struct merge_candidate {
    uint32_t rank;
    size_t pos;
    int32_t new_id;
    // the queue pops the lowest rank, then the leftmost position
    bool operator<(const merge_candidate &o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

}  // namespace

// ================================================================ loading

void svg_bpe_tokenizer::clear() {
    tokens_.clear();
    is_token_.clear();
    vocab_.clear();
    merges_.clear();
    added_.clear();
    normalizers_.clear();
    pre_tokenizers_.clear();
    post_processors_.clear();
    decoders_.clear();
    continuing_prefix_.clear();
    end_suffix_.clear();
    unk_id_ = -1;
    fuse_unk_ = byte_fallback_ = ignore_merges_ = false;
    std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
    bos_id_ = eos_id_ = pad_id_ = -1;
}

bool svg_bpe_tokenizer::load_hf_json(const void *data, size_t size) {
    clear();
    if (!data || size == 0) return svg_err(false, "tokenizer.json: empty");
    if (!parse(data, size)) {
        std::string err = svg_last_error();
        clear();
        svg_set_error("%s", err.c_str());
        return false;
    }
    return true;
}

bool svg_bpe_tokenizer::parse(const void *data, size_t size) {
    const json j = svg_json::parse(std::string_view((const char *)data, size), "tokenizer.json");
    if (j.is_discarded()) return false;
    if (!j.is_object()) return svg_err(false, "tokenizer.json: not a JSON object");
    const json *model = svg_json::get(j, "model");
    if (!model || !model->is_object()) return svg_err(false, "tokenizer.json: no model");
    const std::string type = svg_json::get_str(*model, "type");
    if (type != "BPE") return svg_err(false, "tokenizer.json: model type '%s' is not BPE", type.c_str());
    const json *vocab = svg_json::get(*model, "vocab");
    const json *merges = svg_json::get(*model, "merges");
    if (!vocab || !vocab->is_object()) return svg_err(false, "tokenizer.json: model.vocab is not an object");
    if (merges && !merges->is_array()) return svg_err(false, "tokenizer.json: model.merges is not an array");
    if (const json *dropout = svg_json::get(*model, "dropout"); dropout && !(dropout->is_number() && dropout->get<double>() == 0.0))
        return svg_err(false, "tokenizer.json: BPE dropout is not supported");
    const json *added = svg_json::get(j, "added_tokens");
    if (added && !added->is_array()) return svg_err(false, "tokenizer.json: added_tokens is not an array");

    // ids: dense enough that the id table stays the size of the token list
    const int64_t id_limit = (int64_t)vocab->size() + (added ? (int64_t)added->size() : 0);
    tokens_.assign((size_t)id_limit, std::string());
    is_token_.assign((size_t)id_limit, false);
    for (const auto &el : vocab->items()) {
        const std::string &token = el.key();
        const json &idv = el.value();
        int64_t id;
        if (!jid(idv, id_limit, &id))
            return svg_err(false, "tokenizer.json: vocab id of '%.64s' is not in [0, %lld)", token.c_str(), (long long)id_limit);
        if (is_token_[(size_t)id]) return svg_err(false, "tokenizer.json: vocab id %lld used twice", (long long)id);
        tokens_[(size_t)id] = token;
        is_token_[(size_t)id] = true;
        vocab_.emplace(token, (int32_t)id);
    }
    if (added) {
        for (const json &a : *added) {
            const json *idv = svg_json::get(a, "id");
            const json *content = svg_json::get(a, "content");
            int64_t id;
            if (!idv || !content || !content->is_string() || content->get<std::string>().empty())
                return svg_err(false, "tokenizer.json: malformed added token");
            if (!jid(*idv, id_limit, &id))
                return svg_err(false, "tokenizer.json: added token id is not in [0, %lld)", (long long)id_limit);
            if (svg_json::get_bool(a, "single_word", false))
                return svg_err(false, "tokenizer.json: added token '%.64s': single_word is not supported",
                               content->get<std::string>().c_str());
            // tokenizers' default: special tokens are matched in the raw text, others normalized
            added_token t{content->get<std::string>(), "", (int32_t)id, svg_json::get_bool(a, "lstrip", false), svg_json::get_bool(a, "rstrip", false),
                          svg_json::get_bool(a, "normalized", !svg_json::get_bool(a, "special", false))};
            is_token_[(size_t)id] = true;
            added_.push_back(std::move(t));
        }
    }
    while (!tokens_.empty() && !is_token_.back()) tokens_.pop_back(), is_token_.pop_back();
    if (tokens_.empty()) return svg_err(false, "tokenizer.json: empty vocabulary");

    // model options
    for (const char *key : {"continuing_subword_prefix", "end_of_word_suffix", "unk_token"}) {
        const json *v = svg_json::get(*model, key);
        if (v && !v->is_string()) return svg_err(false, "tokenizer.json: model.%s is not a string", key);
    }
    continuing_prefix_ = svg_json::get_str(*model, "continuing_subword_prefix");
    end_suffix_ = svg_json::get_str(*model, "end_of_word_suffix");
    fuse_unk_ = svg_json::get_bool(*model, "fuse_unk", false);
    byte_fallback_ = svg_json::get_bool(*model, "byte_fallback", false);
    ignore_merges_ = svg_json::get_bool(*model, "ignore_merges", false);
    if (svg_json::get(*model, "unk_token")) {
        const std::string unk = svg_json::get_str(*model, "unk_token");
        auto it = vocab_.find(unk);
        if (it == vocab_.end()) return svg_err(false, "tokenizer.json: unk_token '%.64s' is not in the vocabulary", unk.c_str());
        unk_id_ = it->second;
    }
    if (byte_fallback_) {
        static const char hex[] = "0123456789ABCDEF";
        for (int b = 0; b < 256; b++) {
            auto it = vocab_.find(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
            byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
        }
    }

    // merges: rank = position; a repeated pair keeps its last rank, as tokenizers' map insert does
    if (merges) {
        uint32_t rank = 0;
        for (const json &m : *merges) {
            std::string a, b;
            if (m.is_string()) {
                const std::string &s = m.get_ref<const std::string &>();
                const size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                    return svg_err(false, "tokenizer.json: merge %u ('%.64s') is not two tokens", rank + 1, s.c_str());
                a = s.substr(0, sp), b = s.substr(sp + 1);
            } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
                a = m[0].get<std::string>(), b = m[1].get<std::string>();
            } else {
                return svg_err(false, "tokenizer.json: merge %u is neither \"a b\" nor [a, b]", rank + 1);
            }
            if (b.size() < continuing_prefix_.size())
                return svg_err(false, "tokenizer.json: merge %u: '%.64s' is shorter than the subword prefix", rank + 1, b.c_str());
            std::string merged = a + b.substr(continuing_prefix_.size());
            auto ia = vocab_.find(a), ib = vocab_.find(b), im = vocab_.find(merged);
            for (auto [it, tok] : {std::make_pair(ia, &a), std::make_pair(ib, &b), std::make_pair(im, &merged)})
                if (it == vocab_.end())
                    return svg_err(false, "tokenizer.json: merge %u names '%.64s', which is not in the vocabulary", rank + 1,
                                   tok->c_str());
            merges_[pair_key(ia->second, ib->second)] = {rank, im->second};
            rank++;
        }
    }

    // normalizer
    std::function<bool(const json &)> add_normalizer = [&](const json &n) -> bool {
        const std::string t = svg_json::get_str(n, "type");
        step st{};
        if (t == "Sequence") {
            const json *list = svg_json::get(n, "normalizers");
            if (!list || !list->is_array()) return svg_err(false, "tokenizer.json: Sequence normalizer without a list");
            for (const json &x : *list)
                if (!add_normalizer(x)) return false;
            return true;
        } else if (t == "NFC") {
            st.kind = step::NFC;
        } else if (t == "Lowercase") {
            st.kind = step::LOWERCASE;
        } else if (t == "Replace") {
            const json *pat = svg_json::get(n, "pattern");
            const json *content = svg_json::get(n, "content");
            if (!content || !content->is_string()) return svg_err(false, "tokenizer.json: Replace without a content string");
            st.content = content->get<std::string>();
            if (pat && svg_json::get(*pat, "String") && svg_json::get(*pat, "String")->is_string()) {
                st.kind = step::REPLACE;
                st.pattern = svg_json::get_str(*pat, "String");
                if (st.pattern.empty()) return svg_err(false, "tokenizer.json: Replace with an empty pattern");
            } else if (pat && svg_json::get(*pat, "Regex") && svg_json::get(*pat, "Regex")->is_string()) {
                const std::string re = svg_json::get_str(*pat, "Regex");
                if (re != "\\s+") return svg_err(false, "tokenizer.json: Replace regex '%.64s' is not supported", re.c_str());
                st.kind = step::REPLACE_WS;
            } else {
                return svg_err(false, "tokenizer.json: malformed Replace normalizer");
            }
        } else {
            return svg_err(false, "tokenizer.json: normalizer '%.64s' is not supported", t.c_str());
        }
        normalizers_.push_back(std::move(st));
        return true;
    };
    if (const json *n = svg_json::get(j, "normalizer"))
        if (!add_normalizer(*n)) return false;

    // pre-tokenizer
    std::function<bool(const json &)> add_pre_tokenizer = [&](const json &n) -> bool {
        const std::string t = svg_json::get_str(n, "type");
        step st{};
        if (t == "Sequence") {
            const json *list = svg_json::get(n, "pretokenizers");
            if (!list || !list->is_array()) return svg_err(false, "tokenizer.json: Sequence pre-tokenizer without a list");
            for (const json &x : *list)
                if (!add_pre_tokenizer(x)) return false;
            return true;
        } else if (t == "Split") {
            st.kind = step::SPLIT;
            const json *pat = svg_json::get(n, "pattern");
            const json *re = pat ? svg_json::get(*pat, "Regex") : nullptr;
            if (!re || !re->is_string()) return svg_err(false, "tokenizer.json: Split needs a Regex pattern");
            const std::string &text = re->get_ref<const std::string &>();
            auto known = std::find_if(std::begin(k_known_regexes), std::end(k_known_regexes),
                                      [&](const std::pair<const char *, regex_id> &k) { return text == k.first; });
            if (known == std::end(k_known_regexes))
                return svg_err(false, "tokenizer.json: Split regex '%.200s' is not supported", text.c_str());
            st.regex = known->second;
            const std::string behavior = svg_json::get_str(n, "behavior");
            if (behavior != "Isolated" && behavior != "Removed")
                return svg_err(false, "tokenizer.json: Split behavior '%.64s' is not supported", behavior.c_str());
            st.removed = behavior == "Removed";
            st.invert = svg_json::get_bool(n, "invert", false);
        } else if (t == "ByteLevel") {
            st.kind = step::BYTE_LEVEL;
            st.add_prefix_space = svg_json::get_bool(n, "add_prefix_space", true);
            st.use_regex = svg_json::get_bool(n, "use_regex", true);
        } else {
            return svg_err(false, "tokenizer.json: pre-tokenizer '%.64s' is not supported", t.c_str());
        }
        pre_tokenizers_.push_back(std::move(st));
        return true;
    };
    if (const json *n = svg_json::get(j, "pre_tokenizer"))
        if (!add_pre_tokenizer(*n)) return false;

    // post-processor: the special ids around a single sequence
    auto token_of = [&](const json &v, int64_t *id) { return jid(v, (int64_t)tokens_.size(), id) && is_token_[(size_t)*id]; };
    std::function<bool(const json &)> add_post = [&](const json &n) -> bool {
        const std::string t = svg_json::get_str(n, "type");
        step st{};
        st.kind = step::TEMPLATE;
        if (t == "Sequence") {
            const json *list = svg_json::get(n, "processors");
            if (!list || !list->is_array()) return svg_err(false, "tokenizer.json: Sequence post-processor without a list");
            for (const json &x : *list)
                if (!add_post(x)) return false;
            return true;
        } else if (t == "ByteLevel") {
            return true;  // trims offsets only
        } else if (t == "RobertaProcessing" || t == "BertProcessing") {
            for (const char *key : {"cls", "sep"}) {
                const json *v = svg_json::get(n, key);
                int64_t id;
                if (!v || !v->is_array() || v->size() != 2 || !(*v)[0].is_string() || !token_of((*v)[1], &id))
                    return svg_err(false, "tokenizer.json: %s: malformed %s", t.c_str(), key);
                (key[0] == 'c' ? st.before : st.after).push_back((int32_t)id);
            }
        } else if (t == "TemplateProcessing") {
            const json *single = svg_json::get(n, "single");
            const json *specials = svg_json::get(n, "special_tokens");
            if (!single || !single->is_array()) return svg_err(false, "tokenizer.json: TemplateProcessing without 'single'");
            bool seen_a = false;
            for (const json &item : *single) {
                if (const json *seq = svg_json::get(item, "Sequence")) {
                    if (svg_json::get_str(*seq, "id") != "A" || seen_a)
                        return svg_err(false, "tokenizer.json: TemplateProcessing: 'single' must hold $A once");
                    seen_a = true;
                    continue;
                }
                const json *sp = svg_json::get(item, "SpecialToken");
                const std::string name = sp ? svg_json::get_str(*sp, "id") : std::string();
                const json *entry = specials ? svg_json::get(*specials, name.c_str()) : nullptr;
                const json *ids = entry ? svg_json::get(*entry, "ids") : nullptr;
                if (!ids || !ids->is_array())
                    return svg_err(false, "tokenizer.json: TemplateProcessing: special token '%.64s' undefined", name.c_str());
                for (const json &idv : *ids) {
                    int64_t id;
                    if (!token_of(idv, &id))
                        return svg_err(false, "tokenizer.json: TemplateProcessing: '%.64s' has an id out of range", name.c_str());
                    (seen_a ? st.after : st.before).push_back((int32_t)id);
                }
            }
            if (!seen_a) return svg_err(false, "tokenizer.json: TemplateProcessing: 'single' has no $A");
        } else {
            return svg_err(false, "tokenizer.json: post-processor '%.64s' is not supported", t.c_str());
        }
        post_processors_.push_back(std::move(st));
        return true;
    };
    if (const json *n = svg_json::get(j, "post_processor"))
        if (!add_post(*n)) return false;

    // decoder
    std::function<bool(const json &)> add_decoder = [&](const json &n) -> bool {
        const std::string t = svg_json::get_str(n, "type");
        step st{};
        if (t == "Sequence") {
            const json *list = svg_json::get(n, "decoders");
            if (!list || !list->is_array()) return svg_err(false, "tokenizer.json: Sequence decoder without a list");
            for (const json &x : *list)
                if (!add_decoder(x)) return false;
            return true;
        } else if (t == "ByteLevel") {
            st.kind = step::BYTE_LEVEL;
        } else if (t == "BPEDecoder") {
            st.kind = step::BPE_DECODER;
            const json *suffix = svg_json::get(n, "suffix");
            st.content = suffix && suffix->is_string() ? suffix->get<std::string>() : "</w>";
        } else {
            return svg_err(false, "tokenizer.json: decoder '%.64s' is not supported", t.c_str());
        }
        decoders_.push_back(std::move(st));
        return true;
    };
    if (const json *n = svg_json::get(j, "decoder"))
        if (!add_decoder(*n)) return false;

    // normalized added tokens are matched in normalized text, and decode as
    // such (tokenizers asks its added vocabulary first, which keeps them so)
    for (added_token &a : added_) {
        a.match = a.normalized ? normalize(a.content) : a.content;
        tokens_[(size_t)a.id] = a.match;
    }

    // special ids
    for (const step &st : post_processors_) {
        if (bos_id_ < 0 && !st.before.empty()) bos_id_ = st.before.front();
        if (eos_id_ < 0 && !st.after.empty()) eos_id_ = st.after.back();
    }
    auto added_id = [&](std::initializer_list<const char *> names) {
        for (const char *name : names)
            for (const added_token &a : added_)
                if (a.content == name) return (int)a.id;
        return -1;
    };
    if (bos_id_ < 0) bos_id_ = added_id({"<|begin_of_text|>", "<|startoftext|>", "<s>"});
    if (eos_id_ < 0) eos_id_ = added_id({"<|end_of_text|>", "<|endoftext|>", "</s>"});
    pad_id_ = added_id({"<pad>", "<|pad|>"});
    if (pad_id_ < 0) pad_id_ = eos_id_;
    return true;
}

// ================================================================ encoding

int svg_bpe_tokenizer::vocab_id(std::string_view token) const {
    auto it = vocab_.find(std::string(token));
    return it == vocab_.end() ? -1 : it->second;
}

int svg_bpe_tokenizer::token_id(std::string_view token) const {
    for (const added_token &a : added_)
        if (a.content == token) return a.id;
    return vocab_id(token);
}

std::string svg_bpe_tokenizer::normalize(std::string_view text) const {
    std::string cur(text), next;
    for (const step &st : normalizers_) {
        next.clear();
        switch (st.kind) {
            case step::NFC:
                next = nfc(cur);
                break;
            case step::LOWERCASE:
                for (size_t i = 0; i < cur.size();) {
                    size_t l;
                    bool valid;
                    append_lower(next, decode_utf8(cur.data() + i, cur.size() - i, &l, &valid));
                    i += l;
                }
                break;
            case step::REPLACE:
                for (size_t i = 0; i < cur.size();) {
                    if (cur.compare(i, st.pattern.size(), st.pattern) == 0) {
                        next += st.content;
                        i += st.pattern.size();
                    } else {
                        next += cur[i++];
                    }
                }
                break;
            case step::REPLACE_WS:  // \s+ → content
                for (size_t i = 0; i < cur.size();) {
                    size_t l;
                    bool valid;
                    bool ws = is_space(decode_utf8(cur.data() + i, cur.size() - i, &l, &valid));
                    if (!ws) {
                        next.append(cur, i, l);
                        i += l;
                        continue;
                    }
                    while (i < cur.size() && is_space(decode_utf8(cur.data() + i, cur.size() - i, &l, &valid))) i += l;
                    next += st.content;
                }
                break;
            default:
                break;
        }
        cur.swap(next);
    }
    return cur;
}

void svg_bpe_tokenizer::pre_tokenize(std::string piece, std::vector<std::string> *words) const {
    std::vector<std::string> cur, next;
    cur.push_back(std::move(piece));
    const byte_alphabet &alpha = bytes_alphabet();
    for (const step &st : pre_tokenizers_) {
        next.clear();
        for (std::string &s : cur) {
            if (st.kind == step::SPLIT) {
                split(s, (regex_id)st.regex, st.removed, st.invert, &next);
                continue;
            }
            // ByteLevel: optional prefix space, the GPT-2 split, bytes → alphabet characters
            if (st.add_prefix_space && !starts_with(s, " ")) s.insert(s.begin(), ' ');
            std::vector<std::string> parts;
            if (st.use_regex) split(s, RE_GPT2, false, false, &parts);
            else if (!s.empty()) parts.push_back(s);
            for (const std::string &p : parts) {
                std::string mapped;
                for (char b : p) append_utf8(mapped, alpha.to_cp[(uint8_t)b]);
                next.push_back(std::move(mapped));
            }
        }
        cur.swap(next);
    }
    for (std::string &w : cur)
        if (!w.empty()) words->push_back(std::move(w));
}

void svg_bpe_tokenizer::bpe(const std::string &word, std::vector<int32_t> *ids) const {
    if (ignore_merges_) {
        if (int id = vocab_id(word); id >= 0) {
            ids->push_back(id);
            return;
        }
    }
    // one symbol per character (prefix / suffix added), unknowns → unk or bytes
    std::vector<symbol> syms;
    int32_t unk_pending = -1;
    size_t unk_len = 0;
    auto add = [&](int32_t id, size_t len) {
        const int32_t pos = (int32_t)syms.size();
        syms.push_back({id, pos - 1, -1, len});
        if (pos > 0) syms[(size_t)pos - 1].next = pos;
    };
    std::string s;
    for (size_t i = 0; i < word.size();) {
        const size_t len = std::min(one_char_len((uint8_t)word[i]), word.size() - i);
        s.clear();
        if (i > 0) s += continuing_prefix_;
        s.append(word, i, len);
        if (i + len == word.size()) s += end_suffix_;
        i += len;
        if (int id = vocab_id(s); id >= 0) {
            if (unk_pending >= 0) add(unk_pending, unk_len), unk_pending = -1;
            add(id, len);
            continue;
        }
        if (byte_fallback_ && std::all_of(s.begin(), s.end(), [&](char b) { return byte_ids_[(uint8_t)b] >= 0; })) {
            for (char b : s) add(byte_ids_[(uint8_t)b], 1);
            continue;
        }
        if (unk_id_ < 0) continue;  // no unk token: the character vanishes
        if (unk_pending >= 0 && fuse_unk_) {
            unk_len += len;
            continue;
        }
        if (unk_pending >= 0) add(unk_pending, unk_len);
        unk_pending = unk_id_, unk_len = len;
    }
    if (unk_pending >= 0) add(unk_pending, unk_len);

    std::priority_queue<merge_candidate> queue;
    auto candidate = [&](size_t pos) {
        const symbol &a = syms[pos];
        if (a.next < 0) return;
        auto it = merges_.find(pair_key(a.id, syms[(size_t)a.next].id));
        if (it != merges_.end()) queue.push({it->second.first, pos, it->second.second});
    };
    for (size_t p = 0; p + 1 < syms.size(); p++) candidate(p);
    while (!queue.empty()) {
        const merge_candidate top = queue.top();
        queue.pop();
        symbol &cur = syms[top.pos];
        if (cur.len == 0 || cur.next < 0) continue;
        // a stale entry: the pair at pos changed since it was queued
        auto it = merges_.find(pair_key(cur.id, syms[(size_t)cur.next].id));
        if (it == merges_.end() || it->second.second != top.new_id) continue;
        symbol &right = syms[(size_t)cur.next];
        cur.id = top.new_id;
        cur.len += right.len;
        right.len = 0;
        cur.next = right.next;
        if (right.next >= 0) syms[(size_t)right.next].prev = (int32_t)top.pos;
        if (cur.prev >= 0) candidate((size_t)cur.prev);
        candidate(top.pos);
    }
    for (const symbol &sy : syms)
        if (sy.len) ids->push_back(sy.id);
}

void svg_bpe_tokenizer::encode_piece(std::string_view piece, std::vector<int32_t> *ids) const {
    std::vector<std::string> words;
    pre_tokenize(std::string(piece), &words);
    for (const std::string &w : words) bpe(w, ids);
}

namespace {

// tokenizers' AddedVocabulary::split_with_indices: the leftmost, longest
// added token of `tokens` (whose `match` strings are looked for), widened
// over the whitespace beside it by lstrip / rstrip; the text between goes to
// `gap`, each match to `hit`.
template <typename Gap, typename Hit>
void split_added(std::string_view s, const std::vector<const svg_bpe_tokenizer::added_token *> &tokens, Gap gap, Hit hit) {
    bool first_byte[256] = {};
    for (const auto *t : tokens) first_byte[(uint8_t)t->match[0]] = true;
    size_t done = 0;  // end of the last split
    for (size_t i = 0; i < s.size();) {
        const svg_bpe_tokenizer::added_token *best = nullptr;
        if (!first_byte[(uint8_t)s[i]]) {
            i++;
            continue;
        }
        for (const auto *t : tokens)
            if (s.compare(i, t->match.size(), t->match) == 0 && (!best || t->match.size() > best->match.size())) best = t;
        if (!best) {
            i++;
            continue;
        }
        size_t start = i, stop = i + best->match.size();
        if (best->lstrip) {
            while (start > done) {
                size_t k = start - 1;
                while (k > done && is_trail((uint8_t)s[k])) k--;
                size_t l;
                bool valid;
                if (!is_space(decode_utf8(s.data() + k, start - k, &l, &valid)) || l != start - k) break;
                start = k;
            }
        }
        if (best->rstrip) {
            size_t l;
            bool valid;
            while (stop < s.size() && is_space(decode_utf8(s.data() + stop, s.size() - stop, &l, &valid))) stop += l;
        }
        if (done < start) gap(s.substr(done, start - done));
        hit(*best);
        done = i = stop;
    }
    if (done < s.size()) gap(s.substr(done));
}

}  // namespace

std::vector<int32_t> svg_bpe_tokenizer::encode(std::string_view text, bool add_special) const {
    std::vector<int32_t> ids;
    if (!loaded()) return ids;
    const std::string valid = lossy(text);
    std::vector<const added_token *> raw, normalized;
    for (const added_token &a : added_)
        if (!a.match.empty()) (a.normalized ? normalized : raw).push_back(&a);  // one normalized to nothing never matches
    auto hit = [&](const added_token &a) { ids.push_back(a.id); };
    split_added(valid, raw, [&](std::string_view piece) {
        split_added(normalize(piece), normalized, [&](std::string_view p) { encode_piece(p, &ids); }, hit);
    }, hit);
    if (add_special)
        for (const step &st : post_processors_) {
            ids.insert(ids.begin(), st.before.begin(), st.before.end());
            ids.insert(ids.end(), st.after.begin(), st.after.end());
        }
    return ids;
}

// ================================================================ decoding

bool svg_bpe_tokenizer::decode(const std::vector<int32_t> &ids, std::string *out) const {
    out->clear();
    if (!loaded()) return svg_err(false, "bpe decode: no tokenizer loaded");
    std::vector<std::string> parts;
    parts.reserve(ids.size());
    for (int32_t id : ids) {
        if (id < 0 || id >= n_vocab() || !is_token_[(size_t)id]) return svg_err(false, "bpe decode: id %d is not in the vocabulary", id);
        parts.push_back(tokens_[(size_t)id]);
    }
    if (decoders_.empty()) {  // tokenizers without a decoder: tokens joined by spaces
        for (size_t i = 0; i < parts.size(); i++) *out += (i ? " " : "") + parts[i];
        return true;
    }
    const byte_alphabet &alpha = bytes_alphabet();
    for (const step &st : decoders_) {
        if (st.kind == step::BPE_DECODER) {
            // the suffix ends a word: a space, except after the last token
            for (size_t i = 0; i < parts.size(); i++) {
                std::string r;
                const std::string &p = parts[i];
                for (size_t k = 0; k < p.size();) {
                    if (!st.content.empty() && p.compare(k, st.content.size(), st.content) == 0) {
                        r += i + 1 == parts.size() ? "" : " ";
                        k += st.content.size();
                    } else {
                        r += p[k++];
                    }
                }
                parts[i] = std::move(r);
            }
            continue;
        }
        // ByteLevel: a token made only of alphabet characters gives their
        // bytes, any other its own text; the whole is read as lossy UTF-8
        std::string bytes;
        for (const std::string &p : parts) {
            std::string tb;
            bool all = true;
            for (size_t k = 0; k < p.size() && all;) {
                size_t l;
                bool valid;
                uint32_t c = decode_utf8(p.data() + k, p.size() - k, &l, &valid);
                all = valid && c < 324 && alpha.to_byte[c] >= 0;
                if (all) tb += (char)alpha.to_byte[c];
                k += l;
            }
            bytes += all ? tb : p;
        }
        parts.assign(1, lossy(bytes));
    }
    for (const std::string &p : parts) *out += p;
    return true;
}

// ================================================================ CLIP files

bool svg_bpe_clip_json_from_vocab_merges(std::string_view vocab_json, std::string_view merges_txt, std::string *tokenizer_json) {
    tokenizer_json->clear();
    const json vocab = svg_json::parse(vocab_json, "vocab.json");
    if (vocab.is_discarded()) return false;
    if (!vocab.is_object()) return svg_err(false, "vocab.json: not a JSON object");
    for (const auto &el : vocab.items())
        if (!el.value().is_number_integer())
            return svg_err(false, "vocab.json: the id of '%.64s' is not an integer", el.key().c_str());
    for (const char *special : {"<|startoftext|>", "<|endoftext|>"})
        if (!vocab.contains(special)) return svg_err(false, "vocab.json: no %s", special);

    // merges.txt as tokenizers' BPE::read_file reads it
    json merges = json::array();
    size_t line_no = 0;
    for (size_t pos = 0; pos < merges_txt.size();) {
        size_t nl = merges_txt.find('\n', pos);
        if (nl == std::string_view::npos) nl = merges_txt.size();
        std::string_view line = merges_txt.substr(pos, nl - pos);
        pos = nl + 1;
        line_no++;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (starts_with(line, "#version")) continue;
        const size_t sp = line.find(' ');
        if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos)
            return svg_err(false, "merges.txt: line %zu is not two tokens separated by a space", line_no);
        merges.push_back(lossy(line));
    }

    const int64_t bos = vocab["<|startoftext|>"].get<int64_t>(), eos = vocab["<|endoftext|>"].get<int64_t>();
    auto added = [](const char *content, int64_t id) {
        return json{{"id", id},           {"content", content}, {"single_word", false}, {"lstrip", false},
                    {"rstrip", false},    {"normalized", false}, {"special", true}};
    };
    json j;
    j["version"] = "1.0";
    j["added_tokens"] = json::array({added("<|startoftext|>", bos), added("<|endoftext|>", eos)});
    j["normalizer"] = {{"type", "Sequence"},
                       {"normalizers",
                        json::array({{{"type", "NFC"}},
                                     {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}},
                                     {{"type", "Lowercase"}}})}};
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         json::array({{{"type", "Split"},
                       {"pattern", {{"Regex", k_known_regexes[RE_CLIP_SPECIAL].first}}},
                       {"behavior", "Removed"},
                       {"invert", true}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}})}};
    j["post_processor"] = {{"type", "RobertaProcessing"},
                           {"sep", json::array({"<|endoftext|>", eos})},
                           {"cls", json::array({"<|startoftext|>", bos})},
                           {"trim_offsets", false},
                           {"add_prefix_space", false}};
    j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    j["model"] = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", "<|endoftext|>"},
                  {"continuing_subword_prefix", ""},
                  {"end_of_word_suffix", "</w>"},
                  {"fuse_unk", false},
                  {"byte_fallback", false},
                  {"ignore_merges", false},
                  {"vocab", vocab},
                  {"merges", std::move(merges)}};
    *tokenizer_json = j.dump(-1, ' ', false, json::error_handler_t::replace);
    return true;
}
