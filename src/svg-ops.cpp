// Op constructors: validate shapes and types, create the result tensor and
// record the op. Nothing is computed here.
#include "svg-impl.h"

#include <algorithm>
#include <array>

namespace {

using T = svg_tensor;

T *fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
T *fail(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    svg_set_error("%s", buf);
    return nullptr;
}

std::string S(const T *t) { return svg_shape_string(t); }
#define fail_b(...) (svg_set_error(__VA_ARGS__), false)

bool is_act_type(enum svg_type t) {
    return t == SVG_TYPE_F32 || t == SVG_TYPE_F16 || t == SVG_TYPE_BF16;
}

T *new_op(svg_context *ctx, enum svg_op op, enum svg_type type, int n_dims, const int64_t *ne) {
    T *t = svg_new_tensor(ctx, type, n_dims, ne);
    if (t) t->op = op;
    return t;
}

T *new_op_like(svg_context *ctx, enum svg_op op, const T *a, enum svg_type type) {
    return new_op(ctx, op, type, a->n_dims, a->ne);
}

bool check_act(const char *op, const T *a) {
    if (!is_act_type(a->type)) {
        svg_set_error("%s: activation %s must be f32, f16 or bf16", op, S(a).c_str());
        return false;
    }
    return true;
}

// NumPy broadcasting of b onto a (right-aligned); the result takes the
// larger extent of each dim.
bool broadcast_shape(const T *a, const T *b, int *n_dims, int64_t *ne) {
    const int n = std::max(a->n_dims, b->n_dims);
    for (int i = 0; i < n; i++) {
        const int ia = i - (n - a->n_dims), ib = i - (n - b->n_dims);
        const int64_t ea = ia >= 0 ? a->ne[ia] : 1, eb = ib >= 0 ? b->ne[ib] : 1;
        if (ea != eb && ea != 1 && eb != 1) return false;
        ne[i] = ea == 1 ? eb : ea;
    }
    *n_dims = n;
    return true;
}

T *binary(svg_context *ctx, enum svg_op op, const char *name, T *a, T *b) {
    if (!a || !b) return nullptr;
    if (!check_act(name, a) || !check_act(name, b)) return nullptr;
    int n;
    int64_t ne[SVG_MAX_DIMS];
    if (!broadcast_shape(a, b, &n, ne)) return fail("%s: shapes %s and %s do not broadcast", name, S(a).c_str(), S(b).c_str());
    T *t = new_op(ctx, op, a->type, n, ne);
    if (!t) return nullptr;
    t->src[0] = a;
    t->src[1] = b;
    return t;
}

// The operand checks of an attention (op: the name errors carry).
bool attention_operands_ok(const char *op, T *q, T *k, T *v, T *bias, T *key_mask, const svg_sparse_mask *sparse) {
    if (!q || !k || !v) return false;
    if (!check_act(op, q) || !check_act(op, k) || !check_act(op, v)) return false;
    if (q->n_dims != 4 || k->n_dims != 4 || v->n_dims != 4)
        return fail_b("%s: q %s, k %s, v %s must be [B, H, L, D]", op, S(q).c_str(), S(k).c_str(), S(v).c_str());
    const int64_t B = q->ne[0], H = q->ne[1], Lq = q->ne[2], D = q->ne[3];
    const int64_t Hkv = k->ne[1], Lk = k->ne[2];
    if (k->ne[0] != B || v->ne[0] != B || v->ne[1] != Hkv || v->ne[2] != Lk || k->ne[3] != D)
        return fail_b("%s: q %s, k %s, v %s do not match", op, S(q).c_str(), S(k).c_str(), S(v).c_str());
    if (Hkv < 1 || H % Hkv) return fail_b("attention: %lld query heads not a multiple of %lld kv heads", (long long)H, (long long)Hkv);
    if (bias) {
        if (bias->type != SVG_TYPE_F32 || bias->n_dims != 4) return fail_b("attention: bias %s must be f32 [B, H, Lq, Lk] (broadcastable)", S(bias).c_str());
        const int64_t want[4] = {B, H, Lq, Lk};
        for (int i = 0; i < 4; i++)
            if (bias->ne[i] != want[i] && bias->ne[i] != 1) return fail_b("attention: bias %s does not broadcast to [%lld, %lld, %lld, %lld]", S(bias).c_str(), (long long)B, (long long)H, (long long)Lq, (long long)Lk);
    }
    if (key_mask) {
        if ((key_mask->type != SVG_TYPE_F32 && key_mask->type != SVG_TYPE_I32) || key_mask->n_dims != 2 || key_mask->ne[0] != B || key_mask->ne[1] != Lk)
            return fail_b("attention: key mask %s must be f32/i32 [B=%lld, Lk=%lld]", S(key_mask).c_str(), (long long)B, (long long)Lk);
    }
    if (sparse && (Lq != Lk || Lq != sparse->length()))
        return fail_b("%s: %lld queries and %lld keys, the layout has %lld tokens", op, (long long)Lq, (long long)Lk,
                    (long long)sparse->length());
    return true;
}

// ATTENTION, dense or (mask given) under the Sparse VideoGen band mask.
T *attention_op(svg_context *ctx, T *q, T *k, T *v, T *bias, T *key_mask, float scale, bool causal,
                const svg_sparse_mask *sparse) {
    if (!attention_operands_ok(sparse ? "attention_sparse" : "attention", q, k, v, bias, key_mask, sparse)) return nullptr;
    const int64_t B = q->ne[0], H = q->ne[1], Lq = q->ne[2];
    const int64_t ne[4] = {B, Lq, H, v->ne[3]};
    T *t = new_op(ctx, SVG_OP_ATTENTION, q->type, 4, ne);
    if (!t) return nullptr;
    t->src[0] = q;
    t->src[1] = k;
    t->src[2] = v;
    t->src[3] = bias;
    t->src[4] = key_mask;
    svg_set_param_f32(t, 0, scale);
    t->op_params[1] = causal;
    t->op_params[2] = sparse != nullptr;
    if (sparse) svg_sparse_store(t, 3, *sparse);
    return t;
}


// A validated svg_sparse_layout (every field fits the op params).
bool sparse_mask_of(const char *op, const svg_sparse_layout *l, svg_sparse_mask *m) {
    if (!l) {
        svg_set_error("%s: no layout", op);
        return false;
    }
    const int64_t v[6] = {l->text_before, l->frames, l->tokens_per_frame, l->text_after, l->sink_frames, l->band};
    for (int64_t x : v)
        if (x < 0 || x > INT32_MAX) {
            svg_set_error("%s: layout value %lld out of range", op, (long long)x);
            return false;
        }
    if (l->frames < 1 || l->tokens_per_frame < 1 || l->sink_frames > l->frames ||
        l->text_before + l->frames * l->tokens_per_frame + l->text_after > INT32_MAX) {
        svg_set_error("%s: layout of %lld frames × %lld tokens (sink %lld) is not valid", op, (long long)l->frames,
                      (long long)l->tokens_per_frame, (long long)l->sink_frames);
        return false;
    }
    m->text_before = l->text_before;
    m->frames = l->frames;
    m->tpf = l->tokens_per_frame;
    m->text_after = l->text_after;
    m->sink = l->sink_frames;
    m->band = l->band;
    return true;
}

}  // namespace

