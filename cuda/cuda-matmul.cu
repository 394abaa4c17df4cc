// MUL_MAT: y[..., m, n] = sum_k a[..., m, k] · b[..., n, k] (+ bias[n]).
// Dense weights of the activation's type go to cuBLASLt (fp32 accumulation)
// with the bias added in its epilogue, as PyTorch's F.linear does: cuBLAS plus
// a separate bias pass was 1.2-1.7x slower at the Wan FFN shapes. A GELU_TANH
// that alone reads the result can ride the same epilogue
// (svg_cuda_mul_mat_gelu). bf16/f16 activations × q8_0/q4_0 weights go to
// the tensor-core kernel of cuda-matmul-q.cu. Everything else — other
// quantized cases, mixed types, odd strides, problems cuBLASLt has no
// algorithm for — runs a tiled kernel that dequantizes b tile by tile in
// shared memory, so no dequantized copy of the weight ever exists in device
// memory.
#include "cuda-common.cuh"

#include <algorithm>
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
    int qelems = 32, qbytes = 0;
    const bool bq = svg_qblock(p.tb, &qelems, &qbytes);
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
                v = bq ? svg_dequant(row + (k / qelems) * qbytes, p.tb, (int)(k % qelems)) : svg_ld_any(row + k * p.b_ks, p.tb);
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

bool add_bias(svg_cuda_ctx &c, svg_tensor *dst, const mm_args &p) {
    const int64_t n = svg_nelements(dst);
    switch (dst->type) {
        case SVG_TYPE_F16: add_bias_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__half *)dst->data, p.bias, p.tbias, p.N, n); break;
        case SVG_TYPE_BF16: add_bias_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, p.bias, p.tbias, p.N, n); break;
        default: add_bias_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((float *)dst->data, p.bias, p.tbias, p.N, n); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
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

