// Errors, contexts, tensors, views and graphs.
#include "svg-impl.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <unordered_map>
#include <unordered_set>

// ---------------------------------------------------------------- errors
static thread_local std::string g_last_error;

extern "C" const char *svg_last_error(void) { return g_last_error.c_str(); }
extern "C" void svg_clear_error(void) { g_last_error.clear(); }
extern "C" void svg_set_error(const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_last_error = buf;
}

// ---------------------------------------------------------------- context
struct svg_context {
    bool no_alloc = false;
    std::deque<svg_tensor> tensors;  // deque: stable addresses
    std::vector<void *> host_mem;    // per-tensor host allocations (no_alloc = false)
    ~svg_context() {
        for (void *p : host_mem) free(p);
    }
};

extern "C" struct svg_context *svg_context_new(bool no_alloc) {
    svg_context *ctx = new svg_context;
    ctx->no_alloc = no_alloc;
    return ctx;
}
extern "C" void svg_context_free(struct svg_context *ctx) { delete ctx; }
extern "C" bool svg_context_no_alloc(const struct svg_context *ctx) { return ctx->no_alloc; }
extern "C" int64_t svg_context_n_tensors(const struct svg_context *ctx) {
    return (int64_t)ctx->tensors.size();
}
extern "C" struct svg_tensor *svg_context_tensor(struct svg_context *ctx, int64_t i) {
    if (i < 0 || i >= (int64_t)ctx->tensors.size()) return nullptr;
    return &ctx->tensors[(size_t)i];
}
extern "C" struct svg_tensor *svg_context_find(struct svg_context *ctx, const char *name) {
    for (auto &t : ctx->tensors)
        if (strcmp(t.name, name) == 0) return &t;
    return nullptr;
}

void svg_contiguous_strides(enum svg_type type, int n_dims, const int64_t *ne, size_t *nb) {
    const svg_type_traits *tr = svg_type_traits_of(type);
    if (n_dims == 0) return;
    nb[n_dims - 1] = tr->type_size;
    if (n_dims >= 2) nb[n_dims - 2] = svg_row_size(type, ne[n_dims - 1]);
    for (int i = n_dims - 3; i >= 0; i--) nb[i] = nb[i + 1] * (size_t)ne[i + 1];
}

std::string svg_shape_string(const svg_tensor *t) {
    std::string s = "[";
    for (int i = 0; i < t->n_dims; i++) {
        if (i) s += ", ";
        s += std::to_string(t->ne[i]);
    }
    s += "] ";
    s += svg_type_name(t->type);
    return s;
}

extern "C" const char *svg_shape_str(const struct svg_tensor *t, char *buf, size_t size) {
    snprintf(buf, size, "%s", svg_shape_string(t).c_str());
    return buf;
}

// Creates a tensor record. view_src != NULL: a view with explicit strides.
static svg_tensor *new_tensor_impl(svg_context *ctx, enum svg_type type, int n_dims,
                                   const int64_t *ne, svg_tensor *view_src, size_t view_offs,
                                   const size_t *nb) {
    const svg_type_traits *tr = svg_type_traits_of(type);
    if (!tr) return svg_err<svg_tensor *>(nullptr, "unknown tensor type %d", (int)type);
    if (n_dims < 0 || n_dims > SVG_MAX_DIMS)
        return svg_err<svg_tensor *>(nullptr, "tensor rank %d out of range (0..%d)", n_dims,
                                     SVG_MAX_DIMS);
    uint64_t n = 1;
    for (int i = 0; i < n_dims; i++) {
        if (ne[i] < 0) return svg_err<svg_tensor *>(nullptr, "negative dimension %lld", (long long)ne[i]);
        if (svg_mul_overflow(n, (uint64_t)ne[i], &n) || n > (uint64_t)1 << 60)
            return svg_err<svg_tensor *>(nullptr, "tensor size overflows");
    }
    if (tr->block_size > 1 && (n_dims == 0 || ne[n_dims - 1] % tr->block_size != 0))
        return svg_err<svg_tensor *>(nullptr,
                                     "%s tensor needs an innermost dimension divisible by %lld",
                                     tr->name, (long long)tr->block_size);
    ctx->tensors.emplace_back();
    svg_tensor *t = &ctx->tensors.back();
    memset(t, 0, sizeof *t);
    t->type = type;
    t->n_dims = n_dims;
    for (int i = 0; i < n_dims; i++) t->ne[i] = ne[i];
    if (nb) {
        for (int i = 0; i < n_dims; i++) t->nb[i] = nb[i];
    } else {
        svg_contiguous_strides(type, n_dims, ne, t->nb);
    }
    if (view_src) {
        svg_tensor *root = svg_view_root(view_src);
        t->view_src = root;
        t->view_offs = view_offs + (view_src == root ? 0 : view_src->view_offs);
        t->buffer = root->buffer;
        if (root->data) t->data = (char *)root->data + t->view_offs;
    } else if (!ctx->no_alloc) {
        const size_t bytes = svg_nbytes(t);
        void *p = nullptr;
        if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) {
            ctx->tensors.pop_back();
            return svg_err<svg_tensor *>(nullptr, "out of host memory allocating %zu bytes",
                                         bytes);
        }
        ctx->host_mem.push_back(p);
        t->data = p;
    }
    return t;
}

