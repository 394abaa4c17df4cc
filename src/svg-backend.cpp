// Backend-independent API: buffers, weight allocation, and the graph memory
// planner (svg_gallocr).
#include "svg-impl.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <unordered_map>

extern "C" {

void svg_backend_free(struct svg_backend *be) {
    if (be) be->release();
}
const char *svg_backend_name(const struct svg_backend *be) { return be->name(); }
const char *svg_backend_description(const struct svg_backend *be) {
    thread_local std::string d;
    d = be->description();
    return d.c_str();
}
bool svg_backend_supports_op(struct svg_backend *be, const struct svg_tensor *n) { return be->supports_op(n); }
bool svg_backend_graph_compute(struct svg_backend *be, struct svg_graph *g) {
    svg_clear_error();
    return be->graph_compute(g);
}
void svg_backend_synchronize(struct svg_backend *be) { be->synchronize(); }
struct svg_buffer *svg_backend_alloc_buffer(struct svg_backend *be, size_t size) { return be->alloc_buffer(size); }
void svg_buffer_free(struct svg_buffer *buf) { delete buf; }
size_t svg_buffer_size(const struct svg_buffer *buf) { return buf ? buf->size : 0; }
size_t svg_backend_alignment(const struct svg_backend *be) { return be->alignment(); }

struct svg_buffer *svg_backend_alloc_ctx_tensors(struct svg_context *ctx, struct svg_backend *be) {
    const size_t align = be->alignment();
    size_t total = 0;
    const int64_t n = svg_context_n_tensors(ctx);
    std::vector<std::pair<svg_tensor *, size_t>> place;
    for (int64_t i = 0; i < n; i++) {
        svg_tensor *t = svg_context_tensor(ctx, i);
        if (t->data || t->view_src) continue;
        place.push_back({t, total});
        total += svg_align_up(svg_nbytes(t), align);
    }
    svg_buffer *buf = be->alloc_buffer(total);
    if (!buf) return nullptr;
    for (auto &p : place) {
        p.first->buffer = buf;
        p.first->data = (char *)buf->base + p.second;
    }
    for (int64_t i = 0; i < n; i++) svg_init_view(svg_context_tensor(ctx, i));
    return buf;
}

}  // extern "C"

// ---------------------------------------------------------------- planner
// Walks the nodes in execution order. Each node that needs memory takes the
// best-fitting free block (or grows the arena); after a node runs, every
// source whose last consumer it was returns its block to the free list
// (adjacent free blocks merge). Views consume through their root.
struct svg_gallocr {
    svg_backend *be;
    svg_buffer *buf = nullptr;
    size_t peak = 0, naive = 0;
    int n_tensors = 0;
    ~svg_gallocr() { delete buf; }
};

namespace {

struct free_list {
    std::map<size_t, size_t> blocks;  // offset → size
    size_t top = 0;                    // arena end
    size_t peak = 0;

    size_t alloc(size_t size) {
        auto best = blocks.end();
        for (auto it = blocks.begin(); it != blocks.end(); ++it)
            if (it->second >= size && (best == blocks.end() || it->second < best->second)) best = it;
        if (best != blocks.end()) {
            const size_t off = best->first, bsize = best->second;
            blocks.erase(best);
            if (bsize > size) blocks[off + size] = bsize - size;
            return off;
        }
        // extend the arena; a free block touching the top can be reused in place
        if (!blocks.empty()) {
            auto last = std::prev(blocks.end());
            if (last->first + last->second == top) {
                const size_t off = last->first;
                blocks.erase(last);
                top = off + size;
                peak = std::max(peak, top);
                return off;
            }
        }
        const size_t off = top;
        top += size;
        peak = std::max(peak, top);
        return off;
    }
    void release(size_t off, size_t size) {
        auto it = blocks.emplace(off, size).first;
        auto next = std::next(it);
        if (next != blocks.end() && it->first + it->second == next->first) {
            it->second += next->second;
            blocks.erase(next);
        }
        if (it != blocks.begin()) {
            auto prev = std::prev(it);
            if (prev->first + prev->second == it->first) {
                prev->second += it->second;
                blocks.erase(it);
                it = prev;
            }
        }
        if (it->first + it->second == top) {  // shrink the arena top
            top = it->first;
            blocks.erase(it);
        }
    }
};

bool needs_memory(const svg_tensor *t) { return !t->data && !t->view_src && t->op != SVG_OP_VIEW; }

}  // namespace

