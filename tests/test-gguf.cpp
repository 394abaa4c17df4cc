// GGUF reader and writer: round trips of every dtype and metadata type,
// alignment, a malformed corpus derived from a valid file, writer errors,
// atomic writes, and cross-checks against the reference Python `gguf` package.
#include "test-common.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <string>

#include "tests/gguf-walk.h"

namespace {

using GgufPtr = std::unique_ptr<svg_gguf, decltype(&svg_gguf_free)>;
using WriterPtr = std::unique_ptr<svg_gguf_writer, decltype(&svg_gguf_writer_free)>;
using ContextPtr = std::unique_ptr<svg_context, decltype(&svg_context_free)>;

WriterPtr new_writer() { return WriterPtr(svg_gguf_writer_new(), svg_gguf_writer_free); }
ContextPtr new_context(bool no_alloc) { return ContextPtr(svg_context_new(no_alloc), svg_context_free); }
GgufPtr open_file(const std::string &path) { return GgufPtr(svg_gguf_open(path.c_str()), svg_gguf_free); }
GgufPtr open_bytes(const std::vector<uint8_t> &b) {
    return GgufPtr(svg_gguf_open_memory(b.data(), b.size()), svg_gguf_free);
}

std::string tmp_path(const std::string &name) {
    return ::testing::TempDir() + "svg-test-gguf-" + std::to_string(getpid()) + "-" + name;
}
std::string temp_of(const std::string &path) {  // the writer's temporary file
    return path + ".tmp." + std::to_string(getpid());
}
bool exists(const std::string &path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}
std::vector<uint8_t> read_bytes(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string &path, const std::vector<uint8_t> &b) {
    std::ofstream(path, std::ios::binary).write((const char *)b.data(), (std::streamsize)b.size());
}
std::vector<uint8_t> random_bytes(std::mt19937 &rng, size_t n) {
    std::vector<uint8_t> b(n);
    for (uint8_t &x : b) x = (uint8_t)rng();
    return b;
}
template <typename T>
std::vector<uint8_t> bytes_of(T v) {
    std::vector<uint8_t> b(sizeof v);
    memcpy(b.data(), &v, sizeof v);
    return b;
}
template <typename T>
T from_bytes(const std::vector<uint8_t> &b) {
    T v;
    memcpy(&v, b.data(), sizeof v);
    return v;
}
bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

// Writes w to a temporary file and returns the file's bytes.
std::vector<uint8_t> write_to_bytes(svg_gguf_writer *w) {
    const std::string path = tmp_path("bytes.gguf");
    EXPECT_TRUE(svg_gguf_writer_write(w, path.c_str())) << svg_last_error();
    std::vector<uint8_t> b = read_bytes(path);
    unlink(path.c_str());
    return b;
}


// The value of scalar kv i as its little-endian bytes, read with the getter of its type.
std::vector<uint8_t> scalar_bytes(const svg_gguf *f, int64_t i) {
    switch (svg_gguf_kv_type(f, i)) {
    case SVG_GGUF_UINT8: return bytes_of(svg_gguf_get_u8(f, i));
    case SVG_GGUF_INT8: return bytes_of(svg_gguf_get_i8(f, i));
    case SVG_GGUF_UINT16: return bytes_of(svg_gguf_get_u16(f, i));
    case SVG_GGUF_INT16: return bytes_of(svg_gguf_get_i16(f, i));
    case SVG_GGUF_UINT32: return bytes_of(svg_gguf_get_u32(f, i));
    case SVG_GGUF_INT32: return bytes_of(svg_gguf_get_i32(f, i));
    case SVG_GGUF_FLOAT32: return bytes_of(svg_gguf_get_f32(f, i));
    case SVG_GGUF_BOOL: return bytes_of((uint8_t)svg_gguf_get_bool(f, i));
    case SVG_GGUF_UINT64: return bytes_of(svg_gguf_get_u64(f, i));
    case SVG_GGUF_INT64: return bytes_of(svg_gguf_get_i64(f, i));
    case SVG_GGUF_FLOAT64: return bytes_of(svg_gguf_get_f64(f, i));
    default: return {};
    }
}

// ------------------------------------------------------------ metadata cases

struct ScalarKv {
    std::string key;
    svg_gguf_type type;
    std::vector<uint8_t> raw;
};
struct ArrayKv {
    std::string key;
    svg_gguf_type elem;
    std::vector<uint8_t> raw;
    int64_t n;
};
struct StringArrayKv {
    std::string key;
    std::vector<std::string> strs;
};

template <typename T>
ScalarKv scalar_kv(const std::string &key, svg_gguf_type type, T v) {
    return {key, type, bytes_of(v)};
}
template <typename T>
ArrayKv array_kv(const std::string &key, svg_gguf_type elem, const std::vector<T> &v) {
    std::vector<uint8_t> raw(v.size() * sizeof(T));
    if (!v.empty()) memcpy(raw.data(), v.data(), raw.size());
    return {key, elem, raw, (int64_t)v.size()};
}

std::vector<ScalarKv> scalar_cases() {
    using lim8 = std::numeric_limits<int8_t>;
    using lim16 = std::numeric_limits<int16_t>;
    using lim32 = std::numeric_limits<int32_t>;
    using lim64 = std::numeric_limits<int64_t>;
    return {
        scalar_kv<uint8_t>("t.u8", SVG_GGUF_UINT8, 255),
        scalar_kv<int8_t>("t.i8", SVG_GGUF_INT8, lim8::min()),
        scalar_kv<uint16_t>("t.u16", SVG_GGUF_UINT16, 65535),
        scalar_kv<int16_t>("t.i16", SVG_GGUF_INT16, lim16::min()),
        scalar_kv<uint32_t>("t.u32", SVG_GGUF_UINT32, 4294967295u),
        scalar_kv<int32_t>("t.i32", SVG_GGUF_INT32, lim32::min()),
        scalar_kv<float>("t.f32", SVG_GGUF_FLOAT32, 3.5f),
        scalar_kv<float>("t.f32_neg_zero", SVG_GGUF_FLOAT32, -0.0f),
        scalar_kv<float>("t.f32_inf", SVG_GGUF_FLOAT32, -std::numeric_limits<float>::infinity()),
        scalar_kv<float>("t.f32_nan", SVG_GGUF_FLOAT32, std::numeric_limits<float>::quiet_NaN()),
        scalar_kv<uint8_t>("t.bool_true", SVG_GGUF_BOOL, 1),
        scalar_kv<uint8_t>("t.bool_false", SVG_GGUF_BOOL, 0),
        scalar_kv<uint64_t>("t.u64", SVG_GGUF_UINT64, std::numeric_limits<uint64_t>::max()),
        scalar_kv<int64_t>("t.i64", SVG_GGUF_INT64, lim64::min()),
        scalar_kv<double>("t.f64", SVG_GGUF_FLOAT64, -1e300),
    };
}

std::vector<ArrayKv> array_cases() {
    std::vector<ArrayKv> v = {
        array_kv<uint8_t>("a.u8", SVG_GGUF_UINT8, {0, 1, 255}),
        array_kv<int8_t>("a.i8", SVG_GGUF_INT8, {-128, 0, 127}),
        array_kv<uint16_t>("a.u16", SVG_GGUF_UINT16, {0, 65535, 7}),
        array_kv<int16_t>("a.i16", SVG_GGUF_INT16, {-32768, 32767}),
        array_kv<uint32_t>("a.u32", SVG_GGUF_UINT32, {1, 4294967295u, 3, 4, 5}),
        array_kv<int32_t>("a.i32", SVG_GGUF_INT32, {-1, 2, -3}),
        array_kv<float>("a.f32", SVG_GGUF_FLOAT32, {1.5f, -0.0f, 1e-40f}),
        array_kv<uint8_t>("a.bool", SVG_GGUF_BOOL, {1, 0, 1, 1}),
        array_kv<uint64_t>("a.u64", SVG_GGUF_UINT64, {std::numeric_limits<uint64_t>::max(), 0}),
        array_kv<int64_t>("a.i64", SVG_GGUF_INT64, {std::numeric_limits<int64_t>::min(), 42}),
        array_kv<double>("a.f64", SVG_GGUF_FLOAT64, {3.141592653589793, -2.5e-310}),
    };
    // an empty array of every element type
    const size_t n = v.size();
    for (size_t k = 0; k < n; k++) v.push_back({v[k].key + ".empty", v[k].elem, {}, 0});
    return v;
}

std::vector<std::pair<std::string, std::string>> string_cases() {
    return {
        {"general.name", "svg test"},
        {"s.empty", ""},
        {"s.utf8", "gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93"},
        {"s.quotes", "a \"quoted\" \\ back\\slash\nnewline"},
        {"s.long", std::string(1000, 'x')},
    };
}

std::vector<StringArrayKv> string_array_cases() {
    return {
        {"sa.words", {"alpha", "", "gr\xc3\xbc\xc3\x9f" "e", std::string(300, 'y')}},
        {"sa.empty", {}},
        {"sa.one_empty", {""}},
    };
}

bool set_scalar(svg_gguf_writer *w, const ScalarKv &kv) {
    const char *k = kv.key.c_str();
    switch (kv.type) {
    case SVG_GGUF_UINT8: return svg_gguf_writer_set_u8(w, k, from_bytes<uint8_t>(kv.raw));
    case SVG_GGUF_INT8: return svg_gguf_writer_set_i8(w, k, from_bytes<int8_t>(kv.raw));
    case SVG_GGUF_UINT16: return svg_gguf_writer_set_u16(w, k, from_bytes<uint16_t>(kv.raw));
    case SVG_GGUF_INT16: return svg_gguf_writer_set_i16(w, k, from_bytes<int16_t>(kv.raw));
    case SVG_GGUF_UINT32: return svg_gguf_writer_set_u32(w, k, from_bytes<uint32_t>(kv.raw));
    case SVG_GGUF_INT32: return svg_gguf_writer_set_i32(w, k, from_bytes<int32_t>(kv.raw));
    case SVG_GGUF_FLOAT32: return svg_gguf_writer_set_f32(w, k, from_bytes<float>(kv.raw));
    case SVG_GGUF_BOOL: return svg_gguf_writer_set_bool(w, k, kv.raw[0] != 0);
    case SVG_GGUF_UINT64: return svg_gguf_writer_set_u64(w, k, from_bytes<uint64_t>(kv.raw));
    case SVG_GGUF_INT64: return svg_gguf_writer_set_i64(w, k, from_bytes<int64_t>(kv.raw));
    case SVG_GGUF_FLOAT64: return svg_gguf_writer_set_f64(w, k, from_bytes<double>(kv.raw));
    default: return false;
    }
}

// Every metadata case above, in this order: strings, scalars, arrays, string arrays.
void set_all_metadata(svg_gguf_writer *w) {
    for (const auto &s : string_cases())
        EXPECT_TRUE(svg_gguf_writer_set_str(w, s.first.c_str(), s.second.c_str())) << svg_last_error();
    for (const ScalarKv &kv : scalar_cases()) EXPECT_TRUE(set_scalar(w, kv)) << kv.key << ": " << svg_last_error();
    for (const ArrayKv &kv : array_cases())
        EXPECT_TRUE(svg_gguf_writer_set_arr(w, kv.key.c_str(), kv.elem, kv.raw.data(), kv.n))
            << kv.key << ": " << svg_last_error();
    for (const StringArrayKv &kv : string_array_cases()) {
        std::vector<const char *> p;
        for (const std::string &s : kv.strs) p.push_back(s.c_str());
        EXPECT_TRUE(svg_gguf_writer_set_arr_str(w, kv.key.c_str(), p.data(), (int64_t)p.size()))
            << kv.key << ": " << svg_last_error();
    }
}

void check_all_metadata(const svg_gguf *f) {
    int64_t expected = 0;
    for (const auto &s : string_cases()) {
        SCOPED_TRACE(s.first);
        const int64_t i = svg_gguf_find_key(f, s.first.c_str());
        ASSERT_EQ(i, expected++);
        EXPECT_STREQ(svg_gguf_key(f, i), s.first.c_str());
        ASSERT_EQ(svg_gguf_kv_type(f, i), SVG_GGUF_STRING);
        EXPECT_EQ(std::string(svg_gguf_get_str(f, i)), s.second);
        EXPECT_EQ(std::string(svg_gguf_get_string(f, s.first.c_str())), s.second);
    }
    for (const ScalarKv &kv : scalar_cases()) {
        SCOPED_TRACE(kv.key);
        const int64_t i = svg_gguf_find_key(f, kv.key.c_str());
        ASSERT_EQ(i, expected++);
        ASSERT_EQ(svg_gguf_kv_type(f, i), kv.type);
        EXPECT_EQ(scalar_bytes(f, i), kv.raw);  // bitwise, so NaN and -0 compare exactly
    }
    for (const ArrayKv &kv : array_cases()) {
        SCOPED_TRACE(kv.key);
        const int64_t i = svg_gguf_find_key(f, kv.key.c_str());
        ASSERT_EQ(i, expected++);
        ASSERT_EQ(svg_gguf_kv_type(f, i), SVG_GGUF_ARRAY);
        EXPECT_EQ(svg_gguf_arr_type(f, i), kv.elem);
        ASSERT_EQ(svg_gguf_arr_n(f, i), kv.n);
        const void *data = svg_gguf_arr_data(f, i);
        ASSERT_NE(data, nullptr) << "non-NULL even for empty arrays";
        EXPECT_EQ((uintptr_t)data % svg_test_gguf_scalar_size(kv.elem), 0u) << "elements are aligned";
        EXPECT_TRUE(std::equal(kv.raw.begin(), kv.raw.end(), (const uint8_t *)data));
    }
    for (const StringArrayKv &kv : string_array_cases()) {
        SCOPED_TRACE(kv.key);
        const int64_t i = svg_gguf_find_key(f, kv.key.c_str());
        ASSERT_EQ(i, expected++);
        ASSERT_EQ(svg_gguf_kv_type(f, i), SVG_GGUF_ARRAY);
        EXPECT_EQ(svg_gguf_arr_type(f, i), SVG_GGUF_STRING);
        ASSERT_EQ(svg_gguf_arr_n(f, i), (int64_t)kv.strs.size());
        for (size_t j = 0; j < kv.strs.size(); j++)
            EXPECT_EQ(std::string(svg_gguf_arr_str(f, i, (int64_t)j)), kv.strs[j]);
    }
    EXPECT_EQ(svg_gguf_n_kv(f), expected);
}

// ------------------------------------------------------------ tensor cases

const svg_type kAllTypes[] = {SVG_TYPE_F32, SVG_TYPE_F16, SVG_TYPE_BF16, SVG_TYPE_Q8_0,
                              SVG_TYPE_Q4_0, SVG_TYPE_I8,  SVG_TYPE_I16,  SVG_TYPE_I32,
                              SVG_TYPE_I64, SVG_TYPE_F64,  SVG_TYPE_Q4_K, SVG_TYPE_Q5_K,
                              SVG_TYPE_Q6_K};

struct TensorCase {
    std::string name;
    svg_type type;
    std::vector<int64_t> shape;  // PyTorch order
    std::vector<uint8_t> data;
};

size_t case_nbytes(svg_type type, const std::vector<int64_t> &shape) {
    if (shape.empty()) return svg_row_size(type, 1);
    size_t rows = 1;
    for (size_t d = 0; d + 1 < shape.size(); d++) rows *= (size_t)shape[d];
    return rows * svg_row_size(type, shape.back());
}

// Ranks 1..4 with odd sizes for every type; the innermost dim is a whole
// number of blocks.
std::vector<TensorCase> all_type_cases(std::mt19937 &rng) {
    std::vector<TensorCase> cases;
    for (svg_type type : kAllTypes) {
        const int64_t bs = svg_type_traits_of(type)->block_size;
        const std::vector<std::vector<int64_t>> shapes = {
            {7 * bs}, {3, 5 * bs}, {5, 1, 3 * bs}, {2, 3, 5, bs == 1 ? 7 : 2 * bs}};
        for (const auto &shape : shapes) {
            const std::string name = std::string(svg_type_name(type)) + ".rank" + std::to_string(shape.size());
            cases.push_back({name, type, shape, random_bytes(rng, case_nbytes(type, shape))});
        }
    }
    return cases;
}

// Adds the cases, alternating the raw-bytes and the svg_tensor entry points.
void add_cases(svg_gguf_writer *w, svg_context *ctx, const std::vector<TensorCase> &cases) {
    for (size_t k = 0; k < cases.size(); k++) {
        const TensorCase &c = cases[k];
        if (k % 2 == 0) {
            EXPECT_TRUE(svg_gguf_writer_add_tensor_data(w, c.name.c_str(), c.type, (int)c.shape.size(),
                                                        c.shape.data(), c.data.data(), c.data.size()))
                << c.name << ": " << svg_last_error();
        } else {
            svg_tensor *t = svg_new_tensor(ctx, c.type, (int)c.shape.size(), c.shape.data());
            ASSERT_NE(t, nullptr) << svg_last_error();
            svg_set_name(t, c.name.c_str());
            // (an empty vector's data() is NULL, which memcpy must not get even for 0 bytes)
            if (!c.data.empty()) {
                ASSERT_TRUE(svg_tensor_set(t, c.data.data(), 0, c.data.size())) << svg_last_error();
            }
            EXPECT_TRUE(svg_gguf_writer_add_tensor(w, t)) << c.name << ": " << svg_last_error();
        }
    }
}

void check_cases(const svg_gguf *f, const std::vector<TensorCase> &cases) {
    ASSERT_EQ(svg_gguf_n_tensors(f), (int64_t)cases.size());
    const size_t align = svg_gguf_alignment(f);
    ContextPtr ctx = new_context(false);
    for (size_t k = 0; k < cases.size(); k++) {
        const TensorCase &c = cases[k];
        SCOPED_TRACE(c.name);
        const int64_t i = (int64_t)k;
        EXPECT_STREQ(svg_gguf_tensor_name(f, i), c.name.c_str());
        EXPECT_EQ(svg_gguf_find_tensor(f, c.name.c_str()), i);
        EXPECT_EQ(svg_gguf_tensor_type(f, i), c.type);
        ASSERT_EQ(svg_gguf_tensor_n_dims(f, i), (int)c.shape.size());
        int64_t ne[SVG_MAX_DIMS];
        svg_gguf_tensor_shape(f, i, ne);
        EXPECT_EQ(std::vector<int64_t>(ne, ne + c.shape.size()), c.shape);
        ASSERT_EQ(svg_gguf_tensor_nbytes(f, i), c.data.size());
        EXPECT_EQ(svg_gguf_tensor_offset(f, i) % align, 0u);
        EXPECT_EQ((svg_gguf_data_offset(f) + svg_gguf_tensor_offset(f, i)) % align, 0u);
        const void *data = svg_gguf_tensor_data(f, i);
        ASSERT_NE(data, nullptr);
        EXPECT_TRUE(std::equal(c.data.begin(), c.data.end(), (const uint8_t *)data)) << "data differs";

        svg_tensor *t = svg_gguf_new_tensor(f, i, ctx.get());
        ASSERT_NE(t, nullptr) << svg_last_error();
        EXPECT_STREQ(t->name, c.name.c_str());
        EXPECT_EQ(t->type, c.type);
        EXPECT_EQ(std::vector<int64_t>(t->ne, t->ne + t->n_dims), c.shape);
        ASSERT_EQ(svg_nbytes(t), c.data.size());
        if (c.data.empty()) continue;
        ASSERT_TRUE(svg_tensor_set(t, data, 0, c.data.size())) << svg_last_error();
        std::vector<uint8_t> back(c.data.size());
        ASSERT_TRUE(svg_tensor_get(t, back.data(), 0, back.size())) << svg_last_error();
        EXPECT_EQ(back, c.data);
    }
}

// ------------------------------------------------------------ malformed corpus

// A valid file with one of everything the mutations below need to find.
std::vector<uint8_t> corpus_base() {
    std::mt19937 rng(7);
    WriterPtr w = new_writer();
    EXPECT_TRUE(svg_gguf_writer_set_alignment(w.get(), 64));
    EXPECT_TRUE(svg_gguf_writer_set_str(w.get(), "general.name", "corpus"));
    EXPECT_TRUE(svg_gguf_writer_set_u8(w.get(), "c.u8", 7));
    EXPECT_TRUE(svg_gguf_writer_set_bool(w.get(), "c.flag", true));
    EXPECT_TRUE(svg_gguf_writer_set_u32(w.get(), "c.dupA", 1));
    EXPECT_TRUE(svg_gguf_writer_set_u32(w.get(), "c.dupB", 2));
    const int32_t ints[] = {1, 2, 3};
    EXPECT_TRUE(svg_gguf_writer_set_arr(w.get(), "c.arr", SVG_GGUF_INT32, ints, 3));
    const uint8_t bools[] = {0, 1};
    EXPECT_TRUE(svg_gguf_writer_set_arr(w.get(), "c.bools", SVG_GGUF_BOOL, bools, 2));
    const char *strs[] = {"s1", "s22"};
    EXPECT_TRUE(svg_gguf_writer_set_arr_str(w.get(), "c.strs", strs, 2));
    const std::vector<TensorCase> cases = {
        {"t.one", SVG_TYPE_F32, {3, 5}, {}},  {"t.q8", SVG_TYPE_Q8_0, {2, 64}, {}},
        {"dup.a", SVG_TYPE_I16, {7}, {}},     {"dup.b", SVG_TYPE_I16, {7}, {}},
        {"t.last", SVG_TYPE_F16, {5, 3}, {}},
    };
    for (const TensorCase &c : cases) {
        const std::vector<uint8_t> data = random_bytes(rng, case_nbytes(c.type, c.shape));
        EXPECT_TRUE(svg_gguf_writer_add_tensor_data(w.get(), c.name.c_str(), c.type, (int)c.shape.size(),
                                                    c.shape.data(), data.data(), data.size()));
    }
    return write_to_bytes(w.get());
}

// Offset just past the first occurrence of s in b.
size_t after(const std::vector<uint8_t> &b, const std::string &s) {
    const auto it = std::search(b.begin(), b.end(), s.begin(), s.end());
    if (it == b.end()) ADD_FAILURE() << "'" << s << "' not found in the corpus file";
    return (size_t)(it - b.begin()) + s.size();
}
void put_u32(std::vector<uint8_t> &b, size_t at, uint32_t v) { memcpy(&b[at], &v, 4); }
void put_u64(std::vector<uint8_t> &b, size_t at, uint64_t v) { memcpy(&b[at], &v, 8); }
uint64_t get_u64(const std::vector<uint8_t> &b, size_t at) {
    uint64_t v;
    memcpy(&v, &b[at], 8);
    return v;
}
// Tensor info fields of the named tensor (rank read from the file).
size_t ti_n_dims(const std::vector<uint8_t> &b, const std::string &name) { return after(b, name); }
size_t ti_dims(const std::vector<uint8_t> &b, const std::string &name) { return after(b, name) + 4; }
size_t ti_type(const std::vector<uint8_t> &b, const std::string &name) {
    uint32_t n_dims;
    memcpy(&n_dims, &b[after(b, name)], 4);
    return after(b, name) + 4 + 8 * n_dims;
}
size_t ti_offset(const std::vector<uint8_t> &b, const std::string &name) { return ti_type(b, name) + 4; }

struct Mutation {
    const char *what;
    std::function<void(std::vector<uint8_t> &)> apply;
    const char *error;  // expected part of svg_last_error()
};

void expect_all_rejected(const std::vector<Mutation> &mutations) {
    const std::vector<uint8_t> base = corpus_base();
    ASSERT_NE(open_bytes(base), nullptr) << "the unmodified corpus file must be valid: " << svg_last_error();
    for (const Mutation &m : mutations) {
        SCOPED_TRACE(m.what);
        std::vector<uint8_t> b = base;
        m.apply(b);
        svg_clear_error();
        GgufPtr f = open_bytes(b);
        EXPECT_EQ(f, nullptr);
        const std::string err = svg_last_error();
        EXPECT_TRUE(contains(err, m.error)) << "error: " << err;
        EXPECT_TRUE(contains(err, "gguf")) << "error: " << err;
        EXPECT_EQ(err.find('\n'), std::string::npos) << "one-line error: " << err;
    }
}

bool have_python_gguf() { return std::system("python3 -c 'import gguf' >/dev/null 2>&1") == 0; }
std::string crosscheck_script() { return std::string(SVG_TEST_DATA) + "/../gguf_crosscheck.py"; }

std::string hex(const void *p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t k = 0; k < n; k++) {
        const uint8_t c = ((const uint8_t *)p)[k];
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}
std::string json_str(const std::string &s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += (char)c;
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
        } else {
            out += (char)c;  // UTF-8 passes through
        }
    }
    return out + "\"";
}

