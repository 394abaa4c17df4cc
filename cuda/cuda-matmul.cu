// MUL_MAT: y[..., m, n] = sum_k a[..., m, k] · b[..., n, k] (+ bias[n]).
// Dense weights of the activation's type go to cuBLAS (fp32 accumulation).
// bf16/f16 activations × q8_0/q4_0 weights go to the tensor-core kernel of
// cuda-matmul-q.cu. Everything else — other quantized cases, mixed types, odd
// strides — runs a tiled kernel that dequantizes b tile by tile in shared memory, so no
// dequantized copy of the weight ever exists in device memory.
#include "cuda-common.cuh"

#include <vector>

// cuda-matmul-q.cu: tensor-core path for bf16/f16 activations × q8_0/q4_0 weights
bool svg_cuda_mul_mat_q(svg_cuda_ctx &c, svg_tensor *dst, bool *handled);

namespace {

constexpr int TM = 64, TN = 64, TK = 32;  // output tile 64×64, k-step 32 (one quant block)

struct mm_args {
    const char *a, *b, *bias;
    int ta, tb, tbias;
    int64_t M, N, K;
    int64_t a_rs, a_ks;       // a row / k strides (bytes)
    int64_t b_rs, b_ks;       // b row / k strides (bytes; quantized: b_ks unused)
    svg_cuda_shape a_batch;   // a's batch dims (strides in bytes)
    svg_cuda_shape b_batch;   // b's batch dims broadcast onto a's (stride 0 where broadcast)
};

// Block: 256 threads compute a 64×64 tile, each thread a 4×4 sub-tile.
template <typename TD>
__global__ void mm_tiled_kernel(TD *y, mm_args p) {
    __shared__ float As[TK][TM + 1];
    __shared__ float Bs[TK][TN + 1];
    const int64_t batch = blockIdx.z;
    const char *a = p.a + (p.a_batch.n ? svg_cuda_offset(p.a_batch, batch) : 0);
    const char *b = p.b + (p.b_batch.n ? svg_cuda_offset(p.b_batch, batch) : 0);
    const int64_t m0 = (int64_t)blockIdx.y * TM, n0 = (int64_t)blockIdx.x * TN;
    const int tid = threadIdx.x, tm = (tid / 16) * 4, tn = (tid % 16) * 4;
    const bool bq = p.tb == SVG_TYPE_Q8_0 || p.tb == SVG_TYPE_Q4_0;
    const int qbytes = p.tb == SVG_TYPE_Q8_0 ? (int)sizeof(svg_block_q8_0) : (int)sizeof(svg_block_q4_0);
    float acc[4][4] = {};
    for (int64_t k0 = 0; k0 < p.K; k0 += TK) {
        for (int i = tid; i < TK * TM; i += blockDim.x) {
            const int kk = i % TK, mm = i / TK;
            const int64_t m = m0 + mm, k = k0 + kk;
            As[kk][mm] = (m < p.M && k < p.K) ? svg_ld_any(a + m * p.a_rs + k * p.a_ks, p.ta) : 0.f;
        }
        for (int i = tid; i < TK * TN; i += blockDim.x) {
            const int kk = i % TK, nn = i / TK;
            const int64_t n = n0 + nn, k = k0 + kk;
            float v = 0.f;
            if (n < p.N && k < p.K) {
                const char *row = b + n * p.b_rs;
                v = bq ? svg_dequant(row + (k / 32) * qbytes, p.tb, (int)(k % 32)) : svg_ld_any(row + k * p.b_ks, p.tb);
            }
            Bs[kk][nn] = v;
        }
        __syncthreads();
#pragma unroll 8
        for (int kk = 0; kk < TK; kk++) {
            float av[4], bv[4];
            for (int i = 0; i < 4; i++) av[i] = As[kk][tm + i];
            for (int j = 0; j < 4; j++) bv[j] = Bs[kk][tn + j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) acc[i][j] += av[i] * bv[j];
        }
        __syncthreads();
    }
    TD *yb = y + batch * p.M * p.N;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            const int64_t m = m0 + tm + i, n = n0 + tn + j;
            if (m < p.M && n < p.N) {
                float v = acc[i][j];
                if (p.bias) v += svg_ld_any(p.bias + n * (p.tbias == SVG_TYPE_F32 ? 4 : 2), p.tbias);
                svg_st(yb + m * p.N + n, v);
            }
        }
}

template <typename TD>
__global__ void add_bias_kernel(TD *y, const char *bias, int tbias, int64_t N, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        svg_st(y + i, svg_ld(y + i) + svg_ld_any(bias + (i % N) * (tbias == SVG_TYPE_F32 ? 4 : 2), tbias));
}

// Collapse a shape's dims into one (count, stride) when they are uniformly
// strided; false otherwise.
bool collapse(const svg_cuda_shape &s, int64_t *count, int64_t *stride) {
    *count = 1;
    *stride = 0;
    int64_t expect = -1;
    for (int d = s.n - 1; d >= 0; d--) {
        if (s.ne[d] == 1) continue;
        if (expect < 0) {
            *stride = s.nb[d];
        } else if (s.nb[d] != expect) {
            return false;
        }
        *count *= s.ne[d];
        expect = s.nb[d] * s.ne[d];
    }
    return true;
}

