// The converter (convert/): the Wan goldens from every source layout, name
// mapping, config inference, output types, random weights, errors, and the
// model-file contract (models/model-file.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "test-common.h"
#include "test-models.h"

#include "convert/convert.h"
#include "models/forward.h"
#include "models/model-file.h"
#include "svg.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string k_goldens = std::string(SVG_TEST_DATA) + "/goldens/";

std::string folder(const std::string &c) { return k_goldens + c + "/transformer"; }
std::string original_file(const std::string &c) { return k_goldens + c + "/transformer_original_naming.safetensors"; }
std::string config_file(const std::string &c) { return folder(c) + "/config.json"; }

json read_json(const std::string &path) {
    std::ifstream f(path);
    return json::parse(f);
}

// ---------------------------------------------------------------- safetensors

struct st_entry {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
};

// The format: u64 header length, JSON header, data.
void write_safetensors(const std::string &path, const std::vector<st_entry> &entries) {
    json h = json::object();
    size_t off = 0;
    for (const st_entry &e : entries) {
        h[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {off, off + e.data.size()}}};
        off += e.data.size();
    }
    std::string hs = h.dump();
    hs.resize((hs.size() + 7) / 8 * 8, ' ');
    std::ofstream f(path, std::ios::binary);
    const uint64_t n = hs.size();
    f.write((const char *)&n, 8);
    f.write(hs.data(), (std::streamsize)hs.size());
    for (const st_entry &e : entries) f.write((const char *)e.data.data(), (std::streamsize)e.data.size());
    ASSERT_TRUE(f.good()) << path;
}

std::vector<st_entry> read_safetensors(const std::string &path) {
    svg_safetensors *st = svg_safetensors_open(path.c_str());
    EXPECT_NE(st, nullptr) << svg_last_error();
    std::vector<st_entry> out;
    for (int64_t i = 0; st && i < svg_safetensors_n_tensors(st); i++) {
        st_entry e;
        e.name = svg_safetensors_name(st, i);
        e.dtype = svg_safetensors_dtype(st, i);
        e.shape.resize((size_t)svg_safetensors_n_dims(st, i));
        svg_safetensors_shape(st, i, e.shape.data());
        const uint8_t *d = (const uint8_t *)svg_safetensors_data(st, i);
        e.data.assign(d, d + svg_safetensors_nbytes(st, i));
        out.push_back(std::move(e));
    }
    svg_safetensors_free(st);
    return out;
}

