// Image loading (stb_image) and exact resampling; see image.h. The resampler
// follows Pillow's libImaging/Resample.c (torch's uint8 antialiased kernel is
// a port of it): coefficients in double, normalized per output pixel, then
// converted to fixed point and accumulated in integers with a rounding half
// added, clipped to 0..255.
#include "src/image.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "src/svg-impl.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

namespace {

// Pillow's fixed-point precision for 8-bit images: 32 bits minus 8 for the
// pixel value and 2 for the headroom of negative lobes.
constexpr int k_precision_bits = 32 - 8 - 2;

double bicubic(double x) {
    const double a = -0.5;  // Pillow's choice (not Keys' -0.75 of OpenCV/torch's default)
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

double sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return std::sin(x) / x;
}

double lanczos(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3.0) : 0.0; }

// One pass's coefficients: for output pixel i, the taps start at first[i] and
// weights[i * ksize ...] (count[i] of them) are the fixed-point weights.
struct coeffs {
    int ksize = 0;
    int precision = 0;  // fixed-point fraction bits of the weights
    std::vector<int> first, count;
    std::vector<int32_t> weights;
};

coeffs precompute(int in_size, int out_size, svg_resample filter, svg_resize_arith arith) {
    const double radius = filter == SVG_RESAMPLE_BICUBIC ? 2.0 : 3.0;  // the filter's support at scale 1
    double (*fn)(double) = filter == SVG_RESAMPLE_BICUBIC ? bicubic : lanczos;
    const double scale = (double)in_size / out_size;
    const double filterscale = std::max(scale, 1.0);
    const double support = radius * filterscale;
    coeffs c;
    c.ksize = (int)std::ceil(support) * 2 + 1;
    c.first.resize((size_t)out_size);
    c.count.resize((size_t)out_size);
    c.weights.assign((size_t)out_size * c.ksize, 0);
    std::vector<double> k((size_t)c.ksize), norm(c.weights.size(), 0.0);
    for (int i = 0; i < out_size; i++) {
        const double center = (i + 0.5) * scale;
        // (int) truncates toward zero before the clamp, as in Pillow
        const int lo = std::max((int)(center - support + 0.5), 0);
        const int hi = std::min((int)(center + support + 0.5), in_size);
        const int n = hi - lo;
        double sum = 0.0;
        for (int x = 0; x < n; x++) {
            k[(size_t)x] = fn((x + lo - center + 0.5) / filterscale);
            sum += k[(size_t)x];
        }
        for (int x = 0; x < n; x++)
            if (sum != 0.0) k[(size_t)x] /= sum;
        std::copy(k.begin(), k.begin() + n, norm.begin() + (size_t)i * c.ksize);
        c.first[(size_t)i] = lo;
        c.count[(size_t)i] = n;
    }
    c.precision = k_precision_bits;
    if (arith == SVG_RESIZE_TORCH) {
        const double w_max = *std::max_element(norm.begin(), norm.end());
        for (c.precision = 0; c.precision < 22; c.precision++)
            if ((int)(0.5 + w_max * (1 << (c.precision + 1))) >= (1 << 15)) break;
    }
    for (size_t j = 0; j < norm.size(); j++) {
        const double v = norm[j] * (1 << c.precision);
        c.weights[j] = (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
    }
    return c;
}

uint8_t clip8(int32_t acc, int precision) {
    // arithmetic shift: negative sums floor to a negative value, clipped to 0
    return (uint8_t)std::clamp(acc >> precision, 0, 255);
}

// Resample along one axis (horizontal: each row to out_size pixels;
// vertical: each column), the other axis unchanged.
void resample_pass(const svg_image &in, bool horizontal, int out_size, svg_resample filter, svg_resize_arith arith,
                   svg_image *out) {
    const int in_size = horizontal ? in.width : in.height;
    const coeffs c = precompute(in_size, out_size, filter, arith);
    out->width = horizontal ? out_size : in.width;
    out->height = horizontal ? in.height : out_size;
    out->rgb.assign((size_t)out->width * out->height * 3, 0);
    const size_t tap_stride = horizontal ? 3 : (size_t)in.width * 3;
    for (int y = 0; y < out->height; y++) {
        for (int x = 0; x < out->width; x++) {
            const int i = horizontal ? x : y;
            const uint8_t *src = horizontal ? &in.rgb[((size_t)y * in.width + c.first[(size_t)i]) * 3]
                                            : &in.rgb[((size_t)c.first[(size_t)i] * in.width + x) * 3];
            const int32_t *w = &c.weights[(size_t)i * c.ksize];
            const int32_t half = 1 << (c.precision - 1);
            int32_t acc[3] = {half, half, half};
            for (int t = 0; t < c.count[(size_t)i]; t++, src += tap_stride)
                for (int ch = 0; ch < 3; ch++) acc[ch] += src[ch] * w[t];
            uint8_t *dst = &out->rgb[((size_t)y * out->width + x) * 3];
            for (int ch = 0; ch < 3; ch++) dst[ch] = clip8(acc[ch], c.precision);
        }
    }
}

// stb's result as an svg_image (and its buffer freed).
bool from_stb(uint8_t *pixels, int w, int h, const char *what, svg_image *out) {
    if (!pixels) return svg_err(false, "cannot decode image %s: %s", what, stbi_failure_reason());
    out->width = w;
    out->height = h;
    out->rgb.assign(pixels, pixels + (size_t)w * h * 3);
    stbi_image_free(pixels);
    return true;
}

}  // namespace

