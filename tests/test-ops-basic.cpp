// Basic CPU ops against straightforward reference loops written here:
// scalar type conversions, GGUF block layouts and quantization bounds, views,
// casts, elementwise ops with broadcasting, unary ops, softmax, concat, pad,
// repeat, upsample, get_rows, and thread-count independence.
#include "test-common.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <string>

using namespace svgtest;

namespace {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape &ne) {
    int64_t n = 1;
    for (int64_t e : ne) n *= e;
    return n;
}

// Row-major unravel / ravel over a shape (outermost first).
Shape unravel(int64_t i, const Shape &ne) {
    Shape idx(ne.size());
    for (int d = (int)ne.size() - 1; d >= 0; d--) {
        idx[d] = i % ne[d];
        i /= ne[d];
    }
    return idx;
}
int64_t ravel(const Shape &idx, const Shape &ne) {
    int64_t i = 0;
    for (size_t d = 0; d < ne.size(); d++) i = i * ne[d] + idx[d];
    return i;
}

svg_tensor *new_t(svg_context *ctx, svg_type type, const Shape &ne) {
    svg_tensor *t = svg_new_tensor(ctx, type, (int)ne.size(), ne.data());
    EXPECT_NE(t, nullptr) << svg_last_error();
    return t;
}

Shape shape_of(const svg_tensor *t) { return Shape(t->ne, t->ne + t->n_dims); }

std::string shape_str(const Shape &ne) {
    std::string s = "[";
    for (size_t i = 0; i < ne.size(); i++) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

// Reference permutation: out dim i is input dim perm[i].
std::vector<float> permute_ref(const std::vector<float> &v, const Shape &ne, const std::vector<int> &perm,
                               Shape *out_ne) {
    Shape one(ne.size());
    for (size_t i = 0; i < ne.size(); i++) one[i] = ne[(size_t)perm[i]];
    std::vector<float> out((size_t)numel(ne));
    for (int64_t i = 0; i < (int64_t)out.size(); i++) {
        Shape oi = unravel(i, one), ii(ne.size());
        for (size_t d = 0; d < ne.size(); d++) ii[(size_t)perm[d]] = oi[d];
        out[(size_t)i] = v[(size_t)ravel(ii, ne)];
    }
    *out_ne = one;
    return out;
}

// Reference slice with already-normalized start, exclusive end, step > 0.
std::vector<float> slice_ref(const std::vector<float> &v, const Shape &ne, int dim, int64_t start, int64_t end,
                             int64_t step, Shape *out_ne) {
    Shape one = ne;
    one[(size_t)dim] = (end - start + step - 1) / step;
    std::vector<float> out((size_t)numel(one));
    for (int64_t i = 0; i < (int64_t)out.size(); i++) {
        Shape idx = unravel(i, one);
        idx[(size_t)dim] = start + idx[(size_t)dim] * step;
        out[(size_t)i] = v[(size_t)ravel(idx, ne)];
    }
    *out_ne = one;
    return out;
}

void set_ids(svg_tensor *ids, const std::vector<int64_t> &vals) {
    if (ids->type == SVG_TYPE_I32) {
        std::vector<int32_t> v(vals.begin(), vals.end());
        ASSERT_TRUE(svg_tensor_set(ids, v.data(), 0, v.size() * 4)) << svg_last_error();
    } else {
        ASSERT_TRUE(svg_tensor_set(ids, vals.data(), 0, vals.size() * 8)) << svg_last_error();
    }
}

std::vector<uint8_t> raw_bytes(const svg_tensor *t) {
    std::vector<uint8_t> b(svg_nbytes(t));
    EXPECT_TRUE(svg_tensor_get(t, b.data(), 0, b.size())) << svg_last_error();
    return b;
}

// Independent IEEE binary16 decode.
double half_value(uint16_t h) {
    const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0)
        v = std::ldexp((double)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = std::ldexp((double)(1024 + m), e - 25);
    return s ? -v : v;
}

uint16_t read_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

// Per-block error bound check of a q8_0 / q4_0 round trip. x: original
// values, q: quantized bytes (GGUF layout, scale first), y: dequantized.
void check_quant_bounds(svg_type type, const std::vector<float> &x, const std::vector<uint8_t> &q,
                        const std::vector<float> &y, const std::string &what) {
    ASSERT_EQ(x.size(), y.size());
    const size_t bs = 32, tsz = type == SVG_TYPE_Q8_0 ? 34 : 18;
    ASSERT_EQ(q.size(), x.size() / bs * tsz) << what;
    int bad = 0;
    for (size_t b = 0; b < x.size() / bs; b++) {
        const double d = std::fabs(half_value(read_u16(&q[b * tsz])));
        double amax = 0;
        for (size_t j = 0; j < bs; j++) amax = std::max(amax, (double)std::fabs(x[b * bs + j]));
        // quantization step = d; rounding the scale to fp16 (relative 2^-11,
        // absolute 2^-25 for subnormal scales) adds up to |q| times that
        const double dq = d * std::ldexp(1.0, -11) + std::ldexp(1.0, -25);
        const double tol = type == SVG_TYPE_Q8_0 ? 0.5 * d + 128 * dq : 1.0 * d + 8 * dq;
        // the scale must be the usable range (a huge d would zero everything)
        const double dmax = type == SVG_TYPE_Q8_0 ? amax / 127 : amax / 7;
        if (d > dmax * 1.002 + std::ldexp(1.0, -24) && bad++ < 5) ADD_FAILURE() << what << " block " << b << ": scale " << d << " too large for amax " << amax;
        for (size_t j = 0; j < bs; j++) {
            const double err = std::fabs((double)x[b * bs + j] - y[b * bs + j]);
            if (!(err <= tol) && bad++ < 5)
                ADD_FAILURE() << what << " block " << b << " elem " << j << ": x=" << x[b * bs + j]
                              << " y=" << y[b * bs + j] << " err " << err << " > " << tol << " (d=" << d << ")";
        }
    }
    EXPECT_EQ(bad, 0) << what;
}

// Elementwise relative check |y - r| <= rtol * |r| + atol.
void expect_close(const std::vector<float> &y, const std::vector<double> &r, double rtol, double atol,
                  const std::string &what) {
    ASSERT_EQ(y.size(), r.size()) << what;
    int bad = 0;
    for (size_t i = 0; i < y.size(); i++) {
        const double err = std::fabs((double)y[i] - r[i]);
        if (!(err <= rtol * std::fabs(r[i]) + atol) && bad++ < 5)
            ADD_FAILURE() << what << " at " << i << ": got " << y[i] << " want " << r[i];
    }
    EXPECT_EQ(bad, 0) << what;
}
void expect_close(const std::vector<float> &y, const std::vector<float> &r, double rtol, double atol,
                  const std::string &what) {
    expect_close(y, std::vector<double>(r.begin(), r.end()), rtol, atol, what);
}

}  // namespace

// =================================================================== types

TEST(TypeConv, Fp16DecodeAndRoundTripAllPatterns) {
    int checked = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = svg_fp16_to_fp32((uint16_t)h);
        const double want = half_value((uint16_t)h);
        const bool is_nan = ((h >> 10) & 31) == 31 && (h & 1023);
        if (is_nan) {
            ASSERT_TRUE(std::isnan(f)) << std::hex << h;
            const uint16_t back = svg_fp32_to_fp16(f);
            ASSERT_TRUE(((back >> 10) & 31) == 31 && (back & 1023)) << "NaN " << std::hex << h << " -> " << back;
            continue;
        }
        ASSERT_EQ((double)f, want) << std::hex << h;
        ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;
        ASSERT_EQ(svg_fp32_to_fp16(f), (uint16_t)h) << std::hex << h;
        checked++;
    }
    EXPECT_EQ(checked, 65536 - 2 * 1023);
}

TEST(TypeConv, Fp16KnownValues) {
    struct {
        float f;
        uint16_t h;
    } cases[] = {
        {1.0f, 0x3c00},
        {-2.0f, 0xc000},
        {0.5f, 0x3800},
        {0.1f, 0x2e66},
        {65504.0f, 0x7bff},                          // max finite
        {65519.0f, 0x7bff},                          // below the overflow midpoint
        {65520.0f, 0x7c00},                          // tie to even → 2^16 → inf
        {1e6f, 0x7c00},
        {-1e6f, 0xfc00},
        {6.103515625e-05f, 0x0400},                  // 2^-14 smallest normal
        {5.9604644775390625e-08f, 0x0001},           // 2^-24 smallest subnormal
        {std::ldexp(1.0f, -25), 0x0000},             // tie between 0 and 2^-24 → even (0)
        {std::ldexp(1.0f, -25) * 1.0001f, 0x0001},   // just above the tie
        {std::ldexp(3.0f, -25), 0x0002},             // 1.5 ulp tie → even (2)
        {std::ldexp(5.0f, -25), 0x0002},             // 2.5 ulp tie → even (2)
        {std::ldexp(1023.0f, -24), 0x03ff},          // largest subnormal
        {1.0f + std::ldexp(1.0f, -11), 0x3c00},      // tie → even mantissa
        {1.0f + std::ldexp(3.0f, -11), 0x3c02},      // tie → even mantissa
        {1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20), 0x3c01},
        {1e-8f, 0x0000},
        {-1e-8f, 0x8000},
        {-0.0f, 0x8000},
        {0.0f, 0x0000},
        {INFINITY, 0x7c00},
        {-INFINITY, 0xfc00},
    };
    for (auto &c : cases) EXPECT_EQ(svg_fp32_to_fp16(c.f), c.h) << "f=" << c.f;
    const uint16_t hn = svg_fp32_to_fp16(NAN);
    EXPECT_TRUE(((hn >> 10) & 31) == 31 && (hn & 1023)) << std::hex << hn;
    EXPECT_EQ(svg_fp16_to_fp32(0x7bff), 65504.0f);
    EXPECT_EQ(svg_fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));
    EXPECT_EQ(svg_fp16_to_fp32(0x8400), -std::ldexp(1.0f, -14));
    EXPECT_EQ(svg_fp16_to_fp32(0x7c00), INFINITY);
}

