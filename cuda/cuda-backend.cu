// The CUDA backend: device buffers (one cudaMalloc each; the graph planner
// keeps its buffer across graphs, so a denoising step allocates nothing),
// pinned staging for uploads, one stream per backend, the op table and the
// graph-level fusions (a GEMM and the GELU_TANH that alone reads it; QK-norm
// → RoPE; gated activations act(x)·y). SVG_PROFILE=1 times every step of
// every graph with CUDA events and prints the time per kind of op when the
// backend is freed.
#include "cuda-common.cuh"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

bool svg_cuda_ctx::within_budget(size_t more, size_t freed, const char *what) const {
    const size_t held = buffers_in_use + scratch_size + gemm_workspace_size - freed;
    if (!mem_limit || held + more <= mem_limit) return true;
    return svg_err(false, "CUDA%d: the VRAM budget of %.2f GiB is exceeded: %.2f GiB of %s on %.2f GiB in use", device,
                   mem_limit / 1073741824.0, more / 1073741824.0, what, held / 1073741824.0);
}

bool svg_cuda_ctx::ensure_scratch(size_t bytes) {
    if (bytes <= scratch_size) return true;
    if (!within_budget(bytes, scratch_size, "kernel scratch")) return false;
    if (scratch) {
        SVG_CUDA_CHECK(cudaStreamSynchronize(stream));
        SVG_CUDA_CHECK(cudaFree(scratch));
        scratch = nullptr;
        scratch_size = 0;
    }
    if (cudaMalloc(&scratch, bytes) != cudaSuccess) {
        cudaGetLastError();
        return svg_err(false, "CUDA: out of device memory for %zu bytes of scratch", bytes);
    }
    scratch_size = bytes;
    return true;
}

