// Device check and benchmark of the quantized-weight tensor-core GEMM
// (cuda/cuda-matmul-q.cu), through the public API only: y = svg_linear(x, w, bias)
// with x bf16/f16 and w q8_0/q4_0 on the CUDA backend.
//
//   nvcc -std=c++17 -O3 -gencode arch=compute_90a,code=sm_90a -DSVG_USE_CUDA -I. -x cu \
//        bench/matmul-q-check.cpp cuda/*.cu src/*.cpp src/cpu/*.cpp -lcublasLt -o devbin/matmul-q-check
//   devbin/matmul-q-check            (about 25 s on an H100, 3 GB of device memory)
//
// 1. Parity: {q8_0, q4_0} × {bf16, f16} × shapes (odd tails, a single row, a
//    strided x, a batched x), with and without bias. The CUDA output is
//    poisoned (NaN bytes) first and compared with the CPU backend in f32 on
//    the same rounded x, the same quant bytes and the same bias:
//    relative L2 ≤ 2e-2 → PASS.
// 2. Speed: Wan2.1 shapes (M=32760 K=1536 N=8960; M=75600 K=5120 N=13824),
//    bf16 x, no bias, for q8_0, q4_0 and a dense bf16 weight (cuBLAS);
//    median of 10 after 2 warm-ups, TFLOP/s = 2·M·N·K / t. Each quantized
//    run is spot-checked at 64 random outputs against an f64 host dot product.
// Exit status 0 only if every check passes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "svg.h"

