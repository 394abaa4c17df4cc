// ggml's k-quants (src/quants-k.h). Dequantization is ggml's, bit for bit
// (dequantize_row_q{4,5,6}_K); quantization fits each sub-block by
// alternating the rounding and a least-squares (scale, min), then stores
// the sub-block scales in 6 bits (q4_K / q5_K) or 8 (q6_K) against the
// block's fp16 ones — a file ggml reads like its own, though its own
// quantizer may round some values differently.
#include "src/quants-k.h"

#include <algorithm>
#include <cmath>

#include "svg.h"

namespace {

// Sub-block j's 6-bit (scale, min) from the 12 packed bytes (ggml get_scale_min_k4).
void scale_min(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

void pack_scale_mins(const uint8_t ls[8], const uint8_t lm[8], uint8_t q[12]) {
    std::fill(q, q + 12, 0);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            q[j] = ls[j];
            q[j + 4] = lm[j];
        } else {
            q[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            q[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            q[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

// x ≈ scale·q − min over n values, q in [0, nmax], min ≥ 0 (the k-quants
// keep the sub-block minimum at or below zero): rounding and the
// least-squares line alternated a few times.
void fit_affine(const float *x, int n, int nmax, float *scale, float *min) {
    float lo = std::min(0.f, *std::min_element(x, x + n)), hi = *std::max_element(x, x + n);
    if (hi <= lo) {
        *scale = 0.f;
        *min = -lo;
        return;
    }
    float s = (hi - lo) / nmax, m = -lo;
    for (int it = 0; it < 4; it++) {
        double sq = 0, sx = 0, sqq = 0, sqx = 0;
        for (int i = 0; i < n; i++) {
            const int q = std::clamp((int)std::lround((x[i] + m) / s), 0, nmax);
            sq += q, sx += x[i], sqq += (double)q * q, sqx += (double)q * x[i];
        }
        const double det = n * sqq - sq * sq;
        if (det <= 0) break;
        const double ns = (n * sqx - sq * sx) / det, nm = -(sx - ns * sq) / n;  // x ≈ ns·q − nm
        if (!(ns > 0) || nm < 0) break;
        s = (float)ns, m = (float)nm;
    }
    *scale = s;
    *min = m;
}

// q4_K / q5_K: eight sub-blocks of 32, q in [0, nmax] → L, the packed
// scales, d and dmin (fp16 bits)
void quantize_k_affine(const float *x, int nmax, uint8_t L[SVG_QK_K], uint8_t scales[12], uint16_t *d_bits, uint16_t *dmin_bits) {
    float sc[8], mn[8], max_sc = 0, max_mn = 0;
    for (int j = 0; j < 8; j++) {
        fit_affine(x + 32 * j, 32, nmax, &sc[j], &mn[j]);
        max_sc = std::max(max_sc, sc[j]);
        max_mn = std::max(max_mn, mn[j]);
    }
    const float d = max_sc / 63.f, dmin = max_mn / 63.f;
    *d_bits = svg_fp32_to_fp16(d);
    *dmin_bits = svg_fp32_to_fp16(dmin);
    const float dq = svg_fp16_to_fp32(*d_bits), dminq = svg_fp16_to_fp32(*dmin_bits);
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        ls[j] = (uint8_t)std::clamp((int)std::lround(dq > 0 ? sc[j] / dq : 0.f), 0, 63);
        lm[j] = (uint8_t)std::clamp((int)std::lround(dminq > 0 ? mn[j] / dminq : 0.f), 0, 63);
    }
    pack_scale_mins(ls, lm, scales);
    // the values rounded against the scales as stored
    for (int j = 0; j < 8; j++) {
        const float s = dq * ls[j], m = dminq * lm[j];
        for (int i = 0; i < 32; i++) L[32 * j + i] = (uint8_t)(s > 0 ? std::clamp((int)std::lround((x[32 * j + i] + m) / s), 0, nmax) : 0);
    }
}

}  // namespace

void svg_q4_k_to_float(const void *src, float *y, int64_t n) {
    const svg_block_q4_k *b = (const svg_block_q4_k *)src;
    for (int64_t i = 0; i < n / SVG_QK_K; i++) {
        const float d = svg_fp16_to_fp32(b[i].d), dmin = svg_fp16_to_fp32(b[i].dmin);
        const uint8_t *q = b[i].qs;
        for (int j = 0, is = 0; j < SVG_QK_K; j += 64, is += 2, q += 32) {
            int sc, m;
            scale_min(is, b[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            scale_min(is + 1, b[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

void svg_q4_k_from_float(const float *x, void *dst, int64_t n) {
    svg_block_q4_k *b = (svg_block_q4_k *)dst;
    for (int64_t i = 0; i < n / SVG_QK_K; i++, x += SVG_QK_K) {
        uint8_t L[SVG_QK_K];
        quantize_k_affine(x, 15, L, b[i].scales, &b[i].d, &b[i].dmin);
        uint8_t *q = b[i].qs;
        for (int j = 0; j < SVG_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void svg_q5_k_to_float(const void *src, float *y, int64_t n) {
    const svg_block_q5_k *b = (const svg_block_q5_k *)src;
    for (int64_t i = 0; i < n / SVG_QK_K; i++) {
        const float d = svg_fp16_to_fp32(b[i].d), dmin = svg_fp16_to_fp32(b[i].dmin);
        const uint8_t *ql = b[i].qs, *qh = b[i].qh;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < SVG_QK_K; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            int sc, m;
            scale_min(is, b[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            scale_min(is + 1, b[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

void svg_q5_k_from_float(const float *x, void *dst, int64_t n) {
    svg_block_q5_k *b = (svg_block_q5_k *)dst;
    for (int64_t i = 0; i < n / SVG_QK_K; i++, x += SVG_QK_K) {
        uint8_t L[SVG_QK_K];
        quantize_k_affine(x, 31, L, b[i].scales, &b[i].d, &b[i].dmin);
        std::fill(b[i].qh, b[i].qh + SVG_QK_K / 8, 0);
        uint8_t *ql = b[i].qs, m1 = 1, m2 = 2;
        for (int j = 0; j < SVG_QK_K; j += 64, ql += 32, m1 <<= 2, m2 <<= 2)
            for (int l = 0; l < 32; l++) {
                int l1 = L[j + l], l2 = L[j + l + 32];
                if (l1 > 15) l1 -= 16, b[i].qh[l] |= m1;
                if (l2 > 15) l2 -= 16, b[i].qh[l] |= m2;
                ql[l] = (uint8_t)(l1 | (l2 << 4));
            }
    }
}

void svg_q6_k_to_float(const void *src, float *y, int64_t n) {
    const svg_block_q6_k *b = (const svg_block_q6_k *)src;
    for (int64_t i = 0; i < n / SVG_QK_K; i++) {
        const float d = svg_fp16_to_fp32(b[i].d);
        const uint8_t *ql = b[i].ql, *qh = b[i].qh;
        const int8_t *sc = b[i].scales;
        for (int k = 0; k < SVG_QK_K; k += 128, y += 128, ql += 64, qh += 32, sc += 8)
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
    }
}

void svg_q6_k_from_float(const float *x, void *dst, int64_t n) {
    svg_block_q6_k *b = (svg_block_q6_k *)dst;
    for (int64_t i = 0; i < n / SVG_QK_K; i++, x += SVG_QK_K) {
        // sixteen symmetric sub-blocks of 16: q in [−32, 31], the value of
        // largest magnitude at −32 (as ggml's make_qx_quants starts)
        float sc[16], max_sc = 0, max_abs = 0;
        for (int s = 0; s < 16; s++) {
            float amax = 0, v = 0;
            for (int l = 0; l < 16; l++)
                if (std::fabs(x[16 * s + l]) > amax) amax = std::fabs(x[16 * s + l]), v = x[16 * s + l];
            sc[s] = v / -32.f;
            if (std::fabs(sc[s]) > max_abs) max_abs = std::fabs(sc[s]), max_sc = sc[s];
        }
        uint8_t L[SVG_QK_K];
        if (max_abs == 0) {
            std::fill(b[i].scales, b[i].scales + 16, 0);
            b[i].d = 0;
            std::fill(L, L + SVG_QK_K, 32);
        } else {
            const float iscale = -128.f / max_sc;
            b[i].d = svg_fp32_to_fp16(1.f / iscale);
            const float d = svg_fp16_to_fp32(b[i].d);
            for (int s = 0; s < 16; s++) {
                b[i].scales[s] = (int8_t)std::min(127, (int)std::lround(iscale * sc[s]));
                const float ds = d * b[i].scales[s];
                for (int l = 0; l < 16; l++)
                    L[16 * s + l] = (uint8_t)(ds != 0 ? std::clamp((int)std::lround(x[16 * s + l] / ds), -32, 31) + 32 : 32);
            }
        }
        uint8_t *ql = b[i].ql, *qh = b[i].qh;
        for (int j = 0; j < SVG_QK_K; j += 128, ql += 64, qh += 32)
            for (int l = 0; l < 32; l++) {
                const uint8_t q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                ql[l] = (uint8_t)((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[l + 32] = (uint8_t)((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[l] = (uint8_t)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
    }
}