// fp32 → fp16 for random floats over the whole range against nearest-even
// search in the sorted table of fp16 values.
TEST(TypeConv, Fp16RoundingRandom) {
    // positive fp16 values in bit order are increasing; 0x7c00 stands for 2^16
    std::vector<double> vals(0x7c01);
    for (uint32_t h = 0; h <= 0x7c00; h++) vals[h] = h == 0x7c00 ? 65536.0 : half_value((uint16_t)h);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> mant(1.f, 2.f);
    std::uniform_int_distribution<int> ex(-27, 16);
    for (int it = 0; it < 200000; it++) {
        float f = std::ldexp(mant(rng), ex(rng));
        if (it & 1) f = -f;
        const double a = std::fabs((double)f);
        size_t hi = (size_t)(std::lower_bound(vals.begin(), vals.end(), a) - vals.begin());
        uint16_t want;
        if (hi >= vals.size()) {
            want = 0x7c00;
        } else if (vals[hi] == a || hi == 0) {
            want = (uint16_t)hi;
        } else {
            const size_t lo = hi - 1;
            const double dl = a - vals[lo], dh = vals[hi] - a;
            want = (uint16_t)(dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo));
        }
        if (f < 0) want |= 0x8000;
        ASSERT_EQ(svg_fp32_to_fp16(f), want) << "f=" << f;
    }
}

TEST(TypeConv, Bf16) {
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = svg_bf16_to_fp32((uint16_t)h);
        uint32_t bits;
        memcpy(&bits, &f, 4);
        const bool is_nan = ((h >> 7) & 0xff) == 0xff && (h & 0x7f);
        if (is_nan) {
            ASSERT_TRUE(std::isnan(f));
            ASSERT_TRUE(std::isnan(svg_bf16_to_fp32(svg_fp32_to_bf16(f)))) << std::hex << h;
            continue;
        }
        ASSERT_EQ(bits, h << 16) << std::hex << h;
        ASSERT_EQ(svg_fp32_to_bf16(f), (uint16_t)h) << std::hex << h;
    }
    EXPECT_EQ(svg_fp32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(svg_fp32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie → even
    EXPECT_EQ(svg_fp32_to_bf16(1.0f + std::ldexp(3.0f, -8)), 0x3f82);  // tie → even
    EXPECT_EQ(svg_fp32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3f81);
    EXPECT_EQ(svg_fp32_to_bf16(-3.0f), 0xc040);
    EXPECT_EQ(svg_fp32_to_bf16(INFINITY), 0x7f80);
    EXPECT_TRUE(std::isnan(svg_bf16_to_fp32(svg_fp32_to_bf16(NAN))));
    // random: nearest of the two neighbours, ties to even
    std::mt19937 rng(2);
    std::uniform_int_distribution<uint32_t> bitsd(0, 0x7f7fffffu);
    for (int it = 0; it < 200000; it++) {
        uint32_t b = bitsd(rng) | ((it & 1u) << 31);
        float f;
        memcpy(&f, &b, 4);
        const uint16_t lo = (uint16_t)(b >> 16), hi = (uint16_t)(lo + 1);
        const double a = std::fabs((double)f), vl = std::fabs((double)svg_bf16_to_fp32(lo));
        const uint32_t hb = (uint32_t)hi << 16;
        float fh;
        memcpy(&fh, &hb, 4);
        const double vh = std::isinf(fh) ? std::ldexp(1.0, 128) : std::fabs((double)fh);
        const double dl = a - vl, dh = vh - a;
        const uint16_t want = dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo);
        ASSERT_EQ(svg_fp32_to_bf16(f), want) << "f=" << f;
    }
}

TEST(TypeConv, TraitsAndRowSizes) {
    const svg_type_traits *q8 = svg_type_traits_of(SVG_TYPE_Q8_0), *q4 = svg_type_traits_of(SVG_TYPE_Q4_0);
    ASSERT_NE(q8, nullptr);
    ASSERT_NE(q4, nullptr);
    EXPECT_EQ(q8->block_size, 32);
    EXPECT_EQ(q8->type_size, 34u);
    EXPECT_EQ(q4->block_size, 32);
    EXPECT_EQ(q4->type_size, 18u);
    EXPECT_TRUE(q8->is_quantized);
    EXPECT_TRUE(q4->is_quantized);
    EXPECT_EQ(svg_row_size(SVG_TYPE_Q8_0, 96), 3u * 34);
    EXPECT_EQ(svg_row_size(SVG_TYPE_Q4_0, 64), 2u * 18);
    EXPECT_EQ(svg_row_size(SVG_TYPE_F16, 7), 14u);
    EXPECT_EQ(svg_row_size(SVG_TYPE_BF16, 33), 66u);
    EXPECT_EQ(svg_row_size(SVG_TYPE_F32, 65), 260u);
    EXPECT_EQ(svg_type_traits_of(SVG_TYPE_F32)->type_size, 4u);
    EXPECT_FALSE(svg_type_traits_of(SVG_TYPE_F32)->is_quantized);
    EXPECT_EQ(svg_type_traits_of((svg_type)3), nullptr);
}

TEST(Quant, Q8_0BlockLayout) {
    std::mt19937 rng(3);
    const int nb = 3;
    std::vector<uint8_t> blk((size_t)nb * 34);
    std::vector<float> want((size_t)nb * 32);
    const uint16_t scales[nb] = {svg_fp32_to_fp16(0.5f), svg_fp32_to_fp16(-0.0123f), 0x0203 /* subnormal */};
    std::uniform_int_distribution<int> qd(-128, 127);
    for (int b = 0; b < nb; b++) {
        uint8_t *p = &blk[(size_t)b * 34];
        p[0] = scales[b] & 0xff;  // little endian fp16 d first
        p[1] = scales[b] >> 8;
        const double d = half_value(scales[b]);
        for (int j = 0; j < 32; j++) {
            const int q = qd(rng);
            p[2 + j] = (uint8_t)(int8_t)q;
            want[(size_t)b * 32 + j] = (float)(d * q);
        }
    }
    std::vector<float> got(want.size());
    svg_type_traits_of(SVG_TYPE_Q8_0)->to_float(blk.data(), got.data(), (int64_t)got.size());
    for (size_t i = 0; i < got.size(); i++) ASSERT_EQ(got[i], want[i]) << i;
}

TEST(Quant, Q4_0BlockLayout) {
    std::mt19937 rng(4);
    const int nb = 3;
    std::vector<uint8_t> blk((size_t)nb * 18);
    std::vector<float> want((size_t)nb * 32);
    const uint16_t scales[nb] = {svg_fp32_to_fp16(0.25f), svg_fp32_to_fp16(-1.375f), svg_fp32_to_fp16(3.0e-3f)};
    std::uniform_int_distribution<int> bd(0, 255);
    for (int b = 0; b < nb; b++) {
        uint8_t *p = &blk[(size_t)b * 18];
        p[0] = scales[b] & 0xff;
        p[1] = scales[b] >> 8;
        const double d = half_value(scales[b]);
        for (int j = 0; j < 16; j++) {
            const int byte = bd(rng);
            p[2 + j] = (uint8_t)byte;
            want[(size_t)b * 32 + j] = (float)(d * ((byte & 15) - 8));       // low nibble: element j
            want[(size_t)b * 32 + j + 16] = (float)(d * ((byte >> 4) - 8));  // high nibble: element j+16
        }
    }
    std::vector<float> got(want.size());
    svg_type_traits_of(SVG_TYPE_Q4_0)->to_float(blk.data(), got.data(), (int64_t)got.size());
    for (size_t i = 0; i < got.size(); i++) ASSERT_EQ(got[i], want[i]) << i;
}

