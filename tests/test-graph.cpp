// Graph API and the memory planner (svg_gallocr): graphs built in no_alloc
// contexts, planned, computed on the CPU backend and checked against
// reference loops; the plan itself is checked for overlapping live tensors
// and for its peak size.
#include "test-common.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

using namespace svgtest;

namespace {

constexpr int64_t R = 64, C = 257;  // [64, 257] f32: odd row length

svg_tensor *root_of(svg_tensor *t) {
    while (t->view_src) t = t->view_src;
    return t;
}

// Independent check of a plan: any two tensors placed in the same buffer
// whose live ranges intersect must not share bytes. A tensor is live from the
// node that computes it (inputs: from the start) to its last consumer (views
// count as uses of the tensor owning the memory); outputs and the last node
// live to the end.
void check_no_live_overlap(svg_graph *g) {
    const int n = svg_graph_n_nodes(g);
    std::map<svg_tensor *, std::pair<int, int>> live;
    for (int i = 0; i < svg_graph_n_leafs(g); i++) {
        svg_tensor *l = svg_graph_leaf(g, i);
        if (l->data && !l->view_src) live[l] = {-1, -1};
    }
    for (int i = 0; i < n; i++) {
        svg_tensor *t = svg_graph_node(g, i);
        if (t->op != SVG_OP_VIEW && !t->view_src) live[t] = {i, i};
    }
    for (int i = 0; i < n; i++) {
        svg_tensor *t = svg_graph_node(g, i);
        for (int s = 0; s < SVG_MAX_SRC; s++) {
            if (!t->src[s]) continue;
            auto it = live.find(root_of(t->src[s]));
            if (it != live.end()) it->second.second = std::max(it->second.second, i);
        }
    }
    for (auto &p : live)
        if ((p.first->flags & SVG_FLAG_OUTPUT) || (n > 0 && p.first == svg_graph_node(g, n - 1))) p.second.second = n;
    std::vector<std::pair<svg_tensor *, std::pair<int, int>>> v(live.begin(), live.end());
    int bad = 0;
    for (size_t i = 0; i < v.size(); i++) {
        for (size_t j = i + 1; j < v.size(); j++) {
            svg_tensor *a = v[i].first, *b = v[j].first;
            if (!a->buffer || a->buffer != b->buffer) continue;
            const auto ia = v[i].second, ib = v[j].second;
            if (ia.first > ib.second || ib.first > ia.second) continue;  // not live together
            const char *a0 = (const char *)a->data, *a1 = a0 + svg_nbytes(a);
            const char *b0 = (const char *)b->data, *b1 = b0 + svg_nbytes(b);
            if (a0 < b1 && b0 < a1 && bad++ < 5)
                ADD_FAILURE() << "live tensors overlap: '" << a->name << "' (" << svg_op_name(a->op) << ", live " << ia.first
                              << ".." << ia.second << ") and '" << b->name << "' (" << svg_op_name(b->op) << ", live "
                              << ib.first << ".." << ib.second << ")";
        }
    }
    EXPECT_EQ(bad, 0);
}

// Frees a library object when the test returns (also on a failed ASSERT).
template <typename T>
using Own = std::unique_ptr<T, void (*)(T *)>;

size_t aligned(size_t n, size_t a) { return (n + a - 1) / a * a; }

std::vector<float> rand_vec(size_t n, std::mt19937 &rng, float lo = -1.f, float hi = 1.f) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float &x : v) {
        x = d(rng);
        if (x == 0.f) x = 0.25f;
    }
    return v;
}

// The chain: step i applies op i % 5 of
//   add w2 [R, C] | mul w1 [C] | tanh | scale 0.9, 0.1 | sub x
svg_tensor *build_chain(svg_context *ctx, svg_tensor *x, svg_tensor *w1, svg_tensor *w2, int n_ops,
                        std::vector<svg_tensor *> *steps) {
    svg_tensor *y = x;
    for (int i = 0; i < n_ops; i++) {
        switch (i % 5) {
            case 0: y = svg_add(ctx, y, w2); break;
            case 1: y = svg_mul(ctx, y, w1); break;
            case 2: y = svg_tanh(ctx, y); break;
            case 3: y = svg_scale(ctx, y, 0.9f, 0.1f); break;
            default: y = svg_sub(ctx, y, x); break;
        }
        if (y) svg_set_name(y, ("step" + std::to_string(i)).c_str());
        if (steps) steps->push_back(y);
    }
    return y;
}

std::vector<std::vector<float>> chain_ref(const std::vector<float> &x, const std::vector<float> &w1,
                                          const std::vector<float> &w2, int64_t rows, int64_t cols, int n_ops) {
    std::vector<std::vector<float>> steps;
    std::vector<float> y = x;
    for (int i = 0; i < n_ops; i++) {
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t c = 0; c < cols; c++) {
                const size_t k = (size_t)(r * cols + c);
                float &v = y[k];
                switch (i % 5) {
                    case 0: v = v + w2[k]; break;
                    case 1: v = v * w1[(size_t)c]; break;
                    case 2: v = std::tanh(v); break;
                    case 3: v = v * 0.9f + 0.1f; break;
                    default: v = v - x[k]; break;
                }
            }
        }
        steps.push_back(y);
    }
    return steps;
}

