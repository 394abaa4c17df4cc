// safetensors reader: single files, sharded checkpoints (*.safetensors.index.json)
// and directories. Files are memory-mapped read-only and stay mapped until
// svg_safetensors_free. The whole header is validated at open, so accessors
// and converters never touch a byte outside a tensor's own range.
//
// Layout: u64 little-endian header length N, N bytes of JSON
//   {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets"}, ...}
// then the data buffer; data_offsets are relative to its start (8 + N).
//
// Tensors are ordered by name (deterministic across shards and files).
// Gaps between tensors and trailing bytes are allowed; overlaps are not.
#include "svg-impl.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

// Tensor bytes are converted with plain loads in host byte order.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The reference implementation's limit; no real checkpoint header comes close.
constexpr uint64_t kMaxHeader = 100u << 20;
// A valid header nests three levels (root → entry → shape); anything far deeper
// is garbage, and stopping it early bounds the parser's memory.
constexpr int kMaxDepth = 16;

enum st_dtype { F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U8, BOOL };

struct dtype_info {
    const char *name;
    size_t size;
};

// Indexed by st_dtype.
const dtype_info k_dtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
    {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U8", 1},      {"BOOL", 1},
};

// One file's bytes: an mmapped file, or caller memory (open_memory).
struct st_source {
    std::string path;
    const uint8_t *base = nullptr;
    size_t size = 0;
    bool mapped = false;

    st_source() = default;
    st_source(const st_source &) = delete;
    st_source &operator=(const st_source &) = delete;
    ~st_source() {
        if (mapped) munmap(const_cast<uint8_t *>(base), size);
    }
};

struct st_tensor {
    std::string name;
    // "safetensors: <file>: tensor '<name>'", escaped, built at open so that
    // error paths after open allocate nothing
    std::string where;
    st_dtype dtype;
    int n_dims;
    int64_t ne[SVG_MAX_DIMS];
    int64_t nelements;
    const uint8_t *data;
    size_t nbytes;
    size_t begin;   // data_offsets[0], for the overlap check
    size_t source;  // index into svg_safetensors::sources
};

// Thrown from the JSON parser callback to stop a bad header early.
struct header_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Names and paths come from untrusted files; escape control bytes so every
// error stays on one line.
std::string quote(const std::string &s) {
    std::string r;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\x%02x", c);
            r += buf;
        } else {
            r += (char)c;
        }
    }
    return r;
}

template <typename T>
T load(const uint8_t *p, int64_t i) {
    T v;  // memcpy: the data of a safetensors tensor need not be aligned
    memcpy(&v, p + (size_t)i * sizeof(T), sizeof(T));
    return v;
}

// float8 e4m3fn: bias 7, no infinities, S.1111.111 is NaN, max 448.
float f8_e4m3_to_f32(uint8_t b) {
    const int e = (b >> 3) & 0xf, m = b & 7;
    float v;
    if (e == 0xf && m == 7) v = NAN;
    else if (e == 0) v = std::ldexp((float)m, -9);  // subnormal: m/8 · 2^-6
    else v = std::ldexp((float)(8 + m), e - 10);    // (1 + m/8) · 2^(e-7)
    return (b & 0x80) ? -v : v;
}

// float8 e5m2 is the upper byte of an IEEE half.
float f8_e5m2_to_f32(uint8_t b) { return svg_fp16_to_fp32((uint16_t)(b << 8)); }

// ---------------------------------------------------------------- header
// Parse "shape" into t and its byte size; on failure set the error and return false.
bool parse_shape(const json &shape, const std::string &where, st_tensor &t, uint64_t &nbytes) {
    if (!shape.is_array())
        return svg_err(false, "%s: \"shape\" is not an array", where.c_str());
    if (shape.size() > SVG_MAX_DIMS)
        return svg_err(false, "%s: %zu dimensions, at most %d supported", where.c_str(),
                       shape.size(), SVG_MAX_DIMS);
    t.n_dims = (int)shape.size();
    uint64_t n = 1;
    bool overflow = false, has_zero = false;
    for (int d = 0; d < t.n_dims; d++) {
        const json &v = shape[(size_t)d];
        if (v.is_number_integer() && !v.is_number_unsigned())
            return svg_err(false, "%s: shape[%d] is negative", where.c_str(), d);
        if (!v.is_number_unsigned())
            return svg_err(false, "%s: shape[%d] is not an integer", where.c_str(), d);
        const uint64_t x = v.get<uint64_t>();
        if (x > (uint64_t)INT64_MAX)
            return svg_err(false, "%s: shape[%d] = %llu is too large", where.c_str(), d,
                           (unsigned long long)x);
        t.ne[d] = (int64_t)x;
        has_zero |= x == 0;
        overflow |= svg_mul_overflow(n, x, &n);
    }
    // a zero dimension makes the tensor empty whatever the other dimensions are
    if (has_zero) n = 0;
    else if (overflow || n > (uint64_t)INT64_MAX)
        return svg_err(false, "%s: element count of the shape overflows", where.c_str());
    if (svg_mul_overflow(n, k_dtypes[t.dtype].size, &nbytes))
        return svg_err(false, "%s: byte size of the shape overflows", where.c_str());
    t.nelements = (int64_t)n;
    return true;
}

