// The svg-forward command on every component, run as users run it: the
// built binary on converted tiny goldens, its OUT.safetensors compared with
// the recorded outputs (fp32 CPU: 1e-4 rel L2 on single forwards, 1e-3 on
// whole pipelines), the tokenizer's JSON ids, and the errors of bad requests.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "test-common.h"

namespace {

const std::string kData = SVG_TEST_DATA;
const std::string kGoldens = kData + "/goldens/";
const std::string kBin = SVG_BIN_DIR;

std::string tmp(const std::string &n) { return "/tmp/svg-test-forward-" + std::to_string(getpid()) + "-" + n; }

std::string slurp(const std::string &p) {
    std::ifstream f(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A tensor of a safetensors file as f32 (empty, with a failure, when absent).
std::vector<float> read(const std::string &path, const char *name, std::vector<int64_t> *shape = nullptr) {
    svg_safetensors *st = svg_safetensors_open(path.c_str());
    EXPECT_NE(st, nullptr) << path << ": " << svg_last_error();
    if (!st) return {};
    std::vector<float> v;
    const int64_t i = svg_safetensors_find(st, name);
    EXPECT_GE(i, 0) << name << " not in " << path;
    if (i >= 0) {
        v.resize((size_t)svg_safetensors_nelements(st, i));
        EXPECT_TRUE(svg_safetensors_read_f32(st, i, v.data(), (int64_t)v.size())) << svg_last_error();
        int64_t ne[SVG_MAX_DIMS];
        svg_safetensors_shape(st, i, ne);
        if (shape) shape->assign(ne, ne + svg_safetensors_n_dims(st, i));
    }
    svg_safetensors_free(st);
    return v;
}

// Two tiny model files from the goldens: every component with the T2V
// transformer and the tokenizer, and the I2V transformer with the VAE.
class SvgForward : public ::testing::Test {
   protected:
    static std::string t2v, i2v;
    static void SetUpTestSuite() {
        t2v = tmp("t2v.gguf");
        i2v = tmp("i2v.gguf");
        auto src = [](const std::string &component, const std::string &path) {
            svg_convert_source s;
            s.component = component;
            s.path = kGoldens + path;
            return s;
        };
        svg_convert_options opt;
        opt.sources = {src("transformer", "wan_t2v/transformer"), src("text_encoder", "umt5_encoder/text_encoder"),
                       src("vae", "wan_vae/vae"), src("image_encoder", "clip_vision/image_encoder")};
        opt.tokenizer_path = kData + "/tokenizer_spm/spm_unigram.model";
        opt.output = t2v;
        ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
        opt.sources = {src("transformer", "wan_i2v/transformer"), src("vae", "wan_vae/vae")};
        opt.tokenizer_path.clear();
        opt.output = i2v;
        ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    }
    static void TearDownTestSuite() {
        unlink(t2v.c_str());
        unlink(i2v.c_str());
    }
    void TearDown() override { unlink(out.c_str()); }
    const std::string out = tmp("out.safetensors");

    // svg-forward with args; the exit status, stdout and stderr
    int run(const std::string &args, std::string *err = nullptr, std::string *sout = nullptr) {
        const std::string elog = tmp("err"), olog = tmp("stdout");
        const int rc = std::system((kBin + "/svg-forward " + args + " >" + olog + " 2>" + elog).c_str());
        if (err) *err = slurp(elog);
        if (sout) *sout = slurp(olog);
        unlink(elog.c_str());
        unlink(olog.c_str());
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    }
    // run a component on a golden file; each (output, reference) pair within tol
    void check(const std::string &model, const std::string &component, const std::string &golden,
               const std::vector<std::pair<const char *, const char *>> &pairs, double tol, const std::string &extra = "") {
        std::string err;
        ASSERT_EQ(run(model + " --component " + component + " --inputs " + kGoldens + golden + " --out " + out + " --threads 2" + extra, &err), 0)
            << err;
        for (const auto &p : pairs) {
            std::vector<int64_t> gs, rs;
            const std::vector<float> got = read(out, p.first, &gs), ref = read(kGoldens + golden, p.second, &rs);
            EXPECT_EQ(gs, rs) << p.first;
            const double e = svgtest::rel_l2(got, ref);
            printf("%s %s: rel L2 %.2e\n", component.c_str(), p.first, e);
            EXPECT_LE(e, tol) << component << " " << p.first;
        }
    }
};
std::string SvgForward::t2v, SvgForward::i2v;

TEST_F(SvgForward, TransformerMatchesGolden) {
    check(t2v, "transformer", "wan_t2v/transformer_forward.safetensors", {{"out", "out"}}, 1e-4);
}

TEST_F(SvgForward, TextEncoderMatchesGolden) {
    check(t2v, "text_encoder", "umt5_encoder/forward.safetensors", {{"last_hidden_state", "last_hidden_state"}}, 1e-4);
}

TEST_F(SvgForward, ImageEncoderMatchesGolden) {
    check(t2v, "image_encoder", "clip_vision/forward.safetensors", {{"penultimate_hidden_states", "penultimate_hidden_states"}}, 1e-4);
}

TEST_F(SvgForward, VaeDecodeMatchesGolden) {
    check(t2v, "vae_decode", "wan_vae/decode.safetensors", {{"video", "video"}}, 1e-4);
    // `vae` picks decode from the input z
    check(t2v, "vae", "wan_vae/decode.safetensors", {{"video", "video"}}, 1e-4);
}

TEST_F(SvgForward, VaeEncodeMatchesGolden) {
    check(t2v, "vae_encode", "wan_vae/encode.safetensors", {{"mean", "mean"}, {"logvar", "logvar"}}, 1e-4);
}

// The goldens' pipeline.safetensors as inputs: 4 UniPC steps, guidance 5,
// shift 3; every step's latents and the final video.
const std::vector<std::pair<const char *, const char *>> kPipelineOutputs = {
    {"latents_step0", "latents_step0"}, {"latents_step1", "latents_step1"}, {"latents_step2", "latents_step2"},
    {"latents_step3", "latents_step3"}, {"video", "video"}};

TEST_F(SvgForward, T2VPipelineMatchesGolden) {
    check(t2v, "pipeline", "wan_t2v/pipeline.safetensors", kPipelineOutputs, 1e-3,
          " --steps 4 --cfg 5 --shift 3 --width 32 --height 32 --frames 9");
    EXPECT_EQ(read(out, "timesteps"), read(kGoldens + "wan_t2v/pipeline.safetensors", "timesteps"));
}

TEST_F(SvgForward, I2VPipelineMatchesGolden) {
    check(i2v, "pipeline", "wan_i2v/pipeline.safetensors", kPipelineOutputs, 1e-3, " --steps 4 --cfg 5 --shift 3");
}

TEST_F(SvgForward, TokenizerPrintsIds) {
    const nlohmann::json cases = nlohmann::json::parse(slurp(kData + "/tokenizer_spm/spm_unigram.json"))["cases"];
    ASSERT_GE(cases.size(), 2u);
    for (size_t k = 0; k < 2; k++) {
        const std::string text = cases[k]["text"];
        ASSERT_EQ(text.find('\''), std::string::npos);  // quoted for the shell below
        std::string err, sout;
        ASSERT_EQ(run(t2v + " --component tokenizer --text '" + text + "'", &err, &sout), 0) << err;
        const nlohmann::json got = nlohmann::json::parse(sout);
        EXPECT_EQ(got["ids"], cases[k]["ids"]) << text;
    }
}

TEST_F(SvgForward, ClearErrors) {
    std::string err;
    const std::string tf = kGoldens + "wan_t2v/transformer_forward.safetensors";
    // an input the component needs is not in the file
    EXPECT_EQ(run(t2v + " --component text_encoder --inputs " + tf + " --out " + out, &err), 1);
    EXPECT_NE(err.find("'input_ids' not found"), std::string::npos) << err;
    EXPECT_EQ(run(t2v + " --component vae_decode --inputs " + kGoldens + "wan_vae/encode.safetensors --out " + out, &err), 1);
    EXPECT_NE(err.find("'z' not found"), std::string::npos) << err;
    EXPECT_EQ(run(i2v + " --component pipeline --steps 1 --inputs " + kGoldens + "wan_t2v/pipeline.safetensors --out " + out, &err), 1);
    EXPECT_NE(err.find("'image_embeds' not found"), std::string::npos) << err;
    // sizes that disagree with latents_init
    EXPECT_EQ(run(t2v + " --component pipeline --steps 1 --width 64 --inputs " + kGoldens + "wan_t2v/pipeline.safetensors --out " + out, &err), 1);
    EXPECT_NE(err.find("do not match latents_init"), std::string::npos) << err;
    // a component the file lacks
    EXPECT_EQ(run(i2v + " --component text_encoder --inputs " + kGoldens + "umt5_encoder/forward.safetensors --out " + out, &err), 1);
    EXPECT_NE(err.find("text_encoder"), std::string::npos) << err;
    // unknown component: the known ones are listed
    EXPECT_EQ(run(t2v + " --component decoder --inputs " + tf + " --out " + out, &err), 2);
    EXPECT_NE(err.find("unknown component 'decoder'"), std::string::npos) << err;
    EXPECT_NE(err.find("vae_decode"), std::string::npos) << err;
    // --text usage
    EXPECT_EQ(run(t2v + " --component tokenizer", &err), 2);
    EXPECT_NE(err.find("needs --text"), std::string::npos) << err;
    EXPECT_EQ(run(t2v + " --component transformer --text hi --inputs " + tf + " --out " + out, &err), 2);
    EXPECT_NE(err.find("--text is for --component tokenizer"), std::string::npos) << err;
    EXPECT_EQ(run(i2v + " --component tokenizer --text hi", &err), 1);
    EXPECT_NE(err.find("no tokenizer"), std::string::npos) << err;
    // missing --inputs/--out, unknown option
    EXPECT_EQ(run(t2v + " --component transformer", &err), 2);
    EXPECT_NE(err.find("--inputs and --out are required"), std::string::npos) << err;
    EXPECT_EQ(run(t2v + " --bogus", &err), 2);
    EXPECT_NE(err.find("unknown option --bogus"), std::string::npos) << err;
}

}  // namespace
