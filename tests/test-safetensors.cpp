// safetensors reader: golden files, every dtype, sharded checkpoints,
// metadata and a malformed corpus generated here. Fixture headers are written
// as text (not by a JSON library) so malformed cases can be spelled exactly.
#include "test-common.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

using StPtr = std::unique_ptr<svg_safetensors, decltype(&svg_safetensors_free)>;

// open_memory needs the bytes to outlive the handle: callers keep `bytes`.
StPtr open_mem(const std::string &bytes) {
    return StPtr(svg_safetensors_open_memory(bytes.data(), bytes.size()), svg_safetensors_free);
}
StPtr open_path(const std::string &path) {
    return StPtr(svg_safetensors_open(path.c_str()), svg_safetensors_free);
}

std::string le64(uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; i++) s[(size_t)i] = (char)(n >> (8 * i));
    return s;
}

// A file from header text and data buffer.
std::string make_file(const std::string &header, const std::string &data = "") {
    return le64(header.size()) + header + data;
}

template <typename T>
std::string bytes_of(std::initializer_list<T> v) {
    std::string s(v.size() * sizeof(T), '\0');
    memcpy(&s[0], v.begin(), s.size());
    return s;
}

struct Entry {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::string bytes;
};

// A valid file: entries back to back in the given order. `pad` pads the
// header with spaces to a multiple of 8 as real writers do; without it the
// data lands at arbitrary alignment.
std::string make_st(const std::vector<Entry> &entries, const std::string &metadata = "",
                    bool pad = true) {
    std::string h = "{", data;
    if (!metadata.empty()) h += "\"__metadata__\":" + metadata;
    for (const Entry &e : entries) {
        if (h.size() > 1) h += ",";
        h += "\"" + e.name + "\":{\"dtype\":\"" + e.dtype + "\",\"shape\":[";
        for (size_t i = 0; i < e.shape.size(); i++)
            h += (i ? "," : "") + std::to_string(e.shape[i]);
        h += "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
             std::to_string(data.size() + e.bytes.size()) + "]}";
        data += e.bytes;
    }
    h += "}";
    while (pad && h.size() % 8) h += ' ';
    return make_file(h, data);
}

std::vector<int64_t> shape_of(const svg_safetensors *st, int64_t i) {
    std::vector<int64_t> ne((size_t)svg_safetensors_n_dims(st, i));
    svg_safetensors_shape(st, i, ne.data());
    return ne;
}

std::vector<float> read_f32(const svg_safetensors *st, const char *name) {
    const int64_t i = svg_safetensors_find(st, name);
    EXPECT_GE(i, 0) << name;
    std::vector<float> v((size_t)svg_safetensors_nelements(st, i));
    EXPECT_TRUE(svg_safetensors_read_f32(st, i, v.data(), (int64_t)v.size())) << svg_last_error();
    return v;
}

std::vector<int64_t> read_i64(const svg_safetensors *st, const char *name) {
    const int64_t i = svg_safetensors_find(st, name);
    EXPECT_GE(i, 0) << name;
    std::vector<int64_t> v((size_t)svg_safetensors_nelements(st, i));
    EXPECT_TRUE(svg_safetensors_read_i64(st, i, v.data(), (int64_t)v.size())) << svg_last_error();
    return v;
}

void write_file(const fs::path &p, const std::string &bytes) {
    std::ofstream f(p, std::ios::binary);
    f.write(bytes.data(), (std::streamsize)bytes.size());
    ASSERT_TRUE(f.good()) << p;
}

