// svg-bench: times single ops on a backend at the real shapes of the target
// models (attention, GEMM with bf16 and quantized weights, adaLN norm, RoPE,
// Wan's fused QK-norm + RoPE, elementwise and gated activations)
// and prints ms with TFLOP/s (matrix work) or GB/s (memory-bound work).
// bench/torch_bench.py times the same operations in PyTorch.
//
//   svg-bench [--backend cuda|cpu] [--only SUBSTRING] [--reps N] [--batch N]
//   svg-bench --model MODEL.gguf [--frames 81 --height 480 --width 832 --text N] [--reps N]
//             [--svg DENSITY [--svg-dense-layers SHARE]]
//
// --model times one transformer forward (Wan 2.1 or CogVideoX 1.5); with --svg also one with Sparse
// VideoGen attention (profiling included) on the same weights, side by side.
//
// A timed sample is one graph compute + synchronize (wall clock), so it
// carries a fixed host/launch/sync cost (~27 µs on the H100 of
// bench/RESULTS.md) that dominates ops of ~0.1 ms. --batch N enqueues N
// computes per sample and reports the time per compute: the launch and sync
// costs overlap with the GPU work, as in CUDA-event timing.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "models/cogvideox-pipeline.h"
#include "models/hunyuan.h"
#include "models/wan.h"
#include "src/parallel.h"
#include "svg.h"