struct ChainInputs {
    std::vector<float> x, w1, w2;
    ChainInputs(std::mt19937 &rng, int64_t rows, int64_t cols)
        : x(rand_vec((size_t)(rows * cols), rng)), w1(rand_vec((size_t)cols, rng, 0.5f, 1.5f)),
          w2(rand_vec((size_t)(rows * cols), rng)) {}
};

// The same chain in an allocating context, computed with the test helper.
std::vector<float> chain_direct(const ChainInputs &in, int64_t rows, int64_t cols, int n_ops) {
    svg_context *ctx = svg_context_new(false);
    svg_tensor *x = svg_new_tensor_2d(ctx, SVG_TYPE_F32, rows, cols);
    svg_tensor *w1 = svg_new_tensor_1d(ctx, SVG_TYPE_F32, cols);
    svg_tensor *w2 = svg_new_tensor_2d(ctx, SVG_TYPE_F32, rows, cols);
    EXPECT_TRUE(svg_tensor_set_f32(x, in.x.data(), (int64_t)in.x.size()));
    EXPECT_TRUE(svg_tensor_set_f32(w1, in.w1.data(), (int64_t)in.w1.size()));
    EXPECT_TRUE(svg_tensor_set_f32(w2, in.w2.data(), (int64_t)in.w2.size()));
    svg_tensor *y = build_chain(ctx, x, w1, w2, n_ops, nullptr);
    std::vector<float> out;
    if (compute(ctx, y)) out = to_vec(y);
    svg_context_free(ctx);
    return out;
}

struct Planned {
    svg_context *ctx = nullptr;
    svg_tensor *x = nullptr, *w1 = nullptr, *w2 = nullptr, *out = nullptr;
    std::vector<svg_tensor *> steps;
    svg_graph *g = nullptr;
    ~Planned() {
        if (g) svg_graph_free(g);
        if (ctx) svg_context_free(ctx);
    }
};

// Chain in a no_alloc context with x, w1, w2 as graph inputs.
void build_planned_chain(Planned &p, int64_t rows, int64_t cols, int n_ops) {
    p.ctx = svg_context_new(true);
    p.x = svg_set_name(svg_new_tensor_2d(p.ctx, SVG_TYPE_F32, rows, cols), "x");
    p.w1 = svg_set_name(svg_new_tensor_1d(p.ctx, SVG_TYPE_F32, cols), "w1");
    p.w2 = svg_set_name(svg_new_tensor_2d(p.ctx, SVG_TYPE_F32, rows, cols), "w2");
    for (svg_tensor *t : {p.x, p.w1, p.w2}) {
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->data, nullptr) << "no_alloc context allocated memory";
        svg_set_input(t);
    }
    p.out = build_chain(p.ctx, p.x, p.w1, p.w2, n_ops, &p.steps);
    ASSERT_NE(p.out, nullptr) << svg_last_error();
    svg_set_output(p.out);
    p.g = svg_graph_new(p.ctx);
    ASSERT_TRUE(svg_graph_build(p.g, p.out)) << svg_last_error();
}

void set_chain_inputs(Planned &p, const ChainInputs &in) {
    ASSERT_TRUE(svg_tensor_set_f32(p.x, in.x.data(), (int64_t)in.x.size())) << svg_last_error();
    ASSERT_TRUE(svg_tensor_set_f32(p.w1, in.w1.data(), (int64_t)in.w1.size())) << svg_last_error();
    ASSERT_TRUE(svg_tensor_set_f32(p.w2, in.w2.data(), (int64_t)in.w2.size())) << svg_last_error();
}

// NaN bytes in every computed node. Call before setting the inputs: the plan
// may place nodes where inputs dead by then were.
void poison_nodes(svg_graph *g) {
    for (int i = 0; i < svg_graph_n_nodes(g); i++) {
        svg_tensor *t = svg_graph_node(g, i);
        if (t->op != SVG_OP_VIEW && t->data) memset(t->data, 0xff, svg_nbytes(t));  // CPU: host memory
    }
}

}  // namespace

