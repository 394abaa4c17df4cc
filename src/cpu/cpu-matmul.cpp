// MUL_MAT: y[..., m, n] = sum_k a[..., m, k] * b[..., n, k] (+ bias[n]).
// a is f32 (any strides, packed to contiguous rows first); b is any float or
// block-quantized type and is converted to f32 one tile of rows at a time, so
// a quantized weight is never expanded in full.
#include "cpu-impl.h"

namespace {

constexpr int64_t TILE_N = 64;  // b rows converted per task
constexpr int LANES = 8;        // independent accumulators: lets the compiler vectorize

// 4×4 block of dot products over K, lane-split accumulators.
inline void dot4x4(const float *const *a, const float *const *b, int64_t K, float out[4][4]) {
    float acc[4][4][LANES] = {};
    const int64_t K8 = K / LANES * LANES;
    for (int64_t k = 0; k < K8; k += LANES)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < LANES; l++) acc[i][j][l] += a[i][k + l] * b[j][k + l];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            float s = 0;
            for (int l = 0; l < LANES; l++) s += acc[i][j][l];
            for (int64_t k = K8; k < K; k++) s += a[i][k] * b[j][k];
            out[i][j] = s;
        }
}

}  // namespace

bool svg_cpu_mul_mat(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0], *b = dst->src[1], *bias = dst->src[2];
    const int na = a->n_dims, nbd = b->n_dims;
    const int64_t M = a->ne[na - 2], K = a->ne[na - 1], N = b->ne[nbd - 2];
    const int64_t n_batch = svg_nelements(a) / std::max<int64_t>(1, M * K);
    if (M == 0 || N == 0 || n_batch == 0) return true;

    // pack a into contiguous f32 rows [batch, M, K]
    const bool a_packed = svg_is_contiguous(a);
    std::vector<float> a_buf;
    const float *A = (const float *)a->data;
    if (!a_packed) {
        a_buf.resize((size_t)(n_batch * M * K));
        c.parallel_for(n_batch * M, [&](int64_t r0, int64_t r1) {
            int64_t idx[SVG_MAX_DIMS] = {0};
            for (int64_t r = r0; r < r1; r++) {
                svg_unravel(a, r * K, idx);
                svg_cpu_load_row(a, idx, a_buf.data() + r * K);
            }
        });
        A = a_buf.data();
    }

    // batch index → byte offset of b's matrix (b's batch dims broadcast)
    auto b_matrix = [&](int64_t bi) {
        int64_t idx[SVG_MAX_DIMS] = {0};
        svg_unravel(a, bi * M * K, idx);  // a's batch index; matrix dims 0
        size_t off = 0;
        for (int d = 0; d < nbd - 2; d++) {
            const int64_t i = idx[na - nbd + d];
            if (b->ne[d] != 1) off += (size_t)i * b->nb[d];
        }
        return (const char *)b->data + off;
    };
    const svg_type_traits *tb = svg_type_traits_of(b->type);
    const float *bias_d = bias ? (const float *)bias->data : nullptr;
    float *Y = (float *)dst->data;
    const int64_t n_tiles = (N + TILE_N - 1) / TILE_N;

    c.parallel_for(n_batch * n_tiles, [&](int64_t t0, int64_t t1) {
        std::vector<float> btile((size_t)(TILE_N * K));
        for (int64_t t = t0; t < t1; t++) {
            const int64_t bi = t / n_tiles, n0 = (t % n_tiles) * TILE_N;
            const int64_t nn = std::min(TILE_N, N - n0);
            const char *bm = b_matrix(bi);
            const size_t row_stride = b->nb[nbd - 2];
            const bool b_rows_dense = tb->is_quantized || b->nb[nbd - 1] == tb->type_size;
            for (int64_t j = 0; j < nn; j++) {
                const char *row = bm + (size_t)(n0 + j) * row_stride;
                float *dstrow = btile.data() + j * K;
                if (b_rows_dense) tb->to_float(row, dstrow, K);
                else for (int64_t k = 0; k < K; k++) tb->to_float(row + k * b->nb[nbd - 1], dstrow + k, 1);
            }
            const float *Ab = A + bi * M * K;
            float *Yb = Y + bi * M * N;
            for (int64_t m0 = 0; m0 < M; m0 += 4) {
                for (int64_t j0 = 0; j0 < nn; j0 += 4) {
                    const float *ar[4], *br[4];
                    for (int i = 0; i < 4; i++) ar[i] = Ab + std::min(m0 + i, M - 1) * K;
                    for (int j = 0; j < 4; j++) br[j] = btile.data() + std::min(j0 + j, nn - 1) * K;
                    float out[4][4];
                    dot4x4(ar, br, K, out);
                    for (int i = 0; i < 4 && m0 + i < M; i++)
                        for (int j = 0; j < 4 && j0 + j < nn; j++) {
                            const int64_t n = n0 + j0 + j;
                            Yb[(m0 + i) * N + n] = out[i][j] + (bias_d ? bias_d[n] : 0.0f);
                        }
                }
            }
        }
    });
    return true;
}
