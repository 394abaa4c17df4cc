// Device check and benchmark of the tensor-core flash attention
// (cuda/cuda-flash.cu). Needs a CUDA device; about 10 s on an H100.
//
//   nvcc -std=c++17 -O3 -gencode arch=compute_90a,code=sm_90a -DSVG_USE_CUDA -I. \
//        bench/flash-check.cu cuda/*.cu src/*.cpp src/cpu/*.cpp -lcublasLt -o devbin/flash-check
//   devbin/flash-check
//
// 1. Parity: D ∈ {64, 128} × {full, causal} × {bf16, f16} × three shapes
//    (odd lengths; GQA with Lq > Lk, so causal rows with no key; a key mask
//    with one batch fully masked). Each case runs the svg_attention graph on
//    the CUDA backend (output poisoned first), then the flash kernel directly
//    (must report handled), once more with the shared memory of an A100 (its
//    tile shapes), all against the f32 CPU backend on the same rounded
//    inputs: relative L2 ≤ 2e-2 (inf: NaN/unwritten or not handled).
// 2. Speed: Wan2.1-1.3B at 480p, B=1 H=12 L=32760 D=128 bf16, full attention,
//    q/k/v permuted views of [B, L, H, D]; median of 10 after 3 warm-ups,
//    TFLOP/s = 4·B·H·L²·D / t; plus a spot check of 16 rows against f64.
//    The same at D=64 with H=24 (same width), and at D=128 with the tile
//    shape an A100 gets, for reference.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda/cuda-common.cuh"
#include "svg.h"

bool svg_cuda_flash_attention(svg_cuda_ctx &c, svg_tensor *dst, bool *handled);
bool svg_cuda_flash_attention_sm90(svg_cuda_ctx &c, svg_tensor *dst, bool *handled);