// A fresh directory removed at scope exit.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "svg-safetensors-XXXXXX").string();
        EXPECT_NE(mkdtemp(&tmpl[0]), nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// The error after a failed call: non-empty, one line, containing `needle`.
void expect_error(const std::string &what, const char *needle) {
    const std::string err = svg_last_error();
    EXPECT_FALSE(err.empty()) << what;
    EXPECT_EQ(err.find('\n'), std::string::npos) << what << ": " << err;
    if (needle) {
        EXPECT_NE(err.find(needle), std::string::npos) << what << ": " << err;
    }
}

void expect_rejected(const std::string &bytes, const std::string &what, const char *needle = nullptr) {
    svg_clear_error();
    StPtr st = open_mem(bytes);
    EXPECT_EQ(st.get(), nullptr) << what;
    expect_error(what, needle);
}

double sum(const std::vector<float> &v) {
    double s = 0;
    for (float x : v) s += x;
    return s;
}

bool all_finite(const std::vector<float> &v) {
    for (float x : v)
        if (!std::isfinite(x)) return false;
    return true;
}

struct GoldenTensor {
    const char *name, *dtype;
    std::vector<int64_t> shape;
    std::vector<double> first;  // leading elements
    double last, sum;           // checked with numpy (float64 sums)
};

void check_golden(const std::string &rel, const std::vector<GoldenTensor> &want) {
    SCOPED_TRACE(rel);
    StPtr st = open_path(std::string(SVG_TEST_DATA) + "/goldens/" + rel);
    ASSERT_NE(st.get(), nullptr) << svg_last_error();
    ASSERT_EQ(svg_safetensors_n_tensors(st.get()), (int64_t)want.size());
    EXPECT_EQ(svg_safetensors_metadata(st.get(), "format"), nullptr);
    for (size_t i = 0; i < want.size(); i++) {
        const GoldenTensor &g = want[i];
        SCOPED_TRACE(g.name);
        // tensors are ordered by name
        EXPECT_STREQ(svg_safetensors_name(st.get(), (int64_t)i), g.name);
        EXPECT_EQ(svg_safetensors_find(st.get(), g.name), (int64_t)i);
        EXPECT_STREQ(svg_safetensors_dtype(st.get(), (int64_t)i), g.dtype);
        EXPECT_EQ(shape_of(st.get(), (int64_t)i), g.shape);
        int64_t n = 1;
        for (int64_t d : g.shape) n *= d;
        EXPECT_EQ(svg_safetensors_nelements(st.get(), (int64_t)i), n);
        const size_t esize = strcmp(g.dtype, "I64") == 0 ? 8 : 4;
        EXPECT_EQ(svg_safetensors_nbytes(st.get(), (int64_t)i), (size_t)n * esize);

        const std::vector<float> v = read_f32(st.get(), g.name);
        ASSERT_EQ((int64_t)v.size(), n);
        EXPECT_TRUE(all_finite(v));
        for (size_t j = 0; j < g.first.size(); j++) EXPECT_FLOAT_EQ(v[j], (float)g.first[j]) << j;
        EXPECT_FLOAT_EQ(v.back(), (float)g.last);
        EXPECT_NEAR(sum(v), g.sum, 1e-4 * std::max(1.0, std::fabs(g.sum)));
        if (strcmp(g.dtype, "I64") == 0) {
            const std::vector<int64_t> ids = read_i64(st.get(), g.name);
            for (size_t j = 0; j < g.first.size(); j++) EXPECT_EQ(ids[j], (int64_t)g.first[j]);
            int64_t s = 0;
            for (int64_t x : ids) s += x;
            EXPECT_EQ(s, (int64_t)g.sum);
        } else {
            // raw bytes are the tensor in place
            EXPECT_EQ(memcmp(svg_safetensors_data(st.get(), (int64_t)i), v.data(), v.size() * 4), 0);
        }
    }
    EXPECT_EQ(svg_safetensors_find(st.get(), "no_such_tensor"), -1);
}

}  // namespace

// Values from numpy + the `safetensors` package on the same files.
TEST(Safetensors, ReadsGoldens) {
    check_golden("t5_encoder/forward.safetensors",
                 {
                     {"attention_mask", "I64", {2, 16}, {1, 1, 1, 1}, 1, 25},
                     {"input_ids", "I64", {2, 16}, {767, 802, 679, 978}, 85, 13303},
                     {"last_hidden_state", "F32", {2, 16, 32},
                      {0.03929942101240158, -0.03222176060080528, 0.037635162472724915, -0.28982049226760864},
                      -0.6570435762405396, -51.0106837},
                 });
    check_golden("llama_clip_encoders/clip_forward.safetensors",
                 {
                     {"input_ids", "I64", {1, 77}, {0, 366, 268, 946}, 2, 5659},
                     {"last_hidden_state", "F32", {1, 77, 24},
                      {0.25477877259254456, 0.23212690651416779, -0.0006541566108353436, 0.1490769237279892},
                      0.03310485556721687, -62.9137213},
                     {"pooler_output", "F32", {1, 24},
                      {0.13533644378185272, 0.1845274120569229, -0.08596891164779663, -0.08116593956947327},
                      0.2413719892501831, -0.115286594},
                 });
    check_golden("hunyuan_t2v/transformer_forward.safetensors",
                 {
                     {"encoder_attention_mask", "F32", {1, 24}, {1, 1, 1, 1}, 0, 17},
                     {"encoder_hidden_states", "F32", {1, 24, 32},
                      {-0.11928825825452805, -0.5467233061790466, 0.07792466878890991, 0.08749741315841675},
                      -0.4774627685546875, 12.8850009},
                     {"guidance", "F32", {1}, {6000}, 6000, 6000},
                     {"hidden_states", "F32", {1, 16, 3, 4, 4},
                      {-0.11873596906661987, -1.1566396951675415, 1.3434722423553467, 0.833712100982666},
                      -0.18555492162704468, 11.0494438},
                     {"out", "F32", {1, 16, 3, 4, 4},
                      {-1.5328316688537598, -0.5850507020950317, -1.0327311754226685, -1.0206657648086548},
                      0.8699048757553101, 235.84033},
                     {"pooled_projections", "F32", {1, 24},
                      {-0.9319940209388733, 0.5517162680625916, -0.45884430408477783, 1.953967571258545},
                      1.0396053791046143, 0.542931585},
                     {"timestep", "F32", {1}, {1000}, 1000, 1000},
                 });
    // a directory holding one file opens that file
    StPtr dir = open_path(std::string(SVG_TEST_DATA) + "/goldens/t5_encoder");
    ASSERT_NE(dir.get(), nullptr) << svg_last_error();
    EXPECT_EQ(svg_safetensors_n_tensors(dir.get()), 3);
}