bool parse_entry(const std::string &name, const json &e, const st_source &src, size_t src_idx,
                 const uint8_t *data, size_t data_size, st_tensor &t) {
    t.where = "safetensors: " + quote(src.path) + ": tensor '" + quote(name) + "'";
    const std::string &where = t.where;
    if (name.find('\0') != std::string::npos)
        return svg_err(false, "%s: name contains a NUL byte", where.c_str());
    if (!e.is_object()) return svg_err(false, "%s: entry is not a JSON object", where.c_str());
    t.name = name;
    t.source = src_idx;

    const auto dt = e.find("dtype");
    if (dt == e.end() || !dt->is_string())
        return svg_err(false, "%s: missing or non-string \"dtype\"", where.c_str());
    const std::string &dts = dt->get_ref<const std::string &>();
    const auto known = std::find_if(std::begin(k_dtypes), std::end(k_dtypes),
                                    [&](const dtype_info &d) { return dts == d.name; });
    if (known == std::end(k_dtypes))
        return svg_err(false, "%s: unsupported dtype '%s'", where.c_str(), quote(dts).c_str());
    t.dtype = (st_dtype)(known - std::begin(k_dtypes));

    const auto shape = e.find("shape");
    if (shape == e.end()) return svg_err(false, "%s: missing \"shape\"", where.c_str());
    uint64_t nbytes = 0;
    if (!parse_shape(*shape, where, t, nbytes)) return false;

    const auto off = e.find("data_offsets");
    if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
        return svg_err(false, "%s: \"data_offsets\" is not [begin, end] of non-negative integers",
                       where.c_str());
    const uint64_t begin = (*off)[0].get<uint64_t>(), end = (*off)[1].get<uint64_t>();
    if (begin > end)
        return svg_err(false, "%s: data_offsets [%llu, %llu] end before they begin", where.c_str(),
                       (unsigned long long)begin, (unsigned long long)end);
    if (end > data_size)
        return svg_err(false, "%s: data_offsets end %llu is past the data buffer (%zu bytes): the file is truncated",
                       where.c_str(), (unsigned long long)end, data_size);
    if (end - begin != nbytes)
        return svg_err(false, "%s: data_offsets span %llu bytes, %s shape needs %llu",
                       where.c_str(), (unsigned long long)(end - begin), k_dtypes[t.dtype].name,
                       (unsigned long long)nbytes);
    t.nbytes = (size_t)nbytes;  // ≤ data_size now, so it fits
    t.begin = (size_t)begin;
    t.data = data + begin;
    return true;
}

// What a file that is not safetensors is, from its first bytes ("" when
// nothing is recognised): for errors that say what was given.
std::string sniff_format(const uint8_t *b, size_t n) {
    auto starts = [&](const char *magic) { return n >= strlen(magic) && memcmp(b, magic, strlen(magic)) == 0; };
    if (starts("GGUF")) return "a GGUF file";
    if (starts("version https://git-lfs")) return "a Git LFS pointer, not the file itself (run git lfs pull)";
    if (starts("PK\x03\x04")) return "a zip archive (a PyTorch .pt/.bin/.ckpt checkpoint?)";
    if (n >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5) return "a Python pickle (a PyTorch .pt/.bin/.ckpt checkpoint?)";
    if (starts("\x89PNG")) return "a PNG image";
    if (starts("\xff\xd8\xff")) return "a JPEG image";
    if (starts("<!DOCTYPE") || starts("<html") || starts("<HTML")) return "an HTML page (a failed download?)";
    size_t i = 0;
    while (i < n && isspace(b[i])) i++;
    if (i < n && b[i] == '{') return "a JSON file";
    return "";
}

