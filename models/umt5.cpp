// umT5 / T5 v1.1 encoder (transformers UMT5EncoderModel / T5EncoderModel),
// built from svg.h ops. Reads like the reference forward:
//   token embedding → blocks of [RMSNorm → self-attention with the relative
//   position bias and no 1/√d scaling, residual; RMSNorm → gated-GELU FFN,
//   residual] → final RMSNorm.
// Tensor names are transformers' except the position-bias table, which the
// converter names "...SelfAttention.relative_bias.weight" (the transformers
// name does not fit the 63-byte GGUF limit with two-digit blocks).
#include "models/umt5.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

std::string block_prefix(int64_t i) { return "encoder.block." + std::to_string(i) + ".layer."; }
std::string bias_table_name(int64_t i) { return block_prefix(i) + "0.SelfAttention.relative_bias.weight"; }

struct builder {
    svg_context *ctx;
    const umt5_encoder &m;

    T *W(const std::string &name) const { return m.w.get(name); }
    T *linear(T *x, const std::string &name) const { return svg_linear(ctx, x, W(name + ".weight"), nullptr); }

    // Layer i's table [buckets, H] gathered at the bucket of every (query,
    // key) pair [L, L] → [L, L, H], viewed as the attention bias [1, H, L, L].
    T *position_bias(T *buckets, int64_t i, int64_t L) const {
        const int perm[4] = {0, 3, 1, 2};
        T *rows = svg_get_rows(ctx, W(bias_table_name(i)), buckets);
        return rows ? svg_permute(ctx, svg_reshape_4d(ctx, rows, 1, L, L, m.heads), perm) : nullptr;
    }

    T *self_attention(T *x, T *bias, T *mask, const std::string &p) const {
        const int perm[4] = {0, 2, 1, 3};
        auto heads = [&](T *y) {
            if (!y) return (T *)nullptr;
            const int64_t ne[4] = {y->ne[0], y->ne[1], m.heads, m.d_kv};
            return svg_permute(ctx, svg_reshape(ctx, y, 4, ne), perm);
        };
        // T5 folds the 1/√d_kv into its weight init: scores are unscaled
        T *o = svg_attention(ctx, heads(linear(x, p + "q")), heads(linear(x, p + "k")), heads(linear(x, p + "v")), bias,
                             mask, 1.0f, false);
        if (!o) return nullptr;
        return linear(svg_reshape_3d(ctx, o, o->ne[0], o->ne[1], m.heads * m.d_kv), p + "o");
    }

    T *block(T *h, T *bias, T *mask, int64_t i) const {
        const std::string p = block_prefix(i);
        T *n = svg_rms_norm(ctx, h, W(p + "0.layer_norm.weight"), m.eps);
        h = svg_add(ctx, h, self_attention(n, bias, mask, p + "0.SelfAttention."));
        n = svg_rms_norm(ctx, h, W(p + "1.layer_norm.weight"), m.eps);
        const std::string f = p + "1.DenseReluDense.";
        T *ff = svg_mul(ctx, svg_gelu_tanh(ctx, linear(n, f + "wi_0")), linear(n, f + "wi_1"));
        return svg_add(ctx, h, linear(ff, f + "wo"));
    }
};

// A 2-D weight of the expected shape, else an error naming it.
bool check_shape(const umt5_encoder &m, const std::string &name, int64_t n0, int64_t n1) {
    T *t = m.w.get(name);
    if (!t) return false;
    if (t->n_dims != 2 || t->ne[0] != n0 || t->ne[1] != n1)
        return svg_err(false, "text_encoder: %s is %s, config says [%lld, %lld]", name.c_str(),
                       svg_shape_string(t).c_str(), (long long)n0, (long long)n1);
    return true;
}

}  // namespace

int64_t umt5_relative_position_bucket(int64_t relative_position, int64_t num_buckets, int64_t max_distance) {
    const int64_t half = num_buckets / 2, max_exact = half / 2;
    const int64_t bucket = relative_position > 0 ? half : 0;
    const int64_t n = std::llabs(relative_position);
    if (n < max_exact) return bucket + n;
    // float32 throughout, as the reference computes it, so the truncation
    // lands on the same side at every distance
    const float ratio =
        std::log((float)n / (float)max_exact) / (float)std::log((double)max_distance / (double)max_exact);
    const int64_t large = max_exact + (int64_t)(ratio * (float)(half - max_exact));
    return bucket + std::min(large, half - 1);
}