// What svg's reader sees in f, in the JSON form gguf_crosscheck.py compares
// with the Python reader's view of the same file.
std::string manifest_json(const svg_gguf *f) {
    std::string j = "{\"alignment\": " + std::to_string(svg_gguf_alignment(f)) + ",\n \"kvs\": [";
    for (int64_t i = 0; i < svg_gguf_n_kv(f); i++) {
        const svg_gguf_type type = svg_gguf_kv_type(f, i);
        j += std::string(i ? ",\n  " : "\n  ") + "{\"key\": " + json_str(svg_gguf_key(f, i)) +
             ", \"type\": " + std::to_string((int)type);
        if (type == SVG_GGUF_STRING) {
            j += ", \"value\": " + json_str(svg_gguf_get_str(f, i));
        } else if (type == SVG_GGUF_ARRAY) {
            const svg_gguf_type et = svg_gguf_arr_type(f, i);
            const int64_t n = svg_gguf_arr_n(f, i);
            j += ", \"elem\": " + std::to_string((int)et);
            if (et == SVG_GGUF_STRING) {
                j += ", \"value\": [";
                for (int64_t k = 0; k < n; k++) j += (k ? ", " : "") + json_str(svg_gguf_arr_str(f, i, k));
                j += "]";
            } else {
                j += ", \"hex\": \"" + hex(svg_gguf_arr_data(f, i), (size_t)n * svg_test_gguf_scalar_size(et)) + "\"";
            }
        } else {
            const std::vector<uint8_t> raw = scalar_bytes(f, i);
            j += ", \"hex\": \"" + hex(raw.data(), raw.size()) + "\"";
        }
        j += "}";
    }
    j += "],\n \"tensors\": [";
    for (int64_t i = 0; i < svg_gguf_n_tensors(f); i++) {
        int64_t ne[SVG_MAX_DIMS];
        svg_gguf_tensor_shape(f, i, ne);
        std::string shape;
        for (int d = 0; d < svg_gguf_tensor_n_dims(f, i); d++) shape += (d ? ", " : "") + std::to_string(ne[d]);
        j += std::string(i ? ",\n  " : "\n  ") + "{\"name\": " + json_str(svg_gguf_tensor_name(f, i)) +
             ", \"type\": " + std::to_string((int)svg_gguf_tensor_type(f, i)) + ", \"shape\": [" + shape +
             "], \"hex\": \"" + hex(svg_gguf_tensor_data(f, i), svg_gguf_tensor_nbytes(f, i)) + "\"}";
    }
    return j + "]}\n";
}

}  // namespace

