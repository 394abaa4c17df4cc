// GGUF v2/v3 reader and writer (spec: ggml docs/gguf.md).
//
// The reader validates the whole file when it is opened, so every accessor
// can trust the parsed tables. A hostile file can make parsing fail but never
// read out of bounds or allocate more than a small multiple of its own size:
// every count and length is checked against the bytes that remain before
// anything is allocated, and all size arithmetic is overflow-checked.
#include "svg-impl.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <unordered_map>
#include <unordered_set>

// GGUF is little-endian and values are memcpy'd without byte swapping.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "gguf.cpp needs a little-endian host");

namespace {

constexpr uint32_t kDefaultAlignment = 32;
constexpr const char *kAlignmentKey = "general.alignment";
constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
// Smallest encodings of a kv (key length + type + 1-byte value) and of a
// tensor info (name length + n_dims + type + offset): a count larger than the
// remaining bytes divided by these cannot be genuine.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;

// Bytes of a scalar value type; 0 for string, array and unknown types.
size_t scalar_size(uint32_t type) {
    switch (type) {
    case SVG_GGUF_UINT8: case SVG_GGUF_INT8: case SVG_GGUF_BOOL: return 1;
    case SVG_GGUF_UINT16: case SVG_GGUF_INT16: return 2;
    case SVG_GGUF_UINT32: case SVG_GGUF_INT32: case SVG_GGUF_FLOAT32: return 4;
    case SVG_GGUF_UINT64: case SVG_GGUF_INT64: case SVG_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

const char *type_name(uint32_t type) {
    static const char *const names[SVG_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
    };
    return type < SVG_GGUF_TYPE_COUNT ? names[type] : "?";
}

// Keys and names from a hostile file end up in one-line error messages:
// escape control bytes and cap the length.
std::string printable(const std::string &s) {
    std::string out;
    for (unsigned char c : s) {
        if (out.size() >= 80) return out + "...";
        if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
            char esc[8];
            snprintf(esc, sizeof esc, "\\x%02x", c);
            out += esc;
        } else {
            out += (char)c;
        }
    }
    return out;
}

// Bytes of a dense tensor with shape ne (PyTorch order). False with *why if a
// dim is negative, the element count overflows int64 (zeros ignored, so every
// partial product fits whatever the order) or the innermost dim is not a
// whole number of blocks.
bool dense_nbytes(enum svg_type type, int n_dims, const int64_t *ne, uint64_t *nbytes,
                  std::string *why) {
    const svg_type_traits *tr = svg_type_traits_of(type);
    uint64_t nonzero = 1;
    bool empty = false;
    for (int d = 0; d < n_dims; d++) {
        if (ne[d] < 0) {
            *why = "has a negative dimension";
            return false;
        }
        if (ne[d] == 0) {
            empty = true;
        } else if (svg_mul_overflow(nonzero, (uint64_t)ne[d], &nonzero) ||
                   nonzero > (uint64_t)INT64_MAX) {
            *why = "has an element count that overflows int64";
            return false;
        }
    }
    const int64_t inner = n_dims ? ne[n_dims - 1] : 1;
    if (inner % tr->block_size != 0) {
        *why = "has innermost dimension " + std::to_string(inner) + ", not a multiple of the " +
               tr->name + " block size " + std::to_string(tr->block_size);
        return false;
    }
    *nbytes = 0;
    if (!empty && svg_mul_overflow(nonzero / (uint64_t)tr->block_size, tr->type_size, nbytes)) {
        *why = "has a byte size that overflows";
        return false;
    }
    return true;
}

struct gguf_kv {
    std::string key;
    uint32_t type = 0;
    uint64_t scalar = 0;  // scalar value, little-endian in the low bytes
    std::string str;
    uint32_t arr_type = SVG_GGUF_TYPE_COUNT;
    uint64_t arr_n = 0;
    // Non-string array elements. uint64_t words keep them 8-byte aligned for
    // callers that cast svg_gguf_arr_data, and one spare word keeps the
    // pointer non-NULL for empty arrays (NULL means error).
    std::vector<uint64_t> arr;
    std::vector<std::string> strs;
};

struct gguf_tensor {
    std::string name;
    enum svg_type type = SVG_TYPE_F32;
    int n_dims = 0;
    int64_t ne[SVG_MAX_DIMS] = {0};  // PyTorch order
    uint64_t offset = 0;             // relative to the data section
    uint64_t nbytes = 0;
};

}  // namespace

struct svg_gguf {
    const uint8_t *data = nullptr;
    size_t size = 0;
    void *map = nullptr;  // set when svg_gguf_open mapped the file
    uint32_t version = 0;
    size_t alignment = kDefaultAlignment;
    size_t data_offset = 0;
    std::vector<gguf_kv> kvs;
    std::unordered_map<std::string, int64_t> kv_index;
    std::vector<gguf_tensor> tensors;
    std::unordered_map<std::string, int64_t> tensor_index;

    ~svg_gguf() {
        if (map) munmap(map, size);
    }
};

namespace {

class Parser {
public:
    Parser(const uint8_t *p, size_t size) : p_(p), size_(size) {}
    bool parse(svg_gguf *f);
    const std::string &error() const { return err_; }

private:
    const uint8_t *p_;
    size_t size_;
    size_t pos_ = 0;
    std::string where_;  // item being parsed, for error messages
    std::string err_;