namespace {

// the kernel under test: argv[1] = mma (cuda-flash.cu) | sm90 (cuda-flash-sm90.cu)
bool (*flash_fn)(svg_cuda_ctx &, svg_tensor *, bool *) = svg_cuda_flash_attention;
bool test_small_smem = true;  // also run with an A100's shared memory (mma only)

#define CHECK_CUDA(x)                                                                          \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)
#define CHECK_SVG(x)                                                                              \
    do {                                                                                          \
        if (!(x)) {                                                                               \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #x, svg_last_error()); \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

struct Case {
    int64_t B, H, Hkv, Lq, Lk, D;
    bool causal;
    int mask;  // 0 none, 1 f32, 2 i32
    bool view; // q/k/v as permuted views of [B, L, H, D]
    enum svg_type t;
};

std::string case_name(const Case &c) {
    char buf[160];
    snprintf(buf, sizeof buf, "%-4s D%-3lld B%lld H%lld/%lld Lq%-3lld Lk%-3lld %-6s %-8s %s", svg_type_name(c.t),
             (long long)c.D, (long long)c.B, (long long)c.H, (long long)c.Hkv, (long long)c.Lq, (long long)c.Lk,
             c.causal ? "causal" : "full", c.mask == 1 ? "mask-f32" : c.mask == 2 ? "mask-i32" : "", c.view ? "view" : "contig");
    return buf;
}

struct Graph {
    svg_tensor *q, *k, *v, *mask, *out;  // q/k/v: the leaves (before the permute)
};

// q/k/v leaves of type t (or [B, L, H, D] bases when c.view), mask, attention
Graph build(svg_context *ctx, const Case &c, enum svg_type t) {
    Graph g{};
    svg_tensor *q, *k, *v;
    if (c.view) {
        const int p[4] = {0, 2, 1, 3};
        g.q = svg_new_tensor_4d(ctx, t, c.B, c.Lq, c.H, c.D);
        g.k = svg_new_tensor_4d(ctx, t, c.B, c.Lk, c.Hkv, c.D);
        g.v = svg_new_tensor_4d(ctx, t, c.B, c.Lk, c.Hkv, c.D);
        q = svg_permute(ctx, g.q, p);
        k = svg_permute(ctx, g.k, p);
        v = svg_permute(ctx, g.v, p);
    } else {
        q = g.q = svg_new_tensor_4d(ctx, t, c.B, c.H, c.Lq, c.D);
        k = g.k = svg_new_tensor_4d(ctx, t, c.B, c.Hkv, c.Lk, c.D);
        v = g.v = svg_new_tensor_4d(ctx, t, c.B, c.Hkv, c.Lk, c.D);
    }
    g.mask = c.mask ? svg_new_tensor_2d(ctx, c.mask == 1 ? SVG_TYPE_F32 : SVG_TYPE_I32, c.B, c.Lk) : nullptr;
    g.out = svg_attention(ctx, q, k, v, nullptr, g.mask, 1.f / std::sqrt((float)c.D), c.causal);
    CHECK_SVG(g.out);
    return g;
}

std::vector<float> rounded(size_t n, enum svg_type t, std::mt19937 &rng, float amp) {
    std::uniform_real_distribution<float> d(-amp, amp);
    std::vector<float> v(n);
    for (float &x : v) x = d(rng);
    std::vector<uint16_t> tmp(n);
    const svg_type_traits *tr = svg_type_traits_of(t);
    tr->from_float(v.data(), tmp.data(), (int64_t)n);
    tr->to_float(tmp.data(), v.data(), (int64_t)n);
    return v;
}

void set_mask(svg_tensor *m, const std::vector<float> &v) {
    if (m->type == SVG_TYPE_I32) {
        std::vector<int32_t> iv(v.begin(), v.end());
        CHECK_SVG(svg_tensor_set(m, iv.data(), 0, iv.size() * 4));
    } else {
        CHECK_SVG(svg_tensor_set_f32(m, v.data(), (int64_t)v.size()));
    }
}

double rel_l2(const std::vector<float> &a, const std::vector<float> &ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); i++) {
        if (!std::isfinite(a[i])) return INFINITY;
        num += ((double)a[i] - ref[i]) * ((double)a[i] - ref[i]);
        den += (double)ref[i] * ref[i];
    }
    return std::sqrt(num / std::max(den, 1e-30));
}

void poison(svg_tensor *t) {
    std::vector<uint8_t> nan(svg_nbytes(t), 0xff);
    CHECK_SVG(svg_tensor_set(t, nan.data(), 0, nan.size()));
}

// One parity case; returns true on PASS.
bool run_case(const Case &c, svg_backend *cuda, svg_cuda_ctx &fc, uint32_t seed) {
    std::mt19937 rng(seed);
    // scores of a few units so the softmax is neither flat nor one-hot
    const float amp = 2.f * std::pow((float)c.D, 0.25f) / std::sqrt(3.f) * 0.75f;
    const std::vector<float> qv = rounded((size_t)(c.B * c.H * c.Lq * c.D), c.t, rng, amp);
    const std::vector<float> kv = rounded((size_t)(c.B * c.Hkv * c.Lk * c.D), c.t, rng, amp);
    const std::vector<float> vv = rounded((size_t)(c.B * c.Hkv * c.Lk * c.D), c.t, rng, 1.f);
    std::vector<float> mv((size_t)(c.B * c.Lk));
    for (size_t i = 0; i < mv.size(); i++) {
        const int64_t b = (int64_t)i / c.Lk;
        mv[i] = (c.B > 1 && b == c.B - 1) ? 0.f : (rng() % 3 != 0 ? (float)(1 + rng() % 3) : 0.f);
    }

    // CPU reference in f32
    svg_context *cctx = svg_context_new(false);
    Graph rg = build(cctx, c, SVG_TYPE_F32);
    CHECK_SVG(svg_tensor_set_f32(rg.q, qv.data(), (int64_t)qv.size()));
    CHECK_SVG(svg_tensor_set_f32(rg.k, kv.data(), (int64_t)kv.size()));
    CHECK_SVG(svg_tensor_set_f32(rg.v, vv.data(), (int64_t)vv.size()));
    if (rg.mask) set_mask(rg.mask, mv);
    svg_graph *cg = svg_graph_new(cctx);
    CHECK_SVG(svg_graph_build(cg, rg.out));
    svg_backend *cpu = svg_backend_cpu_new(0);
    CHECK_SVG(svg_backend_graph_compute(cpu, cg));
    std::vector<float> ref((size_t)svg_nelements(rg.out));
    CHECK_SVG(svg_tensor_get_f32(rg.out, ref.data(), (int64_t)ref.size()));
    svg_backend_free(cpu);
    svg_graph_free(cg);
    svg_context_free(cctx);

    // CUDA: the graph, then the flash kernel alone
    svg_context *ctx = svg_context_new(true);
    Graph g = build(ctx, c, c.t);
    svg_set_output(g.out);
    svg_graph *gg = svg_graph_new(ctx);
    svg_gallocr *ga = svg_gallocr_new(cuda);
    CHECK_SVG(svg_graph_build(gg, g.out) && svg_gallocr_alloc_graph(ga, gg));
    CHECK_SVG(svg_tensor_set_f32(g.q, qv.data(), (int64_t)qv.size()));
    CHECK_SVG(svg_tensor_set_f32(g.k, kv.data(), (int64_t)kv.size()));
    CHECK_SVG(svg_tensor_set_f32(g.v, vv.data(), (int64_t)vv.size()));
    if (g.mask) set_mask(g.mask, mv);
    std::vector<float> got(ref.size());
    poison(g.out);
    CHECK_SVG(svg_backend_graph_compute(cuda, gg));
    CHECK_SVG(svg_tensor_get_f32(g.out, got.data(), (int64_t)got.size()));
    const double e_graph = rel_l2(got, ref);
    bool pass = e_graph <= 2e-2;
    // the flash kernel alone: with this device's shared memory, then limited
    // to an A100's 163 KB (the tile shapes chosen there)
    double e_flash[2];
    e_flash[1] = 0;
    for (int i = 0; i < (test_small_smem ? 2 : 1); i++) {
        svg_cuda_ctx fci = fc;
        if (i == 1) fci.smem_optin = std::min<size_t>(fc.smem_optin, 166912);
        poison(g.out);
        bool handled = false;
        CHECK_SVG(flash_fn(fci, g.out, &handled));
        CHECK_CUDA(cudaStreamSynchronize(fci.stream));
        CHECK_SVG(svg_tensor_get_f32(g.out, got.data(), (int64_t)got.size()));
        e_flash[i] = handled ? rel_l2(got, ref) : INFINITY;  // not handled: FAIL
        pass = pass && e_flash[i] <= 2e-2;
    }
    svg_gallocr_free(ga);
    svg_graph_free(gg);
    svg_context_free(ctx);
    printf("%s  %s  graph %.2e  flash %.2e  flash@163KB %.2e\n", pass ? "PASS" : "FAIL", case_name(c).c_str(), e_graph,
           e_flash[0], e_flash[1]);
    return pass;
}

// uniform [-amp, amp) from a hash of the index
__global__ void fill_bf16(__nv_bfloat16 *p, int64_t n, uint32_t seed, float amp) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        uint32_t x = (uint32_t)i * 0x9E3779B1u ^ seed;
        x ^= x >> 16;
        x *= 0x7feb352du;
        x ^= x >> 15;
        x *= 0x846ca68bu;
        x ^= x >> 16;
        p[i] = __float2bfloat16((x >> 8) * (2.f / 16777216.f) * amp - amp);
    }
}