// ================================================================= round trips

TEST(GGUF, RoundTripAllTypes) {
    std::mt19937 rng(1234);
    const std::vector<TensorCase> cases = all_type_cases(rng);
    WriterPtr w = new_writer();
    ContextPtr ctx = new_context(false);
    add_cases(w.get(), ctx.get(), cases);
    const std::string path = tmp_path("all-types.gguf");
    ASSERT_TRUE(svg_gguf_writer_write(w.get(), path.c_str())) << svg_last_error();
    EXPECT_FALSE(exists(temp_of(path)));
    GgufPtr f = open_file(path);
    ASSERT_NE(f, nullptr) << svg_last_error();
    EXPECT_EQ(svg_gguf_version(f.get()), 3u);
    EXPECT_EQ(svg_gguf_n_kv(f.get()), 0);
    EXPECT_EQ(svg_gguf_alignment(f.get()), 32u);
    check_cases(f.get(), cases);
    // the same bytes parse identically from memory
    const std::vector<uint8_t> bytes = read_bytes(path);
    GgufPtr m = open_bytes(bytes);
    ASSERT_NE(m, nullptr) << svg_last_error();
    check_cases(m.get(), cases);
    unlink(path.c_str());
}

TEST(GGUF, RoundTripEdgeShapes) {
    std::mt19937 rng(99);
    std::vector<TensorCase> cases = {
        {"scalar", SVG_TYPE_F32, {}, {}},
        {"empty.outer", SVG_TYPE_F32, {0, 5}, {}},
        {"empty.q8", SVG_TYPE_Q8_0, {3, 0}, {}},
        {"rank8", SVG_TYPE_I8, {1, 2, 1, 3, 1, 2, 1, 5}, {}},
        {std::string(SVG_MAX_NAME - 1, 'n'), SVG_TYPE_BF16, {1}, {}},
        {"after.empty", SVG_TYPE_I64, {3}, {}},
    };
    for (TensorCase &c : cases) c.data = random_bytes(rng, case_nbytes(c.type, c.shape));
    WriterPtr w = new_writer();
    ContextPtr ctx = new_context(false);
    add_cases(w.get(), ctx.get(), cases);
    const std::vector<uint8_t> bytes = write_to_bytes(w.get());
    GgufPtr f = open_bytes(bytes);
    ASSERT_NE(f, nullptr) << svg_last_error();
    check_cases(f.get(), cases);
}

