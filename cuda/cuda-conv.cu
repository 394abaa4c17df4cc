// CONV3D: y[b, co, od, oh, ow] = bias[co] + Σ_{ci,kd,kh,kw} w[co, ci, kd, kh, kw] · x[b, ci, od·sd − pd + kd, ...]
// with zeros outside x.
//
// Stride 1 (every convolution of the Wan VAE decoder): shifted GEMMs on
// cuBLASLt. x is zero-padded into xp [Cin, Dp, Hp, Wp] (the GEMM type: x's
// own). With Vp = Dp·Hp·Wp and the linear index q = d·Hp·Wp + h·Wp + w of
// the padded grid, output (od, oh, ow) sits at q(od, oh, ow) and
//     Y[co, q] = Σ_taps Σ_ci W_tap[co, ci] · xp[ci, q + kd·Hp·Wp + kh·Wp + kw]
// so each tap (kd, kh, kw) is one GEMM whose input is xp shifted by the tap's
// offset: a Cin × N matrix with row stride Vp, N = q(Do−1, Ho−1, Wo−1) + 1
// (never read past xp). Y (f32, Cout × N) accumulates over the taps (β = 1
// after the first); a gather adds the bias and drops the q that are not
// outputs (the padded columns and rows: a few percent at video sizes).
// In cuBLASLt's column-major terms Yᵀ (N × Cout, ld N) = Xᵀ_tap (N × Cin,
// ld Vp) · Wᵀ_tap (Cin × Cout, ld Cin), W laid out per tap [tap][co][ci].
// Scratch per batch item: xp + the taps' weights (x's type) + Y (f32).
//
// Otherwise (strided: the encoder's downsampling) the direct kernel: one
// thread per output element, any float types and strides. SVG_CONV=direct
// forces it everywhere, so the parity suite can check both.
#include "cuda-common.cuh"

#include <cstdlib>
#include <string>

namespace {

struct conv_args {
    const char *x, *w, *bias;
    int tx, tw, tb;
    int64_t B, Cin, D, H, W, Cout, KD, KH, KW, Do, Ho, Wo;
    int64_t xs[5], ws[5], bs;
    int sd, sh, sw, pd, ph, pw;
};

template <typename TD>
__global__ void conv3d_kernel(TD *y, conv_args a, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i;
        const int64_t ow = r % a.Wo; r /= a.Wo;
        const int64_t oh = r % a.Ho; r /= a.Ho;
        const int64_t od = r % a.Do; r /= a.Do;
        const int64_t co = r % a.Cout;
        const int64_t b = r / a.Cout;
        float acc = a.bias ? svg_ld_any(a.bias + co * a.bs, a.tb) : 0.f;
        for (int64_t ci = 0; ci < a.Cin; ci++)
            for (int64_t kd = 0; kd < a.KD; kd++) {
                const int64_t id = od * a.sd - a.pd + kd;
                if (id < 0 || id >= a.D) continue;
                for (int64_t kh = 0; kh < a.KH; kh++) {
                    const int64_t ih = oh * a.sh - a.ph + kh;
                    if (ih < 0 || ih >= a.H) continue;
                    const char *xr = a.x + b * a.xs[0] + ci * a.xs[1] + id * a.xs[2] + ih * a.xs[3];
                    const char *wr = a.w + co * a.ws[0] + ci * a.ws[1] + kd * a.ws[2] + kh * a.ws[3];
                    for (int64_t kw = 0; kw < a.KW; kw++) {
                        const int64_t iw = ow * a.sw - a.pw + kw;
                        if (iw < 0 || iw >= a.W) continue;
                        acc += svg_ld_any(wr + kw * a.ws[4], a.tw) * svg_ld_any(xr + iw * a.xs[4], a.tx);
                    }
                }
            }
        svg_st(y + i, acc);
    }
}

// xp[ci, dp, hp, wp] = x[b, ci, dp − pd, hp − ph, wp − pw] (0 outside), in T
template <typename T>
__global__ void conv_pad_kernel(T *xp, conv_args a, int64_t b, int64_t Dp, int64_t Hp, int64_t Wp) {
    const int64_t n = a.Cin * Dp * Hp * Wp;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i;
        const int64_t wp = r % Wp; r /= Wp;
        const int64_t hp = r % Hp; r /= Hp;
        const int64_t dp = r % Dp;
        const int64_t ci = r / Dp;
        const int64_t d = dp - a.pd, h = hp - a.ph, w = wp - a.pw;
        float v = 0.f;
        if (d >= 0 && d < a.D && h >= 0 && h < a.H && w >= 0 && w < a.W)
            v = svg_ld_any(a.x + b * a.xs[0] + ci * a.xs[1] + d * a.xs[2] + h * a.xs[3] + w * a.xs[4], a.tx);
        svg_st(xp + i, v);
    }
}