extern "C" struct svg_tensor *svg_new_tensor(struct svg_context *ctx, enum svg_type type,
                                             int n_dims, const int64_t *ne) {
    return new_tensor_impl(ctx, type, n_dims, ne, nullptr, 0, nullptr);
}
extern "C" struct svg_tensor *svg_new_tensor_1d(struct svg_context *ctx, enum svg_type type,
                                                int64_t n0) {
    return svg_new_tensor(ctx, type, 1, &n0);
}
extern "C" struct svg_tensor *svg_new_tensor_2d(struct svg_context *ctx, enum svg_type type,
                                                int64_t n0, int64_t n1) {
    const int64_t ne[2] = {n0, n1};
    return svg_new_tensor(ctx, type, 2, ne);
}
extern "C" struct svg_tensor *svg_new_tensor_3d(struct svg_context *ctx, enum svg_type type,
                                                int64_t n0, int64_t n1, int64_t n2) {
    const int64_t ne[3] = {n0, n1, n2};
    return svg_new_tensor(ctx, type, 3, ne);
}
extern "C" struct svg_tensor *svg_new_tensor_4d(struct svg_context *ctx, enum svg_type type,
                                                int64_t n0, int64_t n1, int64_t n2, int64_t n3) {
    const int64_t ne[4] = {n0, n1, n2, n3};
    return svg_new_tensor(ctx, type, 4, ne);
}

extern "C" struct svg_tensor *svg_set_name(struct svg_tensor *t, const char *name) {
    if (!t) return t;
    snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}
extern "C" void svg_set_input(struct svg_tensor *t) {
    if (t) t->flags |= SVG_FLAG_INPUT;
}
extern "C" void svg_set_output(struct svg_tensor *t) {
    if (t) t->flags |= SVG_FLAG_OUTPUT;
}

extern "C" int64_t svg_nelements(const struct svg_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->n_dims; i++) n *= t->ne[i];
    return n;
}
extern "C" int64_t svg_nrows(const struct svg_tensor *t) {
    if (t->n_dims == 0) return 1;
    return t->ne[t->n_dims - 1] ? svg_nelements(t) / t->ne[t->n_dims - 1] : 0;
}
extern "C" size_t svg_nbytes(const struct svg_tensor *t) {
    const svg_type_traits *tr = svg_type_traits_of(t->type);
    if (t->n_dims == 0) return tr->type_size;
    for (int i = 0; i < t->n_dims; i++)
        if (t->ne[i] == 0) return 0;
    // span of the last byte + 1; innermost dim counted in blocks
    size_t bytes = 0;
    for (int i = 0; i < t->n_dims - 1; i++) bytes += (size_t)(t->ne[i] - 1) * t->nb[i];
    bytes += svg_row_size(t->type, t->ne[t->n_dims - 1]);
    return bytes;
}
extern "C" bool svg_is_contiguous(const struct svg_tensor *t) {
    size_t nb[SVG_MAX_DIMS];
    svg_contiguous_strides(t->type, t->n_dims, t->ne, nb);
    for (int i = 0; i < t->n_dims; i++)
        if (t->ne[i] != 1 && t->nb[i] != nb[i]) return false;
    return true;
}
extern "C" bool svg_same_shape(const struct svg_tensor *a, const struct svg_tensor *b) {
    if (a->n_dims != b->n_dims) return false;
    for (int i = 0; i < a->n_dims; i++)
        if (a->ne[i] != b->ne[i]) return false;
    return true;
}