TEST(GGUF, RoundTripMetadata) {
    WriterPtr w = new_writer();
    set_all_metadata(w.get());
    const std::string path = tmp_path("metadata.gguf");
    ASSERT_TRUE(svg_gguf_writer_write(w.get(), path.c_str())) << svg_last_error();
    GgufPtr f = open_file(path);
    ASSERT_NE(f, nullptr) << svg_last_error();
    EXPECT_EQ(svg_gguf_n_tensors(f.get()), 0);
    check_all_metadata(f.get());
    unlink(path.c_str());
}

TEST(GGUF, SettingAKeyAgainReplacesIt) {
    WriterPtr w = new_writer();
    ASSERT_TRUE(svg_gguf_writer_set_i32(w.get(), "k.first", 1));
    ASSERT_TRUE(svg_gguf_writer_set_i32(w.get(), "k.second", 2));
    ASSERT_TRUE(svg_gguf_writer_set_str(w.get(), "k.first", "now a string"));
    ASSERT_TRUE(svg_gguf_writer_set_i32(w.get(), "k.second", 22));
    const std::vector<uint8_t> bytes = write_to_bytes(w.get());
    GgufPtr f = open_bytes(bytes);
    ASSERT_NE(f, nullptr) << svg_last_error();
    ASSERT_EQ(svg_gguf_n_kv(f.get()), 2);
    EXPECT_STREQ(svg_gguf_key(f.get(), 0), "k.first");  // keeps its position
    EXPECT_STREQ(svg_gguf_get_str(f.get(), 0), "now a string");
    EXPECT_EQ(svg_gguf_get_i32(f.get(), 1), 22);
}

TEST(GGUF, TypedLookupsConvert) {
    WriterPtr w = new_writer();
    set_all_metadata(w.get());
    const std::vector<uint8_t> bytes = write_to_bytes(w.get());
    GgufPtr f = open_bytes(bytes);
    ASSERT_NE(f, nullptr) << svg_last_error();
    const svg_gguf *g = f.get();
    int64_t i = 0;
    EXPECT_TRUE(svg_gguf_get_int(g, "t.u8", &i)); EXPECT_EQ(i, 255);
    EXPECT_TRUE(svg_gguf_get_int(g, "t.i8", &i)); EXPECT_EQ(i, -128);
    EXPECT_TRUE(svg_gguf_get_int(g, "t.u16", &i)); EXPECT_EQ(i, 65535);
    EXPECT_TRUE(svg_gguf_get_int(g, "t.i16", &i)); EXPECT_EQ(i, -32768);
    EXPECT_TRUE(svg_gguf_get_int(g, "t.u32", &i)); EXPECT_EQ(i, 4294967295);
    EXPECT_TRUE(svg_gguf_get_int(g, "t.i32", &i)); EXPECT_EQ(i, INT32_MIN);
    EXPECT_TRUE(svg_gguf_get_int(g, "t.i64", &i)); EXPECT_EQ(i, INT64_MIN);
    svg_clear_error();
    EXPECT_FALSE(svg_gguf_get_int(g, "t.u64", &i)) << "UINT64_MAX does not fit in int64";
    EXPECT_TRUE(contains(svg_last_error(), "t.u64")) << svg_last_error();
    EXPECT_FALSE(svg_gguf_get_int(g, "t.f32", &i));
    EXPECT_FALSE(svg_gguf_get_int(g, "t.bool_true", &i));
    EXPECT_FALSE(svg_gguf_get_int(g, "general.name", &i));
    EXPECT_FALSE(svg_gguf_get_int(g, "a.i32", &i));
    svg_clear_error();
    EXPECT_FALSE(svg_gguf_get_int(g, "no.such.key", &i));
    EXPECT_TRUE(contains(svg_last_error(), "no.such.key")) << svg_last_error();

    double d = 0;
    EXPECT_TRUE(svg_gguf_get_float(g, "t.f32", &d)); EXPECT_EQ(d, 3.5);
    EXPECT_TRUE(svg_gguf_get_float(g, "t.f64", &d)); EXPECT_EQ(d, -1e300);
    EXPECT_TRUE(svg_gguf_get_float(g, "t.i32", &d)); EXPECT_EQ(d, (double)INT32_MIN);
    EXPECT_TRUE(svg_gguf_get_float(g, "t.u64", &d)); EXPECT_EQ(d, 18446744073709551615.0);
    EXPECT_FALSE(svg_gguf_get_float(g, "t.bool_true", &d));
    EXPECT_FALSE(svg_gguf_get_float(g, "s.empty", &d));
    EXPECT_FALSE(svg_gguf_get_float(g, "no.such.key", &d));

    EXPECT_STREQ(svg_gguf_get_string(g, "general.name"), "svg test");
    EXPECT_STREQ(svg_gguf_get_string(g, "s.empty"), "");
    EXPECT_EQ(svg_gguf_get_string(g, "t.u8"), nullptr);
    EXPECT_EQ(svg_gguf_get_string(g, "no.such.key"), nullptr);
    EXPECT_EQ(svg_gguf_find_key(g, "no.such.key"), -1);
    EXPECT_EQ(svg_gguf_find_tensor(g, "no.such.tensor"), -1);
}