// Validate src's header and append its tensors and metadata to the output.
bool parse_source(const st_source &src, size_t src_idx, std::vector<st_tensor> &tensors,
                  std::map<std::string, std::string, std::less<>> &metadata) {
    const std::string path = quote(src.path);
    // every safetensors header is a JSON object: byte 8 is its '{'
    if (src.size < 9 || src.base[8] != '{') {
        const std::string what = sniff_format(src.base, src.size);
        if (!what.empty())
            return svg_err(false, "safetensors: %s is %s, not a safetensors file (expected a .safetensors checkpoint or a diffusers folder)",
                           path.c_str(), what.c_str());
    }
    if (src.size < 8)
        return svg_err(false, "safetensors: %s: %zu bytes, too small for a header", path.c_str(),
                       src.size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | src.base[i];
    if (n > kMaxHeader)
        return svg_err(false, "safetensors: %s is not a safetensors file: its first 8 bytes give a header length of %llu, over the 100 MB limit",
                       path.c_str(), (unsigned long long)n);
    if (n > src.size - 8)
        return svg_err(false,
                       "safetensors: %s: header length %llu is past the end of the file (%zu bytes): the file is truncated, or not safetensors",
                       path.c_str(), (unsigned long long)n, src.size);
    const char *hdr = (const char *)src.base + 8;
    // The JSON parser stops at a NUL byte as if the input ended there; valid
    // JSON never contains one, so reject it instead of ignoring what follows.
    if (memchr(hdr, 0, (size_t)n))
        return svg_err(false, "safetensors: %s: invalid header: contains a NUL byte", path.c_str());

    // Duplicate names are rejected rather than left to the parser (which keeps
    // the last): two readers must never see different tensors under one name.
    std::set<std::string> keys;
    json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json &parsed) {
        if (depth > kMaxDepth) throw header_error("JSON nested too deeply");
        if (depth == 1 && ev == json::parse_event_t::key &&
            !keys.insert(parsed.get_ref<const std::string &>()).second)
            throw header_error("duplicate tensor name '" + parsed.get<std::string>() + "'");
        return true;
    };
    json h;
    try {
        h = json::parse(hdr, hdr + n, cb);
    } catch (const std::exception &ex) {  // json::exception or header_error
        return svg_err(false, "safetensors: %s: invalid header: %s", path.c_str(),
                       quote(ex.what()).c_str());
    }
    if (!h.is_object())
        return svg_err(false, "safetensors: %s: header is not a JSON object", path.c_str());

    const uint8_t *data = src.base + 8 + n;
    const size_t data_size = src.size - 8 - (size_t)n;
    const size_t first = tensors.size();
    for (const auto &[name, e] : h.items()) {
        if (name == "__metadata__") {
            // null is what serde (the reference implementation) reads as "no metadata"
            if (e.is_null()) continue;
            if (!e.is_object())
                return svg_err(false, "safetensors: %s: __metadata__ is not a JSON object",
                               path.c_str());
            for (const auto &[k, v] : e.items()) {
                if (!v.is_string())
                    return svg_err(false,
                                   "safetensors: %s: __metadata__ value of '%s' is not a string",
                                   path.c_str(), quote(k).c_str());
                // across shards the first file (in sorted order) wins
                metadata.emplace(k, v.get<std::string>());
            }
            continue;
        }
        st_tensor t;
        if (!parse_entry(name, e, src, src_idx, data, data_size, t)) return false;
        tensors.push_back(std::move(t));
    }

    // Overlap check: sorted by begin, each non-empty tensor must start at or
    // after the end of the one before (empty tensors occupy no bytes).
    std::vector<const st_tensor *> order;
    for (size_t i = first; i < tensors.size(); i++)
        if (tensors[i].nbytes > 0) order.push_back(&tensors[i]);
    std::sort(order.begin(), order.end(),
              [](const st_tensor *a, const st_tensor *b) { return a->begin < b->begin; });
    for (size_t i = 1; i < order.size(); i++)
        if (order[i]->begin < order[i - 1]->begin + order[i - 1]->nbytes)
            return svg_err(false, "%s: overlaps tensor '%s'", order[i]->where.c_str(),
                           quote(order[i - 1]->name).c_str());
    return true;
}