extern "C" bool svg_tensor_set(struct svg_tensor *t, const void *data, size_t offset, size_t size) {
    if (size == 0 && t) return true;
    if (!t || !t->data) return svg_err(false, "svg_tensor_set: tensor has no memory");
    if (offset + size < offset || offset + size > svg_nbytes(t))
        return svg_err(false, "svg_tensor_set: %zu bytes at %zu exceed tensor '%s' (%zu bytes)",
                       size, offset, t->name, svg_nbytes(t));
    if (!t->buffer) {
        memcpy((char *)t->data + offset, data, size);
        return true;
    }
    return t->buffer->set((char *)t->data + offset, data, size);
}
extern "C" bool svg_tensor_get(const struct svg_tensor *t, void *data, size_t offset, size_t size) {
    if (size == 0 && t) return true;
    if (!t || !t->data) return svg_err(false, "svg_tensor_get: tensor has no memory");
    if (offset + size < offset || offset + size > svg_nbytes(t))
        return svg_err(false, "svg_tensor_get: %zu bytes at %zu exceed tensor '%s' (%zu bytes)",
                       size, offset, t->name, svg_nbytes(t));
    if (!t->buffer) {
        memcpy(data, (const char *)t->data + offset, size);
        return true;
    }
    return t->buffer->get(data, (const char *)t->data + offset, size);
}
extern "C" bool svg_tensor_get_f32(const struct svg_tensor *t, float *out, int64_t n) {
    const svg_type_traits *tr = svg_type_traits_of(t->type);
    if (!tr->to_float) return svg_err(false, "svg_tensor_get_f32: %s is not a float type", tr->name);
    if (!svg_is_contiguous(t)) return svg_err(false, "svg_tensor_get_f32: tensor not contiguous");
    if (n != svg_nelements(t)) return svg_err(false, "svg_tensor_get_f32: size mismatch");
    std::vector<char> raw(svg_nbytes(t));
    if (!svg_tensor_get(t, raw.data(), 0, raw.size())) return false;
    tr->to_float(raw.data(), out, n);
    return true;
}
extern "C" bool svg_tensor_set_f32(struct svg_tensor *t, const float *in, int64_t n) {
    const svg_type_traits *tr = svg_type_traits_of(t->type);
    if (!tr->from_float) return svg_err(false, "svg_tensor_set_f32: %s is not a float type", tr->name);
    if (!svg_is_contiguous(t)) return svg_err(false, "svg_tensor_set_f32: tensor not contiguous");
    if (n != svg_nelements(t)) return svg_err(false, "svg_tensor_set_f32: size mismatch");
    std::vector<char> raw(svg_nbytes(t));
    tr->from_float(in, raw.data(), n);
    return svg_tensor_set(t, raw.data(), 0, raw.size());
}

void svg_init_view(svg_tensor *t) {
    if (t->view_src && t->view_src->data) {
        t->data = (char *)t->view_src->data + t->view_offs;
        t->buffer = t->view_src->buffer;
    }
}

// ---------------------------------------------------------------- views
static svg_tensor *make_view(svg_context *ctx, svg_tensor *a, int n_dims, const int64_t *ne,
                             const size_t *nb, size_t offset) {
    svg_tensor *t = new_tensor_impl(ctx, a->type, n_dims, ne, a, offset, nb);
    if (!t) return nullptr;
    t->op = SVG_OP_VIEW;
    t->src[0] = a;
    return t;
}

static bool is_quant(const svg_tensor *a) { return svg_type_traits_of(a->type)->is_quantized; }