struct BenchResult {
    double ms, tflops, spot_err;
    bool ok;
};

BenchResult bench_wan(svg_backend *cuda, svg_cuda_ctx &fc, int64_t D, int64_t H) {
    const Case c{1, H, H, 32760, 32760, D, false, 0, true, SVG_TYPE_BF16};
    svg_context *ctx = svg_context_new(true);
    Graph g = build(ctx, c, c.t);
    svg_set_output(g.out);
    svg_graph *gg = svg_graph_new(ctx);
    svg_gallocr *ga = svg_gallocr_new(cuda);
    CHECK_SVG(svg_graph_build(gg, g.out) && svg_gallocr_alloc_graph(ga, gg));
    const int64_t n = c.B * c.Lq * c.H * c.D;
    const float amp = 1.5f;
    svg_tensor *leaf[3] = {g.q, g.k, g.v};
    for (int i = 0; i < 3; i++) fill_bf16<<<1024, 256, 0, fc.stream>>>((__nv_bfloat16 *)leaf[i]->data, n, 1234u + 77u * i, i == 2 ? 1.f : amp);
    CHECK_CUDA(cudaGetLastError());
    poison(g.out);  // on the backend's stream, after which the fills are waited for below
    CHECK_CUDA(cudaStreamSynchronize(fc.stream));

    bool handled = false;
    cudaEvent_t e0, e1;
    CHECK_CUDA(cudaEventCreate(&e0));
    CHECK_CUDA(cudaEventCreate(&e1));
    std::vector<float> times;
    for (int it = 0; it < 13; it++) {
        CHECK_CUDA(cudaEventRecord(e0, fc.stream));
        CHECK_SVG(flash_fn(fc, g.out, &handled));
        CHECK_CUDA(cudaEventRecord(e1, fc.stream));
        CHECK_CUDA(cudaEventSynchronize(e1));
        float ms = 0;
        CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
        if (it >= 3) times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    BenchResult r{};
    r.ms = 0.5 * (times[4] + times[5]);
    r.tflops = 4.0 * c.B * c.H * (double)c.Lq * c.Lk * c.D / (r.ms * 1e-3) / 1e12;

    // spot check 16 (head, row) pairs against f64 on the host
    std::vector<uint16_t> hq(n), hk(n), hv(n), ho(n);
    CHECK_SVG(svg_tensor_get(g.q, hq.data(), 0, n * 2) && svg_tensor_get(g.k, hk.data(), 0, n * 2) &&
              svg_tensor_get(g.v, hv.data(), 0, n * 2) && svg_tensor_get(g.out, ho.data(), 0, n * 2));
    auto bf = [](uint16_t x) { uint32_t u = (uint32_t)x << 16; float f; memcpy(&f, &u, 4); return (double)f; };
    double num = 0, den = 0;
    std::mt19937 rng(7);
    std::vector<double> s(c.Lk), o(c.D);
    for (int t = 0; t < 16; t++) {
        const int64_t h = rng() % c.H, i = t == 0 ? c.Lq - 1 : rng() % c.Lq;
        double mx = -INFINITY;
        for (int64_t j = 0; j < c.Lk; j++) {
            double d = 0;
            for (int64_t e = 0; e < c.D; e++) d += bf(hq[(i * c.H + h) * c.D + e]) * bf(hk[(j * c.H + h) * c.D + e]);
            s[j] = d / std::sqrt((double)c.D);
            mx = std::max(mx, s[j]);
        }
        double l = 0;
        std::fill(o.begin(), o.end(), 0.0);
        for (int64_t j = 0; j < c.Lk; j++) {
            const double p = std::exp(s[j] - mx);
            l += p;
            for (int64_t e = 0; e < c.D; e++) o[e] += p * bf(hv[(j * c.H + h) * c.D + e]);
        }
        for (int64_t e = 0; e < c.D; e++) {
            const double ref = o[e] / l, got = bf(ho[(i * c.H + h) * c.D + e]);
            num += (got - ref) * (got - ref);
            den += ref * ref;
        }
    }
    r.spot_err = std::isfinite(num) ? std::sqrt(num / den) : INFINITY;
    r.ok = handled && r.spot_err <= 2e-2;
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    svg_gallocr_free(ga);
    svg_graph_free(gg);
    svg_context_free(ctx);
    return r;
}

}  // namespace