std::string slurp(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<float> as_f32(const st_entry &e) {
    std::vector<float> v(e.data.size() / 4);
    memcpy(v.data(), e.data.data(), v.size() * 4);
    return v;
}

// An F32 entry re-encoded as F16 or BF16.
st_entry to_16bit(const st_entry &e, const std::string &dtype) {
    st_entry o = e;
    o.dtype = dtype;
    const std::vector<float> v = as_f32(e);
    o.data.resize(v.size() * 2);
    for (size_t i = 0; i < v.size(); i++) {
        const uint16_t h = dtype == "F16" ? svg_fp32_to_fp16(v[i]) : svg_fp32_to_bf16(v[i]);
        memcpy(&o.data[i * 2], &h, 2);
    }
    return o;
}

// ---------------------------------------------------------------- gguf

struct gguf_free {
    void operator()(svg_gguf *f) const { svg_gguf_free(f); }
};
using gguf_ptr = std::unique_ptr<svg_gguf, gguf_free>;

gguf_ptr open_gguf(const std::string &path) {
    gguf_ptr f(svg_gguf_open(path.c_str()));
    EXPECT_TRUE(f) << svg_last_error();
    return f;
}

std::vector<int64_t> tensor_shape(const svg_gguf *f, int64_t i) {
    std::vector<int64_t> s((size_t)svg_gguf_tensor_n_dims(f, i));
    svg_gguf_tensor_shape(f, i, s.data());
    return s;
}

// The tensor as f32 (any float or quantized type).
std::vector<float> tensor_f32(const svg_gguf *f, int64_t i) {
    int64_t n = 1;
    for (int64_t d : tensor_shape(f, i)) n *= d;
    std::vector<float> out((size_t)n);
    svg_type_traits_of(svg_gguf_tensor_type(f, i))->to_float(svg_gguf_tensor_data(f, i), out.data(), n);
    return out;
}

// Same tensors in the same order: names, types, shapes, bytes.
void expect_same_tensors(const std::string &a_path, const std::string &b_path) {
    gguf_ptr a = open_gguf(a_path), b = open_gguf(b_path);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(svg_gguf_n_tensors(a.get()), svg_gguf_n_tensors(b.get()));
    for (int64_t i = 0; i < svg_gguf_n_tensors(a.get()); i++) {
        const std::string name = svg_gguf_tensor_name(a.get(), i);
        SCOPED_TRACE(name);
        EXPECT_EQ(name, svg_gguf_tensor_name(b.get(), i));
        EXPECT_EQ(svg_gguf_tensor_type(a.get(), i), svg_gguf_tensor_type(b.get(), i));
        EXPECT_EQ(tensor_shape(a.get(), i), tensor_shape(b.get(), i));
        ASSERT_EQ(svg_gguf_tensor_nbytes(a.get(), i), svg_gguf_tensor_nbytes(b.get(), i));
        EXPECT_EQ(0, memcmp(svg_gguf_tensor_data(a.get(), i), svg_gguf_tensor_data(b.get(), i),
                            svg_gguf_tensor_nbytes(a.get(), i)));
    }
}

// svg.transformer.* holds exactly the config's keys (less '_' keys and nulls)
// with the contract's types, plus the class.
void expect_metadata_is_config(const svg_gguf *f, const json &config) {
    EXPECT_STREQ(svg_gguf_get_string(f, "general.architecture"), "wan");
    EXPECT_STREQ(svg_gguf_get_string(f, "svg.transformer.class"), "WanTransformer3DModel");
    const int64_t comps = svg_gguf_find_key(f, "svg.components");
    ASSERT_GE(comps, 0);
    ASSERT_EQ(svg_gguf_arr_n(f, comps), 1);
    EXPECT_STREQ(svg_gguf_arr_str(f, comps, 0), "transformer");

    std::set<std::string> expected = {"svg.transformer.class", "svg.transformer.tensor_prefix"};
    for (const auto &kv : config.items()) {
        if (kv.key()[0] == '_' || kv.value().is_null()) continue;
        const std::string key = "svg.transformer." + kv.key();
        SCOPED_TRACE(key);
        expected.insert(key);
        const int64_t i = svg_gguf_find_key(f, key.c_str());
        ASSERT_GE(i, 0);
        const json &v = kv.value();
        if (v.is_boolean()) {
            ASSERT_EQ(svg_gguf_kv_type(f, i), SVG_GGUF_BOOL);
            EXPECT_EQ(svg_gguf_get_bool(f, i), v.get<bool>());
        } else if (v.is_number_integer()) {
            ASSERT_EQ(svg_gguf_kv_type(f, i), SVG_GGUF_INT64);
            EXPECT_EQ(svg_gguf_get_i64(f, i), v.get<int64_t>());
        } else if (v.is_number_float()) {
            ASSERT_EQ(svg_gguf_kv_type(f, i), SVG_GGUF_FLOAT32);
            EXPECT_EQ(svg_gguf_get_f32(f, i), v.get<float>());
        } else if (v.is_string()) {
            ASSERT_EQ(svg_gguf_kv_type(f, i), SVG_GGUF_STRING);
            EXPECT_EQ(svg_gguf_get_str(f, i), v.get<std::string>());
        } else {
            ASSERT_TRUE(v.is_array());
            ASSERT_EQ(svg_gguf_arr_type(f, i), SVG_GGUF_INT64);
            const std::vector<int64_t> want = v.get<std::vector<int64_t>>();
            ASSERT_EQ(svg_gguf_arr_n(f, i), (int64_t)want.size());
            const int64_t *got = (const int64_t *)svg_gguf_arr_data(f, i);
            EXPECT_EQ(std::vector<int64_t>(got, got + want.size()), want);
        }
    }
    std::set<std::string> got;
    for (int64_t i = 0; i < svg_gguf_n_kv(f); i++) {
        const std::string key = svg_gguf_key(f, i);
        if (key.rfind("svg.transformer.", 0) == 0) got.insert(key);
    }
    EXPECT_EQ(got, expected);
}

// ---------------------------------------------------------------- fixture

class Convert : public ::testing::Test {
protected:
    void SetUp() override {
        const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = std::string(info->test_suite_name()) + "-" + info->name();
        for (char &c : name)
            if (!isalnum((unsigned char)c)) c = '_';
        dir_ = fs::temp_directory_path() / ("svg-test-convert-" + std::to_string(getpid()) + "-" + name);
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string tmp(const std::string &name) const { return (dir_ / name).string(); }

    static svg_convert_options options(const std::string &input, const std::string &output,
                                       const std::string &config = "", svg_type type = SVG_TYPE_COUNT) {
        svg_convert_options o;
        o.sources.push_back({"transformer", input, config});
        o.output = output;
        o.type = type;
        return o;
    }

    // Convert; on failure the error is in error_.
    bool convert(const svg_convert_options &o) {
        const bool ok = svg_convert(o);
        error_ = ok ? "" : svg_last_error();
        return ok;
    }
    // Expect a one-line error containing every fragment.
    void expect_error(const svg_convert_options &o, const std::vector<std::string> &fragments) {
        ASSERT_FALSE(convert(o));
        EXPECT_EQ(error_.find('\n'), std::string::npos) << error_;
        for (const std::string &s : fragments)
            EXPECT_NE(error_.find(s), std::string::npos) << "'" << s << "' not in: " << error_;
        if (!fs::is_directory(o.output)) {
            EXPECT_FALSE(fs::exists(o.output));
        }
    }

    fs::path dir_;
    std::string error_;
};

class ConvertWan : public Convert, public ::testing::WithParamInterface<const char *> {};

INSTANTIATE_TEST_SUITE_P(Goldens, ConvertWan, ::testing::Values("wan_t2v", "wan_i2v"));

// ---------------------------------------------------------------- sources

TEST_P(ConvertWan, FolderHoldsConfigAndWeights) {
    const std::string out = tmp("folder.gguf");
    ASSERT_TRUE(convert(options(folder(GetParam()), out))) << error_;
    gguf_ptr f = open_gguf(out);
    ASSERT_TRUE(f);
    expect_metadata_is_config(f.get(), read_json(config_file(GetParam())));
    EXPECT_STREQ(svg_gguf_get_string(f.get(), "general.name"), GetParam());

    // every tensor, f32 as in the source, bytes untouched
    const std::vector<st_entry> src = read_safetensors(folder(GetParam()) + "/diffusion_pytorch_model.safetensors");
    ASSERT_EQ(svg_gguf_n_tensors(f.get()), (int64_t)src.size());
    for (const st_entry &e : src) {
        SCOPED_TRACE(e.name);
        const int64_t i = svg_gguf_find_tensor(f.get(), ("dit." + e.name).c_str());
        ASSERT_GE(i, 0);
        EXPECT_EQ(svg_gguf_tensor_type(f.get(), i), SVG_TYPE_F32);
        EXPECT_EQ(tensor_shape(f.get(), i), e.shape);
        ASSERT_EQ(svg_gguf_tensor_nbytes(f.get(), i), e.data.size());
        EXPECT_EQ(0, memcmp(svg_gguf_tensor_data(f.get(), i), e.data.data(), e.data.size()));
    }
}

TEST_P(ConvertWan, OriginalNamingMatchesFolder) {
    const std::string a = tmp("folder.gguf"), b = tmp("original.gguf");
    ASSERT_TRUE(convert(options(folder(GetParam()), a))) << error_;
    ASSERT_TRUE(convert(options(original_file(GetParam()), b, config_file(GetParam())))) << error_;
    expect_same_tensors(a, b);
    gguf_ptr f = open_gguf(b);
    ASSERT_TRUE(f);
    expect_metadata_is_config(f.get(), read_json(config_file(GetParam())));
    EXPECT_STREQ(svg_gguf_get_string(f.get(), "general.name"), "transformer_original_naming");
}

TEST_P(ConvertWan, PipelineFolderReadsTransformer) {
    const std::string a = tmp("folder.gguf"), b = tmp("pipeline.gguf");
    ASSERT_TRUE(convert(options(folder(GetParam()), a))) << error_;
    ASSERT_TRUE(convert(options(k_goldens + GetParam(), b))) << error_;
    expect_same_tensors(a, b);
}

// A sharded folder (index.json + shards), as large models ship.
TEST_F(Convert, ShardedFolderMatchesSingleFile) {
    const std::vector<st_entry> entries = read_safetensors(folder("wan_t2v") + "/diffusion_pytorch_model.safetensors");
    fs::create_directories(tmp("sharded"));
    fs::copy_file(config_file("wan_t2v"), tmp("sharded/config.json"));
    const std::string shards[2] = {"diffusion_pytorch_model-00001-of-00002.safetensors",
                                   "diffusion_pytorch_model-00002-of-00002.safetensors"};
    const size_t half = entries.size() / 2;
    write_safetensors(tmp("sharded/" + shards[0]), {entries.begin(), entries.begin() + half});
    write_safetensors(tmp("sharded/" + shards[1]), {entries.begin() + half, entries.end()});
    json index = {{"metadata", json::object()}, {"weight_map", json::object()}};
    for (size_t i = 0; i < entries.size(); i++) index["weight_map"][entries[i].name] = shards[i < half ? 0 : 1];
    std::ofstream(tmp("sharded/diffusion_pytorch_model.safetensors.index.json")) << index.dump();
    const std::string a = tmp("folder.gguf"), b = tmp("sharded.gguf");
    ASSERT_TRUE(convert(options(folder("wan_t2v"), a))) << error_;
    ASSERT_TRUE(convert(options(tmp("sharded"), b))) << error_;
    expect_same_tensors(a, b);
}

// Components share one file under their own prefixes (Wan 2.2 A14B has a
// second transformer for the low-noise steps).
TEST_F(Convert, ComponentsShareOneFile) {
    svg_convert_options o = options(folder("wan_t2v"), tmp("two.gguf"), "", SVG_TYPE_Q8_0);
    o.sources.push_back({"transformer_2", original_file("wan_t2v"), config_file("wan_t2v")});
    ASSERT_TRUE(convert(o)) << error_;
    gguf_ptr f = open_gguf(o.output);
    ASSERT_TRUE(f);
    const int64_t comps = svg_gguf_find_key(f.get(), "svg.components");
    ASSERT_EQ(svg_gguf_arr_n(f.get(), comps), 2);
    EXPECT_STREQ(svg_gguf_arr_str(f.get(), comps, 1), "transformer_2");
    EXPECT_STREQ(svg_gguf_get_string(f.get(), "svg.transformer_2.class"), "WanTransformer3DModel");
    int64_t layers = 0;
    EXPECT_TRUE(svg_gguf_get_int(f.get(), "svg.transformer_2.num_layers", &layers));
    EXPECT_EQ(layers, 2);
    const int64_t n = svg_gguf_n_tensors(f.get());
    ASSERT_EQ(n % 2, 0);
    for (int64_t i = 0; i < n / 2; i++) {
        const std::string name = svg_gguf_tensor_name(f.get(), i);
        SCOPED_TRACE(name);
        const int64_t j = svg_gguf_find_tensor(f.get(), ("dit2." + name.substr(strlen("dit."))).c_str());
        ASSERT_GE(j, n / 2);
        EXPECT_EQ(svg_gguf_tensor_type(f.get(), i), svg_gguf_tensor_type(f.get(), j));
        ASSERT_EQ(svg_gguf_tensor_nbytes(f.get(), i), svg_gguf_tensor_nbytes(f.get(), j));
        EXPECT_EQ(0, memcmp(svg_gguf_tensor_data(f.get(), i), svg_gguf_tensor_data(f.get(), j),
                            svg_gguf_tensor_nbytes(f.get(), i)));
    }
    o.sources[1].component = "transformer";
    o.output = tmp("dup.gguf");
    expect_error(o, {"component 'transformer' given twice"});
}

// ComfyUI checkpoints nest the same names under model.diffusion_model.
TEST_P(ConvertWan, ComfyPrefixIsStripped) {
    std::vector<st_entry> entries = read_safetensors(original_file(GetParam()));
    for (st_entry &e : entries) e.name = "model.diffusion_model." + e.name;
    const std::string comfy = tmp("comfy.safetensors");
    write_safetensors(comfy, entries);
    const std::string a = tmp("folder.gguf"), b = tmp("comfy.gguf");
    ASSERT_TRUE(convert(options(folder(GetParam()), a))) << error_;
    ASSERT_TRUE(convert(options(comfy, b, config_file(GetParam())))) << error_;
    expect_same_tensors(a, b);
}

// ---------------------------------------------------------------- config inference

svg_shape_map diffusers_shapes(const std::string &path) {
    std::vector<std::string> names, mapped;
    svg_shape_map shapes;
    const std::vector<st_entry> entries = read_safetensors(path);
    for (const st_entry &e : entries) names.push_back(e.name);
    std::string scheme;
    EXPECT_TRUE(svg_convert_arch_wan.rename(names, &mapped, &scheme)) << svg_last_error();
    for (size_t i = 0; i < mapped.size(); i++) shapes[mapped[i]] = entries[i].shape;
    return shapes;
}

// Everything but the head split (fixed at 128 in the releases, 12 here) and
// rope_max_seq_len (no tensor carries it; 1024 in the releases, 64 here)
// comes from the shapes.
TEST_P(ConvertWan, InferredConfigMatchesGolden) {
    json golden = read_json(config_file(GetParam()));
    golden.erase("_diffusers_version");
    for (const std::string &path :
         {original_file(GetParam()), folder(GetParam()) + "/diffusion_pytorch_model.safetensors"}) {
        SCOPED_TRACE(path);
        json inferred;
        ASSERT_TRUE(svg_wan_infer_config(diffusers_shapes(path), 12, &inferred)) << svg_last_error();
        EXPECT_EQ(inferred["rope_max_seq_len"], 1024);
        inferred["rope_max_seq_len"] = golden["rope_max_seq_len"];
        EXPECT_EQ(inferred, golden) << inferred.dump() << "\n" << golden.dump();
    }
}

// Without --config the tiny file (inner dim 24) cannot split into heads of 128.
TEST_P(ConvertWan, InferenceRefusesInnerDimNotMultipleOf128) {
    expect_error(options(original_file(GetParam()), tmp("out.gguf")),
                 {"transformer", "inner dim 24", "head size 128", "--config"});
}

// A single file at a real head size: inferred with 128-wide heads. Diffusers
// names, bf16 weights (as hub single files ship), FLF2V's position table.
class ConvertInfer : public Convert, public ::testing::WithParamInterface<bool> {};
INSTANTIATE_TEST_SUITE_P(Variants, ConvertInfer, ::testing::Values(false, true),
                         [](const auto &info) { return info.param ? "flf2v" : "t2v"; });

TEST_P(ConvertInfer, HeadSize128FromShapes) {
    json config = {{"_class_name", "WanTransformer3DModel"},
                   {"attention_head_dim", 128},
                   {"num_attention_heads", 2},
                   {"cross_attn_norm", true},
                   {"eps", 1e-6},
                   {"ffn_dim", 64},
                   {"freq_dim", 256},
                   {"in_channels", 16},
                   {"num_layers", 2},
                   {"out_channels", 16},
                   {"patch_size", {1, 2, 2}},
                   {"qk_norm", "rms_norm_across_heads"},
                   {"rope_max_seq_len", 1024},
                   {"text_dim", 32},
                   {"image_dim", nullptr},
                   {"added_kv_proj_dim", nullptr},
                   {"pos_embed_seq_len", nullptr}};
    if (GetParam()) {
        config["in_channels"] = 36;
        config["image_dim"] = 64;
        config["added_kv_proj_dim"] = 256;
        config["pos_embed_seq_len"] = 514;
    }
    std::vector<svg_convert_param> params;
    ASSERT_TRUE(svg_convert_arch_wan.parameters(config, &params)) << svg_last_error();
    std::vector<st_entry> entries;
    uint16_t k = 0;
    for (const svg_convert_param &p : params) {
        st_entry e{p.name, "BF16", p.shape, {}};
        int64_t n = 1;
        for (int64_t d : p.shape) n *= d;
        for (int64_t i = 0; i < n; i++, k++) {
            const uint16_t h = svg_fp32_to_bf16((float)(k % 61) / 61.f - 0.5f);
            e.data.push_back((uint8_t)h);
            e.data.push_back((uint8_t)(h >> 8));
        }
        entries.push_back(std::move(e));
    }
    const std::string file = tmp("model.safetensors"), out = tmp("model.gguf");
    write_safetensors(file, entries);
    ASSERT_TRUE(convert(options(file, out))) << error_;
    gguf_ptr f = open_gguf(out);
    ASSERT_TRUE(f);
    expect_metadata_is_config(f.get(), config);
    // default type: the checkpoint's bf16 for linear weights, f32 (exact) elsewhere
    for (size_t i = 0; i < params.size(); i++) {
        SCOPED_TRACE(params[i].name);
        const int64_t t = svg_gguf_find_tensor(f.get(), ("dit." + params[i].name).c_str());
        ASSERT_GE(t, 0);
        EXPECT_EQ(svg_gguf_tensor_type(f.get(), t), params[i].kind == SVG_PARAM_LINEAR ? SVG_TYPE_BF16 : SVG_TYPE_F32);
        const std::vector<float> got = tensor_f32(f.get(), t);
        const uint16_t *src = (const uint16_t *)entries[i].data.data();
        for (size_t j = 0; j < got.size(); j++) ASSERT_EQ(got[j], svg_bf16_to_fp32(src[j])) << j;
    }
}

// ---------------------------------------------------------------- types

struct type_case {
    svg_type type;
    double max_rel_l2;  // of dequantized linear weights against the f32 source
};

class ConvertType : public Convert, public ::testing::WithParamInterface<type_case> {};
INSTANTIATE_TEST_SUITE_P(Types, ConvertType,
                         ::testing::Values(type_case{SVG_TYPE_F32, 0}, type_case{SVG_TYPE_F16, 1e-3},
                                           type_case{SVG_TYPE_BF16, 1e-2}, type_case{SVG_TYPE_Q8_0, 1e-2},
                                           type_case{SVG_TYPE_Q4_0, 0.15}),
                         [](const auto &info) { return std::string(svg_type_name(info.param.type)); });

TEST_P(ConvertType, LinearWeightsTakeTheType) {
    const svg_type type = GetParam().type;
    const std::string out = tmp("out.gguf");
    ASSERT_TRUE(convert(options(folder("wan_t2v"), out, "", type))) << error_;
    gguf_ptr f = open_gguf(out);
    ASSERT_TRUE(f);
    const int64_t block = svg_type_traits_of(type)->block_size;
    int n_typed = 0;
    for (const st_entry &e : read_safetensors(folder("wan_t2v") + "/diffusion_pytorch_model.safetensors")) {
        SCOPED_TRACE(e.name);
        const int64_t i = svg_gguf_find_tensor(f.get(), ("dit." + e.name).c_str());
        ASSERT_GE(i, 0);
        // in Wan every 2-D weight is a linear layer's
        const bool linear =
            e.shape.size() == 2 && e.name.size() > 7 && e.name.compare(e.name.size() - 7, 7, ".weight") == 0;
        const svg_type want = linear && e.shape[1] % block == 0 ? type : SVG_TYPE_F32;
        EXPECT_EQ(svg_gguf_tensor_type(f.get(), i), want);
        n_typed += want == type;
        const std::vector<float> src = as_f32(e), got = tensor_f32(f.get(), i);
        ASSERT_EQ(got.size(), src.size());
        double num = 0, den = 0;
        for (size_t j = 0; j < src.size(); j++) {
            num += (got[j] - src[j]) * (got[j] - src[j]);
            den += src[j] * src[j];
        }
        EXPECT_LE(std::sqrt(num / den), want == SVG_TYPE_F32 ? 0.0 : GetParam().max_rel_l2);
        if (type == SVG_TYPE_F16 && want == type) {
            for (size_t j = 0; j < src.size(); j++) ASSERT_EQ(got[j], svg_fp16_to_fp32(svg_fp32_to_fp16(src[j])));
        }
    }
    // at least the tiny model's [*, 32] and [*, 256] weights are whole q blocks
    EXPECT_GE(n_typed, 4);
}

// 16-bit sources: the default keeps their type for linear weights (bytes
// untouched) and widens everything else; a real release mixes bf16 weights
// with f32 norms and keeps bf16.
class ConvertSource : public Convert, public ::testing::WithParamInterface<const char *> {};
INSTANTIATE_TEST_SUITE_P(Dtypes, ConvertSource, ::testing::Values("F16", "BF16", "mixed"),
                         [](const auto &info) { return std::string(info.param); });

TEST_P(ConvertSource, DefaultTypeIsTheSources) {
    const std::string dtype = GetParam();
    std::vector<st_entry> entries = read_safetensors(original_file("wan_t2v"));
    for (st_entry &e : entries)
        if (dtype != "mixed" || e.shape.size() == 2) e = to_16bit(e, dtype == "mixed" ? "BF16" : dtype);
    const std::string file = tmp("half.safetensors"), out = tmp("half.gguf");
    write_safetensors(file, entries);
    ASSERT_TRUE(convert(options(file, out, config_file("wan_t2v")))) << error_;
    gguf_ptr f = open_gguf(out);
    ASSERT_TRUE(f);
    const svg_type half = dtype == "F16" ? SVG_TYPE_F16 : SVG_TYPE_BF16;
    std::vector<std::string> names, mapped;
    for (const st_entry &e : entries) names.push_back(e.name);
    std::string scheme;
    ASSERT_TRUE(svg_convert_arch_wan.rename(names, &mapped, &scheme));
    for (size_t k = 0; k < entries.size(); k++) {
        SCOPED_TRACE(mapped[k]);
        const st_entry &e = entries[k];
        const int64_t i = svg_gguf_find_tensor(f.get(), ("dit." + mapped[k]).c_str());
        ASSERT_GE(i, 0);
        const bool linear = e.shape.size() == 2;
        EXPECT_EQ(svg_gguf_tensor_type(f.get(), i), linear ? half : SVG_TYPE_F32);
        if (linear) {
            ASSERT_EQ(svg_gguf_tensor_nbytes(f.get(), i), e.data.size());
            EXPECT_EQ(0, memcmp(svg_gguf_tensor_data(f.get(), i), e.data.data(), e.data.size()));
        } else {
            const std::vector<float> got = tensor_f32(f.get(), i);
            std::vector<float> want = as_f32(e);
            if (e.dtype != "F32") {
                const uint16_t *h = (const uint16_t *)e.data.data();
                want.resize(e.data.size() / 2);
                for (size_t j = 0; j < want.size(); j++)
                    want[j] = e.dtype == "F16" ? svg_fp16_to_fp32(h[j]) : svg_bf16_to_fp32(h[j]);
            }
            EXPECT_EQ(got, want);
        }
    }
}

// ---------------------------------------------------------------- random weights

TEST_P(ConvertWan, RandomHasTheRealNamesAndShapes) {
    const std::string real = tmp("real.gguf"), r1 = tmp("r1.gguf"), r2 = tmp("r2.gguf"), r3 = tmp("r3.gguf"),
                      rq = tmp("rq.gguf");
    ASSERT_TRUE(convert(options(folder(GetParam()), real))) << error_;
    svg_convert_options o = options("", r1, config_file(GetParam()));
    o.random = true;
    o.seed = 7;
    o.n_threads = 1;
    ASSERT_TRUE(convert(o)) << error_;
    o.output = r2;
    o.n_threads = 3;  // values do not depend on the thread count
    ASSERT_TRUE(convert(o)) << error_;
    o.output = r3;
    o.seed = 8;
    ASSERT_TRUE(convert(o)) << error_;
    o.output = rq;
    o.type = SVG_TYPE_Q4_0;
    ASSERT_TRUE(convert(o)) << error_;
    expect_same_tensors(r1, r2);

    gguf_ptr a = open_gguf(real), b = open_gguf(r1), c = open_gguf(r3), q = open_gguf(rq);
    ASSERT_TRUE(a && b && c && q);
    expect_metadata_is_config(b.get(), read_json(config_file(GetParam())));
    ASSERT_EQ(svg_gguf_n_tensors(a.get()), svg_gguf_n_tensors(b.get()));
    for (int64_t i = 0; i < svg_gguf_n_tensors(a.get()); i++) {
        const std::string name = svg_gguf_tensor_name(a.get(), i);
        SCOPED_TRACE(name);
        EXPECT_EQ(name, svg_gguf_tensor_name(b.get(), i));
        EXPECT_EQ(tensor_shape(a.get(), i), tensor_shape(b.get(), i));
        EXPECT_EQ(svg_gguf_tensor_type(b.get(), i), SVG_TYPE_F32);
        const std::vector<int64_t> shape = tensor_shape(q.get(), i);
        EXPECT_EQ(svg_gguf_tensor_type(q.get(), i),
                  shape.size() == 2 && shape[1] % 32 == 0 ? SVG_TYPE_Q4_0 : SVG_TYPE_F32);
        EXPECT_NE(0, memcmp(svg_gguf_tensor_data(b.get(), i), svg_gguf_tensor_data(c.get(), i),
                            svg_gguf_tensor_nbytes(b.get(), i)));  // another seed
        // N(0, 0.02), norm scales N(1, 0.02)
        const std::vector<float> v = tensor_f32(b.get(), i);
        double mean = 0, var = 0;
        for (float x : v) mean += x;
        mean /= (double)v.size();
        for (float x : v) var += (x - mean) * (x - mean);
        const double sd = std::sqrt(var / (double)v.size());
        const bool norm = name.find("norm") != std::string::npos && name.find(".weight") != std::string::npos;
        EXPECT_NEAR(mean, norm ? 1.0 : 0.0, 4 * 0.02 / std::sqrt((double)v.size()) + 1e-3);
        if (v.size() >= 144) {
            EXPECT_NEAR(sd, 0.02, 0.005);
        }
    }
}

TEST_F(Convert, RandomNeedsAConfig) {
    svg_convert_options o = options("", tmp("r.gguf"));
    o.random = true;
    expect_error(o, {"config"});
}

// ---------------------------------------------------------------- errors

// The original t2v file with `edit` applied.
std::string edited_copy(const std::string &path, const std::function<void(std::vector<st_entry> *)> &edit) {
    std::vector<st_entry> entries = read_safetensors(original_file("wan_t2v"));
    edit(&entries);
    write_safetensors(path, entries);
    return path;
}

TEST_F(Convert, MissingTensorIsNamed) {
    const std::string file = edited_copy(tmp("m.safetensors"), [](auto *e) {
        e->erase(std::remove_if(e->begin(), e->end(),
                                [](const st_entry &x) { return x.name == "blocks.1.self_attn.q.weight"; }),
                 e->end());
    });
    expect_error(options(file, tmp("out.gguf"), config_file("wan_t2v")),
                 {"1 tensor missing", "blocks.1.attn1.to_q.weight"});
}

TEST_F(Convert, ManyMissingTensorsAreCounted) {
    const std::string file = edited_copy(tmp("m.safetensors"), [](auto *e) {
        e->erase(
            std::remove_if(e->begin(), e->end(), [](const st_entry &x) { return x.name.rfind("blocks.1.", 0) == 0; }),
            e->end());
    });
    // a block has 27 tensors: 10 named, the rest counted
    expect_error(options(file, tmp("out.gguf"), config_file("wan_t2v")),
                 {"27 tensors missing", "blocks.1.attn1.to_q.weight", "and 17 more"});
}

TEST_F(Convert, ShapeMismatchNamesExpectedAndGot) {
    const std::string file = edited_copy(tmp("s.safetensors"), [](auto *e) {
        for (st_entry &x : *e)
            if (x.name == "blocks.0.ffn.0.weight") x.shape = {24, 32};  // same bytes, transposed shape
    });
    expect_error(options(file, tmp("out.gguf"), config_file("wan_t2v")),
                 {"shape mismatch", "blocks.0.ffn.0.weight", "blocks.0.ffn.net.0.proj.weight", "[24, 32]", "[32, 24]"});
}

TEST_F(Convert, ConfigDisagreeingWithCheckpoint) {
    json config = read_json(config_file("wan_t2v"));
    config["num_layers"] = 3;
    const std::string cfg = tmp("config.json");
    std::ofstream(cfg) << config.dump();
    // --config replaces the folder's own config.json
    expect_error(options(folder("wan_t2v"), tmp("out.gguf"), cfg), {"27 tensors missing", "blocks.2."});
    config["num_layers"] = 1;
    std::ofstream(cfg) << config.dump();
    expect_error(options(original_file("wan_t2v"), tmp("out.gguf"), cfg),
                 {"27 tensors", "not part of a WanTransformer3DModel", "blocks.1.cross_attn.k.bias", "and 17 more"});
}

TEST_F(Convert, UnknownClassInConfig) {
    fs::create_directories(tmp("model"));
    fs::copy_file(folder("wan_t2v") + "/diffusion_pytorch_model.safetensors",
                  tmp("model/diffusion_pytorch_model.safetensors"));
    json config = read_json(config_file("wan_t2v"));
    config["_class_name"] = "MochiTransformer3DModel";
    std::ofstream(tmp("model/config.json")) << config.dump();
    expect_error(options(tmp("model"), tmp("out.gguf")),
                 {"unknown architecture", "MochiTransformer3DModel", "WanTransformer3DModel"});
}

TEST_F(Convert, UnknownTensorNames) {
    const std::string file = tmp("other.safetensors");
    write_safetensors(file, {{"encoder.layers.0.weight", "F32", {2}, std::vector<uint8_t>(8)}});
    expect_error(options(file, tmp("out.gguf")), {"unknown architecture", "encoder.layers.0.weight"});
}

TEST_F(Convert, UnsupportedDtype) {
    const std::string file = edited_copy(tmp("d.safetensors"), [](auto *e) {
        for (st_entry &x : *e)
            if (x.name == "head.modulation") {
                x.dtype = "F8_E4M3";
                x.data.resize(x.data.size() / 4);
            }
    });
    expect_error(options(file, tmp("out.gguf"), config_file("wan_t2v")), {"head.modulation", "F8_E4M3"});
}

TEST_F(Convert, MissingAndUnreadableInput) {
    expect_error(options(tmp("nowhere"), tmp("out.gguf")), {"nowhere", "does not exist"});
    std::ofstream(tmp("garbage.safetensors")) << "not a checkpoint";
    expect_error(options(tmp("garbage.safetensors"), tmp("out.gguf")), {"cannot read", "garbage.safetensors"});
}

// What is not a model is named as what it is, with what was expected; no
// output (and no temporary) file is left.
TEST_F(Convert, NotAModelIsNamed) {
    auto leaves_nothing = [&] {
        for (const fs::directory_entry &e : fs::directory_iterator(dir_))
            EXPECT_EQ(e.path().filename().string().find("out.gguf"), std::string::npos) << e.path();
    };
    // random bytes
    std::string bytes(4096, '\0');
    uint64_t x = 12345;
    for (char &c : bytes) c = (char)((x = x * 6364136223846793005ull + 1442695040888963407ull) >> 56);
    std::ofstream(tmp("random.safetensors"), std::ios::binary) << bytes;
    expect_error(options(tmp("random.safetensors"), tmp("out.gguf")), {"random.safetensors", "not a safetensors file"});
    // an svg.cpp model file given to convert again
    ASSERT_TRUE(convert(options(folder("wan_t2v"), tmp("model.gguf")))) << error_;
    expect_error(options(tmp("model.gguf"), tmp("out.gguf")), {"model.gguf", "already an svg.cpp model file"});
    // a Git LFS pointer (a clone without git lfs) and a PyTorch zip checkpoint
    std::ofstream(tmp("lfs.safetensors")) << "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n";
    expect_error(options(tmp("lfs.safetensors"), tmp("out.gguf")), {"lfs.safetensors", "Git LFS pointer"});
    std::ofstream(tmp("model.pt"), std::ios::binary) << std::string("PK\x03\x04", 4) << std::string(100, 'x');
    expect_error(options(tmp("model.pt"), tmp("out.gguf")), {"model.pt", "zip archive", "PyTorch"});
    // truncated: in the tensor data, in the header
    const std::string whole = slurp(original_file("wan_t2v"));
    std::ofstream(tmp("cut.safetensors"), std::ios::binary) << whole.substr(0, whole.size() / 2);
    expect_error(options(tmp("cut.safetensors"), tmp("out.gguf")), {"cut.safetensors", "truncated"});
    std::ofstream(tmp("cut2.safetensors"), std::ios::binary) << whole.substr(0, 100);
    expect_error(options(tmp("cut2.safetensors"), tmp("out.gguf")), {"cut2.safetensors", "truncated"});
    leaves_nothing();
}

// A conversion whose input fails half way through the tensors (a read
// error while streaming) leaves no file behind either.
TEST_F(Convert, FailureWhileStreamingLeavesNoFile) {
    svg_convert_options o = options(folder("wan_t2v"), tmp("out.gguf"));
    int calls = 0;
    o.log = [&](const std::string &line) {
        if (line.rfind("[", 0) == 0 && ++calls == 5) fs::remove(tmp("out.gguf.tmp." + std::to_string(getpid())));
    };
    ASSERT_FALSE(convert(o));  // the writer's file vanished under it: the final rename fails
    EXPECT_FALSE(fs::exists(tmp("out.gguf")));
    EXPECT_GE(calls, 5) << "tensors are produced while the file is written";
}

TEST_F(Convert, OutputNotWritable) {
    expect_error(options(folder("wan_t2v"), tmp("no/such/dir/out.gguf")), {"not writable", "out.gguf"});
    expect_error(options(folder("wan_t2v"), tmp("")), {"is a directory"});
}

// ---------------------------------------------------------------- components

bool parse(std::vector<const char *> args, svg_convert_options *o, bool *help) {
    args.insert(args.begin(), "svg-convert");
    return svg_convert_parse_args((int)args.size(), args.data(), o, help);
}

// A component folder or file converts into the slot of its class, whatever
// the input was called: the text encoder's folder gives a file with a text
// encoder, not a "transformer" holding umT5 tensors.
TEST_F(Convert, ComponentFollowsTheClass) {
    struct Case {
        std::string input, cls, component, prefix;
    };
    const std::vector<Case> cases = {
        {k_goldens + "umt5_encoder/text_encoder", "UMT5EncoderModel", "text_encoder", "te."},
        {k_goldens + "t5_encoder/text_encoder", "T5EncoderModel", "text_encoder", "te."},
        {k_goldens + "wan_vae/vae", "AutoencoderKLWan", "vae", "vae."},
        {k_goldens + "wan_vae_original/wan_vae_original_naming.safetensors", "AutoencoderKLWan", "vae", "vae."},
        {k_goldens + "clip_vision/image_encoder", "CLIPVisionModel", "image_encoder", "clip."},
        {folder("wan_i2v"), "WanTransformer3DModel", "transformer", "dit."},
        {k_goldens + "cogvideox15_i2v/transformer", "CogVideoXTransformer3DModel", "transformer", "dit."},
        {k_goldens + "cogvideox_vae/vae", "AutoencoderKLCogVideoX", "vae", "vae."},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.input);
        svg_convert_options o;
        o.sources.push_back({"", c.input, ""});
        o.output = tmp("c.gguf");
        ASSERT_TRUE(convert(o)) << error_;
        gguf_ptr f = open_gguf(o.output);
        ASSERT_TRUE(f);
        const int64_t comps = svg_gguf_find_key(f.get(), "svg.components");
        ASSERT_EQ(svg_gguf_arr_n(f.get(), comps), 1);
        EXPECT_EQ(svg_gguf_arr_str(f.get(), comps, 0), c.component);
        EXPECT_EQ(svg_gguf_get_string(f.get(), ("svg." + c.component + ".class").c_str()), c.cls);
        for (int64_t i = 0; i < svg_gguf_n_tensors(f.get()); i++)
            ASSERT_EQ(std::string(svg_gguf_tensor_name(f.get(), i)).rfind(c.prefix, 0), 0u) << svg_gguf_tensor_name(f.get(), i);
        svg_component_config cc;
        EXPECT_TRUE(svg_component_config_open(f.get(), c.component.c_str(), &cc)) << svg_last_error();
        // --component naming the same slot is accepted; another one is an error naming both
        o.sources[0].component = c.component;
        EXPECT_TRUE(convert(o)) << error_;
        o.sources[0].component = c.component == "vae" ? "text_encoder" : "vae";
        o.output = tmp("wrong.gguf");
        expect_error(o, {c.cls, "a " + c.component, "not a " + o.sources[0].component});
    }
}

// A folder without model_index.json but with component sub-folders is a
// pipeline folder: every component is taken, what is not is named.
TEST_F(Convert, PipelineFolderWithoutModelIndex) {
    const fs::path p = tmp("pipe");
    fs::create_directories(p / "safety_checker");
    fs::create_directory_symlink(folder("wan_t2v"), p / "transformer");
    fs::create_directory_symlink(k_goldens + "umt5_encoder/text_encoder", p / "text_encoder");
    fs::create_directory_symlink(k_goldens + "wan_vae/vae", p / "vae");
    fs::create_directory_symlink(k_goldens + "wan_t2v/scheduler", p / "scheduler");
    std::ofstream(p / "safety_checker/model.safetensors") << "x";
    const std::string ps = p.string(), out = tmp("p.gguf");
    svg_convert_options o;
    bool help;
    ASSERT_TRUE(parse({ps.c_str(), "-o", out.c_str(), "-q"}, &o, &help)) << svg_last_error();
    ASSERT_EQ(o.sources.size(), 3u);
    EXPECT_EQ(o.scheduler_config_path, ps + "/scheduler/scheduler_config.json");
    ASSERT_EQ(o.notes.size(), 1u);
    EXPECT_NE(o.notes[0].find("safety_checker/ is left out"), std::string::npos) << o.notes[0];
    std::vector<std::string> logged;
    o.log = [&](const std::string &s) { logged.push_back(s); };
    ASSERT_TRUE(convert(o)) << error_;
    ASSERT_FALSE(logged.empty());
    EXPECT_EQ(logged[0], o.notes[0]);
    gguf_ptr f = open_gguf(out);
    ASSERT_TRUE(f);
    const int64_t comps = svg_gguf_find_key(f.get(), "svg.components");
    ASSERT_EQ(svg_gguf_arr_n(f.get(), comps), 3);
    EXPECT_STREQ(svg_gguf_arr_str(f.get(), comps, 0), "transformer");
    EXPECT_STREQ(svg_gguf_arr_str(f.get(), comps, 1), "text_encoder");
    EXPECT_STREQ(svg_gguf_arr_str(f.get(), comps, 2), "vae");
    double shift = 0;
    EXPECT_TRUE(svg_gguf_get_float(f.get(), "svg.scheduler.flow_shift", &shift));
    // --component picks one sub-folder; a missing one is named
    ASSERT_TRUE(parse({ps.c_str(), "--component", "vae", "-o", out.c_str()}, &o, &help)) << svg_last_error();
    ASSERT_EQ(o.sources.size(), 1u);
    EXPECT_EQ(o.sources[0].component, "vae");
    EXPECT_FALSE(parse({ps.c_str(), "--component", "image_encoder", "-o", out.c_str()}, &o, &help));
    EXPECT_NE(std::string(svg_last_error()).find("no image_encoder/"), std::string::npos) << svg_last_error();
}

// A CogVideoX 1.5 I2V pipeline folder (model_index.json of
// CogVideoXImageToVideoPipeline): every component, the tokenizer, the DDIM
// scheduler, and the family's generation and Sparse VideoGen defaults.
// CogVideoX 1.0 (no patch_size_t) is refused by name.
TEST_F(Convert, CogVideoXPipelineFolder) {
    const std::string dir = std::string(SVG_TEST_DATA) + "/cogvideox_pipeline/i2v", out = tmp("cog.gguf");
    svg_convert_options o;
    bool help;
    ASSERT_TRUE(parse({dir.c_str(), "-o", out.c_str(), "-q"}, &o, &help)) << svg_last_error();
    ASSERT_TRUE(convert(o)) << error_;
    gguf_ptr f = open_gguf(out);
    ASSERT_TRUE(f);
    EXPECT_STREQ(svg_gguf_get_string(f.get(), "general.architecture"), "cogvideox");
    const int64_t comps = svg_gguf_find_key(f.get(), "svg.components");
    ASSERT_EQ(svg_gguf_arr_n(f.get(), comps), 3);
    EXPECT_STREQ(svg_gguf_get_string(f.get(), "svg.transformer.class"), "CogVideoXTransformer3DModel");
    EXPECT_STREQ(svg_gguf_get_string(f.get(), "svg.text_encoder.class"), "T5EncoderModel");
    EXPECT_STREQ(svg_gguf_get_string(f.get(), "svg.vae.class"), "AutoencoderKLCogVideoX");
    EXPECT_STREQ(svg_gguf_get_string(f.get(), "svg.scheduler._class_name"), "CogVideoXDDIMScheduler");
    EXPECT_GE(svg_gguf_find_key(f.get(), "svg.tokenizer.model"), 0);
    auto i = [&](const char *k) {
        int64_t v = -1;
        EXPECT_TRUE(svg_gguf_get_int(f.get(), k, &v)) << k;
        return v;
    };
    auto d = [&](const char *k) {
        double v = -1;
        EXPECT_TRUE(svg_gguf_get_float(f.get(), k, &v)) << k;
        return v;
    };
    EXPECT_EQ(i("svg.gen.width"), 1360);
    EXPECT_EQ(i("svg.gen.height"), 768);
    EXPECT_EQ(i("svg.gen.frames"), 81);
    EXPECT_EQ(i("svg.gen.steps"), 50);
    EXPECT_EQ(i("svg.gen.fps"), 16);
    EXPECT_DOUBLE_EQ(d("svg.gen.cfg"), 6.0);
    EXPECT_NEAR(d("svg.sparse.density"), 0.3, 1e-6);
    EXPECT_DOUBLE_EQ(d("svg.sparse.dense_steps"), 0.25);
    EXPECT_DOUBLE_EQ(d("svg.sparse.dense_layers"), 0.0);

    // CogVideoX 1.0: patch_size_t null
    const fs::path v1 = tmp("cogvideox-1.0");
    fs::create_directories(v1);
    std::ifstream in(std::string(SVG_TEST_DATA) + "/goldens/cogvideox15_t2v/transformer/config.json");
    nlohmann::json cfg = nlohmann::json::parse(in);
    cfg["patch_size_t"] = nullptr;
    std::ofstream(v1 / "config.json") << cfg.dump();
    fs::create_symlink(std::string(SVG_TEST_DATA) + "/goldens/cogvideox15_t2v/transformer/diffusion_pytorch_model.safetensors",
                       v1 / "diffusion_pytorch_model.safetensors");
    svg_convert_options o1;
    o1.sources.push_back({"", v1.string(), ""});
    o1.output = tmp("v1.gguf");
    EXPECT_FALSE(convert(o1));
    EXPECT_NE(error_.find("CogVideoX 1.0 is not supported"), std::string::npos) << error_;
    EXPECT_FALSE(fs::exists(o1.output));
}

// ---------------------------------------------------------------- command line


TEST(ConvertArgs, Parses) {
    svg_convert_options o;
    bool help = true;
    ASSERT_TRUE(
        parse({"in.safetensors", "-o", "out.gguf", "--type=q8_0", "--config", "c.json", "-q", "-j", "3"}, &o, &help))
        << svg_last_error();
    EXPECT_FALSE(help);
    ASSERT_EQ(o.sources.size(), 1u);
    EXPECT_EQ(o.sources[0].component, "");  // what the input is: read from its class when converting
    EXPECT_EQ(o.sources[0].path, "in.safetensors");
    EXPECT_EQ(o.sources[0].config_path, "c.json");
    EXPECT_EQ(o.output, "out.gguf");
    EXPECT_EQ(o.type, SVG_TYPE_Q8_0);
    EXPECT_EQ(o.n_threads, 3);
    EXPECT_FALSE(o.log);  // --quiet
    EXPECT_FALSE(o.random);

    ASSERT_TRUE(parse({"--random", "--config", "c.json", "--seed", "42", "--output=r.gguf"}, &o, &help));
    EXPECT_TRUE(o.random);
    EXPECT_EQ(o.seed, 42u);
    EXPECT_EQ(o.type, SVG_TYPE_COUNT);
    EXPECT_TRUE(o.sources[0].path.empty());
    EXPECT_TRUE(o.log);

    ASSERT_TRUE(parse({"--help"}, &o, &help));
    EXPECT_TRUE(help);
}

// --random on a pipeline folder of configs (examples/demo, what `make demo`
// converts): every component's config.json, the scheduler config; the
// tokenizer as given. Other components' configs by --vae etc.
TEST(ConvertArgs, RandomPipelineFolder) {
    const std::string demo = std::string(SVG_TEST_DATA) + "/../../examples/demo";
    svg_convert_options o;
    bool help;
    ASSERT_TRUE(parse({"--random", demo.c_str(), "--tokenizer", "spiece.model", "-o", "d.gguf"}, &o, &help)) << svg_last_error();
    ASSERT_EQ(o.sources.size(), 3u);
    const char *comps[3] = {"transformer", "text_encoder", "vae"};
    for (size_t i = 0; i < 3; i++) {
        EXPECT_EQ(o.sources[i].component, comps[i]);
        EXPECT_TRUE(o.sources[i].path.empty());
        EXPECT_EQ(o.sources[i].config_path, demo + "/" + comps[i] + "/config.json");
    }
    EXPECT_EQ(o.scheduler_config_path, demo + "/scheduler/scheduler_config.json");
    EXPECT_EQ(o.tokenizer_path, "spiece.model");
    // a config file as INPUT, a folder holding config.json as --vae
    ASSERT_TRUE(parse({"--random", (demo + "/transformer/config.json").c_str(), "--vae", (demo + "/vae").c_str(), "-o", "d.gguf"}, &o, &help));
    ASSERT_EQ(o.sources.size(), 2u);
    EXPECT_EQ(o.sources[0].config_path, demo + "/transformer/config.json");
    EXPECT_EQ(o.sources[1].component, "vae");
    EXPECT_EQ(o.sources[1].config_path, demo + "/vae/config.json");
    EXPECT_TRUE(o.sources[1].path.empty());
    EXPECT_TRUE(o.scheduler_config_path.empty());
    EXPECT_FALSE(parse({"--random", demo.c_str(), "--config", "c.json", "-o", "d.gguf"}, &o, &help));
    EXPECT_NE(std::string(svg_last_error()).find("not both"), std::string::npos) << svg_last_error();
}

TEST(ConvertArgs, Refuses) {
    svg_convert_options o;
    bool help;
    const std::vector<std::pair<std::vector<const char *>, const char *>> cases = {
        {{"in", "-o", "o", "--type", "q5_1"}, "unknown type"},
        {{"in", "-o", "o", "--type", "i32"}, "unknown type"},
        {{"in"}, "no output"},
        {{"-o", "o"}, "no input"},
        {{"a", "b", "-o", "o"}, "one input"},
        {{"in", "-o", "o", "--frobnicate"}, "unknown option"},
        {{"in", "-o"}, "needs a value"},
        {{"in", "-o", "o", "--random=1"}, "takes no value"},
        {{"in", "-o", "o", "--seed", "x"}, "bad --seed"},
    };
    for (const auto &c : cases) {
        EXPECT_FALSE(parse(c.first, &o, &help)) << c.second;
        EXPECT_NE(std::string(svg_last_error()).find(c.second), std::string::npos) << svg_last_error();
    }
}

// ---------------------------------------------------------------- readers

// The model loaders' side of the contract reads what the converter wrote.
TEST_P(ConvertWan, ModelFileApiReadsIt) {
    const std::string out = tmp("m.gguf");
    ASSERT_TRUE(convert(options(folder(GetParam()), out, "", SVG_TYPE_Q8_0))) << error_;
    gguf_ptr f = open_gguf(out);
    ASSERT_TRUE(f);
    svg_component_config cfg;
    ASSERT_TRUE(svg_component_config_open(f.get(), "transformer", &cfg)) << svg_last_error();
    EXPECT_EQ(cfg.cls, "WanTransformer3DModel");
    int64_t layers = 0;
    std::vector<int64_t> patch;
    double eps = 0;
    EXPECT_TRUE(cfg.get_int("num_layers", &layers));
    EXPECT_EQ(layers, 2);
    EXPECT_TRUE(cfg.get_ints("patch_size", &patch));
    EXPECT_EQ(patch, (std::vector<int64_t>{1, 2, 2}));
    EXPECT_TRUE(cfg.get_float("eps", &eps));
    EXPECT_FLOAT_EQ((float)eps, 1e-6f);
    svg_backend *cpu = svg_backend_cpu_new(1);
    {
        svg_component_weights w;
        ASSERT_TRUE(svg_component_weights_load(f.get(), "transformer", cpu, &w)) << svg_last_error();
        EXPECT_EQ((int64_t)w.tensors.size(), svg_gguf_n_tensors(f.get()));
        svg_tensor *t = w.get("condition_embedder.time_embedder.linear_1.weight");
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->type, SVG_TYPE_Q8_0);
    }
    svg_backend_free(cpu);
}