cudaDataType cuda_type(int t) {
    return t == SVG_TYPE_F16 ? CUDA_R_16F : t == SVG_TYPE_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

// Sizes and byte strides of a MUL_MAT node; *n_batch: its number of matrices.
mm_args args_of(const svg_tensor *dst, int64_t *n_batch) {
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
    *n_batch = 1;
    for (int d = 0; d < na - 2; d++) {
        p.a_batch.ne[d] = p.b_batch.ne[d] = a->ne[d];
        p.a_batch.nb[d] = (int64_t)a->nb[d];
        const int jb = d - (na - nbd);
        p.b_batch.nb[d] = (jb >= 0 && b->ne[jb] != 1) ? (int64_t)b->nb[jb] : 0;
        *n_batch *= a->ne[d];
    }
    return p;
}

// A dense GEMM in cuBLASLt's column-major terms: row-major Y[M,N] =
// A[M,K]·B[N,K]^T is Y^T[N,M] = op_T(B)·A^T, so our weight b is cuBLASLt's A
// and our activation a its B.
struct lt_gemm {
    const void *a, *b, *bias;
    void *d;
    cudaDataType type, bias_type;
    int64_t M, N, K, batch;
    int64_t lda, ldb;            // row strides of a and b (elements)
    int64_t stride_a, stride_b;  // batch strides (elements; 0: one matrix for every batch)
};

// The MUL_MAT `dst` as a dense GEMM (the output pointer is the caller's);
// false when its types or strides need the other paths.
bool dense_gemm_of(const svg_tensor *dst, const mm_args &p, int64_t n_batch, lt_gemm *g) {
    const svg_tensor *a = dst->src[0], *b = dst->src[1], *bias = dst->src[2];
    const int64_t es = (int64_t)svg_type_traits_of(a->type)->type_size;
    int64_t a_cnt, a_bs, b_cnt, b_bs;
    if (a->type != b->type || dst->type != a->type || p.K == 0 || p.a_ks != es || p.b_ks != es || p.a_rs % es || p.b_rs % es ||
        !collapse(p.a_batch, &a_cnt, &a_bs) || !collapse(p.b_batch, &b_cnt, &b_bs) || (b_cnt != 1 && b_cnt != n_batch) ||
        a_bs % es || b_bs % es || n_batch > INT32_MAX)
        return false;
    *g = lt_gemm{};
    g->a = a->data;
    g->b = b->data;
    g->bias = bias ? bias->data : nullptr;
    g->type = cuda_type(a->type);
    g->bias_type = bias ? cuda_type(bias->type) : g->type;
    g->M = p.M;
    g->N = p.N;
    g->K = p.K;
    g->batch = n_batch;
    g->stride_a = a_cnt == 1 ? 0 : a_bs / es;
    g->stride_b = b_cnt == 1 ? 0 : b_bs / es;
    // one weight over batches of a stacked row after row (every linear layer
    // on a contiguous input): a single GEMM of batch·M rows
    if (g->stride_b == 0 && (n_batch == 1 || a_bs == p.M * p.a_rs)) {
        g->M *= n_batch;
        g->batch = 1;
        g->stride_a = 0;
    }
    // a lone row's stride is never stepped, but cuBLASLt wants ld >= K
    g->lda = g->M == 1 ? p.K : p.a_rs / es;
    g->ldb = p.N == 1 ? p.K : p.b_rs / es;
    return g->lda >= p.K && g->ldb >= p.K && g->M <= INT32_MAX && p.N <= INT32_MAX && p.K <= INT32_MAX;
}

// Largest power of two (up to 256) dividing a pointer: cuBLASLt picks
// vectorized kernels by the alignment it is promised.
int64_t align_of(const void *ptr) {
    const uintptr_t x = (uintptr_t)ptr;
    return x ? (int64_t)std::min<uintptr_t>(256, x & (~x + 1)) : 256;
}

#define LT_CHECK(expr)                                                                                       \
    do {                                                                                                     \
        const cublasStatus_t st_ = (expr);                                                                   \
        if (st_ != CUBLAS_STATUS_SUCCESS) return svg_err(false, "cuBLASLt: %s failed: %s", #expr, cublasLtGetStatusString(st_)); \
    } while (0)

// One cuBLASLt GEMM with epilogue `epi` on c.stream. *ran = false (nothing
// enqueued) when cuBLASLt has no algorithm for it, so the caller can take a
// plainer epilogue or another kernel; the answer is kept per problem.
bool lt_matmul(svg_cuda_ctx &c, const lt_gemm &g, cublasLtEpilogue_t epi, bool *ran) {
    *ran = false;
    const bool with_bias = epi == CUBLASLT_EPILOGUE_BIAS || epi == CUBLASLT_EPILOGUE_GELU_BIAS;
    // descriptors live on the stack (Init, not Create): nothing to free, no host allocation per call
    cublasLtMatmulDescOpaque_t op_mem;
    cublasLtMatrixLayoutOpaque_t lw_mem, lx_mem, ly_mem;
    cublasLtMatmulDesc_t op = &op_mem;
    cublasLtMatrixLayout_t lw = &lw_mem, lx = &lx_mem, ly = &ly_mem;  // weight b, activation a, output
    const int32_t trans = CUBLAS_OP_T, no_trans = CUBLAS_OP_N, epilogue = epi, bias_type = g.bias_type;
    LT_CHECK(cublasLtMatmulDescInit(op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    LT_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof trans));
    LT_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &no_trans, sizeof no_trans));
    LT_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));
    if (with_bias) {
        // one bias for every batch (BIAS_BATCH_STRIDE stays 0)
        LT_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias, sizeof g.bias));
        LT_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type));
    }
    const struct {
        cublasLtMatrixLayout_t layout;
        int64_t rows, cols, ld, stride;
    } mats[3] = {{lw, g.K, g.N, g.ldb, g.stride_b}, {lx, g.K, g.M, g.lda, g.stride_a}, {ly, g.N, g.M, g.N, g.M * g.N}};
    const int32_t batch = (int32_t)g.batch;
    for (const auto &m : mats) {
        LT_CHECK(cublasLtMatrixLayoutInit(m.layout, g.type, (uint64_t)m.rows, (uint64_t)m.cols, m.ld));
        if (batch > 1) {
            LT_CHECK(cublasLtMatrixLayoutSetAttribute(m.layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
            LT_CHECK(cublasLtMatrixLayoutSetAttribute(m.layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &m.stride, sizeof m.stride));
        }
    }
    // everything the heuristic reads, the pointers' alignments included
    const std::array<int64_t, 15> key = {
        g.type, with_bias ? g.bias_type : -1, epi, g.M, g.N, g.K, g.batch, g.lda, g.ldb, g.stride_a, g.stride_b,
        align_of(g.a), align_of(g.b), align_of(g.d), with_bias ? align_of(g.bias) : 0};
    auto it = c.gemm_algos.find(key);
    if (it == c.gemm_algos.end()) {
        cublasLtMatmulPreferenceOpaque_t pref_mem;
        cublasLtMatmulPreference_t pref = &pref_mem;
        const uint64_t ws = c.gemm_workspace_size;
        const uint32_t align_w = (uint32_t)align_of(g.b), align_x = (uint32_t)align_of(g.a), align_y = (uint32_t)align_of(g.d);
        LT_CHECK(cublasLtMatmulPreferenceInit(pref));
        LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
        LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_w, sizeof align_w));
        LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_x, sizeof align_x));
        LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_y, sizeof align_y));
        LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_y, sizeof align_y));
        // cuBLASLt's first pick is not always its fastest (measured on the
        // H100 at Wan's shapes): time its top candidates once on the real
        // operands and keep the fastest for this problem
        constexpr int CANDIDATES = 8;
        cublasLtMatmulHeuristicResult_t res[CANDIDATES]{};
        int found = 0;
        // an unsupported combination answers with an error status or no
        // result: both mean "another path"
        const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(c.cublaslt, op, lw, lx, ly, ly, pref, CANDIDATES, res, &found);
        svg_cuda_gemm_algo algo{};
        algo.found = st == CUBLAS_STATUS_SUCCESS && found > 0;
        if (algo.found) algo.algo = res[0].algo;
        if (algo.found && found > 1) {
            cudaEvent_t e0, e1;
            SVG_CUDA_CHECK(cudaEventCreate(&e0));
            SVG_CUDA_CHECK(cudaEventCreate(&e1));
            const float one = 1.f, zero = 0.f;
            float best = INFINITY;
            for (int r = 0; r < found; r++) {
                bool ok = true;
                SVG_CUDA_CHECK(cudaEventRecord(e0, c.stream));
                for (int rep = 0; rep < 2 && ok; rep++)
                    ok = cublasLtMatmul(c.cublaslt, op, &one, g.b, lw, g.a, lx, &zero, g.d, ly, g.d, ly, &res[r].algo, c.gemm_workspace,
                                        c.gemm_workspace_size, c.stream) == CUBLAS_STATUS_SUCCESS;
                SVG_CUDA_CHECK(cudaEventRecord(e1, c.stream));
                SVG_CUDA_CHECK(cudaEventSynchronize(e1));
                float ms = INFINITY;
                if (ok && cudaEventElapsedTime(&ms, e0, e1) == cudaSuccess && ms < best) {
                    best = ms;
                    algo.algo = res[r].algo;
                }
            }
            cudaEventDestroy(e0);
            cudaEventDestroy(e1);
            cudaGetLastError();  // a candidate that failed to launch is only skipped
        }
        it = c.gemm_algos.emplace(key, algo).first;
    }
    if (!it->second.found) return true;
    const float one = 1.f, zero = 0.f;
    const cublasStatus_t st = cublasLtMatmul(c.cublaslt, op, &one, g.b, lw, g.a, lx, &zero, g.d, ly, g.d, ly, &it->second.algo,
                                             c.gemm_workspace, c.gemm_workspace_size, c.stream);
    if (st == CUBLAS_STATUS_NOT_SUPPORTED) {  // refused at launch after all: not asked again
        it->second.found = false;
        return true;
    }
    if (st != CUBLAS_STATUS_SUCCESS)
        return svg_err(false, "cuBLASLt GEMM %lldx%lldx%lld (batch %lld, epilogue %d) failed: %s", (long long)g.M, (long long)g.N,
                       (long long)g.K, (long long)g.batch, (int)epi, cublasLtGetStatusString(st));
    *ran = true;
    return true;
}

}  // namespace