    size_t left() const { return size_ - pos_; }
    bool fail(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    bool take(void *dst, size_t n, const char *what);
    template <typename T>
    bool get(T *v, const char *what) {
        return take(v, sizeof *v, what);
    }
    bool get_str(std::string *s, const char *what);
    bool parse_kv(svg_gguf *f, int64_t i);
    bool parse_array(gguf_kv *kv);
    bool parse_tensor_info(svg_gguf *f, int64_t i);
    bool check_data(svg_gguf *f);
};

bool Parser::fail(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    err_ = where_.empty() ? buf : where_ + ": " + buf;
    return false;
}

bool Parser::take(void *dst, size_t n, const char *what) {
    if (left() < n)
        return fail("file truncated reading %s at offset %zu (needs %zu bytes, %zu left)", what,
                    pos_, n, left());
    memcpy(dst, p_ + pos_, n);
    pos_ += n;
    return true;
}

bool Parser::get_str(std::string *s, const char *what) {
    uint64_t n = 0;
    if (!get(&n, what)) return false;
    if (n > left())
        return fail("%s length %" PRIu64 " at offset %zu exceeds the %zu bytes left", what, n,
                    pos_ - 8, left());
    s->assign((const char *)p_ + pos_, (size_t)n);
    pos_ += (size_t)n;
    return true;
}

bool Parser::parse(svg_gguf *f) {
    where_.clear();
    if (size_ < 4) return fail("file is %zu bytes, too small for a GGUF header", size_);
    char magic[4];
    if (!take(magic, 4, "magic")) return false;
    if (memcmp(magic, kMagic, 4) != 0)
        return fail("bad magic '%s' (not a GGUF file)",
                    printable(std::string(magic, 4)).c_str());
    uint32_t version = 0;
    if (!get(&version, "version")) return false;
    if (version != 2 && version != 3) {
        const uint32_t swapped = __builtin_bswap32(version);
        if (swapped == 2 || swapped == 3)
            return fail("version field 0x%08x is byte-swapped: big-endian GGUF is not supported",
                        version);
        return fail("unsupported version %u (only 2 and 3 are)", version);
    }
    f->version = version;
    uint64_t n_tensors = 0, n_kv = 0;
    if (!get(&n_tensors, "tensor count") || !get(&n_kv, "kv count")) return false;
    if (n_kv > left() / kMinKvBytes)
        return fail("kv count %" PRIu64 " cannot fit in the %zu bytes after the header", n_kv,
                    left());
    if (n_tensors > (left() - n_kv * kMinKvBytes) / kMinTensorInfoBytes)
        return fail("tensor count %" PRIu64 " cannot fit in the %zu bytes after the header",
                    n_tensors, left());

    for (int64_t i = 0; i < (int64_t)n_kv; i++)
        if (!parse_kv(f, i)) return false;

    where_ = kAlignmentKey;
    const auto al = f->kv_index.find(kAlignmentKey);
    if (al != f->kv_index.end()) {
        const gguf_kv &kv = f->kvs[(size_t)al->second];
        if (kv.type != SVG_GGUF_UINT32) return fail("has type %s, must be u32", type_name(kv.type));
        const uint32_t a = (uint32_t)kv.scalar;
        if (a == 0 || (a & (a - 1)) != 0) return fail("%u is not a nonzero power of two", a);
        f->alignment = a;
    }

    for (int64_t i = 0; i < (int64_t)n_tensors; i++)
        if (!parse_tensor_info(f, i)) return false;
    return check_data(f);
}

bool Parser::parse_kv(svg_gguf *f, int64_t i) {
    where_ = "kv " + std::to_string(i);
    gguf_kv kv;
    if (!get_str(&kv.key, "key")) return false;
    where_ += " '" + printable(kv.key) + "'";
    if (kv.key.find('\0') != std::string::npos) return fail("key contains a NUL byte");
    const auto dup = f->kv_index.emplace(kv.key, i);
    if (!dup.second) return fail("duplicate key (also kv %" PRId64 ")", dup.first->second);
    if (!get(&kv.type, "value type")) return false;
    if (kv.type >= SVG_GGUF_TYPE_COUNT) return fail("unknown value type %u", kv.type);
    if (kv.type == SVG_GGUF_STRING) {
        if (!get_str(&kv.str, "string value")) return false;
    } else if (kv.type == SVG_GGUF_ARRAY) {
        if (!parse_array(&kv)) return false;
    } else {
        if (!take(&kv.scalar, scalar_size(kv.type), "value")) return false;
        if (kv.type == SVG_GGUF_BOOL && kv.scalar > 1)
            return fail("bool value %" PRIu64 " is not 0 or 1", kv.scalar);
    }
    f->kvs.push_back(std::move(kv));
    return true;
}

bool Parser::parse_array(gguf_kv *kv) {
    if (!get(&kv->arr_type, "array element type") || !get(&kv->arr_n, "array length"))
        return false;
    if (kv->arr_type == SVG_GGUF_ARRAY) return fail("nested arrays are not supported");
    if (kv->arr_type >= SVG_GGUF_TYPE_COUNT)
        return fail("unknown array element type %u", kv->arr_type);
    if (kv->arr_type == SVG_GGUF_STRING) {
        // each string takes at least its 8-byte length
        if (kv->arr_n > left() / 8)
            return fail("array of %" PRIu64 " strings cannot fit in the %zu bytes left",
                        kv->arr_n, left());
        for (uint64_t j = 0; j < kv->arr_n; j++) {
            kv->strs.emplace_back();
            if (!get_str(&kv->strs.back(), "array string")) return false;
        }
        return true;
    }
    const size_t es = scalar_size(kv->arr_type);
    if (kv->arr_n > left() / es)
        return fail("array of %" PRIu64 " %s extends past end of file (%zu bytes left)",
                    kv->arr_n, type_name(kv->arr_type), left());
    const size_t nbytes = (size_t)kv->arr_n * es;
    kv->arr.assign(nbytes / 8 + 1, 0);
    if (!take(kv->arr.data(), nbytes, "array")) return false;
    if (kv->arr_type == SVG_GGUF_BOOL) {
        const uint8_t *b = (const uint8_t *)kv->arr.data();
        for (size_t j = 0; j < nbytes; j++)
            if (b[j] > 1) return fail("bool element %zu is %u, not 0 or 1", j, b[j]);
    }
    return true;
}

bool Parser::parse_tensor_info(svg_gguf *f, int64_t i) {
    where_ = "tensor " + std::to_string(i);
    gguf_tensor t;
    if (!get_str(&t.name, "name")) return false;
    where_ = "tensor '" + printable(t.name) + "'";
    if (t.name.size() >= SVG_MAX_NAME)
        return fail("name is %zu bytes, the maximum is %d", t.name.size(), SVG_MAX_NAME - 1);
    if (t.name.find('\0') != std::string::npos) return fail("name contains a NUL byte");
    const auto dup = f->tensor_index.emplace(t.name, i);
    if (!dup.second) return fail("duplicate tensor name (also tensor %" PRId64 ")", dup.first->second);
    uint32_t n_dims = 0;
    if (!get(&n_dims, "n_dims")) return false;
    if (n_dims > SVG_MAX_DIMS) return fail("n_dims %u exceeds the maximum %d", n_dims, SVG_MAX_DIMS);
    t.n_dims = (int)n_dims;
    for (int d = 0; d < t.n_dims; d++) {
        uint64_t ne = 0;
        if (!get(&ne, "dimension")) return false;
        if (ne > (uint64_t)INT64_MAX)
            return fail("dimension %d is %" PRIu64 ", larger than INT64_MAX", d, ne);
        t.ne[t.n_dims - 1 - d] = (int64_t)ne;  // ggml order is innermost first
    }
    uint32_t type = 0;
    if (!get(&type, "type") || !get(&t.offset, "offset")) return false;
    if (type >= SVG_TYPE_COUNT || !svg_type_is_valid((int)type))
        return fail("unknown tensor type %u", type);
    t.type = (enum svg_type)type;
    std::string why;
    if (!dense_nbytes(t.type, t.n_dims, t.ne, &t.nbytes, &why))
        return fail("%s %s", svg_type_name(t.type), why.c_str());
    if (t.offset % f->alignment != 0)
        return fail("offset %" PRIu64 " is not a multiple of the alignment %zu", t.offset,
                    f->alignment);
    f->tensors.push_back(std::move(t));
    return true;
}

// Data section bounds and overlap; called after all tensor infos are read.
bool Parser::check_data(svg_gguf *f) {
    where_.clear();
    uint64_t data_offset;
    if (svg_add_overflow(pos_, f->alignment - 1, &data_offset))
        return fail("data section offset overflows");
    f->data_offset = (size_t)(data_offset / f->alignment * f->alignment);
    std::vector<const gguf_tensor *> by_offset;
    for (const gguf_tensor &t : f->tensors) {
        uint64_t start, end;
        if (svg_add_overflow(f->data_offset, t.offset, &start) ||
            svg_add_overflow(start, t.nbytes, &end) || end > size_)
            return fail("tensor '%s' data [offset %" PRIu64 ", %" PRIu64
                        " bytes] extends past end of file (%zu bytes)",
                        printable(t.name).c_str(), t.offset, t.nbytes, size_);
        if (t.nbytes) by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const gguf_tensor *a, const gguf_tensor *b) { return a->offset < b->offset; });
    // sorted by start, regions are disjoint iff each starts at or after the
    // end of the one before
    for (size_t k = 1; k < by_offset.size(); k++) {
        const gguf_tensor *a = by_offset[k - 1], *b = by_offset[k];
        if (b->offset < a->offset + a->nbytes)
            return fail("tensors '%s' [offset %" PRIu64 ", %" PRIu64 " bytes] and '%s' [offset %" PRIu64
                        ", %" PRIu64 " bytes] overlap",
                        printable(a->name).c_str(), a->offset, a->nbytes,
                        printable(b->name).c_str(), b->offset, b->nbytes);
    }
    return true;
}

// ---------------------------------------------------------------- accessors

const gguf_kv *kv_at(const svg_gguf *f, int64_t i, const char *fn) {
    if (!f) return svg_err<const gguf_kv *>(nullptr, "%s: NULL handle", fn);
    if (i < 0 || (uint64_t)i >= f->kvs.size())
        return svg_err<const gguf_kv *>(nullptr, "%s: kv index %" PRId64 " out of range (%zu kvs)",
                                         fn, i, f->kvs.size());
    return &f->kvs[(size_t)i];
}

const gguf_kv *kv_typed(const svg_gguf *f, int64_t i, uint32_t type, const char *fn) {
    const gguf_kv *kv = kv_at(f, i, fn);
    if (kv && kv->type != type)
        return svg_err<const gguf_kv *>(nullptr, "%s: kv %" PRId64 " '%s' is %s, not %s", fn, i,
                                         printable(kv->key).c_str(), type_name(kv->type),
                                         type_name(type));
    return kv;
}

template <typename T>
T get_scalar(const svg_gguf *f, int64_t i, uint32_t type, const char *fn) {
    const gguf_kv *kv = kv_typed(f, i, type, fn);
    T v = T();
    if (kv) memcpy(&v, &kv->scalar, sizeof v);
    return v;
}

const gguf_kv *kv_by_key(const svg_gguf *f, const char *key, const char *fn) {
    if (!f || !key) return svg_err<const gguf_kv *>(nullptr, "%s: NULL argument", fn);
    const auto it = f->kv_index.find(key);
    if (it == f->kv_index.end())
        return svg_err<const gguf_kv *>(nullptr, "%s: key '%s' not found", fn,
                                         printable(key).c_str());
    return &f->kvs[(size_t)it->second];
}

const gguf_kv *array_at(const svg_gguf *f, int64_t i, const char *fn) {
    return kv_typed(f, i, SVG_GGUF_ARRAY, fn);
}

const gguf_tensor *tensor_at(const svg_gguf *f, int64_t i, const char *fn) {
    if (!f) return svg_err<const gguf_tensor *>(nullptr, "%s: NULL handle", fn);
    if (i < 0 || (uint64_t)i >= f->tensors.size())
        return svg_err<const gguf_tensor *>(nullptr,
                                             "%s: tensor index %" PRId64 " out of range (%zu tensors)",
                                             fn, i, f->tensors.size());
    return &f->tensors[(size_t)i];
}

template <typename T>
T sval(const gguf_kv &kv) {
    T v;
    memcpy(&v, &kv.scalar, sizeof v);
    return v;
}

// An integer kv as int64; false with an error for other types and for u64
// values above INT64_MAX.
bool int_value(const gguf_kv &kv, const char *fn, int64_t *out) {
    switch (kv.type) {
    case SVG_GGUF_UINT8: *out = sval<uint8_t>(kv); return true;
    case SVG_GGUF_INT8: *out = sval<int8_t>(kv); return true;
    case SVG_GGUF_UINT16: *out = sval<uint16_t>(kv); return true;
    case SVG_GGUF_INT16: *out = sval<int16_t>(kv); return true;
    case SVG_GGUF_UINT32: *out = sval<uint32_t>(kv); return true;
    case SVG_GGUF_INT32: *out = sval<int32_t>(kv); return true;
    case SVG_GGUF_INT64: *out = sval<int64_t>(kv); return true;
    case SVG_GGUF_UINT64:
        if (kv.scalar > (uint64_t)INT64_MAX)
            return svg_err(false, "%s: '%s' = %" PRIu64 " does not fit in int64", fn,
                           printable(kv.key).c_str(), kv.scalar);
        *out = (int64_t)kv.scalar;
        return true;
    default:
        return svg_err(false, "%s: '%s' is %s, not an integer", fn, printable(kv.key).c_str(),
                       type_name(kv.type));
    }
}

}  // namespace

extern "C" {

struct svg_gguf *svg_gguf_open_memory(const void *data, size_t size) {
    if (!data && size) return svg_err<svg_gguf *>(nullptr, "gguf: NULL buffer of %zu bytes", size);
    std::unique_ptr<svg_gguf> f(new svg_gguf);
    f->data = (const uint8_t *)data;
    f->size = size;
    Parser p(f->data, size);
    if (!p.parse(f.get())) return svg_err<svg_gguf *>(nullptr, "gguf: %s", p.error().c_str());
    return f.release();
}

struct svg_gguf *svg_gguf_open(const char *path) {
    if (!path) return svg_err<svg_gguf *>(nullptr, "gguf: NULL path");
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return svg_err<svg_gguf *>(nullptr, "gguf: cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        const int e = errno;
        close(fd);
        return svg_err<svg_gguf *>(nullptr, "gguf: cannot stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return svg_err<svg_gguf *>(nullptr, "gguf: '%s' is %s", path,
                                   S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
    }
    // mmap cannot map zero bytes
    if (st.st_size == 0) {
        close(fd);
        return svg_err<svg_gguf *>(nullptr, "gguf: '%s' is empty", path);
    }
    const size_t size = (size_t)st.st_size;
    void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int e = errno;
    close(fd);  // the mapping keeps the file
    if (map == MAP_FAILED)
        return svg_err<svg_gguf *>(nullptr, "gguf: cannot map '%s' (%zu bytes): %s", path, size,
                                   strerror(e));
    std::unique_ptr<svg_gguf> f(new svg_gguf);
    f->map = map;
    f->data = (const uint8_t *)map;
    f->size = size;
    Parser p(f->data, size);
    if (!p.parse(f.get()))
        return svg_err<svg_gguf *>(nullptr, "gguf: '%s': %s", path, p.error().c_str());
    return f.release();
}

void svg_gguf_free(struct svg_gguf *f) { delete f; }

uint32_t svg_gguf_version(const struct svg_gguf *f) {
    return f ? f->version : svg_err<uint32_t>(0, "%s: NULL handle", __func__);
}
size_t svg_gguf_alignment(const struct svg_gguf *f) {
    return f ? f->alignment : svg_err<size_t>(0, "%s: NULL handle", __func__);
}
size_t svg_gguf_data_offset(const struct svg_gguf *f) {
    return f ? f->data_offset : svg_err<size_t>(0, "%s: NULL handle", __func__);
}

int64_t svg_gguf_n_kv(const struct svg_gguf *f) {
    return f ? (int64_t)f->kvs.size() : svg_err<int64_t>(0, "%s: NULL handle", __func__);
}
int64_t svg_gguf_find_key(const struct svg_gguf *f, const char *key) {
    if (!f || !key) return svg_err<int64_t>(-1, "%s: NULL argument", __func__);
    const auto it = f->kv_index.find(key);
    return it == f->kv_index.end() ? -1 : it->second;
}
const char *svg_gguf_key(const struct svg_gguf *f, int64_t i) {
    const gguf_kv *kv = kv_at(f, i, __func__);
    return kv ? kv->key.c_str() : nullptr;
}
enum svg_gguf_type svg_gguf_kv_type(const struct svg_gguf *f, int64_t i) {
    const gguf_kv *kv = kv_at(f, i, __func__);
    return kv ? (enum svg_gguf_type)kv->type : SVG_GGUF_TYPE_COUNT;
}

uint8_t svg_gguf_get_u8(const struct svg_gguf *f, int64_t i) {
    return get_scalar<uint8_t>(f, i, SVG_GGUF_UINT8, __func__);
}
int8_t svg_gguf_get_i8(const struct svg_gguf *f, int64_t i) {
    return get_scalar<int8_t>(f, i, SVG_GGUF_INT8, __func__);
}
uint16_t svg_gguf_get_u16(const struct svg_gguf *f, int64_t i) {
    return get_scalar<uint16_t>(f, i, SVG_GGUF_UINT16, __func__);
}
int16_t svg_gguf_get_i16(const struct svg_gguf *f, int64_t i) {
    return get_scalar<int16_t>(f, i, SVG_GGUF_INT16, __func__);
}
uint32_t svg_gguf_get_u32(const struct svg_gguf *f, int64_t i) {
    return get_scalar<uint32_t>(f, i, SVG_GGUF_UINT32, __func__);
}
int32_t svg_gguf_get_i32(const struct svg_gguf *f, int64_t i) {
    return get_scalar<int32_t>(f, i, SVG_GGUF_INT32, __func__);
}
uint64_t svg_gguf_get_u64(const struct svg_gguf *f, int64_t i) {
    return get_scalar<uint64_t>(f, i, SVG_GGUF_UINT64, __func__);
}
int64_t svg_gguf_get_i64(const struct svg_gguf *f, int64_t i) {
    return get_scalar<int64_t>(f, i, SVG_GGUF_INT64, __func__);
}
float svg_gguf_get_f32(const struct svg_gguf *f, int64_t i) {
    return get_scalar<float>(f, i, SVG_GGUF_FLOAT32, __func__);
}
double svg_gguf_get_f64(const struct svg_gguf *f, int64_t i) {
    return get_scalar<double>(f, i, SVG_GGUF_FLOAT64, __func__);
}
bool svg_gguf_get_bool(const struct svg_gguf *f, int64_t i) {
    return get_scalar<uint8_t>(f, i, SVG_GGUF_BOOL, __func__) != 0;
}
const char *svg_gguf_get_str(const struct svg_gguf *f, int64_t i) {
    const gguf_kv *kv = kv_typed(f, i, SVG_GGUF_STRING, __func__);
    return kv ? kv->str.c_str() : nullptr;
}

enum svg_gguf_type svg_gguf_arr_type(const struct svg_gguf *f, int64_t i) {
    const gguf_kv *kv = array_at(f, i, __func__);
    return kv ? (enum svg_gguf_type)kv->arr_type : SVG_GGUF_TYPE_COUNT;
}
int64_t svg_gguf_arr_n(const struct svg_gguf *f, int64_t i) {
    const gguf_kv *kv = array_at(f, i, __func__);
    return kv ? (int64_t)kv->arr_n : 0;
}
const void *svg_gguf_arr_data(const struct svg_gguf *f, int64_t i) {
    const gguf_kv *kv = array_at(f, i, __func__);
    if (!kv) return nullptr;
    if (kv->arr_type == SVG_GGUF_STRING)
        return svg_err<const void *>(nullptr,
                                     "%s: kv %" PRId64 " '%s' is a string array (use svg_gguf_arr_str)",
                                     __func__, i, printable(kv->key).c_str());
    return kv->arr.data();
}
const char *svg_gguf_arr_str(const struct svg_gguf *f, int64_t i, int64_t j) {
    const gguf_kv *kv = array_at(f, i, __func__);
    if (!kv) return nullptr;
    if (kv->arr_type != SVG_GGUF_STRING)
        return svg_err<const char *>(nullptr, "%s: kv %" PRId64 " '%s' is an array of %s, not string",
                                     __func__, i, printable(kv->key).c_str(),
                                     type_name(kv->arr_type));
    if (j < 0 || (uint64_t)j >= kv->arr_n)
        return svg_err<const char *>(nullptr,
                                     "%s: element %" PRId64 " out of range (%" PRIu64 " strings in '%s')",
                                     __func__, j, kv->arr_n, printable(kv->key).c_str());
    return kv->strs[(size_t)j].c_str();
}

bool svg_gguf_get_int(const struct svg_gguf *f, const char *key, int64_t *out) {
    const gguf_kv *kv = kv_by_key(f, key, __func__);
    int64_t v = 0;
    if (!kv || !int_value(*kv, __func__, &v)) return false;
    if (out) *out = v;
    return true;
}

bool svg_gguf_get_float(const struct svg_gguf *f, const char *key, double *out) {
    const gguf_kv *kv = kv_by_key(f, key, __func__);
    if (!kv) return false;
    double v = 0;
    int64_t i = 0;
    if (kv->type == SVG_GGUF_FLOAT32) {
        v = sval<float>(*kv);
    } else if (kv->type == SVG_GGUF_FLOAT64) {
        v = sval<double>(*kv);
    } else if (kv->type == SVG_GGUF_UINT64) {
        v = (double)kv->scalar;
    } else if (int_value(*kv, __func__, &i)) {
        v = (double)i;
    } else {
        return svg_err(false, "%s: '%s' is %s, not a number", __func__, printable(key).c_str(),
                       type_name(kv->type));
    }
    if (out) *out = v;
    return true;
}

const char *svg_gguf_get_string(const struct svg_gguf *f, const char *key) {
    const gguf_kv *kv = kv_by_key(f, key, __func__);
    if (!kv) return nullptr;
    if (kv->type != SVG_GGUF_STRING)
        return svg_err<const char *>(nullptr, "%s: '%s' is %s, not string", __func__,
                                     printable(key).c_str(), type_name(kv->type));
    return kv->str.c_str();
}

int64_t svg_gguf_n_tensors(const struct svg_gguf *f) {
    return f ? (int64_t)f->tensors.size() : svg_err<int64_t>(0, "%s: NULL handle", __func__);
}
int64_t svg_gguf_find_tensor(const struct svg_gguf *f, const char *name) {
    if (!f || !name) return svg_err<int64_t>(-1, "%s: NULL argument", __func__);
    const auto it = f->tensor_index.find(name);
    return it == f->tensor_index.end() ? -1 : it->second;
}
const char *svg_gguf_tensor_name(const struct svg_gguf *f, int64_t i) {
    const gguf_tensor *t = tensor_at(f, i, __func__);
    return t ? t->name.c_str() : nullptr;
}
enum svg_type svg_gguf_tensor_type(const struct svg_gguf *f, int64_t i) {
    const gguf_tensor *t = tensor_at(f, i, __func__);
    return t ? t->type : SVG_TYPE_COUNT;
}
int svg_gguf_tensor_n_dims(const struct svg_gguf *f, int64_t i) {
    const gguf_tensor *t = tensor_at(f, i, __func__);
    return t ? t->n_dims : 0;
}
void svg_gguf_tensor_shape(const struct svg_gguf *f, int64_t i, int64_t *ne) {
    const gguf_tensor *t = tensor_at(f, i, __func__);
    if (!t) return;
    if (!ne) {
        svg_set_error("%s: NULL output", __func__);
        return;
    }
    for (int d = 0; d < t->n_dims; d++) ne[d] = t->ne[d];
}
size_t svg_gguf_tensor_offset(const struct svg_gguf *f, int64_t i) {
    const gguf_tensor *t = tensor_at(f, i, __func__);
    return t ? (size_t)t->offset : 0;
}
size_t svg_gguf_tensor_nbytes(const struct svg_gguf *f, int64_t i) {
    const gguf_tensor *t = tensor_at(f, i, __func__);
    return t ? (size_t)t->nbytes : 0;
}
const void *svg_gguf_tensor_data(const struct svg_gguf *f, int64_t i) {
    const gguf_tensor *t = tensor_at(f, i, __func__);
    return t ? f->data + f->data_offset + t->offset : nullptr;
}

struct svg_tensor *svg_gguf_new_tensor(const struct svg_gguf *f, int64_t i,
                                       struct svg_context *ctx) {
    const gguf_tensor *t = tensor_at(f, i, __func__);
    if (!t) return nullptr;
    if (!ctx) return svg_err<svg_tensor *>(nullptr, "%s: NULL context", __func__);
    svg_tensor *out = svg_new_tensor(ctx, t->type, t->n_dims, t->ne);
    return out ? svg_set_name(out, t->name.c_str()) : nullptr;
}

}  // extern "C"

// ---------------------------------------------------------------- writer

namespace {

struct writer_kv {
    std::string key;
    uint32_t type;
    std::vector<uint8_t> value;  // encoded value, after the type field
};

struct writer_tensor {
    std::string name;
    enum svg_type type;
    int n_dims;
    int64_t ne[SVG_MAX_DIMS];  // PyTorch order
    size_t nbytes;
    std::vector<uint8_t> data;          // the bytes, or empty with fill
    svg_gguf_fill_fn fill = nullptr;    // produces the bytes while the file is written
    void *user = nullptr;
};

void put(std::vector<uint8_t> *out, const void *p, size_t n) {
    out->insert(out->end(), (const uint8_t *)p, (const uint8_t *)p + n);
}
void put_u32(std::vector<uint8_t> *out, uint32_t v) { put(out, &v, 4); }
void put_u64(std::vector<uint8_t> *out, uint64_t v) { put(out, &v, 8); }
void put_str(std::vector<uint8_t> *out, const std::string &s) {
    put_u64(out, s.size());
    put(out, s.data(), s.size());
}

// write(2) until done; false with errno set on failure
bool write_all(int fd, const void *p, size_t n) {
    const char *c = (const char *)p;
    while (n > 0) {
        const ssize_t k = write(fd, c, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        c += k;
        n -= (size_t)k;
    }
    return true;
}

bool write_zeros(int fd, size_t n) {
    static const char zeros[4096] = {0};
    while (n > 0) {
        const size_t k = std::min(n, sizeof zeros);
        if (!write_all(fd, zeros, k)) return false;
        n -= k;
    }
    return true;
}

}  // namespace

struct svg_gguf_writer {
    uint32_t alignment = kDefaultAlignment;
    std::vector<writer_kv> kvs;
    std::unordered_map<std::string, size_t> kv_index;
    std::vector<writer_tensor> tensors;
    std::unordered_set<std::string> tensor_names;

    bool set(const char *fn, const char *key, uint32_t type, std::vector<uint8_t> value) {
        if (!key || !*key) return svg_err(false, "%s: key must be a non-empty string", fn);
        if (strcmp(key, kAlignmentKey) == 0)
            return svg_err(false, "%s: set %s with svg_gguf_writer_set_alignment", fn, kAlignmentKey);
        const auto it = kv_index.find(key);
        if (it != kv_index.end()) {
            kvs[it->second].type = type;
            kvs[it->second].value = std::move(value);
            return true;
        }
        kv_index.emplace(key, kvs.size());
        kvs.push_back({key, type, std::move(value)});
        return true;
    }
    template <typename T>
    bool set_scalar(const char *fn, const char *key, uint32_t type, T v) {
        std::vector<uint8_t> value;
        put(&value, &v, sizeof v);
        return set(fn, key, type, std::move(value));
    }

    // Validates a tensor about to be added; *nbytes is its data size.
    bool check_tensor(const char *fn, const char *name, enum svg_type type, int n_dims,
                      const int64_t *ne, uint64_t *nbytes) const {
        if (!name || !*name) return svg_err(false, "%s: tensor name must be non-empty", fn);
        if (strlen(name) >= SVG_MAX_NAME)
            return svg_err(false, "%s: tensor name '%s' is longer than %d bytes", fn, name,
                           SVG_MAX_NAME - 1);
        if (tensor_names.count(name)) return svg_err(false, "%s: duplicate tensor '%s'", fn, name);
        if (!svg_type_is_valid((int)type))
            return svg_err(false, "%s: tensor '%s' has unknown type %d", fn, name, (int)type);
        if (n_dims < 0 || n_dims > SVG_MAX_DIMS || (n_dims > 0 && !ne))
            return svg_err(false, "%s: tensor '%s' has bad rank %d", fn, name, n_dims);
        std::string why;
        if (!dense_nbytes(type, n_dims, ne, nbytes, &why))
            return svg_err(false, "%s: tensor '%s' (%s) %s", fn, name, svg_type_name(type), why.c_str());
        return true;
    }
    void add_tensor(const char *name, enum svg_type type, int n_dims, const int64_t *ne, size_t nbytes,
                    std::vector<uint8_t> data, svg_gguf_fill_fn fill = nullptr, void *user = nullptr) {
        writer_tensor t;
        t.name = name;
        t.type = type;
        t.n_dims = n_dims;
        for (int d = 0; d < n_dims; d++) t.ne[d] = ne[d];
        t.nbytes = nbytes;
        t.data = std::move(data);
        t.fill = fill;
        t.user = user;
        tensor_names.insert(t.name);
        tensors.push_back(std::move(t));
    }

    // false with errno set (a write failed), or with fill_failed (a fill
    // callback failed and set the error)
    bool write_file(int fd, bool *fill_failed) const;
};

// Header, metadata and tensor infos, then each tensor's data padded to the
// alignment. The last tensor is padded too, as ggml and gguf-py do: ggml's
// reader (without no_alloc) reads the padded size of every tensor.
bool svg_gguf_writer::write_file(int fd, bool *fill_failed) const {
    const bool write_alignment = alignment != kDefaultAlignment;
    std::vector<uint8_t> meta;
    put(&meta, kMagic, 4);
    put_u32(&meta, 3);
    put_u64(&meta, tensors.size());
    put_u64(&meta, kvs.size() + (write_alignment ? 1 : 0));
    // general.alignment goes first so readers know it before anything else
    if (write_alignment) {
        put_str(&meta, kAlignmentKey);
        put_u32(&meta, SVG_GGUF_UINT32);
        put_u32(&meta, alignment);
    }
    for (const writer_kv &kv : kvs) {
        put_str(&meta, kv.key);
        put_u32(&meta, kv.type);
        put(&meta, kv.value.data(), kv.value.size());
    }
    size_t offset = 0;
    for (const writer_tensor &t : tensors) {
        put_str(&meta, t.name);
        put_u32(&meta, (uint32_t)t.n_dims);
        for (int d = t.n_dims - 1; d >= 0; d--) put_u64(&meta, (uint64_t)t.ne[d]);
        put_u32(&meta, (uint32_t)t.type);
        put_u64(&meta, offset);
        offset = svg_align_up(offset + t.nbytes, alignment);
    }
    meta.resize(svg_align_up(meta.size(), alignment), 0);
    if (!write_all(fd, meta.data(), meta.size())) return false;
    // filled tensors one at a time: only the largest is ever in memory
    std::vector<uint8_t> filled;
    for (const writer_tensor &t : tensors) {
        const size_t n = t.nbytes;
        const uint8_t *bytes = t.data.data();
        if (t.fill) {
            filled.assign(n, 0);
            if (!t.fill(t.user, filled.data(), n)) {
                *fill_failed = true;
                return false;
            }
            bytes = filled.data();
        }
        if (!write_all(fd, bytes, n) || !write_zeros(fd, svg_align_up(n, alignment) - n))
            return false;
    }
    return true;
}

extern "C" {

struct svg_gguf_writer *svg_gguf_writer_new(void) { return new svg_gguf_writer; }
void svg_gguf_writer_free(struct svg_gguf_writer *w) { delete w; }

bool svg_gguf_writer_set_alignment(struct svg_gguf_writer *w, uint32_t alignment) {
    if (!w) return svg_err(false, "%s: NULL writer", __func__);
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        return svg_err(false, "%s: alignment %u is not a nonzero power of two", __func__, alignment);
    w->alignment = alignment;
    return true;
}

#define SVG_GGUF_SETTER(suffix, ctype, gtype)                                                   \
    bool svg_gguf_writer_set_##suffix(struct svg_gguf_writer *w, const char *key, ctype v) {   \
        if (!w) return svg_err(false, "%s: NULL writer", __func__);                             \
        return w->set_scalar(__func__, key, gtype, v);                                         \
    }
SVG_GGUF_SETTER(u8, uint8_t, SVG_GGUF_UINT8)
SVG_GGUF_SETTER(i8, int8_t, SVG_GGUF_INT8)
SVG_GGUF_SETTER(u16, uint16_t, SVG_GGUF_UINT16)
SVG_GGUF_SETTER(i16, int16_t, SVG_GGUF_INT16)
SVG_GGUF_SETTER(i32, int32_t, SVG_GGUF_INT32)
SVG_GGUF_SETTER(u64, uint64_t, SVG_GGUF_UINT64)
SVG_GGUF_SETTER(i64, int64_t, SVG_GGUF_INT64)
SVG_GGUF_SETTER(f32, float, SVG_GGUF_FLOAT32)
SVG_GGUF_SETTER(f64, double, SVG_GGUF_FLOAT64)
#undef SVG_GGUF_SETTER

// general.alignment is a u32 kv, so setting it as one is the same as
// svg_gguf_writer_set_alignment.
bool svg_gguf_writer_set_u32(struct svg_gguf_writer *w, const char *key, uint32_t v) {
    if (!w) return svg_err(false, "%s: NULL writer", __func__);
    if (key && strcmp(key, kAlignmentKey) == 0) return svg_gguf_writer_set_alignment(w, v);
    return w->set_scalar(__func__, key, SVG_GGUF_UINT32, v);
}

bool svg_gguf_writer_set_bool(struct svg_gguf_writer *w, const char *key, bool v) {
    if (!w) return svg_err(false, "%s: NULL writer", __func__);
    return w->set_scalar(__func__, key, SVG_GGUF_BOOL, (uint8_t)(v ? 1 : 0));
}

bool svg_gguf_writer_set_str(struct svg_gguf_writer *w, const char *key, const char *v) {
    if (!w || !v) return svg_err(false, "%s: NULL argument", __func__);
    std::vector<uint8_t> value;
    put_str(&value, v);
    return w->set(__func__, key, SVG_GGUF_STRING, std::move(value));
}

bool svg_gguf_writer_set_arr(struct svg_gguf_writer *w, const char *key, enum svg_gguf_type type,
                             const void *data, int64_t n) {
    if (!w) return svg_err(false, "%s: NULL writer", __func__);
    const size_t es = scalar_size((uint32_t)type);
    if (!es)
        return svg_err(false, "%s: element type %d is not a numeric or bool type%s", __func__,
                       (int)type, type == SVG_GGUF_STRING ? " (use svg_gguf_writer_set_arr_str)" : "");
    if (n < 0 || (n > 0 && !data))
        return svg_err(false, "%s: bad array (%" PRId64 " elements at %p)", __func__, n, data);
    uint64_t nbytes;
    if (svg_mul_overflow((uint64_t)n, es, &nbytes))
        return svg_err(false, "%s: array of %" PRId64 " elements overflows", __func__, n);
    if (type == SVG_GGUF_BOOL)
        for (int64_t j = 0; j < n; j++)
            if (((const uint8_t *)data)[j] > 1)
                return svg_err(false, "%s: bool element %" PRId64 " is not 0 or 1", __func__, j);
    std::vector<uint8_t> value;
    put_u32(&value, (uint32_t)type);
    put_u64(&value, (uint64_t)n);
    put(&value, data, (size_t)nbytes);
    return w->set(__func__, key, SVG_GGUF_ARRAY, std::move(value));
}

bool svg_gguf_writer_set_arr_str(struct svg_gguf_writer *w, const char *key,
                                 const char *const *strs, int64_t n) {
    if (!w) return svg_err(false, "%s: NULL writer", __func__);
    if (n < 0 || (n > 0 && !strs))
        return svg_err(false, "%s: bad array (%" PRId64 " strings)", __func__, n);
    std::vector<uint8_t> value;
    put_u32(&value, SVG_GGUF_STRING);
    put_u64(&value, (uint64_t)n);
    for (int64_t j = 0; j < n; j++) {
        if (!strs[j]) return svg_err(false, "%s: string %" PRId64 " is NULL", __func__, j);
        put_str(&value, strs[j]);
    }
    return w->set(__func__, key, SVG_GGUF_ARRAY, std::move(value));
}

bool svg_gguf_writer_add_tensor_data(struct svg_gguf_writer *w, const char *name,
                                     enum svg_type type, int n_dims, const int64_t *ne,
                                     const void *data, size_t size) {
    if (!w) return svg_err(false, "%s: NULL writer", __func__);
    uint64_t nbytes;
    if (!w->check_tensor(__func__, name, type, n_dims, ne, &nbytes)) return false;
    if (size != nbytes)
        return svg_err(false, "%s: tensor '%s' needs %" PRIu64 " bytes, got %zu", __func__, name,
                       nbytes, size);
    if (size && !data) return svg_err(false, "%s: tensor '%s' has NULL data", __func__, name);
    w->add_tensor(name, type, n_dims, ne, size,
                  std::vector<uint8_t>((const uint8_t *)data, (const uint8_t *)data + size));
    return true;
}

bool svg_gguf_writer_add_tensor_fill(struct svg_gguf_writer *w, const char *name, enum svg_type type,
                                     int n_dims, const int64_t *ne, svg_gguf_fill_fn fill, void *user) {
    if (!w || !fill) return svg_err(false, "%s: NULL argument", __func__);
    uint64_t nbytes;
    if (!w->check_tensor(__func__, name, type, n_dims, ne, &nbytes)) return false;
    if (nbytes > SIZE_MAX) return svg_err(false, "%s: tensor '%s' is too large", __func__, name);
    w->add_tensor(name, type, n_dims, ne, (size_t)nbytes, {}, fill, user);
    return true;
}

bool svg_gguf_writer_add_tensor(struct svg_gguf_writer *w, const struct svg_tensor *t) {
    if (!w || !t) return svg_err(false, "%s: NULL argument", __func__);
    if (strnlen(t->name, SVG_MAX_NAME) == SVG_MAX_NAME)
        return svg_err(false, "%s: tensor name is not NUL-terminated", __func__);
    uint64_t nbytes;
    if (!w->check_tensor(__func__, t->name, t->type, t->n_dims, t->ne, &nbytes)) return false;
    if (!svg_is_contiguous(t))
        return svg_err(false, "%s: tensor '%s' %s is not contiguous (use svg_cont)", __func__,
                       t->name, svg_shape_string(t).c_str());
    std::vector<uint8_t> data((size_t)nbytes);
    if (nbytes && !svg_tensor_get(t, data.data(), 0, (size_t)nbytes)) return false;
    w->add_tensor(t->name, t->type, t->n_dims, t->ne, (size_t)nbytes, std::move(data));
    return true;
}

bool svg_gguf_writer_write(struct svg_gguf_writer *w, const char *path) {
    if (!w || !path || !*path) return svg_err(false, "%s: NULL argument", __func__);
    // Write a temporary file beside the target and rename it over the target
    // only once it is complete and on disk, so readers never see a partial file.
    const std::string tmp = std::string(path) + ".tmp." + std::to_string((long)getpid());
    // The name is ours (it carries our pid): clear a leftover from a crashed
    // writer, then create exclusively so we never write through a file or
    // symlink that someone else put there.
    unlink(tmp.c_str());
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return svg_err(false, "gguf: cannot create '%s': %s", tmp.c_str(), strerror(errno));
    const char *step = "writing";
    bool fill_failed = false;
    bool ok = w->write_file(fd, &fill_failed);
    if (fill_failed) {  // the callback's error stands
        const std::string why = svg_last_error();
        close(fd);
        unlink(tmp.c_str());
        return svg_err(false, "%s", why.c_str());
    }
    if (ok) {
        step = "syncing";
        ok = fsync(fd) == 0;
    }
    int e = errno;
    if (close(fd) != 0 && ok) {
        step = "closing";
        ok = false;
        e = errno;
    }
    if (ok && rename(tmp.c_str(), path) != 0) {
        e = errno;
        unlink(tmp.c_str());
        return svg_err(false, "gguf: cannot rename '%s' to '%s': %s", tmp.c_str(), path, strerror(e));
    }
    if (!ok) {
        unlink(tmp.c_str());
        return svg_err(false, "gguf: %s '%s' failed: %s", step, tmp.c_str(), strerror(e));
    }
    // Persist the rename itself; failing here does not undo the write.
    const char *slash = strrchr(path, '/');
    const std::string dir = !slash ? "." : slash == path ? "/" : std::string(path, slash);
    const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

}  // extern "C"