TEST(GGUF, GettersRejectBadIndexAndType) {
    WriterPtr w = new_writer();
    set_all_metadata(w.get());
    ContextPtr ctx = new_context(false);
    std::mt19937 rng(5);
    const std::vector<TensorCase> cases = {{"w", SVG_TYPE_F32, {2, 3}, random_bytes(rng, 24)}};
    add_cases(w.get(), ctx.get(), cases);
    const std::vector<uint8_t> bytes = write_to_bytes(w.get());
    GgufPtr f = open_bytes(bytes);
    ASSERT_NE(f, nullptr) << svg_last_error();
    const svg_gguf *g = f.get();
    const int64_t n_kv = svg_gguf_n_kv(g);

    auto expect_error = [](const char *what) {
        EXPECT_STRNE(svg_last_error(), "") << what;
        svg_clear_error();
    };
    // every scalar getter on a kv of another type returns 0 with an error
    const int64_t s = svg_gguf_find_key(g, "general.name");
    svg_clear_error();
    EXPECT_EQ(svg_gguf_get_u8(g, s), 0); expect_error("u8");
    EXPECT_EQ(svg_gguf_get_i8(g, s), 0); expect_error("i8");
    EXPECT_EQ(svg_gguf_get_u16(g, s), 0); expect_error("u16");
    EXPECT_EQ(svg_gguf_get_i16(g, s), 0); expect_error("i16");
    EXPECT_EQ(svg_gguf_get_u32(g, s), 0u); expect_error("u32");
    EXPECT_EQ(svg_gguf_get_i32(g, s), 0); expect_error("i32");
    EXPECT_EQ(svg_gguf_get_u64(g, s), 0u); expect_error("u64");
    EXPECT_EQ(svg_gguf_get_i64(g, s), 0); expect_error("i64");
    EXPECT_EQ(svg_gguf_get_f32(g, s), 0.f); expect_error("f32");
    EXPECT_EQ(svg_gguf_get_f64(g, s), 0.0); expect_error("f64");
    EXPECT_FALSE(svg_gguf_get_bool(g, s)); expect_error("bool");
    EXPECT_EQ(svg_gguf_arr_type(g, s), SVG_GGUF_TYPE_COUNT); expect_error("arr_type");
    EXPECT_EQ(svg_gguf_arr_n(g, s), 0); expect_error("arr_n");
    EXPECT_EQ(svg_gguf_arr_data(g, s), nullptr); expect_error("arr_data");
    EXPECT_EQ(svg_gguf_arr_str(g, s, 0), nullptr); expect_error("arr_str");
    const int64_t u = svg_gguf_find_key(g, "t.u8");
    EXPECT_EQ(svg_gguf_get_str(g, u), nullptr); expect_error("str");
    EXPECT_EQ(svg_gguf_get_i8(g, u), 0); expect_error("i8 of u8");
    // arrays: wrong accessor for the element type, element out of range
    const int64_t words = svg_gguf_find_key(g, "sa.words");
    EXPECT_EQ(svg_gguf_arr_data(g, words), nullptr); expect_error("arr_data of strings");
    EXPECT_EQ(svg_gguf_arr_str(g, words, -1), nullptr); expect_error("arr_str -1");
    EXPECT_EQ(svg_gguf_arr_str(g, words, 4), nullptr); expect_error("arr_str n");
    EXPECT_EQ(svg_gguf_arr_str(g, svg_gguf_find_key(g, "a.i32"), 0), nullptr); expect_error("arr_str of ints");
    // kv index out of range
    for (int64_t i : {(int64_t)-1, n_kv, INT64_MAX, INT64_MIN}) {
        EXPECT_EQ(svg_gguf_key(g, i), nullptr); expect_error("key");
        EXPECT_EQ(svg_gguf_kv_type(g, i), SVG_GGUF_TYPE_COUNT); expect_error("kv_type");
        EXPECT_EQ(svg_gguf_get_u32(g, i), 0u); expect_error("u32");
        EXPECT_EQ(svg_gguf_get_str(g, i), nullptr); expect_error("str");
        EXPECT_EQ(svg_gguf_arr_n(g, i), 0); expect_error("arr_n");
    }
    // tensor index out of range: nothing written to ne
    for (int64_t i : {(int64_t)-1, (int64_t)1, INT64_MAX}) {
        EXPECT_EQ(svg_gguf_tensor_name(g, i), nullptr); expect_error("tensor_name");
        EXPECT_EQ(svg_gguf_tensor_type(g, i), SVG_TYPE_COUNT); expect_error("tensor_type");
        EXPECT_EQ(svg_gguf_tensor_n_dims(g, i), 0); expect_error("n_dims");
        int64_t ne[SVG_MAX_DIMS] = {-7};
        svg_gguf_tensor_shape(g, i, ne); expect_error("shape");
        EXPECT_EQ(ne[0], -7);
        EXPECT_EQ(svg_gguf_tensor_offset(g, i), 0u); expect_error("offset");
        EXPECT_EQ(svg_gguf_tensor_nbytes(g, i), 0u); expect_error("nbytes");
        EXPECT_EQ(svg_gguf_tensor_data(g, i), nullptr); expect_error("data");
        EXPECT_EQ(svg_gguf_new_tensor(g, i, ctx.get()), nullptr); expect_error("new_tensor");
    }
    EXPECT_EQ(svg_gguf_new_tensor(g, 0, nullptr), nullptr); expect_error("new_tensor NULL ctx");
    // NULL handle and arguments
    EXPECT_EQ(svg_gguf_n_kv(nullptr), 0); expect_error("n_kv NULL");
    EXPECT_EQ(svg_gguf_n_tensors(nullptr), 0); expect_error("n_tensors NULL");
    EXPECT_EQ(svg_gguf_get_u8(nullptr, 0), 0); expect_error("get NULL");
    EXPECT_EQ(svg_gguf_find_key(g, nullptr), -1); expect_error("find_key NULL");
    EXPECT_EQ(svg_gguf_find_tensor(nullptr, "w"), -1); expect_error("find_tensor NULL");
    EXPECT_FALSE(svg_gguf_get_int(g, nullptr, nullptr)); expect_error("get_int NULL");
    EXPECT_EQ(svg_gguf_open_memory(nullptr, 10), nullptr); expect_error("open_memory NULL");
    svg_gguf_free(nullptr);
}

TEST(GGUF, Alignment) {
    std::mt19937 rng(3);
    // odd sizes so every tensor after the first needs padding
    std::vector<TensorCase> cases = {
        {"a", SVG_TYPE_I8, {3}, {}}, {"b", SVG_TYPE_F16, {5}, {}}, {"c", SVG_TYPE_Q4_0, {32}, {}}};
    for (TensorCase &c : cases) c.data = random_bytes(rng, case_nbytes(c.type, c.shape));

    for (uint32_t align : {32u, 64u, 1u, 4096u}) {
        SCOPED_TRACE("alignment " + std::to_string(align));
        WriterPtr w = new_writer();
        ContextPtr ctx = new_context(false);
        ASSERT_TRUE(svg_gguf_writer_set_str(w.get(), "general.name", "x"));
        ASSERT_TRUE(svg_gguf_writer_set_alignment(w.get(), align));
        add_cases(w.get(), ctx.get(), cases);
        const std::vector<uint8_t> bytes = write_to_bytes(w.get());
        GgufPtr f = open_bytes(bytes);
        ASSERT_NE(f, nullptr) << svg_last_error();
        EXPECT_EQ(svg_gguf_alignment(f.get()), align);
        EXPECT_EQ(svg_gguf_data_offset(f.get()) % align, 0u);
        const int64_t k = svg_gguf_find_key(f.get(), "general.alignment");
        if (align == 32) {
            EXPECT_EQ(k, -1) << "the default alignment is not written";
        } else {
            EXPECT_EQ(k, 0) << "general.alignment is the first kv";
            EXPECT_EQ(svg_gguf_kv_type(f.get(), k), SVG_GGUF_UINT32);
            EXPECT_EQ(svg_gguf_get_u32(f.get(), k), align);
        }
        check_cases(f.get(), cases);
        // the last tensor is padded too, as ggml and gguf-py do
        EXPECT_EQ(bytes.size(), svg_gguf_data_offset(f.get()) + svg_gguf_tensor_offset(f.get(), 2) +
                                    (svg_gguf_tensor_nbytes(f.get(), 2) + align - 1) / align * align);
    }

    // general.alignment may be set as a u32 kv, but not as another type
    WriterPtr w = new_writer();
    EXPECT_TRUE(svg_gguf_writer_set_u32(w.get(), "general.alignment", 128));
    EXPECT_FALSE(svg_gguf_writer_set_i32(w.get(), "general.alignment", 64));
    EXPECT_FALSE(svg_gguf_writer_set_str(w.get(), "general.alignment", "64"));
    EXPECT_FALSE(svg_gguf_writer_set_alignment(w.get(), 0));
    EXPECT_FALSE(svg_gguf_writer_set_alignment(w.get(), 48));
    EXPECT_FALSE(svg_gguf_writer_set_u32(w.get(), "general.alignment", 96));
    const std::vector<uint8_t> bytes = write_to_bytes(w.get());
    GgufPtr f = open_bytes(bytes);
    ASSERT_NE(f, nullptr) << svg_last_error();
    EXPECT_EQ(svg_gguf_alignment(f.get()), 128u);
    EXPECT_EQ(svg_gguf_n_kv(f.get()), 1);
}

TEST(GGUF, AcceptsVersion2) {
    std::vector<uint8_t> b = corpus_base();
    put_u32(b, 4, 2);
    GgufPtr f = open_bytes(b);
    ASSERT_NE(f, nullptr) << svg_last_error();
    EXPECT_EQ(svg_gguf_version(f.get()), 2u);
}

// ================================================================= malformed files

TEST(GGUF, RejectsTruncated) {
    const std::vector<uint8_t> base = corpus_base();
    GgufPtr whole = open_bytes(base);
    ASSERT_NE(whole, nullptr) << svg_last_error();
    // where the last tensor's data ends; only padding follows
    size_t end = 0;
    for (int64_t i = 0; i < svg_gguf_n_tensors(whole.get()); i++)
        end = std::max(end, svg_gguf_data_offset(whole.get()) + svg_gguf_tensor_offset(whole.get(), i) +
                                svg_gguf_tensor_nbytes(whole.get(), i));
    ASSERT_LT(end, base.size()) << "the corpus should end with padding";
    for (size_t n = 0; n < base.size(); n++) {
        // an exactly-sized copy, so sanitizers catch any read past the end
        const std::vector<uint8_t> prefix(base.begin(), base.begin() + (ptrdiff_t)n);
        svg_clear_error();
        GgufPtr f(svg_gguf_open_memory(prefix.data(), n), svg_gguf_free);
        if (n < end) {
            EXPECT_EQ(f, nullptr) << "prefix of " << n << " bytes accepted";
            EXPECT_STRNE(svg_last_error(), "") << "prefix of " << n << " bytes";
        } else {
            EXPECT_NE(f, nullptr) << "trailing padding is optional: " << svg_last_error();
        }
    }
    // the path is named when opening from disk
    const std::string path = tmp_path("truncated.gguf");
    write_bytes(path, std::vector<uint8_t>(base.begin(), base.begin() + 100));
    EXPECT_EQ(open_file(path), nullptr);
    EXPECT_TRUE(contains(svg_last_error(), path)) << svg_last_error();
    EXPECT_TRUE(contains(svg_last_error(), "truncated")) << svg_last_error();
    unlink(path.c_str());
}