// A bias of another type than the output (our f32 biases under bf16/f16
// activations) converted into scratch: cuBLASLt's bias epilogue takes the
// output's type (its f32-bias kernels, where offered, ran slower on the H100),
// which is also what PyTorch feeds it.
__global__ void convert_bias_kernel(__nv_bfloat16 *ybf, __half *yh, const char *bias, int tbias, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float v = svg_ld_any(bias + i * (tbias == SVG_TYPE_F32 ? 4 : 2), tbias);
        if (ybf) ybf[i] = __float2bfloat16(v);
        else yh[i] = __float2half(v);
    }
}

bool bias_as_output_type(svg_cuda_ctx &c, lt_gemm *g, const mm_args &p) {
    if (!g->bias || g->bias_type == g->type || (g->type != CUDA_R_16BF && g->type != CUDA_R_16F)) return true;
    if (!c.ensure_scratch((size_t)p.N * 2)) return false;
    const bool bf = g->type == CUDA_R_16BF;
    convert_bias_kernel<<<svg_cuda_blocks(p.N, 256), 256, 0, c.stream>>>(bf ? (__nv_bfloat16 *)c.scratch : nullptr,
                                                                         bf ? nullptr : (__half *)c.scratch, p.bias, p.tbias, p.N);
    SVG_CUDA_LAUNCHED();
    g->bias = c.scratch;
    g->bias_type = g->type;
    return true;
}