std::unique_ptr<st_source> map_file(const std::string &path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return svg_err(nullptr, "safetensors: %s: cannot open: %s", quote(path).c_str(),
                       strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return svg_err(nullptr, "safetensors: %s: not a regular file", quote(path).c_str());
    }
    auto src = std::make_unique<st_source>();
    src->path = path;
    src->size = (size_t)sb.st_size;
    if (src->size > 0) {  // mmap rejects length 0; parse_source reports the empty file
        void *p = mmap(nullptr, src->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            close(fd);
            return svg_err(nullptr, "safetensors: %s: mmap failed: %s", quote(path).c_str(),
                           strerror(err));
        }
        src->base = (const uint8_t *)p;
        src->mapped = true;
    }
    close(fd);  // the mapping keeps the file's pages
    return src;
}

}  // namespace

struct svg_safetensors {
    std::vector<std::unique_ptr<st_source>> sources;
    std::vector<st_tensor> tensors;  // sorted by name
    std::map<std::string, std::string, std::less<>> metadata;
};

namespace {

// Parse every source, merge their tensors by name and reject names that
// appear in two files.
svg_safetensors *open_sources(std::vector<std::unique_ptr<st_source>> sources) {
    auto st = std::make_unique<svg_safetensors>();
    st->sources = std::move(sources);
    for (size_t i = 0; i < st->sources.size(); i++)
        if (!parse_source(*st->sources[i], i, st->tensors, st->metadata)) return nullptr;
    auto &ts = st->tensors;
    std::sort(ts.begin(), ts.end(),
              [](const st_tensor &a, const st_tensor &b) { return a.name < b.name; });
    for (size_t i = 1; i < ts.size(); i++)
        if (ts[i].name == ts[i - 1].name)
            return svg_err(nullptr, "safetensors: tensor '%s' is in both %s and %s",
                           quote(ts[i].name).c_str(),
                           quote(st->sources[ts[i - 1].source]->path).c_str(),
                           quote(st->sources[ts[i].source]->path).c_str());
    return st.release();
}

svg_safetensors *open_files(const std::vector<std::string> &paths) {
    std::vector<std::unique_ptr<st_source>> sources;
    for (const std::string &p : paths) {
        auto src = map_file(p);
        if (!src) return nullptr;
        sources.push_back(std::move(src));
    }
    return open_sources(std::move(sources));
}

bool ends_with(const std::string &s, const char *suffix) {
    const size_t n = strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// {"weight_map": {tensor: shard file}}: open every shard (relative to the
// index's directory) and check that each listed tensor is in its shard.
svg_safetensors *open_index(const std::string &path) {
    const std::string qpath = quote(path);
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return svg_err(nullptr, "safetensors: %s: cannot open: %s", qpath.c_str(), strerror(errno));
    json idx;
    try {
        idx = json::parse(in);
    } catch (const std::exception &ex) {
        return svg_err(nullptr, "safetensors: %s: invalid JSON: %s", qpath.c_str(),
                       quote(ex.what()).c_str());
    }
    const auto wm = idx.is_object() ? idx.find("weight_map") : idx.end();
    if (!idx.is_object() || wm == idx.end() || !wm->is_object())
        return svg_err(nullptr, "safetensors: %s: no \"weight_map\" object", qpath.c_str());

    const fs::path dir = fs::path(path).parent_path();
    std::map<std::string, std::string> shard_paths;  // shard name → path; sorted, unique
    for (const auto &[tensor, shard] : wm->items()) {
        if (!shard.is_string())
            return svg_err(nullptr, "safetensors: %s: weight_map entry '%s' is not a file name",
                           qpath.c_str(), quote(tensor).c_str());
        const std::string &s = shard.get_ref<const std::string &>();
        shard_paths.emplace(s, (dir / s).string());
    }
    std::vector<std::string> paths;
    for (const auto &sp : shard_paths) paths.push_back(sp.second);
    std::unique_ptr<svg_safetensors, decltype(&svg_safetensors_free)> st(open_files(paths),
                                                                         svg_safetensors_free);
    if (!st) return nullptr;

    // Tensors a shard holds beyond the map are kept.
    for (const auto &[tensor, shard] : wm->items()) {
        const int64_t i = svg_safetensors_find(st.get(), tensor.c_str());
        const std::string &want = shard_paths.at(shard.get_ref<const std::string &>());
        if (i < 0 || st->sources[st->tensors[(size_t)i].source]->path != want)
            return svg_err(nullptr, "safetensors: %s: tensor '%s' is not in its shard %s",
                           qpath.c_str(), quote(tensor).c_str(), quote(want).c_str());
    }
    return st.release();
}

// A directory: its *.safetensors.index.json if exactly one, else every
// *.safetensors file in it, sorted.
svg_safetensors *open_dir(const std::string &path) {
    std::vector<std::string> indexes, files;
    std::error_code ec;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code type_ec;  // an unreadable entry is skipped, not a listing error
        if (!it->is_regular_file(type_ec)) continue;  // follows symlinks (hub caches use them)
        if (ends_with(name, ".safetensors.index.json")) indexes.push_back(it->path().string());
        else if (ends_with(name, ".safetensors")) files.push_back(it->path().string());
    }
    if (ec)
        return svg_err(nullptr, "safetensors: %s: cannot list directory: %s", quote(path).c_str(),
                       ec.message().c_str());
    if (indexes.size() == 1) return open_index(indexes[0]);
    if (files.empty())
        return svg_err(nullptr, "safetensors: %s: no .safetensors files in directory",
                       quote(path).c_str());
    std::sort(files.begin(), files.end());
    return open_files(files);
}

const st_tensor *get_tensor(const svg_safetensors *st, int64_t i) {
    if (!st) return svg_err<const st_tensor *>(nullptr, "safetensors: NULL handle");
    if (i < 0 || i >= (int64_t)st->tensors.size())
        return svg_err<const st_tensor *>(nullptr,
                                          "safetensors: tensor index %lld out of range [0, %zu)",
                                          (long long)i, st->tensors.size());
    return &st->tensors[(size_t)i];
}

// Common checks of read_f32 / read_i64.
const st_tensor *get_for_read(const svg_safetensors *st, int64_t i, const void *out, int64_t n) {
    const st_tensor *t = get_tensor(st, i);
    if (!t) return nullptr;
    if (n != t->nelements)
        return svg_err<const st_tensor *>(nullptr, "%s: has %lld elements, asked for %lld",
                                          t->where.c_str(), (long long)t->nelements, (long long)n);
    if (!out && n > 0)
        return svg_err<const st_tensor *>(nullptr, "%s: NULL output", t->where.c_str());
    return t;
}

}  // namespace