TEST(Quant, RoundTripErrorBounds) {
    std::mt19937 rng(5);
    for (svg_type type : {SVG_TYPE_Q8_0, SVG_TYPE_Q4_0}) {
        const svg_type_traits *tr = svg_type_traits_of(type);
        for (int nblocks : {1, 3, 7, 33}) {
            const int n = nblocks * 32;
            std::vector<float> x((size_t)n);
            // per-block magnitudes from 1e-3 to 1e3, random signs
            std::uniform_real_distribution<float> u(-1.f, 1.f), lg(-3.f, 3.f);
            for (int b = 0; b < nblocks; b++) {
                const float mag = std::pow(10.f, lg(rng));
                for (int j = 0; j < 32; j++) {
                    float v = u(rng);
                    if (v == 0.f) v = 0.5f;
                    x[(size_t)b * 32 + j] = v * mag;
                }
            }
            std::vector<uint8_t> q(svg_row_size(type, n));
            std::vector<float> y((size_t)n);
            tr->from_float(x.data(), q.data(), n);
            tr->to_float(q.data(), y.data(), n);
            check_quant_bounds(type, x, q, y, std::string(tr->name) + " n=" + std::to_string(n));
        }
    }
}

TEST(Quant, ExactlyRepresentableValuesRoundTrip) {
    std::mt19937 rng(6);
    // q8_0: x = d*q with max |q| = 127 and d exact in fp16 → exact round trip
    {
        std::vector<float> x(64), y(64);
        std::uniform_int_distribution<int> qd(-127, 127);
        for (int b = 0; b < 2; b++) {
            const float d = b ? 0.125f : 3.0f;
            for (int j = 0; j < 32; j++) x[(size_t)b * 32 + j] = d * (float)qd(rng);
            x[(size_t)b * 32 + 5] = -127 * d;
        }
        std::vector<uint8_t> q(svg_row_size(SVG_TYPE_Q8_0, 64));
        svg_type_traits_of(SVG_TYPE_Q8_0)->from_float(x.data(), q.data(), 64);
        svg_type_traits_of(SVG_TYPE_Q8_0)->to_float(q.data(), y.data(), 64);
        for (int i = 0; i < 64; i++) EXPECT_EQ(y[(size_t)i], x[(size_t)i]) << i;
    }
    // q4_0: x = d*(q-8), q in 0..15, with one element at -8d (largest magnitude)
    {
        std::vector<float> x(64), y(64);
        std::uniform_int_distribution<int> qd(1, 15);
        for (int b = 0; b < 2; b++) {
            const float d = b ? 0.5f : 0.0625f;
            for (int j = 0; j < 32; j++) x[(size_t)b * 32 + j] = d * (float)(qd(rng) - 8);
            x[(size_t)b * 32 + 20] = -8 * d;
        }
        std::vector<uint8_t> q(svg_row_size(SVG_TYPE_Q4_0, 64));
        svg_type_traits_of(SVG_TYPE_Q4_0)->from_float(x.data(), q.data(), 64);
        svg_type_traits_of(SVG_TYPE_Q4_0)->to_float(q.data(), y.data(), 64);
        for (int i = 0; i < 64; i++) EXPECT_EQ(y[(size_t)i], x[(size_t)i]) << i;
    }
}

// =================================================================== views

TEST(Views, ReshapeAliasesAndInfers) {
    std::mt19937 rng(10);
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {2, 3, 5});
    auto av = fill_random(a, rng);
    const int64_t ne[2] = {5, -1};
    svg_tensor *r = svg_reshape(ctx, a, 2, ne);
    ASSERT_NE(r, nullptr) << svg_last_error();
    EXPECT_EQ(r->op, SVG_OP_VIEW);
    EXPECT_EQ(r->n_dims, 2);
    EXPECT_EQ(r->ne[0], 5);
    EXPECT_EQ(r->ne[1], 6);
    EXPECT_EQ(r->data, a->data);
    EXPECT_TRUE(svg_is_contiguous(r));
    svg_tensor *r2 = svg_reshape_4d(ctx, r, 1, 3, 1, 10);
    ASSERT_NE(r2, nullptr) << svg_last_error();
    EXPECT_EQ(r2->data, a->data);
    const int64_t ne1[1] = {-1};
    svg_tensor *r3 = svg_reshape(ctx, r2, 1, ne1);
    ASSERT_NE(r3, nullptr) << svg_last_error();
    EXPECT_EQ(r3->ne[0], 30);
    svg_tensor *c = svg_cont(ctx, r2);
    ASSERT_TRUE(compute(ctx, c));
    EXPECT_EQ(shape_of(c), (Shape{1, 3, 1, 10}));
    EXPECT_EQ(to_vec(c), av);
    svg_context_free(ctx);
}

TEST(Views, PermuteTransposeCont) {
    std::mt19937 rng(11);
    struct Case {
        Shape ne;
        std::vector<int> perm;
    } cases[] = {
        {{2, 3, 5, 7}, {2, 0, 3, 1}},
        {{7, 33}, {1, 0}},
        {{3, 1, 65}, {2, 0, 1}},
        {{2, 3, 4, 5, 3}, {4, 3, 2, 1, 0}},
    };
    for (auto &cs : cases) {
        svg_context *ctx = svg_context_new(false);
        svg_tensor *a = new_t(ctx, SVG_TYPE_F32, cs.ne);
        auto av = fill_random(a, rng);
        svg_tensor *p = svg_permute(ctx, a, cs.perm.data());
        ASSERT_NE(p, nullptr) << svg_last_error();
        EXPECT_EQ(p->data, a->data);
        EXPECT_EQ(p->op, SVG_OP_VIEW);
        Shape one;
        auto want = permute_ref(av, cs.ne, cs.perm, &one);
        EXPECT_EQ(shape_of(p), one);
        svg_tensor *c = svg_cont(ctx, p);
        ASSERT_TRUE(compute(ctx, c));
        EXPECT_TRUE(svg_is_contiguous(c));
        EXPECT_EQ(to_vec(c), want) << shape_str(cs.ne);
        svg_context_free(ctx);
    }
    // transpose with a negative dim
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {3, 7, 5});
    auto av = fill_random(a, rng);
    svg_tensor *t = svg_transpose(ctx, a, 0, -1);
    ASSERT_NE(t, nullptr) << svg_last_error();
    EXPECT_EQ(t->data, a->data);
    Shape one;
    auto want = permute_ref(av, {3, 7, 5}, {2, 1, 0}, &one);
    svg_tensor *c = svg_cont(ctx, t);
    ASSERT_TRUE(compute(ctx, c));
    EXPECT_EQ(shape_of(c), (Shape{5, 7, 3}));
    EXPECT_EQ(to_vec(c), want);
    svg_context_free(ctx);
}

TEST(Views, SliceStepNegativeAndOffsets) {
    std::mt19937 rng(12);
    svg_context *ctx = svg_context_new(false);
    const Shape ne = {7, 33};
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, ne);
    auto av = fill_random(a, rng);
    // rows 1, 3, 5
    svg_tensor *s0 = svg_slice(ctx, a, 0, 1, 7, 2);
    ASSERT_NE(s0, nullptr) << svg_last_error();
    EXPECT_EQ(s0->data, (char *)a->data + 1 * 33 * 4);
    // columns [-10:-1:3] → 23, 26, 29
    svg_tensor *s1 = svg_slice(ctx, a, -1, -10, -1, 3);
    ASSERT_NE(s1, nullptr) << svg_last_error();
    EXPECT_EQ(shape_of(s1), (Shape{7, 3}));
    EXPECT_EQ(s1->data, (char *)a->data + 23 * 4);
    // end past the size clamps; slice of a slice accumulates the offset
    svg_tensor *s2 = svg_slice(ctx, a, 1, 4, 1000, 1);
    ASSERT_NE(s2, nullptr) << svg_last_error();
    EXPECT_EQ(s2->ne[1], 29);
    svg_tensor *s3 = svg_slice(ctx, s2, 0, 2, 6, 3);  // rows 2, 5
    ASSERT_NE(s3, nullptr) << svg_last_error();
    EXPECT_EQ(s3->data, (char *)a->data + (2 * 33 + 4) * 4);
    EXPECT_EQ(s3->view_src, a);

    svg_tensor *c0 = svg_cont(ctx, s0), *c1 = svg_cont(ctx, s1), *c3 = svg_cont(ctx, s3);
    ASSERT_TRUE(compute(ctx, c0));
    ASSERT_TRUE(compute(ctx, c1));
    ASSERT_TRUE(compute(ctx, c3));
    Shape o;
    EXPECT_EQ(to_vec(c0), slice_ref(av, ne, 0, 1, 7, 2, &o));
    EXPECT_EQ(to_vec(c1), slice_ref(av, ne, 1, 23, 32, 3, &o));
    auto tmp = slice_ref(av, ne, 1, 4, 33, 1, &o);
    Shape o2;
    EXPECT_EQ(to_vec(c3), slice_ref(tmp, o, 0, 2, 6, 3, &o2));
    EXPECT_EQ(shape_of(c3), o2);
    svg_context_free(ctx);
}