// The reference GGUF reader (gguf-py) opens a converted file, when installed.
TEST_P(ConvertWan, PythonGgufReadsIt) {
    if (system("python3 -c 'import gguf' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 gguf not installed";
    const std::string out = tmp("py.gguf");
    ASSERT_TRUE(convert(options(folder(GetParam()), out, "", SVG_TYPE_Q8_0))) << error_;
    const std::string script = tmp("read.py");
    std::ofstream(script)
        << "import json, sys\n"
           "from gguf import GGUFReader\n"
           "r = GGUFReader(sys.argv[1])\n"
           "f = r.fields\n"
           "print(json.dumps({\n"
           "  'arch': f['general.architecture'].contents(),\n"
           "  'layers': int(f['svg.transformer.num_layers'].contents()),\n"
           "  'tensors': [[t.name, int(t.tensor_type), [int(d) for d in reversed(t.shape)]] for t in r.tensors]}))\n";
    FILE *p = popen(("python3 '" + script + "' '" + out + "'").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string text;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
    ASSERT_EQ(pclose(p), 0) << text;
    const json got = json::parse(text);
    EXPECT_EQ(got["arch"], "wan");
    EXPECT_EQ(got["layers"], 2);
    gguf_ptr f = open_gguf(out);
    ASSERT_TRUE(f);
    ASSERT_EQ(got["tensors"].size(), (size_t)svg_gguf_n_tensors(f.get()));
    for (int64_t i = 0; i < svg_gguf_n_tensors(f.get()); i++) {
        const json &t = got["tensors"][(size_t)i];
        EXPECT_EQ(t[0], svg_gguf_tensor_name(f.get(), i));
        EXPECT_EQ(t[1], (int)svg_gguf_tensor_type(f.get(), i));
        EXPECT_EQ(t[2].get<std::vector<int64_t>>(), tensor_shape(f.get(), i));
    }
}

}  // namespace

// Renamed names of a tensor that stacks parameters (fused q/k/v): '|' joins
// them, name#i/n is a row block of one.
TEST(ConvertNames, StackedTargetsParse) {
    std::vector<svg_convert_target> t;
    ASSERT_TRUE(svg_convert_targets("a.to_q.weight|a.to_k.weight", &t)) << svg_last_error();
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[1].name, "a.to_k.weight");
    EXPECT_EQ(t[1].parts, 1);
    ASSERT_TRUE(svg_convert_targets("n.weight#1/2|n.weight#0/2", &t)) << svg_last_error();
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0].name, "n.weight");
    EXPECT_EQ(t[0].part, 1);
    EXPECT_EQ(t[0].parts, 2);
    for (const char *bad : {"n.weight#2/2", "n.weight#0/0", "n.weight#x", "a||b", "#0/2"}) {
        EXPECT_FALSE(svg_convert_targets(bad, &t)) << bad;
        EXPECT_NE(std::string(svg_last_error()), "") << bad;
    }
}

