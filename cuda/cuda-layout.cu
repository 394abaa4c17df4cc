// Data-movement kernels: copy/cast (incl. to and from q8_0/q4_0), concat,
// pad, repeat, nearest upsampling, get_rows. One thread per output element
// (per block when quantizing); sources any strides.
#include "cuda-common.cuh"

namespace {

// same type, plain: byte copy of each element
__global__ void copy_same_kernel(char *y, const char *a, svg_cuda_shape sa, int esize, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const char *p = a + svg_cuda_offset(sa, i);
        char *q = y + i * esize;
        switch (esize) {
            case 1: *q = *p; break;
            case 2: *(uint16_t *)q = *(const uint16_t *)p; break;
            case 4: *(uint32_t *)q = *(const uint32_t *)p; break;
            default: *(uint64_t *)q = *(const uint64_t *)p; break;
        }
    }
}

// float → float with conversion; quantized source: sa describes blocks
__global__ void convert_kernel(char *y, int td, const char *a, svg_cuda_shape sa, int ta, bool a_quant,
                               int64_t len, int64_t n) {
    const int dsize = td == SVG_TYPE_F32 ? 4 : 2;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float v;
        if (a_quant) {
            const int64_t row = i / len, j = i % len;
            int elems = 32, bytes = 0;
            svg_qblock(ta, &elems, &bytes);
            v = svg_dequant(a + svg_cuda_offset(sa, row * (len / elems) + j / elems), ta, (int)(j % elems));
        } else {
            v = svg_ld_any(a + svg_cuda_offset(sa, i), ta);
        }
        svg_st_any(y + i * dsize, td, v);
    }
}

// float → q8_0 / q4_0, one thread per block of 32 (same rounding as the CPU);
// the k-quants are written by the converter only
__global__ void quantize_kernel(char *y, int td, const char *a, svg_cuda_shape sa, int ta, int64_t n_blocks) {
    for (int64_t blk = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; blk < n_blocks; blk += (int64_t)gridDim.x * blockDim.x) {
        float x[32];
        for (int j = 0; j < 32; j++) x[j] = svg_ld_any(a + svg_cuda_offset(sa, blk * 32 + j), ta);
        if (td == SVG_TYPE_Q8_0) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
            const float d = amax / 127.f, id = d ? 1.f / d : 0.f;
            svg_block_q8_0 *b = (svg_block_q8_0 *)(y + blk * sizeof(svg_block_q8_0));
            b->d = __float2half_rn(d);
            for (int j = 0; j < 32; j++) b->qs[j] = (int8_t)roundf(x[j] * id);
        } else {
            float amax = 0, maxv = 0;
            for (int j = 0; j < 32; j++)
                if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); maxv = x[j]; }
            const float d = maxv / -8.f, id = d ? 1.f / d : 0.f;
            svg_block_q4_0 *b = (svg_block_q4_0 *)(y + blk * sizeof(svg_block_q4_0));
            b->d = __float2half_rn(d);
            for (int j = 0; j < 16; j++) {
                const int q0 = (int)fminf(15.f, x[j] * id + 8.5f), q1 = (int)fminf(15.f, x[j + 16] * id + 8.5f);
                b->qs[j] = (uint8_t)(q0 | q1 << 4);
            }
        }
    }
}

// Generic gather: out[i] = src at a per-op index map (or a constant).
enum { G_CONCAT, G_PAD, G_REPEAT, G_UPSAMPLE };
struct gather_params {
    int kind;
    int n;
    int64_t ne[SVG_MAX_DIMS];   // dst shape
    int64_t ane[SVG_MAX_DIMS];  // src a shape
    int64_t anb[SVG_MAX_DIMS];
    int64_t bnb[SVG_MAX_DIMS];  // concat: src b strides
    int64_t p0[SVG_MAX_DIMS];   // pad before / upsample factor
    int dim;                    // concat dim
    bool replicate;
    float value;
};

__global__ void gather_kernel(char *y, int td, const char *a, const char *b, int ta, gather_params g, int64_t n) {
    const int dsize = td == SVG_TYPE_F32 ? 4 : 2;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t idx[SVG_MAX_DIMS];
        int64_t rem = i;
        for (int d = g.n - 1; d >= 0; d--) {
            idx[d] = rem % g.ne[d];
            rem /= g.ne[d];
        }
        const char *src = a;
        const int64_t *nb = g.anb;
        if (g.kind == G_CONCAT && idx[g.dim] >= g.ane[g.dim]) {
            idx[g.dim] -= g.ane[g.dim];
            src = b;
            nb = g.bnb;
        }
        bool inside = true;
        int64_t off = 0;
        for (int d = 0; d < g.n; d++) {
            int64_t j = idx[d];
            if (g.kind == G_PAD) {
                j -= g.p0[d];
                if (j < 0 || j >= g.ane[d]) {
                    if (!g.replicate) inside = false;
                    j = j < 0 ? 0 : g.ane[d] - 1;
                }
            } else if (g.kind == G_REPEAT) {
                j %= g.ane[d];
            } else if (g.kind == G_UPSAMPLE) {
                j /= g.p0[d];
            }
            off += j * nb[d];
        }
        svg_st_any(y + i * dsize, td, inside ? svg_ld_any(src + off, ta) : g.value);
    }
}

bool launch_gather(svg_cuda_ctx &c, svg_tensor *dst, gather_params &g, const svg_tensor *a, const svg_tensor *b) {
    const int64_t n = svg_nelements(dst);
    if (n == 0) return true;
    g.n = dst->n_dims;
    for (int d = 0; d < dst->n_dims; d++) {
        g.ne[d] = dst->ne[d];
        g.ane[d] = a->ne[d];
        g.anb[d] = (int64_t)a->nb[d];
        g.bnb[d] = b ? (int64_t)b->nb[d] : 0;
    }
    gather_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((char *)dst->data, dst->type, (const char *)a->data,
                                                                 b ? (const char *)b->data : nullptr, a->type, g, n);
    SVG_CUDA_LAUNCHED();
    return true;
}