TEST(Safetensors, ReadsEveryDtype) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<Entry> entries = {
        // u8 first and no header padding: every later tensor is misaligned
        {"u8", "U8", {3}, bytes_of<uint8_t>({0, 7, 255})},
        {"f64", "F64", {3}, bytes_of<double>({1.5, -2.25, 1e300})},
        {"f32", "F32", {2, 2}, bytes_of<float>({1.f, -0.5f, 3.0e38f, -1e-30f})},
        // 1, -2, 2^-24 (subnormal), inf, NaN
        {"f16", "F16", {5}, bytes_of<uint16_t>({0x3c00, 0xc000, 0x0001, 0x7c00, 0x7e00})},
        // 1, -3, 2^-133 (subnormal), NaN
        {"bf16", "BF16", {4}, bytes_of<uint16_t>({0x3f80, 0xc040, 0x0001, 0x7fc0})},
        // 1, -1, 2^-9 and -2^-9 (subnormals), 448, -448, NaN, NaN
        {"e4m3", "F8_E4M3", {8}, bytes_of<uint8_t>({0x38, 0xb8, 0x01, 0x81, 0x7e, 0xfe, 0x7f, 0xff})},
        // 1, -2, 2^-16 (subnormal), 57344, inf, NaN
        {"e5m2", "F8_E5M2", {6}, bytes_of<uint8_t>({0x3c, 0xc0, 0x01, 0x7b, 0x7c, 0x7d})},
        {"i64", "I64", {3}, bytes_of<int64_t>({-1, INT64_MAX, INT64_MIN})},
        {"i32", "I32", {2}, bytes_of<int32_t>({-7, INT32_MAX})},
        {"i16", "I16", {2}, bytes_of<int16_t>({-32768, 12345})},
        {"i8", "I8", {2}, bytes_of<int8_t>({-128, 127})},
        {"bool", "BOOL", {3}, bytes_of<uint8_t>({0, 1, 1})},
    };
    const std::string file = make_st(entries, "", /*pad=*/false);
    StPtr st = open_mem(file);
    ASSERT_NE(st.get(), nullptr) << svg_last_error();
    ASSERT_EQ(svg_safetensors_n_tensors(st.get()), (int64_t)entries.size());
    for (const Entry &e : entries) {
        const int64_t i = svg_safetensors_find(st.get(), e.name.c_str());
        ASSERT_GE(i, 0) << e.name;
        EXPECT_STREQ(svg_safetensors_dtype(st.get(), i), e.dtype.c_str());
        EXPECT_EQ(shape_of(st.get(), i), e.shape);
        ASSERT_EQ(svg_safetensors_nbytes(st.get(), i), e.bytes.size());
        EXPECT_EQ(memcmp(svg_safetensors_data(st.get(), i), e.bytes.data(), e.bytes.size()), 0) << e.name;
    }

    auto expect_f32 = [&](const char *name, const std::vector<float> &want) {
        const std::vector<float> got = read_f32(st.get(), name);
        ASSERT_EQ(got.size(), want.size()) << name;
        for (size_t j = 0; j < want.size(); j++) {
            if (std::isnan(want[j])) EXPECT_TRUE(std::isnan(got[j])) << name << "[" << j << "]";
            else EXPECT_EQ(got[j], want[j]) << name << "[" << j << "]";
        }
    };
    expect_f32("u8", {0, 7, 255});
    expect_f32("f64", {1.5f, -2.25f, inf});
    expect_f32("f32", {1.f, -0.5f, 3.0e38f, -1e-30f});
    expect_f32("f16", {1, -2, std::ldexp(1.f, -24), inf, nan});
    expect_f32("bf16", {1, -3, std::ldexp(1.f, -133), nan});
    expect_f32("e4m3", {1, -1, std::ldexp(1.f, -9), -std::ldexp(1.f, -9), 448, -448, nan, nan});
    expect_f32("e5m2", {1, -2, std::ldexp(1.f, -16), 57344, inf, nan});
    expect_f32("i64", {-1, 9.223372036854775807e18f, -9.223372036854775808e18f});
    expect_f32("i32", {-7, 2147483647.f});
    expect_f32("i16", {-32768, 12345});
    expect_f32("i8", {-128, 127});
    expect_f32("bool", {0, 1, 1});

    EXPECT_EQ(read_i64(st.get(), "i32"), (std::vector<int64_t>{-7, INT32_MAX}));
    EXPECT_EQ(read_i64(st.get(), "i16"), (std::vector<int64_t>{-32768, 12345}));
    EXPECT_EQ(read_i64(st.get(), "i8"), (std::vector<int64_t>{-128, 127}));
    EXPECT_EQ(read_i64(st.get(), "u8"), (std::vector<int64_t>{0, 7, 255}));
    EXPECT_EQ(read_i64(st.get(), "bool"), (std::vector<int64_t>{0, 1, 1}));

    // float dtypes are not integers
    for (const char *name : {"f64", "f32", "f16", "bf16", "e4m3", "e5m2"}) {
        std::vector<int64_t> out(8);
        const int64_t i = svg_safetensors_find(st.get(), name);
        svg_clear_error();
        EXPECT_FALSE(svg_safetensors_read_i64(st.get(), i, out.data(), svg_safetensors_nelements(st.get(), i)));
        expect_error(name, (std::string("'") + name + "'").c_str());
    }
}