// The k-quant mixes follow their documented rules (convert.h): q6_K outside
// the blocks, in the first and last block, for value / FFN-down projections
// in the "more bits" blocks; the base type elsewhere; q8_0 for rows that are
// not whole 256-value blocks.
TEST(ConvertNames, KQuantMixFollowsItsRules) {
    const std::string cfg = "/tmp/svg-test-mix-" + std::to_string(getpid()) + ".json", out = cfg + ".gguf";
    std::ofstream(cfg) << R"({"_class_name": "WanTransformer3DModel", "attention_head_dim": 64, "cross_attn_norm": true, "eps": 1e-06,
        "ffn_dim": 512, "freq_dim": 256, "in_channels": 16, "num_attention_heads": 4, "num_layers": 8, "out_channels": 16,
        "patch_size": [1, 2, 2], "qk_norm": "rms_norm_across_heads", "rope_max_seq_len": 1024, "text_dim": 96})";
    const char *argv[] = {"svg-convert", "--random", cfg.c_str(), "--type", "q4_K_m", "-o", out.c_str(), "-q"};
    svg_convert_options opt;
    bool help = false;
    ASSERT_TRUE(svg_convert_parse_args(8, argv, &opt, &help)) << svg_last_error();
    EXPECT_EQ(opt.mix, "q4_K_m");
    EXPECT_EQ(opt.type, SVG_TYPE_Q4_K);
    ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    svg_gguf *f = svg_gguf_open(out.c_str());
    ASSERT_NE(f, nullptr) << svg_last_error();
    auto type_of = [&](const std::string &name) {
        const int64_t i = svg_gguf_find_tensor(f, ("dit." + name).c_str());
        EXPECT_GE(i, 0) << name;
        return i >= 0 ? std::string(svg_type_name(svg_gguf_tensor_type(f, i))) : std::string("missing");
    };
    EXPECT_EQ(type_of("condition_embedder.time_embedder.linear_2.weight"), "q6_K");  // outside the blocks
    EXPECT_EQ(type_of("proj_out.weight"), "q6_K");                                   // the output head
    EXPECT_EQ(type_of("condition_embedder.text_embedder.linear_1.weight"), "q8_0");  // rows of 96
    EXPECT_EQ(type_of("blocks.0.attn1.to_q.weight"), "q6_K");                        // first block
    EXPECT_EQ(type_of("blocks.7.ffn.net.0.proj.weight"), "q6_K");                    // last block
    EXPECT_EQ(type_of("blocks.1.attn1.to_q.weight"), "q4_K");
    EXPECT_EQ(type_of("blocks.3.attn1.to_v.weight"), "q6_K");  // (3 − 1) % 3 == 2
    EXPECT_EQ(type_of("blocks.4.attn1.to_v.weight"), "q4_K");
    EXPECT_EQ(type_of("blocks.3.ffn.net.2.weight"), "q6_K");
    EXPECT_EQ(type_of("blocks.2.ffn.net.2.weight"), "q4_K");
    EXPECT_EQ(type_of("blocks.2.norm2.weight"), "f32");
    svg_gguf_free(f);
    unlink(out.c_str());
    const char *bad[] = {"svg-convert", "--random", cfg.c_str(), "--type", "q3_K_m", "-o", out.c_str()};
    EXPECT_FALSE(svg_convert_parse_args(7, bad, &opt, &help));
    unlink(cfg.c_str());
}