extern "C" {

struct svg_gallocr *svg_gallocr_new(struct svg_backend *be) {
    svg_gallocr *ga = new svg_gallocr;
    ga->be = be;
    return ga;
}
void svg_gallocr_free(struct svg_gallocr *ga) { delete ga; }
size_t svg_gallocr_buffer_size(const struct svg_gallocr *ga) { return ga->peak; }
size_t svg_gallocr_naive_size(const struct svg_gallocr *ga) { return ga->naive; }

void svg_gallocr_print_plan(const struct svg_gallocr *ga) {
    fprintf(stderr, "svg: memory plan on %s: %d tensors, peak %.2f MiB (without reuse %.2f MiB, %.1fx)\n",
            ga->be->name(), ga->n_tensors, ga->peak / 1048576.0, ga->naive / 1048576.0,
            ga->peak ? (double)ga->naive / ga->peak : 1.0);
}

bool svg_gallocr_alloc_graph(struct svg_gallocr *ga, struct svg_graph *g) {
    const size_t align = ga->be->alignment();
    // tensors a planner placed before are planned again (not taken for weights)
    for (auto *list : {&g->leafs, &g->nodes})
        for (svg_tensor *t : *list)
            if (t->flags & SVG_FLAG_PLANNED) {
                t->data = nullptr;
                t->buffer = nullptr;
                t->flags &= ~SVG_FLAG_PLANNED;
            }
    // which tensors need memory, and how many consumers each root has left
    std::unordered_map<svg_tensor *, int> consumers;
    std::unordered_map<svg_tensor *, size_t> offset;
    auto root_of = [](svg_tensor *t) { return svg_view_root(t); };
    for (svg_tensor *n : g->nodes)
        for (int i = 0; i < SVG_MAX_SRC; i++)
            if (n->src[i]) consumers[root_of(n->src[i])]++;

    free_list fl;
    size_t naive = 0;
    int count = 0;
    auto place = [&](svg_tensor *t) {
        if (!needs_memory(t) || offset.count(t)) return;
        const size_t size = svg_align_up(std::max<size_t>(svg_nbytes(t), 1), align);
        offset[t] = fl.alloc(size);
        naive += size;
        count++;
    };
    auto release = [&](svg_tensor *r) {
        auto it = offset.find(r);
        if (it == offset.end() || (r->flags & SVG_FLAG_OUTPUT)) return;
        fl.release(it->second, svg_align_up(std::max<size_t>(svg_nbytes(r), 1), align));
    };
    // inputs first so the caller can set them before compute
    for (svg_tensor *l : g->leafs) place(l);
    for (svg_tensor *n : g->nodes) {
        place(n);
        for (int i = 0; i < SVG_MAX_SRC; i++) {
            svg_tensor *s = n->src[i];
            if (!s) continue;
            svg_tensor *r = root_of(s);
            // a source appearing twice in one node is counted twice above
            if (--consumers[r] == 0) release(r);
        }
        // a node nobody consumes and that is not an output is dead at once
        // (kept until the node ran: it was placed above)
        if (consumers.find(n) == consumers.end() && !(n->flags & SVG_FLAG_OUTPUT) && n != g->nodes.back()) release(n);
    }
    ga->peak = fl.peak;
    ga->naive = naive;
    ga->n_tensors = count;

    if (!ga->buf || ga->buf->size < fl.peak) {
        delete ga->buf;
        ga->buf = nullptr;
        ga->buf = ga->be->alloc_buffer(fl.peak);
        if (!ga->buf) return false;
    }
    for (auto &p : offset) {
        p.first->buffer = ga->buf;
        p.first->data = (char *)ga->buf->base + p.second;
        p.first->flags |= SVG_FLAG_PLANNED;
    }
    for (svg_tensor *n : g->nodes) svg_init_view(n);
    for (svg_tensor *l : g->leafs) svg_init_view(l);
    const char *env = getenv("SVG_PRINT_PLAN");
    if (env && *env && strcmp(env, "0") != 0) svg_gallocr_print_plan(ga);
    return true;
}

bool svg_backend_graph_run(struct svg_backend *be, struct svg_gallocr *ga, struct svg_graph *g) {
    if (!svg_gallocr_alloc_graph(ga, g)) return false;
    return svg_backend_graph_compute(be, g);
}

}  // extern "C"

#ifndef SVG_USE_CUDA
// Built without the CUDA backend: report it instead of failing to link.
extern "C" int svg_cuda_device_count(void) { return 0; }
extern "C" struct svg_backend *svg_backend_cuda_new(int device) {
    return svg_err<svg_backend *>(nullptr, "CUDA backend not built (configure with nvcc available and -DSVG_CUDA=ON)");
}
extern "C" size_t svg_backend_cuda_peak_memory(struct svg_backend *be) { return 0; }
extern "C" bool svg_backend_cuda_set_memory_limit(struct svg_backend *be, size_t bytes) {
    return svg_err(false, "a memory limit needs the CUDA backend (not built)");
}
extern "C" bool svg_cuda_memory_info(int device, size_t *free_bytes, size_t *total_bytes) {
    return svg_err(false, "CUDA backend not built");
}
#endif
