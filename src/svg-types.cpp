// Element types: scalar conversions and the type-traits table. A new block
// quantization is one table entry plus its two row conversions.
#include "svg-impl.h"
#include "quants-k.h"

#include <cmath>
#include <cstring>
#include <strings.h>

extern "C" {

float svg_fp16_to_fp32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1f;
    const uint32_t man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  // subnormal: renormalize
            int e = -1;
            uint32_t m = man;
            do { m <<= 1; e++; } while ((m & 0x400) == 0);
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (m & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t svg_fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000;
    const uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);  // overflow → inf
    if (absx < 0x38800000u) {                                     // subnormal or zero
        if (absx < 0x33000000u) return (uint16_t)sign;
        const uint32_t e = absx >> 23;
        const uint32_t m = (absx & 0x7fffff) | 0x800000;
        const uint32_t shift = 126 - e;  // 14..24
        uint32_t r = m >> (shift - 1 + 1);
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((absx >> 13) - (112u << 10));
    const uint32_t rem = absx & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (uint16_t)(sign | r);
}

float svg_bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t svg_fp32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);  // quiet NaN
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

}  // extern "C"

namespace {

// ---- plain types. Rows may be misaligned (safetensors offsets), so 16- and
// 64-bit values are read and written through memcpy.
static inline uint16_t ld16(const void *p, int64_t i) {
    uint16_t v;
    memcpy(&v, (const char *)p + 2 * i, 2);
    return v;
}
static inline void st16(void *p, int64_t i, uint16_t v) { memcpy((char *)p + 2 * i, &v, 2); }
void f32_to_float(const void *s, float *d, int64_t n) { memcpy(d, s, (size_t)n * 4); }
void f32_from_float(const float *s, void *d, int64_t n) { memcpy(d, s, (size_t)n * 4); }
void f16_to_float(const void *s, float *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) d[i] = svg_fp16_to_fp32(ld16(s, i));
}
void f16_from_float(const float *s, void *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) st16(d, i, svg_fp32_to_fp16(s[i]));
}
void bf16_to_float(const void *s, float *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) d[i] = svg_bf16_to_fp32(ld16(s, i));
}
void bf16_from_float(const float *s, void *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) st16(d, i, svg_fp32_to_bf16(s[i]));
}
void f64_to_float(const void *s, float *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double v;
        memcpy(&v, (const char *)s + 8 * i, 8);
        d[i] = (float)v;
    }
}
void f64_from_float(const float *s, void *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const double v = s[i];
        memcpy((char *)d + 8 * i, &v, 8);
    }
}

// ---- q8_0: blocks of 32 = { fp16 d; int8 q[32] }, x = d * q (GGUF layout)
constexpr int QK8_0 = 32;
struct block_q8_0 {
    uint16_t d;
    int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 34, "q8_0 block");

void q8_0_to_float(const void *s, float *d, int64_t n) {
    const block_q8_0 *b = (const block_q8_0 *)s;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        const float sc = svg_fp16_to_fp32(b[i].d);
        for (int j = 0; j < QK8_0; j++) d[i * QK8_0 + j] = sc * b[i].qs[j];
    }
}
void q8_0_from_float(const float *s, void *d, int64_t n) {
    block_q8_0 *b = (block_q8_0 *)d;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        float amax = 0;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(s[i * QK8_0 + j]));
        const float sc = amax / 127.f;
        const float id = sc ? 1.f / sc : 0.f;
        b[i].d = svg_fp32_to_fp16(sc);
        for (int j = 0; j < QK8_0; j++) b[i].qs[j] = (int8_t)roundf(s[i * QK8_0 + j] * id);
    }
}

// ---- q4_0: blocks of 32 = { fp16 d; uint8 qs[16] }, element j < 16 in the
// low nibble of qs[j], element j + 16 in its high nibble; x = d * (q - 8)
constexpr int QK4_0 = 32;
struct block_q4_0 {
    uint16_t d;
    uint8_t qs[QK4_0 / 2];
};
static_assert(sizeof(block_q4_0) == 18, "q4_0 block");