// A community GGUF file as ComfyUI-GGUF writes them (tests/data/comfy_gguf/
// make_comfy_gguf.py, with gguf-py): original naming, Q8_0 and Q4_0 blocks,
// the 5-D patch embedding stored 2-D with its comfy.gguf.orig_shape. It
// converts with its blocks copied as they are, and the forward matches
// diffusers on the weights as gguf-py dequantizes them.
TEST(ConvertNames, ComfyUiGgufFileAsItIs) {
    const std::string dir = std::string(SVG_TEST_DATA) + "/comfy_gguf/";
    svg_convert_source src;
    src.path = dir + "wan-tiny-comfy.gguf";
    src.config_path = dir + "config.json";
    svgtest::converted conv({src}, false, "comfy");
    ASSERT_TRUE(conv.ok());
    svg_gguf *in = svg_gguf_open(src.path.c_str()), *f = conv.f.get();
    ASSERT_NE(in, nullptr) << svg_last_error();
    for (const char *name : {"blocks.1.self_attn.q.weight", "blocks.0.ffn.0.weight"}) {
        const int64_t i = svg_gguf_find_tensor(in, name);
        const std::string diffusers = std::string("dit.") + (strstr(name, "ffn") ? "blocks.0.ffn.net.0.proj.weight" : "blocks.1.attn1.to_q.weight");
        const int64_t o = svg_gguf_find_tensor(f, diffusers.c_str());
        ASSERT_TRUE(i >= 0 && o >= 0) << name;
        EXPECT_EQ(svg_gguf_tensor_type(f, o), svg_gguf_tensor_type(in, i)) << name;
        ASSERT_EQ(svg_gguf_tensor_nbytes(f, o), svg_gguf_tensor_nbytes(in, i)) << name;
        EXPECT_EQ(memcmp(svg_gguf_tensor_data(f, o), svg_gguf_tensor_data(in, i), svg_gguf_tensor_nbytes(in, i)), 0) << name << ": blocks re-quantized";
    }
    svg_gguf_free(in);
    const int64_t pe = svg_gguf_find_tensor(f, "dit.patch_embedding.weight");
    ASSERT_GE(pe, 0);
    EXPECT_EQ(svg_gguf_tensor_n_dims(f, pe), 5) << "orig_shape applied";
    EXPECT_LE(svgtest::forward_max_error(conv, "transformer", dir + "forward.safetensors", svg_forward_options{}, {"out"},
                                         "ComfyUI-GGUF Wan file vs diffusers on gguf-py's dequantized weights"),
              1e-4);
}