TEST(GGUF, RejectsBadHeader) {
    expect_all_rejected({
        {"bad magic", [](auto &b) { b[0] = 'X'; }, "bad magic"},
        {"version 1", [](auto &b) { put_u32(b, 4, 1); }, "version 1"},
        {"version 4", [](auto &b) { put_u32(b, 4, 4); }, "version 4"},
        {"big-endian", [](auto &b) { put_u32(b, 4, 0x03000000); }, "big-endian"},
        {"huge n_tensors", [](auto &b) { put_u64(b, 8, 1ull << 62); }, "tensor count"},
        {"n_tensors max", [](auto &b) { put_u64(b, 8, UINT64_MAX); }, "tensor count"},
        {"huge n_kv", [](auto &b) { put_u64(b, 16, 1ull << 63); }, "kv count"},
        {"n_kv max", [](auto &b) { put_u64(b, 16, UINT64_MAX); }, "kv count"},
        {"n_kv one too many", [](auto &b) { put_u64(b, 16, get_u64(b, 16) + 1); }, "name length"},
    });
}

TEST(GGUF, RejectsBadMetadata) {
    expect_all_rejected({
        {"huge key length", [](auto &b) { put_u64(b, 24, 1ull << 62); }, "key length"},
        {"huge string length", [](auto &b) { put_u64(b, after(b, "corpus") - 6 - 8, 1ull << 40); },
         "string value length"},
        {"unknown kv type", [](auto &b) { put_u32(b, after(b, "c.u8"), 13); }, "unknown value type 13"},
        {"unknown kv type max", [](auto &b) { put_u32(b, after(b, "c.u8"), UINT32_MAX); }, "unknown value type"},
        {"nested array", [](auto &b) { put_u32(b, after(b, "c.arr") + 4, SVG_GGUF_ARRAY); }, "nested arrays"},
        {"unknown array type", [](auto &b) { put_u32(b, after(b, "c.arr") + 4, 99); }, "unknown array element type 99"},
        {"huge array", [](auto &b) { put_u64(b, after(b, "c.arr") + 8, 1ull << 61); }, "array of"},
        {"huge string array", [](auto &b) { put_u64(b, after(b, "c.strs") + 8, 1ull << 61); }, "strings cannot fit"},
        {"huge array string", [](auto &b) { put_u64(b, after(b, "c.strs") + 16, 1ull << 50); }, "array string length"},
        {"bool value 2", [](auto &b) { b[after(b, "c.flag") + 4] = 2; }, "bool value 2"},
        {"bool element 2", [](auto &b) { b[after(b, "c.bools") + 4 + 4 + 8 + 1] = 2; }, "bool element 1"},
        {"duplicate key", [](auto &b) { b[after(b, "c.dupB") - 1] = 'A'; }, "duplicate key"},
        {"NUL in key", [](auto &b) { b[after(b, "c.u8") - 1] = 0; }, "NUL"},
        {"alignment 48", [](auto &b) { put_u32(b, after(b, "general.alignment") + 4, 48); }, "power of two"},
        {"alignment 0", [](auto &b) { put_u32(b, after(b, "general.alignment") + 4, 0); }, "power of two"},
        {"alignment as i32", [](auto &b) { put_u32(b, after(b, "general.alignment"), SVG_GGUF_INT32); },
         "must be u32"},
    });
}

TEST(GGUF, RejectsBadTensorInfo) {
    expect_all_rejected({
        {"unknown tensor type", [](auto &b) { put_u32(b, ti_type(b, "t.one"), 3); }, "unknown tensor type 3"},
        {"tensor type 1000", [](auto &b) { put_u32(b, ti_type(b, "t.one"), 1000); }, "unknown tensor type 1000"},
        {"n_dims 9", [](auto &b) { put_u32(b, ti_n_dims(b, "t.one"), 9); }, "n_dims 9"},
        {"n_dims max", [](auto &b) { put_u32(b, ti_n_dims(b, "t.one"), UINT32_MAX); }, "n_dims"},
        {"negative dim", [](auto &b) { put_u64(b, ti_dims(b, "t.one"), 1ull << 63); }, "INT64_MAX"},
        {"dims overflow", [](auto &b) {
             put_u64(b, ti_dims(b, "t.one"), 1ull << 40);
             put_u64(b, ti_dims(b, "t.one") + 8, 1ull << 40);
         }, "overflow"},
        {"q8_0 row not whole blocks", [](auto &b) { put_u64(b, ti_dims(b, "t.q8"), 63); }, "block size"},
        {"misaligned offset", [](auto &b) { put_u64(b, ti_offset(b, "t.last"), get_u64(b, ti_offset(b, "t.last")) + 4); },
         "not a multiple of the alignment"},
        {"offset past EOF", [](auto &b) { put_u64(b, ti_offset(b, "t.last"), 1ull << 20); },
         "'t.last' data [offset 1048576, 30 bytes] extends past end of file"},
        {"offset overflows", [](auto &b) { put_u64(b, ti_offset(b, "t.last"), UINT64_MAX & ~63ull); },
         "extends past end of file"},
        {"data past EOF", [](auto &b) { put_u64(b, ti_dims(b, "t.last") + 8, 100); }, "extends past end of file"},
        {"overlapping tensors", [](auto &b) { put_u64(b, ti_offset(b, "dup.b"), get_u64(b, ti_offset(b, "dup.a"))); },
         "overlap"},
        {"duplicate tensor name", [](auto &b) { b[after(b, "dup.b") - 1] = 'a'; }, "duplicate tensor name"},
        {"NUL in tensor name", [](auto &b) { b[after(b, "t.one") - 1] = 0; }, "NUL"},
    });
}

TEST(GGUF, RandomCorruptionNeverCrashes) {
    const std::vector<uint8_t> base = corpus_base();
    GgufPtr ok = open_bytes(base);
    ASSERT_NE(ok, nullptr) << svg_last_error();
    const size_t meta = svg_gguf_data_offset(ok.get());
    std::mt19937 rng(42);
    int accepted = 0;
    for (int iter = 0; iter < 3000; iter++) {
        std::vector<uint8_t> b = base;
        const int flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < flips; k++) {
            // mostly the header and tables, where the parser looks
            const size_t at = rng() % 8 ? rng() % meta : rng() % b.size();
            b[at] = rng() % 3 ? (uint8_t)rng() : (uint8_t)(b[at] ^ (1u << (rng() % 8)));
        }
        if (rng() % 8 == 0) b.resize(rng() % b.size());
        b.shrink_to_fit();
        svg_clear_error();
        GgufPtr f = open_bytes(b);
        if (f) {
            accepted++;
            bool sizes_agree;
            volatile uint64_t sink = svg_test_gguf_walk(f.get(), &sizes_agree);  // keep the reads
            (void)sink;
        } else {
            EXPECT_STRNE(svg_last_error(), "");
        }
    }
    // flips in tensor data or values leave the file valid
    EXPECT_GT(accepted, 0);
}

// ================================================================= writer

