// The CPU backend: host buffers, a persistent thread pool, and a kernel table
// indexed by op. fp32 everywhere; it is the reference the other backends are
// tested against.
#include "cpu-impl.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

// ---------------------------------------------------------------- thread pool
// Workers sleep on a condition variable; run() hands every thread the same
// job with its index and waits until all have finished.
struct svg_cpu_pool {
    std::vector<std::thread> workers;
    std::mutex mu;
    std::condition_variable cv_start, cv_done;
    const std::function<void(int)> *job = nullptr;
    uint64_t generation = 0;
    int pending = 0;
    bool stop = false;

    explicit svg_cpu_pool(int n_threads) {
        for (int i = 1; i < n_threads; i++) workers.emplace_back([this, i] { loop(i); });
    }
    ~svg_cpu_pool() {
        {
            std::lock_guard<std::mutex> lk(mu);
            stop = true;
        }
        cv_start.notify_all();
        for (auto &w : workers) w.join();
    }
    int size() const { return (int)workers.size() + 1; }
    void loop(int ith) {
        uint64_t seen = 0;
        for (;;) {
            const std::function<void(int)> *j;
            {
                std::unique_lock<std::mutex> lk(mu);
                cv_start.wait(lk, [&] { return stop || generation != seen; });
                if (stop) return;
                seen = generation;
                j = job;
            }
            (*j)(ith);
            {
                std::lock_guard<std::mutex> lk(mu);
                if (--pending == 0) cv_done.notify_one();
            }
        }
    }
    void run(const std::function<void(int)> &fn) {
        if (workers.empty()) {
            fn(0);
            return;
        }
        {
            std::lock_guard<std::mutex> lk(mu);
            job = &fn;
            pending = (int)workers.size();
            generation++;
        }
        cv_start.notify_all();
        fn(0);
        std::unique_lock<std::mutex> lk(mu);
        cv_done.wait(lk, [&] { return pending == 0; });
    }
};

void svg_cpu_ctx::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)> &fn,
                               int64_t min_chunk) const {
    if (n <= 0) return;
    const int64_t max_tasks = std::max<int64_t>(1, n / std::max<int64_t>(1, min_chunk));
    const int nt = (int)std::min<int64_t>(n_threads, max_tasks);
    if (nt <= 1) {
        fn(0, n);
        return;
    }
    // dynamic chunking: ~4 chunks per thread balances uneven rows
    const int64_t chunk = std::max<int64_t>(min_chunk, (n + nt * 4 - 1) / (nt * 4));
    std::atomic<int64_t> next{0};
    std::function<void(int)> job = [&](int) {
        for (;;) {
            const int64_t b = next.fetch_add(chunk);
            if (b >= n) break;
            fn(b, std::min(n, b + chunk));
        }
    };
    pool->run(job);
}