TEST(Views, ArbitraryViewAndChains) {
    std::mt19937 rng(13);
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {5, 12});
    auto av = fill_random(a, rng);
    // view [3, 4] with row stride 2 rows(=96 bytes), element stride 2 (8 bytes), offset 3 elements
    const int64_t ne[2] = {3, 4};
    const size_t nb[2] = {96, 8};
    svg_tensor *v = svg_view(ctx, a, 2, ne, nb, 12);
    ASSERT_NE(v, nullptr) << svg_last_error();
    EXPECT_EQ(v->data, (char *)a->data + 12);
    svg_tensor *c = svg_cont(ctx, v);
    ASSERT_TRUE(compute(ctx, c));
    std::vector<float> want;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) want.push_back(av[(size_t)(3 + i * 24 + j * 2)]);
    EXPECT_EQ(to_vec(c), want);

    // slice of a permute of a reshape, then cont
    svg_tensor *b = new_t(ctx, SVG_TYPE_F32, {6, 35});
    auto bv = fill_random(b, rng);
    svg_tensor *r = svg_reshape_3d(ctx, b, 6, 5, 7);
    const int perm[3] = {2, 0, 1};
    svg_tensor *p = svg_permute(ctx, r, perm);  // [7, 6, 5]
    svg_tensor *s = svg_slice(ctx, p, 1, 1, 6, 2);  // [7, 3, 5]
    ASSERT_NE(s, nullptr) << svg_last_error();
    EXPECT_EQ(s->data, (char *)b->data + 35 * 4);
    svg_tensor *cs = svg_cont(ctx, s);
    ASSERT_TRUE(compute(ctx, cs));
    Shape o1, o2;
    auto pw = permute_ref(bv, {6, 5, 7}, {2, 0, 1}, &o1);
    auto sw = slice_ref(pw, o1, 1, 1, 6, 2, &o2);
    EXPECT_EQ(shape_of(cs), o2);
    EXPECT_EQ(to_vec(cs), sw);
    svg_context_free(ctx);
}

TEST(Views, CastBetweenTypes) {
    std::mt19937 rng(14);
    auto round_f16 = [](float x) { return svg_fp16_to_fp32(svg_fp32_to_fp16(x)); };
    auto round_bf16 = [](float x) { return svg_bf16_to_fp32(svg_fp32_to_bf16(x)); };
    for (const Shape &ne : {Shape{3, 64}, Shape{2, 7, 96}, Shape{33, 32}}) {
        svg_context *ctx = svg_context_new(false);
        svg_tensor *x = new_t(ctx, SVG_TYPE_F32, ne);
        auto xv = fill_random(x, rng, -3.f, 3.f);
        svg_tensor *h = svg_cast(ctx, x, SVG_TYPE_F16);
        svg_tensor *bf = svg_cast(ctx, x, SVG_TYPE_BF16);
        svg_tensor *q8 = svg_cast(ctx, x, SVG_TYPE_Q8_0);
        svg_tensor *q4 = svg_cast(ctx, x, SVG_TYPE_Q4_0);
        svg_tensor *h2f = svg_cast(ctx, h, SVG_TYPE_F32);
        svg_tensor *h2b = svg_cast(ctx, h, SVG_TYPE_BF16);
        svg_tensor *b2h = svg_cast(ctx, bf, SVG_TYPE_F16);
        svg_tensor *q82f = svg_cast(ctx, q8, SVG_TYPE_F32);
        svg_tensor *q42f = svg_cast(ctx, q4, SVG_TYPE_F32);
        svg_tensor *q82h = svg_cast(ctx, q8, SVG_TYPE_F16);
        for (svg_tensor *t : {h, bf, q8, q4, h2f, h2b, b2h, q82f, q42f, q82h}) {
            ASSERT_NE(t, nullptr) << svg_last_error();
            ASSERT_EQ(shape_of(t), ne);
        }
        EXPECT_EQ(q8->type, SVG_TYPE_Q8_0);
        for (svg_tensor *t : {h2f, h2b, b2h, q82f, q42f, q82h}) ASSERT_TRUE(compute(ctx, t));
        const size_t n = xv.size();
        std::vector<float> wh(n), wb(n), whb(n), wbh(n);
        for (size_t i = 0; i < n; i++) {
            wh[i] = round_f16(xv[i]);
            wb[i] = round_bf16(xv[i]);
            whb[i] = round_bf16(wh[i]);
            wbh[i] = round_f16(wb[i]);
        }
        const std::string s = shape_str(ne);
        EXPECT_EQ(to_vec(h), wh) << s;
        EXPECT_EQ(to_vec(bf), wb) << s;
        EXPECT_EQ(to_vec(h2f), wh) << s;
        EXPECT_EQ(to_vec(h2b), whb) << s;
        EXPECT_EQ(to_vec(b2h), wbh) << s;
        check_quant_bounds(SVG_TYPE_Q8_0, xv, raw_bytes(q8), to_vec(q82f), "cast q8_0 " + s);
        check_quant_bounds(SVG_TYPE_Q4_0, xv, raw_bytes(q4), to_vec(q42f), "cast q4_0 " + s);
        EXPECT_LT(rel_l2(to_vec(q82f), xv), 0.01) << s;
        EXPECT_LT(rel_l2(to_vec(q42f), xv), 0.15) << s;
        // the cast's dequantization equals the type's to_float
        EXPECT_EQ(to_vec(q82f), to_vec(q8)) << s;
        auto q8v = to_vec(q8);
        std::vector<float> wq8h(n);
        for (size_t i = 0; i < n; i++) wq8h[i] = round_f16(q8v[i]);
        EXPECT_EQ(to_vec(q82h), wq8h) << s;
        svg_context_free(ctx);
    }
}

TEST(Views, CastFromNonContiguous) {
    std::mt19937 rng(15);
    svg_context *ctx = svg_context_new(false);
    svg_tensor *x = new_t(ctx, SVG_TYPE_F32, {64, 3, 5});
    auto xv = fill_random(x, rng);
    const int perm[3] = {2, 1, 0};
    svg_tensor *p = svg_permute(ctx, x, perm);  // [5, 3, 64]
    svg_tensor *h = svg_cast(ctx, p, SVG_TYPE_F16);
    svg_tensor *q = svg_cast(ctx, p, SVG_TYPE_Q8_0);
    ASSERT_TRUE(compute(ctx, h));
    ASSERT_TRUE(compute(ctx, q));
    Shape o;
    auto pv = permute_ref(xv, {64, 3, 5}, {2, 1, 0}, &o);
    std::vector<float> wh(pv.size());
    for (size_t i = 0; i < pv.size(); i++) wh[i] = svg_fp16_to_fp32(svg_fp32_to_fp16(pv[i]));
    EXPECT_EQ(to_vec(h), wh);
    check_quant_bounds(SVG_TYPE_Q8_0, pv, raw_bytes(q), to_vec(q), "cast permuted → q8_0");
    svg_context_free(ctx);
}

TEST(Views, ErrorsReturnNullWithMessage) {
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {2, 3, 5});
    svg_tensor *q = new_t(ctx, SVG_TYPE_Q8_0, {4, 64});
    auto expect_err = [&](svg_tensor *r, const char *what) {
        EXPECT_EQ(r, nullptr) << what;
        EXPECT_STRNE(svg_last_error(), "") << what;
        svg_clear_error();
    };
    svg_clear_error();
    {
        const int64_t ne[2] = {4, 4};
        expect_err(svg_reshape(ctx, a, 2, ne), "reshape wrong count");
        const int64_t ne2[2] = {-1, -1};
        expect_err(svg_reshape(ctx, a, 2, ne2), "reshape two -1");
        const int64_t ne3[2] = {-1, 7};
        expect_err(svg_reshape(ctx, a, 2, ne3), "reshape uninferrable -1");
        const int64_t ne4[2] = {-3, 10};
        expect_err(svg_reshape(ctx, a, 2, ne4), "reshape negative");
        svg_tensor *t = svg_transpose(ctx, a, 0, 2);
        ASSERT_NE(t, nullptr);
        const int64_t ne5[1] = {30};
        expect_err(svg_reshape(ctx, t, 1, ne5), "reshape non-contiguous");
    }
    {
        const int dup[3] = {0, 0, 1};
        expect_err(svg_permute(ctx, a, dup), "permute duplicate");
        const int oor[3] = {0, 1, 3};
        expect_err(svg_permute(ctx, a, oor), "permute out of range");
        const int neg[3] = {0, -1, 2};
        expect_err(svg_permute(ctx, a, neg), "permute negative");
        expect_err(svg_transpose(ctx, a, 0, 3), "transpose out of range");
        const int qp[2] = {1, 0};
        expect_err(svg_permute(ctx, q, qp), "permute quantized innermost");
    }
    {
        expect_err(svg_slice(ctx, a, 0, 0, 2, 0), "slice step 0");
        expect_err(svg_slice(ctx, a, 0, 0, 2, -1), "slice negative step");
        expect_err(svg_slice(ctx, a, 3, 0, 1, 1), "slice dim out of range");
        expect_err(svg_slice(ctx, a, -4, 0, 1, 1), "slice negative dim out of range");
        expect_err(svg_slice(ctx, a, 2, 4, 2, 1), "slice start > end");
        expect_err(svg_slice(ctx, a, 1, -7, 2, 1), "slice start before 0");
        expect_err(svg_slice(ctx, q, 1, 0, 32, 1), "slice quantized innermost");
    }
    {
        const int64_t ne[2] = {3, 10};
        const size_t nb[2] = {48, 4};  // spans 2*48 + 40 = 136 > 120 bytes
        expect_err(svg_view(ctx, a, 2, ne, nb, 0), "view out of bounds");
        const int64_t ne2[1] = {30};
        const size_t nb2[1] = {4};
        expect_err(svg_view(ctx, a, 1, ne2, nb2, 4), "view offset out of bounds");
    }
    {
        svg_tensor *b = new_t(ctx, SVG_TYPE_F32, {4});
        expect_err(svg_add(ctx, a, b), "add no broadcast");
        svg_tensor *c = new_t(ctx, SVG_TYPE_F32, {3, 2});
        expect_err(svg_mul(ctx, a, c), "mul no broadcast");
        svg_tensor *d = new_t(ctx, SVG_TYPE_F32, {2, 4, 5});
        expect_err(svg_concat(ctx, a, d, 0), "concat mismatched");
        expect_err(svg_concat(ctx, a, d, 3), "concat dim out of range");
        expect_err(svg_cast(ctx, a, SVG_TYPE_Q8_0), "cast to q8_0 with row 5");
        const int64_t reps[3] = {1, 0, 1};
        expect_err(svg_repeat(ctx, a, reps), "repeat 0");
        const int f[2] = {2, 0};
        expect_err(svg_upsample_nearest(ctx, a, 2, f), "upsample factor 0");
        const int64_t bad[3] = {0, -1, 0};
        expect_err(svg_pad(ctx, a, bad, nullptr, SVG_PAD_CONSTANT, 0.f), "pad negative");
        const int64_t ne[2] = {2, 33};
        expect_err(svg_new_tensor(ctx, SVG_TYPE_Q4_0, 2, ne), "q4_0 row 33");
    }
    svg_context_free(ctx);
}