TEST(Graph, BuildOrderAndDedup) {
    svg_context *ctx = svg_context_new(true);
    Own<svg_context> ctx_owner(ctx, svg_context_free);
    svg_tensor *a = svg_new_tensor_2d(ctx, SVG_TYPE_F32, 3, 5);
    svg_tensor *b = svg_new_tensor_1d(ctx, SVG_TYPE_F32, 5);
    svg_tensor *s = svg_add(ctx, a, b);
    svg_tensor *t = svg_mul(ctx, s, s);
    svg_tensor *u = svg_sub(ctx, t, s);
    svg_tensor *v = svg_gelu(ctx, svg_transpose(ctx, u, 0, 1));
    svg_graph *g = svg_graph_new(ctx);
    Own<svg_graph> g_owner(g, svg_graph_free);
    ASSERT_TRUE(svg_graph_build(g, u));
    EXPECT_EQ(svg_graph_n_nodes(g), 3);
    EXPECT_EQ(svg_graph_n_leafs(g), 2);
    ASSERT_TRUE(svg_graph_build(g, v));  // adds the transpose view and gelu only
    ASSERT_TRUE(svg_graph_build(g, u));  // already there
    EXPECT_EQ(svg_graph_n_nodes(g), 5);
    EXPECT_EQ(svg_graph_n_leafs(g), 2);
    std::map<svg_tensor *, int> pos;
    for (int i = 0; i < svg_graph_n_nodes(g); i++) pos[svg_graph_node(g, i)] = i;
    EXPECT_EQ(pos.size(), 5u);
    for (int i = 0; i < svg_graph_n_nodes(g); i++) {
        svg_tensor *n = svg_graph_node(g, i);
        for (int k = 0; k < SVG_MAX_SRC; k++)
            if (n->src[k] && n->src[k]->op != SVG_OP_NONE) {
                ASSERT_TRUE(pos.count(n->src[k]));
                EXPECT_LT(pos[n->src[k]], i) << "source after consumer";
            }
    }
    EXPECT_EQ(svg_graph_node(g, svg_graph_n_nodes(g) - 1), v);
    EXPECT_EQ(svg_graph_node(g, 99), nullptr);
    EXPECT_EQ(svg_graph_leaf(g, -1), nullptr);
}

TEST(Graph, LongChainPlannedMatchesDirect) {
    std::mt19937 rng(100);
    const int n_ops = 20;
    ChainInputs in(rng, R, C);
    Planned p;
    ASSERT_NO_FATAL_FAILURE(build_planned_chain(p, R, C, n_ops));
    ASSERT_EQ(svg_graph_n_nodes(p.g), n_ops);
    for (int i = 0; i < n_ops; i++) EXPECT_EQ(svg_graph_node(p.g, i)->data, nullptr);
    svg_backend *be = svg_backend_cpu_new(2);
    Own<svg_backend> be_owner(be, svg_backend_free);
    svg_gallocr *ga = svg_gallocr_new(be);
    Own<svg_gallocr> ga_owner(ga, svg_gallocr_free);
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, p.g)) << svg_last_error();
    for (int i = 0; i < n_ops; i++) ASSERT_NE(svg_graph_node(p.g, i)->data, nullptr) << i;
    for (svg_tensor *t : {p.x, p.w1, p.w2}) ASSERT_NE(t->data, nullptr);
    check_no_live_overlap(p.g);

    // sizes: the peak is the live set (inputs + about two activations), far
    // below the sum over all nodes
    const size_t al = svg_backend_alignment(be);
    const size_t S = aligned(svg_nbytes(p.out), al);
    const size_t inputs = aligned(svg_nbytes(p.x), al) + aligned(svg_nbytes(p.w1), al) + aligned(svg_nbytes(p.w2), al);
    const size_t peak = svg_gallocr_buffer_size(ga), naive = svg_gallocr_naive_size(ga);
    EXPECT_LT(peak, naive);
    EXPECT_GE(naive, (size_t)n_ops * S);
    EXPECT_LE(peak, inputs + 3 * S) << "peak " << peak << " S " << S;
    // a sub(y, x) step needs y_prev, y and all inputs at once
    EXPECT_GE(peak, inputs + 2 * S) << "peak smaller than the live set";

    poison_nodes(p.g);
    ASSERT_NO_FATAL_FAILURE(set_chain_inputs(p, in));
    ASSERT_TRUE(svg_backend_graph_compute(be, p.g)) << svg_last_error();
    const auto got = to_vec(p.out);
    const auto ref = chain_ref(in.x, in.w1, in.w2, R, C, n_ops);
    EXPECT_LT(rel_l2(got, ref.back()), 1e-5);
    EXPECT_LT(max_abs_diff(got, ref.back()), 1e-4);
    const auto direct = chain_direct(in, R, C, n_ops);
    EXPECT_LT(rel_l2(got, direct), 1e-6) << "planned and directly allocated runs differ";
    // inputs are still intact (x is read by the last sub step)
    EXPECT_EQ(to_vec(p.x), in.x);

    // compute again with new inputs on the same plan
    ChainInputs in2(rng, R, C);
    poison_nodes(p.g);
    ASSERT_NO_FATAL_FAILURE(set_chain_inputs(p, in2));
    ASSERT_TRUE(svg_backend_graph_compute(be, p.g)) << svg_last_error();
    EXPECT_LT(rel_l2(to_vec(p.out), chain_ref(in2.x, in2.w1, in2.w2, R, C, n_ops).back()), 1e-5);

}