__global__ void get_rows_kernel(char *y, const char *table, int tt, int64_t row_bytes, int64_t D, const char *ids,
                                int id_type, svg_cuda_shape sid, int64_t V, int64_t n, int *bad) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t r = i / D, j = i % D;
        const char *pid = ids + svg_cuda_offset(sid, r);
        const int64_t id = id_type == SVG_TYPE_I32 ? *(const int32_t *)pid : *(const int64_t *)pid;
        float v = 0.f;
        if (id < 0 || id >= V) {
            *bad = 1;
        } else {
            const char *row = table + id * row_bytes;
            int elems, bytes;
            v = svg_qblock(tt, &elems, &bytes) ? svg_dequant_row(row, tt, j) : svg_ld_any(row + j * (tt == SVG_TYPE_F32 ? 4 : 2), tt);
        }
        ((float *)y)[i] = v;
    }
}

}  // namespace

bool svg_cuda_copy(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0];
    const svg_type_traits *ta = svg_type_traits_of(a->type), *td = svg_type_traits_of(dst->type);
    const int64_t n = svg_nelements(dst);
    if (n == 0) return true;
    svg_cuda_shape sa = svg_cuda_shape_of(a);
    if (sa.n == 0) { sa.n = 1; sa.ne[0] = 1; sa.nb[0] = (int64_t)ta->type_size; }
    const int64_t len = dst->n_dims ? dst->ne[dst->n_dims - 1] : 1;
    if (ta->is_quantized) {  // index blocks: innermost dim counts blocks
        sa.ne[sa.n - 1] = len / ta->block_size;
    }
    if (a->type == dst->type) {
        if (ta->is_quantized) {  // copy whole blocks as 2-byte units
            svg_cuda_shape sb = sa;
            const int64_t units = (int64_t)ta->type_size / 2;
            sb.n = sa.n + 1;
            sb.ne[sa.n] = units;
            sb.nb[sa.n] = 2;
            const int64_t nu = n / ta->block_size * units;
            copy_same_kernel<<<svg_cuda_blocks(nu, 256), 256, 0, c.stream>>>((char *)dst->data, (const char *)a->data, sb, 2, nu);
        } else {
            copy_same_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((char *)dst->data, (const char *)a->data, sa, (int)ta->type_size, n);
        }
    } else if (td->is_quantized) {
        const int64_t nb = n / td->block_size;
        quantize_kernel<<<svg_cuda_blocks(nb, 128), 128, 0, c.stream>>>((char *)dst->data, dst->type, (const char *)a->data, sa, a->type, nb);
    } else {
        convert_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((char *)dst->data, dst->type, (const char *)a->data, sa, a->type, ta->is_quantized, len, n);
    }
    SVG_CUDA_LAUNCHED();
    return true;
}

bool svg_cuda_concat(svg_cuda_ctx &c, svg_tensor *dst) {
    gather_params g{};
    g.kind = G_CONCAT;
    g.dim = dst->op_params[0];
    return launch_gather(c, dst, g, dst->src[0], dst->src[1]);
}

bool svg_cuda_pad(svg_cuda_ctx &c, svg_tensor *dst) {
    gather_params g{};
    g.kind = G_PAD;
    g.replicate = dst->op_params[0] == SVG_PAD_REPLICATE;
    g.value = svg_param_f32(dst, 1);
    for (int d = 0; d < dst->n_dims; d++) g.p0[d] = dst->op_params[2 + 2 * d];
    return launch_gather(c, dst, g, dst->src[0], nullptr);
}

bool svg_cuda_repeat(svg_cuda_ctx &c, svg_tensor *dst) {
    gather_params g{};
    g.kind = G_REPEAT;
    return launch_gather(c, dst, g, dst->src[0], nullptr);
}

bool svg_cuda_upsample_nearest(svg_cuda_ctx &c, svg_tensor *dst) {
    gather_params g{};
    g.kind = G_UPSAMPLE;
    const int n = dst->n_dims, k = dst->op_params[0];
    for (int d = 0; d < n; d++) g.p0[d] = d >= n - k ? dst->op_params[1 + d - (n - k)] : 1;
    return launch_gather(c, dst, g, dst->src[0], nullptr);
}

bool svg_cuda_get_rows(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *table = dst->src[0], *ids = dst->src[1];
    const int64_t n = svg_nelements(dst), D = table->ne[1];
    if (n == 0) return true;
    if (!c.ensure_scratch(sizeof(int))) return false;
    int *bad = (int *)c.scratch;
    SVG_CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof(int), c.stream));
    svg_cuda_shape sid = svg_cuda_shape_of(ids);
    if (sid.n == 0) { sid.n = 1; sid.ne[0] = 1; sid.nb[0] = 4; }
    get_rows_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((char *)dst->data, (const char *)table->data, table->type,
                                                                   (int64_t)table->nb[0], D, (const char *)ids->data, ids->type, sid,
                                                                   table->ne[0], n, bad);
    SVG_CUDA_LAUNCHED();
    // ids come from the host (tokens); checking them costs one small sync
    int h_bad = 0;
    SVG_CUDA_CHECK(cudaMemcpyAsync(&h_bad, bad, sizeof(int), cudaMemcpyDeviceToHost, c.stream));
    SVG_CUDA_CHECK(cudaStreamSynchronize(c.stream));
    if (h_bad) return svg_err(false, "get_rows: an id is out of range [0, %lld)", (long long)table->ne[0]);
    return true;
}