// wt[tap, co, ci] = w[co, ci, kd, kh, kw] in T, tap = (kd·KH + kh)·KW + kw
template <typename T>
__global__ void conv_taps_kernel(T *wt, conv_args a) {
    const int64_t taps = a.KD * a.KH * a.KW, n = taps * a.Cout * a.Cin;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t ci = i % a.Cin, co = (i / a.Cin) % a.Cout, tap = i / (a.Cin * a.Cout);
        const int64_t kw = tap % a.KW, kh = (tap / a.KW) % a.KH, kd = tap / (a.KW * a.KH);
        svg_st(wt + i, svg_ld_any(a.w + co * a.ws[0] + ci * a.ws[1] + kd * a.ws[2] + kh * a.ws[3] + kw * a.ws[4], a.tw));
    }
}

// y[b, co, od, oh, ow] = Y[co, q(od, oh, ow)] + bias[co]
template <typename TD>
__global__ void conv_gather_kernel(TD *y, const float *Y, conv_args a, int64_t b, int64_t Hp, int64_t Wp, int64_t N) {
    const int64_t n = a.Cout * a.Do * a.Ho * a.Wo;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i;
        const int64_t ow = r % a.Wo; r /= a.Wo;
        const int64_t oh = r % a.Ho; r /= a.Ho;
        const int64_t od = r % a.Do;
        const int64_t co = r / a.Do;
        const float v = Y[co * N + (od * Hp + oh) * Wp + ow] + (a.bias ? svg_ld_any(a.bias + co * a.bs, a.tb) : 0.f);
        svg_st(y + b * n + i, v);
    }
}

#define LT_CHECK(expr)                                                                                                  \
    do {                                                                                                                \
        const cublasStatus_t st_ = (expr);                                                                              \
        if (st_ != CUBLAS_STATUS_SUCCESS) return svg_err(false, "conv3d: cuBLASLt %s: %s", #expr, cublasLtGetStatusString(st_)); \
    } while (0)

// The shifted-GEMM path for a stride-1 node in T (x's type); *handled = false
// when cuBLASLt has no algorithm for a tap's GEMM (nothing left half done:
// the first tap is the one that would fail).
template <typename T>
bool conv3d_gemm(svg_cuda_ctx &c, svg_tensor *dst, const conv_args &a, cudaDataType type, bool *handled) {
    const int64_t Dp = a.D + a.pd + dst->op_params[4], Hp = a.H + a.ph + dst->op_params[6], Wp = a.W + a.pw + dst->op_params[8];
    const int64_t Vp = Dp * Hp * Wp, taps = a.KD * a.KH * a.KW;
    const int64_t N = ((a.Do - 1) * Hp + (a.Ho - 1)) * Wp + a.Wo;
    if (N > INT32_MAX || Vp > INT32_MAX || a.Cin > INT32_MAX || a.Cout > INT32_MAX) return true;
    const size_t es = sizeof(T), xp_bytes = ((size_t)a.Cin * Vp * es + 255) / 256 * 256;
    const size_t wt_bytes = ((size_t)taps * a.Cout * a.Cin * es + 255) / 256 * 256, y_bytes = (size_t)a.Cout * N * sizeof(float);
    if (!c.ensure_scratch(xp_bytes + wt_bytes + y_bytes))
        return svg_err(false, "conv3d %s: scratch of %.2f GiB (padded input, weights, f32 result) does not fit", svg_shape_string(dst).c_str(),
                       (xp_bytes + wt_bytes + y_bytes) / 1073741824.0);
    T *xp = (T *)c.scratch, *wt = (T *)((char *)c.scratch + xp_bytes);
    float *Y = (float *)((char *)c.scratch + xp_bytes + wt_bytes);

    cublasLtMatmulDescOpaque_t op_mem;
    cublasLtMatrixLayoutOpaque_t lx_mem, lw_mem, ly_mem;
    cublasLtMatmulDesc_t op = &op_mem;
    cublasLtMatrixLayout_t lx = &lx_mem, lw = &lw_mem, ly = &ly_mem;
    const int32_t no_trans = CUBLAS_OP_N;
    LT_CHECK(cublasLtMatmulDescInit(op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    LT_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &no_trans, sizeof no_trans));
    LT_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &no_trans, sizeof no_trans));
    LT_CHECK(cublasLtMatrixLayoutInit(lx, type, (uint64_t)N, (uint64_t)a.Cin, Vp));
    LT_CHECK(cublasLtMatrixLayoutInit(lw, type, (uint64_t)a.Cin, (uint64_t)a.Cout, a.Cin));
    LT_CHECK(cublasLtMatrixLayoutInit(ly, CUDA_R_32F, (uint64_t)N, (uint64_t)a.Cout, N));
    // one algorithm for every tap: the shifted inputs differ in alignment, so
    // ask for the weakest one any tap has (an element)
    cublasLtMatmulPreferenceOpaque_t pref_mem;
    cublasLtMatmulPreference_t pref = &pref_mem;
    const uint64_t ws = c.gemm_workspace_size;
    const uint32_t elem = (uint32_t)es;
    LT_CHECK(cublasLtMatmulPreferenceInit(pref));
    LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &elem, sizeof elem));
    LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &elem, sizeof elem));
    cublasLtMatmulHeuristicResult_t res{};
    int found = 0;
    if (cublasLtMatmulAlgoGetHeuristic(c.cublaslt, op, lx, lw, ly, ly, pref, 1, &res, &found) != CUBLAS_STATUS_SUCCESS || found < 1)
        return true;
    *handled = true;

    conv_taps_kernel<T><<<svg_cuda_blocks(taps * a.Cout * a.Cin, 256), 256, 0, c.stream>>>(wt, a);
    SVG_CUDA_LAUNCHED();
    for (int64_t b = 0; b < a.B; b++) {
        conv_pad_kernel<T><<<svg_cuda_blocks(a.Cin * Vp, 256), 256, 0, c.stream>>>(xp, a, b, Dp, Hp, Wp);
        SVG_CUDA_LAUNCHED();
        for (int64_t tap = 0; tap < taps; tap++) {
            const int64_t kw = tap % a.KW, kh = (tap / a.KW) % a.KH, kd = tap / (a.KW * a.KH);
            const T *xs = xp + (kd * Hp + kh) * Wp + kw;
            const T *ws_tap = wt + tap * a.Cout * a.Cin;
            const float one = 1.f, beta = tap ? 1.f : 0.f;
            const cublasStatus_t st = cublasLtMatmul(c.cublaslt, op, &one, xs, lx, ws_tap, lw, &beta, Y, ly, Y, ly, &res.algo,
                                                     c.gemm_workspace, c.gemm_workspace_size, c.stream);
            if (st != CUBLAS_STATUS_SUCCESS)
                return svg_err(false, "conv3d %s: cuBLASLt GEMM of tap %lld failed: %s", svg_shape_string(dst).c_str(), (long long)tap,
                               cublasLtGetStatusString(st));
        }
        const int64_t n = a.Cout * a.Do * a.Ho * a.Wo;
        switch (dst->type) {
            case SVG_TYPE_F16: conv_gather_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__half *)dst->data, Y, a, b, Hp, Wp, N); break;
            case SVG_TYPE_BF16: conv_gather_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, Y, a, b, Hp, Wp, N); break;
            default: conv_gather_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((float *)dst->data, Y, a, b, Hp, Wp, N); break;
        }
        SVG_CUDA_LAUNCHED();
    }
    return true;
}

}  // namespace