TEST(Graph, EarlyOutputsNotOverwritten) {
    std::mt19937 rng(101);
    const int n_ops = 20;
    ChainInputs in(rng, R, C);
    Planned p;
    ASSERT_NO_FATAL_FAILURE(build_planned_chain(p, R, C, n_ops));
    svg_tensor *early = p.steps[3], *mid = p.steps[11];
    svg_set_output(early);
    svg_set_output(mid);
    // a second, independent output from x in the same graph
    svg_tensor *other = svg_set_name(svg_sigmoid(p.ctx, svg_scale(p.ctx, p.x, 2.f, -0.5f)), "other");
    svg_set_output(other);
    ASSERT_TRUE(svg_graph_build(p.g, other));
    svg_backend *be = svg_backend_cpu_new(2);
    Own<svg_backend> be_owner(be, svg_backend_free);
    svg_gallocr *ga = svg_gallocr_new(be);
    Own<svg_gallocr> ga_owner(ga, svg_gallocr_free);
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, p.g)) << svg_last_error();
    check_no_live_overlap(p.g);
    // no tensor computed after an output shares its bytes
    for (svg_tensor *o : {early, mid, other}) {
        const char *o0 = (const char *)o->data, *o1 = o0 + svg_nbytes(o);
        int at = -1;
        for (int i = 0; i < svg_graph_n_nodes(p.g); i++)
            if (svg_graph_node(p.g, i) == o) at = i;
        ASSERT_GE(at, 0);
        for (int i = at + 1; i < svg_graph_n_nodes(p.g); i++) {
            svg_tensor *t = svg_graph_node(p.g, i);
            if (t->op == SVG_OP_VIEW || t->buffer != o->buffer) continue;
            const char *t0 = (const char *)t->data, *t1 = t0 + svg_nbytes(t);
            EXPECT_FALSE(t0 < o1 && o0 < t1) << "output '" << o->name << "' shares memory with '" << t->name << "'";
        }
    }
    poison_nodes(p.g);
    ASSERT_NO_FATAL_FAILURE(set_chain_inputs(p, in));
    ASSERT_TRUE(svg_backend_graph_compute(be, p.g)) << svg_last_error();
    const auto ref = chain_ref(in.x, in.w1, in.w2, R, C, n_ops);
    EXPECT_LT(rel_l2(to_vec(early), ref[3]), 1e-6);
    EXPECT_LT(rel_l2(to_vec(mid), ref[11]), 1e-5);
    EXPECT_LT(rel_l2(to_vec(p.out), ref.back()), 1e-5);
    std::vector<float> oref(in.x.size());
    for (size_t i = 0; i < oref.size(); i++) oref[i] = 1.f / (1.f + std::exp(-(in.x[i] * 2.f - 0.5f)));
    EXPECT_LT(rel_l2(to_vec(other), oref), 1e-5);
}

TEST(Graph, DiamondAndRepeatedSource) {
    std::mt19937 rng(102);
    svg_context *ctx = svg_context_new(true);
    Own<svg_context> ctx_owner(ctx, svg_context_free);
    svg_tensor *x = svg_set_name(svg_new_tensor_2d(ctx, SVG_TYPE_F32, R, C), "x");
    svg_set_input(x);
    svg_tensor *t = svg_set_name(svg_scale(ctx, x, 0.5f, 0.1f), "t");
    // long branch from t, then a short one: t must survive the long branch
    svg_tensor *u = svg_exp(ctx, t);
    u = svg_sigmoid(ctx, u);
    u = svg_scale(ctx, u, 2.f, -1.f);
    u = svg_tanh(ctx, u);
    svg_tensor *v = svg_set_name(svg_tanh(ctx, t), "v");
    svg_tensor *w = svg_set_name(svg_add(ctx, u, v), "w");
    svg_tensor *m = svg_set_name(svg_mul(ctx, w, w), "m");  // same source twice
    svg_tensor *out = svg_set_name(svg_sub(ctx, m, t), "out");
    ASSERT_NE(out, nullptr) << svg_last_error();
    svg_set_output(out);
    svg_graph *g = svg_graph_new(ctx);
    Own<svg_graph> g_owner(g, svg_graph_free);
    ASSERT_TRUE(svg_graph_build(g, out));
    svg_backend *be = svg_backend_cpu_new(2);
    Own<svg_backend> be_owner(be, svg_backend_free);
    svg_gallocr *ga = svg_gallocr_new(be);
    Own<svg_gallocr> ga_owner(ga, svg_gallocr_free);
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, g)) << svg_last_error();
    check_no_live_overlap(g);
    EXPECT_LT(svg_gallocr_buffer_size(ga), svg_gallocr_naive_size(ga));
    const auto xv = rand_vec((size_t)(R * C), rng);
    poison_nodes(g);
    ASSERT_TRUE(svg_tensor_set_f32(x, xv.data(), (int64_t)xv.size()));
    ASSERT_TRUE(svg_backend_graph_compute(be, g)) << svg_last_error();
    std::vector<float> ref(xv.size());
    for (size_t i = 0; i < xv.size(); i++) {
        const double tt = xv[i] * 0.5 + 0.1;
        const double uu = std::tanh(2.0 / (1.0 + std::exp(-std::exp(tt))) - 1.0);
        const double ww = uu + std::tanh(tt);
        ref[i] = (float)(ww * ww - tt);
    }
    EXPECT_LT(rel_l2(to_vec(out), ref), 1e-5);
    EXPECT_LT(max_abs_diff(to_vec(out), ref), 1e-5);
}

