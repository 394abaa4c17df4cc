// Data-movement kernels: copy/cast, concat, pad, repeat, nearest upsampling,
// get_rows. Each output row (innermost dim) is gathered from its source.
#include "cpu-impl.h"

void svg_cpu_load_row(const svg_tensor *t, const int64_t *idx, float *out) {
    const svg_type_traits *tr = svg_type_traits_of(t->type);
    const int n = t->n_dims;
    const int64_t len = n ? t->ne[n - 1] : 1;
    const char *p = (const char *)t->data + svg_offset(t, idx) - (n ? (size_t)idx[n - 1] * t->nb[n - 1] : 0);
    if (tr->is_quantized || n == 0 || t->nb[n - 1] == tr->type_size) {
        tr->to_float(p, out, len);
        return;
    }
    for (int64_t i = 0; i < len; i++) tr->to_float(p + i * t->nb[n - 1], out + i, 1);
}

namespace {

template <typename F>
void rows_parallel(const svg_cpu_ctx &c, const svg_tensor *dst, F fn) {
    const int64_t len = dst->n_dims ? dst->ne[dst->n_dims - 1] : 1;
    c.parallel_for(svg_nrows(dst), [&](int64_t r0, int64_t r1) {
        int64_t idx[SVG_MAX_DIMS] = {0};
        for (int64_t r = r0; r < r1; r++) {
            svg_unravel(dst, r * len, idx);
            fn(r, idx);
        }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, len)));
}

}  // namespace

// COPY: contiguous dst of dst->type from any-strided src; converts through
// f32 between float types, copies bytes for identical types.
bool svg_cpu_copy(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0];
    const svg_type_traits *ta = svg_type_traits_of(a->type), *td = svg_type_traits_of(dst->type);
    const int n = dst->n_dims;
    if (n == 0) {
        if (a->type == dst->type) {
            memcpy(dst->data, a->data, td->type_size);
        } else {
            float f;
            ta->to_float(a->data, &f, 1);
            td->from_float(&f, dst->data, 1);
        }
        return true;
    }
    const int64_t len = dst->ne[n - 1];
    const size_t row_bytes = svg_row_size(dst->type, len);
    if (a->type == dst->type && (ta->is_quantized || a->nb[n - 1] == ta->type_size)) {
        rows_parallel(c, dst, [&](int64_t r, const int64_t *idx) {
            memcpy((char *)dst->data + r * row_bytes, (const char *)a->data + svg_offset(a, idx), row_bytes);
        });
        return true;
    }
    if (a->type == dst->type) {  // strided plain type: element copy
        const size_t es = ta->type_size;
        rows_parallel(c, dst, [&](int64_t r, const int64_t *idx) {
            const char *p = (const char *)a->data + svg_offset(a, idx);
            char *y = (char *)dst->data + r * row_bytes;
            for (int64_t i = 0; i < len; i++) memcpy(y + i * es, p + i * a->nb[n - 1], es);
        });
        return true;
    }
    if (!ta->to_float || !td->from_float) return svg_err(false, "CPU: cannot copy %s to %s", ta->name, td->name);
    rows_parallel(c, dst, [&](int64_t r, const int64_t *idx) {
        std::vector<float> buf((size_t)len);
        svg_cpu_load_row(a, idx, buf.data());
        td->from_float(buf.data(), (char *)dst->data + r * row_bytes, len);
    });
    return true;
}

// CONCAT along dim: rows come from a or b, or (dim innermost) both.
bool svg_cpu_concat(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0], *b = dst->src[1];
    const int dim = dst->op_params[0], n = dst->n_dims;
    const int64_t len = dst->ne[n - 1];
    rows_parallel(c, dst, [&](int64_t r, const int64_t *idx) {
        float *y = (float *)dst->data + r * len;
        int64_t j[SVG_MAX_DIMS];
        memcpy(j, idx, sizeof(int64_t) * n);
        if (dim == n - 1) {
            const int64_t na = a->ne[n - 1];
            const char *pa = (const char *)a->data + svg_offset(a, j);
            for (int64_t i = 0; i < na; i++) y[i] = *(const float *)(pa + i * a->nb[n - 1]);
            const char *pb = (const char *)b->data + svg_offset(b, j);
            for (int64_t i = 0; i < len - na; i++) y[na + i] = *(const float *)(pb + i * b->nb[n - 1]);
            return;
        }
        const svg_tensor *s = a;
        if (j[dim] >= a->ne[dim]) {
            j[dim] -= a->ne[dim];
            s = b;
        }
        const char *p = (const char *)s->data + svg_offset(s, j);
        for (int64_t i = 0; i < len; i++) y[i] = *(const float *)(p + i * s->nb[n - 1]);
    });
    return true;
}

