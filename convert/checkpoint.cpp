// svg-convert's inputs (convert/checkpoint.h).
#include "convert/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "src/svg-impl.h"

namespace {

svg_type safetensors_type(const char *dtype) {
    if (!strcmp(dtype, "F32")) return SVG_TYPE_F32;
    if (!strcmp(dtype, "F16")) return SVG_TYPE_F16;
    if (!strcmp(dtype, "BF16")) return SVG_TYPE_BF16;
    return SVG_TYPE_COUNT;
}

struct safetensors_checkpoint : svg_checkpoint {
    svg_safetensors *st;
    explicit safetensors_checkpoint(svg_safetensors *s) : st(s) {}
    ~safetensors_checkpoint() override { svg_safetensors_free(st); }
    int64_t n_tensors() const override { return svg_safetensors_n_tensors(st); }
    const char *name(int64_t i) const override { return svg_safetensors_name(st, i); }
    std::vector<int64_t> shape(int64_t i) const override {
        std::vector<int64_t> s((size_t)svg_safetensors_n_dims(st, i));
        svg_safetensors_shape(st, i, s.data());
        return s;
    }
    svg_type type(int64_t i) const override { return safetensors_type(svg_safetensors_dtype(st, i)); }
    std::string dtype(int64_t i) const override { return svg_safetensors_dtype(st, i); }
    const void *data(int64_t i) const override { return svg_safetensors_data(st, i); }
    size_t nbytes(int64_t i) const override { return svg_safetensors_nbytes(st, i); }
    bool read_f32(int64_t i, float *out, int64_t n) const override { return svg_safetensors_read_f32(st, i, out, n); }
    const char *format() const override { return "safetensors"; }
};

// ComfyUI-GGUF keeps what it reshaped (5-D patch embeddings, rows that are
// not whole blocks) as "comfy.gguf.orig_shape.<name>" = the PyTorch shape.
struct gguf_checkpoint : svg_checkpoint {
    svg_gguf *f;
    std::vector<std::vector<int64_t>> shapes;
    explicit gguf_checkpoint(svg_gguf *g) : f(g) {}
    ~gguf_checkpoint() override { svg_gguf_free(f); }
    bool init() {
        for (int64_t i = 0; i < svg_gguf_n_tensors(f); i++) {
            std::vector<int64_t> s((size_t)svg_gguf_tensor_n_dims(f, i));
            svg_gguf_tensor_shape(f, i, s.data());
            int64_t stored = 1;
            for (int64_t d : s) stored *= d;
            const int64_t k = svg_gguf_find_key(f, (std::string("comfy.gguf.orig_shape.") + svg_gguf_tensor_name(f, i)).c_str());
            if (k >= 0) {
                const svg_gguf_type at = svg_gguf_kv_type(f, k) == SVG_GGUF_ARRAY ? svg_gguf_arr_type(f, k) : SVG_GGUF_TYPE_COUNT;
                const int64_t n = at == SVG_GGUF_TYPE_COUNT ? 0 : svg_gguf_arr_n(f, k);
                if ((at != SVG_GGUF_INT32 && at != SVG_GGUF_UINT32) || n < 1 || n > SVG_MAX_DIMS)
                    return svg_err(false, "comfy.gguf.orig_shape.%s is not a list of 1 to %d integers", svg_gguf_tensor_name(f, i), SVG_MAX_DIMS);
                const int32_t *v = (const int32_t *)svg_gguf_arr_data(f, k);
                std::vector<int64_t> orig;
                int64_t count = 1;
                for (int64_t j = 0; j < n; j++) {
                    if (v[j] < 1) return svg_err(false, "comfy.gguf.orig_shape.%s holds a size below 1", svg_gguf_tensor_name(f, i));
                    orig.push_back(v[j]);
                    count *= v[j];
                }
                if (count != stored)
                    return svg_err(false, "tensor '%s': its orig_shape has %lld values, the tensor %lld", svg_gguf_tensor_name(f, i),
                                   (long long)count, (long long)stored);
                s = orig;
            }
            shapes.push_back(s);
        }
        return true;
    }
    int64_t n_tensors() const override { return svg_gguf_n_tensors(f); }
    const char *name(int64_t i) const override { return svg_gguf_tensor_name(f, i); }
    std::vector<int64_t> shape(int64_t i) const override { return shapes[(size_t)i]; }
    svg_type type(int64_t i) const override {
        const svg_type t = svg_gguf_tensor_type(f, i);
        const svg_type_traits *tr = svg_type_traits_of(t);
        return tr && tr->is_float && tr->to_float ? t : SVG_TYPE_COUNT;
    }
    std::string dtype(int64_t i) const override { return svg_type_name(svg_gguf_tensor_type(f, i)); }
    const void *data(int64_t i) const override { return svg_gguf_tensor_data(f, i); }
    size_t nbytes(int64_t i) const override { return svg_gguf_tensor_nbytes(f, i); }
    bool read_f32(int64_t i, float *out, int64_t n) const override {
        const svg_type t = type(i);
        if (t == SVG_TYPE_COUNT) return svg_err(false, "tensor '%s': type %s cannot be read as floats", name(i), dtype(i).c_str());
        if (n != nelements(i)) return svg_err(false, "tensor '%s': %lld values asked, it has %lld", name(i), (long long)n, (long long)nelements(i));
        svg_type_traits_of(t)->to_float(data(i), out, n);
        return true;
    }
    const char *format() const override { return "gguf"; }
};

}  // namespace

std::unique_ptr<svg_checkpoint> svg_checkpoint_open(const std::string &path) {
    char magic[4] = {0};
    if (std::filesystem::is_regular_file(path)) {
        FILE *fp = fopen(path.c_str(), "rb");
        if (fp) {
            if (fread(magic, 1, 4, fp) != 4) magic[0] = 0;
            fclose(fp);
        }
    }
    if (memcmp(magic, "GGUF", 4) == 0) {
        svg_gguf *f = svg_gguf_open(path.c_str());
        if (!f) return nullptr;
        if (svg_gguf_find_key(f, "svg.components") >= 0) {
            svg_gguf_free(f);
            return svg_err<std::unique_ptr<svg_checkpoint>>(nullptr, "'%s' is already an svg.cpp model file (give it to svg-run as it is)", path.c_str());
        }
        std::unique_ptr<gguf_checkpoint> c(new gguf_checkpoint(f));
        if (!c->init()) return nullptr;
        return c;
    }
    svg_safetensors *st = svg_safetensors_open(path.c_str());
    if (!st) return nullptr;
    return std::unique_ptr<svg_checkpoint>(new safetensors_checkpoint(st));
}