TEST(Graph, ViewsKeepTheirSourceAlive) {
    std::mt19937 rng(103);
    svg_context *ctx = svg_context_new(true);
    Own<svg_context> ctx_owner(ctx, svg_context_free);
    svg_tensor *x = svg_set_name(svg_new_tensor_2d(ctx, SVG_TYPE_F32, R, C), "x");
    svg_set_input(x);
    svg_tensor *y = svg_set_name(svg_exp(ctx, x), "y");
    svg_tensor *yt = svg_transpose(ctx, y, 0, 1);   // [C, R] view
    svg_tensor *yt2 = svg_transpose(ctx, yt, 1, 0); // [R, C] view of a view
    svg_tensor *q = svg_tanh(ctx, y);
    q = svg_scale(ctx, q, 1.5f, 0.2f);
    q = svg_sigmoid(ctx, q);
    q = svg_gelu(ctx, q);
    svg_tensor *z = svg_set_name(svg_add(ctx, q, yt2), "z");
    const int64_t flat[1] = {-1};
    svg_tensor *yr = svg_reshape_2d(ctx, svg_reshape(ctx, y, 1, flat), R, C);
    svg_tensor *s = svg_slice(ctx, yr, -1, 1, C, 2);  // [R, 128]: odd columns of y
    svg_tensor *zs = svg_slice(ctx, z, -1, 0, C - 1, 2);  // [R, 128]: even columns of z
    svg_tensor *out = svg_set_name(svg_add(ctx, zs, s), "out");
    ASSERT_NE(out, nullptr) << svg_last_error();
    ASSERT_EQ(out->ne[1], (C - 1) / 2);
    svg_set_output(out);
    svg_graph *g = svg_graph_new(ctx);
    Own<svg_graph> g_owner(g, svg_graph_free);
    ASSERT_TRUE(svg_graph_build(g, out));
    svg_backend *be = svg_backend_cpu_new(2);
    Own<svg_backend> be_owner(be, svg_backend_free);
    svg_gallocr *ga = svg_gallocr_new(be);
    Own<svg_gallocr> ga_owner(ga, svg_gallocr_free);
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, g)) << svg_last_error();
    check_no_live_overlap(g);
    // views point into their source's memory
    EXPECT_EQ(yt2->data, y->data);
    EXPECT_EQ(s->data, (char *)y->data + 4);
    EXPECT_EQ(zs->data, z->data);
    const auto xv = rand_vec((size_t)(R * C), rng);
    poison_nodes(g);
    ASSERT_TRUE(svg_tensor_set_f32(x, xv.data(), (int64_t)xv.size()));
    ASSERT_TRUE(svg_backend_graph_compute(be, g)) << svg_last_error();
    const int64_t W = (C - 1) / 2;
    std::vector<float> ref((size_t)(R * W));
    for (int64_t r = 0; r < R; r++) {
        for (int64_t k = 0; k < W; k++) {
            const size_t ie = (size_t)(r * C + 2 * k), io = ie + 1;
            const double ye = std::exp((double)xv[ie]);
            double qq = 1.0 / (1.0 + std::exp(-(std::tanh(ye) * 1.5 + 0.2)));
            qq = 0.5 * qq * (1.0 + std::erf(qq / std::sqrt(2.0)));
            ref[(size_t)(r * W + k)] = (float)(qq + ye + std::exp((double)xv[io]));
        }
    }
    EXPECT_LT(rel_l2(to_vec(out), ref), 1e-5);
}