bool svg_image_load(const char *path, svg_image *out) {
    int w = 0, h = 0, n = 0;
    uint8_t *pixels = stbi_load(path, &w, &h, &n, 3);  // before w and h are read
    return from_stb(pixels, w, h, path, out);
}

bool svg_image_load_memory(const void *data, size_t size, svg_image *out) {
    if (size > (size_t)INT32_MAX) return svg_err(false, "image data of %zu bytes is too large", size);
    int w = 0, h = 0, n = 0;
    uint8_t *pixels = stbi_load_from_memory((const stbi_uc *)data, (int)size, &w, &h, &n, 3);
    return from_stb(pixels, w, h, "(memory)", out);
}

bool svg_image_resize(const svg_image &in, int width, int height, svg_resample filter, svg_image *out,
                      svg_resize_arith arith) {
    if (width <= 0 || height <= 0 || in.width <= 0 || in.height <= 0)
        return svg_err(false, "image resize: bad size %dx%d → %dx%d", in.width, in.height, width, height);
    // Pillow skips a pass whose size does not change (an exact copy)
    svg_image tmp;
    const svg_image *cur = &in;
    if (width != in.width) {
        resample_pass(*cur, true, width, filter, arith, &tmp);
        cur = &tmp;
    }
    if (height != in.height) {
        svg_image v;
        resample_pass(*cur, false, height, filter, arith, &v);
        *out = std::move(v);
    } else if (cur == &tmp) {
        *out = std::move(tmp);
    } else {
        *out = in;
    }
    return true;
}

bool svg_image_center_crop(const svg_image &in, int width, int height, svg_image *out) {
    if (width <= 0 || height <= 0 || width > in.width || height > in.height)
        return svg_err(false, "center crop %dx%d of a %dx%d image", width, height, in.width, in.height);
    // torchvision: int(round(d / 2.0)) with Python's round half to even
    auto offset = [](int d) { return d / 2 + (d % 2 && (d / 2) % 2); };
    const int left = offset(in.width - width), top = offset(in.height - height);
    svg_image r;
    r.width = width;
    r.height = height;
    r.rgb.resize((size_t)width * height * 3);
    for (int y = 0; y < height; y++)
        memcpy(&r.rgb[(size_t)y * width * 3], &in.rgb[((size_t)(top + y) * in.width + left) * 3], (size_t)width * 3);
    *out = std::move(r);
    return true;
}