TEST(Safetensors, ReadsI64) {
    const std::vector<int64_t> ids = {0, -1, 1, INT64_MAX, INT64_MIN, 1234567890123456789LL};
    std::string bytes(ids.size() * 8, '\0');
    memcpy(&bytes[0], ids.data(), bytes.size());
    const std::string file = make_st({{"ids", "I64", {2, 3}, bytes}});
    StPtr st = open_mem(file);
    ASSERT_NE(st.get(), nullptr) << svg_last_error();
    EXPECT_EQ(read_i64(st.get(), "ids"), ids);
    EXPECT_EQ(shape_of(st.get(), 0), (std::vector<int64_t>{2, 3}));
}

// All 256 codes of both float8 formats against tables from ml_dtypes.
TEST(Safetensors, Float8AllCodes) {
    std::string codes(256, '\0');
    for (int i = 0; i < 256; i++) codes[(size_t)i] = (char)i;
    const std::string file = make_st({{"e4m3", "F8_E4M3", {256}, codes}, {"e5m2", "F8_E5M2", {256}, codes}});
    StPtr st = open_mem(file);
    ASSERT_NE(st.get(), nullptr) << svg_last_error();

    struct Want {
        const char *name;
        std::vector<int> nan, inf;
        double abs_sum, max;
    };
    for (const Want &w : {Want{"e4m3", {0x7f, 0xff}, {}, 10815.75, 448},
                          Want{"e5m2", {0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff}, {0x7c, 0xfc}, 720895.99951171875, 57344}}) {
        SCOPED_TRACE(w.name);
        const std::vector<float> v = read_f32(st.get(), w.name);
        std::vector<int> nan, inf;
        double abs_sum = 0, max = 0;
        for (int i = 0; i < 256; i++) {
            if (std::isnan(v[(size_t)i])) nan.push_back(i);
            else if (std::isinf(v[(size_t)i])) inf.push_back(i);
            else {
                abs_sum += std::fabs(v[(size_t)i]);
                max = std::max(max, (double)v[(size_t)i]);
                // the sign bit only flips the sign
                if (i < 128) {
                    EXPECT_EQ(v[(size_t)i + 128], -v[(size_t)i]) << i;
                }
            }
        }
        EXPECT_EQ(nan, w.nan);
        EXPECT_EQ(inf, w.inf);
        EXPECT_EQ(abs_sum, w.abs_sum);  // exact: every value is a short binary fraction
        EXPECT_EQ(max, w.max);
        // positive codes increase with the value
        for (int i = 1; i < 128; i++) {
            if (std::isfinite(v[(size_t)i])) {
                EXPECT_GT(v[(size_t)i], v[(size_t)i - 1]) << i;
            }
        }
    }
    const std::vector<float> e4 = read_f32(st.get(), "e4m3");
    EXPECT_EQ(e4[0x08], std::ldexp(1.f, -6));  // smallest normal
    EXPECT_EQ(e4[0x07], 0.013671875f);         // largest subnormal
    EXPECT_EQ(e4[0x3c], 1.5f);
    EXPECT_EQ(e4[0x7b], 352.f);
    EXPECT_TRUE(std::signbit(e4[0x80]));  // -0
}

TEST(Safetensors, ScalarsAndEmptyTensors) {
    // "z" has a zero dimension, so its other dimensions may be huge
    const std::string h =
        R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
        R"("e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},)"
        R"("z":{"dtype":"I64","shape":[1099511627776,0,1099511627776],"data_offsets":[0,0]}})";
    const std::string file = make_file(h, bytes_of<float>({2.5f}));
    StPtr st = open_mem(file);
    ASSERT_NE(st.get(), nullptr) << svg_last_error();
    const int64_t s = svg_safetensors_find(st.get(), "s"), e = svg_safetensors_find(st.get(), "e"),
                  z = svg_safetensors_find(st.get(), "z");
    EXPECT_EQ(svg_safetensors_n_dims(st.get(), s), 0);
    EXPECT_EQ(svg_safetensors_nelements(st.get(), s), 1);
    EXPECT_EQ(read_f32(st.get(), "s"), std::vector<float>{2.5f});
    EXPECT_EQ(svg_safetensors_nelements(st.get(), e), 0);
    EXPECT_EQ(svg_safetensors_nbytes(st.get(), e), 0u);
    EXPECT_EQ(shape_of(st.get(), e), (std::vector<int64_t>{0, 3}));
    EXPECT_TRUE(svg_safetensors_read_f32(st.get(), e, nullptr, 0)) << svg_last_error();
    EXPECT_EQ(svg_safetensors_nelements(st.get(), z), 0);
    EXPECT_TRUE(svg_safetensors_read_i64(st.get(), z, nullptr, 0)) << svg_last_error();

    const std::string none = make_file("{}");
    StPtr empty = open_mem(none);
    ASSERT_NE(empty.get(), nullptr) << svg_last_error();
    EXPECT_EQ(svg_safetensors_n_tensors(empty.get()), 0);
}