TEST(Graph, ReplanReusesBuffer) {
    std::mt19937 rng(104);
    svg_backend *be = svg_backend_cpu_new(2);
    Own<svg_backend> be_owner(be, svg_backend_free);
    svg_gallocr *ga = svg_gallocr_new(be);
    Own<svg_gallocr> ga_owner(ga, svg_gallocr_free);
    svg_buffer *first_buf = nullptr;
    size_t first_peak = 0;
    {
        ChainInputs in(rng, R, C);
        Planned p;
        ASSERT_NO_FATAL_FAILURE(build_planned_chain(p, R, C, 12));
        ASSERT_TRUE(svg_gallocr_alloc_graph(ga, p.g)) << svg_last_error();
        check_no_live_overlap(p.g);
        first_buf = p.out->buffer;
        first_peak = svg_gallocr_buffer_size(ga);
        ASSERT_NE(first_buf, nullptr);
        poison_nodes(p.g);
        ASSERT_NO_FATAL_FAILURE(set_chain_inputs(p, in));
        ASSERT_TRUE(svg_backend_graph_compute(be, p.g)) << svg_last_error();
        EXPECT_LT(rel_l2(to_vec(p.out), chain_ref(in.x, in.w1, in.w2, R, C, 12).back()), 1e-5);
    }
    {
        // a smaller graph fits in the existing buffer
        const int64_t r2 = 33, c2 = 129;
        ChainInputs in(rng, r2, c2);
        Planned p;
        ASSERT_NO_FATAL_FAILURE(build_planned_chain(p, r2, c2, 7));
        ASSERT_TRUE(svg_gallocr_alloc_graph(ga, p.g)) << svg_last_error();
        check_no_live_overlap(p.g);
        EXPECT_LE(svg_gallocr_buffer_size(ga), first_peak);
        EXPECT_EQ(p.out->buffer, first_buf) << "re-planning a smaller graph allocated a new buffer";
        EXPECT_EQ(p.x->buffer, first_buf);
        poison_nodes(p.g);
        ASSERT_NO_FATAL_FAILURE(set_chain_inputs(p, in));
        ASSERT_TRUE(svg_backend_graph_compute(be, p.g)) << svg_last_error();
        EXPECT_LT(rel_l2(to_vec(p.out), chain_ref(in.x, in.w1, in.w2, r2, c2, 7).back()), 1e-5);
    }
    {
        // a larger graph grows it
        const int64_t r3 = 129, c3 = 257;
        ChainInputs in(rng, r3, c3);
        Planned p;
        ASSERT_NO_FATAL_FAILURE(build_planned_chain(p, r3, c3, 9));
        ASSERT_TRUE(svg_gallocr_alloc_graph(ga, p.g)) << svg_last_error();
        check_no_live_overlap(p.g);
        EXPECT_GT(svg_gallocr_buffer_size(ga), first_peak);
        ASSERT_NE(p.out->buffer, nullptr);
        EXPECT_GE(svg_buffer_size(p.out->buffer), svg_gallocr_buffer_size(ga));
        poison_nodes(p.g);
        ASSERT_NO_FATAL_FAILURE(set_chain_inputs(p, in));
        ASSERT_TRUE(svg_backend_graph_compute(be, p.g)) << svg_last_error();
        EXPECT_LT(rel_l2(to_vec(p.out), chain_ref(in.x, in.w1, in.w2, r3, c3, 9).back()), 1e-5);
    }
}