extern "C" {

T *svg_cont(svg_context *ctx, T *a) {
    if (!a) return nullptr;
    return svg_cast(ctx, a, a->type);
}

T *svg_cast(svg_context *ctx, T *a, enum svg_type type) {
    if (!a) return nullptr;
    const svg_type_traits *ta = svg_type_traits_of(a->type), *tt = svg_type_traits_of(type);
    if (!tt) return fail("cast: unknown type %d", (int)type);
    if (ta->is_float != tt->is_float && a->type != type)
        return fail("cast: cannot convert %s to %s", ta->name, tt->name);
    if (tt->block_size > 1 && (a->n_dims == 0 || a->ne[a->n_dims - 1] % tt->block_size))
        return fail("cast: %s needs a row length divisible by %lld, got %s", tt->name, (long long)tt->block_size, S(a).c_str());
    T *t = new_op_like(ctx, SVG_OP_COPY, a, type);
    if (t) t->src[0] = a;
    return t;
}

T *svg_add(svg_context *ctx, T *a, T *b) { return binary(ctx, SVG_OP_ADD, "add", a, b); }
T *svg_sub(svg_context *ctx, T *a, T *b) { return binary(ctx, SVG_OP_SUB, "sub", a, b); }
T *svg_mul(svg_context *ctx, T *a, T *b) { return binary(ctx, SVG_OP_MUL, "mul", a, b); }
T *svg_div(svg_context *ctx, T *a, T *b) { return binary(ctx, SVG_OP_DIV, "div", a, b); }

T *svg_scale(svg_context *ctx, T *a, float s, float b) {
    if (!a || !check_act("scale", a)) return nullptr;
    T *t = new_op_like(ctx, SVG_OP_SCALE, a, a->type);
    if (!t) return nullptr;
    t->src[0] = a;
    svg_set_param_f32(t, 0, s);
    svg_set_param_f32(t, 1, b);
    return t;
}

T *svg_unary(svg_context *ctx, T *a, enum svg_unary_op op) {
    if (!a || !check_act("unary", a)) return nullptr;
    if ((int)op < 0 || op >= SVG_UNARY_COUNT) return fail("unary: unknown op %d", (int)op);
    T *t = new_op_like(ctx, SVG_OP_UNARY, a, a->type);
    if (!t) return nullptr;
    t->src[0] = a;
    t->op_params[0] = op;
    return t;
}
T *svg_gelu(svg_context *ctx, T *a) { return svg_unary(ctx, a, SVG_UNARY_GELU); }
T *svg_gelu_tanh(svg_context *ctx, T *a) { return svg_unary(ctx, a, SVG_UNARY_GELU_TANH); }
T *svg_silu(svg_context *ctx, T *a) { return svg_unary(ctx, a, SVG_UNARY_SILU); }
T *svg_relu(svg_context *ctx, T *a) { return svg_unary(ctx, a, SVG_UNARY_RELU); }
T *svg_exp(svg_context *ctx, T *a) { return svg_unary(ctx, a, SVG_UNARY_EXP); }
T *svg_tanh(svg_context *ctx, T *a) { return svg_unary(ctx, a, SVG_UNARY_TANH); }
T *svg_sigmoid(svg_context *ctx, T *a) { return svg_unary(ctx, a, SVG_UNARY_SIGMOID); }

T *svg_softmax(svg_context *ctx, T *a) {
    if (!a || !check_act("softmax", a)) return nullptr;
    if (a->n_dims < 1) return fail("softmax: scalar input");
    T *t = new_op_like(ctx, SVG_OP_SOFTMAX, a, a->type);
    if (t) t->src[0] = a;
    return t;
}

T *svg_norm_ext(svg_context *ctx, T *x, enum svg_norm_kind kind, int dim0, int n_norm_dims,
                float eps, T *w, T *b, T *scale, T *shift) {
    if (!x || !check_act("norm", x)) return nullptr;
    if (dim0 < 0) dim0 += x->n_dims;
    if (dim0 < 0 || n_norm_dims < 1 || dim0 + n_norm_dims > x->n_dims)
        return fail("norm: dims [%d, %d) out of range for %s", dim0, dim0 + n_norm_dims, S(x).c_str());
    if (kind != SVG_NORM_LAYER && kind != SVG_NORM_RMS) return fail("norm: unknown kind %d", (int)kind);
    if (!svg_is_contiguous(x)) return fail("norm: input %s must be contiguous", S(x).c_str());
    int64_t n = 1;
    for (int i = dim0; i < dim0 + n_norm_dims; i++) n *= x->ne[i];
    for (T *p : {w, b}) {
        if (p && (!check_act("norm", p) || svg_nelements(p) != n || !svg_is_contiguous(p)))
            return fail("norm: weight/bias %s must be a contiguous float tensor of %lld elements", S(p).c_str(), (long long)n);
    }
    for (T *p : {scale, shift}) {
        if (!p) continue;
        int nd;
        int64_t ne[SVG_MAX_DIMS];
        if (!check_act("norm", p) || !broadcast_shape(x, p, &nd, ne) || nd != x->n_dims || !std::equal(ne, ne + nd, x->ne))
            return fail("norm: modulation %s does not broadcast to %s", S(p).c_str(), S(x).c_str());
    }
    T *t = new_op_like(ctx, SVG_OP_NORM, x, x->type);
    if (!t) return nullptr;
    t->src[0] = x;
    t->src[1] = w;
    t->src[2] = b;
    t->src[3] = scale;
    t->src[4] = shift;
    t->op_params[0] = kind;
    t->op_params[1] = dim0;
    t->op_params[2] = n_norm_dims;
    svg_set_param_f32(t, 3, eps);
    return t;
}

T *svg_layer_norm(svg_context *ctx, T *x, T *w, T *b, float eps) {
    if (!x) return nullptr;
    return svg_norm_ext(ctx, x, SVG_NORM_LAYER, -1, 1, eps, w, b, nullptr, nullptr);
}
T *svg_rms_norm(svg_context *ctx, T *x, T *w, float eps) {
    if (!x) return nullptr;
    return svg_norm_ext(ctx, x, SVG_NORM_RMS, -1, 1, eps, w, nullptr, nullptr, nullptr);
}
T *svg_norm_modulate(svg_context *ctx, T *x, enum svg_norm_kind kind, float eps, T *w, T *b,
                     T *scale, T *shift) {
    if (!x) return nullptr;
    return svg_norm_ext(ctx, x, kind, -1, 1, eps, w, b, scale, shift);
}

T *svg_group_norm(svg_context *ctx, T *x, int n_groups, float eps, T *w, T *b) {
    if (!x || !check_act("group_norm", x)) return nullptr;
    if (x->n_dims < 2) return fail("group_norm: input %s needs [B, C, ...]", S(x).c_str());
    if (!svg_is_contiguous(x)) return fail("group_norm: input %s must be contiguous", S(x).c_str());
    const int64_t C = x->ne[1];
    if (n_groups < 1 || C % n_groups) return fail("group_norm: %lld channels not divisible into %d groups", (long long)C, n_groups);
    for (T *p : {w, b})
        if (p && (!check_act("group_norm", p) || svg_nelements(p) != C || !svg_is_contiguous(p)))
            return fail("group_norm: weight/bias %s must have %lld elements", S(p).c_str(), (long long)C);
    T *t = new_op_like(ctx, SVG_OP_GROUP_NORM, x, x->type);
    if (!t) return nullptr;
    t->src[0] = x;
    t->src[1] = w;
    t->src[2] = b;
    t->op_params[0] = n_groups;
    svg_set_param_f32(t, 1, eps);
    return t;
}

T *svg_mul_mat(svg_context *ctx, T *a, T *b) {
    if (!a || !b) return nullptr;
    if (!check_act("mul_mat", a)) return nullptr;
    if (!svg_type_traits_of(b->type)->is_float) return fail("mul_mat: weight %s is not a float type", S(b).c_str());
    if (a->n_dims < 2 || b->n_dims < 2) return fail("mul_mat: need rank >= 2, got %s and %s", S(a).c_str(), S(b).c_str());
    const int64_t K = a->ne[a->n_dims - 1];
    if (b->ne[b->n_dims - 1] != K) return fail("mul_mat: inner dims differ: %s @ %s^T", S(a).c_str(), S(b).c_str());
    if (b->n_dims > a->n_dims) return fail("mul_mat: b %s has more batch dims than a %s", S(b).c_str(), S(a).c_str());
    // b's batch dims broadcast to a's (right-aligned, excluding the matrix dims)
    for (int i = 0; i < b->n_dims - 2; i++) {
        const int ia = a->n_dims - b->n_dims + i;
        if (b->ne[i] != 1 && b->ne[i] != a->ne[ia]) return fail("mul_mat: batch dims of %s do not broadcast to %s", S(b).c_str(), S(a).c_str());
    }
    int64_t ne[SVG_MAX_DIMS];
    for (int i = 0; i < a->n_dims; i++) ne[i] = a->ne[i];
    ne[a->n_dims - 1] = b->ne[b->n_dims - 2];
    T *t = new_op(ctx, SVG_OP_MUL_MAT, a->type, a->n_dims, ne);
    if (!t) return nullptr;
    t->src[0] = a;
    t->src[1] = b;
    return t;
}

T *svg_linear(svg_context *ctx, T *x, T *w, T *bias) {
    if (!x || !w) return nullptr;
    if (w->n_dims != 2) return fail("linear: weight %s must be [out, in]", S(w).c_str());
    if (x->n_dims < 2) {
        const int64_t ne[2] = {1, x->ne[0]};
        x = svg_reshape(ctx, x, 2, ne);
        if (!x) return nullptr;
    }
    // A quantized weight under 16-bit activations of many rows is cast to
    // the activations' type first, so the product is a dense tensor-core
    // GEMM at cuBLAS's speed: the cast is N·K elements, 1/rows of the GEMM's
    // multiply-adds, and its buffer lives only until the product. q8_0 and
    // q4_0 have a tensor-core GEMM that reads the blocks in place (at about
    // half cuBLAS's speed on long inputs, ahead on short ones: text
    // encoders), the k-quants only a generic one. f32 activations (the CPU)
    // multiply the blocks directly.
    const bool in_place_gemm = w->type == SVG_TYPE_Q8_0 || w->type == SVG_TYPE_Q4_0;
    if (svg_type_traits_of(w->type)->is_quantized && (x->type == SVG_TYPE_BF16 || x->type == SVG_TYPE_F16) &&
        svg_nelements(x) / x->ne[x->n_dims - 1] >= (in_place_gemm ? 2048 : 64)) {
        w = svg_cast(ctx, w, x->type);
        if (!w) return nullptr;
    }
    T *t = svg_mul_mat(ctx, x, w);
    if (!t) return nullptr;
    if (bias) {
        if (!check_act("linear", bias) || svg_nelements(bias) != w->ne[0] || !svg_is_contiguous(bias))
            return fail("linear: bias %s must have %lld elements", S(bias).c_str(), (long long)w->ne[0]);
        t->src[2] = bias;
    }
    return t;
}

T *svg_get_rows(svg_context *ctx, T *table, T *ids) {
    if (!table || !ids) return nullptr;
    if (table->n_dims != 2) return fail("get_rows: table %s must be [V, D]", S(table).c_str());
    if (!svg_type_traits_of(table->type)->is_float) return fail("get_rows: table type %s", svg_type_name(table->type));
    if (ids->type != SVG_TYPE_I32 && ids->type != SVG_TYPE_I64) return fail("get_rows: ids must be i32 or i64, got %s", S(ids).c_str());
    if (ids->n_dims + 1 > SVG_MAX_DIMS) return fail("get_rows: ids rank too large");
    int64_t ne[SVG_MAX_DIMS];
    for (int i = 0; i < ids->n_dims; i++) ne[i] = ids->ne[i];
    ne[ids->n_dims] = table->ne[1];
    T *t = new_op(ctx, SVG_OP_GET_ROWS, SVG_TYPE_F32, ids->n_dims + 1, ne);
    if (!t) return nullptr;
    t->src[0] = table;
    t->src[1] = ids;
    return t;
}

T *svg_concat(svg_context *ctx, T *a, T *b, int dim) {
    if (!a || !b) return nullptr;
    if (a->type != b->type || !check_act("concat", a)) return fail("concat: types %s and %s", S(a).c_str(), S(b).c_str());
    if (a->n_dims != b->n_dims) return fail("concat: ranks differ: %s and %s", S(a).c_str(), S(b).c_str());
    if (dim < 0) dim += a->n_dims;
    if (dim < 0 || dim >= a->n_dims) return fail("concat: dim out of range");
    int64_t ne[SVG_MAX_DIMS];
    for (int i = 0; i < a->n_dims; i++) {
        if (i != dim && a->ne[i] != b->ne[i]) return fail("concat: shapes %s and %s differ outside dim %d", S(a).c_str(), S(b).c_str(), dim);
        ne[i] = a->ne[i] + (i == dim ? b->ne[i] : 0);
    }
    T *t = new_op(ctx, SVG_OP_CONCAT, a->type, a->n_dims, ne);
    if (!t) return nullptr;
    t->src[0] = a;
    t->src[1] = b;
    t->op_params[0] = dim;
    return t;
}

T *svg_pad(svg_context *ctx, T *a, const int64_t *before, const int64_t *after,
           enum svg_pad_mode mode, float value) {
    if (!a || !check_act("pad", a)) return nullptr;
    if (mode != SVG_PAD_CONSTANT && mode != SVG_PAD_REPLICATE) return fail("pad: unknown mode");
    int64_t ne[SVG_MAX_DIMS];
    int32_t p[SVG_MAX_OP_PARAMS] = {0};
    for (int i = 0; i < a->n_dims; i++) {
        const int64_t b0 = before ? before[i] : 0, a0 = after ? after[i] : 0;
        if (b0 < 0 || a0 < 0 || b0 > (1 << 30) || a0 > (1 << 30)) return fail("pad: bad padding for dim %d", i);
        if (mode == SVG_PAD_REPLICATE && a->ne[i] == 0 && (b0 || a0)) return fail("pad: replicate of an empty dim");
        ne[i] = a->ne[i] + b0 + a0;
        p[2 + 2 * i] = (int32_t)b0;
        p[3 + 2 * i] = (int32_t)a0;
    }
    T *t = new_op(ctx, SVG_OP_PAD, a->type, a->n_dims, ne);
    if (!t) return nullptr;
    t->src[0] = a;
    memcpy(t->op_params, p, sizeof p);
    t->op_params[0] = mode;
    svg_set_param_f32(t, 1, value);
    return t;
}

T *svg_repeat(svg_context *ctx, T *a, const int64_t *reps) {
    if (!a || !check_act("repeat", a)) return nullptr;
    int64_t ne[SVG_MAX_DIMS];
    for (int i = 0; i < a->n_dims; i++) {
        if (reps[i] < 1) return fail("repeat: repetition %lld for dim %d", (long long)reps[i], i);
        ne[i] = a->ne[i] * reps[i];
    }
    T *t = new_op(ctx, SVG_OP_REPEAT, a->type, a->n_dims, ne);
    if (t) t->src[0] = a;
    return t;
}

T *svg_upsample_nearest(svg_context *ctx, T *a, int n, const int *factors) {
    if (!a || !check_act("upsample_nearest", a)) return nullptr;
    if (n < 1 || n > 3 || n > a->n_dims) return fail("upsample_nearest: %d dims of %s", n, S(a).c_str());
    int64_t ne[SVG_MAX_DIMS];
    for (int i = 0; i < a->n_dims; i++) ne[i] = a->ne[i];
    for (int i = 0; i < n; i++) {
        if (factors[i] < 1) return fail("upsample_nearest: factor %d", factors[i]);
        ne[a->n_dims - n + i] *= factors[i];
    }
    T *t = new_op(ctx, SVG_OP_UPSAMPLE_NEAREST, a->type, a->n_dims, ne);
    if (!t) return nullptr;
    t->src[0] = a;
    t->op_params[0] = n;
    for (int i = 0; i < n; i++) t->op_params[1 + i] = factors[i];
    return t;
}

T *svg_conv3d(svg_context *ctx, T *x, T *w, T *bias, const int *stride, const int *pad) {
    if (!x || !w) return nullptr;
    if (!check_act("conv3d", x)) return nullptr;
    if (x->n_dims != 5 || w->n_dims != 5) return fail("conv3d: input %s must be [B,C,D,H,W] and weight %s [Cout,Cin,kd,kh,kw]", S(x).c_str(), S(w).c_str());
    if (!is_act_type(w->type)) return fail("conv3d: weight type %s (f32/f16/bf16 only)", svg_type_name(w->type));
    if (w->ne[1] != x->ne[1]) return fail("conv3d: input has %lld channels, weight %s expects %lld", (long long)x->ne[1], S(w).c_str(), (long long)w->ne[1]);
    if (bias && (svg_nelements(bias) != w->ne[0] || !check_act("conv3d", bias))) return fail("conv3d: bias %s", S(bias).c_str());
    int64_t ne[5] = {x->ne[0], w->ne[0], 0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (stride[i] < 1 || pad[2 * i] < 0 || pad[2 * i + 1] < 0) return fail("conv3d: bad stride/padding");
        const int64_t in = x->ne[2 + i] + pad[2 * i] + pad[2 * i + 1];
        if (in < w->ne[2 + i]) return fail("conv3d: kernel %s larger than padded input %s", S(w).c_str(), S(x).c_str());
        ne[2 + i] = (in - w->ne[2 + i]) / stride[i] + 1;
    }
    T *t = new_op(ctx, SVG_OP_CONV3D, x->type, 5, ne);
    if (!t) return nullptr;
    t->src[0] = x;
    t->src[1] = w;
    t->src[2] = bias;
    for (int i = 0; i < 3; i++) t->op_params[i] = stride[i];
    for (int i = 0; i < 6; i++) t->op_params[3 + i] = pad[i];
    return t;
}

T *svg_conv2d(svg_context *ctx, T *x, T *w, T *bias, const int *stride, const int *pad) {
    if (!x || !w) return nullptr;
    if (x->n_dims != 4 || w->n_dims != 4) return fail("conv2d: input %s must be [B,C,H,W] and weight %s [Cout,Cin,kh,kw]", S(x).c_str(), S(w).c_str());
    // conv2d is conv3d with a depth of one: insert D = 1 (views, no copy)
    const int64_t xne[5] = {x->ne[0], x->ne[1], 1, x->ne[2], x->ne[3]};
    const size_t xnb[5] = {x->nb[0], x->nb[1], x->nb[1], x->nb[2], x->nb[3]};
    const int64_t wne[5] = {w->ne[0], w->ne[1], 1, w->ne[2], w->ne[3]};
    const size_t wnb[5] = {w->nb[0], w->nb[1], w->nb[1], w->nb[2], w->nb[3]};
    T *x5 = svg_view(ctx, x, 5, xne, xnb, 0);
    T *w5 = svg_view(ctx, w, 5, wne, wnb, 0);
    const int s3[3] = {1, stride[0], stride[1]};
    const int p6[6] = {0, 0, pad[0], pad[1], pad[2], pad[3]};
    T *y = svg_conv3d(ctx, x5, w5, bias, s3, p6);
    if (!y) return nullptr;
    const int64_t yne[4] = {y->ne[0], y->ne[1], y->ne[3], y->ne[4]};
    return svg_reshape(ctx, y, 4, yne);
}

T *svg_timestep_embedding(svg_context *ctx, T *t_in, int dim, bool flip_sin_to_cos,
                          float downscale_freq_shift, float scale, float max_period) {
    if (!t_in || !check_act("timestep_embedding", t_in)) return nullptr;
    if (t_in->n_dims != 1) return fail("timestep_embedding: timesteps %s must be 1-D", S(t_in).c_str());
    if (dim < 2) return fail("timestep_embedding: dim %d", dim);
    if (dim / 2 - downscale_freq_shift == 0) return fail("timestep_embedding: half dim equals the frequency shift");
    T *t = new_op(ctx, SVG_OP_TIMESTEP_EMBEDDING, SVG_TYPE_F32, 2, std::array<int64_t, 2>{t_in->ne[0], dim}.data());
    if (!t) return nullptr;
    t->src[0] = t_in;
    t->op_params[0] = dim;
    t->op_params[1] = flip_sin_to_cos;
    svg_set_param_f32(t, 2, downscale_freq_shift);
    svg_set_param_f32(t, 3, scale);
    svg_set_param_f32(t, 4, max_period);
    return t;
}

T *svg_rope(svg_context *ctx, T *x, T *pos, int n_axes, const int *axes_dim, float theta,
            enum svg_rope_mode mode) {
    if (!x || !pos) return nullptr;
    if (!check_act("rope", x)) return nullptr;
    if (x->n_dims != 4) return fail("rope: x %s must be [B, L, H, D]", S(x).c_str());
    if (n_axes < 1 || n_axes > 8) return fail("rope: %d axes (1..8)", n_axes);
    if (mode != SVG_ROPE_INTERLEAVED && mode != SVG_ROPE_HALF_SPLIT) return fail("rope: unknown mode");
    if (pos->type != SVG_TYPE_F32 || pos->n_dims != 2 || pos->ne[0] != x->ne[1] || pos->ne[1] != n_axes)
        return fail("rope: positions %s must be f32 [L=%lld, %d]", S(pos).c_str(), (long long)x->ne[1], n_axes);
    int64_t sum = 0;
    for (int i = 0; i < n_axes; i++) {
        if (axes_dim[i] <= 0 || axes_dim[i] % 2) return fail("rope: axis dim %d must be even and positive", axes_dim[i]);
        sum += axes_dim[i];
    }
    if (sum != x->ne[3]) return fail("rope: axes dims sum to %lld, head dim is %lld", (long long)sum, (long long)x->ne[3]);
    T *t = new_op_like(ctx, SVG_OP_ROPE, x, x->type);
    if (!t) return nullptr;
    t->src[0] = x;
    t->src[1] = pos;
    t->op_params[0] = n_axes;
    t->op_params[1] = mode;
    svg_set_param_f32(t, 2, theta);
    for (int i = 0; i < n_axes; i++) t->op_params[3 + i] = axes_dim[i];
    return t;
}

T *svg_attention(svg_context *ctx, T *q, T *k, T *v, T *bias, T *key_mask, float scale,
                 bool causal) {
    return attention_op(ctx, q, k, v, bias, key_mask, scale, causal, nullptr);
}


// ------------------------------------------------------------ Sparse VideoGen

int64_t svg_sparse_position(const svg_sparse_layout *l, enum svg_head_kind kind, int64_t f, int64_t s) {
    svg_sparse_mask m;
    if (!sparse_mask_of("sparse_position", l, &m)) return -1;
    return m.position(kind, f * m.tpf + s);
}

double svg_sparse_density(const svg_sparse_layout *l) {
    svg_sparse_mask m;
    if (!sparse_mask_of("sparse_density", l, &m)) return -1.0;
    const double L = (double)m.length(), V = (double)m.video(), text = L - V, S = (double)(m.sink * m.tpf);
    // text rows see everything; video rows see the text, the sink and their band
    double pairs = text * L + V * text;
    for (int64_t p = 0; p < m.video(); p++) {
        const int64_t lo = std::max<int64_t>(0, p - m.band), hi = std::min<int64_t>(m.video() - 1, p + m.band);
        const int64_t in_sink = std::max<int64_t>(0, std::min<int64_t>(hi, m.sink * m.tpf - 1) - lo + 1);
        pairs += S + (double)(hi - lo + 1 - in_sink);
    }
    return pairs / (L * L);
}

int64_t svg_sparse_band_for_density(const svg_sparse_layout *l, double density, int64_t block) {
    svg_sparse_mask m;
    if (!sparse_mask_of("sparse_band_for_density", l, &m)) return -1;
    if (block < 1) block = 1;
    const int64_t blocks = (m.video() + block - 1) / block;
    if (density >= 1.0) return blocks * block;
    svg_sparse_layout t = *l;
    int64_t lo = 1, hi = blocks;  // largest count of blocks with density ≤ target, at least 1
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        t.band = mid * block;
        if (svg_sparse_density(&t) <= density) lo = mid;
        else hi = mid - 1;
    }
    return lo * block;
}