namespace {

struct cuda_backend;

struct cuda_buffer : svg_buffer {
    cuda_backend *owner = nullptr;
    ~cuda_buffer() override;
    bool set(void *dst, const void *src, size_t n) override;
    bool get(void *dst, const void *src, size_t n) override;
    bool is_host() const override { return false; }
};

typedef bool (*cuda_kernel)(svg_cuda_ctx &, svg_tensor *);

cuda_kernel kernel_for(enum svg_op op) {
    switch (op) {
        case SVG_OP_COPY: return svg_cuda_copy;
        case SVG_OP_ADD:
        case SVG_OP_SUB:
        case SVG_OP_MUL:
        case SVG_OP_DIV: return svg_cuda_binary;
        case SVG_OP_SCALE: return svg_cuda_scale;
        case SVG_OP_UNARY: return svg_cuda_unary;
        case SVG_OP_SOFTMAX: return svg_cuda_softmax;
        case SVG_OP_NORM: return svg_cuda_norm;
        case SVG_OP_GROUP_NORM: return svg_cuda_group_norm;
        case SVG_OP_MUL_MAT: return svg_cuda_mul_mat;
        case SVG_OP_GET_ROWS: return svg_cuda_get_rows;
        case SVG_OP_CONCAT: return svg_cuda_concat;
        case SVG_OP_PAD: return svg_cuda_pad;
        case SVG_OP_REPEAT: return svg_cuda_repeat;
        case SVG_OP_UPSAMPLE_NEAREST: return svg_cuda_upsample_nearest;
        case SVG_OP_CONV3D: return svg_cuda_conv3d;
        case SVG_OP_TIMESTEP_EMBEDDING: return svg_cuda_timestep_embedding;
        case SVG_OP_ROPE: return svg_cuda_rope;
        case SVG_OP_ATTENTION: return svg_cuda_attention;
        case SVG_OP_SPARSE_PROFILE: return svg_cuda_sparse_profile;
        case SVG_OP_SPARSE_PERMUTE: return svg_cuda_sparse_permute;
        default: return nullptr;
    }
}

bool is_act(enum svg_type t) { return t == SVG_TYPE_F32 || t == SVG_TYPE_F16 || t == SVG_TYPE_BF16; }

// cuBLAS's recommended workspace on Hopper (the heuristic takes what fits)
constexpr size_t GEMM_WORKSPACE = 32u << 20;

// ---- graph-level fusion
// How many node sources name each tensor (views count as consumers of the
// tensor they view, so a chain of views is followed link by link).
std::unordered_map<const svg_tensor *, int> count_uses(const svg_graph *g) {
    std::unordered_map<const svg_tensor *, int> uses;
    for (const svg_tensor *n : g->nodes)
        for (int i = 0; i < SVG_MAX_SRC; i++)
            if (n->src[i]) uses[n->src[i]]++;
    return uses;
}

// QK-norm: rope(reshape(norm(x))) (Wan: RMS norm over the H·D row, RoPE per
// head). When the norm's result feeds nothing but that RoPE, through views
// only, and is no graph output, the pair runs as one row pass: x read once,
// rope's output written once, the norm's result never touched. Nodes i (the
// NORM) .. j (the ROPE) must be adjacent apart from views: the pass runs at
// i but writes memory the planner assigned at j (after x was released at i),
// which is only sound when no node runs in between. Returns j, or 0 when
// node i starts no such pattern.
size_t fused_rope_after(const svg_graph *g, size_t i, const std::unordered_map<const svg_tensor *, int> &uses) {
    const svg_tensor *cur = g->nodes[i];
    if (cur->op != SVG_OP_NORM) return 0;
    for (size_t j = i + 1; j < g->nodes.size(); j++) {
        const svg_tensor *t = g->nodes[j];
        const auto u = uses.find(cur);
        if ((cur->flags & SVG_FLAG_OUTPUT) || u == uses.end() || u->second != 1 || t->src[0] != cur) return 0;
        if (t->op == SVG_OP_ROPE) return j;
        if (t->op != SVG_OP_VIEW) return 0;
        cur = t;
    }
    return 0;
}

// A MUL_MAT and, next in the graph, GELU_TANH of it (the Wan FFN's up
// projection): fusable when nothing else reads the GEMM's result.
bool gelu_of(const svg_tensor *mm, const svg_tensor *next) {
    return mm->op == SVG_OP_MUL_MAT && next->op == SVG_OP_UNARY && next->op_params[0] == SVG_UNARY_GELU_TANH &&
           next->src[0] == mm && !(mm->flags & SVG_FLAG_OUTPUT);
}

// Gated activation: MUL(act(x), y), act = GELU / GELU_TANH / SILU (umT5's
// gated-GELU FFN: gelu_tanh(x·wi_0) · (x·wi_1)). Node i is the UNARY; when
// its result is no graph output and its only reader is a MUL with the
// layouts svg_cuda_gated_ok accepts, act(x)·y runs as one pass at that MUL
// (node j, where y exists) and node i runs nothing: x is read once, act(x)
// is never written or read back. Running at j means reading x at j, but the
// planner released x's memory at i; so every node run between i and j must
// have written elsewhere (views write nothing; the two other fusions write
// only into nodes of that same range, since their pairs are adjacent apart
// from views). Returns j, or 0 when node i starts no such pattern.
size_t gated_mul_after(const svg_graph *g, size_t i, const std::unordered_map<const svg_tensor *, int> &uses) {
    const svg_tensor *act = g->nodes[i];
    if (act->op != SVG_OP_UNARY || (act->flags & SVG_FLAG_OUTPUT)) return 0;
    const auto u = uses.find(act);
    if (u == uses.end() || u->second != 1) return 0;
    const svg_tensor *x = act->src[0];
    if (!x->data) return 0;
    for (size_t j = i + 1; j < g->nodes.size(); j++) {
        const svg_tensor *t = g->nodes[j];
        for (int k = 0; k < SVG_MAX_SRC; k++)
            if (t->src[k] == act) return svg_cuda_gated_ok(act, t) ? j : 0;  // the one reader
        if (t->op != SVG_OP_VIEW && svg_cuda_overlap(t, x)) return 0;  // x overwritten before the MUL
    }
    return 0;
}

// What a step of the graph is, for the profile: the op, and what picks its
// kernel (weight type, attention mask / Sparse VideoGen band, head dim).
std::string profile_key(const svg_tensor *t) {
    std::string k = svg_op_name(t->op);
    if (t->op == SVG_OP_MUL_MAT) k += std::string(" ") + svg_type_name(t->src[1]->type);
    if (t->op == SVG_OP_ATTENTION) {
        k += t->op_params[2] ? " sparse" : t->src[4] ? " key-masked" : t->src[3] ? " biased" : " dense";
        k += " D=" + std::to_string(t->src[0]->ne[3]);
    }
    return k;
}

// GPU time per kind of step: an event before each step and one after the
// last, read when the graph has run (the gaps between kernels, launch
// latency included, count towards the step before them).
struct step_profile {
    std::vector<cudaEvent_t> events;  // reused across graphs
    std::vector<std::string> keys;    // the step each event starts
    std::map<std::string, std::pair<double, long>> total;  // key → (ms, steps)
    double graphs_ms = 0;
    long graphs = 0;