extern "C" struct svg_tensor *svg_reshape(struct svg_context *ctx, struct svg_tensor *a,
                                          int n_dims, const int64_t *ne_in) {
    if (!a) return nullptr;
    if (n_dims < 1 || n_dims > SVG_MAX_DIMS) return svg_err<svg_tensor *>(nullptr, "reshape: bad rank %d", n_dims);
    if (!svg_is_contiguous(a))
        return svg_err<svg_tensor *>(nullptr, "reshape: tensor %s is not contiguous (use svg_cont)",
                                     svg_shape_string(a).c_str());
    int64_t ne[SVG_MAX_DIMS];
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < n_dims; i++) {
        ne[i] = ne_in[i];
        if (ne[i] == -1) {
            if (infer >= 0) return svg_err<svg_tensor *>(nullptr, "reshape: more than one -1");
            infer = i;
        } else if (ne[i] < 0) {
            return svg_err<svg_tensor *>(nullptr, "reshape: negative size");
        } else {
            known *= ne[i];
        }
    }
    const int64_t n = svg_nelements(a);
    if (infer >= 0) {
        if (known == 0 || n % known) return svg_err<svg_tensor *>(nullptr, "reshape: cannot infer -1 for %s", svg_shape_string(a).c_str());
        ne[infer] = n / known;
        known *= ne[infer];
    }
    if (known != n)
        return svg_err<svg_tensor *>(nullptr, "reshape: %s has %lld elements, new shape %lld",
                                     svg_shape_string(a).c_str(), (long long)n, (long long)known);
    if (is_quant(a) && ne[n_dims - 1] != a->ne[a->n_dims - 1])
        return svg_err<svg_tensor *>(nullptr, "reshape: cannot change the row length of a quantized tensor");
    return make_view(ctx, a, n_dims, ne, nullptr, 0);
}
extern "C" struct svg_tensor *svg_reshape_2d(struct svg_context *ctx, struct svg_tensor *a,
                                             int64_t n0, int64_t n1) {
    const int64_t ne[2] = {n0, n1};
    return svg_reshape(ctx, a, 2, ne);
}
extern "C" struct svg_tensor *svg_reshape_3d(struct svg_context *ctx, struct svg_tensor *a,
                                             int64_t n0, int64_t n1, int64_t n2) {
    const int64_t ne[3] = {n0, n1, n2};
    return svg_reshape(ctx, a, 3, ne);
}
extern "C" struct svg_tensor *svg_reshape_4d(struct svg_context *ctx, struct svg_tensor *a,
                                             int64_t n0, int64_t n1, int64_t n2, int64_t n3) {
    const int64_t ne[4] = {n0, n1, n2, n3};
    return svg_reshape(ctx, a, 4, ne);
}

extern "C" struct svg_tensor *svg_view(struct svg_context *ctx, struct svg_tensor *a, int n_dims,
                                       const int64_t *ne, const size_t *nb, size_t offset) {
    if (!a) return nullptr;
    if (n_dims < 0 || n_dims > SVG_MAX_DIMS) return svg_err<svg_tensor *>(nullptr, "view: bad rank");
    svg_tensor tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.type = a->type;
    tmp.n_dims = n_dims;
    for (int i = 0; i < n_dims; i++) {
        if (ne[i] < 0) return svg_err<svg_tensor *>(nullptr, "view: negative size");
        tmp.ne[i] = ne[i];
        tmp.nb[i] = nb[i];
    }
    if (offset + svg_nbytes(&tmp) > svg_nbytes(a))
        return svg_err<svg_tensor *>(nullptr, "view: out of bounds of %s", svg_shape_string(a).c_str());
    return make_view(ctx, a, n_dims, ne, nb, offset);
}

extern "C" struct svg_tensor *svg_permute(struct svg_context *ctx, struct svg_tensor *a,
                                          const int *perm) {
    if (!a) return nullptr;
    int64_t ne[SVG_MAX_DIMS];
    size_t nb[SVG_MAX_DIMS];
    bool seen[SVG_MAX_DIMS] = {false};
    for (int i = 0; i < a->n_dims; i++) {
        const int p = perm[i];
        if (p < 0 || p >= a->n_dims || seen[p])
            return svg_err<svg_tensor *>(nullptr, "permute: invalid permutation for rank %d", a->n_dims);
        seen[p] = true;
        ne[i] = a->ne[p];
        nb[i] = a->nb[p];
    }
    if (is_quant(a) && perm[a->n_dims - 1] != a->n_dims - 1)
        return svg_err<svg_tensor *>(nullptr, "permute: cannot move the innermost dim of a quantized tensor");
    return make_view(ctx, a, a->n_dims, ne, nb, 0);
}

extern "C" struct svg_tensor *svg_transpose(struct svg_context *ctx, struct svg_tensor *a, int d0,
                                            int d1) {
    if (!a) return nullptr;
    if (d0 < 0) d0 += a->n_dims;
    if (d1 < 0) d1 += a->n_dims;
    if (d0 < 0 || d1 < 0 || d0 >= a->n_dims || d1 >= a->n_dims)
        return svg_err<svg_tensor *>(nullptr, "transpose: dims out of range");
    int perm[SVG_MAX_DIMS];
    for (int i = 0; i < a->n_dims; i++) perm[i] = i;
    perm[d0] = d1;
    perm[d1] = d0;
    return svg_permute(ctx, a, perm);
}