// Alternating graphs on one allocator: after graph B made the allocator grow
// its buffer, planning graph A again must move A into the current buffer
// (A's old placement points into the freed one), and re-planning the same
// graph reports the same peak.
TEST(Graph, ReplanAlternatingGraphs) {
    std::mt19937 rng(106);
    svg_backend *be = svg_backend_cpu_new(2);
    Own<svg_backend> be_owner(be, svg_backend_free);
    svg_gallocr *ga = svg_gallocr_new(be);
    Own<svg_gallocr> ga_owner(ga, svg_gallocr_free);
    ChainInputs ina(rng, R, C);
    Planned a;
    ASSERT_NO_FATAL_FAILURE(build_planned_chain(a, R, C, 8));
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, a.g)) << svg_last_error();
    const size_t peak_a = svg_gallocr_buffer_size(ga);
    ASSERT_NO_FATAL_FAILURE(set_chain_inputs(a, ina));
    ASSERT_TRUE(svg_backend_graph_compute(be, a.g)) << svg_last_error();
    const auto ref_a = chain_ref(ina.x, ina.w1, ina.w2, R, C, 8).back();
    EXPECT_LT(rel_l2(to_vec(a.out), ref_a), 1e-5);

    // the same graph again: same plan size, still correct
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, a.g)) << svg_last_error();
    EXPECT_EQ(svg_gallocr_buffer_size(ga), peak_a) << "re-planning the same graph changed the reported peak";
    poison_nodes(a.g);
    ASSERT_NO_FATAL_FAILURE(set_chain_inputs(a, ina));
    ASSERT_TRUE(svg_backend_graph_compute(be, a.g)) << svg_last_error();
    EXPECT_LT(rel_l2(to_vec(a.out), ref_a), 1e-5);

    // a bigger graph B grows the buffer
    const int64_t rb = 3 * R;
    ChainInputs inb(rng, rb, C);
    Planned b;
    ASSERT_NO_FATAL_FAILURE(build_planned_chain(b, rb, C, 8));
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, b.g)) << svg_last_error();
    ASSERT_GT(svg_gallocr_buffer_size(ga), peak_a);
    ASSERT_NO_FATAL_FAILURE(set_chain_inputs(b, inb));
    ASSERT_TRUE(svg_backend_graph_compute(be, b.g)) << svg_last_error();
    EXPECT_LT(rel_l2(to_vec(b.out), chain_ref(inb.x, inb.w1, inb.w2, rb, C, 8).back()), 1e-5);
    // the current buffer's extent: B's inputs are planned first, at offset 0
    const char *base = (const char *)b.x->data;
    for (int i = 0; i < svg_graph_n_nodes(b.g); i++)
        if (svg_graph_node(b.g, i)->data) base = std::min(base, (const char *)svg_graph_node(b.g, i)->data);
    const char *end = base + svg_buffer_size(b.out->buffer);

    // back to A: every tensor of A must now live in the current buffer (the
    // svg_buffer object may be reallocated at the same address, so compare
    // data pointers, not buffer handles)
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, a.g)) << svg_last_error();
    std::vector<svg_tensor *> ts = {a.x, a.w1, a.w2};
    for (int i = 0; i < svg_graph_n_nodes(a.g); i++) ts.push_back(svg_graph_node(a.g, i));
    std::string stale;
    for (svg_tensor *t : ts) {
        const char *d = (const char *)t->data;
        if (t->op != SVG_OP_VIEW && !(d && d >= base && d + svg_nbytes(t) <= end)) stale += std::string(" ") + t->name;
    }
    // computing now would write into freed memory
    ASSERT_TRUE(stale.empty()) << "tensors of graph A outside the allocator's current buffer (stale placement "
                                  "into the buffer freed when graph B grew it):" << stale;
    poison_nodes(a.g);
    ASSERT_NO_FATAL_FAILURE(set_chain_inputs(a, ina));
    ASSERT_TRUE(svg_backend_graph_compute(be, a.g)) << svg_last_error();
    EXPECT_LT(rel_l2(to_vec(a.out), ref_a), 1e-5);
}

TEST(Graph, WeightsInTheirOwnBuffer) {
    std::mt19937 rng(105);
    const int n_ops = 15;
    ChainInputs in(rng, R, C);
    svg_backend *be = svg_backend_cpu_new(2);
    Own<svg_backend> be_owner(be, svg_backend_free);
    svg_context *wctx = svg_context_new(true);
    Own<svg_context> wctx_owner(wctx, svg_context_free);
    svg_tensor *w1 = svg_set_name(svg_new_tensor_1d(wctx, SVG_TYPE_F32, C), "w1");
    svg_tensor *w2 = svg_set_name(svg_new_tensor_2d(wctx, SVG_TYPE_F32, R, C), "w2");
    svg_tensor *w2v = svg_reshape_3d(wctx, w2, 1, R, C);  // a view in the weights context
    ASSERT_NE(w2v, nullptr);
    svg_buffer *wbuf = svg_backend_alloc_ctx_tensors(wctx, be);
    Own<svg_buffer> wbuf_owner(wbuf, svg_buffer_free);
    ASSERT_NE(wbuf, nullptr) << svg_last_error();
    ASSERT_NE(w1->data, nullptr);
    ASSERT_NE(w2->data, nullptr);
    EXPECT_EQ(w2v->data, w2->data);
    EXPECT_EQ(w1->buffer, wbuf);
    EXPECT_GE(svg_buffer_size(wbuf), svg_nbytes(w1) + svg_nbytes(w2));
    ASSERT_TRUE(svg_tensor_set_f32(w1, in.w1.data(), C));
    ASSERT_TRUE(svg_tensor_set_f32(w2, in.w2.data(), R * C));
    void *w1_data = w1->data, *w2_data = w2->data;

    svg_context *ctx = svg_context_new(true);
    Own<svg_context> ctx_owner(ctx, svg_context_free);
    svg_tensor *x = svg_set_name(svg_new_tensor_2d(ctx, SVG_TYPE_F32, R, C), "x");
    svg_set_input(x);
    svg_tensor *out = build_chain(ctx, x, w1, w2, n_ops, nullptr);
    ASSERT_NE(out, nullptr);
    svg_set_output(out);
    svg_graph *g = svg_graph_new(ctx);
    Own<svg_graph> g_owner(g, svg_graph_free);
    ASSERT_TRUE(svg_graph_build(g, out));
    svg_gallocr *ga = svg_gallocr_new(be);
    Own<svg_gallocr> ga_owner(ga, svg_gallocr_free);
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, g)) << svg_last_error();
    check_no_live_overlap(g);
    EXPECT_EQ(w1->data, w1_data) << "planner moved a weight";
    EXPECT_EQ(w2->data, w2_data) << "planner moved a weight";
    EXPECT_EQ(w1->buffer, wbuf);
    EXPECT_NE(out->buffer, wbuf);
    const size_t al = svg_backend_alignment(be), S = aligned(svg_nbytes(out), al);
    EXPECT_LE(svg_gallocr_buffer_size(ga), 4 * S) << "weights counted in the plan?";
    poison_nodes(g);
    ASSERT_TRUE(svg_tensor_set_f32(x, in.x.data(), R * C));
    // allocate + compute in one call: re-planning the same graph must keep
    // the input where it was set after the first plan
    ASSERT_TRUE(svg_backend_graph_run(be, ga, g)) << svg_last_error();
    EXPECT_EQ(to_vec(x), in.x);
    EXPECT_LT(rel_l2(to_vec(out), chain_ref(in.x, in.w1, in.w2, R, C, n_ops).back()), 1e-5);
    EXPECT_EQ(to_vec(w2), in.w2) << "weights were overwritten";
}