bool svg_cuda_conv3d(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *w = dst->src[1], *bias = dst->src[2];
    conv_args a{};
    a.x = (const char *)x->data;
    a.w = (const char *)w->data;
    a.bias = bias ? (const char *)bias->data : nullptr;
    a.tx = x->type;
    a.tw = w->type;
    a.tb = bias ? bias->type : 0;
    a.B = x->ne[0]; a.Cin = x->ne[1]; a.D = x->ne[2]; a.H = x->ne[3]; a.W = x->ne[4];
    a.Cout = w->ne[0]; a.KD = w->ne[2]; a.KH = w->ne[3]; a.KW = w->ne[4];
    a.Do = dst->ne[2]; a.Ho = dst->ne[3]; a.Wo = dst->ne[4];
    for (int i = 0; i < 5; i++) {
        a.xs[i] = (int64_t)x->nb[i];
        a.ws[i] = (int64_t)w->nb[i];
    }
    a.bs = bias ? (int64_t)bias->nb[bias->n_dims - 1] : 0;
    const int *p = dst->op_params;
    a.sd = p[0]; a.sh = p[1]; a.sw = p[2]; a.pd = p[3]; a.ph = p[5]; a.pw = p[7];
    const int64_t n = svg_nelements(dst);
    if (n == 0) return true;
    const char *env = getenv("SVG_CONV");
    if (a.sd == 1 && a.sh == 1 && a.sw == 1 && !(env && std::string(env) == "direct") && svg_is_contiguous(dst)) {
        bool handled = false;
        bool ok = true;
        switch (x->type) {
            case SVG_TYPE_F16: ok = conv3d_gemm<__half>(c, dst, a, CUDA_R_16F, &handled); break;
            case SVG_TYPE_BF16: ok = conv3d_gemm<__nv_bfloat16>(c, dst, a, CUDA_R_16BF, &handled); break;
            case SVG_TYPE_F32: ok = conv3d_gemm<float>(c, dst, a, CUDA_R_32F, &handled); break;
            default: break;
        }
        if (!ok || handled) return ok;
    }
    switch (dst->type) {
        case SVG_TYPE_F16: conv3d_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__half *)dst->data, a, n); break;
        case SVG_TYPE_BF16: conv3d_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, a, n); break;
        default: conv3d_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((float *)dst->data, a, n); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}