    bool mark(cudaStream_t s, std::string key) {
        if (keys.size() == events.size()) {
            events.emplace_back();
            SVG_CUDA_CHECK(cudaEventCreate(&events.back()));
        }
        SVG_CUDA_CHECK(cudaEventRecord(events[keys.size()], s));
        keys.push_back(std::move(key));
        return true;
    }
    bool collect(cudaStream_t s) {
        if (!mark(s, "")) return false;
        SVG_CUDA_CHECK(cudaStreamSynchronize(s));
        for (size_t i = 0; i + 1 < keys.size(); i++) {
            float ms = 0;
            SVG_CUDA_CHECK(cudaEventElapsedTime(&ms, events[i], events[i + 1]));
            auto &e = total[keys[i]];
            e.first += ms;
            e.second++;
            graphs_ms += ms;
        }
        graphs++;
        keys.clear();
        return true;
    }
    void print(const std::string &label) const {
        std::vector<std::pair<double, std::string>> rows;
        for (const auto &e : total) rows.push_back({e.second.first, e.first});
        std::sort(rows.rbegin(), rows.rend());
        fprintf(stderr, "SVG_PROFILE %s: %ld graphs, %.1f ms of GPU time\n%-40s %8s %12s %7s\n", label.c_str(), graphs, graphs_ms, "step",
                "count", "ms", "share");
        for (const auto &r : rows)
            fprintf(stderr, "%-40s %8ld %12.2f %6.1f%%\n", r.second.c_str(), total.at(r.second).second, r.first,
                    graphs_ms > 0 ? 100.0 * r.first / graphs_ms : 0.0);
    }
    ~step_profile() {
        for (cudaEvent_t e : events) cudaEventDestroy(e);
    }
};

struct cuda_backend : svg_backend {
    svg_cuda_ctx c;
    std::string label, details;  // details: what svg_backend_description adds
    size_t peak = 0;  // of c.buffers_in_use
    // pinned staging for host → device copies
    void *pinned = nullptr;
    size_t pinned_size = 0;
    std::mutex mu;
    // one reference for the user, one per live buffer: weights freed after
    // svg_backend_free still find their stream and device
    std::atomic<int> refs{1};
    void release() override {
        if (--refs == 0) delete this;
    }
    // SVG_FUSE_GELU=0 keeps GEMM and GELU apart, SVG_FUSE_GATED=0 act(x) and
    // the MUL (to time the fusions)
    bool fuse_gelu = true, fuse_gated = true;
    std::unique_ptr<step_profile> profile;  // SVG_PROFILE=1

    ~cuda_backend() override {
        cudaSetDevice(c.device);
        if (c.stream) cudaStreamSynchronize(c.stream);
        if (profile) {
            profile->print(label);
            profile.reset();
        }
        if (c.scratch) cudaFree(c.scratch);
        if (c.gemm_workspace) cudaFree(c.gemm_workspace);
        if (pinned) cudaFreeHost(pinned);
        if (c.cublaslt) cublasLtDestroy(c.cublaslt);
        if (c.stream) cudaStreamDestroy(c.stream);
    }
    const char *name() const override { return label.c_str(); }
    std::string description() const override { return label + ", " + details; }
    size_t alignment() const override { return 256; }

    svg_buffer *alloc_buffer(size_t size) override {
        cudaSetDevice(c.device);
        if (!c.within_budget(size, 0, "buffers")) return nullptr;
        void *p = nullptr;
        if (cudaMalloc(&p, std::max<size_t>(size, 256)) != cudaSuccess) {
            cudaGetLastError();
            size_t free_b = 0, total_b = 0;
            cudaMemGetInfo(&free_b, &total_b);
            return svg_err<svg_buffer *>(nullptr,
                "%s: out of device memory: need %.2f GiB, %.2f GiB free of %.2f GiB",
                label.c_str(), size / 1073741824.0, free_b / 1073741824.0, total_b / 1073741824.0);
        }
        cuda_buffer *b = new cuda_buffer;
        b->backend = this;
        b->owner = this;
        refs++;
        b->base = p;
        b->size = size;
        c.buffers_in_use += size;
        peak = std::max(peak, c.buffers_in_use);
        return b;
    }