bool svg_image_clip_preprocess(const svg_image &in, const svg_clip_image_config &cfg, std::vector<float> *chw) {
    if (cfg.shortest_edge <= 0) return svg_err(false, "CLIP preprocessing: shortest_edge %d", cfg.shortest_edge);
    // transformers' get_resize_output_image_size: the long side is truncated
    const bool wide = in.width > in.height;
    const int short_side = wide ? in.height : in.width, long_side = wide ? in.width : in.height;
    const int new_long = (int)((double)cfg.shortest_edge * long_side / short_side);
    svg_image resized, cropped;
    if (!svg_image_resize(in, wide ? new_long : cfg.shortest_edge, wide ? cfg.shortest_edge : new_long,
                          SVG_RESAMPLE_BICUBIC, &resized, SVG_RESIZE_TORCH) ||
        !svg_image_center_crop(resized, cfg.crop_width, cfg.crop_height, &cropped))
        return false;
    const size_t plane = (size_t)cropped.width * cropped.height;
    chw->resize(plane * 3);
    for (int ch = 0; ch < 3; ch++)
        for (size_t p = 0; p < plane; p++)
            (*chw)[ch * plane + p] =
                (float)((cropped.rgb[p * 3 + ch] * (double)cfg.rescale_factor - cfg.mean[ch]) / cfg.std[ch]);
    return true;
}

bool svg_image_vae_preprocess(const svg_image &in, int width, int height, int vae_scale_factor, std::vector<float> *chw,
                              int *out_w, int *out_h) {
    if (vae_scale_factor <= 0) return svg_err(false, "VAE preprocessing: scale factor %d", vae_scale_factor);
    width -= width % vae_scale_factor;
    height -= height % vae_scale_factor;
    svg_image resized;
    if (!svg_image_resize(in, width, height, SVG_RESAMPLE_LANCZOS, &resized)) return false;
    const size_t plane = (size_t)width * height;
    chw->resize(plane * 3);
    for (int ch = 0; ch < 3; ch++)
        for (size_t p = 0; p < plane; p++) (*chw)[ch * plane + p] = resized.rgb[p * 3 + ch] / 255.0f * 2.0f - 1.0f;
    *out_w = width;
    *out_h = height;
    return true;
}

// ---------------------------------------------------------------- metrics

double svg_psnr(const uint8_t *ref, const uint8_t *test, size_t n) {
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)ref[i] - (double)test[i];
        se += d * d;
    }
    if (se == 0 || n == 0) return INFINITY;
    return 10.0 * std::log10(255.0 * 255.0 / (se / (double)n));
}

double svg_ssim(const uint8_t *ref, const uint8_t *test, int n_frames, int height, int width) {
    const double C1 = (0.01 * 255) * (0.01 * 255), C2 = (0.03 * 255) * (0.03 * 255);
    const int R = std::max(0, std::min(5, (std::min(height, width) - 1) / 2)), K = 2 * R + 1;  // window 11, or what fits
    std::vector<double> g((size_t)K);
    double gs = 0;
    for (int i = 0; i < K; i++) gs += g[(size_t)i] = std::exp(-(double)(i - R) * (i - R) / (2 * 1.5 * 1.5));
    for (double &x : g) x /= gs;
    const size_t plane = (size_t)height * width;
    std::vector<double> a(plane), b(plane);
    double total = 0;
    for (int f = 0; f < n_frames; f++) {
        for (size_t p = 0; p < plane; p++) {
            const uint8_t *x = ref + ((size_t)f * plane + p) * 3, *y = test + ((size_t)f * plane + p) * 3;
            a[p] = 0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2];
            b[p] = 0.299 * y[0] + 0.587 * y[1] + 0.114 * y[2];
        }
        double sum = 0;
        int64_t count = 0;
        for (int r = R; r + R < height; r++)
            for (int c = R; c + R < width; c++) {
                double ma = 0, mb = 0, aa = 0, bb = 0, ab = 0;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        const double w = g[(size_t)i] * g[(size_t)j];
                        const size_t q = (size_t)(r + i - R) * width + (c + j - R);
                        ma += w * a[q];
                        mb += w * b[q];
                        aa += w * a[q] * a[q];
                        bb += w * b[q] * b[q];
                        ab += w * a[q] * b[q];
                    }
                const double va = aa - ma * ma, vb = bb - mb * mb, cov = ab - ma * mb;
                sum += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
                count++;
            }
        total += count ? sum / (double)count : 1.0;
    }
    return n_frames > 0 ? total / n_frames : 1.0;
}