bool svg_cuda_mul_mat(svg_cuda_ctx &c, svg_tensor *dst) {
    int64_t n_batch = 1;
    const mm_args p = args_of(dst, &n_batch);
    if (p.M == 0 || p.N == 0 || n_batch == 0) return true;
    lt_gemm g;
    if (dense_gemm_of(dst, p, n_batch, &g)) {
        g.d = dst->data;
        if (!bias_as_output_type(c, &g, p)) return false;
        bool ran = false;
        if (!lt_matmul(c, g, p.bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT, &ran)) return false;
        // no bias epilogue for this problem: the bias is a pass of its own
        if (!ran && p.bias) {
            if (!lt_matmul(c, g, CUBLASLT_EPILOGUE_DEFAULT, &ran)) return false;
            if (ran && !add_bias(c, dst, p)) return false;
        }
        if (ran) return true;
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

bool svg_cuda_mul_mat_gelu(svg_cuda_ctx &c, svg_tensor *mm, svg_tensor *gelu, bool *fused) {
    *fused = false;
    int64_t n_batch = 1;
    const mm_args p = args_of(mm, &n_batch);
    lt_gemm g;
    if (p.M == 0 || p.N == 0 || n_batch == 0 || gelu->type != mm->type || !svg_is_contiguous(gelu) || !dense_gemm_of(mm, p, n_batch, &g))
        return true;
    // The planner placed the GELU's output after the GEMM ran, so it may sit
    // on memory of the GEMM's inputs (released at the GEMM): then run apart.
    for (int i = 0; i < SVG_MAX_SRC; i++)
        if (svg_cuda_overlap(mm->src[i], gelu)) return true;
    g.d = gelu->data;
    if (!bias_as_output_type(c, &g, p)) return false;
    // cuBLASLt's GELU is the tanh approximation, GELU_TANH's formula; with a
    // bias it adds the bias first, as linear → gelu does
    return lt_matmul(c, g, p.bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU, fused);
}