// Gaps between tensors, trailing bytes and out-of-order offsets are valid.
TEST(Safetensors, AcceptsGapsAndAnyOrder) {
    const std::string h = R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},)"
                          R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    const std::string file = make_file(h, bytes_of<float>({1, 0, 0, 2, 0, 0}));
    StPtr st = open_mem(file);
    ASSERT_NE(st.get(), nullptr) << svg_last_error();
    EXPECT_STREQ(svg_safetensors_name(st.get(), 0), "a");
    EXPECT_STREQ(svg_safetensors_name(st.get(), 1), "b");
    EXPECT_EQ(read_f32(st.get(), "a"), std::vector<float>{1});
    EXPECT_EQ(read_f32(st.get(), "b"), std::vector<float>{2});
}

TEST(Safetensors, Metadata) {
    const std::string file = make_st({{"w", "F32", {1}, bytes_of<float>({1})}},
                                     R"({"format":"pt","note":"h\u00e9llo \"q\""})");
    StPtr st = open_mem(file);
    ASSERT_NE(st.get(), nullptr) << svg_last_error();
    EXPECT_STREQ(svg_safetensors_metadata(st.get(), "format"), "pt");
    EXPECT_STREQ(svg_safetensors_metadata(st.get(), "note"), "h\xc3\xa9llo \"q\"");
    EXPECT_EQ(svg_safetensors_metadata(st.get(), "missing"), nullptr);
    EXPECT_EQ(svg_safetensors_metadata(st.get(), nullptr), nullptr);
    EXPECT_EQ(svg_safetensors_n_tensors(st.get()), 1);  // __metadata__ is not a tensor

    const std::string null_md = make_st({}, "null");
    StPtr st2 = open_mem(null_md);
    ASSERT_NE(st2.get(), nullptr) << svg_last_error();
    EXPECT_EQ(svg_safetensors_metadata(st2.get(), "format"), nullptr);
}

TEST(Safetensors, OpensFileByPath) {
    TempDir dir;
    const std::string bytes = make_st({{"w", "BF16", {2}, bytes_of<uint16_t>({0x3f80, 0x4000})}});
    write_file(dir.path / "model.safetensors", bytes);
    StPtr st = open_path((dir.path / "model.safetensors").string());
    ASSERT_NE(st.get(), nullptr) << svg_last_error();
    EXPECT_EQ(read_f32(st.get(), "w"), (std::vector<float>{1, 2}));

    const std::string missing = (dir.path / "missing.safetensors").string();
    svg_clear_error();
    EXPECT_EQ(open_path(missing).get(), nullptr);
    expect_error("missing file", missing.c_str());

    svg_clear_error();
    EXPECT_EQ(open_path((dir.path / "missing.safetensors.index.json").string()).get(), nullptr);
    expect_error("missing index", "missing.safetensors.index.json");

    // errors on tensors after open name the file
    StPtr again = open_path((dir.path / "model.safetensors").string());
    ASSERT_NE(again.get(), nullptr);
    float out[3];
    svg_clear_error();
    EXPECT_FALSE(svg_safetensors_read_f32(again.get(), 0, out, 3));
    expect_error("wrong n", "model.safetensors: tensor 'w'");
}

namespace {

// Two shards and their index, as a hub checkpoint ships them.
void write_sharded(const fs::path &dir) {
    write_file(dir / "model-00001-of-00002.safetensors",
               make_st({{"a", "F32", {2}, bytes_of<float>({1, 2})}, {"b", "I64", {3}, bytes_of<int64_t>({7, 8, 9})}},
                       R"({"format":"pt"})"));
    write_file(dir / "model-00002-of-00002.safetensors",
               make_st({{"c", "BF16", {2, 2}, bytes_of<uint16_t>({0x3f80, 0x4000, 0x4040, 0x4080})},
                        {"d", "F32", {}, bytes_of<float>({-5})}},
                       R"({"format":"other","shard":"2"})"));
    write_file(dir / "model.safetensors.index.json",
               R"({"metadata":{"total_size":44},"weight_map":{)"
               R"("a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors",)"
               R"("c":"model-00002-of-00002.safetensors","d":"model-00002-of-00002.safetensors"}})");
}

void check_sharded(const svg_safetensors *st) {
    ASSERT_NE(st, nullptr) << svg_last_error();
    ASSERT_EQ(svg_safetensors_n_tensors(st), 4);
    const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) EXPECT_STREQ(svg_safetensors_name(st, i), names[i]);
    EXPECT_EQ(read_f32(st, "a"), (std::vector<float>{1, 2}));
    EXPECT_EQ(read_i64(st, "b"), (std::vector<int64_t>{7, 8, 9}));
    EXPECT_EQ(read_f32(st, "c"), (std::vector<float>{1, 2, 3, 4}));
    EXPECT_EQ(read_f32(st, "d"), std::vector<float>{-5});
    EXPECT_EQ(shape_of(st, 2), (std::vector<int64_t>{2, 2}));
    // shards' metadata are merged; the first shard wins a shared key
    EXPECT_STREQ(svg_safetensors_metadata(st, "format"), "pt");
    EXPECT_STREQ(svg_safetensors_metadata(st, "shard"), "2");
}

}  // namespace