namespace {

#define CHECK_SVG(x)                                                                              \
    do {                                                                                          \
        if (!(x)) {                                                                               \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #x, svg_last_error()); \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

// ---- host data

std::vector<float> uniform(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float &x : v) x = d(rng);
    return v;
}

// round through a float type (f32: unchanged)
void round_to(std::vector<float> &v, enum svg_type t) {
    if (t == SVG_TYPE_F32) return;
    std::vector<uint16_t> tmp(v.size());
    svg_type_traits_of(t)->from_float(v.data(), tmp.data(), (int64_t)v.size());
    svg_type_traits_of(t)->to_float(tmp.data(), v.data(), (int64_t)v.size());
}

std::vector<uint8_t> encode(const std::vector<float> &v, enum svg_type t) {
    std::vector<uint8_t> b(svg_row_size(t, (int64_t)v.size()));
    svg_type_traits_of(t)->from_float(v.data(), b.data(), (int64_t)v.size());
    return b;
}

double rel_l2(const std::vector<float> &a, const std::vector<double> &ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); i++) {
        if (!std::isfinite(a[i])) return INFINITY;
        num += (a[i] - ref[i]) * (a[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return std::sqrt(num / (den > 0 ? den : 1));
}

// ---- parity

struct Case {
    enum svg_type wt, act, bias;  // bias SVG_TYPE_COUNT: none
    int64_t B, M, K, N;           // x is [B, M, K] (B = 1: [M, K])
    int64_t pad;                  // x is a [.., :K] slice of rows of K + pad
};

struct Inputs {
    std::vector<float> x;     // [B·M, K + pad], rounded to the activation type
    std::vector<uint8_t> w;   // quant bytes
    std::vector<float> bias;  // rounded to the bias type
};

// y = linear(x, w, bias) in ctx; x activations of type `act`, bias of type `bt`
svg_tensor *build(svg_context *ctx, const Case &c, enum svg_type act, enum svg_type bt, svg_tensor **leafs) {
    const int64_t ne[3] = {c.B, c.M, c.K + c.pad};
    svg_tensor *xf = svg_new_tensor(ctx, act, c.B > 1 ? 3 : 2, c.B > 1 ? ne : ne + 1);
    svg_tensor *x = c.pad ? svg_slice(ctx, xf, -1, 0, c.K, 1) : xf;
    svg_tensor *w = svg_new_tensor_2d(ctx, c.wt, c.N, c.K);
    svg_tensor *b = c.bias != SVG_TYPE_COUNT ? svg_new_tensor_1d(ctx, bt, c.N) : nullptr;
    leafs[0] = xf;
    leafs[1] = w;
    leafs[2] = b;
    return svg_linear(ctx, x, w, b);
}

void set_inputs(svg_tensor **leafs, const Inputs &in) {
    CHECK_SVG(svg_tensor_set_f32(leafs[0], in.x.data(), (int64_t)in.x.size()));
    CHECK_SVG(svg_tensor_set(leafs[1], in.w.data(), 0, in.w.size()));
    if (leafs[2]) CHECK_SVG(svg_tensor_set_f32(leafs[2], in.bias.data(), (int64_t)in.bias.size()));
}

std::vector<float> run_cpu(const Case &c, const Inputs &in) {
    svg_context *ctx = svg_context_new(false);
    svg_tensor *leafs[3];
    svg_tensor *y = build(ctx, c, SVG_TYPE_F32, SVG_TYPE_F32, leafs);
    CHECK_SVG(y);
    set_inputs(leafs, in);
    svg_graph *g = svg_graph_new(ctx);
    CHECK_SVG(svg_graph_build(g, y));
    svg_backend *be = svg_backend_cpu_new(0);
    CHECK_SVG(svg_backend_graph_compute(be, g));
    std::vector<float> out((size_t)svg_nelements(y));
    CHECK_SVG(svg_tensor_get_f32(y, out.data(), (int64_t)out.size()));
    svg_backend_free(be);
    svg_graph_free(g);
    svg_context_free(ctx);
    return out;
}

std::vector<float> run_cuda(svg_backend *be, const Case &c, const Inputs &in) {
    svg_context *ctx = svg_context_new(true);
    svg_tensor *leafs[3];
    svg_tensor *y = build(ctx, c, c.act, c.bias, leafs);
    CHECK_SVG(y);
    svg_set_output(y);
    svg_graph *g = svg_graph_new(ctx);
    svg_gallocr *ga = svg_gallocr_new(be);
    CHECK_SVG(svg_graph_build(g, y) && svg_gallocr_alloc_graph(ga, g));
    std::vector<uint8_t> nan(svg_nbytes(y), 0xff);
    CHECK_SVG(svg_tensor_set(y, nan.data(), 0, nan.size()));
    set_inputs(leafs, in);
    CHECK_SVG(svg_backend_graph_compute(be, g));
    svg_backend_synchronize(be);
    std::vector<float> out((size_t)svg_nelements(y));
    CHECK_SVG(svg_tensor_get_f32(y, out.data(), (int64_t)out.size()));
    svg_gallocr_free(ga);
    svg_graph_free(g);
    svg_context_free(ctx);
    return out;
}

bool parity(svg_backend *be) {
    const enum svg_type none = SVG_TYPE_COUNT;
    struct Shape {
        int64_t B, M, K, N, pad;
        enum svg_type bias;  // SVG_TYPE_COUNT = none, SVG_TYPE_BF16 = the activation type
        const char *what;
    };
    const Shape shapes[] = {
        {1, 77, 96, 70, 0, SVG_TYPE_BF16, "odd M/N tails, bias of x's type"},
        {1, 300, 512, 257, 0, SVG_TYPE_F32, "odd N, f32 bias"},
        {1, 1, 4096, 64, 0, none, "one row, no bias"},
        {1, 77, 96, 70, 40, none, "x a strided slice (row stride 136)"},
        {2, 150, 256, 130, 0, SVG_TYPE_F32, "batched x [2, 150, K]"},
        {1, 513, 1536, 384, 0, none, "several M tiles, 48 k-steps"},
    };
    bool all = true;
    printf("== parity: CUDA vs CPU backend (f32), rel L2 <= 2e-2\n");
    uint32_t seed = 1;
    for (const Shape &s : shapes)
        for (enum svg_type wt : {SVG_TYPE_Q8_0, SVG_TYPE_Q4_0})
            for (enum svg_type act : {SVG_TYPE_BF16, SVG_TYPE_F16}) {
                const enum svg_type bt = s.bias == SVG_TYPE_BF16 ? act : s.bias;
                const Case c{wt, act, bt, s.B, s.M, s.K, s.N, s.pad};
                Inputs in;
                in.x = uniform((size_t)(s.B * s.M * (s.K + s.pad)), seed++);
                round_to(in.x, act);
                in.w = encode(uniform((size_t)(s.N * s.K), seed++), wt);
                if (bt != none) {
                    in.bias = uniform((size_t)s.N, seed++);
                    round_to(in.bias, bt);
                }
                const std::vector<float> ref = run_cpu(c, in), got = run_cuda(be, c, in);
                const double err = rel_l2(got, std::vector<double>(ref.begin(), ref.end()));
                const bool ok = err <= 2e-2;
                all &= ok;
                printf("  %-4s %-4s x[%lld,%lld,%lld] w[%lld,%lld] bias %-4s  %-36s rel_l2 %.2e  %s\n", svg_type_name(wt),
                       svg_type_name(act), (long long)s.B, (long long)s.M, (long long)s.K, (long long)s.N, (long long)s.K,
                       bt == none ? "-" : svg_type_name(bt), s.what, err, ok ? "PASS" : "FAIL");
            }
    return all;
}

// ---- speed

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// x [M, K] bf16 random in [-1, 1); w [N, K] of type wt. Returns the median ms,
// and for quantized w the rel L2 of 64 random outputs against f64 (else -1).
double bench(svg_backend *be, enum svg_type wt, int64_t M, int64_t K, int64_t N, double *spot) {
    svg_context *ctx = svg_context_new(true);
    svg_tensor *x = svg_new_tensor_2d(ctx, SVG_TYPE_BF16, M, K);
    svg_tensor *w = svg_new_tensor_2d(ctx, wt, N, K);
    svg_tensor *y = svg_linear(ctx, x, w, nullptr);
    CHECK_SVG(y);
    svg_set_output(y);
    svg_graph *g = svg_graph_new(ctx);
    svg_gallocr *ga = svg_gallocr_new(be);
    CHECK_SVG(svg_graph_build(g, y) && svg_gallocr_alloc_graph(ga, g));

    // inputs: x as bf16 bits, w quantized row by row from random floats
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    std::vector<uint16_t> xb((size_t)(M * K));
    for (uint16_t &v : xb) v = svg_fp32_to_bf16(d(rng));
    CHECK_SVG(svg_tensor_set(x, xb.data(), 0, xb.size() * 2));
    const size_t row = svg_row_size(wt, K);
    std::vector<uint8_t> wb(row * (size_t)N);
    std::vector<float> tmp((size_t)K);
    for (int64_t n = 0; n < N; n++) {
        for (float &v : tmp) v = d(rng);
        svg_type_traits_of(wt)->from_float(tmp.data(), wb.data() + row * n, K);
    }
    CHECK_SVG(svg_tensor_set(w, wb.data(), 0, wb.size()));

    std::vector<double> ms;
    for (int it = 0; it < 12; it++) {
        const double t0 = now_ms();
        CHECK_SVG(svg_backend_graph_compute(be, g));
        svg_backend_synchronize(be);
        if (it >= 2) ms.push_back(now_ms() - t0);
    }
    std::sort(ms.begin(), ms.end());

    *spot = -1;
    if (svg_type_traits_of(wt)->is_quantized) {
        std::vector<float> got, wf((size_t)K);
        std::vector<double> ref;
        for (int s = 0; s < 64; s++) {
            const int64_t m = rng() % M, n = rng() % N;
            svg_type_traits_of(wt)->to_float(wb.data() + row * n, wf.data(), K);
            double acc = 0;
            for (int64_t k = 0; k < K; k++) acc += (double)svg_bf16_to_fp32(xb[m * K + k]) * wf[k];
            uint16_t v;
            CHECK_SVG(svg_tensor_get(y, &v, (size_t)(m * N + n) * 2, 2));
            got.push_back(svg_bf16_to_fp32(v));
            ref.push_back(acc);
        }
        *spot = rel_l2(got, ref);
    }
    svg_gallocr_free(ga);
    svg_graph_free(g);
    svg_context_free(ctx);
    return ms[ms.size() / 2];
}

bool speed(svg_backend *be) {
    struct Shape {
        int64_t M, K, N;
        const char *what;
    };
    const Shape shapes[] = {
        {32760, 1536, 8960, "Wan2.1-1.3B FFN up, 480p 81 frames"},
        {75600, 5120, 13824, "Wan2.1-14B FFN up, 720p 81 frames"},
    };
    printf("\n== speed: x bf16 [M, K] @ w[N, K]^T, no bias; median of 10 after 2 warm-ups\n");
    printf("   target: quantized >= 60%% of the cuBLAS bf16 dense throughput\n");
    bool all = true;
    for (const Shape &s : shapes) {
        printf("  M=%lld K=%lld N=%lld (%s)\n", (long long)s.M, (long long)s.K, (long long)s.N, s.what);
        const double flop = 2.0 * s.M * s.N * s.K;
        double spot;
        const double dense_ms = bench(be, SVG_TYPE_BF16, s.M, s.K, s.N, &spot);
        printf("    %-20s %8.3f ms  %6.1f TFLOP/s\n", "bf16 dense (cuBLAS)", dense_ms, flop / dense_ms * 1e-9);
        for (enum svg_type wt : {SVG_TYPE_Q8_0, SVG_TYPE_Q4_0}) {
            const double t = bench(be, wt, s.M, s.K, s.N, &spot);
            const bool ok = spot <= 2e-2;
            all &= ok;
            printf("    %-20s %8.3f ms  %6.1f TFLOP/s  %5.1f%% of cuBLAS   spot-check rel_l2 %.2e %s\n", svg_type_name(wt), t,
                   flop / t * 1e-9, 100.0 * dense_ms / t, spot, ok ? "PASS" : "FAIL");
        }
    }
    return all;
}

}  // namespace

int main() {
    svg_backend *be = svg_backend_cuda_new(0);
    if (!be) {
        fprintf(stderr, "no CUDA backend: %s\n", svg_last_error());
        return 1;
    }
    printf("device: %s\n", svg_backend_name(be));
    const bool ok_parity = parity(be);
    const bool ok_speed = speed(be);
    printf("\n%s\n", ok_parity && ok_speed ? "ALL PASS" : "SOME FAILED");
    svg_backend_free(be);
    return ok_parity && ok_speed ? 0 : 1;
}