// ---------------------------------------------------------------- C API

extern "C" struct svg_safetensors *svg_safetensors_open(const char *path) {
    if (!path) return svg_err(nullptr, "safetensors: NULL path");
    try {
        const std::string p = path;
        std::error_code ec;
        if (fs::is_directory(p, ec)) return open_dir(p);
        if (ends_with(p, ".index.json")) return open_index(p);
        return open_files({p});
    } catch (const std::bad_alloc &) {
        return svg_err(nullptr, "safetensors: %s: out of memory", quote(path).c_str());
    } catch (const std::exception &ex) {
        return svg_err(nullptr, "safetensors: %s: %s", quote(path).c_str(),
                       quote(ex.what()).c_str());
    }
}

extern "C" struct svg_safetensors *svg_safetensors_open_memory(const void *data, size_t size) {
    if (!data && size > 0) return svg_err(nullptr, "safetensors: NULL data");
    try {
        auto src = std::make_unique<st_source>();
        src->path = "<memory>";
        src->base = (const uint8_t *)data;
        src->size = size;
        std::vector<std::unique_ptr<st_source>> sources;
        sources.push_back(std::move(src));
        return open_sources(std::move(sources));
    } catch (const std::exception &ex) {
        return svg_err(nullptr, "safetensors: <memory>: %s", quote(ex.what()).c_str());
    }
}

extern "C" void svg_safetensors_free(struct svg_safetensors *st) { delete st; }

extern "C" int64_t svg_safetensors_n_tensors(const struct svg_safetensors *st) {
    return st ? (int64_t)st->tensors.size() : 0;
}

extern "C" int64_t svg_safetensors_find(const struct svg_safetensors *st, const char *name) {
    if (!st || !name) return -1;
    // compare with strcmp so a lookup allocates nothing
    const auto it = std::lower_bound(
        st->tensors.begin(), st->tensors.end(), name,
        [](const st_tensor &t, const char *n) { return strcmp(t.name.c_str(), n) < 0; });
    if (it == st->tensors.end() || strcmp(it->name.c_str(), name) != 0) return -1;
    return it - st->tensors.begin();
}