namespace {

struct Case {
    std::string name;
    std::function<svg_tensor *(svg_context *)> build;
    double flops;  // 0: report bandwidth instead
    double bytes;  // bytes that must move (inputs read once + output written once)
};

// Fill a tensor with standard normal values (quantized: through the type's
// quantizer), the distribution of torch.randn, which bench/torch_bench.py
// times on (kernel timings depend on the data: the tensor cores draw more
// power on wider value spreads). Chunks of 2^22 values, each from its own
// xorshift stream and Box-Muller, are made on every hardware thread: a
// real-size attention input is 10^9 values.
bool fill(svg_tensor *t, uint64_t seed) {
    const svg_type_traits *tr = svg_type_traits_of(t->type);
    const int64_t n = svg_nelements(t), chunk = 1 << 22, n_chunks = (n + chunk - 1) / chunk;
    const int64_t chunk_bytes = (int64_t)svg_row_size(t->type, chunk);
    const int n_threads = (int)std::max(1u, std::thread::hardware_concurrency());
    // chunks of one round go to the device together: raw holds n_threads of them
    std::vector<char> raw((size_t)(chunk_bytes * n_threads));
    for (int64_t round = 0; round < n_chunks; round += n_threads) {
        const int64_t last = std::min(n_chunks, round + n_threads);
        svg_parallel_for(last - round, n_threads, [&](int64_t i) {
            const int64_t c = round + i, off = c * chunk, len = std::min(chunk, n - off);
            uint64_t s = (seed * 0x9E3779B97F4A7C15ull + 1) ^ ((uint64_t)c * 0xD1B54A32D192ED03ull);
            if (!s) s = 1;
            auto uniform = [&s] {  // (0, 1]
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                return ((s >> 40) + 1) * (1.0 / 16777216.0);
            };
            std::vector<float> f((size_t)len);
            for (int64_t j = 0; j < len; j += 2) {
                const double r = std::sqrt(-2.0 * std::log(uniform())), a = 6.283185307179586 * uniform();
                f[(size_t)j] = (float)(r * std::cos(a));
                if (j + 1 < len) f[(size_t)j + 1] = (float)(r * std::sin(a));
            }
            tr->from_float(f.data(), raw.data() + i * chunk_bytes, len);
        });
        const int64_t off = round * chunk, len = std::min(n, last * chunk) - off;
        if (!svg_tensor_set(t, raw.data(), svg_row_size(t->type, off), svg_row_size(t->type, len))) return false;
    }
    return true;
}

svg_tensor *T(svg_context *c, enum svg_type t, std::initializer_list<int64_t> ne) {
    std::vector<int64_t> v(ne);
    return svg_new_tensor(c, t, (int)v.size(), v.data());
}

struct Model {
    const char *name;
    int64_t H, L, D, hidden, ffn;
    bool qk_norm_across_heads;  // Wan: RMS norm over H·D, then RoPE per head
    bool key_masked;            // HunyuanVideo: padded text keys masked in the joint attention
};

std::vector<Case> cases() {
    const Model models[] = {
        {"wan1.3b-480p", 12, 32760, 128, 1536, 8960, true, false},
        {"wan14b-720p", 40, 75600, 128, 5120, 13824, true, false},
        {"hunyuan-720p", 24, 119056, 128, 3072, 12288, false, true},
        {"cogvideox1.5", 48, 45106, 64, 3072, 12288, false, false},
    };
    std::vector<Case> out;
    // Sparse VideoGen at Wan's shapes: block-sparse attention at densities 0.3 and 0.15
    // (one sink frame; rate = the computed share of the dense FLOPs), and
    // the online profiling of 64 rows per head
    struct Video { const char *name; int64_t H, F, T; };
    for (const Video &w : {Video{"wan1.3b-480p", 12, 21, 1560}, Video{"wan14b-720p", 40, 21, 3600}}) {
        auto qkv = [w](svg_context *c) {
            const int perm[4] = {0, 2, 1, 3};
            return svg_permute(c, T(c, SVG_TYPE_BF16, {1, w.F * w.T, w.H, 128}), perm);
        };
        const double L = (double)(w.F * w.T);
        char nm[160];
        svg_sparse_layout l{0, w.F, w.T, 0, 1, 0};
        for (double target : {0.3, 0.15}) {
            l.band = svg_sparse_band_for_density(&l, target, 128);
            const double density = svg_sparse_density(&l);
            snprintf(nm, sizeof nm, "%s sparse attention bf16 density %.3f (band %lld) [1,%lld,%lld,128]", w.name, density,
                     (long long)l.band, (long long)w.H, (long long)(w.F * w.T));
            out.push_back({nm, [l, qkv](svg_context *c) {
                               return svg_attention_sparse(c, qkv(c), qkv(c), qkv(c), nullptr, 1.0f / std::sqrt(128.f), &l);
                           },
                           4.0 * (double)w.H * L * L * 128 * density, 0});
        }
        // the layout transform of q, k, v or o: one read and one write (heads
        // of both kinds: the kinds are random)
        snprintf(nm, sizeof nm, "%s svg permute bf16 [1,%lld,%lld,128]", w.name, (long long)(w.F * w.T), (long long)w.H);
        out.push_back({nm, [l, w](svg_context *c) {
                           return svg_sparse_permute(c, T(c, SVG_TYPE_BF16, {1, w.F * w.T, w.H, 128}), T(c, SVG_TYPE_F32, {1, w.H, 3}), &l, false);
                       },
                       0, 2.0 * L * (double)w.H * 128 * 2});
        snprintf(nm, sizeof nm, "%s svg profile 64 rows bf16 [1,%lld,%lld,128]", w.name, (long long)w.H, (long long)(w.F * w.T));
        out.push_back({nm, [l, qkv](svg_context *c) {
                           return svg_sparse_profile(c, qkv(c), qkv(c), qkv(c), nullptr, 1.0f / std::sqrt(128.f), &l, 64, 1);
                       },
                       8.0 * (double)w.H * 64 * L * 128, 0});
    }
    // Dense attention of Wan 480p's 3072 query blocks over fewer keys: the
    // time per block against the number of key tiles separates the per-tile
    // cost from a fixed cost per block (launch, prologue, epilogue)
    for (int64_t Lk : {2048, 8192}) {
        out.push_back({"wan1.3b-480p attention bf16 keys " + std::to_string(Lk) + " [1,12,32760x" + std::to_string(Lk) + ",128]",
                       [Lk](svg_context *c) {
                           const int perm[4] = {0, 2, 1, 3};
                           svg_tensor *q = svg_permute(c, T(c, SVG_TYPE_BF16, {1, 32760, 12, 128}), perm);
                           svg_tensor *k = svg_permute(c, T(c, SVG_TYPE_BF16, {1, Lk, 12, 128}), perm);
                           svg_tensor *v = svg_permute(c, T(c, SVG_TYPE_BF16, {1, Lk, 12, 128}), perm);
                           return svg_attention(c, q, k, v, nullptr, nullptr, 1.0f / std::sqrt(128.f), false);
                       },
                       4.0 * 12 * 32760.0 * (double)Lk * 128, 0});
    }
    for (const Model &m : models) {
        const std::string p = m.name;
        const double L = (double)m.L, H = (double)m.H, D = (double)m.D, C = (double)m.hidden, F = (double)m.ffn;
        out.push_back({p + " attention bf16 [1," + std::to_string(m.H) + "," + std::to_string(m.L) + "," + std::to_string(m.D) + "]",
                       [m](svg_context *c) {
                           const int perm[4] = {0, 2, 1, 3};  // model layout [B, L, H, D] viewed as [B, H, L, D]
                           svg_tensor *q = svg_permute(c, T(c, SVG_TYPE_BF16, {1, m.L, m.H, m.D}), perm);
                           svg_tensor *k = svg_permute(c, T(c, SVG_TYPE_BF16, {1, m.L, m.H, m.D}), perm);
                           svg_tensor *v = svg_permute(c, T(c, SVG_TYPE_BF16, {1, m.L, m.H, m.D}), perm);
                           return svg_attention(c, q, k, v, nullptr, nullptr, 1.0f / std::sqrt((float)m.D), false);
                       },
                       4.0 * H * L * L * D, 4.0 * L * H * D * 2});
        if (m.key_masked)  // the joint sequence with padded text keys masked, as the model runs it
            out.push_back({p + " attention bf16 key-masked [1," + std::to_string(m.H) + "," + std::to_string(m.L) + "," + std::to_string(m.D) + "]",
                           [m](svg_context *c) {
                               const int perm[4] = {0, 2, 1, 3};
                               svg_tensor *q = svg_permute(c, T(c, SVG_TYPE_BF16, {1, m.L, m.H, m.D}), perm);
                               svg_tensor *k = svg_permute(c, T(c, SVG_TYPE_BF16, {1, m.L, m.H, m.D}), perm);
                               svg_tensor *v = svg_permute(c, T(c, SVG_TYPE_BF16, {1, m.L, m.H, m.D}), perm);
                               // random normal mask values: nonzero, so every key is kept, the mask still read
                               return svg_attention(c, q, k, v, nullptr, T(c, SVG_TYPE_F32, {1, m.L}), 1.0f / std::sqrt((float)m.D), false);
                           },
                           4.0 * H * L * L * D, 4.0 * L * H * D * 2});
        for (enum svg_type wt : {SVG_TYPE_BF16, SVG_TYPE_Q8_0, SVG_TYPE_Q4_0, SVG_TYPE_Q4_K, SVG_TYPE_Q5_K, SVG_TYPE_Q6_K}) {
            out.push_back({p + " linear ffn-up " + svg_type_name(wt) + " [" + std::to_string(m.L) + "x" + std::to_string(m.hidden) + "]x[" +
                               std::to_string(m.ffn) + "]",
                           [m, wt](svg_context *c) {
                               return svg_linear(c, T(c, SVG_TYPE_BF16, {1, m.L, m.hidden}), T(c, wt, {m.ffn, m.hidden}), T(c, SVG_TYPE_F32, {m.ffn}));
                           },
                           2.0 * L * C * F, 0});
        }
        // the FFN's first half as the model runs it (GELU in the GEMM's epilogue; SVG_FUSE_GELU=0: apart)
        out.push_back({p + " linear+gelu_tanh ffn-up bf16 [" + std::to_string(m.L) + "x" + std::to_string(m.hidden) + "]x[" +
                           std::to_string(m.ffn) + "]",
                       [m](svg_context *c) {
                           return svg_gelu_tanh(c, svg_linear(c, T(c, SVG_TYPE_BF16, {1, m.L, m.hidden}), T(c, SVG_TYPE_BF16, {m.ffn, m.hidden}),
                                                              T(c, SVG_TYPE_F32, {m.ffn})));
                       },
                       2.0 * L * C * F, 0});
        out.push_back({p + " layernorm+modulate bf16 [" + std::to_string(m.L) + "x" + std::to_string(m.hidden) + "]",
                       [m](svg_context *c) {
                           return svg_norm_modulate(c, T(c, SVG_TYPE_BF16, {1, m.L, m.hidden}), SVG_NORM_LAYER, 1e-6f, nullptr, nullptr,
                                                    T(c, SVG_TYPE_F32, {1, 1, m.hidden}), T(c, SVG_TYPE_F32, {1, 1, m.hidden}));
                       },
                       0, 2.0 * L * C * 2});
        out.push_back({p + " rms_norm bf16 [" + std::to_string(m.L) + "x" + std::to_string(m.hidden) + "]",
                       [m](svg_context *c) { return svg_rms_norm(c, T(c, SVG_TYPE_BF16, {1, m.L, m.hidden}), T(c, SVG_TYPE_F32, {m.hidden}), 1e-6f); },
                       0, 2.0 * L * C * 2});
        out.push_back({p + " rope3d bf16 [" + std::to_string(m.L) + "," + std::to_string(m.H) + "," + std::to_string(m.D) + "]",
                       [m](svg_context *c) {
                           const int d = (int)m.D, ax[3] = {d - 4 * (d / 6), 2 * (d / 6), 2 * (d / 6)};
                           return svg_rope(c, T(c, SVG_TYPE_BF16, {1, m.L, m.H, m.D}), T(c, SVG_TYPE_F32, {m.L, 3}), 3, ax, 10000.f,
                                           SVG_ROPE_INTERLEAVED);
                       },
                       0, 2.0 * L * H * D * 2 + L * 3 * 4});
        // the self-attention q/k path: rope(reshape(rms_norm(q))), which the
        // CUDA backend runs as one pass (compare with rms_norm + rope3d above)
        if (m.qk_norm_across_heads)
            out.push_back({p + " qk rms_norm+rope3d bf16 [" + std::to_string(m.L) + "," + std::to_string(m.H) + "," + std::to_string(m.D) + "]",
                           [m](svg_context *c) {
                               const int d = (int)m.D, ax[3] = {d - 4 * (d / 6), 2 * (d / 6), 2 * (d / 6)};
                               svg_tensor *n = svg_rms_norm(c, T(c, SVG_TYPE_BF16, {1, m.L, m.H * m.D}), T(c, SVG_TYPE_F32, {m.H * m.D}), 1e-6f);
                               return svg_rope(c, svg_reshape_4d(c, n, 1, m.L, m.H, m.D), T(c, SVG_TYPE_F32, {m.L, 3}), 3, ax, 10000.f,
                                               SVG_ROPE_INTERLEAVED);
                           },
                           0, 2.0 * L * H * D * 2 + L * 3 * 4 + H * D * 4});
    }
    // elementwise passes at Wan 1.3B 480p (L = 32760 tokens, C = 1536, FFN
    // 8960) and umT5-XXL (512 tokens, FFN 10240): a standalone GELU, the
    // residual add, the gated residual h + y·gate as the model builds it
    // (gate: a [1, 1, C] slice of the f32 [1, 6, C] modulation; two nodes,
    // MUL then ADD), and the gated activation gelu_tanh(a)·b that the CUDA
    // backend runs as one pass (SVG_FUSE_GATED=0: apart). Bytes: every input
    // read once, the output written once (what one fused pass would move).
    {
        const int64_t L = 32760, C = 1536, F = 8960;
        const double l = (double)L, cc = (double)C, f = (double)F;
        const std::string p = "wan1.3b-480p";
        out.push_back({p + " gelu_tanh bf16 [32760x8960]", [=](svg_context *c) { return svg_gelu_tanh(c, T(c, SVG_TYPE_BF16, {1, L, F})); }, 0,
                       2.0 * l * f * 2});
        out.push_back({p + " add bf16 [32760x1536]",
                       [=](svg_context *c) { return svg_add(c, T(c, SVG_TYPE_BF16, {1, L, C}), T(c, SVG_TYPE_BF16, {1, L, C})); }, 0,
                       3.0 * l * cc * 2});
        out.push_back({p + " gated residual x + gate*y bf16 [32760x1536]",
                       [=](svg_context *c) {
                           svg_tensor *mod = T(c, SVG_TYPE_F32, {1, 6, C});
                           svg_tensor *h = T(c, SVG_TYPE_BF16, {1, L, C}), *y = T(c, SVG_TYPE_BF16, {1, L, C});
                           return svg_add(c, h, svg_mul(c, y, svg_slice(c, mod, 1, 2, 3, 1)));
                       },
                       0, 3.0 * l * cc * 2 + cc * 4});
        const int64_t gated_shapes[2][2] = {{512, 10240}, {L, F}};
        for (const auto &rf : gated_shapes) {
            const int64_t r = rf[0], n = rf[1];
            out.push_back({p + " gated gelu act(a)*b bf16 [" + std::to_string(r) + "x" + std::to_string(n) + "]",
                           [=](svg_context *c) { return svg_mul(c, svg_gelu_tanh(c, T(c, SVG_TYPE_BF16, {1, r, n})), T(c, SVG_TYPE_BF16, {1, r, n})); },
                           0, 3.0 * (double)r * (double)n * 2});
        }
    }
    return out;
}

// One transformer forward of a model file (Wan 2.1, CogVideoX 1.5 or
// HunyuanVideo), batch 1, random latents, timestep 500 and random text
// embeddings (Wan I2V: also 257 random image tokens; CogVideoX I2V: ofs 2.0
// and image latents; HunyuanVideo: 256 Llama tokens of which 200 are valid,
// as diffusers_hunyuan_bench.py, a random pooled CLIP vector, guidance 6):
// median time over reps after a warm-up, and the backend's peak memory,
// weights included. With sparse, the same forward with Sparse VideoGen
// attention follows, on the same weights and inputs. text_len 0: the
// family's (Wan 512, CogVideoX 226, HunyuanVideo 256).
int bench_model(svg_backend *be, const std::string &path, enum svg_type act, int64_t frames, int64_t height,
                int64_t width, int64_t text_len, int reps, const dit_sparse_attention *sparse_in, double dense_layers_share) {
    svg_gguf *f = svg_gguf_open(path.c_str());
    const char *arch_name = f ? svg_gguf_get_string(f, "general.architecture") : nullptr;
    const std::string arch = arch_name ? arch_name : "wan";
    wan_transformer wan;
    cogvideox_transformer cog;
    hunyuan_transformer hy;
    const bool cogvideox = arch == "cogvideox", hunyuan = arch == "hunyuan";
    if (!f || !(cogvideox ? cogvideox_transformer_load(f, be, &cog) : hunyuan ? hunyuan_transformer_load(f, be, &hy) : wan_transformer_load(f, be, &wan))) {
        fprintf(stderr, "svg-bench: %s\n", svg_last_error());
        if (f) svg_gguf_free(f);
        return 1;
    }
    const int64_t layers = cogvideox ? cog.layers : hunyuan ? hy.layers + hy.single_layers : wan.layers;
    if (text_len == 0) text_len = cogvideox ? cog.max_text : hunyuan ? 256 : 512;
    dit_sparse_attention sparse_layers;  // the first floor(share · layers) blocks dense
    if (sparse_in) {
        sparse_layers = *sparse_in;
        sparse_layers.dense_layers = (int)std::floor(dense_layers_share * (double)layers);
    }
    const dit_sparse_attention *sparse = sparse_in ? &sparse_layers : nullptr;
    // the VAE's 4×8×8 compression; CogVideoX pads the latent frames to a multiple of patch_size_t
    int64_t lf = (frames - 1) / 4 + 1;
    const int64_t lh = height / 8, lw = width / 8;
    if (cogvideox) lf += cogvideox_latent_frames(cog.patch_t, frames).padding;
    const int64_t tokens = cogvideox ? lf / cog.patch_t * (lh / cog.patch) * (lw / cog.patch)
                           : hunyuan ? lf / hy.patch_t * (lh / hy.patch) * (lw / hy.patch)
                                     : lf / wan.patch[0] * (lh / wan.patch[1]) * (lw / wan.patch[2]);
    auto randn = [](int64_t n, uint64_t seed) {
        std::vector<float> v((size_t)n);
        uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
        auto uniform = [&s] {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            return ((s >> 40) + 1) * (1.0 / 16777216.0);
        };
        for (float &x : v) x = (float)(std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()));
        return v;
    };
    bool ok = true;
    for (const dit_sparse_attention *attn : {(const dit_sparse_attention *)nullptr, sparse}) {
        svg_context *ctx = svg_context_new(true);
        svg_host_inputs host;
        const int64_t ts[1] = {1};
        svg_tensor *t = host.add(ctx, 1, ts, {500.f}, "timestep");
        svg_tensor *y;
        if (cogvideox) {
            const int64_t xs[5] = {1, lf, cog.in_channels, lh, lw}, txs[3] = {1, text_len, cog.text_dim};
            svg_tensor *x = host.add(ctx, 5, xs, randn(lf * cog.in_channels * lh * lw, 1), "latents");
            svg_tensor *text = host.add(ctx, 3, txs, randn(text_len * cog.text_dim, 2), "text");
            svg_tensor *ofs = cog.ofs_dim ? host.add(ctx, 1, ts, {2.f}, "ofs") : nullptr;
            y = cogvideox_transformer_forward(ctx, cog, x, t, text, ofs, act, &host, attn);
        } else if (hunyuan) {
            const int64_t xs[5] = {1, hy.in_channels, lf, lh, lw}, txs[3] = {1, text_len, hy.text_dim}, ps[2] = {1, hy.pooled_dim};
            svg_tensor *x = host.add(ctx, 5, xs, randn(xs[1] * lf * lh * lw, 1), "latents");
            svg_tensor *text = host.add(ctx, 3, txs, randn(text_len * hy.text_dim, 2), "text");
            std::vector<float> mask((size_t)text_len, 0.f);
            std::fill(mask.begin(), mask.begin() + std::min<int64_t>(text_len, 200), 1.f);
            svg_tensor *pooled = host.add(ctx, 2, ps, randn(hy.pooled_dim, 3), "pooled");
            svg_tensor *g = hy.guidance_embeds ? host.add(ctx, 1, ts, {6000.f}, "guidance") : nullptr;
            y = hunyuan_transformer_forward(ctx, hy, x, t, text, mask, pooled, g, act, &host, attn);
        } else {
            const int64_t xs[5] = {1, wan.in_channels, lf, lh, lw}, txs[3] = {1, text_len, wan.text_dim}, ims[3] = {1, 257, wan.image_dim};
            svg_tensor *x = host.add(ctx, 5, xs, randn(xs[1] * lf * lh * lw, 1), "latents");
            svg_tensor *text = host.add(ctx, 3, txs, randn(text_len * wan.text_dim, 2), "text");
            svg_tensor *image = wan.has_image ? host.add(ctx, 3, ims, randn(257 * wan.image_dim, 3), "image") : nullptr;
            y = wan_transformer_forward(ctx, wan, x, t, text, image, act, &host, attn);
        }
        svg_graph *g = svg_graph_new(ctx);
        svg_gallocr *ga = svg_gallocr_new(be);
        ok = y && svg_graph_build(g, y) && svg_gallocr_alloc_graph(ga, g) && host.upload();
        std::vector<double> ms;
        for (int r = 0; ok && r < reps + 1; r++) {
            const auto t0 = std::chrono::steady_clock::now();
            ok = svg_backend_graph_compute(be, g);
            svg_backend_synchronize(be);
            const auto t1 = std::chrono::steady_clock::now();
            if (r >= 1) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        if (ok) {
            std::sort(ms.begin(), ms.end());
            char how[128] = "dense attention";
            if (attn)
                snprintf(how, sizeof how, "Sparse VideoGen attention (density %.2f, %d rows, first %d layers dense)", attn->density,
                         attn->rows, attn->dense_layers);
            printf("%s transformer %s: %lldx%lldx%lld frames, %lld tokens, %lld text, %s activations, %s: %.1f ms (median of %d), "
                   "peak device memory %.2f GiB\n",
                   arch.c_str(), path.c_str(), (long long)width, (long long)height, (long long)frames, (long long)tokens, (long long)text_len,
                   svg_type_name(act), how, ms[ms.size() / 2], reps, svg_backend_cuda_peak_memory(be) / 1073741824.0);
            fflush(stdout);
        } else {
            fprintf(stderr, "svg-bench: %s\n", svg_last_error());
        }
        svg_gallocr_free(ga);
        svg_graph_free(g);
        svg_context_free(ctx);
        if (!ok || !sparse) break;
    }
    svg_gguf_free(f);
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
    std::string backend = "cuda", only, model;
    int reps = 10, batch = 1;
    int64_t frames = 81, height = 480, width = 832, text_len = 0;
    double svg_density = 0, svg_dense_layers = 0.025;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc) backend = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, atoi(argv[++i]));
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::max(1, atoi(argv[++i]));
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--frames") && i + 1 < argc) frames = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--height") && i + 1 < argc) height = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--width") && i + 1 < argc) width = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--text") && i + 1 < argc) text_len = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--svg") && i + 1 < argc) svg_density = atof(argv[++i]);
        else if (!strcmp(argv[i], "--svg-dense-layers") && i + 1 < argc) svg_dense_layers = atof(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--backend cuda|cpu] [--only SUBSTRING] [--reps N] [--batch N]\n"
                    "       %s --model MODEL.gguf [--frames 81 --height 480 --width 832 --text N (Wan 512, CogVideoX 226)] [--reps N]\n"
                    "          [--svg DENSITY [--svg-dense-layers SHARE (default 0.025)]]\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    if (svg_density < 0 || svg_density > 1 || svg_dense_layers < 0 || svg_dense_layers > 1) {
        fprintf(stderr, "svg-bench: --svg DENSITY and --svg-dense-layers SHARE must be in [0, 1]\n");
        return 2;
    }
    if (!model.empty() && (frames < 1 || (frames - 1) % 4 || height <= 0 || width <= 0 || height % 16 || width % 16 || text_len < 0)) {
        fprintf(stderr, "svg-bench: --frames must be 4k+1, --height/--width positive multiples of 16, --text ≥ 0\n");
        return 2;
    }
    svg_backend *be = backend == "cpu" ? svg_backend_cpu_new(0) : svg_backend_cuda_new(0);
    if (!be) {
        fprintf(stderr, "svg-bench: %s\n", svg_last_error());
        return 1;
    }
    if (!model.empty()) {
        printf("backend: %s\n", svg_backend_description(be));
        dit_sparse_attention sparse;
        sparse.enabled = true;
        sparse.density = svg_density;
        const int rc = bench_model(be, model, backend == "cpu" ? SVG_TYPE_F32 : SVG_TYPE_BF16, frames, height, width, text_len, reps,
                                   svg_density > 0 ? &sparse : nullptr, svg_dense_layers);
        svg_backend_free(be);
        return rc;
    }
    printf("backend: %s%s\n%-72s %10s %12s\n", svg_backend_description(be), batch > 1 ? (", " + std::to_string(batch) + " computes per sample").c_str() : "",
           "op", "ms", "rate");
    int failures = 0;
    for (const Case &cs : cases()) {
        if (!only.empty() && cs.name.find(only) == std::string::npos) continue;
        svg_context *ctx = svg_context_new(true);
        svg_tensor *out = cs.build(ctx);
        svg_graph *g = svg_graph_new(ctx);
        svg_gallocr *ga = svg_gallocr_new(be);
        bool ok = out && svg_graph_build(g, out) && svg_gallocr_alloc_graph(ga, g);
        for (int i = 0; ok && i < svg_graph_n_leafs(g); i++) ok = fill(svg_graph_leaf(g, i), (uint64_t)i + 1);
        std::vector<double> ms;
        for (int r = 0; ok && r < reps + 2; r++) {
            const auto t0 = std::chrono::steady_clock::now();
            for (int b = 0; ok && b < batch; b++) ok = svg_backend_graph_compute(be, g);
            svg_backend_synchronize(be);
            const auto t1 = std::chrono::steady_clock::now();
            if (r >= 2) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / batch);
        }
        if (!ok) {
            printf("%-72s FAILED: %s\n", cs.name.c_str(), svg_last_error());
            failures++;
        } else {
            std::sort(ms.begin(), ms.end());
            const double med = ms[ms.size() / 2];
            char rate[64];
            if (cs.flops > 0) snprintf(rate, sizeof rate, "%.1f TFLOP/s", cs.flops / med / 1e9);
            else snprintf(rate, sizeof rate, "%.0f GB/s", cs.bytes / med / 1e6);
            printf("%-72s %10.3f %12s\n", cs.name.c_str(), med, rate);
        }
        fflush(stdout);
        svg_gallocr_free(ga);
        svg_graph_free(g);
        svg_context_free(ctx);
    }
    svg_backend_free(be);
    return failures ? 1 : 0;
}