    bool upload(void *dst, const void *src, size_t n) {
        std::lock_guard<std::mutex> lk(mu);
        cudaSetDevice(c.device);
        const size_t chunk = 64u << 20;
        if (!pinned) {
            if (cudaMallocHost(&pinned, chunk) != cudaSuccess) {
                cudaGetLastError();
                pinned = nullptr;
            } else {
                pinned_size = chunk;
            }
        }
        if (!pinned || n < (1u << 20)) {
            SVG_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, c.stream));
            SVG_CUDA_CHECK(cudaStreamSynchronize(c.stream));
            return true;
        }
        for (size_t off = 0; off < n; off += pinned_size) {
            const size_t len = std::min(pinned_size, n - off);
            memcpy(pinned, (const char *)src + off, len);
            SVG_CUDA_CHECK(cudaMemcpyAsync((char *)dst + off, pinned, len, cudaMemcpyHostToDevice, c.stream));
            SVG_CUDA_CHECK(cudaStreamSynchronize(c.stream));
        }
        return true;
    }
    bool download(void *dst, const void *src, size_t n) {
        cudaSetDevice(c.device);
        SVG_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, c.stream));
        SVG_CUDA_CHECK(cudaStreamSynchronize(c.stream));
        return true;
    }

    bool supports_op(const svg_tensor *t) const override {
        if (t->op == SVG_OP_NONE || t->op == SVG_OP_VIEW) return true;
        if (!kernel_for(t->op)) return false;
        switch (t->op) {
            case SVG_OP_COPY: {
                const svg_type_traits *ta = svg_type_traits_of(t->src[0]->type), *td = svg_type_traits_of(t->type);
                if (t->src[0]->type == t->type) return true;
                // the device quantizes to q8_0 / q4_0 only (k-quants are the converter's)
                const bool to_quant = t->type == SVG_TYPE_Q8_0 || t->type == SVG_TYPE_Q4_0;
                return (is_act(t->src[0]->type) || ta->is_quantized) && (is_act(t->type) || to_quant) && !(ta->is_quantized && td->is_quantized);
            }
            case SVG_OP_GET_ROWS: {
                const enum svg_type tt = t->src[0]->type;
                int elems, bytes;
                return is_act(tt) || svg_qblock(tt, &elems, &bytes);
            }
            case SVG_OP_MUL_MAT: {
                const enum svg_type tb = t->src[1]->type;
                int elems, bytes;  // k-quant weights: the tiled kernel, dequantizing as it loads
                return is_act(t->src[0]->type) && (is_act(tb) || svg_qblock(tb, &elems, &bytes));
            }
            case SVG_OP_ATTENTION: {
                const svg_tensor *q = t->src[0], *k = t->src[1], *v = t->src[2];
                return q->type == k->type && q->type == v->type && q->ne[3] <= 256 && v->ne[3] <= 256;
            }
            case SVG_OP_SPARSE_PROFILE: {
                const svg_tensor *q = t->src[0], *k = t->src[1], *v = t->src[2];
                return q->type == k->type && q->type == v->type && q->ne[3] <= 128 && v->ne[3] <= 128;
            }
            default: return true;  // activations of any of f32/f16/bf16
        }
    }

    // a node is runnable here: its memory and its inputs' are on this device
    bool check_node(const svg_tensor *t) const {
        if (!t->data) return svg_err(false, "%s: node '%s' (%s) has no memory; allocate the graph first", label.c_str(), t->name, svg_op_name(t->op));
        for (int i = 0; i < SVG_MAX_SRC; i++) {
            const svg_tensor *s = t->src[i];
            if (!s) continue;
            if (!s->data) return svg_err(false, "%s: input %d '%s' of %s has no memory", label.c_str(), i, s->name, svg_op_name(t->op));
            if (!s->buffer || s->buffer->is_host() || s->buffer->backend != this)
                return svg_err(false, "%s: input '%s' of %s is not in this device's memory", label.c_str(), s->name, svg_op_name(t->op));
        }
        if (!t->buffer || t->buffer->backend != this)
            return svg_err(false, "%s: node '%s' is not in this device's memory", label.c_str(), t->name);
        if (!supports_op(t))
            return svg_err(false, "%s: %s with output %s is not supported", label.c_str(), svg_op_name(t->op), svg_shape_string(t).c_str());
        return true;
    }

    bool graph_compute(svg_graph *g) override {
        cudaSetDevice(c.device);
        if (!run_graph(g)) return false;
        return !profile || profile->collect(c.stream);
    }
    bool run_graph(svg_graph *g) {
        const auto uses = count_uses(g);
        // MUL node → the UNARY it runs fused with (gated activations)
        std::unordered_map<const svg_tensor *, const svg_tensor *> gated;
        for (size_t i = 0; i < g->nodes.size(); i++) {
            svg_tensor *t = g->nodes[i];
            if (t->op == SVG_OP_VIEW) continue;
            if (!check_node(t)) return false;
            if (profile && !profile->mark(c.stream, profile_key(t))) return false;
            if (!gated.empty()) {
                const auto f = gated.find(t);
                if (f != gated.end()) {  // act(x)·y, act's node ran nothing
                    if (profile) profile->keys.back() = "gated " + profile_key(f->second);
                    if (!svg_cuda_gated(c, f->second, t)) return false;
                    continue;
                }
            }
            if (fuse_gated && t->op == SVG_OP_UNARY) {
                if (const size_t j = gated_mul_after(g, i, uses)) {
                    gated[g->nodes[j]] = t;
                    continue;
                }
            }
            if (fuse_gelu && i + 1 < g->nodes.size() && gelu_of(t, g->nodes[i + 1])) {
                svg_tensor *gelu = g->nodes[i + 1];
                const auto u = uses.find(t);
                bool fused = false;
                if (u != uses.end() && u->second == 1 && (!check_node(gelu) || !svg_cuda_mul_mat_gelu(c, t, gelu, &fused))) return false;
                if (fused) {  // the GEMM's own output stays unwritten: nothing reads it
                    if (profile) profile->keys.back() += "+gelu";
                    i++;
                    continue;
                }
            }
            if (const size_t j = fused_rope_after(g, i, uses)) {
                svg_row_args a;
                if (!check_node(g->nodes[j])) return false;
                if (svg_row_args_norm_rope(t, g->nodes[j], &a)) {  // else: layout not fusable, run both
                    if (profile) profile->keys.back() += "+rope";
                    if (!svg_row_pass(c, a)) return false;
                    i = j;
                    continue;
                }
            }
            if (!kernel_for(t->op)(c, t)) return false;
        }
        return true;
    }
    void synchronize() override {
        cudaSetDevice(c.device);
        cudaStreamSynchronize(c.stream);
    }
};