TEST(Views, NullPropagates) {
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {2, 4, 32});
    svg_tensor *ids = new_t(ctx, SVG_TYPE_I32, {3});
    const int64_t ne[2] = {8, 32};
    const size_t nb[2] = {128, 4};
    const int perm[3] = {0, 1, 2};
    const int64_t reps[3] = {1, 1, 1};
    const int f2[2] = {2, 2};
    svg_tensor *N = nullptr;
    EXPECT_EQ(svg_add(ctx, N, a), nullptr);
    EXPECT_EQ(svg_add(ctx, a, N), nullptr);
    EXPECT_EQ(svg_sub(ctx, N, a), nullptr);
    EXPECT_EQ(svg_mul(ctx, a, N), nullptr);
    EXPECT_EQ(svg_div(ctx, N, N), nullptr);
    EXPECT_EQ(svg_scale(ctx, N, 1.f, 0.f), nullptr);
    EXPECT_EQ(svg_gelu(ctx, N), nullptr);
    EXPECT_EQ(svg_unary(ctx, N, SVG_UNARY_EXP), nullptr);
    EXPECT_EQ(svg_softmax(ctx, N), nullptr);
    EXPECT_EQ(svg_reshape(ctx, N, 2, ne), nullptr);
    EXPECT_EQ(svg_reshape_2d(ctx, N, 8, 32), nullptr);
    EXPECT_EQ(svg_view(ctx, N, 2, ne, nb, 0), nullptr);
    EXPECT_EQ(svg_permute(ctx, N, perm), nullptr);
    EXPECT_EQ(svg_transpose(ctx, N, 0, 1), nullptr);
    EXPECT_EQ(svg_slice(ctx, N, 0, 0, 1, 1), nullptr);
    EXPECT_EQ(svg_cont(ctx, N), nullptr);
    EXPECT_EQ(svg_cast(ctx, N, SVG_TYPE_F16), nullptr);
    EXPECT_EQ(svg_concat(ctx, a, N, 0), nullptr);
    EXPECT_EQ(svg_concat(ctx, N, a, 0), nullptr);
    EXPECT_EQ(svg_pad(ctx, N, nullptr, nullptr, SVG_PAD_CONSTANT, 0.f), nullptr);
    EXPECT_EQ(svg_repeat(ctx, N, reps), nullptr);
    EXPECT_EQ(svg_upsample_nearest(ctx, N, 2, f2), nullptr);
    EXPECT_EQ(svg_get_rows(ctx, N, ids), nullptr);
    EXPECT_EQ(svg_get_rows(ctx, a, N), nullptr);
    // an error deep in a chain reaches the end
    svg_tensor *bad = svg_reshape_2d(ctx, a, 5, 5);
    EXPECT_EQ(bad, nullptr);
    svg_tensor *y = svg_softmax(ctx, svg_gelu(ctx, svg_add(ctx, svg_scale(ctx, bad, 2.f, 1.f), a)));
    EXPECT_EQ(y, nullptr);
    svg_context_free(ctx);
}

// ============================================================= elementwise

namespace {

enum BinOp { ADD, SUB, MUL, DIV };
const char *bin_name(BinOp o) { return o == ADD ? "add" : o == SUB ? "sub" : o == MUL ? "mul" : "div"; }
svg_tensor *bin_apply(svg_context *ctx, BinOp o, svg_tensor *a, svg_tensor *b) {
    switch (o) {
        case ADD: return svg_add(ctx, a, b);
        case SUB: return svg_sub(ctx, a, b);
        case MUL: return svg_mul(ctx, a, b);
        default: return svg_div(ctx, a, b);
    }
}
float bin_ref(BinOp o, float x, float y) {
    switch (o) {
        case ADD: return x + y;
        case SUB: return x - y;
        case MUL: return x * y;
        default: return x / y;
    }
}

// NumPy broadcast of logical (contiguous) values.
std::vector<float> broadcast_ref(BinOp o, const std::vector<float> &av, const Shape &an, const std::vector<float> &bv,
                                 const Shape &bn, Shape *out) {
    const size_t n = std::max(an.size(), bn.size());
    Shape on(n);
    for (size_t i = 0; i < n; i++) {
        const int64_t ea = i + an.size() >= n ? an[i + an.size() - n] : 1;
        const int64_t eb = i + bn.size() >= n ? bn[i + bn.size() - n] : 1;
        on[i] = std::max(ea, eb);
    }
    std::vector<float> r((size_t)numel(on));
    for (int64_t i = 0; i < (int64_t)r.size(); i++) {
        Shape idx = unravel(i, on);
        Shape ia(an.size()), ib(bn.size());
        for (size_t d = 0; d < an.size(); d++) ia[d] = an[d] == 1 ? 0 : idx[n - an.size() + d];
        for (size_t d = 0; d < bn.size(); d++) ib[d] = bn[d] == 1 ? 0 : idx[n - bn.size() + d];
        r[(size_t)i] = bin_ref(o, av[(size_t)ravel(ia, an)], bv[(size_t)ravel(ib, bn)]);
    }
    *out = on;
    return r;
}

std::vector<float> fill_nonzero(svg_tensor *t, std::mt19937 &rng) {
    // |v| in [0.5, 2) with random sign: safe divisor
    std::vector<float> v((size_t)svg_nelements(t));
    std::uniform_real_distribution<float> d(0.5f, 2.f);
    for (size_t i = 0; i < v.size(); i++) v[i] = (rng() & 1) ? d(rng) : -d(rng);
    EXPECT_TRUE(svg_tensor_set_f32(t, v.data(), (int64_t)v.size()));
    return v;
}

}  // namespace

TEST(Binary, BroadcastShapes) {
    std::mt19937 rng(20);
    const std::pair<Shape, Shape> cases[] = {
        {{2, 3, 5}, {2, 3, 5}}, {{2, 3, 5}, {5}},       {{2, 3, 5}, {3, 1}},  {{2, 3, 5}, {2, 1, 5}},
        {{2, 3, 5}, {1}},       {{2, 3, 5}, {3, 5}},    {{3, 1}, {2, 1, 5}},  {{5}, {2, 3, 5}},
        {{7, 33}, {33}},        {{7, 33}, {7, 1}},      {{65}, {65}},         {{1}, {1}},
        {{3, 1, 65}, {1, 7, 1}}, {{2, 1, 3, 1, 33}, {4, 1, 7, 33}},
    };
    for (auto &c : cases) {
        for (BinOp o : {ADD, SUB, MUL, DIV}) {
            svg_context *ctx = svg_context_new(false);
            svg_tensor *a = new_t(ctx, SVG_TYPE_F32, c.first);
            svg_tensor *b = new_t(ctx, SVG_TYPE_F32, c.second);
            auto av = fill_random(a, rng, -2.f, 2.f);
            auto bv = fill_nonzero(b, rng);
            svg_tensor *y = bin_apply(ctx, o, a, b);
            ASSERT_TRUE(compute(ctx, y));
            Shape on;
            auto want = broadcast_ref(o, av, c.first, bv, c.second, &on);
            const std::string what = std::string(bin_name(o)) + " " + shape_str(c.first) + " " + shape_str(c.second);
            EXPECT_EQ(shape_of(y), on) << what;
            EXPECT_EQ(y->type, SVG_TYPE_F32);
            expect_close(to_vec(y), want, 1e-6, 1e-7, what);
            svg_context_free(ctx);
        }
    }
}