extern "C" struct svg_tensor *svg_slice(struct svg_context *ctx, struct svg_tensor *a, int dim,
                                        int64_t start, int64_t end, int64_t step) {
    if (!a) return nullptr;
    if (dim < 0) dim += a->n_dims;
    if (dim < 0 || dim >= a->n_dims) return svg_err<svg_tensor *>(nullptr, "slice: dim out of range");
    const int64_t n = a->ne[dim];
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (end > n) end = n;
    if (step <= 0 || start < 0 || start > end)
        return svg_err<svg_tensor *>(nullptr, "slice: bad range [%lld:%lld:%lld] of dim %d size %lld",
                                     (long long)start, (long long)end, (long long)step, dim, (long long)n);
    if (is_quant(a) && dim == a->n_dims - 1)
        return svg_err<svg_tensor *>(nullptr, "slice: cannot slice the innermost dim of a quantized tensor");
    int64_t ne[SVG_MAX_DIMS];
    size_t nb[SVG_MAX_DIMS];
    for (int i = 0; i < a->n_dims; i++) {
        ne[i] = a->ne[i];
        nb[i] = a->nb[i];
    }
    ne[dim] = (end - start + step - 1) / step;
    nb[dim] = a->nb[dim] * (size_t)step;
    return make_view(ctx, a, a->n_dims, ne, nb, (size_t)start * a->nb[dim]);
}

// ---------------------------------------------------------------- graphs
extern "C" struct svg_graph *svg_graph_new(struct svg_context *ctx) {
    svg_graph *g = new svg_graph;
    g->ctx = ctx;
    return g;
}
extern "C" void svg_graph_free(struct svg_graph *g) { delete g; }

extern "C" bool svg_graph_build(struct svg_graph *g, struct svg_tensor *root) {
    if (!root) {
        return svg_err(false, "graph build: output tensor is NULL (an op failed earlier: %s)",
                       svg_last_error());
    }
    std::unordered_set<svg_tensor *> visited(g->nodes.begin(), g->nodes.end());
    visited.insert(g->leafs.begin(), g->leafs.end());
    // iterative DFS post-order
    std::vector<std::pair<svg_tensor *, int>> stack;
    if (!visited.count(root)) stack.push_back({root, 0});
    while (!stack.empty()) {
        auto &top = stack.back();
        svg_tensor *t = top.first;
        if (top.second == 0) visited.insert(t);
        int &next = top.second;
        bool pushed = false;
        while (next < SVG_MAX_SRC) {
            svg_tensor *s = t->src[next++];
            if (s && !visited.count(s)) {
                stack.push_back({s, 0});
                pushed = true;
                break;
            }
        }
        if (pushed) continue;
        // view roots are dependencies too (memory owner)
        if (t->op == SVG_OP_NONE)
            g->leafs.push_back(t);
        else
            g->nodes.push_back(t);
        stack.pop_back();
    }
    return true;
}
extern "C" int svg_graph_n_nodes(const struct svg_graph *g) { return (int)g->nodes.size(); }
extern "C" struct svg_tensor *svg_graph_node(const struct svg_graph *g, int i) {
    return (i >= 0 && i < (int)g->nodes.size()) ? g->nodes[(size_t)i] : nullptr;
}
extern "C" int svg_graph_n_leafs(const struct svg_graph *g) { return (int)g->leafs.size(); }
extern "C" struct svg_tensor *svg_graph_leaf(const struct svg_graph *g, int i) {
    return (i >= 0 && i < (int)g->leafs.size()) ? g->leafs[(size_t)i] : nullptr;
}

extern "C" const char *svg_op_name(enum svg_op op) {
    static const char *names[SVG_OP_COUNT] = {
        "NONE",   "VIEW",       "COPY",     "ADD",    "SUB",      "MUL",
        "DIV",    "SCALE",      "UNARY",    "SOFTMAX", "NORM",    "GROUP_NORM",
        "MUL_MAT", "GET_ROWS",  "CONCAT",   "PAD",    "REPEAT",   "UPSAMPLE_NEAREST",
        "CONV3D", "TIMESTEP_EMBEDDING", "ROPE", "ATTENTION", "SPARSE_PROFILE", "SPARSE_PERMUTE",
    };
    if ((int)op < 0 || op >= SVG_OP_COUNT) return "?";
    return names[op];
}