cuda_buffer::~cuda_buffer() {
    cudaSetDevice(owner->c.device);
    cudaStreamSynchronize(owner->c.stream);
    cudaFree(base);
    owner->c.buffers_in_use -= size;
    owner->release();
}
bool cuda_buffer::set(void *dst, const void *src, size_t n) { return owner->upload(dst, src, n); }
bool cuda_buffer::get(void *dst, const void *src, size_t n) { return owner->download(dst, src, n); }

}  // namespace

extern "C" int svg_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
}

extern "C" struct svg_backend *svg_backend_cuda_new(int device) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        cudaGetLastError();
        return svg_err<svg_backend *>(nullptr, "CUDA: no device available (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    }
    if (device < 0 || device >= n) return svg_err<svg_backend *>(nullptr, "CUDA: device %d out of range (%d devices)", device, n);
    cuda_backend *be = new cuda_backend;
    be->c.device = device;
    cudaDeviceProp prop;
    if (cudaSetDevice(device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess ||
        cudaStreamCreateWithFlags(&be->c.stream, cudaStreamNonBlocking) != cudaSuccess) {
        cudaGetLastError();
        delete be;
        return svg_err<svg_backend *>(nullptr, "CUDA: cannot initialize device %d", device);
    }
    if (cublasLtCreate(&be->c.cublaslt) != CUBLAS_STATUS_SUCCESS) {
        delete be;
        return svg_err<svg_backend *>(nullptr, "CUDA: cuBLASLt initialization failed");
    }
    if (cudaMalloc(&be->c.gemm_workspace, GEMM_WORKSPACE) != cudaSuccess) {
        cudaGetLastError();
        be->c.gemm_workspace = nullptr;
        delete be;
        return svg_err<svg_backend *>(nullptr, "CUDA: out of device memory for the %zu MiB GEMM workspace", GEMM_WORKSPACE >> 20);
    }
    be->c.gemm_workspace_size = GEMM_WORKSPACE;
    const char *fuse = getenv("SVG_FUSE_GELU");
    be->fuse_gelu = !(fuse && strcmp(fuse, "0") == 0);
    const char *fuse_gated = getenv("SVG_FUSE_GATED");
    be->fuse_gated = !(fuse_gated && strcmp(fuse_gated, "0") == 0);
    if (const char *prof = getenv("SVG_PROFILE"); prof && *prof && strcmp(prof, "0") != 0) be->profile = std::make_unique<step_profile>();
    be->c.n_sm = prop.multiProcessorCount;
    be->c.max_threads_sm = prop.maxThreadsPerMultiProcessor;
    be->c.cc_major = prop.major;
    be->c.cc_minor = prop.minor;
    be->c.smem_optin = prop.sharedMemPerBlockOptin;
    // SVG_CUDA_CC=80|86|89: choose kernels as on that (older) card — its
    // compute capability and its opt-in shared memory per block — so the
    // Ampere/Ada paths of consumer cards run and are tested on a Hopper one.
    if (const char *cc = getenv("SVG_CUDA_CC"); cc && *cc) {
        const int want = atoi(cc), have = prop.major * 10 + prop.minor;
        if (want != 80 && want != 86 && want != 89) {
            delete be;
            return svg_err<svg_backend *>(nullptr, "CUDA: SVG_CUDA_CC=%s: expected 80, 86 or 89", cc);
        }
        if (want < have) {
            be->c.cc_major = want / 10;
            be->c.cc_minor = want % 10;
            be->c.smem_optin = std::min<size_t>(be->c.smem_optin, want == 80 ? 166912 : 101376);
        }
    }
    be->label = std::string("CUDA") + std::to_string(device) + " (" + prop.name + ")";
    if (be->c.cc_major != prop.major || be->c.cc_minor != prop.minor)
        be->label += " as sm_" + std::to_string(be->c.cc_major * 10 + be->c.cc_minor);
    int driver = 0, runtime = 0, clock_khz = 0, mem_khz = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device);
    cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device);
    cudaGetLastError();
    char d[256];
    snprintf(d, sizeof d, "sm_%d%d, %d SMs up to %d MHz, %.1f GiB at %d MHz, CUDA driver %d.%d, runtime %d.%d", prop.major, prop.minor,
             prop.multiProcessorCount, clock_khz / 1000, prop.totalGlobalMem / 1073741824.0, mem_khz / 1000, driver / 1000,
             driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10);
    be->details = d;
    return be;
}

extern "C" bool svg_backend_cuda_set_memory_limit(struct svg_backend *be, size_t bytes) {
    cuda_backend *cb = dynamic_cast<cuda_backend *>(be);
    if (!cb) return svg_err(false, "a memory limit needs the CUDA backend");
    cb->c.mem_limit = bytes;
    return true;
}

extern "C" bool svg_cuda_memory_info(int device, size_t *free_bytes, size_t *total_bytes) {
    size_t f = 0, t = 0;
    if (cudaSetDevice(device) != cudaSuccess || cudaMemGetInfo(&f, &t) != cudaSuccess) {
        cudaGetLastError();
        return svg_err(false, "CUDA device %d: no memory information", device);
    }
    if (free_bytes) *free_bytes = f;
    if (total_bytes) *total_bytes = t;
    return true;
}

extern "C" size_t svg_backend_cuda_peak_memory(struct svg_backend *be) {
    cuda_backend *cb = dynamic_cast<cuda_backend *>(be);
    // buffers at their peak, plus the op scratch and the GEMM workspace
    return cb ? cb->peak + cb->c.scratch_size + cb->c.gemm_workspace_size : 0;
}
