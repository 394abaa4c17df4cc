// ggml's k-quants (Q4_K, Q5_K, Q6_K): blocks of 256 values in the byte
// layouts of ggml-common.h, so GGUF files move between svg.cpp, ggml and
// gguf-py unchanged. Row conversions for the type table (svg-types.cpp).
//
//   q4_K  144 B: fp16 d, fp16 dmin, 12 B of eight 6-bit (scale, min) pairs,
//         128 B of 4-bit q;  x = d·sc_s · q − dmin·m_s per sub-block s of 32
//   q5_K  176 B: as q4_K plus 32 B of fifth bits (qh);  q in [0, 31]
//   q6_K  210 B: 128 B low 4 bits, 64 B high 2 bits, sixteen int8 scales,
//         fp16 d;  x = d·sc_s · (q − 32) per sub-block s of 16
#pragma once

#include <cstdint>

constexpr int64_t SVG_QK_K = 256;

void svg_q4_k_to_float(const void *src, float *dst, int64_t n);
void svg_q4_k_from_float(const float *src, void *dst, int64_t n);
void svg_q5_k_to_float(const void *src, float *dst, int64_t n);
void svg_q5_k_from_float(const float *src, void *dst, int64_t n);
void svg_q6_k_to_float(const void *src, float *dst, int64_t n);
void svg_q6_k_from_float(const float *src, void *dst, int64_t n);

struct svg_block_q4_k {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qs[SVG_QK_K / 2];
};
struct svg_block_q5_k {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qh[SVG_QK_K / 8];
    uint8_t qs[SVG_QK_K / 2];
};
struct svg_block_q6_k {
    uint8_t ql[SVG_QK_K / 2];
    uint8_t qh[SVG_QK_K / 4];
    int8_t scales[SVG_QK_K / 16];
    uint16_t d;
};
static_assert(sizeof(svg_block_q4_k) == 144, "q4_K block");
static_assert(sizeof(svg_block_q5_k) == 176, "q5_K block");
static_assert(sizeof(svg_block_q6_k) == 210, "q6_K block");