TEST(Safetensors, ReadsShardedCheckpoint) {
    TempDir dir;
    write_sharded(dir.path);
    {
        SCOPED_TRACE("index");
        StPtr st = open_path((dir.path / "model.safetensors.index.json").string());
        check_sharded(st.get());
    }
    {
        SCOPED_TRACE("directory with index");
        StPtr st = open_path(dir.path.string());
        check_sharded(st.get());
    }
    {
        // without an index every *.safetensors in the directory is read
        SCOPED_TRACE("directory without index");
        fs::remove(dir.path / "model.safetensors.index.json");
        write_file(dir.path / "notes.txt", "not a checkpoint");
        StPtr st = open_path(dir.path.string());
        check_sharded(st.get());
    }
    {
        // a relative index path resolves shards against its own directory
        SCOPED_TRACE("relative index path");
        write_sharded(dir.path);
        const fs::path cwd = fs::current_path();
        fs::current_path(dir.path.parent_path());
        StPtr st = open_path((dir.path.filename() / "model.safetensors.index.json").string());
        fs::current_path(cwd);
        check_sharded(st.get());
    }
}

TEST(Safetensors, RejectsBadShardedCheckpoints) {
    const std::string shard1 = "model-00001-of-00002.safetensors";
    auto with_index = [&](const std::string &index, const char *needle) {
        TempDir dir;
        write_sharded(dir.path);
        write_file(dir.path / "model.safetensors.index.json", index);
        svg_clear_error();
        EXPECT_EQ(open_path((dir.path / "model.safetensors.index.json").string()).get(), nullptr) << index;
        expect_error(index, needle);
        svg_clear_error();
        EXPECT_EQ(open_path(dir.path.string()).get(), nullptr) << index;
        expect_error(index, needle);
    };
    with_index(R"({"weight_map":{"a":"model-00003-of-00002.safetensors"}})", "model-00003-of-00002.safetensors");
    with_index(R"({"weight_map":{"a":")" + shard1 + R"(","zz":")" + shard1 + R"("}})", "'zz'");
    with_index(R"({"weight_map":{"c":")" + shard1 + R"("}})", "'c'");  // c is in shard 2
    with_index(R"({"weight_map":{"a":")" + shard1 + R"(",)", "invalid JSON");
    with_index(R"({"metadata":{}})", "weight_map");
    with_index(R"([1,2])", "weight_map");
    with_index(R"({"weight_map":{"a":1}})", "'a'");

    {
        // a name in two shards
        TempDir dir;
        write_sharded(dir.path);
        write_file(dir.path / "model-00002-of-00002.safetensors", make_st({{"a", "F32", {1}, bytes_of<float>({3})}}));
        fs::remove(dir.path / "model.safetensors.index.json");
        svg_clear_error();
        EXPECT_EQ(open_path(dir.path.string()).get(), nullptr);
        expect_error("duplicate across shards", "model-00002-of-00002.safetensors");
    }
    {
        TempDir dir;
        svg_clear_error();
        EXPECT_EQ(open_path(dir.path.string()).get(), nullptr);
        expect_error("empty directory", dir.path.string().c_str());
    }
    {
        // a bad shard makes the whole directory fail, naming the shard
        TempDir dir;
        write_sharded(dir.path);
        fs::remove(dir.path / "model.safetensors.index.json");
        write_file(dir.path / "broken.safetensors", "12345");
        svg_clear_error();
        EXPECT_EQ(open_path(dir.path.string()).get(), nullptr);
        expect_error("broken shard", "broken.safetensors");
    }
}