cudaDataType cuda_type(enum svg_type t) {
    return t == SVG_TYPE_F16 ? CUDA_R_16F : t == SVG_TYPE_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

}  // namespace

bool svg_cuda_mul_mat(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0], *b = dst->src[1], *bias = dst->src[2];
    const int na = a->n_dims, nbd = b->n_dims;
    mm_args p{};
    p.a = (const char *)a->data;
    p.b = (const char *)b->data;
    p.bias = bias ? (const char *)bias->data : nullptr;
    p.ta = a->type;
    p.tb = b->type;
    p.tbias = bias ? bias->type : 0;
    p.M = a->ne[na - 2];
    p.K = a->ne[na - 1];
    p.N = b->ne[nbd - 2];
    p.a_rs = (int64_t)a->nb[na - 2];
    p.a_ks = (int64_t)a->nb[na - 1];
    p.b_rs = (int64_t)b->nb[nbd - 2];
    p.b_ks = (int64_t)b->nb[nbd - 1];
    // batch shapes: a's leading dims, b's broadcast onto them
    p.a_batch.n = na - 2;
    p.b_batch.n = na - 2;
    int64_t n_batch = 1;
    for (int d = 0; d < na - 2; d++) {
        p.a_batch.ne[d] = p.b_batch.ne[d] = a->ne[d];
        p.a_batch.nb[d] = (int64_t)a->nb[d];
        const int jb = d - (na - nbd);
        p.b_batch.nb[d] = (jb >= 0 && b->ne[jb] != 1) ? (int64_t)b->nb[jb] : 0;
        n_batch *= a->ne[d];
    }
    if (p.M == 0 || p.N == 0 || n_batch == 0) return true;

    const size_t esize = svg_type_traits_of(a->type)->type_size;
    int64_t a_cnt, a_bs, b_cnt, b_bs;
    const bool dense = a->type == b->type && dst->type == a->type && p.a_ks == (int64_t)esize && p.b_ks == (int64_t)esize &&
                       p.a_rs % esize == 0 && p.b_rs % esize == 0 && collapse(p.a_batch, &a_cnt, &a_bs) &&
                       collapse(p.b_batch, &b_cnt, &b_bs) && (b_cnt == 1 || b_cnt == n_batch) && a_bs % esize == 0 &&
                       b_bs % esize == 0 && p.K <= INT32_MAX && p.M <= INT32_MAX && p.N <= INT32_MAX && n_batch <= INT32_MAX;
    if (dense) {
        // row-major Y[M,N] = A[M,K]·B[N,K]^T is column-major Y^T = op_T(B)·A
        const float one = 1.f, zero = 0.f;
        const cudaDataType ty = cuda_type(a->type);
        cublasStatus_t st = cublasGemmStridedBatchedEx(
            c.cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)p.N, (int)p.M, (int)p.K, &one, b->data, ty, (int)(p.b_rs / esize),
            b_cnt == 1 ? 0 : b_bs / esize, a->data, ty, (int)(p.a_rs / esize), a_cnt == 1 ? 0 : a_bs / esize, &zero, dst->data, ty,
            (int)p.N, p.M * p.N, (int)n_batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        if (st != CUBLAS_STATUS_SUCCESS) return svg_err(false, "cuBLAS GEMM failed (status %d) for %s @ %s^T", (int)st, svg_shape_string(a).c_str(), svg_shape_string(b).c_str());
        if (bias) {
            const int64_t n = n_batch * p.M * p.N;
            switch (dst->type) {
                case SVG_TYPE_F16: add_bias_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__half *)dst->data, p.bias, p.tbias, p.N, n); break;
                case SVG_TYPE_BF16: add_bias_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, p.bias, p.tbias, p.N, n); break;
                default: add_bias_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((float *)dst->data, p.bias, p.tbias, p.N, n); break;
            }
            SVG_CUDA_LAUNCHED();
        }
        return true;
    }
    bool handled = false;
    if (!svg_cuda_mul_mat_q(c, dst, &handled)) return false;
    if (handled) return true;
    if (n_batch > 65535) return svg_err(false, "CUDA mul_mat: %lld batches exceed the grid limit", (long long)n_batch);
    const dim3 grid((unsigned)((p.N + TN - 1) / TN), (unsigned)((p.M + TM - 1) / TM), (unsigned)n_batch);
    switch (dst->type) {
        case SVG_TYPE_F16: mm_tiled_kernel<<<grid, 256, 0, c.stream>>>((__half *)dst->data, p); break;
        case SVG_TYPE_BF16: mm_tiled_kernel<<<grid, 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, p); break;
        default: mm_tiled_kernel<<<grid, 256, 0, c.stream>>>((float *)dst->data, p); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}