TEST(Binary, NonContiguousInputs) {
    std::mt19937 rng(21);
    for (BinOp o : {ADD, SUB, MUL, DIV}) {
        svg_context *ctx = svg_context_new(false);
        // a: permuted [5, 3, 2] → [2, 3, 5]
        svg_tensor *abase = new_t(ctx, SVG_TYPE_F32, {5, 3, 2});
        auto abv = fill_random(abase, rng, -2.f, 2.f);
        const int perm[3] = {2, 1, 0};
        svg_tensor *a = svg_permute(ctx, abase, perm);
        // b: stepped slice [2, 3, 9] → [2, 3, 5] (columns 0, 2, 4, 6, 8)
        svg_tensor *bbase = new_t(ctx, SVG_TYPE_F32, {2, 3, 9});
        auto bbv = fill_nonzero(bbase, rng);
        svg_tensor *b = svg_slice(ctx, bbase, 2, 0, 9, 2);
        // c: transposed [5, 3] → [3, 5] broadcast over the batch
        svg_tensor *cbase = new_t(ctx, SVG_TYPE_F32, {5, 3});
        auto cbv = fill_nonzero(cbase, rng);
        svg_tensor *c = svg_transpose(ctx, cbase, 0, 1);
        svg_tensor *y1 = bin_apply(ctx, o, a, b);
        svg_tensor *y2 = bin_apply(ctx, o, a, c);
        svg_tensor *y3 = bin_apply(ctx, o, b, a);  // non-contiguous a-side with strided b
        ASSERT_TRUE(compute(ctx, y1));
        ASSERT_TRUE(compute(ctx, y2));
        ASSERT_TRUE(compute(ctx, y3));
        Shape pa, sb, tc, on;
        auto av = permute_ref(abv, {5, 3, 2}, {2, 1, 0}, &pa);
        auto bv = slice_ref(bbv, {2, 3, 9}, 2, 0, 9, 2, &sb);
        auto cv = permute_ref(cbv, {5, 3}, {1, 0}, &tc);
        const std::string n = bin_name(o);
        expect_close(to_vec(y1), broadcast_ref(o, av, pa, bv, sb, &on), 1e-6, 1e-7, n + " permuted/sliced");
        expect_close(to_vec(y2), broadcast_ref(o, av, pa, cv, tc, &on), 1e-6, 1e-7, n + " permuted/transposed bcast");
        expect_close(to_vec(y3), broadcast_ref(o, bv, sb, av, pa, &on), 1e-6, 1e-7, n + " sliced/permuted");
        svg_context_free(ctx);
    }
}

TEST(Unary, ScaleAffine) {
    std::mt19937 rng(30);
    for (const Shape &ne : {Shape{1}, Shape{3}, Shape{7, 33}, Shape{2, 3, 65}}) {
        for (auto sb : {std::make_pair(1.7f, -0.3f), std::make_pair(-0.5f, 0.f), std::make_pair(0.f, 2.5f)}) {
            svg_context *ctx = svg_context_new(false);
            svg_tensor *a = new_t(ctx, SVG_TYPE_F32, ne);
            auto av = fill_random(a, rng, -4.f, 4.f);
            svg_tensor *y = svg_scale(ctx, a, sb.first, sb.second);
            ASSERT_TRUE(compute(ctx, y));
            std::vector<double> want(av.size());
            for (size_t i = 0; i < av.size(); i++) want[i] = (double)av[i] * sb.first + sb.second;
            expect_close(to_vec(y), want, 1e-6, 1e-6, "scale " + shape_str(ne));
            svg_context_free(ctx);
        }
    }
}

namespace {
double unary_ref(svg_unary_op op, double x) {
    switch (op) {
        case SVG_UNARY_GELU: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        case SVG_UNARY_GELU_TANH:
            return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
        case SVG_UNARY_SILU: return x / (1 + std::exp(-x));
        case SVG_UNARY_RELU: return x > 0 ? x : 0;
        case SVG_UNARY_EXP: return std::exp(x);
        case SVG_UNARY_TANH: return std::tanh(x);
        case SVG_UNARY_SIGMOID: return 1 / (1 + std::exp(-x));
        default: return NAN;
    }
}
const char *unary_name(svg_unary_op op) {
    static const char *n[] = {"gelu", "gelu_tanh", "silu", "relu", "exp", "tanh", "sigmoid"};
    return n[op];
}
}  // namespace

TEST(Unary, AllOps) {
    std::mt19937 rng(31);
    for (int o = 0; o < SVG_UNARY_COUNT; o++) {
        const svg_unary_op op = (svg_unary_op)o;
        for (const Shape &ne : {Shape{1}, Shape{3}, Shape{7, 33}, Shape{2, 3, 65}, Shape{5, 129}}) {
            for (float range : {3.f, 20.f}) {
                svg_context *ctx = svg_context_new(false);
                svg_tensor *a = new_t(ctx, SVG_TYPE_F32, ne);
                auto av = fill_random(a, rng, -range, range);
                svg_tensor *y = svg_unary(ctx, a, op);
                ASSERT_TRUE(compute(ctx, y));
                std::vector<double> want(av.size());
                for (size_t i = 0; i < av.size(); i++) want[i] = unary_ref(op, av[i]);
                const std::string what = std::string(unary_name(op)) + " " + shape_str(ne) + " range " + std::to_string(range);
                auto got = to_vec(y);
                expect_close(got, want, 1e-5, 1e-6, what);
                EXPECT_LT(rel_l2(got, std::vector<float>(want.begin(), want.end())), 1e-5) << what;
                svg_context_free(ctx);
            }
        }
    }
    // the named wrappers build the matching unary op
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {4, 33});
    auto av = fill_random(a, rng, -3.f, 3.f);
    svg_tensor *(*fns[])(svg_context *, svg_tensor *) = {svg_gelu, svg_gelu_tanh, svg_silu, svg_relu,
                                                         svg_exp,  svg_tanh,      svg_sigmoid};
    for (int o = 0; o < SVG_UNARY_COUNT; o++) {
        svg_tensor *y = fns[o](ctx, a);
        ASSERT_TRUE(compute(ctx, y));
        std::vector<double> want(av.size());
        for (size_t i = 0; i < av.size(); i++) want[i] = unary_ref((svg_unary_op)o, av[i]);
        expect_close(to_vec(y), want, 1e-5, 1e-6, std::string("wrapper ") + unary_name((svg_unary_op)o));
    }
    svg_context_free(ctx);
}

TEST(Unary, NonContiguousInput) {
    std::mt19937 rng(32);
    svg_context *ctx = svg_context_new(false);
    svg_tensor *base = new_t(ctx, SVG_TYPE_F32, {33, 7});
    auto bv = fill_random(base, rng, -3.f, 3.f);
    svg_tensor *t = svg_transpose(ctx, base, 0, 1);  // [7, 33]
    Shape tn;
    auto tv = permute_ref(bv, {33, 7}, {1, 0}, &tn);
    for (int o = 0; o < SVG_UNARY_COUNT; o++) {
        svg_tensor *y = svg_unary(ctx, t, (svg_unary_op)o);
        ASSERT_TRUE(compute(ctx, y));
        EXPECT_EQ(shape_of(y), tn);
        std::vector<double> want(tv.size());
        for (size_t i = 0; i < tv.size(); i++) want[i] = unary_ref((svg_unary_op)o, tv[i]);
        expect_close(to_vec(y), want, 1e-5, 1e-6, std::string("transposed ") + unary_name((svg_unary_op)o));
    }
    svg_tensor *s = svg_scale(ctx, t, 2.f, 1.f);
    ASSERT_TRUE(compute(ctx, s));
    std::vector<double> want(tv.size());
    for (size_t i = 0; i < tv.size(); i++) want[i] = 2.0 * tv[i] + 1.0;
    expect_close(to_vec(s), want, 1e-6, 1e-6, "transposed scale");
    svg_context_free(ctx);
}

// ================================================================= softmax

namespace {
std::vector<double> softmax_ref(const std::vector<float> &x, int64_t row) {
    std::vector<double> y(x.size());
    for (size_t r = 0; r < x.size() / (size_t)row; r++) {
        const float *p = &x[r * (size_t)row];
        double m = -INFINITY;
        for (int64_t j = 0; j < row; j++) m = std::max(m, (double)p[j]);
        double s = 0;
        for (int64_t j = 0; j < row; j++) s += std::exp((double)p[j] - m);
        for (int64_t j = 0; j < row; j++) y[r * (size_t)row + (size_t)j] = std::exp((double)p[j] - m) / s;
    }
    return y;
}
}  // namespace