TEST(GGUF, WriterRejectsBadInput) {
    WriterPtr w = new_writer();
    svg_gguf_writer *wp = w.get();
    const float f6[6] = {1, 2, 3, 4, 5, 6};
    const int64_t ne23[2] = {2, 3};
    auto rejected = [](bool ok, const char *what) {
        EXPECT_FALSE(ok) << what;
        EXPECT_STRNE(svg_last_error(), "") << what;
        svg_clear_error();
    };
    ASSERT_TRUE(svg_gguf_writer_add_tensor_data(wp, "good", SVG_TYPE_F32, 2, ne23, f6, 24));
    rejected(svg_gguf_writer_add_tensor_data(wp, "good", SVG_TYPE_F32, 2, ne23, f6, 24), "duplicate name");
    rejected(svg_gguf_writer_add_tensor_data(wp, nullptr, SVG_TYPE_F32, 2, ne23, f6, 24), "NULL name");
    rejected(svg_gguf_writer_add_tensor_data(wp, "", SVG_TYPE_F32, 2, ne23, f6, 24), "empty name");
    const std::string long_name(SVG_MAX_NAME, 'x');
    rejected(svg_gguf_writer_add_tensor_data(wp, long_name.c_str(), SVG_TYPE_F32, 2, ne23, f6, 24), "long name");
    rejected(svg_gguf_writer_add_tensor_data(wp, "t", (svg_type)3, 2, ne23, f6, 24), "unknown type");
    rejected(svg_gguf_writer_add_tensor_data(wp, "t", SVG_TYPE_F32, 2, ne23, f6, 20), "size mismatch");
    rejected(svg_gguf_writer_add_tensor_data(wp, "t", SVG_TYPE_F32, 2, ne23, nullptr, 24), "NULL data");
    rejected(svg_gguf_writer_add_tensor_data(wp, "t", SVG_TYPE_F32, -1, ne23, f6, 24), "rank -1");
    rejected(svg_gguf_writer_add_tensor_data(wp, "t", SVG_TYPE_F32, SVG_MAX_DIMS + 1, ne23, f6, 24), "rank 9");
    const int64_t neg[2] = {-2, -3};
    rejected(svg_gguf_writer_add_tensor_data(wp, "t", SVG_TYPE_F32, 2, neg, f6, 24), "negative dims");
    const int64_t ne33[1] = {33};
    std::vector<uint8_t> q(34 * 2);
    rejected(svg_gguf_writer_add_tensor_data(wp, "t", SVG_TYPE_Q8_0, 1, ne33, q.data(), 34), "q8_0 row of 33");
    const int64_t huge[3] = {INT64_MAX, INT64_MAX, 2};
    rejected(svg_gguf_writer_add_tensor_data(wp, "t", SVG_TYPE_F32, 3, huge, f6, 24), "overflowing shape");

    ContextPtr ctx = new_context(false);
    svg_tensor *a = svg_new_tensor_2d(ctx.get(), SVG_TYPE_F32, 2, 3);
    svg_set_name(a, "a");
    svg_tensor *at = svg_transpose(ctx.get(), a, 0, 1);
    svg_set_name(at, "a.T");
    rejected(svg_gguf_writer_add_tensor(wp, at), "non-contiguous view");
    svg_tensor *unnamed = svg_new_tensor_1d(ctx.get(), SVG_TYPE_F32, 4);
    rejected(svg_gguf_writer_add_tensor(wp, unnamed), "unnamed tensor");
    ContextPtr meta = new_context(true);
    svg_tensor *nomem = svg_set_name(svg_new_tensor_1d(meta.get(), SVG_TYPE_F32, 4), "nomem");
    rejected(svg_gguf_writer_add_tensor(wp, nomem), "tensor without memory");
    rejected(svg_gguf_writer_add_tensor(wp, nullptr), "NULL tensor");

    rejected(svg_gguf_writer_set_u8(wp, nullptr, 1), "NULL key");
    rejected(svg_gguf_writer_set_u8(wp, "", 1), "empty key");
    rejected(svg_gguf_writer_set_str(wp, "k", nullptr), "NULL string");
    const int32_t ints[2] = {1, 2};
    rejected(svg_gguf_writer_set_arr(wp, "k", SVG_GGUF_STRING, ints, 2), "string array via set_arr");
    rejected(svg_gguf_writer_set_arr(wp, "k", SVG_GGUF_ARRAY, ints, 2), "nested array");
    rejected(svg_gguf_writer_set_arr(wp, "k", SVG_GGUF_TYPE_COUNT, ints, 2), "unknown element type");
    rejected(svg_gguf_writer_set_arr(wp, "k", SVG_GGUF_INT32, ints, -1), "negative count");
    rejected(svg_gguf_writer_set_arr(wp, "k", SVG_GGUF_INT32, nullptr, 2), "NULL data");
    const uint8_t bad_bools[2] = {1, 2};
    rejected(svg_gguf_writer_set_arr(wp, "k", SVG_GGUF_BOOL, bad_bools, 2), "bool 2");
    const char *strs[2] = {"a", nullptr};
    rejected(svg_gguf_writer_set_arr_str(wp, "k", strs, 2), "NULL string element");
    rejected(svg_gguf_writer_set_arr_str(wp, "k", nullptr, 1), "NULL strings");
    rejected(svg_gguf_writer_write(wp, nullptr), "NULL path");
    rejected(svg_gguf_writer_write(wp, ""), "empty path");

    // contiguous tensors are accepted; failed calls left nothing behind
    EXPECT_TRUE(svg_gguf_writer_add_tensor(wp, a)) << svg_last_error();
    const std::vector<uint8_t> bytes = write_to_bytes(wp);
    GgufPtr f = open_bytes(bytes);
    ASSERT_NE(f, nullptr) << svg_last_error();
    EXPECT_EQ(svg_gguf_n_kv(f.get()), 0);
    ASSERT_EQ(svg_gguf_n_tensors(f.get()), 2);
    EXPECT_STREQ(svg_gguf_tensor_name(f.get(), 0), "good");
    EXPECT_STREQ(svg_gguf_tensor_name(f.get(), 1), "a");
}

TEST(GGUF, WriteFailureKeepsTargetAndRemovesTemp) {
    WriterPtr w = new_writer();
    std::vector<uint8_t> big(1 << 16, 0x5a);
    const int64_t ne[1] = {(int64_t)big.size()};
    ASSERT_TRUE(svg_gguf_writer_add_tensor_data(w.get(), "big", SVG_TYPE_I8, 1, ne, big.data(), big.size()));

    // directory that does not exist: the error names the path
    const std::string missing = tmp_path("no-such-dir") + "/out.gguf";
    EXPECT_FALSE(svg_gguf_writer_write(w.get(), missing.c_str()));
    EXPECT_TRUE(contains(svg_last_error(), missing)) << svg_last_error();

    // target is a directory: rename fails, the temporary file is removed
    const std::string dir = tmp_path("dir.gguf");
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
    EXPECT_FALSE(svg_gguf_writer_write(w.get(), dir.c_str()));
    EXPECT_TRUE(contains(svg_last_error(), dir)) << svg_last_error();
    EXPECT_FALSE(exists(temp_of(dir)));
    rmdir(dir.c_str());

    // "disk full": a file size limit makes write(2) fail part-way (EFBIG);
    // the existing target is untouched and the temporary file removed
    const std::string path = tmp_path("full.gguf");
    const std::vector<uint8_t> old = {'o', 'l', 'd'};
    write_bytes(path, old);
    struct rlimit saved;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct rlimit small = saved;
    small.rlim_cur = 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);  // report EFBIG instead of killing the process
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    const bool ok = svg_gguf_writer_write(w.get(), path.c_str());
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, prev);
    EXPECT_FALSE(ok);
    EXPECT_TRUE(contains(svg_last_error(), path)) << svg_last_error();
    EXPECT_FALSE(exists(temp_of(path)));
    EXPECT_EQ(read_bytes(path), old);

    // and a successful write replaces it
    ASSERT_TRUE(svg_gguf_writer_write(w.get(), path.c_str())) << svg_last_error();
    GgufPtr f = open_file(path);
    ASSERT_NE(f, nullptr) << svg_last_error();
    EXPECT_EQ(svg_gguf_tensor_nbytes(f.get(), 0), big.size());
    unlink(path.c_str());
}

// Tensors added with a fill callback are produced one at a time while the
// file is written, in the order added, and read back like copied ones; a
// failing fill aborts the write with its own error and leaves no file.
struct fill_state {
    std::vector<std::string> order;
    size_t largest_live = 0;
    int fail_at = -1;
};
struct fill_tensor {
    fill_state *st;
    std::string name;
    uint8_t seed;
};
bool fill_pattern(void *user, void *dst, size_t size) {
    fill_tensor &t = *(fill_tensor *)user;
    t.st->order.push_back(t.name);
    if ((int)t.st->order.size() - 1 == t.st->fail_at) {
        svg_set_error("fill of %s failed on purpose", t.name.c_str());
        return false;
    }
    for (size_t i = 0; i < size; i++) ((uint8_t *)dst)[i] = (uint8_t)(t.seed + i * 7);
    return true;
}

TEST(GGUF, FillTensorsAreStreamed) {
    fill_state st;
    std::vector<fill_tensor> ts = {{&st, "a", 3}, {&st, "b", 11}, {&st, "c", 29}};
    WriterPtr w = new_writer();
    const int64_t ne_a[2] = {3, 1000}, ne_b[1] = {77}, ne_c[3] = {2, 3, 64};
    ASSERT_TRUE(svg_gguf_writer_add_tensor_fill(w.get(), "a", SVG_TYPE_F32, 2, ne_a, fill_pattern, &ts[0]));
    const std::vector<uint8_t> copied(40, 0xab);
    const int64_t ne_d[1] = {10};
    ASSERT_TRUE(svg_gguf_writer_add_tensor_data(w.get(), "d", SVG_TYPE_F32, 1, ne_d, copied.data(), copied.size()));
    ASSERT_TRUE(svg_gguf_writer_add_tensor_fill(w.get(), "b", SVG_TYPE_I8, 1, ne_b, fill_pattern, &ts[1]));
    ASSERT_TRUE(svg_gguf_writer_add_tensor_fill(w.get(), "c", SVG_TYPE_Q8_0, 3, ne_c, fill_pattern, &ts[2]));
    EXPECT_TRUE(st.order.empty()) << "nothing is produced before the write";
    // a name given twice is refused for filled tensors too
    EXPECT_FALSE(svg_gguf_writer_add_tensor_fill(w.get(), "a", SVG_TYPE_F32, 2, ne_a, fill_pattern, &ts[0]));
    EXPECT_FALSE(svg_gguf_writer_add_tensor_fill(w.get(), "e", SVG_TYPE_F32, 2, ne_a, nullptr, nullptr));

    const std::string path = tmp_path("fill.gguf");
    ASSERT_TRUE(svg_gguf_writer_write(w.get(), path.c_str())) << svg_last_error();
    EXPECT_EQ(st.order, (std::vector<std::string>{"a", "b", "c"}));
    GgufPtr f = open_file(path);
    ASSERT_NE(f, nullptr) << svg_last_error();
    ASSERT_EQ(svg_gguf_n_tensors(f.get()), 4);
    for (const fill_tensor &t : ts) {
        const int64_t i = svg_gguf_find_tensor(f.get(), t.name.c_str());
        ASSERT_GE(i, 0);
        const uint8_t *d = (const uint8_t *)svg_gguf_tensor_data(f.get(), i);
        for (size_t j = 0; j < svg_gguf_tensor_nbytes(f.get(), i); j++) ASSERT_EQ(d[j], (uint8_t)(t.seed + j * 7)) << t.name << " " << j;
    }
    EXPECT_EQ(0, memcmp(svg_gguf_tensor_data(f.get(), svg_gguf_find_tensor(f.get(), "d")), copied.data(), copied.size()));
    f.reset();
    unlink(path.c_str());

    // the second fill fails: its error comes back, no file and no temporary
    st = fill_state{};
    st.fail_at = 1;
    EXPECT_FALSE(svg_gguf_writer_write(w.get(), path.c_str()));
    EXPECT_TRUE(contains(svg_last_error(), "fill of b failed on purpose")) << svg_last_error();
    EXPECT_FALSE(exists(path));
    EXPECT_FALSE(exists(temp_of(path)));
}

