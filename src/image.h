// Reading images (PNG, JPEG, BMP, ... through stb_image) and the two
// preprocessings the image-to-video pipelines apply to them:
//  - CLIPImageProcessor (transformers 5's default, the fast torchvision one):
//    resize the shortest side with the antialiased bicubic filter, center
//    crop, rescale, normalize with a mean/std;
//  - diffusers' VaeImageProcessor.preprocess on a PIL image: resize to the
//    requested size (multiples of the VAE factor) with PIL's Lanczos filter,
//    then map [0, 1] to [-1, 1].
// Resizing reproduces Pillow's Image.resize and torch's uint8 antialiased
// interpolate bit for bit (same coefficients, fixed-point accumulation and
// rounding), so the tensors match what the references feed their networks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

// 8-bit RGB, rows top to bottom, pixels interleaved (height × width × 3).
struct svg_image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;
};

// Decode a file / in-memory encoded image, converted to RGB (grey and alpha
// dropped as PIL's convert("RGB") does: alpha is discarded, not composited).
bool svg_image_load(const char *path, svg_image *out);
bool svg_image_load_memory(const void *data, size_t size, svg_image *out);

// Pillow's resampling filters.
enum svg_resample {
    SVG_RESAMPLE_BICUBIC,  // Image.BICUBIC (3): cubic with a = -0.5, support 2
    SVG_RESAMPLE_LANCZOS,  // Image.LANCZOS (1): windowed sinc, support 3
};

// The integer arithmetic of a resize. Both compute the same normalized
// weights and round to 8 bits after each pass; they differ in the weights'
// fixed-point precision, which moves some pixels by one level.
enum svg_resize_arith {
    SVG_RESIZE_PIL,    // Pillow's Image.resize: 22 fraction bits
    SVG_RESIZE_TORCH,  // torch's uint8 antialiased interpolate (torchvision's
                       // resize, transformers' fast image processors): int16
                       // weights with as many fraction bits as the largest fits
};

// Separable convolution, horizontal pass first, the kernel widened by the
// downscale factor (antialiasing), 8-bit rounding and clipping after each
// pass; a pass whose size does not change is skipped (an exact copy).
bool svg_image_resize(const svg_image &in, int width, int height, svg_resample filter, svg_image *out,
                      svg_resize_arith arith = SVG_RESIZE_PIL);

// The centred width × height window, offsets as torchvision's center_crop
// rounds them (half the excess, halves to even); the image must be at least
// that large.
bool svg_image_center_crop(const svg_image &in, int width, int height, svg_image *out);

// CLIPImageProcessor settings (preprocessor_config.json).
struct svg_clip_image_config {
    int shortest_edge = 224;  // size.shortest_edge
    int crop_width = 224, crop_height = 224;
    float rescale_factor = 1.0f / 255.0f;
    float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    float std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
};

// CLIPImageProcessor: bicubic resize (torch arithmetic) of the shortest side
// to shortest_edge (the other side int(edge · long / short)), center crop,
// rescale, normalize → [3, crop_height, crop_width] floats (pixel_values of
// one image).
bool svg_image_clip_preprocess(const svg_image &in, const svg_clip_image_config &cfg, std::vector<float> *chw);

// diffusers VaeImageProcessor.preprocess(image, height, width) for a PIL
// image: width and height are rounded down to multiples of vae_scale_factor,
// Lanczos resize (skipped when the size already matches), x / 255 · 2 − 1
// → [3, height', width'] floats; *out_w / *out_h receive the size used.
bool svg_image_vae_preprocess(const svg_image &in, int width, int height, int vae_scale_factor, std::vector<float> *chw,
                              int *out_w, int *out_h);

// Quality of `test` against `ref`, n_frames RGB frames of width × height
// (the Sparse VideoGen paper's metrics):
//  - PSNR over every byte: 10·log10(255² / MSE) dB (infinity when equal);
//  - SSIM (Wang et al. 2004) on the luma Y = 0.299 R + 0.587 G + 0.114 B:
//    11×11 Gaussian window (σ 1.5), C1 = (0.01·255)², C2 = (0.03·255)², the
//    mean over every window position lying inside the frame, averaged over
//    frames (frames smaller than 11 pixels: the largest odd window that fits).
double svg_psnr(const uint8_t *ref, const uint8_t *test, size_t n);
double svg_ssim(const uint8_t *ref, const uint8_t *test, int n_frames, int height, int width);
