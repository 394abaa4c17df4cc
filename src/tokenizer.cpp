// SentencePiece unigram tokenizer (spiece.model / tokenizer.json) and the Wan
// prompt cleaning. See tokenizer.h. The encoder mirrors SentencePiece's
// Normalizer::Normalize, unigram Model::EncodeOptimized and
// SentencePieceProcessor::PopulateSentencePieceText and ::Decode.
#include "tokenizer.h"

#include <algorithm>
#include <cfloat>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>

#include "src/json-get.h"
#include "svg.h"
#include "utf8.h"

namespace {

const char kSpaceSymbol[] = "\xe2\x96\x81";  // U+2581
const char kReplacementChar[] = "\xEF\xBF\xBD";
constexpr float kUnkPenalty = 10.0f;

using namespace svg_utf8;

bool starts_with(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.compare(0, p.size(), p) == 0; }
bool ends_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

std::string byte_piece(uint8_t b) {
    static const char hex[] = "0123456789ABCDEF";
    std::string s = "<0x";
    s += hex[b >> 4];
    s += hex[b & 15];
    s += '>';
    return s;
}

// "<0xXX>" (upper-case hex, as SentencePiece writes it) → byte, else -1
int piece_to_byte(std::string_view p) {
    if (p.size() != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = p[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

// --------------------------------------------------------- protobuf wire

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct pb_reader {
    const uint8_t *p, *end;
    pb_reader(const void *data, size_t n) : p((const uint8_t *)data), end((const uint8_t *)data + n) {}
    pb_reader(std::string_view s) : pb_reader(s.data(), s.size()) {}
    bool done() const { return p >= end; }
    bool varint(uint64_t *v) {
        uint64_t r = 0;
        for (int i = 0; i < 10; i++) {
            if (p >= end) return false;
            uint8_t b = *p++;
            r |= (uint64_t)(b & 0x7F) << (7 * i);
            if (!(b & 0x80)) {
                *v = r;
                return true;
            }
        }
        return false;  // more than 10 bytes
    }
    bool tag(uint32_t *field, uint32_t *wt) {
        uint64_t t;
        if (!varint(&t)) return false;
        *wt = (uint32_t)(t & 7);
        uint64_t f = t >> 3;
        if (f == 0 || f > 0x1FFFFFFF) return false;
        *field = (uint32_t)f;
        return true;
    }
    bool bytes(std::string_view *out) {
        uint64_t n;
        if (!varint(&n)) return false;
        if (n > (uint64_t)(end - p)) return false;
        *out = std::string_view((const char *)p, (size_t)n);
        p += n;
        return true;
    }
    bool fixed32(uint32_t *v) {
        if (end - p < 4) return false;
        *v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
        p += 4;
        return true;
    }
    bool skip(uint32_t wt) {
        uint64_t v;
        std::string_view s;
        switch (wt) {
            case WT_VARINT: return varint(&v);
            case WT_I64:
                if (end - p < 8) return false;
                p += 8;
                return true;
            case WT_LEN: return bytes(&s);
            case WT_I32:
                if (end - p < 4) return false;
                p += 4;
                return true;
            default: return false;  // groups (3, 4) are not used by ModelProto; 6, 7 are invalid
        }
    }
};

struct spm_trainer_spec {
    int model_type = 1;  // UNIGRAM
    bool byte_fallback = false;
    bool treat_ws_as_suffix = false;
    int unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
    bool has_unk_surface = false;
    std::string unk_surface;
};

struct spm_normalizer_spec {
    std::string name;
    std::string charsmap;
    bool add_dummy_prefix = true, remove_extra_whitespaces = true, escape_whitespaces = true;
};

#define PB_FAIL(...)                 \
    do {                             \
        svg_set_error(__VA_ARGS__);  \
        return false;                \
    } while (0)

bool pb_expect(uint32_t wt, uint32_t want, const char *what) {
    if (wt != want) PB_FAIL("tokenizer: spiece.model: field %s has wire type %u, expected %u", what, wt, want);
    return true;
}

bool parse_piece(std::string_view msg, svg_tokenizer::piece_info *out) {
    pb_reader r(msg);
    while (!r.done()) {
        uint32_t f, wt;
        if (!r.tag(&f, &wt)) PB_FAIL("tokenizer: spiece.model: corrupt piece");
        if (f == 1) {
            std::string_view s;
            if (!pb_expect(wt, WT_LEN, "piece") || !r.bytes(&s)) PB_FAIL("tokenizer: spiece.model: corrupt piece string");
            out->text.assign(s.data(), s.size());
        } else if (f == 2) {
            uint32_t u;
            if (!pb_expect(wt, WT_I32, "score") || !r.fixed32(&u)) PB_FAIL("tokenizer: spiece.model: corrupt piece score");
            float x;
            memcpy(&x, &u, 4);
            out->score = x;
        } else if (f == 3) {
            uint64_t v;
            if (!pb_expect(wt, WT_VARINT, "type") || !r.varint(&v)) PB_FAIL("tokenizer: spiece.model: corrupt piece type");
            if (v < 1 || v > 6) PB_FAIL("tokenizer: spiece.model: unknown piece type %llu", (unsigned long long)v);
            out->type = (svg_tokenizer::piece_type)v;
        } else if (!r.skip(wt)) {
            PB_FAIL("tokenizer: spiece.model: corrupt piece field %u", f);
        }
    }
    return true;
}

bool read_bool(pb_reader &r, uint32_t wt, bool *out, const char *what) {
    uint64_t v;
    if (!pb_expect(wt, WT_VARINT, what) || !r.varint(&v)) PB_FAIL("tokenizer: spiece.model: corrupt %s", what);
    *out = v != 0;
    return true;
}

bool read_int32(pb_reader &r, uint32_t wt, int *out, const char *what) {
    uint64_t v;
    if (!pb_expect(wt, WT_VARINT, what) || !r.varint(&v)) PB_FAIL("tokenizer: spiece.model: corrupt %s", what);
    *out = (int32_t)(uint32_t)v;  // int32: negative values are sign-extended varints
    return true;
}

bool parse_trainer_spec(std::string_view msg, spm_trainer_spec *t) {
    pb_reader r(msg);
    while (!r.done()) {
        uint32_t f, wt;
        if (!r.tag(&f, &wt)) PB_FAIL("tokenizer: spiece.model: corrupt trainer_spec");
        bool ok = true;
        switch (f) {
            case 3: ok = read_int32(r, wt, &t->model_type, "model_type"); break;
            case 24: ok = read_bool(r, wt, &t->treat_ws_as_suffix, "treat_whitespace_as_suffix"); break;
            case 35: ok = read_bool(r, wt, &t->byte_fallback, "byte_fallback"); break;
            case 40: ok = read_int32(r, wt, &t->unk_id, "unk_id"); break;
            case 41: ok = read_int32(r, wt, &t->bos_id, "bos_id"); break;
            case 42: ok = read_int32(r, wt, &t->eos_id, "eos_id"); break;
            case 43: ok = read_int32(r, wt, &t->pad_id, "pad_id"); break;
            case 44: {
                std::string_view s;
                if (!pb_expect(wt, WT_LEN, "unk_surface") || !r.bytes(&s)) PB_FAIL("tokenizer: spiece.model: corrupt unk_surface");
                t->unk_surface.assign(s.data(), s.size());
                t->has_unk_surface = true;
                break;
            }
            default:
                if (!r.skip(wt)) PB_FAIL("tokenizer: spiece.model: corrupt trainer_spec field %u", f);
        }
        if (!ok) return false;
    }
    return true;
}

bool parse_normalizer_spec(std::string_view msg, spm_normalizer_spec *n) {
    pb_reader r(msg);
    while (!r.done()) {
        uint32_t f, wt;
        if (!r.tag(&f, &wt)) PB_FAIL("tokenizer: spiece.model: corrupt normalizer_spec");
        bool ok = true;
        switch (f) {
            case 1:
            case 2: {
                std::string_view s;
                if (!pb_expect(wt, WT_LEN, f == 1 ? "name" : "precompiled_charsmap") || !r.bytes(&s))
                    PB_FAIL("tokenizer: spiece.model: corrupt normalizer_spec field %u", f);
                (f == 1 ? n->name : n->charsmap).assign(s.data(), s.size());
                break;
            }
            case 3: ok = read_bool(r, wt, &n->add_dummy_prefix, "add_dummy_prefix"); break;
            case 4: ok = read_bool(r, wt, &n->remove_extra_whitespaces, "remove_extra_whitespaces"); break;
            case 5: ok = read_bool(r, wt, &n->escape_whitespaces, "escape_whitespaces"); break;
            default:
                if (!r.skip(wt)) PB_FAIL("tokenizer: spiece.model: corrupt normalizer_spec field %u", f);
        }
        if (!ok) return false;
    }
    return true;
}

// Darts-clone double-array unit accessors.
inline bool unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
inline uint32_t unit_value(uint32_t u) { return u & ((1u << 31) - 1); }
inline uint32_t unit_label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
inline uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

bool read_file(const char *path, std::string *out) {
    if (!path) PB_FAIL("tokenizer: no path");
    std::ifstream f(path, std::ios::binary);
    if (!f) PB_FAIL("tokenizer: cannot open %s", path);
    out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    if (f.bad()) PB_FAIL("tokenizer: cannot read %s", path);
    return true;
}

}  // namespace

// ===================================================================== trie

void svg_tokenizer::trie::build(const std::vector<std::pair<std::string_view, int32_t>> &keys_in) {
    clear();
    std::vector<std::pair<std::string_view, int32_t>> sorted_copy;
    const auto *keys_p = &keys_in;
    if (!std::is_sorted(keys_in.begin(), keys_in.end())) {
        sorted_copy = keys_in;
        std::sort(sorted_copy.begin(), sorted_copy.end());
        keys_p = &sorted_copy;
    }
    const auto &keys = *keys_p;
    nodes.emplace_back();  // root
    struct item {
        uint32_t node, lo, hi, depth;
    };
    // depth-first (a node's key range is still in cache when its children
    // are split); all children of a node are allocated together
    std::vector<item> stack;
    stack.push_back({0, 0, (uint32_t)keys.size(), 0});
    while (!stack.empty()) {
        item it = stack.back();
        stack.pop_back();
        uint32_t lo = it.lo;
        // a key that ends here (keys are distinct: at most one)
        while (lo < it.hi && keys[lo].first.size() == it.depth) {
            if (nodes[it.node].value < 0) nodes[it.node].value = keys[lo].second;
            lo++;
        }
        if (lo >= it.hi) continue;
        uint32_t first = (uint32_t)nodes.size();
        uint32_t count = 0;
        uint32_t g = lo;
        const size_t stack_base = stack.size();
        while (g < it.hi) {
            uint8_t c = (uint8_t)keys[g].first[it.depth];
            uint32_t e = g + 1;
            while (e < it.hi && (uint8_t)keys[e].first[it.depth] == c) e++;
            node n;
            n.label = c;
            nodes.push_back(n);
            stack.push_back({first + count, g, e, it.depth + 1});
            count++;
            g = e;
        }
        std::reverse(stack.begin() + (ptrdiff_t)stack_base, stack.end());
        nodes[it.node].first = first;
        nodes[it.node].count = (uint16_t)count;
    }
    nodes.shrink_to_fit();
    for (uint32_t k = 0; k < nodes[0].count; k++) root_child[nodes[nodes[0].first + k].label] = (int32_t)(nodes[0].first + k);
}

int32_t svg_tokenizer::trie::child(int32_t n, uint8_t c) const {
    if (n == 0) return root_child[c];
    const node &nd = nodes[(size_t)n];
    uint32_t lo = nd.first, hi = nd.first + nd.count;
    if (nd.count <= 8) {
        for (uint32_t k = lo; k < hi; k++)
            if (nodes[k].label == c) return (int32_t)k;
        return -1;
    }
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (nodes[mid].label < c) lo = mid + 1;
        else hi = mid;
    }
    return (lo < nd.first + nd.count && nodes[lo].label == c) ? (int32_t)lo : -1;
}

// ================================================================= loading

void svg_tokenizer::clear() {
    pieces_.clear();
    trie_.clear();
    user_trie_.clear();
    reserved_.clear();
    unk_id_ = eos_id_ = bos_id_ = pad_id_ = -1;
    byte_fallback_ = false;
    min_score_ = max_score_ = 0.f;
    unk_surface_ = " \xE2\x81\x87 ";
    charsmap_units_.clear();
    charsmap_strings_.clear();
    add_dummy_prefix_ = remove_extra_whitespaces_ = escape_whitespaces_ = true;
    treat_ws_as_suffix_ = false;
    hf_mode_ = false;
    hf_normalizers_.clear();
    hf_pretok_.clear();
    hf_added_.clear();
    hf_added_trie_.clear();
    for (int i = 0; i < 256; i++) byte_ids_[i] = -1;
}

bool svg_tokenizer::set_charsmap(std::string_view blob) {
    charsmap_units_.clear();
    charsmap_strings_.clear();
    if (blob.empty()) return true;
    // <u32 trie size in bytes><double-array units><NUL-terminated strings>
    if (blob.size() <= 4) PB_FAIL("tokenizer: precompiled_charsmap is broken (%zu bytes)", blob.size());
    uint32_t trie_size = (uint32_t)(uint8_t)blob[0] | ((uint32_t)(uint8_t)blob[1] << 8) |
                         ((uint32_t)(uint8_t)blob[2] << 16) | ((uint32_t)(uint8_t)blob[3] << 24);
    if ((uint64_t)trie_size + 4 > blob.size())
        PB_FAIL("tokenizer: precompiled_charsmap: trie size %u exceeds the blob (%zu bytes)", trie_size, blob.size());
    size_t n_units = trie_size / 4;
    charsmap_units_.resize(n_units);
    for (size_t i = 0; i < n_units; i++) {
        const uint8_t *b = (const uint8_t *)blob.data() + 4 + 4 * i;
        charsmap_units_[i] = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
    }
    charsmap_strings_.assign(blob.data() + 4 + trie_size, blob.size() - 4 - trie_size);
    return true;
}

bool svg_tokenizer::load_spm(const void *data, size_t size) {
    clear();
    if (!data && size) PB_FAIL("tokenizer: spiece.model: NULL data");
    if (size == 0) PB_FAIL("tokenizer: spiece.model: empty");
    spm_trainer_spec ts;
    spm_normalizer_spec ns;
    std::vector<piece_info> pieces;
    pb_reader r(data, size);
    bool ok = true;
    while (ok && !r.done()) {
        uint32_t f, wt;
        std::string_view msg;
        if (!r.tag(&f, &wt)) {
            svg_set_error("tokenizer: spiece.model: corrupt field tag at byte %zu", (size_t)(r.p - (const uint8_t *)data));
            ok = false;
            break;
        }
        if (f == 1 || f == 2 || f == 3) {
            if (wt != WT_LEN || !r.bytes(&msg)) {
                svg_set_error("tokenizer: spiece.model: corrupt or truncated field %u", f);
                ok = false;
                break;
            }
            if (f == 1) {
                piece_info p;
                ok = parse_piece(msg, &p);
                pieces.push_back(std::move(p));
            } else if (f == 2) {
                ok = parse_trainer_spec(msg, &ts);  // repeated occurrences merge, as protobuf does
            } else {
                ok = parse_normalizer_spec(msg, &ns);
            }
        } else if (!r.skip(wt)) {
            svg_set_error("tokenizer: spiece.model: corrupt or truncated field %u", f);
            ok = false;
        }
    }
    if (!ok) {
        clear();
        return false;
    }
    if (ts.model_type != 1) {
        clear();
        PB_FAIL("tokenizer: spiece.model: model_type %d is not supported (only UNIGRAM)", ts.model_type);
    }
    pieces_ = std::move(pieces);
    byte_fallback_ = ts.byte_fallback;
    treat_ws_as_suffix_ = ts.treat_ws_as_suffix;
    if (ts.has_unk_surface) unk_surface_ = ts.unk_surface;
    add_dummy_prefix_ = ns.add_dummy_prefix;
    remove_extra_whitespaces_ = ns.remove_extra_whitespaces;
    escape_whitespaces_ = ns.escape_whitespaces;
    if (!set_charsmap(ns.charsmap) || !finish_load()) {
        clear();
        return false;
    }
    int n = (int)pieces_.size();
    auto id_or_none = [n](int id) { return (id >= 0 && id < n) ? id : -1; };
    eos_id_ = id_or_none(ts.eos_id);
    bos_id_ = id_or_none(ts.bos_id);
    pad_id_ = id_or_none(ts.pad_id);
    return true;
}

bool svg_tokenizer::load_spm_file(const char *path) {
    std::string buf;
    if (!read_file(path, &buf)) {
        clear();
        return false;
    }
    return load_spm(buf.data(), buf.size());
}

// SentencePiece's ModelInterface::InitializePieces + unigram::Model's scores.
// tokenizer.json (hf_mode_): every vocabulary entry is matchable text, as in
// the HF Unigram model, the minimum score is over all entries and a
// duplicated string maps to its last id.
bool svg_tokenizer::finish_load() {
    if (pieces_.empty()) PB_FAIL("tokenizer: the model has no pieces");
    if (pieces_.size() > (size_t)INT32_MAX) PB_FAIL("tokenizer: too many pieces");
    std::vector<std::pair<std::string_view, int32_t>> normal, user, reserved;
    bool byte_found[256] = {};
    if (!hf_mode_) unk_id_ = -1;
    min_score_ = FLT_MAX;
    max_score_ = FLT_MIN;  // sic: SentencePiece starts from FLT_MIN, so max_score > 0
    for (size_t i = 0; i < pieces_.size(); i++) {
        const piece_info &p = pieces_[i];
        if (p.text.empty()) PB_FAIL("tokenizer: piece %zu is empty", i);
        if (!(p.score == p.score)) PB_FAIL("tokenizer: piece %zu has a NaN score", i);
        if (hf_mode_) {
            normal.emplace_back(p.text, (int32_t)i);
            min_score_ = std::min(min_score_, p.score);
            continue;
        }
        bool is_normal = p.type == PIECE_NORMAL || p.type == PIECE_USER_DEFINED || p.type == PIECE_UNUSED;
        (is_normal ? normal : reserved).emplace_back(p.text, (int32_t)i);
        if (p.type == PIECE_USER_DEFINED) user.emplace_back(p.text, (int32_t)i);
        if (p.type == PIECE_NORMAL) {
            min_score_ = std::min(min_score_, p.score);
            max_score_ = std::max(max_score_, p.score);
        }
        if (p.type == PIECE_UNKNOWN) {
            if (unk_id_ >= 0) PB_FAIL("tokenizer: unk is already defined (pieces %d and %zu)", unk_id_, i);
            unk_id_ = (int)i;
        }
        if (p.type == PIECE_BYTE) {
            if (!byte_fallback_) PB_FAIL("tokenizer: byte piece %s found although byte_fallback is false", p.text.c_str());
            int b = piece_to_byte(p.text);
            if (b < 0) PB_FAIL("tokenizer: byte piece %s is invalid", p.text.c_str());
            byte_found[b] = true;
        }
    }
    if (unk_id_ < 0 || unk_id_ >= (int)pieces_.size()) PB_FAIL("tokenizer: unk is not defined");
    if (byte_fallback_ && !hf_mode_)
        for (int b = 0; b < 256; b++)
            if (!byte_found[b]) PB_FAIL("tokenizer: byte_fallback is on but piece <0x%02X> is missing", b);
    auto dedup = [this](std::vector<std::pair<std::string_view, int32_t>> &v) -> bool {
        std::sort(v.begin(), v.end());  // by string, then id: a duplicate's last id comes last
        size_t w = 0;
        for (size_t i = 0; i < v.size(); i++) {
            if (w > 0 && v[i].first == v[w - 1].first) {
                if (!hf_mode_) {
                    svg_set_error("tokenizer: piece %.*s is already defined", (int)v[i].first.size(), v[i].first.data());
                    return false;
                }
                v[w - 1] = v[i];  // the last id wins
            } else {
                v[w++] = v[i];
            }
        }
        v.resize(w);
        return true;
    };
    if (!dedup(normal) || !dedup(reserved)) return false;
    reserved_.assign(reserved.begin(), reserved.end());
    trie_.build(normal);
    user_trie_.build(user);
    // byte ids as PieceToId(ByteToPiece(b)) finds them; -1 where missing (tokenizer.json)
    for (int b = 0; b < 256; b++) {
        std::string bp = byte_piece((uint8_t)b);
        int id = piece_to_id(bp);
        byte_ids_[b] = (id >= 0 && pieces_[(size_t)id].text == bp) ? id : -1;
    }
    return true;
}

// ============================================================== vocabulary

const std::string &svg_tokenizer::id_to_piece(int id) const {
    static const std::string empty;
    if (id < 0 || id >= (int)pieces_.size()) return empty;
    return pieces_[(size_t)id].text;
}

svg_tokenizer::piece_type svg_tokenizer::type_of(int id) const {
    if (id < 0 || id >= (int)pieces_.size()) return PIECE_UNUSED;
    return pieces_[(size_t)id].type;
}

float svg_tokenizer::score_of(int id) const {
    if (id < 0 || id >= (int)pieces_.size()) return 0.f;
    return pieces_[(size_t)id].score;
}

int svg_tokenizer::piece_to_id(std::string_view piece) const {
    // reserved pieces (control, unknown, byte) first, as SentencePiece does
    auto it = std::lower_bound(reserved_.begin(), reserved_.end(), piece,
                               [](const std::pair<std::string, int32_t> &a, std::string_view b) { return a.first < b; });
    if (it != reserved_.end() && it->first == piece) return it->second;
    if (trie_.nodes.size() > 1) {
        int32_t n = 0;
        for (char c : piece) {
            n = trie_.child(n, (uint8_t)c);
            if (n < 0) break;
        }
        if (n > 0 && trie_.nodes[(size_t)n].value >= 0) return trie_.nodes[(size_t)n].value;
    }
    return unk_id_;
}

// =============================================================== normalizer

// Longest (or shortest) match of the precompiled character map at s: returns
// the offset of the replacement string, or -1. Every unit access is
// bounds-checked.
int svg_tokenizer::charsmap_match(const char *s, size_t n, size_t *len, bool shortest) const {
    const size_t nu = charsmap_units_.size();
    if (nu == 0) return -1;
    uint32_t id = unit_offset(charsmap_units_[0]);
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        id ^= c;
        if (id >= nu) break;
        uint32_t u = charsmap_units_[id];
        if (unit_label(u) != c) break;
        id ^= unit_offset(u);
        if (unit_has_leaf(u)) {
            if (id >= nu) break;
            uint32_t v = unit_value(charsmap_units_[id]);
            if (v < charsmap_strings_.size()) {
                best = (int)v;
                *len = i + 1;
                if (shortest) break;
            }
        }
    }
    return best;
}

// SentencePiece's Normalizer::NormalizePrefix: user-defined symbols stay
// whole, then the longest charsmap rule, else one UTF-8 character (an invalid
// byte → U+FFFD). Returns the number of input bytes consumed (≥ 1).
size_t svg_tokenizer::normalize_prefix(const char *s, size_t n, std::string_view *out) const {
    if (!user_trie_.empty()) {
        size_t best = 0;
        int32_t node = 0;
        for (size_t i = 0; i < n; i++) {
            node = user_trie_.child(node, (uint8_t)s[i]);
            if (node < 0) break;
            if (user_trie_.nodes[(size_t)node].value >= 0) best = i + 1;
        }
        if (best) {
            *out = std::string_view(s, best);
            return best;
        }
    }
    size_t len = 0;
    int v = charsmap_match(s, n, &len);
    if (v >= 0 && len > 0) {
        const char *str = charsmap_strings_.data() + v;
        size_t max = charsmap_strings_.size() - (size_t)v;
        *out = std::string_view(str, strnlen(str, max));
        return len;
    }
    size_t mblen;
    bool valid;
    decode_utf8(s, n, &mblen, &valid);
    if (!valid) {
        *out = std::string_view(kReplacementChar, 3);
        return 1;
    }
    *out = std::string_view(s, mblen);
    return mblen;
}

std::string svg_tokenizer::normalize(std::string_view input) const {
    std::string out;
    if (input.empty() || !loaded()) return out;
    if (hf_mode_) return hf_normalize(input);
    const char *s = input.data();
    size_t n = input.size();
    std::string_view sp;
    if (remove_extra_whitespaces_) {
        while (n > 0) {
            size_t c = normalize_prefix(s, n, &sp);
            if (sp != " ") break;
            s += c;
            n -= c;
        }
    }
    if (n == 0) return out;
    out.reserve(n * 3);
    const std::string_view ws = escape_whitespaces_ ? std::string_view(kSpaceSymbol, 3) : std::string_view(" ");
    if (!treat_ws_as_suffix_ && add_dummy_prefix_) out += ws;
    bool is_prev_space = remove_extra_whitespaces_;
    while (n > 0) {
        size_t c = normalize_prefix(s, n, &sp);
        while (is_prev_space && !sp.empty() && sp[0] == ' ') sp.remove_prefix(1);
        if (!sp.empty()) {
            for (char ch : sp) {
                if (escape_whitespaces_ && ch == ' ') out += kSpaceSymbol;
                else out += ch;
            }
            is_prev_space = sp.back() == ' ';
        }
        s += c;
        n -= c;
        if (!remove_extra_whitespaces_) is_prev_space = false;
    }
    if (remove_extra_whitespaces_)
        while (ends_with(out, ws)) out.resize(out.size() - ws.size());
    if (treat_ws_as_suffix_ && add_dummy_prefix_) out += ws;
    return out;
}

// ================================================================= encoding

// unigram::Model::EncodeOptimized on one normalized string; appends
// (begin, end, id) segments.
void svg_tokenizer::viterbi(std::string_view norm, std::vector<segment> *out) const {
    const size_t size = norm.size();
    if (size == 0) return;
    // Scores: SentencePiece sums in float, HF in f64 (held as double here).
    struct best_node {
        int32_t id = -1;
        double score = 0.0;
        int64_t starts_at = -1;
    };
    std::vector<best_node> best(size + 1);
    const bool hf = hf_mode_;
    const float unk_score_f = min_score_ - kUnkPenalty;
    const double unk_score_d = (double)min_score_ - 10.0;
    const char *s = norm.data();
    size_t starts_at = 0;
    while (starts_at < size) {
        const double till_here = best[starts_at].score;
        bool has_single_node = false;
        const size_t mblen = std::min(one_char_len((uint8_t)s[starts_at]), size - starts_at);
        int32_t node = 0;
        for (size_t key_pos = starts_at; key_pos < size;) {
            node = trie_.child(node, (uint8_t)s[key_pos]);
            if (node < 0) break;
            key_pos++;
            const int32_t id = trie_.nodes[(size_t)node].value;
            if (id < 0) continue;
            const piece_info &p = pieces_[(size_t)id];
            if (!hf && p.type == PIECE_UNUSED) continue;
            best_node &target = best[key_pos];
            const size_t length = key_pos - starts_at;
            double cand;
            if (hf) {
                cand = (double)p.score + till_here;
            } else {
                // user-defined pieces get a bonus; float totals (this is what the
                // reference library computes: it differs from double sums on
                // near-ties such as "w"+"ww" vs "ww"+"w")
                const float score =
                    p.type == PIECE_USER_DEFINED ? (float)((double)(length * max_score_) - 0.1) : p.score;
                cand = (double)(score + (float)till_here);
            }
            if (target.starts_at == -1 || cand > target.score) {
                target.score = cand;
                target.starts_at = (int64_t)starts_at;
                target.id = id;
            }
            if (!has_single_node && length == mblen) has_single_node = true;
        }
        if (!has_single_node) {
            best_node &target = best[starts_at + mblen];
            const double cand = hf ? unk_score_d + till_here : (double)(unk_score_f + (float)till_here);
            if (target.starts_at == -1 || cand > target.score) {
                target.score = cand;
                target.starts_at = (int64_t)starts_at;
                target.id = unk_id_;
            }
        }
        starts_at += mblen;
    }
    size_t first = out->size();
    for (size_t ends_at = size; ends_at > 0;) {
        const best_node &nd = best[ends_at];
        out->push_back({(size_t)nd.starts_at, ends_at, nd.id});
        ends_at = (size_t)nd.starts_at;
    }
    std::reverse(out->begin() + (ptrdiff_t)first, out->end());
}

// SentencePieceProcessor::PopulateSentencePieceText: unknown runs merge into
// one <unk>, or with byte fallback become their UTF-8 bytes. tokenizer.json
// (HF Unigram::tokenize): a fused unknown string that is itself a vocabulary
// entry keeps that id; byte fallback needs every byte piece, else <unk>.
void svg_tokenizer::emit(std::string_view norm, const std::vector<segment> &segs, bool fuse_unk,
                         std::vector<int32_t> *ids, std::vector<std::string> *pieces) const {
    auto push_unk = [&](std::string_view w) {
        if (hf_mode_) {
            int32_t id = -1, node = 0;
            for (char ch : w) {
                node = trie_.child(node, (uint8_t)ch);
                if (node < 0) break;
            }
            if (node > 0) id = trie_.nodes[(size_t)node].value;
            if (id >= 0) {
                ids->push_back(id);
                if (pieces) pieces->emplace_back(w);
                return;
            }
        }
        bool bytes_ok = byte_fallback_;
        for (size_t i = 0; bytes_ok && i < w.size(); i++) bytes_ok = byte_ids_[(uint8_t)w[i]] >= 0;
        if (bytes_ok) {
            for (char ch : w) {
                ids->push_back(byte_ids_[(uint8_t)ch]);
                if (pieces) pieces->push_back(byte_piece((uint8_t)ch));
            }
        } else {
            ids->push_back(unk_id_);
            if (pieces) pieces->emplace_back(w);
        }
    };
    size_t i = 0;
    while (i < segs.size()) {
        const segment &sg = segs[i];
        if (sg.id != unk_id_) {
            ids->push_back(sg.id);
            if (pieces) pieces->emplace_back(norm.substr(sg.begin, sg.end - sg.begin));
            i++;
            continue;
        }
        // a run of unknown segments, fused (SentencePiece's byte fallback
        // splits each unknown character into bytes, which is the same)
        size_t j = i + 1;
        if (fuse_unk)
            while (j < segs.size() && segs[j].id == unk_id_) j++;
        push_unk(norm.substr(sg.begin, segs[j - 1].end - sg.begin));
        i = j;
    }
}

std::vector<int32_t> svg_tokenizer::encode(std::string_view text, std::vector<std::string> *pieces) const {
    std::vector<int32_t> ids;
    if (pieces) pieces->clear();
    if (!loaded()) {
        svg_set_error("tokenizer: encode: no model loaded");
        return ids;
    }
    if (hf_mode_) {
        hf_encode(text, &ids, pieces);
        return ids;
    }
    std::string norm = normalize(text);
    std::vector<segment> segs;
    viterbi(norm, &segs);
    emit(norm, segs, /*fuse_unk=*/true, &ids, pieces);
    return ids;
}

svg_tokenizer::padded svg_tokenizer::encode_padded(std::string_view text, int max_len) const {
    padded r;
    if (max_len < 0) max_len = 0;
    std::vector<int32_t> ids = encode(text);
    const bool has_eos = eos_id_ >= 0;
    size_t room = (size_t)max_len - (has_eos && max_len > 0 ? 1 : 0);
    if (ids.size() > room) ids.resize(room);
    if (has_eos && max_len > 0) ids.push_back(eos_id_);
    r.n_tokens = (int)ids.size();
    r.ids = ids;
    r.mask.assign(ids.size(), 1);
    const int32_t pad = pad_id_ >= 0 ? pad_id_ : 0;
    r.ids.resize((size_t)max_len, pad);
    r.mask.resize((size_t)max_len, 0);
    return r;
}

// ================================================================= decoding

bool svg_tokenizer::decode(const std::vector<int32_t> &ids, std::string *out) const {
    out->clear();
    if (!loaded()) PB_FAIL("tokenizer: decode: no model loaded");
    for (int32_t id : ids)
        if (id < 0 || id >= (int32_t)pieces_.size()) PB_FAIL("tokenizer: decode: invalid id %d", id);
    const std::string_view sym(kSpaceSymbol, 3);
    std::string bytes;
    auto flush_bytes = [&]() {
        size_t off = 0;
        while (off < bytes.size()) {
            size_t mblen;
            bool valid;
            decode_utf8(bytes.data() + off, bytes.size() - off, &mblen, &valid);
            if (valid) out->append(bytes, off, mblen);
            else out->append(kReplacementChar);
            off += mblen;
        }
        bytes.clear();
    };
    bool is_bos_ws = true, bos_ws_seen = false;
    const bool strip_bos = hf_mode_ ? hf_prepend_ : (add_dummy_prefix_ || remove_extra_whitespaces_);
    for (int32_t id : ids) {
        const piece_info &p = pieces_[(size_t)id];
        if (p.type == PIECE_BYTE) {
            bytes += (char)piece_to_byte(p.text);
            continue;
        }
        flush_bytes();
        if (bos_ws_seen || !out->empty()) is_bos_ws = false;
        bos_ws_seen = false;
        if (p.type == PIECE_CONTROL) continue;
        if (p.type == PIECE_UNKNOWN) {
            *out += unk_surface_;
            continue;
        }
        std::string_view piece = p.text;
        if (is_bos_ws && strip_bos) {
            if (starts_with(piece, sym)) {
                piece.remove_prefix(3);
                bos_ws_seen = !remove_extra_whitespaces_ || hf_mode_;
            }
        }
        for (size_t i = 0; i < piece.size();) {
            if (piece.compare(i, 3, sym) == 0) {
                *out += ' ';
                i += 3;
            } else {
                *out += piece[i++];
            }
        }
    }
    flush_bytes();
    return true;
}

std::string svg_tokenizer::decode(const std::vector<int32_t> &ids) const {
    std::string s;
    if (!decode(ids, &s)) s.clear();
    return s;
}

// ========================================================== tokenizer.json

namespace {

using json = nlohmann::json;

// Unicode White_Space (Rust char::is_whitespace, what the HF steps use)
bool is_rust_ws(uint32_t c) {
    return (c >= 0x9 && c <= 0xD) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python's str.isspace / re \s
bool is_py_ws(uint32_t c) { return is_rust_ws(c) || (c >= 0x1C && c <= 0x1F); }

// next character of s at i (invalid byte = one char, cp 0xFFFD)
inline uint32_t next_char(std::string_view s, size_t i, size_t *len) {
    bool valid;
    uint32_t cp = decode_utf8(s.data() + i, s.size() - i, len, &valid);
    return cp;
}

bool base64_decode(const std::string &in, std::string *out) {
    out->clear();
    uint32_t acc = 0;
    int bits = 0;
    for (char ch : in) {
        int v;
        if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
        else if (ch == '+' || ch == '-') v = 62;
        else if (ch == '/' || ch == '_') v = 63;
        else if (ch == '=' || ch == '\n' || ch == '\r') continue;
        else return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *out += (char)((acc >> bits) & 0xFF);
        }
    }
    return true;
}


// ------------------------------------------------- grapheme clusters (HF)

enum gcb_prop : uint8_t { G_OTHER, G_EXTEND, G_SPACING_MARK, G_PREPEND, G_CONTROL, G_CR, G_LF, G_ZWJ, G_RI, G_L, G_V, G_T, G_LV, G_LVT };
struct gcb_range {
    uint32_t lo, hi;
    uint8_t prop;
};

// Grapheme_Cluster_Break ranges (Extend, SpacingMark, Prepend, Control) from the Python regex module 2026.11.15
const gcb_range k_gcb_ranges[] = {
    {0x0, 0x9, G_CONTROL}, {0xB, 0xC, G_CONTROL}, {0xE, 0x1F, G_CONTROL}, {0x7F, 0x9F, G_CONTROL},
    {0xAD, 0xAD, G_CONTROL}, {0x300, 0x36F, G_EXTEND}, {0x483, 0x489, G_EXTEND}, {0x591, 0x5BD, G_EXTEND},
    {0x5BF, 0x5BF, G_EXTEND}, {0x5C1, 0x5C2, G_EXTEND}, {0x5C4, 0x5C5, G_EXTEND}, {0x5C7, 0x5C9, G_EXTEND},
    {0x600, 0x605, G_PREPEND}, {0x610, 0x61A, G_EXTEND}, {0x61C, 0x61C, G_CONTROL}, {0x64B, 0x65F, G_EXTEND},
    {0x670, 0x670, G_EXTEND}, {0x6D6, 0x6DC, G_EXTEND}, {0x6DD, 0x6DD, G_PREPEND}, {0x6DF, 0x6E4, G_EXTEND},
    {0x6E7, 0x6E8, G_EXTEND}, {0x6EA, 0x6ED, G_EXTEND}, {0x70F, 0x70F, G_PREPEND}, {0x711, 0x711, G_EXTEND},
    {0x730, 0x74A, G_EXTEND}, {0x7A6, 0x7B0, G_EXTEND}, {0x7EB, 0x7F3, G_EXTEND}, {0x7FD, 0x7FD, G_EXTEND},
    {0x816, 0x819, G_EXTEND}, {0x81B, 0x823, G_EXTEND}, {0x825, 0x827, G_EXTEND}, {0x829, 0x82D, G_EXTEND},
    {0x859, 0x85B, G_EXTEND}, {0x890, 0x891, G_PREPEND}, {0x897, 0x89F, G_EXTEND}, {0x8CA, 0x8E1, G_EXTEND},
    {0x8E2, 0x8E2, G_PREPEND}, {0x8E3, 0x902, G_EXTEND}, {0x903, 0x903, G_SPACING_MARK},
    {0x93A, 0x93A, G_EXTEND}, {0x93B, 0x93B, G_SPACING_MARK}, {0x93C, 0x93C, G_EXTEND},
    {0x93E, 0x940, G_SPACING_MARK}, {0x941, 0x948, G_EXTEND}, {0x949, 0x94C, G_SPACING_MARK},
    {0x94D, 0x94D, G_EXTEND}, {0x94E, 0x94F, G_SPACING_MARK}, {0x951, 0x957, G_EXTEND}, {0x962, 0x963, G_EXTEND},
    {0x981, 0x981, G_EXTEND}, {0x982, 0x983, G_SPACING_MARK}, {0x9BC, 0x9BC, G_EXTEND}, {0x9BE, 0x9BE, G_EXTEND},
    {0x9BF, 0x9C0, G_SPACING_MARK}, {0x9C1, 0x9C4, G_EXTEND}, {0x9C7, 0x9C8, G_SPACING_MARK},
    {0x9CB, 0x9CC, G_SPACING_MARK}, {0x9CD, 0x9CD, G_EXTEND}, {0x9D7, 0x9D7, G_EXTEND}, {0x9E2, 0x9E3, G_EXTEND},
    {0x9FE, 0x9FE, G_EXTEND}, {0xA01, 0xA02, G_EXTEND}, {0xA03, 0xA03, G_SPACING_MARK}, {0xA3C, 0xA3C, G_EXTEND},
    {0xA3E, 0xA40, G_SPACING_MARK}, {0xA41, 0xA42, G_EXTEND}, {0xA47, 0xA48, G_EXTEND}, {0xA4B, 0xA4D, G_EXTEND},
    {0xA51, 0xA51, G_EXTEND}, {0xA70, 0xA71, G_EXTEND}, {0xA75, 0xA75, G_EXTEND}, {0xA81, 0xA82, G_EXTEND},
    {0xA83, 0xA83, G_SPACING_MARK}, {0xABC, 0xABC, G_EXTEND}, {0xABE, 0xAC0, G_SPACING_MARK},
    {0xAC1, 0xAC5, G_EXTEND}, {0xAC7, 0xAC8, G_EXTEND}, {0xAC9, 0xAC9, G_SPACING_MARK},
    {0xACB, 0xACC, G_SPACING_MARK}, {0xACD, 0xACD, G_EXTEND}, {0xAE2, 0xAE3, G_EXTEND}, {0xAFA, 0xAFF, G_EXTEND},
    {0xB01, 0xB01, G_EXTEND}, {0xB02, 0xB03, G_SPACING_MARK}, {0xB3C, 0xB3C, G_EXTEND}, {0xB3E, 0xB3F, G_EXTEND},
    {0xB40, 0xB40, G_SPACING_MARK}, {0xB41, 0xB44, G_EXTEND}, {0xB47, 0xB48, G_SPACING_MARK},
    {0xB4B, 0xB4C, G_SPACING_MARK}, {0xB4D, 0xB4D, G_EXTEND}, {0xB53, 0xB57, G_EXTEND}, {0xB62, 0xB63, G_EXTEND},
    {0xB82, 0xB82, G_EXTEND}, {0xBBE, 0xBBE, G_EXTEND}, {0xBBF, 0xBBF, G_SPACING_MARK}, {0xBC0, 0xBC0, G_EXTEND},
    {0xBC1, 0xBC2, G_SPACING_MARK}, {0xBC6, 0xBC8, G_SPACING_MARK}, {0xBCA, 0xBCC, G_SPACING_MARK},
    {0xBCD, 0xBCD, G_EXTEND}, {0xBD7, 0xBD7, G_EXTEND}, {0xC00, 0xC00, G_EXTEND}, {0xC01, 0xC03, G_SPACING_MARK},
    {0xC04, 0xC04, G_EXTEND}, {0xC3C, 0xC3C, G_EXTEND}, {0xC3E, 0xC40, G_EXTEND}, {0xC41, 0xC44, G_SPACING_MARK},
    {0xC46, 0xC48, G_EXTEND}, {0xC4A, 0xC4D, G_EXTEND}, {0xC55, 0xC56, G_EXTEND}, {0xC62, 0xC63, G_EXTEND},
    {0xC81, 0xC81, G_EXTEND}, {0xC82, 0xC83, G_SPACING_MARK}, {0xCBC, 0xCBC, G_EXTEND},
    {0xCBE, 0xCBE, G_SPACING_MARK}, {0xCBF, 0xCC0, G_EXTEND}, {0xCC1, 0xCC1, G_SPACING_MARK},
    {0xCC2, 0xCC2, G_EXTEND}, {0xCC3, 0xCC4, G_SPACING_MARK}, {0xCC6, 0xCC8, G_EXTEND}, {0xCCA, 0xCCD, G_EXTEND},
    {0xCD5, 0xCD6, G_EXTEND}, {0xCE2, 0xCE3, G_EXTEND}, {0xCF3, 0xCF3, G_SPACING_MARK}, {0xD00, 0xD01, G_EXTEND},
    {0xD02, 0xD03, G_SPACING_MARK}, {0xD3B, 0xD3C, G_EXTEND}, {0xD3E, 0xD3E, G_EXTEND},
    {0xD3F, 0xD40, G_SPACING_MARK}, {0xD41, 0xD44, G_EXTEND}, {0xD46, 0xD48, G_SPACING_MARK},
    {0xD4A, 0xD4C, G_SPACING_MARK}, {0xD4D, 0xD4D, G_EXTEND}, {0xD4E, 0xD4E, G_PREPEND},
    {0xD57, 0xD57, G_EXTEND}, {0xD62, 0xD63, G_EXTEND}, {0xD81, 0xD81, G_EXTEND}, {0xD82, 0xD83, G_SPACING_MARK},
    {0xDCA, 0xDCA, G_EXTEND}, {0xDCF, 0xDCF, G_EXTEND}, {0xDD0, 0xDD1, G_SPACING_MARK}, {0xDD2, 0xDD4, G_EXTEND},
    {0xDD6, 0xDD6, G_EXTEND}, {0xDD8, 0xDDE, G_SPACING_MARK}, {0xDDF, 0xDDF, G_EXTEND},
    {0xDF2, 0xDF3, G_SPACING_MARK}, {0xE31, 0xE31, G_EXTEND}, {0xE33, 0xE33, G_SPACING_MARK},
    {0xE34, 0xE3A, G_EXTEND}, {0xE47, 0xE4E, G_EXTEND}, {0xEB1, 0xEB1, G_EXTEND}, {0xEB3, 0xEB3, G_SPACING_MARK},
    {0xEB4, 0xEBC, G_EXTEND}, {0xEC8, 0xECE, G_EXTEND}, {0xF18, 0xF19, G_EXTEND}, {0xF35, 0xF35, G_EXTEND},
    {0xF37, 0xF37, G_EXTEND}, {0xF39, 0xF39, G_EXTEND}, {0xF3E, 0xF3F, G_SPACING_MARK}, {0xF71, 0xF7E, G_EXTEND},
    {0xF7F, 0xF7F, G_SPACING_MARK}, {0xF80, 0xF84, G_EXTEND}, {0xF86, 0xF87, G_EXTEND}, {0xF8D, 0xF97, G_EXTEND},
    {0xF99, 0xFBC, G_EXTEND}, {0xFC6, 0xFC6, G_EXTEND}, {0x102D, 0x1030, G_EXTEND},
    {0x1031, 0x1031, G_SPACING_MARK}, {0x1032, 0x1037, G_EXTEND}, {0x1039, 0x103A, G_EXTEND},
    {0x103B, 0x103C, G_SPACING_MARK}, {0x103D, 0x103E, G_EXTEND}, {0x1056, 0x1057, G_SPACING_MARK},
    {0x1058, 0x1059, G_EXTEND}, {0x105E, 0x1060, G_EXTEND}, {0x1071, 0x1074, G_EXTEND},
    {0x1082, 0x1082, G_EXTEND}, {0x1084, 0x1084, G_SPACING_MARK}, {0x1085, 0x1086, G_EXTEND},
    {0x108D, 0x108D, G_EXTEND}, {0x109D, 0x109D, G_EXTEND}, {0x135D, 0x135F, G_EXTEND},
    {0x1712, 0x1715, G_EXTEND}, {0x1732, 0x1734, G_EXTEND}, {0x1752, 0x1753, G_EXTEND},
    {0x1772, 0x1773, G_EXTEND}, {0x17B4, 0x17B5, G_EXTEND}, {0x17B6, 0x17B6, G_SPACING_MARK},
    {0x17B7, 0x17BD, G_EXTEND}, {0x17BE, 0x17C5, G_SPACING_MARK}, {0x17C6, 0x17C6, G_EXTEND},
    {0x17C7, 0x17C8, G_SPACING_MARK}, {0x17C9, 0x17D3, G_EXTEND}, {0x17DD, 0x17DD, G_EXTEND},
    {0x180B, 0x180D, G_EXTEND}, {0x180E, 0x180E, G_CONTROL}, {0x180F, 0x180F, G_EXTEND},
    {0x1885, 0x1886, G_EXTEND}, {0x18A9, 0x18A9, G_EXTEND}, {0x1920, 0x1922, G_EXTEND},
    {0x1923, 0x1926, G_SPACING_MARK}, {0x1927, 0x1928, G_EXTEND}, {0x1929, 0x192B, G_SPACING_MARK},
    {0x1930, 0x1931, G_SPACING_MARK}, {0x1932, 0x1932, G_EXTEND}, {0x1933, 0x1938, G_SPACING_MARK},
    {0x1939, 0x193B, G_EXTEND}, {0x1A17, 0x1A18, G_EXTEND}, {0x1A19, 0x1A1A, G_SPACING_MARK},
    {0x1A1B, 0x1A1B, G_EXTEND}, {0x1A55, 0x1A55, G_SPACING_MARK}, {0x1A56, 0x1A56, G_EXTEND},
    {0x1A57, 0x1A57, G_SPACING_MARK}, {0x1A58, 0x1A5E, G_EXTEND}, {0x1A60, 0x1A60, G_EXTEND},
    {0x1A62, 0x1A62, G_EXTEND}, {0x1A65, 0x1A6C, G_EXTEND}, {0x1A6D, 0x1A72, G_SPACING_MARK},
    {0x1A73, 0x1A7C, G_EXTEND}, {0x1A7F, 0x1A7F, G_EXTEND}, {0x1AB0, 0x1AF0, G_EXTEND},
    {0x1B00, 0x1B03, G_EXTEND}, {0x1B04, 0x1B04, G_SPACING_MARK}, {0x1B34, 0x1B3D, G_EXTEND},
    {0x1B3E, 0x1B41, G_SPACING_MARK}, {0x1B42, 0x1B44, G_EXTEND}, {0x1B6B, 0x1B73, G_EXTEND},
    {0x1B80, 0x1B81, G_EXTEND}, {0x1B82, 0x1B82, G_SPACING_MARK}, {0x1BA1, 0x1BA1, G_SPACING_MARK},
    {0x1BA2, 0x1BA5, G_EXTEND}, {0x1BA6, 0x1BA7, G_SPACING_MARK}, {0x1BA8, 0x1BAD, G_EXTEND},
    {0x1BE6, 0x1BE6, G_EXTEND}, {0x1BE7, 0x1BE7, G_SPACING_MARK}, {0x1BE8, 0x1BE9, G_EXTEND},
    {0x1BEA, 0x1BEC, G_SPACING_MARK}, {0x1BED, 0x1BED, G_EXTEND}, {0x1BEE, 0x1BEE, G_SPACING_MARK},
    {0x1BEF, 0x1BF3, G_EXTEND}, {0x1C24, 0x1C2B, G_SPACING_MARK}, {0x1C2C, 0x1C33, G_EXTEND},
    {0x1C34, 0x1C35, G_SPACING_MARK}, {0x1C36, 0x1C37, G_EXTEND}, {0x1CD0, 0x1CD2, G_EXTEND},
    {0x1CD4, 0x1CE0, G_EXTEND}, {0x1CE1, 0x1CE1, G_SPACING_MARK}, {0x1CE2, 0x1CE8, G_EXTEND},
    {0x1CED, 0x1CED, G_EXTEND}, {0x1CF4, 0x1CF4, G_EXTEND}, {0x1CF7, 0x1CF7, G_SPACING_MARK},
    {0x1CF8, 0x1CF9, G_EXTEND}, {0x1DC0, 0x1DFF, G_EXTEND}, {0x200B, 0x200B, G_CONTROL},
    {0x200C, 0x200C, G_EXTEND}, {0x200E, 0x200F, G_CONTROL}, {0x2028, 0x202E, G_CONTROL},
    {0x2060, 0x206F, G_CONTROL}, {0x20D0, 0x20F0, G_EXTEND}, {0x2CEF, 0x2CF1, G_EXTEND},
    {0x2D7F, 0x2D7F, G_EXTEND}, {0x2DE0, 0x2DFF, G_EXTEND}, {0x302A, 0x302F, G_EXTEND},
    {0x3099, 0x309A, G_EXTEND}, {0xA66F, 0xA672, G_EXTEND}, {0xA674, 0xA67D, G_EXTEND},
    {0xA69E, 0xA69F, G_EXTEND}, {0xA6F0, 0xA6F1, G_EXTEND}, {0xA802, 0xA802, G_EXTEND},
    {0xA806, 0xA806, G_EXTEND}, {0xA80B, 0xA80B, G_EXTEND}, {0xA823, 0xA824, G_SPACING_MARK},
    {0xA825, 0xA826, G_EXTEND}, {0xA827, 0xA827, G_SPACING_MARK}, {0xA82C, 0xA82C, G_EXTEND},
    {0xA880, 0xA881, G_SPACING_MARK}, {0xA8B4, 0xA8C3, G_SPACING_MARK}, {0xA8C4, 0xA8C5, G_EXTEND},
    {0xA8E0, 0xA8F1, G_EXTEND}, {0xA8FF, 0xA8FF, G_EXTEND}, {0xA926, 0xA92D, G_EXTEND},
    {0xA947, 0xA951, G_EXTEND}, {0xA952, 0xA952, G_SPACING_MARK}, {0xA953, 0xA953, G_EXTEND},
    {0xA980, 0xA982, G_EXTEND}, {0xA983, 0xA983, G_SPACING_MARK}, {0xA9B3, 0xA9B3, G_EXTEND},
    {0xA9B4, 0xA9B5, G_SPACING_MARK}, {0xA9B6, 0xA9B9, G_EXTEND}, {0xA9BA, 0xA9BB, G_SPACING_MARK},
    {0xA9BC, 0xA9BD, G_EXTEND}, {0xA9BE, 0xA9BF, G_SPACING_MARK}, {0xA9C0, 0xA9C0, G_EXTEND},
    {0xA9E5, 0xA9E5, G_EXTEND}, {0xAA29, 0xAA2E, G_EXTEND}, {0xAA2F, 0xAA30, G_SPACING_MARK},
    {0xAA31, 0xAA32, G_EXTEND}, {0xAA33, 0xAA34, G_SPACING_MARK}, {0xAA35, 0xAA36, G_EXTEND},
    {0xAA43, 0xAA43, G_EXTEND}, {0xAA4C, 0xAA4C, G_EXTEND}, {0xAA4D, 0xAA4D, G_SPACING_MARK},
    {0xAA7C, 0xAA7C, G_EXTEND}, {0xAAB0, 0xAAB0, G_EXTEND}, {0xAAB2, 0xAAB4, G_EXTEND},
    {0xAAB7, 0xAAB8, G_EXTEND}, {0xAABE, 0xAABF, G_EXTEND}, {0xAAC1, 0xAAC1, G_EXTEND},
    {0xAAEB, 0xAAEB, G_SPACING_MARK}, {0xAAEC, 0xAAED, G_EXTEND}, {0xAAEE, 0xAAEF, G_SPACING_MARK},
    {0xAAF5, 0xAAF5, G_SPACING_MARK}, {0xAAF6, 0xAAF6, G_EXTEND}, {0xABE3, 0xABE4, G_SPACING_MARK},
    {0xABE5, 0xABE5, G_EXTEND}, {0xABE6, 0xABE7, G_SPACING_MARK}, {0xABE8, 0xABE8, G_EXTEND},
    {0xABE9, 0xABEA, G_SPACING_MARK}, {0xABEC, 0xABEC, G_SPACING_MARK}, {0xABED, 0xABED, G_EXTEND},
    {0xFB1E, 0xFB1E, G_EXTEND}, {0xFE00, 0xFE0F, G_EXTEND}, {0xFE20, 0xFE2F, G_EXTEND},
    {0xFEFF, 0xFEFF, G_CONTROL}, {0xFF9E, 0xFF9F, G_EXTEND}, {0xFFF0, 0xFFFB, G_CONTROL},
    {0x101FD, 0x101FD, G_EXTEND}, {0x102E0, 0x102E0, G_EXTEND}, {0x10376, 0x1037A, G_EXTEND},
    {0x10A01, 0x10A03, G_EXTEND}, {0x10A05, 0x10A06, G_EXTEND}, {0x10A0C, 0x10A0F, G_EXTEND},
    {0x10A38, 0x10A3A, G_EXTEND}, {0x10A3F, 0x10A3F, G_EXTEND}, {0x10AE5, 0x10AE6, G_EXTEND},
    {0x10D24, 0x10D27, G_EXTEND}, {0x10D69, 0x10D6D, G_EXTEND}, {0x10EAB, 0x10EAC, G_EXTEND},
    {0x10ECB, 0x10ECF, G_EXTEND}, {0x10EF0, 0x10EFF, G_EXTEND}, {0x10F46, 0x10F50, G_EXTEND},
    {0x10F82, 0x10F85, G_EXTEND}, {0x11000, 0x11000, G_SPACING_MARK}, {0x11001, 0x11001, G_EXTEND},
    {0x11002, 0x11002, G_SPACING_MARK}, {0x11038, 0x11046, G_EXTEND}, {0x11070, 0x11070, G_EXTEND},
    {0x11073, 0x11074, G_EXTEND}, {0x1107F, 0x11081, G_EXTEND}, {0x11082, 0x11082, G_SPACING_MARK},
    {0x110B0, 0x110B2, G_SPACING_MARK}, {0x110B3, 0x110B6, G_EXTEND}, {0x110B7, 0x110B8, G_SPACING_MARK},
    {0x110B9, 0x110BA, G_EXTEND}, {0x110BD, 0x110BD, G_PREPEND}, {0x110C2, 0x110C2, G_EXTEND},
    {0x110CD, 0x110CD, G_PREPEND}, {0x11100, 0x11102, G_EXTEND}, {0x11127, 0x1112B, G_EXTEND},
    {0x1112C, 0x1112C, G_SPACING_MARK}, {0x1112D, 0x11134, G_EXTEND}, {0x11145, 0x11146, G_SPACING_MARK},
    {0x11173, 0x11173, G_EXTEND}, {0x11180, 0x11181, G_EXTEND}, {0x11182, 0x11182, G_SPACING_MARK},
    {0x111B3, 0x111B5, G_SPACING_MARK}, {0x111B6, 0x111BE, G_EXTEND}, {0x111BF, 0x111BF, G_SPACING_MARK},
    {0x111C0, 0x111C0, G_EXTEND}, {0x111C2, 0x111C3, G_PREPEND}, {0x111C9, 0x111CC, G_EXTEND},
    {0x111CE, 0x111CE, G_SPACING_MARK}, {0x111CF, 0x111CF, G_EXTEND}, {0x1122C, 0x1122E, G_SPACING_MARK},
    {0x1122F, 0x11231, G_EXTEND}, {0x11232, 0x11233, G_SPACING_MARK}, {0x11234, 0x11237, G_EXTEND},
    {0x1123E, 0x1123E, G_EXTEND}, {0x11241, 0x11241, G_EXTEND}, {0x112DF, 0x112DF, G_EXTEND},
    {0x112E0, 0x112E2, G_SPACING_MARK}, {0x112E3, 0x112EA, G_EXTEND}, {0x11300, 0x11301, G_EXTEND},
    {0x11302, 0x11303, G_SPACING_MARK}, {0x1133B, 0x1133C, G_EXTEND}, {0x1133E, 0x1133E, G_EXTEND},
    {0x1133F, 0x1133F, G_SPACING_MARK}, {0x11340, 0x11340, G_EXTEND}, {0x11341, 0x11344, G_SPACING_MARK},
    {0x11347, 0x11348, G_SPACING_MARK}, {0x1134B, 0x1134C, G_SPACING_MARK}, {0x1134D, 0x1134D, G_EXTEND},
    {0x11357, 0x11357, G_EXTEND}, {0x11362, 0x11363, G_SPACING_MARK}, {0x11366, 0x1136C, G_EXTEND},
    {0x11370, 0x11374, G_EXTEND}, {0x113B8, 0x113B8, G_EXTEND}, {0x113B9, 0x113BA, G_SPACING_MARK},
    {0x113BB, 0x113C0, G_EXTEND}, {0x113C2, 0x113C2, G_EXTEND}, {0x113C5, 0x113C5, G_EXTEND},
    {0x113C7, 0x113C9, G_EXTEND}, {0x113CA, 0x113CA, G_SPACING_MARK}, {0x113CC, 0x113CD, G_SPACING_MARK},
    {0x113CE, 0x113D0, G_EXTEND}, {0x113D1, 0x113D1, G_PREPEND}, {0x113D2, 0x113D2, G_EXTEND},
    {0x113E1, 0x113E2, G_EXTEND}, {0x11435, 0x11437, G_SPACING_MARK}, {0x11438, 0x1143F, G_EXTEND},
    {0x11440, 0x11441, G_SPACING_MARK}, {0x11442, 0x11444, G_EXTEND}, {0x11445, 0x11445, G_SPACING_MARK},
    {0x11446, 0x11446, G_EXTEND}, {0x1145E, 0x1145E, G_EXTEND}, {0x114B0, 0x114B0, G_EXTEND},
    {0x114B1, 0x114B2, G_SPACING_MARK}, {0x114B3, 0x114B8, G_EXTEND}, {0x114B9, 0x114B9, G_SPACING_MARK},
    {0x114BA, 0x114BA, G_EXTEND}, {0x114BB, 0x114BC, G_SPACING_MARK}, {0x114BD, 0x114BD, G_EXTEND},
    {0x114BE, 0x114BE, G_SPACING_MARK}, {0x114BF, 0x114C0, G_EXTEND}, {0x114C1, 0x114C1, G_SPACING_MARK},
    {0x114C2, 0x114C3, G_EXTEND}, {0x115AF, 0x115AF, G_EXTEND}, {0x115B0, 0x115B1, G_SPACING_MARK},
    {0x115B2, 0x115B5, G_EXTEND}, {0x115B8, 0x115BB, G_SPACING_MARK}, {0x115BC, 0x115BD, G_EXTEND},
    {0x115BE, 0x115BE, G_SPACING_MARK}, {0x115BF, 0x115C0, G_EXTEND}, {0x115DC, 0x115DD, G_EXTEND},
    {0x11630, 0x11632, G_SPACING_MARK}, {0x11633, 0x1163A, G_EXTEND}, {0x1163B, 0x1163C, G_SPACING_MARK},
    {0x1163D, 0x1163D, G_EXTEND}, {0x1163E, 0x1163E, G_SPACING_MARK}, {0x1163F, 0x11640, G_EXTEND},
    {0x116AB, 0x116AB, G_EXTEND}, {0x116AC, 0x116AC, G_SPACING_MARK}, {0x116AD, 0x116AD, G_EXTEND},
    {0x116AE, 0x116AF, G_SPACING_MARK}, {0x116B0, 0x116B7, G_EXTEND}, {0x1171D, 0x1171D, G_EXTEND},
    {0x1171E, 0x1171E, G_SPACING_MARK}, {0x1171F, 0x1171F, G_EXTEND}, {0x11722, 0x11725, G_EXTEND},
    {0x11726, 0x11726, G_SPACING_MARK}, {0x11727, 0x1172B, G_EXTEND}, {0x1182C, 0x1182E, G_SPACING_MARK},
    {0x1182F, 0x11837, G_EXTEND}, {0x11838, 0x11838, G_SPACING_MARK}, {0x11839, 0x1183A, G_EXTEND},
    {0x11930, 0x11930, G_EXTEND}, {0x11931, 0x11935, G_SPACING_MARK}, {0x11937, 0x11938, G_SPACING_MARK},
    {0x1193B, 0x1193E, G_EXTEND}, {0x1193F, 0x1193F, G_PREPEND}, {0x11940, 0x11940, G_SPACING_MARK},
    {0x11941, 0x11941, G_PREPEND}, {0x11942, 0x11942, G_SPACING_MARK}, {0x11943, 0x11943, G_EXTEND},
    {0x119D1, 0x119D3, G_SPACING_MARK}, {0x119D4, 0x119D7, G_EXTEND}, {0x119DA, 0x119DB, G_EXTEND},
    {0x119DC, 0x119DF, G_SPACING_MARK}, {0x119E0, 0x119E0, G_EXTEND}, {0x119E4, 0x119E4, G_SPACING_MARK},
    {0x11A01, 0x11A0A, G_EXTEND}, {0x11A33, 0x11A38, G_EXTEND}, {0x11A39, 0x11A39, G_SPACING_MARK},
    {0x11A3B, 0x11A3E, G_EXTEND}, {0x11A47, 0x11A47, G_EXTEND}, {0x11A51, 0x11A56, G_EXTEND},
    {0x11A57, 0x11A58, G_SPACING_MARK}, {0x11A59, 0x11A5B, G_EXTEND}, {0x11A84, 0x11A89, G_PREPEND},
    {0x11A8A, 0x11A96, G_EXTEND}, {0x11A97, 0x11A97, G_SPACING_MARK}, {0x11A98, 0x11A99, G_EXTEND},
    {0x11B60, 0x11B60, G_EXTEND}, {0x11B61, 0x11B61, G_SPACING_MARK}, {0x11B62, 0x11B64, G_EXTEND},
    {0x11B65, 0x11B65, G_SPACING_MARK}, {0x11B66, 0x11B66, G_EXTEND}, {0x11B67, 0x11B67, G_SPACING_MARK},
    {0x11C2F, 0x11C2F, G_SPACING_MARK}, {0x11C30, 0x11C36, G_EXTEND}, {0x11C38, 0x11C3D, G_EXTEND},
    {0x11C3E, 0x11C3E, G_SPACING_MARK}, {0x11C3F, 0x11C3F, G_EXTEND}, {0x11C92, 0x11CA7, G_EXTEND},
    {0x11CA9, 0x11CA9, G_SPACING_MARK}, {0x11CAA, 0x11CB0, G_EXTEND}, {0x11CB1, 0x11CB1, G_SPACING_MARK},
    {0x11CB2, 0x11CB3, G_EXTEND}, {0x11CB4, 0x11CB4, G_SPACING_MARK}, {0x11CB5, 0x11CB6, G_EXTEND},
    {0x11D31, 0x11D36, G_EXTEND}, {0x11D3A, 0x11D3A, G_EXTEND}, {0x11D3C, 0x11D3D, G_EXTEND},
    {0x11D3F, 0x11D45, G_EXTEND}, {0x11D46, 0x11D46, G_PREPEND}, {0x11D47, 0x11D47, G_EXTEND},
    {0x11D8A, 0x11D8E, G_SPACING_MARK}, {0x11D90, 0x11D91, G_EXTEND}, {0x11D93, 0x11D94, G_SPACING_MARK},
    {0x11D95, 0x11D95, G_EXTEND}, {0x11D96, 0x11D96, G_SPACING_MARK}, {0x11D97, 0x11D97, G_EXTEND},
    {0x11DF0, 0x11DF0, G_EXTEND}, {0x11EF3, 0x11EF4, G_EXTEND}, {0x11EF5, 0x11EF6, G_SPACING_MARK},
    {0x11F00, 0x11F01, G_EXTEND}, {0x11F02, 0x11F02, G_PREPEND}, {0x11F03, 0x11F03, G_SPACING_MARK},
    {0x11F34, 0x11F35, G_SPACING_MARK}, {0x11F36, 0x11F3A, G_EXTEND}, {0x11F3E, 0x11F3F, G_SPACING_MARK},
    {0x11F40, 0x11F42, G_EXTEND}, {0x11F5A, 0x11F5A, G_EXTEND}, {0x13430, 0x1343F, G_CONTROL},
    {0x13440, 0x13440, G_EXTEND}, {0x13447, 0x13455, G_EXTEND}, {0x1611E, 0x16129, G_EXTEND},
    {0x1612A, 0x1612C, G_SPACING_MARK}, {0x1612D, 0x1612F, G_EXTEND}, {0x16AF0, 0x16AF4, G_EXTEND},
    {0x16B30, 0x16B36, G_EXTEND}, {0x16F4F, 0x16F4F, G_EXTEND}, {0x16F51, 0x16F87, G_SPACING_MARK},
    {0x16F8F, 0x16F92, G_EXTEND}, {0x16FE4, 0x16FE4, G_EXTEND}, {0x16FF0, 0x16FF1, G_EXTEND},
    {0x1BC9D, 0x1BC9E, G_EXTEND}, {0x1BCA0, 0x1BCA3, G_CONTROL}, {0x1CF00, 0x1CF2D, G_EXTEND},
    {0x1CF30, 0x1CF46, G_EXTEND}, {0x1D127, 0x1D128, G_EXTEND}, {0x1D165, 0x1D169, G_EXTEND},
    {0x1D16D, 0x1D172, G_EXTEND}, {0x1D173, 0x1D17A, G_CONTROL}, {0x1D17B, 0x1D182, G_EXTEND},
    {0x1D185, 0x1D18B, G_EXTEND}, {0x1D1AA, 0x1D1AD, G_EXTEND}, {0x1D242, 0x1D244, G_EXTEND},
    {0x1D250, 0x1D252, G_EXTEND}, {0x1D25B, 0x1D25C, G_EXTEND}, {0x1D25F, 0x1D25F, G_EXTEND},
    {0x1D280, 0x1D281, G_EXTEND}, {0x1DA00, 0x1DA36, G_EXTEND}, {0x1DA3B, 0x1DA6C, G_EXTEND},
    {0x1DA75, 0x1DA75, G_EXTEND}, {0x1DA84, 0x1DA84, G_EXTEND}, {0x1DA9B, 0x1DA9F, G_EXTEND},
    {0x1DAA1, 0x1DAAF, G_EXTEND}, {0x1E000, 0x1E006, G_EXTEND}, {0x1E008, 0x1E018, G_EXTEND},
    {0x1E01B, 0x1E021, G_EXTEND}, {0x1E023, 0x1E024, G_EXTEND}, {0x1E026, 0x1E02A, G_EXTEND},
    {0x1E08F, 0x1E08F, G_EXTEND}, {0x1E130, 0x1E136, G_EXTEND}, {0x1E2AE, 0x1E2AE, G_EXTEND},
    {0x1E2EC, 0x1E2EF, G_EXTEND}, {0x1E4EC, 0x1E4EF, G_EXTEND}, {0x1E5EE, 0x1E5EF, G_EXTEND},
    {0x1E6E3, 0x1E6E3, G_EXTEND}, {0x1E6E6, 0x1E6E6, G_EXTEND}, {0x1E6EE, 0x1E6EF, G_EXTEND},
    {0x1E6F5, 0x1E6F5, G_EXTEND}, {0x1E8D0, 0x1E8D6, G_EXTEND}, {0x1E944, 0x1E94A, G_EXTEND},
    {0x1F3FB, 0x1F3FF, G_EXTEND}, {0xE0000, 0xE001F, G_CONTROL}, {0xE0020, 0xE007F, G_EXTEND},
    {0xE0080, 0xE00FF, G_CONTROL}, {0xE0100, 0xE01EF, G_EXTEND}, {0xE01F0, 0xE0FFF, G_CONTROL},
};

gcb_prop gcb_of(uint32_t c) {
    if (c == '\r') return G_CR;
    if (c == '\n') return G_LF;
    if (c == 0x200D) return G_ZWJ;
    if (c >= 0x1F1E6 && c <= 0x1F1FF) return G_RI;
    if ((c >= 0x1100 && c <= 0x115F) || (c >= 0xA960 && c <= 0xA97C)) return G_L;
    if ((c >= 0x1160 && c <= 0x11A7) || (c >= 0xD7B0 && c <= 0xD7C6)) return G_V;
    if ((c >= 0x11A8 && c <= 0x11FF) || (c >= 0xD7CB && c <= 0xD7FB)) return G_T;
    if (c >= 0xAC00 && c <= 0xD7A3) return (c - 0xAC00) % 28 == 0 ? G_LV : G_LVT;
    size_t lo = 0, hi = sizeof(k_gcb_ranges) / sizeof(k_gcb_ranges[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (k_gcb_ranges[mid].hi < c) lo = mid + 1;
        else hi = mid;
    }
    if (lo < sizeof(k_gcb_ranges) / sizeof(k_gcb_ranges[0]) && k_gcb_ranges[lo].lo <= c) return (gcb_prop)k_gcb_ranges[lo].prop;
    return G_OTHER;
}

// End of the extended grapheme cluster that starts at i (UAX #29 rules
// GB3-GB9b, GB12-13; GB9c and GB11 join only clusters of 6 bytes or more,
// which the Precompiled step handles character by character anyway).
size_t grapheme_end(std::string_view s, size_t i) {
    size_t l;
    bool valid;
    uint32_t c = decode_utf8(s.data() + i, s.size() - i, &l, &valid);
    gcb_prop prev = valid ? gcb_of(c) : G_CONTROL;
    size_t j = i + l;
    if (prev == G_CR) return (j < s.size() && s[j] == '\n') ? j + 1 : j;
    if (prev == G_CONTROL || prev == G_LF) return j;
    int ri_count = prev == G_RI ? 1 : 0;
    while (j < s.size()) {
        c = decode_utf8(s.data() + j, s.size() - j, &l, &valid);
        gcb_prop p = valid ? gcb_of(c) : G_CONTROL;
        bool join;
        if (p == G_CONTROL || p == G_CR || p == G_LF) join = false;
        else if (p == G_EXTEND || p == G_ZWJ || p == G_SPACING_MARK) join = true;
        else if (prev == G_PREPEND) join = true;
        else if (prev == G_L) join = p == G_L || p == G_V || p == G_LV || p == G_LVT;
        else if (prev == G_LV || prev == G_V) join = p == G_V || p == G_T;
        else if (prev == G_LVT || prev == G_T) join = p == G_T;
        else if (prev == G_RI && p == G_RI) join = (ri_count % 2) == 1;
        else join = false;
        if (!join) break;
        if (p == G_RI) ri_count++;
        prev = (p == G_EXTEND || p == G_ZWJ || p == G_SPACING_MARK) && prev != G_PREPEND ? prev : p;
        j += l;
    }
    return j;
}

}  // namespace

bool svg_tokenizer::hf_parse(const void *data, size_t size) {
    const json j = svg_json::parse(std::string_view((const char *)data, size), "tokenizer.json");
    if (j.is_discarded()) return false;  // the error is set
    if (!j.is_object()) PB_FAIL("tokenizer.json: not a JSON object");
    const json *model = svg_json::get(j, "model");
    if (!model || !model->is_object()) PB_FAIL("tokenizer.json: no model");
    std::string type = svg_json::get_str(*model, "type");
    if (type != "Unigram") PB_FAIL("tokenizer.json: model type '%s' is not supported (only Unigram)", type.c_str());
    const json *vocab = svg_json::get(*model, "vocab");
    if (!vocab || !vocab->is_array() || vocab->empty()) PB_FAIL("tokenizer.json: model.vocab missing or empty");
    const json *unk = svg_json::get(*model, "unk_id");
    if (!unk || !unk->is_number_integer()) PB_FAIL("tokenizer.json: model.unk_id missing (required)");
    const int64_t unk_id = unk->get<int64_t>();
    if (unk_id < 0 || unk_id >= (int64_t)vocab->size()) PB_FAIL("tokenizer.json: unk_id %lld out of range", (long long)unk_id);
    byte_fallback_ = svg_json::get_bool(*model, "byte_fallback", false);
    unk_id_ = (int)unk_id;
    pieces_.reserve(vocab->size());
    for (const json &e : *vocab) {
        if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
            PB_FAIL("tokenizer.json: vocab entry %zu is not [piece, score]", pieces_.size());
        piece_info pi;
        pi.text = e[0].get<std::string>();
        pi.score = (float)e[1].get<double>();
        pieces_.push_back(std::move(pi));
    }
    // added tokens: special → CONTROL, others → USER_DEFINED; matched whole in the raw text
    if (const json *added = svg_json::get(j, "added_tokens")) {
        if (!added->is_array()) PB_FAIL("tokenizer.json: added_tokens is not an array");
        for (const json &a : *added) {
            const json *id = svg_json::get(a, "id");
            const json *content = svg_json::get(a, "content");
            if (!id || !id->is_number_integer() || !content || !content->is_string())
                PB_FAIL("tokenizer.json: malformed added token");
            int64_t i = id->get<int64_t>();
            std::string c = content->get<std::string>();
            if (i < 0 || i >= (int64_t)pieces_.size() || c.empty()) continue;  // not in the vocabulary: ignored
            if (pieces_[(size_t)i].text != c) continue;
            pieces_[(size_t)i].type = svg_json::get_bool(a, "special", false) ? PIECE_CONTROL : PIECE_USER_DEFINED;
            hf_added_.emplace_back(std::move(c), (int32_t)i);
        }
    }
    for (size_t i = 0; i < pieces_.size(); i++) {
        if ((int64_t)i == unk_id) pieces_[i].type = PIECE_UNKNOWN;
        else if (byte_fallback_ && piece_to_byte(pieces_[i].text) >= 0) pieces_[i].type = PIECE_BYTE;
    }
    // the added-token matcher (one id per string)
    {
        std::sort(hf_added_.begin(), hf_added_.end());
        std::vector<std::pair<std::string_view, int32_t>> keys;
        for (auto &a : hf_added_)
            if (keys.empty() || keys.back().first != a.first) keys.emplace_back(a.first, a.second);
        hf_added_trie_.build(keys);
    }
    // normalizer
    std::function<bool(const json &)> add_norm = [&](const json &n) -> bool {
        if (n.is_null()) return true;
        std::string t = svg_json::get_str(n, "type");
        hf_step st{};
        if (t == "Sequence") {
            const json *list = svg_json::get(n, "normalizers");
            if (!list || !list->is_array()) PB_FAIL("tokenizer.json: Sequence normalizer without a list");
            for (const json &x : *list)
                if (!add_norm(x)) return false;
            return true;
        } else if (t == "Precompiled") {
            std::string blob;
            const json *b64 = svg_json::get(n, "precompiled_charsmap");
            if (b64 && !b64->is_string()) PB_FAIL("tokenizer.json: precompiled_charsmap is not a string");
            if (b64 && !base64_decode(b64->get<std::string>(), &blob)) PB_FAIL("tokenizer.json: precompiled_charsmap: bad base64");
            if (!set_charsmap(blob)) return false;
            st.kind = hf_step::PRECOMPILED;
        } else if (t == "Strip") {
            st.kind = hf_step::STRIP;
            st.left = svg_json::get_bool(n, "strip_left", svg_json::get_bool(n, "left", false));
            st.right = svg_json::get_bool(n, "strip_right", svg_json::get_bool(n, "right", false));
        } else if (t == "Replace") {
            const json *pat = svg_json::get(n, "pattern");
            st.content = svg_json::get_str(n, "content");
            if (pat && pat->is_object() && svg_json::get(*pat, "String")) {
                st.kind = hf_step::REPLACE;
                st.pattern = svg_json::get_str(*pat, "String");
                if (st.pattern.empty()) PB_FAIL("tokenizer.json: Replace with an empty pattern");
            } else if (pat && pat->is_object() && svg_json::get(*pat, "Regex")) {
                std::string re = svg_json::get_str(*pat, "Regex");
                if (re == " {2,}") {
                    st.kind = hf_step::COLLAPSE_SPACES;
                } else {
                    PB_FAIL("tokenizer.json: Replace regex '%s' is not supported", re.c_str());
                }
            } else {
                PB_FAIL("tokenizer.json: malformed Replace normalizer");
            }
        } else {
            PB_FAIL("tokenizer.json: normalizer '%s' is not supported", t.c_str());
        }
        hf_normalizers_.push_back(std::move(st));
        return true;
    };
    if (const json *n = svg_json::get(j, "normalizer"))
        if (!add_norm(*n)) return false;
    // pre-tokenizer
    std::function<bool(const json &)> add_pre = [&](const json &n) -> bool {
        std::string t = svg_json::get_str(n, "type");
        hf_step st{};
        if (t == "Sequence") {
            const json *list = svg_json::get(n, "pretokenizers");
            if (!list || !list->is_array()) PB_FAIL("tokenizer.json: Sequence pre-tokenizer without a list");
            for (const json &x : *list)
                if (!add_pre(x)) return false;
            return true;
        } else if (t == "WhitespaceSplit") {
            st.kind = hf_step::WS_SPLIT;
        } else if (t == "Metaspace") {
            st.kind = hf_step::METASPACE;
            st.replacement = svg_json::get_str(n, "replacement", kSpaceSymbol);
            if (st.replacement.empty()) PB_FAIL("tokenizer.json: Metaspace with an empty replacement");
            std::string scheme = svg_json::get_str(n, "prepend_scheme");
            if (scheme.empty()) scheme = svg_json::get_bool(n, "add_prefix_space", true) ? "always" : "never";
            st.prepend = scheme == "always" ? 0 : scheme == "first" ? 1 : 2;
            st.split = svg_json::get_bool(n, "split", true);
            if (st.prepend != 2) hf_prepend_ = true;
        } else {
            PB_FAIL("tokenizer.json: pre-tokenizer '%s' is not supported", t.c_str());
        }
        hf_pretok_.push_back(std::move(st));
        return true;
    };
    if (const json *n = svg_json::get(j, "pre_tokenizer"))
        if (!add_pre(*n)) return false;
    hf_fuse_unk_ = svg_json::get_bool(*model, "fuse_unk", true);
    return true;
}

bool svg_tokenizer::load_hf_json(const void *data, size_t size) {
    clear();
    if (!data || size == 0) PB_FAIL("tokenizer.json: empty");
    hf_mode_ = true;
    if (!hf_parse(data, size) || !finish_load()) {
        std::string err = svg_last_error();
        clear();
        svg_set_error("%s", err.c_str());
        return false;
    }
    // T5 conventions: </s> ends a sequence, <pad> pads
    auto special = [this](const char *s) {
        int id = piece_to_id(s);
        return (id >= 0 && id != unk_id_ && type_of(id) == PIECE_CONTROL) ? id : -1;
    };
    eos_id_ = special("</s>");
    bos_id_ = special("<s>");
    pad_id_ = special("<pad>");
    return true;
}

bool svg_tokenizer::load_hf_json_file(const char *path) {
    std::string buf;
    if (!read_file(path, &buf)) {
        clear();
        return false;
    }
    return load_hf_json(buf.data(), buf.size());
}

std::string svg_tokenizer::hf_normalize(std::string_view text) const {
    std::string cur(text), next;
    for (const hf_step &st : hf_normalizers_) {
        next.clear();
        if (st.kind == hf_step::PRECOMPILED) {
            // HF's Precompiled: a grapheme cluster under 6 bytes is replaced
            // whole by the rule of its shortest matching prefix; otherwise
            // (and when none matches) each character by its own rule.
            auto rule = [&](size_t at, size_t n, std::string *o) -> bool {
                size_t len = 0;
                int v = charsmap_match(cur.data() + at, n, &len, /*shortest=*/true);
                if (v < 0) return false;
                const char *str = charsmap_strings_.data() + v;
                o->append(str, strnlen(str, charsmap_strings_.size() - (size_t)v));
                return true;
            };
            for (size_t i = 0; i < cur.size();) {
                const size_t e = grapheme_end(cur, i);
                if (e - i < 6 && rule(i, e - i, &next)) {
                    i = e;
                    continue;
                }
                while (i < e) {
                    size_t mblen;
                    bool valid;
                    decode_utf8(cur.data() + i, e - i, &mblen, &valid);
                    if (!rule(i, mblen, &next)) {
                        if (valid) next.append(cur, i, mblen);
                        else next += kReplacementChar;
                    }
                    i += mblen;
                }
            }
        } else if (st.kind == hf_step::STRIP) {
            size_t b = 0, e = cur.size();
            if (st.left)
                while (b < e) {
                    size_t l;
                    if (!is_rust_ws(next_char(cur, b, &l))) break;
                    b += l;
                }
            if (st.right)
                while (e > b) {
                    size_t s = e - 1;  // start of the last character
                    while (s > b && is_trail((uint8_t)cur[s]) && e - s < 4) s--;
                    size_t l;
                    uint32_t c = next_char(std::string_view(cur).substr(0, e), s, &l);
                    if (s + l != e) c = 0xFFFD, s = e - 1;
                    if (!is_rust_ws(c)) break;
                    e = s;
                }
            next = cur.substr(b, e - b);
        } else if (st.kind == hf_step::REPLACE) {
            for (size_t i = 0; i < cur.size();) {
                if (cur.compare(i, st.pattern.size(), st.pattern) == 0) {
                    next += st.content;
                    i += st.pattern.size();
                } else {
                    next += cur[i++];
                }
            }
        } else if (st.kind == hf_step::COLLAPSE_SPACES) {
            for (size_t i = 0; i < cur.size();) {
                size_t e = i;
                while (e < cur.size() && cur[e] == ' ') e++;
                if (e - i >= 2) {
                    next += st.content;
                    i = e;
                } else if (e > i) {
                    next += ' ';
                    i = e;
                } else {
                    next += cur[i++];
                }
            }
        }
        cur.swap(next);
    }
    return cur;
}

void svg_tokenizer::hf_pretokenize(std::string_view normalized, bool at_start, std::vector<hf_word> *words) const {
    std::vector<hf_word> cur{{std::string(normalized), at_start}}, next;
    for (const hf_step &st : hf_pretok_) {
        next.clear();
        for (hf_word &w : cur) {
            if (w.text.empty()) continue;  // HF drops empty splits
            if (st.kind == hf_step::WS_SPLIT) {
                size_t i = 0, start = 0;
                bool in_word = false;
                while (i < w.text.size()) {
                    size_t l;
                    bool ws = is_rust_ws(next_char(w.text, i, &l));
                    if (ws && in_word) {
                        next.push_back({w.text.substr(start, i - start), w.at_start && start == 0});
                        in_word = false;
                    } else if (!ws && !in_word) {
                        start = i;
                        in_word = true;
                    }
                    i += l;
                }
                if (in_word) next.push_back({w.text.substr(start), w.at_start && start == 0});
            } else if (st.kind == hf_step::METASPACE) {
                std::string t;
                for (char ch : w.text) {
                    if (ch == ' ') t += st.replacement;
                    else t += ch;
                }
                if (!starts_with(t, st.replacement) && (st.prepend == 0 || (st.prepend == 1 && w.at_start)))
                    t.insert(0, st.replacement);
                if (!st.split) {
                    next.push_back({t, w.at_start});
                    continue;
                }
                // split before every replacement (MergedWithNext)
                size_t start = 0;
                for (size_t i = st.replacement.size() > 0 ? 1 : t.size(); i < t.size(); i++) {
                    if (t.compare(i, st.replacement.size(), st.replacement) == 0) {
                        next.push_back({t.substr(start, i - start), w.at_start && start == 0});
                        start = i;
                        i += st.replacement.size() - 1;
                    }
                }
                if (start < t.size()) next.push_back({t.substr(start), w.at_start && start == 0});
            }
        }
        cur.swap(next);
    }
    for (hf_word &w : cur)
        if (!w.text.empty()) words->push_back(std::move(w));
}

void svg_tokenizer::hf_encode(std::string_view text, std::vector<int32_t> *ids, std::vector<std::string> *pieces) const {
    std::vector<hf_word> words;
    std::vector<segment> segs;
    auto encode_plain = [&](std::string_view part, bool at_start) {
        if (part.empty()) return;
        words.clear();
        hf_pretokenize(hf_normalize(part), at_start, &words);
        for (const hf_word &w : words) {
            segs.clear();
            viterbi(w.text, &segs);
            emit(w.text, segs, hf_fuse_unk_, ids, pieces);
        }
    };
    size_t start = 0;
    for (size_t i = 0; i < text.size();) {
        size_t best = 0;
        int32_t best_id = -1;
        if (!hf_added_trie_.empty()) {
            int32_t node = 0;
            for (size_t k = i; k < text.size(); k++) {
                node = hf_added_trie_.child(node, (uint8_t)text[k]);
                if (node < 0) break;
                if (hf_added_trie_.nodes[(size_t)node].value >= 0) {
                    best = k + 1 - i;
                    best_id = hf_added_trie_.nodes[(size_t)node].value;
                }
            }
        }
        if (best) {
            encode_plain(text.substr(start, i - start), start == 0);
            ids->push_back(best_id);
            if (pieces) pieces->push_back(pieces_[(size_t)best_id].text);
            i += best;
            start = i;
        } else {
            i++;
        }
    }
    encode_plain(text.substr(start), start == 0);
}

// ========================================================= prompt cleaning

namespace {

// Python 3 html.entities.html5 (2231 entries): "name\tcodepoints(hex, comma-separated)\n", sorted by name.
const char k_html5_entities[] =
    "AElig\tc6\nAElig;\tc6\nAMP\t26\nAMP;\t26\nAacute\tc1\nAacute;\tc1\nAbreve;\t102\nAcirc\tc2\n"
    "Acirc;\tc2\nAcy;\t410\nAfr;\t1d504\nAgrave\tc0\nAgrave;\tc0\nAlpha;\t391\nAmacr;\t100\nAnd;\t2a53\n"
    "Aogon;\t104\nAopf;\t1d538\nApplyFunction;\t2061\nAring\tc5\nAring;\tc5\nAscr;\t1d49c\n"
    "Assign;\t2254\nAtilde\tc3\nAtilde;\tc3\nAuml\tc4\nAuml;\tc4\nBackslash;\t2216\nBarv;\t2ae7\n"
    "Barwed;\t2306\nBcy;\t411\nBecause;\t2235\nBernoullis;\t212c\nBeta;\t392\nBfr;\t1d505\nBopf;\t1d539\n"
    "Breve;\t2d8\nBscr;\t212c\nBumpeq;\t224e\nCHcy;\t427\nCOPY\ta9\nCOPY;\ta9\nCacute;\t106\nCap;\t22d2\n"
    "CapitalDifferentialD;\t2145\nCayleys;\t212d\nCcaron;\t10c\nCcedil\tc7\nCcedil;\tc7\nCcirc;\t108\n"
    "Cconint;\t2230\nCdot;\t10a\nCedilla;\tb8\nCenterDot;\tb7\nCfr;\t212d\nChi;\t3a7\nCircleDot;\t2299\n"
    "CircleMinus;\t2296\nCirclePlus;\t2295\nCircleTimes;\t2297\nClockwiseContourIntegral;\t2232\n"
    "CloseCurlyDoubleQuote;\t201d\nCloseCurlyQuote;\t2019\nColon;\t2237\nColone;\t2a74\n"
    "Congruent;\t2261\nConint;\t222f\nContourIntegral;\t222e\nCopf;\t2102\nCoproduct;\t2210\n"
    "CounterClockwiseContourIntegral;\t2233\nCross;\t2a2f\nCscr;\t1d49e\nCup;\t22d3\nCupCap;\t224d\n"
    "DD;\t2145\nDDotrahd;\t2911\nDJcy;\t402\nDScy;\t405\nDZcy;\t40f\nDagger;\t2021\nDarr;\t21a1\n"
    "Dashv;\t2ae4\nDcaron;\t10e\nDcy;\t414\nDel;\t2207\nDelta;\t394\nDfr;\t1d507\nDiacriticalAcute;\tb4\n"
    "DiacriticalDot;\t2d9\nDiacriticalDoubleAcute;\t2dd\nDiacriticalGrave;\t60\nDiacriticalTilde;\t2dc\n"
    "Diamond;\t22c4\nDifferentialD;\t2146\nDopf;\t1d53b\nDot;\ta8\nDotDot;\t20dc\nDotEqual;\t2250\n"
    "DoubleContourIntegral;\t222f\nDoubleDot;\ta8\nDoubleDownArrow;\t21d3\nDoubleLeftArrow;\t21d0\n"
    "DoubleLeftRightArrow;\t21d4\nDoubleLeftTee;\t2ae4\nDoubleLongLeftArrow;\t27f8\n"
    "DoubleLongLeftRightArrow;\t27fa\nDoubleLongRightArrow;\t27f9\nDoubleRightArrow;\t21d2\n"
    "DoubleRightTee;\t22a8\nDoubleUpArrow;\t21d1\nDoubleUpDownArrow;\t21d5\nDoubleVerticalBar;\t2225\n"
    "DownArrow;\t2193\nDownArrowBar;\t2913\nDownArrowUpArrow;\t21f5\nDownBreve;\t311\n"
    "DownLeftRightVector;\t2950\nDownLeftTeeVector;\t295e\nDownLeftVector;\t21bd\n"
    "DownLeftVectorBar;\t2956\nDownRightTeeVector;\t295f\nDownRightVector;\t21c1\n"
    "DownRightVectorBar;\t2957\nDownTee;\t22a4\nDownTeeArrow;\t21a7\nDownarrow;\t21d3\nDscr;\t1d49f\n"
    "Dstrok;\t110\nENG;\t14a\nETH\td0\nETH;\td0\nEacute\tc9\nEacute;\tc9\nEcaron;\t11a\nEcirc\tca\n"
    "Ecirc;\tca\nEcy;\t42d\nEdot;\t116\nEfr;\t1d508\nEgrave\tc8\nEgrave;\tc8\nElement;\t2208\n"
    "Emacr;\t112\nEmptySmallSquare;\t25fb\nEmptyVerySmallSquare;\t25ab\nEogon;\t118\nEopf;\t1d53c\n"
    "Epsilon;\t395\nEqual;\t2a75\nEqualTilde;\t2242\nEquilibrium;\t21cc\nEscr;\t2130\nEsim;\t2a73\n"
    "Eta;\t397\nEuml\tcb\nEuml;\tcb\nExists;\t2203\nExponentialE;\t2147\nFcy;\t424\nFfr;\t1d509\n"
    "FilledSmallSquare;\t25fc\nFilledVerySmallSquare;\t25aa\nFopf;\t1d53d\nForAll;\t2200\n"
    "Fouriertrf;\t2131\nFscr;\t2131\nGJcy;\t403\nGT\t3e\nGT;\t3e\nGamma;\t393\nGammad;\t3dc\n"
    "Gbreve;\t11e\nGcedil;\t122\nGcirc;\t11c\nGcy;\t413\nGdot;\t120\nGfr;\t1d50a\nGg;\t22d9\n"
    "Gopf;\t1d53e\nGreaterEqual;\t2265\nGreaterEqualLess;\t22db\nGreaterFullEqual;\t2267\n"
    "GreaterGreater;\t2aa2\nGreaterLess;\t2277\nGreaterSlantEqual;\t2a7e\nGreaterTilde;\t2273\n"
    "Gscr;\t1d4a2\nGt;\t226b\nHARDcy;\t42a\nHacek;\t2c7\nHat;\t5e\nHcirc;\t124\nHfr;\t210c\n"
    "HilbertSpace;\t210b\nHopf;\t210d\nHorizontalLine;\t2500\nHscr;\t210b\nHstrok;\t126\n"
    "HumpDownHump;\t224e\nHumpEqual;\t224f\nIEcy;\t415\nIJlig;\t132\nIOcy;\t401\nIacute\tcd\n"
    "Iacute;\tcd\nIcirc\tce\nIcirc;\tce\nIcy;\t418\nIdot;\t130\nIfr;\t2111\nIgrave\tcc\nIgrave;\tcc\n"
    "Im;\t2111\nImacr;\t12a\nImaginaryI;\t2148\nImplies;\t21d2\nInt;\t222c\nIntegral;\t222b\n"
    "Intersection;\t22c2\nInvisibleComma;\t2063\nInvisibleTimes;\t2062\nIogon;\t12e\nIopf;\t1d540\n"
    "Iota;\t399\nIscr;\t2110\nItilde;\t128\nIukcy;\t406\nIuml\tcf\nIuml;\tcf\nJcirc;\t134\nJcy;\t419\n"
    "Jfr;\t1d50d\nJopf;\t1d541\nJscr;\t1d4a5\nJsercy;\t408\nJukcy;\t404\nKHcy;\t425\nKJcy;\t40c\n"
    "Kappa;\t39a\nKcedil;\t136\nKcy;\t41a\nKfr;\t1d50e\nKopf;\t1d542\nKscr;\t1d4a6\nLJcy;\t409\nLT\t3c\n"
    "LT;\t3c\nLacute;\t139\nLambda;\t39b\nLang;\t27ea\nLaplacetrf;\t2112\nLarr;\t219e\nLcaron;\t13d\n"
    "Lcedil;\t13b\nLcy;\t41b\nLeftAngleBracket;\t27e8\nLeftArrow;\t2190\nLeftArrowBar;\t21e4\n"
    "LeftArrowRightArrow;\t21c6\nLeftCeiling;\t2308\nLeftDoubleBracket;\t27e6\nLeftDownTeeVector;\t2961\n"
    "LeftDownVector;\t21c3\nLeftDownVectorBar;\t2959\nLeftFloor;\t230a\nLeftRightArrow;\t2194\n"
    "LeftRightVector;\t294e\nLeftTee;\t22a3\nLeftTeeArrow;\t21a4\nLeftTeeVector;\t295a\n"
    "LeftTriangle;\t22b2\nLeftTriangleBar;\t29cf\nLeftTriangleEqual;\t22b4\nLeftUpDownVector;\t2951\n"
    "LeftUpTeeVector;\t2960\nLeftUpVector;\t21bf\nLeftUpVectorBar;\t2958\nLeftVector;\t21bc\n"
    "LeftVectorBar;\t2952\nLeftarrow;\t21d0\nLeftrightarrow;\t21d4\nLessEqualGreater;\t22da\n"
    "LessFullEqual;\t2266\nLessGreater;\t2276\nLessLess;\t2aa1\nLessSlantEqual;\t2a7d\nLessTilde;\t2272\n"
    "Lfr;\t1d50f\nLl;\t22d8\nLleftarrow;\t21da\nLmidot;\t13f\nLongLeftArrow;\t27f5\n"
    "LongLeftRightArrow;\t27f7\nLongRightArrow;\t27f6\nLongleftarrow;\t27f8\nLongleftrightarrow;\t27fa\n"
    "Longrightarrow;\t27f9\nLopf;\t1d543\nLowerLeftArrow;\t2199\nLowerRightArrow;\t2198\nLscr;\t2112\n"
    "Lsh;\t21b0\nLstrok;\t141\nLt;\t226a\nMap;\t2905\nMcy;\t41c\nMediumSpace;\t205f\nMellintrf;\t2133\n"
    "Mfr;\t1d510\nMinusPlus;\t2213\nMopf;\t1d544\nMscr;\t2133\nMu;\t39c\nNJcy;\t40a\nNacute;\t143\n"
    "Ncaron;\t147\nNcedil;\t145\nNcy;\t41d\nNegativeMediumSpace;\t200b\nNegativeThickSpace;\t200b\n"
    "NegativeThinSpace;\t200b\nNegativeVeryThinSpace;\t200b\nNestedGreaterGreater;\t226b\n"
    "NestedLessLess;\t226a\nNewLine;\ta\nNfr;\t1d511\nNoBreak;\t2060\nNonBreakingSpace;\ta0\n"
    "Nopf;\t2115\nNot;\t2aec\nNotCongruent;\t2262\nNotCupCap;\t226d\nNotDoubleVerticalBar;\t2226\n"
    "NotElement;\t2209\nNotEqual;\t2260\nNotEqualTilde;\t2242,338\nNotExists;\t2204\nNotGreater;\t226f\n"
    "NotGreaterEqual;\t2271\nNotGreaterFullEqual;\t2267,338\nNotGreaterGreater;\t226b,338\n"
    "NotGreaterLess;\t2279\nNotGreaterSlantEqual;\t2a7e,338\nNotGreaterTilde;\t2275\n"
    "NotHumpDownHump;\t224e,338\nNotHumpEqual;\t224f,338\nNotLeftTriangle;\t22ea\n"
    "NotLeftTriangleBar;\t29cf,338\nNotLeftTriangleEqual;\t22ec\nNotLess;\t226e\nNotLessEqual;\t2270\n"
    "NotLessGreater;\t2278\nNotLessLess;\t226a,338\nNotLessSlantEqual;\t2a7d,338\nNotLessTilde;\t2274\n"
    "NotNestedGreaterGreater;\t2aa2,338\nNotNestedLessLess;\t2aa1,338\nNotPrecedes;\t2280\n"
    "NotPrecedesEqual;\t2aaf,338\nNotPrecedesSlantEqual;\t22e0\nNotReverseElement;\t220c\n"
    "NotRightTriangle;\t22eb\nNotRightTriangleBar;\t29d0,338\nNotRightTriangleEqual;\t22ed\n"
    "NotSquareSubset;\t228f,338\nNotSquareSubsetEqual;\t22e2\nNotSquareSuperset;\t2290,338\n"
    "NotSquareSupersetEqual;\t22e3\nNotSubset;\t2282,20d2\nNotSubsetEqual;\t2288\nNotSucceeds;\t2281\n"
    "NotSucceedsEqual;\t2ab0,338\nNotSucceedsSlantEqual;\t22e1\nNotSucceedsTilde;\t227f,338\n"
    "NotSuperset;\t2283,20d2\nNotSupersetEqual;\t2289\nNotTilde;\t2241\nNotTildeEqual;\t2244\n"
    "NotTildeFullEqual;\t2247\nNotTildeTilde;\t2249\nNotVerticalBar;\t2224\nNscr;\t1d4a9\nNtilde\td1\n"
    "Ntilde;\td1\nNu;\t39d\nOElig;\t152\nOacute\td3\nOacute;\td3\nOcirc\td4\nOcirc;\td4\nOcy;\t41e\n"
    "Odblac;\t150\nOfr;\t1d512\nOgrave\td2\nOgrave;\td2\nOmacr;\t14c\nOmega;\t3a9\nOmicron;\t39f\n"
    "Oopf;\t1d546\nOpenCurlyDoubleQuote;\t201c\nOpenCurlyQuote;\t2018\nOr;\t2a54\nOscr;\t1d4aa\n"
    "Oslash\td8\nOslash;\td8\nOtilde\td5\nOtilde;\td5\nOtimes;\t2a37\nOuml\td6\nOuml;\td6\n"
    "OverBar;\t203e\nOverBrace;\t23de\nOverBracket;\t23b4\nOverParenthesis;\t23dc\nPartialD;\t2202\n"
    "Pcy;\t41f\nPfr;\t1d513\nPhi;\t3a6\nPi;\t3a0\nPlusMinus;\tb1\nPoincareplane;\t210c\nPopf;\t2119\n"
    "Pr;\t2abb\nPrecedes;\t227a\nPrecedesEqual;\t2aaf\nPrecedesSlantEqual;\t227c\nPrecedesTilde;\t227e\n"
    "Prime;\t2033\nProduct;\t220f\nProportion;\t2237\nProportional;\t221d\nPscr;\t1d4ab\nPsi;\t3a8\n"
    "QUOT\t22\nQUOT;\t22\nQfr;\t1d514\nQopf;\t211a\nQscr;\t1d4ac\nRBarr;\t2910\nREG\tae\nREG;\tae\n"
    "Racute;\t154\nRang;\t27eb\nRarr;\t21a0\nRarrtl;\t2916\nRcaron;\t158\nRcedil;\t156\nRcy;\t420\n"
    "Re;\t211c\nReverseElement;\t220b\nReverseEquilibrium;\t21cb\nReverseUpEquilibrium;\t296f\n"
    "Rfr;\t211c\nRho;\t3a1\nRightAngleBracket;\t27e9\nRightArrow;\t2192\nRightArrowBar;\t21e5\n"
    "RightArrowLeftArrow;\t21c4\nRightCeiling;\t2309\nRightDoubleBracket;\t27e7\n"
    "RightDownTeeVector;\t295d\nRightDownVector;\t21c2\nRightDownVectorBar;\t2955\nRightFloor;\t230b\n"
    "RightTee;\t22a2\nRightTeeArrow;\t21a6\nRightTeeVector;\t295b\nRightTriangle;\t22b3\n"
    "RightTriangleBar;\t29d0\nRightTriangleEqual;\t22b5\nRightUpDownVector;\t294f\n"
    "RightUpTeeVector;\t295c\nRightUpVector;\t21be\nRightUpVectorBar;\t2954\nRightVector;\t21c0\n"
    "RightVectorBar;\t2953\nRightarrow;\t21d2\nRopf;\t211d\nRoundImplies;\t2970\nRrightarrow;\t21db\n"
    "Rscr;\t211b\nRsh;\t21b1\nRuleDelayed;\t29f4\nSHCHcy;\t429\nSHcy;\t428\nSOFTcy;\t42c\nSacute;\t15a\n"
    "Sc;\t2abc\nScaron;\t160\nScedil;\t15e\nScirc;\t15c\nScy;\t421\nSfr;\t1d516\nShortDownArrow;\t2193\n"
    "ShortLeftArrow;\t2190\nShortRightArrow;\t2192\nShortUpArrow;\t2191\nSigma;\t3a3\n"
    "SmallCircle;\t2218\nSopf;\t1d54a\nSqrt;\t221a\nSquare;\t25a1\nSquareIntersection;\t2293\n"
    "SquareSubset;\t228f\nSquareSubsetEqual;\t2291\nSquareSuperset;\t2290\nSquareSupersetEqual;\t2292\n"
    "SquareUnion;\t2294\nSscr;\t1d4ae\nStar;\t22c6\nSub;\t22d0\nSubset;\t22d0\nSubsetEqual;\t2286\n"
    "Succeeds;\t227b\nSucceedsEqual;\t2ab0\nSucceedsSlantEqual;\t227d\nSucceedsTilde;\t227f\n"
    "SuchThat;\t220b\nSum;\t2211\nSup;\t22d1\nSuperset;\t2283\nSupersetEqual;\t2287\nSupset;\t22d1\n"
    "THORN\tde\nTHORN;\tde\nTRADE;\t2122\nTSHcy;\t40b\nTScy;\t426\nTab;\t9\nTau;\t3a4\nTcaron;\t164\n"
    "Tcedil;\t162\nTcy;\t422\nTfr;\t1d517\nTherefore;\t2234\nTheta;\t398\nThickSpace;\t205f,200a\n"
    "ThinSpace;\t2009\nTilde;\t223c\nTildeEqual;\t2243\nTildeFullEqual;\t2245\nTildeTilde;\t2248\n"
    "Topf;\t1d54b\nTripleDot;\t20db\nTscr;\t1d4af\nTstrok;\t166\nUacute\tda\nUacute;\tda\nUarr;\t219f\n"
    "Uarrocir;\t2949\nUbrcy;\t40e\nUbreve;\t16c\nUcirc\tdb\nUcirc;\tdb\nUcy;\t423\nUdblac;\t170\n"
    "Ufr;\t1d518\nUgrave\td9\nUgrave;\td9\nUmacr;\t16a\nUnderBar;\t5f\nUnderBrace;\t23df\n"
    "UnderBracket;\t23b5\nUnderParenthesis;\t23dd\nUnion;\t22c3\nUnionPlus;\t228e\nUogon;\t172\n"
    "Uopf;\t1d54c\nUpArrow;\t2191\nUpArrowBar;\t2912\nUpArrowDownArrow;\t21c5\nUpDownArrow;\t2195\n"
    "UpEquilibrium;\t296e\nUpTee;\t22a5\nUpTeeArrow;\t21a5\nUparrow;\t21d1\nUpdownarrow;\t21d5\n"
    "UpperLeftArrow;\t2196\nUpperRightArrow;\t2197\nUpsi;\t3d2\nUpsilon;\t3a5\nUring;\t16e\n"
    "Uscr;\t1d4b0\nUtilde;\t168\nUuml\tdc\nUuml;\tdc\nVDash;\t22ab\nVbar;\t2aeb\nVcy;\t412\n"
    "Vdash;\t22a9\nVdashl;\t2ae6\nVee;\t22c1\nVerbar;\t2016\nVert;\t2016\nVerticalBar;\t2223\n"
    "VerticalLine;\t7c\nVerticalSeparator;\t2758\nVerticalTilde;\t2240\nVeryThinSpace;\t200a\n"
    "Vfr;\t1d519\nVopf;\t1d54d\nVscr;\t1d4b1\nVvdash;\t22aa\nWcirc;\t174\nWedge;\t22c0\nWfr;\t1d51a\n"
    "Wopf;\t1d54e\nWscr;\t1d4b2\nXfr;\t1d51b\nXi;\t39e\nXopf;\t1d54f\nXscr;\t1d4b3\nYAcy;\t42f\n"
    "YIcy;\t407\nYUcy;\t42e\nYacute\tdd\nYacute;\tdd\nYcirc;\t176\nYcy;\t42b\nYfr;\t1d51c\nYopf;\t1d550\n"
    "Yscr;\t1d4b4\nYuml;\t178\nZHcy;\t416\nZacute;\t179\nZcaron;\t17d\nZcy;\t417\nZdot;\t17b\n"
    "ZeroWidthSpace;\t200b\nZeta;\t396\nZfr;\t2128\nZopf;\t2124\nZscr;\t1d4b5\naacute\te1\naacute;\te1\n"
    "abreve;\t103\nac;\t223e\nacE;\t223e,333\nacd;\t223f\nacirc\te2\nacirc;\te2\nacute\tb4\nacute;\tb4\n"
    "acy;\t430\naelig\te6\naelig;\te6\naf;\t2061\nafr;\t1d51e\nagrave\te0\nagrave;\te0\nalefsym;\t2135\n"
    "aleph;\t2135\nalpha;\t3b1\namacr;\t101\namalg;\t2a3f\namp\t26\namp;\t26\nand;\t2227\nandand;\t2a55\n"
    "andd;\t2a5c\nandslope;\t2a58\nandv;\t2a5a\nang;\t2220\nange;\t29a4\nangle;\t2220\nangmsd;\t2221\n"
    "angmsdaa;\t29a8\nangmsdab;\t29a9\nangmsdac;\t29aa\nangmsdad;\t29ab\nangmsdae;\t29ac\n"
    "angmsdaf;\t29ad\nangmsdag;\t29ae\nangmsdah;\t29af\nangrt;\t221f\nangrtvb;\t22be\nangrtvbd;\t299d\n"
    "angsph;\t2222\nangst;\tc5\nangzarr;\t237c\naogon;\t105\naopf;\t1d552\nap;\t2248\napE;\t2a70\n"
    "apacir;\t2a6f\nape;\t224a\napid;\t224b\napos;\t27\napprox;\t2248\napproxeq;\t224a\naring\te5\n"
    "aring;\te5\nascr;\t1d4b6\nast;\t2a\nasymp;\t2248\nasympeq;\t224d\natilde\te3\natilde;\te3\n"
    "auml\te4\nauml;\te4\nawconint;\t2233\nawint;\t2a11\nbNot;\t2aed\nbackcong;\t224c\n"
    "backepsilon;\t3f6\nbackprime;\t2035\nbacksim;\t223d\nbacksimeq;\t22cd\nbarvee;\t22bd\n"
    "barwed;\t2305\nbarwedge;\t2305\nbbrk;\t23b5\nbbrktbrk;\t23b6\nbcong;\t224c\nbcy;\t431\n"
    "bdquo;\t201e\nbecaus;\t2235\nbecause;\t2235\nbemptyv;\t29b0\nbepsi;\t3f6\nbernou;\t212c\n"
    "beta;\t3b2\nbeth;\t2136\nbetween;\t226c\nbfr;\t1d51f\nbigcap;\t22c2\nbigcirc;\t25ef\nbigcup;\t22c3\n"
    "bigodot;\t2a00\nbigoplus;\t2a01\nbigotimes;\t2a02\nbigsqcup;\t2a06\nbigstar;\t2605\n"
    "bigtriangledown;\t25bd\nbigtriangleup;\t25b3\nbiguplus;\t2a04\nbigvee;\t22c1\nbigwedge;\t22c0\n"
    "bkarow;\t290d\nblacklozenge;\t29eb\nblacksquare;\t25aa\nblacktriangle;\t25b4\n"
    "blacktriangledown;\t25be\nblacktriangleleft;\t25c2\nblacktriangleright;\t25b8\nblank;\t2423\n"
    "blk12;\t2592\nblk14;\t2591\nblk34;\t2593\nblock;\t2588\nbne;\t3d,20e5\nbnequiv;\t2261,20e5\n"
    "bnot;\t2310\nbopf;\t1d553\nbot;\t22a5\nbottom;\t22a5\nbowtie;\t22c8\nboxDL;\t2557\nboxDR;\t2554\n"
    "boxDl;\t2556\nboxDr;\t2553\nboxH;\t2550\nboxHD;\t2566\nboxHU;\t2569\nboxHd;\t2564\nboxHu;\t2567\n"
    "boxUL;\t255d\nboxUR;\t255a\nboxUl;\t255c\nboxUr;\t2559\nboxV;\t2551\nboxVH;\t256c\nboxVL;\t2563\n"
    "boxVR;\t2560\nboxVh;\t256b\nboxVl;\t2562\nboxVr;\t255f\nboxbox;\t29c9\nboxdL;\t2555\nboxdR;\t2552\n"
    "boxdl;\t2510\nboxdr;\t250c\nboxh;\t2500\nboxhD;\t2565\nboxhU;\t2568\nboxhd;\t252c\nboxhu;\t2534\n"
    "boxminus;\t229f\nboxplus;\t229e\nboxtimes;\t22a0\nboxuL;\t255b\nboxuR;\t2558\nboxul;\t2518\n"
    "boxur;\t2514\nboxv;\t2502\nboxvH;\t256a\nboxvL;\t2561\nboxvR;\t255e\nboxvh;\t253c\nboxvl;\t2524\n"
    "boxvr;\t251c\nbprime;\t2035\nbreve;\t2d8\nbrvbar\ta6\nbrvbar;\ta6\nbscr;\t1d4b7\nbsemi;\t204f\n"
    "bsim;\t223d\nbsime;\t22cd\nbsol;\t5c\nbsolb;\t29c5\nbsolhsub;\t27c8\nbull;\t2022\nbullet;\t2022\n"
    "bump;\t224e\nbumpE;\t2aae\nbumpe;\t224f\nbumpeq;\t224f\ncacute;\t107\ncap;\t2229\ncapand;\t2a44\n"
    "capbrcup;\t2a49\ncapcap;\t2a4b\ncapcup;\t2a47\ncapdot;\t2a40\ncaps;\t2229,fe00\ncaret;\t2041\n"
    "caron;\t2c7\nccaps;\t2a4d\nccaron;\t10d\nccedil\te7\nccedil;\te7\nccirc;\t109\nccups;\t2a4c\n"
    "ccupssm;\t2a50\ncdot;\t10b\ncedil\tb8\ncedil;\tb8\ncemptyv;\t29b2\ncent\ta2\ncent;\ta2\n"
    "centerdot;\tb7\ncfr;\t1d520\nchcy;\t447\ncheck;\t2713\ncheckmark;\t2713\nchi;\t3c7\ncir;\t25cb\n"
    "cirE;\t29c3\ncirc;\t2c6\ncirceq;\t2257\ncirclearrowleft;\t21ba\ncirclearrowright;\t21bb\n"
    "circledR;\tae\ncircledS;\t24c8\ncircledast;\t229b\ncircledcirc;\t229a\ncircleddash;\t229d\n"
    "cire;\t2257\ncirfnint;\t2a10\ncirmid;\t2aef\ncirscir;\t29c2\nclubs;\t2663\nclubsuit;\t2663\n"
    "colon;\t3a\ncolone;\t2254\ncoloneq;\t2254\ncomma;\t2c\ncommat;\t40\ncomp;\t2201\ncompfn;\t2218\n"
    "complement;\t2201\ncomplexes;\t2102\ncong;\t2245\ncongdot;\t2a6d\nconint;\t222e\ncopf;\t1d554\n"
    "coprod;\t2210\ncopy\ta9\ncopy;\ta9\ncopysr;\t2117\ncrarr;\t21b5\ncross;\t2717\ncscr;\t1d4b8\n"
    "csub;\t2acf\ncsube;\t2ad1\ncsup;\t2ad0\ncsupe;\t2ad2\nctdot;\t22ef\ncudarrl;\t2938\ncudarrr;\t2935\n"
    "cuepr;\t22de\ncuesc;\t22df\ncularr;\t21b6\ncularrp;\t293d\ncup;\t222a\ncupbrcap;\t2a48\n"
    "cupcap;\t2a46\ncupcup;\t2a4a\ncupdot;\t228d\ncupor;\t2a45\ncups;\t222a,fe00\ncurarr;\t21b7\n"
    "curarrm;\t293c\ncurlyeqprec;\t22de\ncurlyeqsucc;\t22df\ncurlyvee;\t22ce\ncurlywedge;\t22cf\n"
    "curren\ta4\ncurren;\ta4\ncurvearrowleft;\t21b6\ncurvearrowright;\t21b7\ncuvee;\t22ce\ncuwed;\t22cf\n"
    "cwconint;\t2232\ncwint;\t2231\ncylcty;\t232d\ndArr;\t21d3\ndHar;\t2965\ndagger;\t2020\n"
    "daleth;\t2138\ndarr;\t2193\ndash;\t2010\ndashv;\t22a3\ndbkarow;\t290f\ndblac;\t2dd\ndcaron;\t10f\n"
    "dcy;\t434\ndd;\t2146\nddagger;\t2021\nddarr;\t21ca\nddotseq;\t2a77\ndeg\tb0\ndeg;\tb0\ndelta;\t3b4\n"
    "demptyv;\t29b1\ndfisht;\t297f\ndfr;\t1d521\ndharl;\t21c3\ndharr;\t21c2\ndiam;\t22c4\n"
    "diamond;\t22c4\ndiamondsuit;\t2666\ndiams;\t2666\ndie;\ta8\ndigamma;\t3dd\ndisin;\t22f2\ndiv;\tf7\n"
    "divide\tf7\ndivide;\tf7\ndivideontimes;\t22c7\ndivonx;\t22c7\ndjcy;\t452\ndlcorn;\t231e\n"
    "dlcrop;\t230d\ndollar;\t24\ndopf;\t1d555\ndot;\t2d9\ndoteq;\t2250\ndoteqdot;\t2251\n"
    "dotminus;\t2238\ndotplus;\t2214\ndotsquare;\t22a1\ndoublebarwedge;\t2306\ndownarrow;\t2193\n"
    "downdownarrows;\t21ca\ndownharpoonleft;\t21c3\ndownharpoonright;\t21c2\ndrbkarow;\t2910\n"
    "drcorn;\t231f\ndrcrop;\t230c\ndscr;\t1d4b9\ndscy;\t455\ndsol;\t29f6\ndstrok;\t111\ndtdot;\t22f1\n"
    "dtri;\t25bf\ndtrif;\t25be\nduarr;\t21f5\nduhar;\t296f\ndwangle;\t29a6\ndzcy;\t45f\ndzigrarr;\t27ff\n"
    "eDDot;\t2a77\neDot;\t2251\neacute\te9\neacute;\te9\neaster;\t2a6e\necaron;\t11b\necir;\t2256\n"
    "ecirc\tea\necirc;\tea\necolon;\t2255\necy;\t44d\nedot;\t117\nee;\t2147\nefDot;\t2252\nefr;\t1d522\n"
    "eg;\t2a9a\negrave\te8\negrave;\te8\negs;\t2a96\negsdot;\t2a98\nel;\t2a99\nelinters;\t23e7\n"
    "ell;\t2113\nels;\t2a95\nelsdot;\t2a97\nemacr;\t113\nempty;\t2205\nemptyset;\t2205\nemptyv;\t2205\n"
    "emsp13;\t2004\nemsp14;\t2005\nemsp;\t2003\neng;\t14b\nensp;\t2002\neogon;\t119\neopf;\t1d556\n"
    "epar;\t22d5\neparsl;\t29e3\neplus;\t2a71\nepsi;\t3b5\nepsilon;\t3b5\nepsiv;\t3f5\neqcirc;\t2256\n"
    "eqcolon;\t2255\neqsim;\t2242\neqslantgtr;\t2a96\neqslantless;\t2a95\nequals;\t3d\nequest;\t225f\n"
    "equiv;\t2261\nequivDD;\t2a78\neqvparsl;\t29e5\nerDot;\t2253\nerarr;\t2971\nescr;\t212f\n"
    "esdot;\t2250\nesim;\t2242\neta;\t3b7\neth\tf0\neth;\tf0\neuml\teb\neuml;\teb\neuro;\t20ac\n"
    "excl;\t21\nexist;\t2203\nexpectation;\t2130\nexponentiale;\t2147\nfallingdotseq;\t2252\nfcy;\t444\n"
    "female;\t2640\nffilig;\tfb03\nfflig;\tfb00\nffllig;\tfb04\nffr;\t1d523\nfilig;\tfb01\n"
    "fjlig;\t66,6a\nflat;\t266d\nfllig;\tfb02\nfltns;\t25b1\nfnof;\t192\nfopf;\t1d557\nforall;\t2200\n"
    "fork;\t22d4\nforkv;\t2ad9\nfpartint;\t2a0d\nfrac12\tbd\nfrac12;\tbd\nfrac13;\t2153\nfrac14\tbc\n"
    "frac14;\tbc\nfrac15;\t2155\nfrac16;\t2159\nfrac18;\t215b\nfrac23;\t2154\nfrac25;\t2156\nfrac34\tbe\n"
    "frac34;\tbe\nfrac35;\t2157\nfrac38;\t215c\nfrac45;\t2158\nfrac56;\t215a\nfrac58;\t215d\n"
    "frac78;\t215e\nfrasl;\t2044\nfrown;\t2322\nfscr;\t1d4bb\ngE;\t2267\ngEl;\t2a8c\ngacute;\t1f5\n"
    "gamma;\t3b3\ngammad;\t3dd\ngap;\t2a86\ngbreve;\t11f\ngcirc;\t11d\ngcy;\t433\ngdot;\t121\nge;\t2265\n"
    "gel;\t22db\ngeq;\t2265\ngeqq;\t2267\ngeqslant;\t2a7e\nges;\t2a7e\ngescc;\t2aa9\ngesdot;\t2a80\n"
    "gesdoto;\t2a82\ngesdotol;\t2a84\ngesl;\t22db,fe00\ngesles;\t2a94\ngfr;\t1d524\ngg;\t226b\n"
    "ggg;\t22d9\ngimel;\t2137\ngjcy;\t453\ngl;\t2277\nglE;\t2a92\ngla;\t2aa5\nglj;\t2aa4\ngnE;\t2269\n"
    "gnap;\t2a8a\ngnapprox;\t2a8a\ngne;\t2a88\ngneq;\t2a88\ngneqq;\t2269\ngnsim;\t22e7\ngopf;\t1d558\n"
    "grave;\t60\ngscr;\t210a\ngsim;\t2273\ngsime;\t2a8e\ngsiml;\t2a90\ngt\t3e\ngt;\t3e\ngtcc;\t2aa7\n"
    "gtcir;\t2a7a\ngtdot;\t22d7\ngtlPar;\t2995\ngtquest;\t2a7c\ngtrapprox;\t2a86\ngtrarr;\t2978\n"
    "gtrdot;\t22d7\ngtreqless;\t22db\ngtreqqless;\t2a8c\ngtrless;\t2277\ngtrsim;\t2273\n"
    "gvertneqq;\t2269,fe00\ngvnE;\t2269,fe00\nhArr;\t21d4\nhairsp;\t200a\nhalf;\tbd\nhamilt;\t210b\n"
    "hardcy;\t44a\nharr;\t2194\nharrcir;\t2948\nharrw;\t21ad\nhbar;\t210f\nhcirc;\t125\nhearts;\t2665\n"
    "heartsuit;\t2665\nhellip;\t2026\nhercon;\t22b9\nhfr;\t1d525\nhksearow;\t2925\nhkswarow;\t2926\n"
    "hoarr;\t21ff\nhomtht;\t223b\nhookleftarrow;\t21a9\nhookrightarrow;\t21aa\nhopf;\t1d559\n"
    "horbar;\t2015\nhscr;\t1d4bd\nhslash;\t210f\nhstrok;\t127\nhybull;\t2043\nhyphen;\t2010\niacute\ted\n"
    "iacute;\ted\nic;\t2063\nicirc\tee\nicirc;\tee\nicy;\t438\niecy;\t435\niexcl\ta1\niexcl;\ta1\n"
    "iff;\t21d4\nifr;\t1d526\nigrave\tec\nigrave;\tec\nii;\t2148\niiiint;\t2a0c\niiint;\t222d\n"
    "iinfin;\t29dc\niiota;\t2129\nijlig;\t133\nimacr;\t12b\nimage;\t2111\nimagline;\t2110\n"
    "imagpart;\t2111\nimath;\t131\nimof;\t22b7\nimped;\t1b5\nin;\t2208\nincare;\t2105\ninfin;\t221e\n"
    "infintie;\t29dd\ninodot;\t131\nint;\t222b\nintcal;\t22ba\nintegers;\t2124\nintercal;\t22ba\n"
    "intlarhk;\t2a17\nintprod;\t2a3c\niocy;\t451\niogon;\t12f\niopf;\t1d55a\niota;\t3b9\niprod;\t2a3c\n"
    "iquest\tbf\niquest;\tbf\niscr;\t1d4be\nisin;\t2208\nisinE;\t22f9\nisindot;\t22f5\nisins;\t22f4\n"
    "isinsv;\t22f3\nisinv;\t2208\nit;\t2062\nitilde;\t129\niukcy;\t456\niuml\tef\niuml;\tef\n"
    "jcirc;\t135\njcy;\t439\njfr;\t1d527\njmath;\t237\njopf;\t1d55b\njscr;\t1d4bf\njsercy;\t458\n"
    "jukcy;\t454\nkappa;\t3ba\nkappav;\t3f0\nkcedil;\t137\nkcy;\t43a\nkfr;\t1d528\nkgreen;\t138\n"
    "khcy;\t445\nkjcy;\t45c\nkopf;\t1d55c\nkscr;\t1d4c0\nlAarr;\t21da\nlArr;\t21d0\nlAtail;\t291b\n"
    "lBarr;\t290e\nlE;\t2266\nlEg;\t2a8b\nlHar;\t2962\nlacute;\t13a\nlaemptyv;\t29b4\nlagran;\t2112\n"
    "lambda;\t3bb\nlang;\t27e8\nlangd;\t2991\nlangle;\t27e8\nlap;\t2a85\nlaquo\tab\nlaquo;\tab\n"
    "larr;\t2190\nlarrb;\t21e4\nlarrbfs;\t291f\nlarrfs;\t291d\nlarrhk;\t21a9\nlarrlp;\t21ab\n"
    "larrpl;\t2939\nlarrsim;\t2973\nlarrtl;\t21a2\nlat;\t2aab\nlatail;\t2919\nlate;\t2aad\n"
    "lates;\t2aad,fe00\nlbarr;\t290c\nlbbrk;\t2772\nlbrace;\t7b\nlbrack;\t5b\nlbrke;\t298b\n"
    "lbrksld;\t298f\nlbrkslu;\t298d\nlcaron;\t13e\nlcedil;\t13c\nlceil;\t2308\nlcub;\t7b\nlcy;\t43b\n"
    "ldca;\t2936\nldquo;\t201c\nldquor;\t201e\nldrdhar;\t2967\nldrushar;\t294b\nldsh;\t21b2\nle;\t2264\n"
    "leftarrow;\t2190\nleftarrowtail;\t21a2\nleftharpoondown;\t21bd\nleftharpoonup;\t21bc\n"
    "leftleftarrows;\t21c7\nleftrightarrow;\t2194\nleftrightarrows;\t21c6\nleftrightharpoons;\t21cb\n"
    "leftrightsquigarrow;\t21ad\nleftthreetimes;\t22cb\nleg;\t22da\nleq;\t2264\nleqq;\t2266\n"
    "leqslant;\t2a7d\nles;\t2a7d\nlescc;\t2aa8\nlesdot;\t2a7f\nlesdoto;\t2a81\nlesdotor;\t2a83\n"
    "lesg;\t22da,fe00\nlesges;\t2a93\nlessapprox;\t2a85\nlessdot;\t22d6\nlesseqgtr;\t22da\n"
    "lesseqqgtr;\t2a8b\nlessgtr;\t2276\nlesssim;\t2272\nlfisht;\t297c\nlfloor;\t230a\nlfr;\t1d529\n"
    "lg;\t2276\nlgE;\t2a91\nlhard;\t21bd\nlharu;\t21bc\nlharul;\t296a\nlhblk;\t2584\nljcy;\t459\n"
    "ll;\t226a\nllarr;\t21c7\nllcorner;\t231e\nllhard;\t296b\nlltri;\t25fa\nlmidot;\t140\nlmoust;\t23b0\n"
    "lmoustache;\t23b0\nlnE;\t2268\nlnap;\t2a89\nlnapprox;\t2a89\nlne;\t2a87\nlneq;\t2a87\nlneqq;\t2268\n"
    "lnsim;\t22e6\nloang;\t27ec\nloarr;\t21fd\nlobrk;\t27e6\nlongleftarrow;\t27f5\n"
    "longleftrightarrow;\t27f7\nlongmapsto;\t27fc\nlongrightarrow;\t27f6\nlooparrowleft;\t21ab\n"
    "looparrowright;\t21ac\nlopar;\t2985\nlopf;\t1d55d\nloplus;\t2a2d\nlotimes;\t2a34\nlowast;\t2217\n"
    "lowbar;\t5f\nloz;\t25ca\nlozenge;\t25ca\nlozf;\t29eb\nlpar;\t28\nlparlt;\t2993\nlrarr;\t21c6\n"
    "lrcorner;\t231f\nlrhar;\t21cb\nlrhard;\t296d\nlrm;\t200e\nlrtri;\t22bf\nlsaquo;\t2039\n"
    "lscr;\t1d4c1\nlsh;\t21b0\nlsim;\t2272\nlsime;\t2a8d\nlsimg;\t2a8f\nlsqb;\t5b\nlsquo;\t2018\n"
    "lsquor;\t201a\nlstrok;\t142\nlt\t3c\nlt;\t3c\nltcc;\t2aa6\nltcir;\t2a79\nltdot;\t22d6\n"
    "lthree;\t22cb\nltimes;\t22c9\nltlarr;\t2976\nltquest;\t2a7b\nltrPar;\t2996\nltri;\t25c3\n"
    "ltrie;\t22b4\nltrif;\t25c2\nlurdshar;\t294a\nluruhar;\t2966\nlvertneqq;\t2268,fe00\n"
    "lvnE;\t2268,fe00\nmDDot;\t223a\nmacr\taf\nmacr;\taf\nmale;\t2642\nmalt;\t2720\nmaltese;\t2720\n"
    "map;\t21a6\nmapsto;\t21a6\nmapstodown;\t21a7\nmapstoleft;\t21a4\nmapstoup;\t21a5\nmarker;\t25ae\n"
    "mcomma;\t2a29\nmcy;\t43c\nmdash;\t2014\nmeasuredangle;\t2221\nmfr;\t1d52a\nmho;\t2127\nmicro\tb5\n"
    "micro;\tb5\nmid;\t2223\nmidast;\t2a\nmidcir;\t2af0\nmiddot\tb7\nmiddot;\tb7\nminus;\t2212\n"
    "minusb;\t229f\nminusd;\t2238\nminusdu;\t2a2a\nmlcp;\t2adb\nmldr;\t2026\nmnplus;\t2213\n"
    "models;\t22a7\nmopf;\t1d55e\nmp;\t2213\nmscr;\t1d4c2\nmstpos;\t223e\nmu;\t3bc\nmultimap;\t22b8\n"
    "mumap;\t22b8\nnGg;\t22d9,338\nnGt;\t226b,20d2\nnGtv;\t226b,338\nnLeftarrow;\t21cd\n"
    "nLeftrightarrow;\t21ce\nnLl;\t22d8,338\nnLt;\t226a,20d2\nnLtv;\t226a,338\nnRightarrow;\t21cf\n"
    "nVDash;\t22af\nnVdash;\t22ae\nnabla;\t2207\nnacute;\t144\nnang;\t2220,20d2\nnap;\t2249\n"
    "napE;\t2a70,338\nnapid;\t224b,338\nnapos;\t149\nnapprox;\t2249\nnatur;\t266e\nnatural;\t266e\n"
    "naturals;\t2115\nnbsp\ta0\nnbsp;\ta0\nnbump;\t224e,338\nnbumpe;\t224f,338\nncap;\t2a43\n"
    "ncaron;\t148\nncedil;\t146\nncong;\t2247\nncongdot;\t2a6d,338\nncup;\t2a42\nncy;\t43d\n"
    "ndash;\t2013\nne;\t2260\nneArr;\t21d7\nnearhk;\t2924\nnearr;\t2197\nnearrow;\t2197\n"
    "nedot;\t2250,338\nnequiv;\t2262\nnesear;\t2928\nnesim;\t2242,338\nnexist;\t2204\nnexists;\t2204\n"
    "nfr;\t1d52b\nngE;\t2267,338\nnge;\t2271\nngeq;\t2271\nngeqq;\t2267,338\nngeqslant;\t2a7e,338\n"
    "nges;\t2a7e,338\nngsim;\t2275\nngt;\t226f\nngtr;\t226f\nnhArr;\t21ce\nnharr;\t21ae\nnhpar;\t2af2\n"
    "ni;\t220b\nnis;\t22fc\nnisd;\t22fa\nniv;\t220b\nnjcy;\t45a\nnlArr;\t21cd\nnlE;\t2266,338\n"
    "nlarr;\t219a\nnldr;\t2025\nnle;\t2270\nnleftarrow;\t219a\nnleftrightarrow;\t21ae\nnleq;\t2270\n"
    "nleqq;\t2266,338\nnleqslant;\t2a7d,338\nnles;\t2a7d,338\nnless;\t226e\nnlsim;\t2274\nnlt;\t226e\n"
    "nltri;\t22ea\nnltrie;\t22ec\nnmid;\t2224\nnopf;\t1d55f\nnot\tac\nnot;\tac\nnotin;\t2209\n"
    "notinE;\t22f9,338\nnotindot;\t22f5,338\nnotinva;\t2209\nnotinvb;\t22f7\nnotinvc;\t22f6\n"
    "notni;\t220c\nnotniva;\t220c\nnotnivb;\t22fe\nnotnivc;\t22fd\nnpar;\t2226\nnparallel;\t2226\n"
    "nparsl;\t2afd,20e5\nnpart;\t2202,338\nnpolint;\t2a14\nnpr;\t2280\nnprcue;\t22e0\nnpre;\t2aaf,338\n"
    "nprec;\t2280\nnpreceq;\t2aaf,338\nnrArr;\t21cf\nnrarr;\t219b\nnrarrc;\t2933,338\nnrarrw;\t219d,338\n"
    "nrightarrow;\t219b\nnrtri;\t22eb\nnrtrie;\t22ed\nnsc;\t2281\nnsccue;\t22e1\nnsce;\t2ab0,338\n"
    "nscr;\t1d4c3\nnshortmid;\t2224\nnshortparallel;\t2226\nnsim;\t2241\nnsime;\t2244\nnsimeq;\t2244\n"
    "nsmid;\t2224\nnspar;\t2226\nnsqsube;\t22e2\nnsqsupe;\t22e3\nnsub;\t2284\nnsubE;\t2ac5,338\n"
    "nsube;\t2288\nnsubset;\t2282,20d2\nnsubseteq;\t2288\nnsubseteqq;\t2ac5,338\nnsucc;\t2281\n"
    "nsucceq;\t2ab0,338\nnsup;\t2285\nnsupE;\t2ac6,338\nnsupe;\t2289\nnsupset;\t2283,20d2\n"
    "nsupseteq;\t2289\nnsupseteqq;\t2ac6,338\nntgl;\t2279\nntilde\tf1\nntilde;\tf1\nntlg;\t2278\n"
    "ntriangleleft;\t22ea\nntrianglelefteq;\t22ec\nntriangleright;\t22eb\nntrianglerighteq;\t22ed\n"
    "nu;\t3bd\nnum;\t23\nnumero;\t2116\nnumsp;\t2007\nnvDash;\t22ad\nnvHarr;\t2904\nnvap;\t224d,20d2\n"
    "nvdash;\t22ac\nnvge;\t2265,20d2\nnvgt;\t3e,20d2\nnvinfin;\t29de\nnvlArr;\t2902\nnvle;\t2264,20d2\n"
    "nvlt;\t3c,20d2\nnvltrie;\t22b4,20d2\nnvrArr;\t2903\nnvrtrie;\t22b5,20d2\nnvsim;\t223c,20d2\n"
    "nwArr;\t21d6\nnwarhk;\t2923\nnwarr;\t2196\nnwarrow;\t2196\nnwnear;\t2927\noS;\t24c8\noacute\tf3\n"
    "oacute;\tf3\noast;\t229b\nocir;\t229a\nocirc\tf4\nocirc;\tf4\nocy;\t43e\nodash;\t229d\n"
    "odblac;\t151\nodiv;\t2a38\nodot;\t2299\nodsold;\t29bc\noelig;\t153\nofcir;\t29bf\nofr;\t1d52c\n"
    "ogon;\t2db\nograve\tf2\nograve;\tf2\nogt;\t29c1\nohbar;\t29b5\nohm;\t3a9\noint;\t222e\n"
    "olarr;\t21ba\nolcir;\t29be\nolcross;\t29bb\noline;\t203e\nolt;\t29c0\nomacr;\t14d\nomega;\t3c9\n"
    "omicron;\t3bf\nomid;\t29b6\nominus;\t2296\noopf;\t1d560\nopar;\t29b7\noperp;\t29b9\noplus;\t2295\n"
    "or;\t2228\norarr;\t21bb\nord;\t2a5d\norder;\t2134\norderof;\t2134\nordf\taa\nordf;\taa\nordm\tba\n"
    "ordm;\tba\norigof;\t22b6\noror;\t2a56\norslope;\t2a57\norv;\t2a5b\noscr;\t2134\noslash\tf8\n"
    "oslash;\tf8\nosol;\t2298\notilde\tf5\notilde;\tf5\notimes;\t2297\notimesas;\t2a36\nouml\tf6\n"
    "ouml;\tf6\novbar;\t233d\npar;\t2225\npara\tb6\npara;\tb6\nparallel;\t2225\nparsim;\t2af3\n"
    "parsl;\t2afd\npart;\t2202\npcy;\t43f\npercnt;\t25\nperiod;\t2e\npermil;\t2030\nperp;\t22a5\n"
    "pertenk;\t2031\npfr;\t1d52d\nphi;\t3c6\nphiv;\t3d5\nphmmat;\t2133\nphone;\t260e\npi;\t3c0\n"
    "pitchfork;\t22d4\npiv;\t3d6\nplanck;\t210f\nplanckh;\t210e\nplankv;\t210f\nplus;\t2b\n"
    "plusacir;\t2a23\nplusb;\t229e\npluscir;\t2a22\nplusdo;\t2214\nplusdu;\t2a25\npluse;\t2a72\n"
    "plusmn\tb1\nplusmn;\tb1\nplussim;\t2a26\nplustwo;\t2a27\npm;\tb1\npointint;\t2a15\npopf;\t1d561\n"
    "pound\ta3\npound;\ta3\npr;\t227a\nprE;\t2ab3\nprap;\t2ab7\nprcue;\t227c\npre;\t2aaf\nprec;\t227a\n"
    "precapprox;\t2ab7\npreccurlyeq;\t227c\npreceq;\t2aaf\nprecnapprox;\t2ab9\nprecneqq;\t2ab5\n"
    "precnsim;\t22e8\nprecsim;\t227e\nprime;\t2032\nprimes;\t2119\nprnE;\t2ab5\nprnap;\t2ab9\n"
    "prnsim;\t22e8\nprod;\t220f\nprofalar;\t232e\nprofline;\t2312\nprofsurf;\t2313\nprop;\t221d\n"
    "propto;\t221d\nprsim;\t227e\nprurel;\t22b0\npscr;\t1d4c5\npsi;\t3c8\npuncsp;\t2008\nqfr;\t1d52e\n"
    "qint;\t2a0c\nqopf;\t1d562\nqprime;\t2057\nqscr;\t1d4c6\nquaternions;\t210d\nquatint;\t2a16\n"
    "quest;\t3f\nquesteq;\t225f\nquot\t22\nquot;\t22\nrAarr;\t21db\nrArr;\t21d2\nrAtail;\t291c\n"
    "rBarr;\t290f\nrHar;\t2964\nrace;\t223d,331\nracute;\t155\nradic;\t221a\nraemptyv;\t29b3\n"
    "rang;\t27e9\nrangd;\t2992\nrange;\t29a5\nrangle;\t27e9\nraquo\tbb\nraquo;\tbb\nrarr;\t2192\n"
    "rarrap;\t2975\nrarrb;\t21e5\nrarrbfs;\t2920\nrarrc;\t2933\nrarrfs;\t291e\nrarrhk;\t21aa\n"
    "rarrlp;\t21ac\nrarrpl;\t2945\nrarrsim;\t2974\nrarrtl;\t21a3\nrarrw;\t219d\nratail;\t291a\n"
    "ratio;\t2236\nrationals;\t211a\nrbarr;\t290d\nrbbrk;\t2773\nrbrace;\t7d\nrbrack;\t5d\nrbrke;\t298c\n"
    "rbrksld;\t298e\nrbrkslu;\t2990\nrcaron;\t159\nrcedil;\t157\nrceil;\t2309\nrcub;\t7d\nrcy;\t440\n"
    "rdca;\t2937\nrdldhar;\t2969\nrdquo;\t201d\nrdquor;\t201d\nrdsh;\t21b3\nreal;\t211c\nrealine;\t211b\n"
    "realpart;\t211c\nreals;\t211d\nrect;\t25ad\nreg\tae\nreg;\tae\nrfisht;\t297d\nrfloor;\t230b\n"
    "rfr;\t1d52f\nrhard;\t21c1\nrharu;\t21c0\nrharul;\t296c\nrho;\t3c1\nrhov;\t3f1\nrightarrow;\t2192\n"
    "rightarrowtail;\t21a3\nrightharpoondown;\t21c1\nrightharpoonup;\t21c0\nrightleftarrows;\t21c4\n"
    "rightleftharpoons;\t21cc\nrightrightarrows;\t21c9\nrightsquigarrow;\t219d\nrightthreetimes;\t22cc\n"
    "ring;\t2da\nrisingdotseq;\t2253\nrlarr;\t21c4\nrlhar;\t21cc\nrlm;\t200f\nrmoust;\t23b1\n"
    "rmoustache;\t23b1\nrnmid;\t2aee\nroang;\t27ed\nroarr;\t21fe\nrobrk;\t27e7\nropar;\t2986\n"
    "ropf;\t1d563\nroplus;\t2a2e\nrotimes;\t2a35\nrpar;\t29\nrpargt;\t2994\nrppolint;\t2a12\n"
    "rrarr;\t21c9\nrsaquo;\t203a\nrscr;\t1d4c7\nrsh;\t21b1\nrsqb;\t5d\nrsquo;\t2019\nrsquor;\t2019\n"
    "rthree;\t22cc\nrtimes;\t22ca\nrtri;\t25b9\nrtrie;\t22b5\nrtrif;\t25b8\nrtriltri;\t29ce\n"
    "ruluhar;\t2968\nrx;\t211e\nsacute;\t15b\nsbquo;\t201a\nsc;\t227b\nscE;\t2ab4\nscap;\t2ab8\n"
    "scaron;\t161\nsccue;\t227d\nsce;\t2ab0\nscedil;\t15f\nscirc;\t15d\nscnE;\t2ab6\nscnap;\t2aba\n"
    "scnsim;\t22e9\nscpolint;\t2a13\nscsim;\t227f\nscy;\t441\nsdot;\t22c5\nsdotb;\t22a1\nsdote;\t2a66\n"
    "seArr;\t21d8\nsearhk;\t2925\nsearr;\t2198\nsearrow;\t2198\nsect\ta7\nsect;\ta7\nsemi;\t3b\n"
    "seswar;\t2929\nsetminus;\t2216\nsetmn;\t2216\nsext;\t2736\nsfr;\t1d530\nsfrown;\t2322\n"
    "sharp;\t266f\nshchcy;\t449\nshcy;\t448\nshortmid;\t2223\nshortparallel;\t2225\nshy\tad\nshy;\tad\n"
    "sigma;\t3c3\nsigmaf;\t3c2\nsigmav;\t3c2\nsim;\t223c\nsimdot;\t2a6a\nsime;\t2243\nsimeq;\t2243\n"
    "simg;\t2a9e\nsimgE;\t2aa0\nsiml;\t2a9d\nsimlE;\t2a9f\nsimne;\t2246\nsimplus;\t2a24\nsimrarr;\t2972\n"
    "slarr;\t2190\nsmallsetminus;\t2216\nsmashp;\t2a33\nsmeparsl;\t29e4\nsmid;\t2223\nsmile;\t2323\n"
    "smt;\t2aaa\nsmte;\t2aac\nsmtes;\t2aac,fe00\nsoftcy;\t44c\nsol;\t2f\nsolb;\t29c4\nsolbar;\t233f\n"
    "sopf;\t1d564\nspades;\t2660\nspadesuit;\t2660\nspar;\t2225\nsqcap;\t2293\nsqcaps;\t2293,fe00\n"
    "sqcup;\t2294\nsqcups;\t2294,fe00\nsqsub;\t228f\nsqsube;\t2291\nsqsubset;\t228f\nsqsubseteq;\t2291\n"
    "sqsup;\t2290\nsqsupe;\t2292\nsqsupset;\t2290\nsqsupseteq;\t2292\nsqu;\t25a1\nsquare;\t25a1\n"
    "squarf;\t25aa\nsquf;\t25aa\nsrarr;\t2192\nsscr;\t1d4c8\nssetmn;\t2216\nssmile;\t2323\n"
    "sstarf;\t22c6\nstar;\t2606\nstarf;\t2605\nstraightepsilon;\t3f5\nstraightphi;\t3d5\nstrns;\taf\n"
    "sub;\t2282\nsubE;\t2ac5\nsubdot;\t2abd\nsube;\t2286\nsubedot;\t2ac3\nsubmult;\t2ac1\nsubnE;\t2acb\n"
    "subne;\t228a\nsubplus;\t2abf\nsubrarr;\t2979\nsubset;\t2282\nsubseteq;\t2286\nsubseteqq;\t2ac5\n"
    "subsetneq;\t228a\nsubsetneqq;\t2acb\nsubsim;\t2ac7\nsubsub;\t2ad5\nsubsup;\t2ad3\nsucc;\t227b\n"
    "succapprox;\t2ab8\nsucccurlyeq;\t227d\nsucceq;\t2ab0\nsuccnapprox;\t2aba\nsuccneqq;\t2ab6\n"
    "succnsim;\t22e9\nsuccsim;\t227f\nsum;\t2211\nsung;\t266a\nsup1\tb9\nsup1;\tb9\nsup2\tb2\nsup2;\tb2\n"
    "sup3\tb3\nsup3;\tb3\nsup;\t2283\nsupE;\t2ac6\nsupdot;\t2abe\nsupdsub;\t2ad8\nsupe;\t2287\n"
    "supedot;\t2ac4\nsuphsol;\t27c9\nsuphsub;\t2ad7\nsuplarr;\t297b\nsupmult;\t2ac2\nsupnE;\t2acc\n"
    "supne;\t228b\nsupplus;\t2ac0\nsupset;\t2283\nsupseteq;\t2287\nsupseteqq;\t2ac6\nsupsetneq;\t228b\n"
    "supsetneqq;\t2acc\nsupsim;\t2ac8\nsupsub;\t2ad4\nsupsup;\t2ad6\nswArr;\t21d9\nswarhk;\t2926\n"
    "swarr;\t2199\nswarrow;\t2199\nswnwar;\t292a\nszlig\tdf\nszlig;\tdf\ntarget;\t2316\ntau;\t3c4\n"
    "tbrk;\t23b4\ntcaron;\t165\ntcedil;\t163\ntcy;\t442\ntdot;\t20db\ntelrec;\t2315\ntfr;\t1d531\n"
    "there4;\t2234\ntherefore;\t2234\ntheta;\t3b8\nthetasym;\t3d1\nthetav;\t3d1\nthickapprox;\t2248\n"
    "thicksim;\t223c\nthinsp;\t2009\nthkap;\t2248\nthksim;\t223c\nthorn\tfe\nthorn;\tfe\ntilde;\t2dc\n"
    "times\td7\ntimes;\td7\ntimesb;\t22a0\ntimesbar;\t2a31\ntimesd;\t2a30\ntint;\t222d\ntoea;\t2928\n"
    "top;\t22a4\ntopbot;\t2336\ntopcir;\t2af1\ntopf;\t1d565\ntopfork;\t2ada\ntosa;\t2929\ntprime;\t2034\n"
    "trade;\t2122\ntriangle;\t25b5\ntriangledown;\t25bf\ntriangleleft;\t25c3\ntrianglelefteq;\t22b4\n"
    "triangleq;\t225c\ntriangleright;\t25b9\ntrianglerighteq;\t22b5\ntridot;\t25ec\ntrie;\t225c\n"
    "triminus;\t2a3a\ntriplus;\t2a39\ntrisb;\t29cd\ntritime;\t2a3b\ntrpezium;\t23e2\ntscr;\t1d4c9\n"
    "tscy;\t446\ntshcy;\t45b\ntstrok;\t167\ntwixt;\t226c\ntwoheadleftarrow;\t219e\n"
    "twoheadrightarrow;\t21a0\nuArr;\t21d1\nuHar;\t2963\nuacute\tfa\nuacute;\tfa\nuarr;\t2191\n"
    "ubrcy;\t45e\nubreve;\t16d\nucirc\tfb\nucirc;\tfb\nucy;\t443\nudarr;\t21c5\nudblac;\t171\n"
    "udhar;\t296e\nufisht;\t297e\nufr;\t1d532\nugrave\tf9\nugrave;\tf9\nuharl;\t21bf\nuharr;\t21be\n"
    "uhblk;\t2580\nulcorn;\t231c\nulcorner;\t231c\nulcrop;\t230f\nultri;\t25f8\numacr;\t16b\numl\ta8\n"
    "uml;\ta8\nuogon;\t173\nuopf;\t1d566\nuparrow;\t2191\nupdownarrow;\t2195\nupharpoonleft;\t21bf\n"
    "upharpoonright;\t21be\nuplus;\t228e\nupsi;\t3c5\nupsih;\t3d2\nupsilon;\t3c5\nupuparrows;\t21c8\n"
    "urcorn;\t231d\nurcorner;\t231d\nurcrop;\t230e\nuring;\t16f\nurtri;\t25f9\nuscr;\t1d4ca\n"
    "utdot;\t22f0\nutilde;\t169\nutri;\t25b5\nutrif;\t25b4\nuuarr;\t21c8\nuuml\tfc\nuuml;\tfc\n"
    "uwangle;\t29a7\nvArr;\t21d5\nvBar;\t2ae8\nvBarv;\t2ae9\nvDash;\t22a8\nvangrt;\t299c\n"
    "varepsilon;\t3f5\nvarkappa;\t3f0\nvarnothing;\t2205\nvarphi;\t3d5\nvarpi;\t3d6\nvarpropto;\t221d\n"
    "varr;\t2195\nvarrho;\t3f1\nvarsigma;\t3c2\nvarsubsetneq;\t228a,fe00\nvarsubsetneqq;\t2acb,fe00\n"
    "varsupsetneq;\t228b,fe00\nvarsupsetneqq;\t2acc,fe00\nvartheta;\t3d1\nvartriangleleft;\t22b2\n"
    "vartriangleright;\t22b3\nvcy;\t432\nvdash;\t22a2\nvee;\t2228\nveebar;\t22bb\nveeeq;\t225a\n"
    "vellip;\t22ee\nverbar;\t7c\nvert;\t7c\nvfr;\t1d533\nvltri;\t22b2\nvnsub;\t2282,20d2\n"
    "vnsup;\t2283,20d2\nvopf;\t1d567\nvprop;\t221d\nvrtri;\t22b3\nvscr;\t1d4cb\nvsubnE;\t2acb,fe00\n"
    "vsubne;\t228a,fe00\nvsupnE;\t2acc,fe00\nvsupne;\t228b,fe00\nvzigzag;\t299a\nwcirc;\t175\n"
    "wedbar;\t2a5f\nwedge;\t2227\nwedgeq;\t2259\nweierp;\t2118\nwfr;\t1d534\nwopf;\t1d568\nwp;\t2118\n"
    "wr;\t2240\nwreath;\t2240\nwscr;\t1d4cc\nxcap;\t22c2\nxcirc;\t25ef\nxcup;\t22c3\nxdtri;\t25bd\n"
    "xfr;\t1d535\nxhArr;\t27fa\nxharr;\t27f7\nxi;\t3be\nxlArr;\t27f8\nxlarr;\t27f5\nxmap;\t27fc\n"
    "xnis;\t22fb\nxodot;\t2a00\nxopf;\t1d569\nxoplus;\t2a01\nxotime;\t2a02\nxrArr;\t27f9\nxrarr;\t27f6\n"
    "xscr;\t1d4cd\nxsqcup;\t2a06\nxuplus;\t2a04\nxutri;\t25b3\nxvee;\t22c1\nxwedge;\t22c0\nyacute\tfd\n"
    "yacute;\tfd\nyacy;\t44f\nycirc;\t177\nycy;\t44b\nyen\ta5\nyen;\ta5\nyfr;\t1d536\nyicy;\t457\n"
    "yopf;\t1d56a\nyscr;\t1d4ce\nyucy;\t44e\nyuml\tff\nyuml;\tff\nzacute;\t17a\nzcaron;\t17e\nzcy;\t437\n"
    "zdot;\t17c\nzeetrf;\t2128\nzeta;\t3b6\nzfr;\t1d537\nzhcy;\t436\nzigrarr;\t21dd\nzopf;\t1d56b\n"
    "zscr;\t1d4cf\nzwj;\t200d\nzwnj;\t200c\n"
    ;

struct entity_table {
    std::vector<std::pair<std::string, std::string>> items;  // name → UTF-8, sorted
    entity_table() {
        std::string_view all(k_html5_entities);
        size_t pos = 0;
        while (pos < all.size()) {
            size_t tab = all.find('\t', pos), nl = all.find('\n', pos);
            if (tab == std::string_view::npos || nl == std::string_view::npos || tab > nl) break;
            std::string name(all.substr(pos, tab - pos)), value;
            std::string_view cps = all.substr(tab + 1, nl - tab - 1);
            size_t q = 0;
            while (q < cps.size()) {
                size_t comma = cps.find(',', q);
                if (comma == std::string_view::npos) comma = cps.size();
                append_utf8(value, (uint32_t)std::stoul(std::string(cps.substr(q, comma - q)), nullptr, 16));
                q = comma + 1;
            }
            items.emplace_back(std::move(name), std::move(value));
            pos = nl + 1;
        }
        std::sort(items.begin(), items.end());
    }
    const std::string *find(std::string_view name) const {
        auto it = std::lower_bound(items.begin(), items.end(), name,
                                   [](const std::pair<std::string, std::string> &a, std::string_view b) { return a.first < b; });
        return (it != items.end() && it->first == name) ? &it->second : nullptr;
    }
};

const entity_table &entities() {
    static const entity_table t;
    return t;
}

// Python's html._replace_charref for a numeric reference
void numeric_charref(uint64_t num, std::string &out) {
    static const uint16_t cp1252[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                        0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
    if (num == 0) return append_utf8(out, 0xFFFD);
    if (num == 0x0D) return append_utf8(out, 0x0D);
    if (num >= 0x80 && num <= 0x9F) return append_utf8(out, cp1252[num - 0x80]);
    if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) return append_utf8(out, 0xFFFD);
    uint32_t c = (uint32_t)num;
    bool invalid = (c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) || (c >= 0x7F && c <= 0x9F) ||
                   (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
    if (invalid) return;
    append_utf8(out, c);
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline int hex_val(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string svg_html_unescape(std::string_view s) {
    if (s.find('&') == std::string_view::npos) return std::string(s);
    std::string out;
    out.reserve(s.size());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        if (s[i] != '&') {
            out += s[i++];
            continue;
        }
        size_t j = i + 1;
        if (j < n && s[j] == '#') {
            // &#[0-9]+;? | &#[xX][0-9a-fA-F]+;?
            size_t k = j + 1;
            bool hex = k < n && (s[k] == 'x' || s[k] == 'X');
            if (hex) k++;
            size_t d = k;
            uint64_t num = 0;
            while (d < n && (hex ? hex_val(s[d]) >= 0 : is_digit(s[d]))) {
                if (num <= 0x10FFFF) num = num * (hex ? 16 : 10) + (uint64_t)(hex ? hex_val(s[d]) : s[d] - '0');
                d++;
            }
            if (d == k) {  // no digits: not a reference
                out += '&';
                i++;
                continue;
            }
            if (d < n && s[d] == ';') d++;
            numeric_charref(num, out);
            i = d;
            continue;
        }
        // [^\t\n\f <&#;]{1,32};?  (32 characters, not bytes)
        size_t k = j;
        std::vector<size_t> ends;  // byte end of each character
        while (k < n && ends.size() < 32) {
            char c = s[k];
            if (c == '\t' || c == '\n' || c == '\f' || c == ' ' || c == '<' || c == '&' || c == '#' || c == ';') break;
            size_t l;
            bool valid;
            decode_utf8(s.data() + k, n - k, &l, &valid);
            k += l;
            ends.push_back(k);
        }
        if (ends.empty()) {
            out += '&';
            i++;
            continue;
        }
        if (k < n && s[k] == ';') {
            k++;
            ends.push_back(k);
        }
        std::string_view name = s.substr(j, k - j);
        const entity_table &t = entities();
        if (const std::string *v = t.find(name)) {
            out += *v;
        } else {
            // the longest prefix (of at least 2 characters) that is a name
            bool found = false;
            for (size_t x = ends.size() - 1; x >= 2; x--) {
                std::string_view pre = s.substr(j, ends[x - 1] - j);
                if (const std::string *v2 = t.find(pre)) {
                    out += *v2;
                    out.append(s.substr(ends[x - 1], k - ends[x - 1]));
                    found = true;
                    break;
                }
            }
            if (!found) {
                out += '&';
                out.append(name);
            }
        }
        i = k;
    }
    return out;
}

std::string svg_whitespace_clean(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool pending = false;
    for (size_t i = 0; i < s.size();) {
        size_t l;
        bool valid;
        uint32_t c = decode_utf8(s.data() + i, s.size() - i, &l, &valid);
        if (valid && is_py_ws(c)) {
            pending = true;
        } else {
            if (pending && !out.empty()) out += ' ';
            pending = false;
            out.append(s.substr(i, l));
        }
        i += l;
    }
    return out;
}

std::string svg_prompt_clean(std::string_view text) {
    return svg_whitespace_clean(svg_html_unescape(svg_html_unescape(text)));
}