bool umt5_load(const svg_gguf *f, svg_backend *be, umt5_encoder *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, "text_encoder", &c)) return false;
    if (c.cls != "UMT5EncoderModel" && c.cls != "T5EncoderModel")
        return svg_err(false, "text_encoder class '%s' is neither UMT5EncoderModel nor T5EncoderModel", c.cls.c_str());
    m->per_layer_bias = c.cls == "UMT5EncoderModel";
    std::string ff_proj;
    double eps;
    if (!c.get_int("vocab_size", &m->vocab) || !c.get_int("d_model", &m->d_model) || !c.get_int("d_kv", &m->d_kv) ||
        !c.get_int("d_ff", &m->d_ff) || !c.get_int("num_layers", &m->layers) || !c.get_int("num_heads", &m->heads) ||
        !c.get_int("relative_attention_num_buckets", &m->num_buckets) ||
        !c.get_int("relative_attention_max_distance", &m->max_distance) || !c.get_float("layer_norm_epsilon", &eps) ||
        !c.get_string("feed_forward_proj", &ff_proj))
        return false;
    // transformers maps "gated-gelu" to gelu_new, the tanh approximation
    if (ff_proj != "gated-gelu")
        return svg_err(false, "text_encoder: feed_forward_proj '%s' not supported (gated-gelu only)", ff_proj.c_str());
    if (m->num_buckets < 4 || m->max_distance <= m->num_buckets / 4 || m->layers < 1)
        return svg_err(false, "text_encoder: bad config (%lld buckets, max distance %lld, %lld layers)",
                       (long long)m->num_buckets, (long long)m->max_distance, (long long)m->layers);
    m->eps = (float)eps;
    if (!svg_component_weights_load(f, "text_encoder", be, &m->w)) return false;
    // the shapes every later op depends on
    if (!check_shape(*m, "shared.weight", m->vocab, m->d_model)) return false;
    for (int64_t i = 0; i < m->layers; i++) {
        const std::string p = block_prefix(i) + "0.SelfAttention.";
        if (!check_shape(*m, p + "q.weight", m->heads * m->d_kv, m->d_model)) return false;
        if ((m->per_layer_bias || i == 0) && !check_shape(*m, bias_table_name(i), m->num_buckets, m->heads))
            return false;
    }
    return true;
}

svg_tensor *umt5_forward(svg_context *ctx, const umt5_encoder &m, svg_tensor *ids, svg_tensor *mask,
                         svg_host_inputs *host) {
    if (!ids) return svg_err<T *>(nullptr, "umt5: missing input_ids");
    if (ids->n_dims != 2)
        return svg_err<T *>(nullptr, "umt5: input_ids %s must be [B, L]", svg_shape_string(ids).c_str());
    const int64_t L = ids->ne[1];
    builder b{ctx, m};

    // relative-position bucket of every (query i, key j) pair
    std::vector<int32_t> buckets((size_t)(L * L));
    for (int64_t i = 0; i < L; i++)
        for (int64_t j = 0; j < L; j++)
            buckets[(size_t)(i * L + j)] = (int32_t)umt5_relative_position_bucket(j - i, m.num_buckets, m.max_distance);
    const int64_t sel_ne[2] = {L, L};
    T *sel = host->add_i32(ctx, 2, sel_ne, std::move(buckets), "umt5.buckets");

    T *h = svg_get_rows(ctx, b.W("shared.weight"), ids);
    T *bias = nullptr;
    for (int64_t i = 0; i < m.layers; i++) {
        if (m.per_layer_bias || i == 0) bias = b.position_bias(sel, i, L);
        h = b.block(h, bias, mask, i);
    }
    return svg_rms_norm(ctx, h, b.W("encoder.final_layer_norm.weight"), m.eps);
}