TEST(Safetensors, RejectsTruncated) {
    const std::string file = make_st({{"ids", "I64", {2}, bytes_of<int64_t>({1, 2})},
                                      {"w", "F32", {2, 2}, bytes_of<float>({1, 2, 3, 4})},
                                      {"h", "F16", {3}, bytes_of<uint16_t>({1, 2, 3})}},
                                     R"({"format":"pt"})");
    {
        StPtr whole = open_mem(file);
        ASSERT_NE(whole.get(), nullptr) << svg_last_error();
    }
    // The last tensor ends at the end of the file, so every prefix is invalid.
    for (size_t n = 0; n < file.size(); n++) {
        // a heap copy of exactly n bytes so ASan catches any read past it
        std::unique_ptr<char[]> prefix(new char[n + 1]);
        memcpy(prefix.get(), file.data(), n);
        svg_clear_error();
        StPtr st(svg_safetensors_open_memory(prefix.get(), n), svg_safetensors_free);
        EXPECT_EQ(st.get(), nullptr) << "prefix " << n;
        expect_error("prefix " + std::to_string(n), "<memory>");
    }
    // and through files (mmap), including an empty one
    TempDir dir;
    for (size_t n : {(size_t)0, (size_t)4, (size_t)8, (size_t)20, file.size() - 1}) {
        const fs::path p = dir.path / ("t" + std::to_string(n) + ".safetensors");
        write_file(p, file.substr(0, n));
        svg_clear_error();
        EXPECT_EQ(open_path(p.string()).get(), nullptr) << n;
        expect_error("file prefix " + std::to_string(n), p.string().c_str());
    }
}