// PAD: out[idx] = a[idx - before] inside, value (constant) or the clamped
// edge element (replicate) outside.
bool svg_cpu_pad(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0];
    const int n = dst->n_dims;
    const bool replicate = dst->op_params[0] == SVG_PAD_REPLICATE;
    const float value = svg_param_f32(dst, 1);
    const int64_t len = dst->ne[n - 1];
    rows_parallel(c, dst, [&](int64_t r, const int64_t *idx) {
        float *y = (float *)dst->data + r * len;
        int64_t j[SVG_MAX_DIMS];
        bool inside = true;
        for (int d = 0; d < n - 1; d++) {
            j[d] = idx[d] - dst->op_params[2 + 2 * d];
            if (j[d] < 0 || j[d] >= a->ne[d]) {
                if (!replicate) inside = false;
                j[d] = std::min(std::max<int64_t>(j[d], 0), a->ne[d] - 1);
            }
        }
        if (!inside) {
            for (int64_t i = 0; i < len; i++) y[i] = value;
            return;
        }
        j[n - 1] = 0;
        const char *p = (const char *)a->data + svg_offset(a, j);
        const int64_t before = dst->op_params[2 + 2 * (n - 1)], na = a->ne[n - 1];
        for (int64_t i = 0; i < len; i++) {
            int64_t k = i - before;
            if (k < 0 || k >= na) {
                if (!replicate) {
                    y[i] = value;
                    continue;
                }
                k = std::min(std::max<int64_t>(k, 0), na - 1);
            }
            y[i] = *(const float *)(p + k * a->nb[n - 1]);
        }
    });
    return true;
}

// REPEAT (torch.Tensor.repeat): out[idx] = a[idx mod a.shape]
bool svg_cpu_repeat(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0];
    const int n = dst->n_dims;
    const int64_t len = dst->ne[n - 1];
    rows_parallel(c, dst, [&](int64_t r, const int64_t *idx) {
        int64_t j[SVG_MAX_DIMS];
        for (int d = 0; d < n; d++) j[d] = idx[d] % a->ne[d];
        const char *p = (const char *)a->data + svg_offset(a, j);
        float *y = (float *)dst->data + r * len;
        const int64_t na = a->ne[n - 1];
        for (int64_t i = 0; i < len; i++) y[i] = *(const float *)(p + (i % na) * a->nb[n - 1]);
    });
    return true;
}

// UPSAMPLE_NEAREST: out[.., i, ..] = a[.., i / factor, ..] on the innermost k dims
bool svg_cpu_upsample_nearest(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0];
    const int n = dst->n_dims, k = dst->op_params[0];
    int64_t factor[SVG_MAX_DIMS];
    for (int d = 0; d < n; d++) factor[d] = d >= n - k ? dst->op_params[1 + d - (n - k)] : 1;
    const int64_t len = dst->ne[n - 1];
    rows_parallel(c, dst, [&](int64_t r, const int64_t *idx) {
        int64_t j[SVG_MAX_DIMS];
        for (int d = 0; d < n; d++) j[d] = idx[d] / factor[d];
        const char *p = (const char *)a->data + svg_offset(a, j);
        float *y = (float *)dst->data + r * len;
        for (int64_t i = 0; i < len; i++) y[i] = *(const float *)(p + (i / factor[n - 1]) * a->nb[n - 1]);
    });
    return true;
}

// GET_ROWS: out[..., :] = table[ids[...], :] converted to f32
bool svg_cpu_get_rows(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *table = dst->src[0], *ids = dst->src[1];
    const int64_t V = table->ne[0], D = table->ne[1];
    const int64_t n = svg_nelements(ids);
    std::vector<int64_t> rows((size_t)n);
    int64_t idx[SVG_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        svg_unravel(ids, i, idx);
        const char *p = (const char *)ids->data + svg_offset(ids, idx);
        rows[(size_t)i] = ids->type == SVG_TYPE_I32 ? *(const int32_t *)p : *(const int64_t *)p;
        if (rows[(size_t)i] < 0 || rows[(size_t)i] >= V)
            return svg_err(false, "get_rows: id %lld out of range [0, %lld)", (long long)rows[(size_t)i], (long long)V);
    }
    c.parallel_for(n, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; i++) {
            const int64_t j[2] = {rows[(size_t)i], 0};
            svg_cpu_load_row(table, j, (float *)dst->data + i * D);
        }
    });
    return true;
}