// The community's umT5 GGUF files name the encoder as llama.cpp does
// (token_embd, enc.blk.N.attn_q / attn_rel_b / ffn_gate ..., enc.output_norm):
// the golden umT5 written that way (make_comfy_gguf.py) gives the golden output.
TEST(ConvertNames, LlamaCppNamedUmt5Gguf) {
    const std::string data = SVG_TEST_DATA;
    svgtest::converted conv({svgtest::source(data + "/comfy_gguf/umt5-tiny-llamacpp.gguf")}, false, "umt5-gguf");
    ASSERT_TRUE(conv.ok());
    EXPECT_STREQ(svg_gguf_get_string(conv.f.get(), "svg.text_encoder.class"), "UMT5EncoderModel");
    EXPECT_LE(svgtest::forward_max_error(conv, "text_encoder", data + "/goldens/umt5_encoder/forward.safetensors", svg_forward_options{},
                                         {"last_hidden_state"}, "llama.cpp-named umT5 GGUF"),
              1e-4);
}

// A GGUF checkpoint whose comfy.gguf.orig_shape does not hold the tensor's
// values, or is not a list of sizes, is refused naming the tensor.
TEST(ConvertNames, BadOrigShapeIsNamed) {
    const std::string in = "/tmp/svg-test-origshape-" + std::to_string(getpid()) + ".gguf", out = in + ".out.gguf";
    for (const std::vector<int32_t> &orig : {std::vector<int32_t>{24, 16, 1, 2, 3}, std::vector<int32_t>{0, 4}}) {
        svg_gguf_writer *w = svg_gguf_writer_new();
        const int64_t shape[2] = {24, 64};
        std::vector<float> v(24 * 64, 0.25f);
        ASSERT_TRUE(svg_gguf_writer_add_tensor_data(w, "patch_embedding.weight", SVG_TYPE_F32, 2, shape, v.data(), v.size() * 4));
        ASSERT_TRUE(svg_gguf_writer_set_arr(w, "comfy.gguf.orig_shape.patch_embedding.weight", SVG_GGUF_INT32, orig.data(), (int64_t)orig.size()));
        ASSERT_TRUE(svg_gguf_writer_write(w, in.c_str())) << svg_last_error();
        svg_gguf_writer_free(w);
        svg_convert_options opt;
        svg_convert_source src;
        src.path = in;
        opt.sources = {src};
        opt.output = out;
        EXPECT_FALSE(svg_convert(opt));
        const std::string e = svg_last_error();
        EXPECT_NE(e.find("patch_embedding.weight"), std::string::npos) << e;
        EXPECT_NE(e.find(orig[0] == 0 ? "size below 1" : "orig_shape has 2304 values"), std::string::npos) << e;
        EXPECT_FALSE(std::filesystem::exists(out));
    }
    unlink(in.c_str());
}