TEST(Safetensors, RejectsMalformed) {
    auto entry = [](const std::string &body) { return make_file("{\"w\":{" + body + "}}", std::string(16, '\0')); };
    const std::string ok_shape = R"("dtype":"F32","shape":[2],)";
    struct Case {
        std::string what, bytes;
        const char *needle;
    };
    const std::vector<Case> cases = {
        {"empty file", "", "too small"},
        {"7 bytes", std::string(7, '\0'), "too small"},
        {"header length past EOF", le64(100) + "{}", "past the end"},
        {"header length 2^63", le64(1ull << 63) + "{}", "100 MB"},
        {"header length 2^64-1", le64(UINT64_MAX) + "{}", "100 MB"},
        {"header length 200 MB", le64(200u << 20) + "{}", "100 MB"},
        {"empty header", make_file(""), "invalid header"},
        {"invalid JSON", make_file(R"({"w":)"), "invalid header"},
        {"unterminated object", make_file(R"({"w":{})"), "invalid header"},
        {"single quotes", make_file(R"({'w':1})"), "invalid header"},
        {"trailing garbage", make_file(R"({} x)"), "invalid header"},
        {"comment", make_file(R"({} // c)"), "invalid header"},
        {"NUL in header", make_file(std::string("{}\0", 3)), "invalid header"},
        {"invalid UTF-8", make_file("{\"\xff\":{}}"), "invalid header"},
        {"array", make_file("[]"), "not a JSON object"},
        {"number", make_file("1"), "not a JSON object"},
        {"string", make_file("\"x\""), "not a JSON object"},
        {"null", make_file("null"), "not a JSON object"},
        {"entry is a number", make_file(R"({"w":1})"), "'w'"},
        {"entry is an array", make_file(R"({"w":[]})"), "'w'"},
        {"missing dtype", entry(R"("shape":[2],"data_offsets":[0,8])"), "'w'"},
        {"dtype not a string", entry(R"("dtype":1,"shape":[2],"data_offsets":[0,8])"), "'w'"},
        {"unknown dtype", entry(R"("dtype":"F33","shape":[2],"data_offsets":[0,8])"), "F33"},
        {"lowercase dtype", entry(R"("dtype":"f32","shape":[2],"data_offsets":[0,8])"), "'w'"},
        {"missing shape", entry(R"("dtype":"F32","data_offsets":[0,8])"), "'w'"},
        {"shape not an array", entry(R"("dtype":"F32","shape":2,"data_offsets":[0,8])"), "'w'"},
        {"negative shape", entry(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"), "negative"},
        {"fractional shape", entry(R"("dtype":"F32","shape":[1.5],"data_offsets":[0,8])"), "not an integer"},
        {"float shape", entry(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])"), "not an integer"},
        {"string shape", entry(R"("dtype":"F32","shape":["2"],"data_offsets":[0,8])"), "not an integer"},
        {"shape beyond u64", entry(R"("dtype":"F32","shape":[1e30],"data_offsets":[0,8])"), "not an integer"},
        {"shape beyond i64", entry(R"("dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8])"), "too large"},
        {"too many dims", entry(R"("dtype":"F32","shape":[1,1,1,1,1,1,1,1,2],"data_offsets":[0,8])"), "dimensions"},
        {"shape overflow", entry(R"("dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8])"), "overflow"},
        {"shape overflow wraps to 0", entry(R"("dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0])"), "overflow"},
        {"byte size overflow", entry(R"("dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,8])"), "overflow"},
        {"missing data_offsets", entry(R"("dtype":"F32","shape":[2])"), "data_offsets"},
        {"data_offsets one value", entry(ok_shape + R"("data_offsets":[8])"), "data_offsets"},
        {"data_offsets three values", entry(ok_shape + R"("data_offsets":[0,8,8])"), "data_offsets"},
        {"data_offsets strings", entry(ok_shape + R"("data_offsets":["0","8"])"), "data_offsets"},
        {"data_offsets floats", entry(ok_shape + R"("data_offsets":[0.0,8.0])"), "data_offsets"},
        {"data_offsets negative", entry(ok_shape + R"("data_offsets":[-8,0])"), "data_offsets"},
        {"data_offsets object", entry(ok_shape + R"("data_offsets":{"a":0})"), "data_offsets"},
        {"end before begin", entry(ok_shape + R"("data_offsets":[8,0])"), "end before"},
        {"offsets past EOF", entry(ok_shape + R"("data_offsets":[12,20])"), "past the data buffer"},
        {"offsets far past EOF", entry(ok_shape + R"("data_offsets":[18446744073709551607,18446744073709551615])"), "past the data buffer"},
        {"offsets wider than shape", entry(ok_shape + R"("data_offsets":[0,12])"), "needs 8"},
        {"offsets narrower than shape", entry(ok_shape + R"("data_offsets":[0,4])"), "needs 8"},
        {"overlapping tensors",
         make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", std::string(12, '\0')),
         "overlaps"},
        {"nested tensors",
         make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                   R"("b":{"dtype":"U8","shape":[1],"data_offsets":[5,6]}})", std::string(16, '\0')),
         "overlaps"},
        {"same range",
         make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                   R"("b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
         "overlaps"},
        {"duplicate names",
         make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                   R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')),
         "duplicate"},
        {"NUL in name", make_file(R"({"a\u0000b":{"dtype":"U8","shape":[],"data_offsets":[0,1]}})", "x"), "NUL"},
        {"metadata not an object", make_file(R"({"__metadata__":1})"), "__metadata__"},
        {"metadata value not a string", make_file(R"({"__metadata__":{"n":1}})"), "'n'"},
        {"deep nesting in an entry", make_file("{\"w\":" + std::string(100, '[') + std::string(100, ']') + "}"), "deep"},
        {"deep nesting at the root", make_file(std::string(100000, '[') + std::string(100000, ']')), "deep"},
    };
    for (const Case &c : cases) expect_rejected(c.bytes, c.what, c.needle);

    // control bytes in names are escaped: errors stay on one line
    expect_rejected(make_file(R"({"a\nb":{"dtype":"X"}})"), "newline in name", "a\\x0ab");
}

TEST(Safetensors, RejectsBadArguments) {
    svg_clear_error();
    EXPECT_EQ(svg_safetensors_open(nullptr), nullptr);
    expect_error("NULL path", nullptr);
    svg_clear_error();
    EXPECT_EQ(svg_safetensors_open_memory(nullptr, 16), nullptr);
    expect_error("NULL data", nullptr);
    svg_safetensors_free(nullptr);

    EXPECT_EQ(svg_safetensors_n_tensors(nullptr), 0);
    EXPECT_EQ(svg_safetensors_find(nullptr, "a"), -1);
    EXPECT_EQ(svg_safetensors_metadata(nullptr, "a"), nullptr);
    svg_clear_error();
    EXPECT_EQ(svg_safetensors_name(nullptr, 0), nullptr);
    expect_error("NULL handle", nullptr);

    const std::string file = make_st({{"w", "F32", {2}, bytes_of<float>({1, 2})}});
    StPtr st = open_mem(file);
    ASSERT_NE(st.get(), nullptr) << svg_last_error();
    EXPECT_EQ(svg_safetensors_find(st.get(), nullptr), -1);
    for (int64_t i : {(int64_t)-1, (int64_t)1, INT64_MAX}) {
        svg_clear_error();
        EXPECT_EQ(svg_safetensors_name(st.get(), i), nullptr);
        expect_error("index " + std::to_string(i), "out of range");
        EXPECT_EQ(svg_safetensors_dtype(st.get(), i), nullptr);
        EXPECT_EQ(svg_safetensors_n_dims(st.get(), i), 0);
        EXPECT_EQ(svg_safetensors_nelements(st.get(), i), 0);
        EXPECT_EQ(svg_safetensors_nbytes(st.get(), i), 0u);
        EXPECT_EQ(svg_safetensors_data(st.get(), i), nullptr);
        int64_t ne[SVG_MAX_DIMS] = {-7};
        svg_safetensors_shape(st.get(), i, ne);
        EXPECT_EQ(ne[0], -7);
        float f;
        EXPECT_FALSE(svg_safetensors_read_f32(st.get(), i, &f, 1));
    }
    float out[4];
    svg_clear_error();
    EXPECT_FALSE(svg_safetensors_read_f32(st.get(), 0, out, 1));
    expect_error("n too small", "'w'");
    svg_clear_error();
    EXPECT_FALSE(svg_safetensors_read_f32(st.get(), 0, out, 4));
    expect_error("n too large", "'w'");
    svg_clear_error();
    EXPECT_FALSE(svg_safetensors_read_f32(st.get(), 0, nullptr, 2));
    expect_error("NULL out", "'w'");
}