extern "C" const char *svg_safetensors_name(const struct svg_safetensors *st, int64_t i) {
    const st_tensor *t = get_tensor(st, i);
    return t ? t->name.c_str() : nullptr;
}

extern "C" const char *svg_safetensors_dtype(const struct svg_safetensors *st, int64_t i) {
    const st_tensor *t = get_tensor(st, i);
    return t ? k_dtypes[t->dtype].name : nullptr;
}

extern "C" int svg_safetensors_n_dims(const struct svg_safetensors *st, int64_t i) {
    const st_tensor *t = get_tensor(st, i);
    return t ? t->n_dims : 0;
}

extern "C" void svg_safetensors_shape(const struct svg_safetensors *st, int64_t i, int64_t *ne) {
    const st_tensor *t = get_tensor(st, i);
    if (t && ne) std::copy(t->ne, t->ne + t->n_dims, ne);
}

extern "C" int64_t svg_safetensors_nelements(const struct svg_safetensors *st, int64_t i) {
    const st_tensor *t = get_tensor(st, i);
    return t ? t->nelements : 0;
}

extern "C" size_t svg_safetensors_nbytes(const struct svg_safetensors *st, int64_t i) {
    const st_tensor *t = get_tensor(st, i);
    return t ? t->nbytes : 0;
}

extern "C" const void *svg_safetensors_data(const struct svg_safetensors *st, int64_t i) {
    const st_tensor *t = get_tensor(st, i);
    return t ? t->data : nullptr;
}

extern "C" const char *svg_safetensors_metadata(const struct svg_safetensors *st, const char *key) {
    if (!st || !key) return nullptr;
    const auto it = st->metadata.find(key);
    return it == st->metadata.end() ? nullptr : it->second.c_str();
}

extern "C" bool svg_safetensors_read_f32(const struct svg_safetensors *st, int64_t i, float *out,
                                         int64_t n) {
    const st_tensor *t = get_for_read(st, i, out, n);
    if (!t) return false;
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case F64: for (int64_t j = 0; j < n; j++) out[j] = (float)load<double>(p, j); break;
    case F32: for (int64_t j = 0; j < n; j++) out[j] = load<float>(p, j); break;
    case F16:
        for (int64_t j = 0; j < n; j++) out[j] = svg_fp16_to_fp32(load<uint16_t>(p, j));
        break;
    case BF16:
        for (int64_t j = 0; j < n; j++) out[j] = svg_bf16_to_fp32(load<uint16_t>(p, j));
        break;
    case F8_E4M3: for (int64_t j = 0; j < n; j++) out[j] = f8_e4m3_to_f32(p[j]); break;
    case F8_E5M2: for (int64_t j = 0; j < n; j++) out[j] = f8_e5m2_to_f32(p[j]); break;
    case I64: for (int64_t j = 0; j < n; j++) out[j] = (float)load<int64_t>(p, j); break;
    case I32: for (int64_t j = 0; j < n; j++) out[j] = (float)load<int32_t>(p, j); break;
    case I16: for (int64_t j = 0; j < n; j++) out[j] = (float)load<int16_t>(p, j); break;
    case I8: for (int64_t j = 0; j < n; j++) out[j] = (float)(int8_t)p[j]; break;
    case U8: for (int64_t j = 0; j < n; j++) out[j] = (float)p[j]; break;
    case BOOL: for (int64_t j = 0; j < n; j++) out[j] = p[j] ? 1.f : 0.f; break;
    }
    return true;
}

extern "C" bool svg_safetensors_read_i64(const struct svg_safetensors *st, int64_t i, int64_t *out,
                                         int64_t n) {
    const st_tensor *t = get_for_read(st, i, out, n);
    if (!t) return false;
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case I64: for (int64_t j = 0; j < n; j++) out[j] = load<int64_t>(p, j); break;
    case I32: for (int64_t j = 0; j < n; j++) out[j] = load<int32_t>(p, j); break;
    case I16: for (int64_t j = 0; j < n; j++) out[j] = load<int16_t>(p, j); break;
    case I8: for (int64_t j = 0; j < n; j++) out[j] = (int8_t)p[j]; break;
    case U8: for (int64_t j = 0; j < n; j++) out[j] = p[j]; break;
    case BOOL: for (int64_t j = 0; j < n; j++) out[j] = p[j] ? 1 : 0; break;
    default:
        return svg_err(false, "%s: dtype %s is not an integer type", t->where.c_str(),
                       k_dtypes[t->dtype].name);
    }
    return true;
}