int main(int argc, char **argv) {
    const std::string path = argc > 1 ? argv[1] : "mma";
    if (path == "sm90") {
        flash_fn = svg_cuda_flash_attention_sm90;
        test_small_smem = false;
    } else if (path != "mma") {
        fprintf(stderr, "usage: flash-check [mma|sm90]\n");
        return 2;
    }
    if (svg_cuda_device_count() == 0) {
        printf("flash-check: no CUDA device (%s)\n", svg_last_error());
        return 1;
    }
    svg_backend *cuda = svg_backend_cuda_new(0);
    CHECK_SVG(cuda);
    printf("device: %s\n", svg_backend_name(cuda));
    cudaDeviceProp prop;
    CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
    svg_cuda_ctx fc;
    fc.device = 0;
    fc.n_sm = prop.multiProcessorCount;
    fc.cc_major = prop.major;
    fc.cc_minor = prop.minor;
    fc.smem_optin = prop.sharedMemPerBlockOptin;
    CHECK_CUDA(cudaStreamCreateWithFlags(&fc.stream, cudaStreamNonBlocking));

    struct Shape { int64_t B, H, Hkv, Lq, Lk; int mask; bool view; };
    const Shape shapes[] = {
        {2, 3, 3, 77, 131, 0, true},   // odd lengths, several key tiles and a tail
        {1, 4, 2, 200, 150, 0, true},  // GQA; causal rows 0..49 see no key
        {2, 2, 1, 129, 190, 1, false}, // key mask (batch 1 fully masked), contiguous layout
    };
    int n_pass = 0, n_case = 0;
    uint32_t seed = 1;
    for (int64_t D : {64, 128})
        for (bool causal : {false, true})
            for (enum svg_type t : {SVG_TYPE_BF16, SVG_TYPE_F16})
                for (const Shape &s : shapes) {
                    const int mask = s.mask ? (t == SVG_TYPE_BF16 ? 1 : 2) : 0;
                    const Case c{s.B, s.H, s.Hkv, s.Lq, s.Lk, D, causal, mask, s.view, t};
                    n_pass += run_case(c, cuda, fc, seed++);
                    n_case++;
                }

    svg_cuda_ctx fc163 = fc;  // an A100's shared memory: its tile shapes
    fc163.smem_optin = std::min<size_t>(fc.smem_optin, 166912);
    const BenchResult r = bench_wan(cuda, fc, 128, 12), r64 = bench_wan(cuda, fc, 64, 24),
                      r163 = test_small_smem ? bench_wan(cuda, fc163, 128, 12) : r;
    printf("%s  wan-1.3B 480p  B1 H12 L32760 D128 bf16 full: %.2f ms, %.1f TFLOP/s (spot rel L2 %.2e)\n",
           r.ok ? "PASS" : "FAIL", r.ms, r.tflops, r.spot_err);
    printf("%s  same tokens    B1 H24 L32760 D64  bf16 full: %.2f ms, %.1f TFLOP/s (spot rel L2 %.2e)\n",
           r64.ok ? "PASS" : "FAIL", r64.ms, r64.tflops, r64.spot_err);
    printf("%s  A100 tiles     B1 H12 L32760 D128 bf16 full: %.2f ms, %.1f TFLOP/s (spot rel L2 %.2e)\n",
           r163.ok ? "PASS" : "FAIL", r163.ms, r163.tflops, r163.spot_err);
    const bool all = n_pass == n_case && r.ok && r64.ok && r163.ok;
    printf("flash-check %s: %s, %d/%d parity cases pass, wan480p %.2f ms = %.1f TFLOP/s\n", path.c_str(), all ? "OK" : "FAILED", n_pass,
           n_case, r.ms, r.tflops);
    cudaStreamDestroy(fc.stream);
    svg_backend_free(cuda);
    return all ? 0 : 1;
}