TEST(Softmax, LastDim) {
    std::mt19937 rng(40);
    for (const Shape &ne : {Shape{1, 1}, Shape{3}, Shape{3, 7}, Shape{5, 33}, Shape{2, 3, 65}, Shape{4, 257}, Shape{2, 1000}}) {
        for (float range : {1.f, 10.f, 80.f}) {
            svg_context *ctx = svg_context_new(false);
            svg_tensor *a = new_t(ctx, SVG_TYPE_F32, ne);
            auto av = fill_random(a, rng, -range, range);
            svg_tensor *y = svg_softmax(ctx, a);
            ASSERT_TRUE(compute(ctx, y));
            const int64_t row = ne.back();
            auto got = to_vec(y);
            auto want = softmax_ref(av, row);
            const std::string what = "softmax " + shape_str(ne) + " range " + std::to_string(range);
            expect_close(got, want, 1e-5, 1e-7, what);
            for (size_t r = 0; r < got.size() / (size_t)row; r++) {
                double s = 0;
                for (int64_t j = 0; j < row; j++) s += got[r * (size_t)row + (size_t)j];
                EXPECT_NEAR(s, 1.0, 1e-5) << what << " row " << r;
            }
            svg_context_free(ctx);
        }
    }
}

TEST(Softmax, LargeMagnitudesAreStable) {
    std::mt19937 rng(41);
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {4, 65});
    auto av = fill_random(a, rng, -1.f, 1.f);
    for (int j = 0; j < 65; j++) {
        av[(size_t)j] = 80.f;                                   // all equal and large → uniform
        av[65 + (size_t)j] = 500.f + av[65 + (size_t)j];        // exp would overflow without max subtraction
        av[130 + (size_t)j] = -500.f + 3 * av[130 + (size_t)j]; // exp would underflow to 0/0
        av[195 + (size_t)j] = (j == 7) ? 88.f : -88.f;          // one-hot
    }
    ASSERT_TRUE(svg_tensor_set_f32(a, av.data(), (int64_t)av.size()));
    svg_tensor *y = svg_softmax(ctx, a);
    ASSERT_TRUE(compute(ctx, y));
    auto got = to_vec(y);
    expect_close(got, softmax_ref(av, 65), 1e-5, 1e-7, "softmax large");
    EXPECT_NEAR(got[0], 1.0 / 65, 1e-7);
    EXPECT_NEAR(got[195 + 7], 1.0, 1e-6);
    svg_context_free(ctx);
}

TEST(Softmax, NonContiguousInput) {
    std::mt19937 rng(42);
    svg_context *ctx = svg_context_new(false);
    svg_tensor *base = new_t(ctx, SVG_TYPE_F32, {33, 6});
    auto bv = fill_random(base, rng, -5.f, 5.f);
    svg_tensor *t = svg_transpose(ctx, base, 0, 1);  // [6, 33], rows strided
    svg_tensor *y = svg_softmax(ctx, t);
    ASSERT_TRUE(compute(ctx, y));
    Shape tn;
    auto tv = permute_ref(bv, {33, 6}, {1, 0}, &tn);
    expect_close(to_vec(y), softmax_ref(tv, 33), 1e-5, 1e-7, "softmax transposed");
    svg_context_free(ctx);
}

// ============================================================ data movement

TEST(DataMovement, ConcatEachDim) {
    std::mt19937 rng(50);
    const Shape an = {2, 3, 5};
    for (int dim : {0, 1, 2, -1, -3}) {
        for (int64_t extra : {1, 4, 7}) {
            const int d = dim < 0 ? dim + 3 : dim;
            Shape bn = an;
            bn[(size_t)d] = extra;
            svg_context *ctx = svg_context_new(false);
            svg_tensor *a = new_t(ctx, SVG_TYPE_F32, an);
            svg_tensor *b = new_t(ctx, SVG_TYPE_F32, bn);
            auto av = fill_random(a, rng);
            auto bv = fill_random(b, rng);
            svg_tensor *y = svg_concat(ctx, a, b, dim);
            ASSERT_TRUE(compute(ctx, y));
            Shape on = an;
            on[(size_t)d] += extra;
            EXPECT_EQ(shape_of(y), on);
            std::vector<float> want((size_t)numel(on));
            for (int64_t i = 0; i < (int64_t)want.size(); i++) {
                Shape idx = unravel(i, on);
                if (idx[(size_t)d] < an[(size_t)d]) {
                    want[(size_t)i] = av[(size_t)ravel(idx, an)];
                } else {
                    idx[(size_t)d] -= an[(size_t)d];
                    want[(size_t)i] = bv[(size_t)ravel(idx, bn)];
                }
            }
            EXPECT_EQ(to_vec(y), want) << "concat dim " << dim << " extra " << extra;
            svg_context_free(ctx);
        }
    }
}

TEST(DataMovement, ConcatNonContiguous) {
    std::mt19937 rng(51);
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {7, 33});
    svg_tensor *bb = new_t(ctx, SVG_TYPE_F32, {33, 3});
    auto av = fill_random(a, rng);
    auto bbv = fill_random(bb, rng);
    svg_tensor *b = svg_transpose(ctx, bb, 0, 1);  // [3, 33]
    svg_tensor *y = svg_concat(ctx, b, a, 0);      // [10, 33]
    ASSERT_TRUE(compute(ctx, y));
    Shape tn;
    auto want = permute_ref(bbv, {33, 3}, {1, 0}, &tn);
    want.insert(want.end(), av.begin(), av.end());
    EXPECT_EQ(to_vec(y), want);
    // innermost dim with strided rows on either side
    svg_tensor *cb = new_t(ctx, SVG_TYPE_F32, {5, 7});
    auto cbv = fill_random(cb, rng);
    svg_tensor *ct = svg_transpose(ctx, cb, 0, 1);  // [7, 5]
    svg_tensor *y1 = svg_concat(ctx, a, ct, -1);    // [7, 38]
    svg_tensor *y2 = svg_concat(ctx, ct, a, 1);     // [7, 38]
    ASSERT_TRUE(compute(ctx, y1));
    ASSERT_TRUE(compute(ctx, y2));
    std::vector<float> w1, w2;
    for (int i = 0; i < 7; i++) {
        for (int j = 0; j < 33; j++) w1.push_back(av[(size_t)(i * 33 + j)]);
        for (int j = 0; j < 5; j++) w1.push_back(cbv[(size_t)(j * 7 + i)]);
        for (int j = 0; j < 5; j++) w2.push_back(cbv[(size_t)(j * 7 + i)]);
        for (int j = 0; j < 33; j++) w2.push_back(av[(size_t)(i * 33 + j)]);
    }
    EXPECT_EQ(to_vec(y1), w1);
    EXPECT_EQ(to_vec(y2), w2);
    svg_context_free(ctx);
}

TEST(DataMovement, PadConstantAndReplicate) {
    std::mt19937 rng(52);
    struct Case {
        Shape ne, before, after;
    } cases[] = {
        {{2, 3, 5}, {1, 0, 2}, {0, 2, 3}},
        {{7}, {3}, {1}},
        {{1, 3, 1, 7}, {0, 1, 2, 0}, {1, 0, 1, 4}},
        {{4, 33}, {0, 0}, {0, 31}},
    };
    for (auto &c : cases) {
        for (svg_pad_mode mode : {SVG_PAD_CONSTANT, SVG_PAD_REPLICATE}) {
            svg_context *ctx = svg_context_new(false);
            svg_tensor *a = new_t(ctx, SVG_TYPE_F32, c.ne);
            auto av = fill_random(a, rng);
            const float value = 0.625f;
            svg_tensor *y = svg_pad(ctx, a, c.before.data(), c.after.data(), mode, value);
            ASSERT_TRUE(compute(ctx, y));
            Shape on(c.ne.size());
            for (size_t i = 0; i < on.size(); i++) on[i] = c.ne[i] + c.before[i] + c.after[i];
            EXPECT_EQ(shape_of(y), on);
            std::vector<float> want((size_t)numel(on));
            for (int64_t i = 0; i < (int64_t)want.size(); i++) {
                Shape idx = unravel(i, on);
                bool inside = true;
                for (size_t d = 0; d < on.size(); d++) {
                    int64_t s = idx[d] - c.before[d];
                    if (s < 0 || s >= c.ne[d]) {
                        inside = false;
                        s = std::min(std::max<int64_t>(s, 0), c.ne[d] - 1);
                    }
                    idx[d] = s;
                }
                want[(size_t)i] = (inside || mode == SVG_PAD_REPLICATE) ? av[(size_t)ravel(idx, c.ne)] : value;
            }
            EXPECT_EQ(to_vec(y), want) << "pad " << shape_str(c.ne) << " mode " << mode;
            svg_context_free(ctx);
        }
    }
    // NULL before/after means zero padding on that side
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {3, 5});
    auto av = fill_random(a, rng);
    const int64_t after[2] = {1, 2};
    svg_tensor *y = svg_pad(ctx, a, nullptr, after, SVG_PAD_CONSTANT, -1.5f);
    ASSERT_TRUE(compute(ctx, y));
    EXPECT_EQ(shape_of(y), (Shape{4, 7}));
    auto got = to_vec(y);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 7; j++)
            EXPECT_EQ(got[(size_t)(i * 7 + j)], (i < 3 && j < 5) ? av[(size_t)(i * 5 + j)] : -1.5f) << i << "," << j;
    svg_context_free(ctx);
}