void q4_0_to_float(const void *s, float *d, int64_t n) {
    const block_q4_0 *b = (const block_q4_0 *)s;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        const float sc = svg_fp16_to_fp32(b[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            d[i * QK4_0 + j] = sc * ((b[i].qs[j] & 0xf) - 8);
            d[i * QK4_0 + j + QK4_0 / 2] = sc * ((b[i].qs[j] >> 4) - 8);
        }
    }
}
void q4_0_from_float(const float *s, void *d, int64_t n) {
    block_q4_0 *b = (block_q4_0 *)d;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        const float *x = s + i * QK4_0;
        float amax = 0, maxv = 0;  // value with the largest magnitude, sign kept
        for (int j = 0; j < QK4_0; j++)
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); maxv = x[j]; }
        const float sc = maxv / -8.f;
        const float id = sc ? 1.f / sc : 0.f;
        b[i].d = svg_fp32_to_fp16(sc);
        for (int j = 0; j < QK4_0 / 2; j++) {
            const int q0 = (int)fminf(15.f, x[j] * id + 8.5f);
            const int q1 = (int)fminf(15.f, x[j + QK4_0 / 2] * id + 8.5f);
            b[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

struct svg_type_traits make(const char *name, int64_t bs, size_t ts, bool is_float, bool q,
                            void (*to)(const void *, float *, int64_t),
                            void (*from)(const float *, void *, int64_t)) {
    struct svg_type_traits t;
    t.name = name;
    t.block_size = bs;
    t.type_size = ts;
    t.is_float = is_float;
    t.is_quantized = q;
    t.to_float = to;
    t.from_float = from;
    return t;
}

struct traits_table {
    struct svg_type_traits t[SVG_TYPE_COUNT];
    traits_table() {
        memset(t, 0, sizeof t);
        t[SVG_TYPE_F32] = make("f32", 1, 4, true, false, f32_to_float, f32_from_float);
        t[SVG_TYPE_F16] = make("f16", 1, 2, true, false, f16_to_float, f16_from_float);
        t[SVG_TYPE_BF16] = make("bf16", 1, 2, true, false, bf16_to_float, bf16_from_float);
        t[SVG_TYPE_F64] = make("f64", 1, 8, true, false, f64_to_float, f64_from_float);
        t[SVG_TYPE_Q8_0] = make("q8_0", QK8_0, sizeof(block_q8_0), true, true, q8_0_to_float,
                                q8_0_from_float);
        t[SVG_TYPE_Q4_0] = make("q4_0", QK4_0, sizeof(block_q4_0), true, true, q4_0_to_float,
                                q4_0_from_float);
        t[SVG_TYPE_Q4_K] = make("q4_K", SVG_QK_K, sizeof(svg_block_q4_k), true, true, svg_q4_k_to_float, svg_q4_k_from_float);
        t[SVG_TYPE_Q5_K] = make("q5_K", SVG_QK_K, sizeof(svg_block_q5_k), true, true, svg_q5_k_to_float, svg_q5_k_from_float);
        t[SVG_TYPE_Q6_K] = make("q6_K", SVG_QK_K, sizeof(svg_block_q6_k), true, true, svg_q6_k_to_float, svg_q6_k_from_float);
        t[SVG_TYPE_I8] = make("i8", 1, 1, false, false, nullptr, nullptr);
        t[SVG_TYPE_I16] = make("i16", 1, 2, false, false, nullptr, nullptr);
        t[SVG_TYPE_I32] = make("i32", 1, 4, false, false, nullptr, nullptr);
        t[SVG_TYPE_I64] = make("i64", 1, 8, false, false, nullptr, nullptr);
    }
};
const traits_table &table() {
    static traits_table tt;
    return tt;
}

}  // namespace

extern "C" {

const struct svg_type_traits *svg_type_traits_of(enum svg_type type) {
    if ((int)type < 0 || (int)type >= SVG_TYPE_COUNT) return nullptr;
    const struct svg_type_traits *t = &table().t[type];
    return t->name ? t : nullptr;
}

bool svg_type_is_valid(int type) { return svg_type_traits_of((enum svg_type)type) != nullptr; }

const char *svg_type_name(enum svg_type type) {
    const struct svg_type_traits *t = svg_type_traits_of(type);
    return t ? t->name : "?";
}

bool svg_type_from_name(const char *name, enum svg_type *out) {
    if (!name) return false;
    for (int i = 0; i < SVG_TYPE_COUNT; i++) {
        const struct svg_type_traits *t = svg_type_traits_of((enum svg_type)i);
        if (t && strcasecmp(t->name, name) == 0) {  // "q4_k" for "q4_K"
            *out = (enum svg_type)i;
            return true;
        }
    }
    return false;
}

size_t svg_row_size(enum svg_type type, int64_t n) {
    const struct svg_type_traits *t = svg_type_traits_of(type);
    if (!t) return 0;
    return (size_t)(n / t->block_size) * t->type_size;
}

}  // extern "C"