// ---------------------------------------------------------------- buffers
namespace {

struct cpu_buffer : svg_buffer {
    ~cpu_buffer() override { free(base); }
    bool set(void *dst, const void *src, size_t n) override {
        memcpy(dst, src, n);
        return true;
    }
    bool get(void *dst, const void *src, size_t n) override {
        memcpy(dst, src, n);
        return true;
    }
    bool is_host() const override { return true; }
};

svg_cpu_kernel kernel_for(enum svg_op op) {
    switch (op) {
        case SVG_OP_COPY: return svg_cpu_copy;
        case SVG_OP_ADD:
        case SVG_OP_SUB:
        case SVG_OP_MUL:
        case SVG_OP_DIV: return svg_cpu_binary;
        case SVG_OP_SCALE: return svg_cpu_scale;
        case SVG_OP_UNARY: return svg_cpu_unary;
        case SVG_OP_SOFTMAX: return svg_cpu_softmax;
        case SVG_OP_NORM: return svg_cpu_norm;
        case SVG_OP_GROUP_NORM: return svg_cpu_group_norm;
        case SVG_OP_MUL_MAT: return svg_cpu_mul_mat;
        case SVG_OP_GET_ROWS: return svg_cpu_get_rows;
        case SVG_OP_CONCAT: return svg_cpu_concat;
        case SVG_OP_PAD: return svg_cpu_pad;
        case SVG_OP_REPEAT: return svg_cpu_repeat;
        case SVG_OP_UPSAMPLE_NEAREST: return svg_cpu_upsample_nearest;
        case SVG_OP_CONV3D: return svg_cpu_conv3d;
        case SVG_OP_TIMESTEP_EMBEDDING: return svg_cpu_timestep_embedding;
        case SVG_OP_ROPE: return svg_cpu_rope;
        case SVG_OP_ATTENTION: return svg_cpu_attention;
        case SVG_OP_SPARSE_PROFILE: return svg_cpu_sparse_profile;
        case SVG_OP_SPARSE_PERMUTE: return svg_cpu_sparse_permute;
        default: return nullptr;
    }
}

struct cpu_backend : svg_backend {
    std::unique_ptr<svg_cpu_pool> pool;
    explicit cpu_backend(int n) { set_threads(n); }
    void set_threads(int n) {
        if (n <= 0) n = (int)std::max(1u, std::thread::hardware_concurrency());
        pool.reset(new svg_cpu_pool(n));
    }
    const char *name() const override { return "CPU"; }
    std::string description() const override { return "CPU, " + std::to_string(pool->workers.size() + 1) + " threads"; }
    size_t alignment() const override { return 64; }
    svg_buffer *alloc_buffer(size_t size) override {
        void *p = nullptr;
        if (posix_memalign(&p, 64, size ? size : 64) != 0)
            return svg_err<svg_buffer *>(nullptr, "CPU: out of host memory allocating %zu bytes (%.2f GiB)", size, size / 1073741824.0);
        cpu_buffer *b = new cpu_buffer;
        b->backend = this;
        b->base = p;
        b->size = size;
        return b;
    }
    bool supports_op(const svg_tensor *t) const override {
        if (t->op == SVG_OP_NONE || t->op == SVG_OP_VIEW) return true;
        if (!kernel_for(t->op)) return false;
        auto f32 = [](const svg_tensor *s) { return !s || s->type == SVG_TYPE_F32; };
        switch (t->op) {
            case SVG_OP_COPY: return true;  // any float ↔ float incl. quantized; same-type ints
            case SVG_OP_MUL_MAT: return f32(t) && f32(t->src[0]) && f32(t->src[2]);
            case SVG_OP_GET_ROWS: return true;
            case SVG_OP_CONV3D: return f32(t) && f32(t->src[0]) && f32(t->src[2]);
            case SVG_OP_ATTENTION:
            case SVG_OP_SPARSE_PROFILE: return f32(t) && f32(t->src[0]) && f32(t->src[1]) && f32(t->src[2]);
            default:
                if (!f32(t)) return false;
                for (int i = 0; i < SVG_MAX_SRC; i++) {
                    const svg_tensor *s = t->src[i];
                    if (s && svg_type_traits_of(s->type)->is_float && s->type != SVG_TYPE_F32) return false;
                }
                return true;
        }
    }
    bool graph_compute(svg_graph *g) override {
        svg_cpu_ctx c{pool.get(), pool->size()};
        for (svg_tensor *t : g->nodes) {
            if (t->op == SVG_OP_VIEW) continue;
            if (!t->data) return svg_err(false, "CPU: node '%s' (%s) has no memory; allocate the graph first", t->name, svg_op_name(t->op));
            for (int i = 0; i < SVG_MAX_SRC; i++)
                if (t->src[i] && !t->src[i]->data)
                    return svg_err(false, "CPU: input %d '%s' of %s has no memory", i, t->src[i]->name, svg_op_name(t->op));
            if (t->buffer && !t->buffer->is_host())
                return svg_err(false, "CPU: node '%s' lives in a %s buffer", t->name, t->buffer->backend ? t->buffer->backend->name() : "device");
            if (!supports_op(t))
                return svg_err(false, "CPU: %s with output %s is not supported (the CPU backend computes in f32)", svg_op_name(t->op), svg_shape_string(t).c_str());
            if (!kernel_for(t->op)(c, t)) return false;
        }
        return true;
    }
};

}  // namespace

extern "C" struct svg_backend *svg_backend_cpu_new(int n_threads) { return new cpu_backend(n_threads); }

extern "C" void svg_backend_cpu_set_threads(struct svg_backend *be, int n_threads) {
    if (auto *c = dynamic_cast<cpu_backend *>(be)) c->set_threads(n_threads);
}