TEST(DataMovement, RepeatTorchSemantics) {
    std::mt19937 rng(53);
    const std::pair<Shape, Shape> cases[] = {
        {{2, 3, 5}, {2, 1, 3}}, {{7}, {3}}, {{1, 33}, {4, 2}}, {{3, 1, 2, 1}, {1, 5, 2, 3}}, {{2, 3}, {1, 1}},
    };
    for (auto &c : cases) {
        svg_context *ctx = svg_context_new(false);
        svg_tensor *a = new_t(ctx, SVG_TYPE_F32, c.first);
        auto av = fill_random(a, rng);
        svg_tensor *y = svg_repeat(ctx, a, c.second.data());
        ASSERT_TRUE(compute(ctx, y));
        Shape on(c.first.size());
        for (size_t i = 0; i < on.size(); i++) on[i] = c.first[i] * c.second[i];
        EXPECT_EQ(shape_of(y), on);
        std::vector<float> want((size_t)numel(on));
        for (int64_t i = 0; i < (int64_t)want.size(); i++) {
            Shape idx = unravel(i, on);
            for (size_t d = 0; d < on.size(); d++) idx[d] %= c.first[d];
            want[(size_t)i] = av[(size_t)ravel(idx, c.first)];
        }
        EXPECT_EQ(to_vec(y), want) << "repeat " << shape_str(c.first) << " x " << shape_str(c.second);
        svg_context_free(ctx);
    }
}

TEST(DataMovement, UpsampleNearest) {
    std::mt19937 rng(54);
    struct Case {
        Shape ne;
        std::vector<int> f;
    } cases[] = {
        {{2, 3, 5, 7}, {2, 3}},     // 2D over [H, W]
        {{1, 1, 3}, {4, 1}},        // 2D, H = 1
        {{5, 1}, {1, 2}},           // rank 2
        {{1, 2, 3, 4, 5}, {2, 3, 2}},  // 3D over [D, H, W]
        {{2, 3, 1, 7}, {3, 1, 2}},     // 3D on rank 4
        {{3, 2, 5}, {1, 2, 3}},        // 3D on rank 3
    };
    for (auto &c : cases) {
        const int n = (int)c.f.size();
        svg_context *ctx = svg_context_new(false);
        svg_tensor *a = new_t(ctx, SVG_TYPE_F32, c.ne);
        auto av = fill_random(a, rng);
        svg_tensor *y = svg_upsample_nearest(ctx, a, n, c.f.data());
        ASSERT_TRUE(compute(ctx, y));
        Shape on = c.ne;
        const size_t off = c.ne.size() - (size_t)n;
        for (int i = 0; i < n; i++) on[off + (size_t)i] *= c.f[(size_t)i];
        EXPECT_EQ(shape_of(y), on);
        std::vector<float> want((size_t)numel(on));
        for (int64_t i = 0; i < (int64_t)want.size(); i++) {
            Shape idx = unravel(i, on);
            for (int k = 0; k < n; k++) idx[off + (size_t)k] /= c.f[(size_t)k];
            want[(size_t)i] = av[(size_t)ravel(idx, c.ne)];
        }
        EXPECT_EQ(to_vec(y), want) << "upsample " << shape_str(c.ne) << " n=" << n;
        svg_context_free(ctx);
    }
}

TEST(DataMovement, GetRowsAllTableTypes) {
    std::mt19937 rng(55);
    for (svg_type tt : {SVG_TYPE_F32, SVG_TYPE_F16, SVG_TYPE_BF16, SVG_TYPE_Q8_0, SVG_TYPE_Q4_0}) {
        const bool q = svg_type_traits_of(tt)->is_quantized;
        for (int64_t D : q ? std::vector<int64_t>{32, 96} : std::vector<int64_t>{1, 33, 64}) {
            for (svg_type it : {SVG_TYPE_I32, SVG_TYPE_I64}) {
                const int64_t V = 9;
                svg_context *ctx = svg_context_new(false);
                svg_tensor *table = new_t(ctx, tt, {V, D});
                fill_random(table, rng, -2.f, 2.f);
                const std::vector<float> deq = to_vec(table);  // reference: dequantized table
                svg_tensor *ids = new_t(ctx, it, {2, 3});
                std::vector<int64_t> idv(6);
                std::uniform_int_distribution<int64_t> idd(0, V - 1);
                for (auto &v : idv) v = idd(rng);
                idv[1] = V - 1;
                idv[4] = 0;
                set_ids(ids, idv);
                svg_tensor *y = svg_get_rows(ctx, table, ids);
                ASSERT_TRUE(compute(ctx, y));
                EXPECT_EQ(y->type, SVG_TYPE_F32);
                EXPECT_EQ(shape_of(y), (Shape{2, 3, D}));
                std::vector<float> want;
                for (int64_t r : idv) want.insert(want.end(), deq.begin() + r * D, deq.begin() + (r + 1) * D);
                EXPECT_EQ(to_vec(y), want) << "get_rows " << svg_type_name(tt) << " D=" << D << " ids " << svg_type_name(it);
                svg_context_free(ctx);
            }
        }
    }
}

// ================================================================= threads

TEST(Threads, OneAndFourThreadsBitwiseEqual) {
    // sizes large enough that every kernel splits its rows across threads
    std::mt19937 rng(60);
    svg_context *ctx = svg_context_new(false);
    svg_tensor *a = new_t(ctx, SVG_TYPE_F32, {301, 257});
    svg_tensor *b = new_t(ctx, SVG_TYPE_F32, {301, 1});
    svg_tensor *c = new_t(ctx, SVG_TYPE_F32, {65, 257, 7});
    svg_tensor *tab = new_t(ctx, SVG_TYPE_Q8_0, {50, 96});
    svg_tensor *ids = new_t(ctx, SVG_TYPE_I32, {3, 41});
    fill_random(a, rng, -5.f, 5.f);
    fill_random(b, rng);
    fill_random(c, rng);
    fill_random(tab, rng);
    std::vector<int64_t> idv(123);
    for (auto &v : idv) v = (int64_t)(rng() % 50);
    ASSERT_NO_FATAL_FAILURE(set_ids(ids, idv));
    const int perm[3] = {1, 0, 2};
    const int64_t before[2] = {1, 3}, after[2] = {2, 0};
    const int64_t reps[2] = {2, 3};
    const int f2[2] = {2, 3};
    std::vector<svg_tensor *> outs = {
        svg_softmax(ctx, svg_add(ctx, a, b)),
        svg_gelu(ctx, svg_mul(ctx, svg_permute(ctx, c, perm), svg_permute(ctx, svg_scale(ctx, c, 0.5f, 0.25f), perm))),
        svg_get_rows(ctx, tab, ids),
        svg_concat(ctx, a, svg_exp(ctx, a), 1),
        svg_cast(ctx, svg_transpose(ctx, a, 0, 1), SVG_TYPE_F16),
        svg_cast(ctx, svg_slice(ctx, a, 1, 0, 256, 1), SVG_TYPE_Q4_0),
        svg_pad(ctx, a, before, after, SVG_PAD_REPLICATE, 0.f),
        svg_repeat(ctx, a, reps),
        svg_upsample_nearest(ctx, a, 2, f2),
    };
    for (size_t k = 0; k < outs.size(); k++) {
        svg_tensor *y = outs[k];
        ASSERT_NE(y, nullptr) << k << ": " << svg_last_error();
        ASSERT_TRUE(compute(ctx, y, 1));
        auto r1 = raw_bytes(y);
        ASSERT_TRUE(compute(ctx, y, 4));
        auto r4 = raw_bytes(y);
        EXPECT_TRUE(r1 == r4) << "output " << k << " (" << svg_op_name(y->op) << ") differs between 1 and 4 threads";
        ASSERT_TRUE(compute(ctx, y, 3));
        EXPECT_TRUE(raw_bytes(y) == r1) << "output " << k << " (" << svg_op_name(y->op) << ") differs between 1 and 3 threads";
    }
    svg_context_free(ctx);
}

TEST(DataMovement, GetRowsOutOfRangeIdFailsCleanly) {
    std::mt19937 rng(56);
    for (int64_t bad : {5, -1, 1000}) {
        svg_context *ctx = svg_context_new(false);
        svg_tensor *table = new_t(ctx, SVG_TYPE_F32, {5, 33});
        fill_random(table, rng);
        svg_tensor *ids = new_t(ctx, SVG_TYPE_I64, {3});
        ASSERT_NO_FATAL_FAILURE(set_ids(ids, {0, bad, 2}));
        svg_tensor *y = svg_get_rows(ctx, table, ids);
        ASSERT_NE(y, nullptr);
        svg_graph *g = svg_graph_new(ctx);
        ASSERT_TRUE(svg_graph_build(g, y));
        svg_backend *be = svg_backend_cpu_new(2);
        svg_clear_error();
        EXPECT_FALSE(svg_backend_graph_compute(be, g)) << "id " << bad << " accepted for a table of 5 rows";
        EXPECT_STRNE(svg_last_error(), "");
        svg_backend_free(be);
        svg_graph_free(g);
        svg_context_free(ctx);
    }
}