TEST(GGUF, OpenErrorsNamePath) {
    const std::string missing = tmp_path("missing.gguf");
    svg_clear_error();
    EXPECT_EQ(open_file(missing), nullptr);
    EXPECT_TRUE(contains(svg_last_error(), missing)) << svg_last_error();

    const std::string dir = tmp_path("a-directory");
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
    EXPECT_EQ(open_file(dir), nullptr);
    EXPECT_TRUE(contains(svg_last_error(), "directory")) << svg_last_error();
    rmdir(dir.c_str());

    const std::string empty = tmp_path("empty.gguf");
    write_bytes(empty, {});
    EXPECT_EQ(open_file(empty), nullptr);
    EXPECT_TRUE(contains(svg_last_error(), empty)) << svg_last_error();
    EXPECT_TRUE(contains(svg_last_error(), "empty")) << svg_last_error();
    unlink(empty.c_str());

    const std::string garbage = tmp_path("garbage.gguf");
    write_bytes(garbage, {'n', 'o', 't', ' ', 'g', 'g', 'u', 'f'});
    EXPECT_EQ(open_file(garbage), nullptr);
    EXPECT_TRUE(contains(svg_last_error(), garbage)) << svg_last_error();
    EXPECT_TRUE(contains(svg_last_error(), "bad magic")) << svg_last_error();
    unlink(garbage.c_str());

    EXPECT_EQ(svg_gguf_open(nullptr), nullptr);
    EXPECT_STRNE(svg_last_error(), "");
}

// ================================================================= Python cross-checks

TEST(GGUF, PythonCrossCheck) {
    if (!have_python_gguf()) GTEST_SKIP() << "python3 with the gguf package not available";
    std::mt19937 rng(2024);
    WriterPtr w = new_writer();
    ContextPtr ctx = new_context(false);
    ASSERT_TRUE(svg_gguf_writer_set_alignment(w.get(), 64));
    set_all_metadata(w.get());
    const std::vector<TensorCase> cases = all_type_cases(rng);
    add_cases(w.get(), ctx.get(), cases);
    const std::string path = tmp_path("crosscheck.gguf"), manifest = tmp_path("crosscheck.json");
    ASSERT_TRUE(svg_gguf_writer_write(w.get(), path.c_str())) << svg_last_error();
    GgufPtr f = open_file(path);
    ASSERT_NE(f, nullptr) << svg_last_error();
    check_cases(f.get(), cases);
    std::ofstream(manifest) << manifest_json(f.get());
    const std::string cmd = "python3 '" + crosscheck_script() + "' check '" + path + "' '" + manifest + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    unlink(path.c_str());
    unlink(manifest.c_str());
}

// Values written by `gguf_crosscheck.py write`.
TEST(GGUF, ReadsPythonWrittenFile) {
    if (!have_python_gguf()) GTEST_SKIP() << "python3 with the gguf package not available";
    const std::string path = tmp_path("python.gguf");
    const std::string cmd = "python3 '" + crosscheck_script() + "' write '" + path + "' 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    GgufPtr f = open_file(path);
    ASSERT_NE(f, nullptr) << svg_last_error();
    const svg_gguf *g = f.get();
    EXPECT_EQ(svg_gguf_version(g), 3u);
    EXPECT_EQ(svg_gguf_alignment(g), 64u);
    EXPECT_STREQ(svg_gguf_get_string(g, "general.architecture"), "svgtest");
    int64_t i = 0;
    EXPECT_TRUE(svg_gguf_get_int(g, "test.u32", &i)); EXPECT_EQ(i, 42);
    EXPECT_TRUE(svg_gguf_get_int(g, "test.i64", &i)); EXPECT_EQ(i, -5);
    double d = 0;
    EXPECT_TRUE(svg_gguf_get_float(g, "test.f32", &d)); EXPECT_EQ(d, 0.5);
    EXPECT_TRUE(svg_gguf_get_float(g, "test.f64", &d)); EXPECT_EQ(d, -2.25);
    EXPECT_TRUE(svg_gguf_get_bool(g, svg_gguf_find_key(g, "test.bool")));
    EXPECT_STREQ(svg_gguf_get_string(g, "test.str"), "h\xc3\xa9llo");
    const int64_t ai = svg_gguf_find_key(g, "test.arr_i32");
    ASSERT_EQ(svg_gguf_arr_type(g, ai), SVG_GGUF_INT32);
    ASSERT_EQ(svg_gguf_arr_n(g, ai), 3);
    const int32_t *iv = (const int32_t *)svg_gguf_arr_data(g, ai);
    EXPECT_EQ(std::vector<int32_t>(iv, iv + 3), (std::vector<int32_t>{1, -2, 3}));
    const int64_t au = svg_gguf_find_key(g, "test.arr_u8");
    ASSERT_EQ(svg_gguf_arr_type(g, au), SVG_GGUF_UINT8);
    ASSERT_EQ(svg_gguf_arr_n(g, au), 2);
    const uint8_t *uv = (const uint8_t *)svg_gguf_arr_data(g, au);
    EXPECT_EQ(uv[0], 7);
    EXPECT_EQ(uv[1], 255);
    const int64_t as = svg_gguf_find_key(g, "test.strs");
    ASSERT_EQ(svg_gguf_arr_n(g, as), 3);
    EXPECT_STREQ(svg_gguf_arr_str(g, as, 0), "a");
    EXPECT_STREQ(svg_gguf_arr_str(g, as, 1), "");
    EXPECT_STREQ(svg_gguf_arr_str(g, as, 2), "xyz");

    ASSERT_EQ(svg_gguf_n_tensors(g), 4);
    ContextPtr ctx = new_context(false);
    auto tensor = [&](const char *name, svg_type type, std::vector<int64_t> shape) -> svg_tensor * {
        const int64_t k = svg_gguf_find_tensor(g, name);
        EXPECT_GE(k, 0) << name;
        if (k < 0) return nullptr;
        svg_tensor *t = svg_gguf_new_tensor(g, k, ctx.get());
        EXPECT_NE(t, nullptr) << svg_last_error();
        if (!t) return nullptr;
        EXPECT_EQ(t->type, type) << name;
        EXPECT_EQ(std::vector<int64_t>(t->ne, t->ne + t->n_dims), shape) << name;
        EXPECT_TRUE(svg_tensor_set(t, svg_gguf_tensor_data(g, k), 0, svg_gguf_tensor_nbytes(g, k)));
        return t;
    };
    std::vector<float> ramp12(12), ramp10(10);
    for (int k = 0; k < 12; k++) ramp12[(size_t)k] = (float)k;
    for (int k = 0; k < 10; k++) ramp10[(size_t)k] = (float)k;
    if (svg_tensor *t = tensor("w", SVG_TYPE_F32, {3, 4})) {
        EXPECT_EQ(svgtest::to_vec(t), ramp12);
    }
    if (svg_tensor *t = tensor("h", SVG_TYPE_F16, {2, 5})) {
        EXPECT_EQ(svgtest::to_vec(t), ramp10);
    }
    if (svg_tensor *t = tensor("ids", SVG_TYPE_I32, {7})) {
        std::vector<int32_t> v(7);
        ASSERT_TRUE(svg_tensor_get(t, v.data(), 0, 28));
        EXPECT_EQ(v, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6}));
    }
    if (svg_tensor *t = tensor("q", SVG_TYPE_Q8_0, {2, 64})) {
        std::vector<uint8_t> v(2 * 68);
        ASSERT_TRUE(svg_tensor_get(t, v.data(), 0, v.size()));
        for (size_t k = 0; k < v.size(); k++) EXPECT_EQ(v[k], k % 251) << k;
    }
    unlink(path.c_str());
}