T *svg_sparse_profile(svg_context *ctx, T *q, T *k, T *v, T *key_mask, float scale, const svg_sparse_layout *layout, int rows,
                      uint32_t seed) {
    svg_sparse_mask m;
    if (!q || !k || !v || !sparse_mask_of("sparse_profile", layout, &m)) return nullptr;
    if (rows < 1) return fail("sparse_profile: %d sampled rows", rows);
    // the operands of an attention over the whole sequence
    if (!attention_operands_ok("sparse_profile", q, k, v, nullptr, key_mask, &m)) return nullptr;
    const int64_t ne[3] = {q->ne[0], q->ne[1], 3};
    T *t = new_op(ctx, SVG_OP_SPARSE_PROFILE, SVG_TYPE_F32, 3, ne);
    if (!t) return nullptr;
    t->src[0] = q;
    t->src[1] = k;
    t->src[2] = v;
    t->src[4] = key_mask;
    svg_set_param_f32(t, 0, scale);
    t->op_params[1] = rows;
    t->op_params[2] = (int32_t)seed;
    svg_sparse_store(t, 3, m);
    return t;
}

T *svg_sparse_permute(svg_context *ctx, T *x, T *kinds, const svg_sparse_layout *layout, bool inverse) {
    svg_sparse_mask m;
    if (!x || !kinds || !sparse_mask_of("sparse_permute", layout, &m)) return nullptr;
    if (!check_act("sparse_permute", x)) return nullptr;
    if (x->n_dims != 4 || x->ne[1] != m.length())
        return fail("sparse_permute: x %s must be [B, L=%lld, H, D]", S(x).c_str(), (long long)m.length());
    if (kinds->type != SVG_TYPE_F32 || kinds->n_dims != 3 || kinds->ne[0] != x->ne[0] || kinds->ne[1] != x->ne[2] || kinds->ne[2] < 1)
        return fail("sparse_permute: kinds %s must be f32 [B=%lld, H=%lld, ≥1]", S(kinds).c_str(), (long long)x->ne[0],
                    (long long)x->ne[2]);
    T *t = new_op_like(ctx, SVG_OP_SPARSE_PERMUTE, x, x->type);
    if (!t) return nullptr;
    t->src[0] = x;
    t->src[1] = kinds;
    t->op_params[0] = inverse;
    svg_sparse_store(t, 3, m);
    return t;
}

T *svg_attention_sparse(svg_context *ctx, T *q, T *k, T *v, T *key_mask, float scale, const svg_sparse_layout *layout) {
    svg_sparse_mask m;
    if (!sparse_mask_of("attention_sparse", layout, &m)) return nullptr;
    return attention_op(ctx, q, k, v, nullptr, key_mask, scale, false, &m);
}

}  // extern "C"