TEST(Graph, PrintPlan) {
    Planned p;
    ASSERT_NO_FATAL_FAILURE(build_planned_chain(p, 8, 33, 6));
    svg_backend *be = svg_backend_cpu_new(1);
    Own<svg_backend> be_owner(be, svg_backend_free);
    svg_gallocr *ga = svg_gallocr_new(be);
    Own<svg_gallocr> ga_owner(ga, svg_gallocr_free);
    setenv("SVG_PRINT_PLAN", "1", 1);
    testing::internal::CaptureStderr();
    const bool ok = svg_gallocr_alloc_graph(ga, p.g);
    const std::string printed = testing::internal::GetCapturedStderr();
    unsetenv("SVG_PRINT_PLAN");
    ASSERT_TRUE(ok) << svg_last_error();
    EXPECT_FALSE(printed.empty()) << "SVG_PRINT_PLAN=1 printed nothing";
    testing::internal::CaptureStderr();
    svg_gallocr_print_plan(ga);
    EXPECT_FALSE(testing::internal::GetCapturedStderr().empty());
    // without the variable the planner is quiet
    testing::internal::CaptureStderr();
    ASSERT_TRUE(svg_gallocr_alloc_graph(ga, p.g));
    EXPECT_TRUE(testing::internal::GetCapturedStderr().empty());
}

TEST(Graph, Errors) {
    svg_context *ctx = svg_context_new(true);
    Own<svg_context> ctx_owner(ctx, svg_context_free);
    svg_graph *g = svg_graph_new(ctx);
    Own<svg_graph> g_owner(g, svg_graph_free);
    svg_clear_error();
    EXPECT_FALSE(svg_graph_build(g, nullptr));
    EXPECT_STRNE(svg_last_error(), "");
    EXPECT_EQ(svg_graph_n_nodes(g), 0);

    // an op that failed earlier: the build fails, with a message
    svg_tensor *a = svg_new_tensor_2d(ctx, SVG_TYPE_F32, 3, 5);
    svg_tensor *b = svg_new_tensor_1d(ctx, SVG_TYPE_F32, 4);
    svg_clear_error();
    svg_tensor *bad = svg_gelu(ctx, svg_add(ctx, a, b));
    EXPECT_EQ(bad, nullptr);
    EXPECT_FALSE(svg_graph_build(g, bad));
    EXPECT_STRNE(svg_last_error(), "");

    // computing a graph without memory fails cleanly
    svg_tensor *y = svg_gelu(ctx, svg_scale(ctx, a, 2.f, 0.f));
    ASSERT_TRUE(svg_graph_build(g, y));
    svg_backend *be = svg_backend_cpu_new(2);
    Own<svg_backend> be_owner(be, svg_backend_free);
    svg_clear_error();
    EXPECT_FALSE(svg_backend_graph_compute(be, g));
    EXPECT_STRNE(svg_last_error(), "");

    // inputs allocated but intermediates not: still a clean failure
    svg_context *ctx2 = svg_context_new(true);
    Own<svg_context> ctx2_owner(ctx2, svg_context_free);
    svg_tensor *a2 = svg_new_tensor_2d(ctx2, SVG_TYPE_F32, 3, 5);
    svg_buffer *buf = svg_backend_alloc_ctx_tensors(ctx2, be);
    Own<svg_buffer> buf_owner(buf, svg_buffer_free);
    ASSERT_NE(buf, nullptr);
    svg_context *ctx3 = svg_context_new(true);
    Own<svg_context> ctx3_owner(ctx3, svg_context_free);
    svg_tensor *y2 = svg_exp(ctx3, a2);
    svg_graph *g2 = svg_graph_new(ctx3);
    Own<svg_graph> g2_owner(g2, svg_graph_free);
    ASSERT_TRUE(svg_graph_build(g2, y2));
    svg_clear_error();
    EXPECT_FALSE(svg_backend_graph_compute(be, g2));
    EXPECT_STRNE(svg_last_error(), "");

}
