/*
 * svg.h — the public C API of svg.cpp: tensors, graphs, ops, backends,
 * memory planning, GGUF and safetensors I/O, and (at the end) the embedding
 * API: model file + parameters → video frames.
 *
 * Conventions
 *  - Shapes are in PyTorch order: ne[0] is the outermost dimension and
 *    ne[n_dims-1] the innermost (fastest varying). nb[] are byte strides.
 *    (GGUF stores ggml order, innermost first; the GGUF reader/writer reverse.)
 *  - Block-quantized types (q8_0, q4_0) pack the innermost dimension in blocks:
 *    nb[n_dims-1] is the size of one block, nb[n_dims-2] the size of one row.
 *  - Ops add nodes to a graph and compute nothing. A graph is computed on a
 *    backend (CPU, CUDA).
 *  - Errors never abort: a failing call returns NULL/false and sets a
 *    thread-local message readable with svg_last_error(). Ops given a NULL
 *    input return NULL, so an error propagates to the end of a graph build.
 */
#ifndef SVG_H
#define SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SVG_MAX_DIMS 8
#define SVG_MAX_SRC 6
#define SVG_MAX_OP_PARAMS 32
#define SVG_MAX_NAME 64

/* ------------------------------------------------------------------ errors */

const char *svg_last_error(void);
void svg_set_error(const char *fmt, ...);
void svg_clear_error(void);

/* ------------------------------------------------------------------- types */

/* Values equal the GGUF / ggml type ids so tensors map 1:1 to GGUF files. */
enum svg_type {
    SVG_TYPE_F32 = 0,
    SVG_TYPE_F16 = 1,
    SVG_TYPE_Q4_0 = 2,
    SVG_TYPE_Q8_0 = 8,
    SVG_TYPE_Q4_K = 12,
    SVG_TYPE_Q5_K = 13,
    SVG_TYPE_Q6_K = 14,
    SVG_TYPE_I8 = 24,
    SVG_TYPE_I16 = 25,
    SVG_TYPE_I32 = 26,
    SVG_TYPE_I64 = 27,
    SVG_TYPE_F64 = 28,
    SVG_TYPE_BF16 = 30,
    SVG_TYPE_COUNT = 40, /* upper bound of the id space, not a type */
};

/* Everything the library knows about a type. Adding a quantized type means
 * adding one entry to the table in src/svg-types.cpp. */
struct svg_type_traits {
    const char *name;   /* "f32", "q8_0", ... */
    int64_t block_size; /* elements per block (1 for plain types) */
    size_t type_size;   /* bytes per block */
    bool is_float;      /* usable as a floating-point value type */
    bool is_quantized;
    /* row conversion; n is a multiple of block_size. NULL for integer types. */
    void (*to_float)(const void *src, float *dst, int64_t n);
    void (*from_float)(const float *src, void *dst, int64_t n);
};

const struct svg_type_traits *svg_type_traits_of(enum svg_type type); /* NULL if unknown */
bool svg_type_is_valid(int type);
const char *svg_type_name(enum svg_type type); /* "?" if unknown */
bool svg_type_from_name(const char *name, enum svg_type *out);
/* bytes for n elements of a row; n must be a multiple of the block size */
size_t svg_row_size(enum svg_type type, int64_t n);

/* scalar conversions */
float svg_fp16_to_fp32(uint16_t h);
uint16_t svg_fp32_to_fp16(float f);
float svg_bf16_to_fp32(uint16_t h);
uint16_t svg_fp32_to_bf16(float f); /* round to nearest even */

/* --------------------------------------------------------------------- ops */

enum svg_op {
    SVG_OP_NONE = 0, /* leaf: weights, inputs */
    SVG_OP_VIEW,     /* reshape / permute / transpose / slice / view: no compute */
    SVG_OP_COPY,     /* contiguous copy, optionally converting the type (cont, cast) */
    SVG_OP_ADD,
    SVG_OP_SUB,
    SVG_OP_MUL,
    SVG_OP_DIV,
    SVG_OP_SCALE, /* a*s + b */
    SVG_OP_UNARY,
    SVG_OP_SOFTMAX,
    SVG_OP_NORM, /* layer / rms norm over a dim range, affine, fused modulate */
    SVG_OP_GROUP_NORM,
    SVG_OP_MUL_MAT, /* a @ b^T (+ bias) */
    SVG_OP_GET_ROWS,
    SVG_OP_CONCAT,
    SVG_OP_PAD,
    SVG_OP_REPEAT,
    SVG_OP_UPSAMPLE_NEAREST,
    SVG_OP_CONV3D,
    SVG_OP_TIMESTEP_EMBEDDING,
    SVG_OP_ROPE,
    SVG_OP_ATTENTION,       /* dense, or block-banded (Sparse VideoGen) */
    SVG_OP_SPARSE_PROFILE,  /* Sparse VideoGen head classification */
    SVG_OP_SPARSE_PERMUTE,  /* frame-major <-> token-major rows of temporal heads */
    SVG_OP_COUNT,
};

const char *svg_op_name(enum svg_op op);

enum svg_unary_op {
    SVG_UNARY_GELU = 0,  /* exact: x/2 (1 + erf(x/sqrt 2)) */
    SVG_UNARY_GELU_TANH, /* tanh approximation */
    SVG_UNARY_SILU,
    SVG_UNARY_RELU,
    SVG_UNARY_EXP,
    SVG_UNARY_TANH,
    SVG_UNARY_SIGMOID,
    SVG_UNARY_COUNT,
};

enum svg_norm_kind {
    SVG_NORM_LAYER = 0, /* (x - mean) / sqrt(var + eps) */
    SVG_NORM_RMS = 1,   /* x / sqrt(mean(x^2) + eps) */
};

enum svg_pad_mode {
    SVG_PAD_CONSTANT = 0,
    SVG_PAD_REPLICATE = 1,
};

enum svg_rope_mode {
    SVG_ROPE_INTERLEAVED = 0, /* rotate pairs (x[2i], x[2i+1]) within each axis section */
    SVG_ROPE_HALF_SPLIT = 1,  /* rotate (x[i], x[i+n/2]) within each axis section */
};

/* ----------------------------------------------------------------- tensors */

enum svg_tensor_flag {
    SVG_FLAG_INPUT = 1,  /* allocated first by the planner; set before compute */
    SVG_FLAG_OUTPUT = 2, /* never overwritten by the planner */
    SVG_FLAG_PARAM = 4,  /* a weight */
};

struct svg_buffer;

struct svg_tensor {
    enum svg_type type;
    int n_dims;
    int64_t ne[SVG_MAX_DIMS]; /* PyTorch order, outermost first */
    size_t nb[SVG_MAX_DIMS];  /* byte strides */

    enum svg_op op;
    int32_t op_params[SVG_MAX_OP_PARAMS];
    struct svg_tensor *src[SVG_MAX_SRC];

    struct svg_tensor *view_src; /* for views: the tensor owning the memory */
    size_t view_offs;

    struct svg_buffer *buffer; /* NULL: host memory owned by the context */
    void *data;
    int32_t flags;
    char name[SVG_MAX_NAME];
};

struct svg_context;

/* no_alloc = false: every tensor gets host memory at creation (tests, small
 * CPU work). no_alloc = true: metadata only; memory comes from a backend
 * buffer (svg_backend_alloc_ctx_tensors) or the graph planner (svg_gallocr). */
struct svg_context *svg_context_new(bool no_alloc);
void svg_context_free(struct svg_context *ctx);
bool svg_context_no_alloc(const struct svg_context *ctx);
int64_t svg_context_n_tensors(const struct svg_context *ctx);
struct svg_tensor *svg_context_tensor(struct svg_context *ctx, int64_t i);
struct svg_tensor *svg_context_find(struct svg_context *ctx, const char *name);

struct svg_tensor *svg_new_tensor(struct svg_context *ctx, enum svg_type type, int n_dims,
                                  const int64_t *ne);
struct svg_tensor *svg_new_tensor_1d(struct svg_context *ctx, enum svg_type type, int64_t n0);
struct svg_tensor *svg_new_tensor_2d(struct svg_context *ctx, enum svg_type type, int64_t n0,
                                     int64_t n1);
struct svg_tensor *svg_new_tensor_3d(struct svg_context *ctx, enum svg_type type, int64_t n0,
                                     int64_t n1, int64_t n2);
struct svg_tensor *svg_new_tensor_4d(struct svg_context *ctx, enum svg_type type, int64_t n0,
                                     int64_t n1, int64_t n2, int64_t n3);

struct svg_tensor *svg_set_name(struct svg_tensor *t, const char *name);
void svg_set_input(struct svg_tensor *t);
void svg_set_output(struct svg_tensor *t);

int64_t svg_nelements(const struct svg_tensor *t);
int64_t svg_nrows(const struct svg_tensor *t); /* elements / innermost dim */
size_t svg_nbytes(const struct svg_tensor *t); /* extent of the memory it spans */
bool svg_is_contiguous(const struct svg_tensor *t);
bool svg_same_shape(const struct svg_tensor *a, const struct svg_tensor *b);
/* human-readable "[2, 3, 4] f32" into buf */
const char *svg_shape_str(const struct svg_tensor *t, char *buf, size_t size);

/* Copy bytes to / from a tensor wherever it lives (host or device). */
bool svg_tensor_set(struct svg_tensor *t, const void *data, size_t offset, size_t size);
bool svg_tensor_get(const struct svg_tensor *t, void *data, size_t offset, size_t size);
/* Convenience: read a contiguous float-type tensor as f32 (n = nelements). */
bool svg_tensor_get_f32(const struct svg_tensor *t, float *out, int64_t n);
bool svg_tensor_set_f32(struct svg_tensor *t, const float *in, int64_t n);

/* ------------------------------------------------------------------- views */

/* reshape a contiguous tensor; one entry of ne may be -1 */
struct svg_tensor *svg_reshape(struct svg_context *ctx, struct svg_tensor *a, int n_dims,
                               const int64_t *ne);
struct svg_tensor *svg_reshape_2d(struct svg_context *ctx, struct svg_tensor *a, int64_t n0,
                                  int64_t n1);
struct svg_tensor *svg_reshape_3d(struct svg_context *ctx, struct svg_tensor *a, int64_t n0,
                                  int64_t n1, int64_t n2);
struct svg_tensor *svg_reshape_4d(struct svg_context *ctx, struct svg_tensor *a, int64_t n0,
                                  int64_t n1, int64_t n2, int64_t n3);
/* arbitrary strided view; offset in bytes */
struct svg_tensor *svg_view(struct svg_context *ctx, struct svg_tensor *a, int n_dims,
                            const int64_t *ne, const size_t *nb, size_t offset);
/* torch.permute: output dim i is input dim perm[i] */
struct svg_tensor *svg_permute(struct svg_context *ctx, struct svg_tensor *a, const int *perm);
struct svg_tensor *svg_transpose(struct svg_context *ctx, struct svg_tensor *a, int d0, int d1);
/* a[..., start:end:step, ...] along dim (negative dim counts from the end) */
struct svg_tensor *svg_slice(struct svg_context *ctx, struct svg_tensor *a, int dim, int64_t start,
                             int64_t end, int64_t step);

/* --------------------------------------------------------------------- ops */

struct svg_tensor *svg_cont(struct svg_context *ctx, struct svg_tensor *a);
struct svg_tensor *svg_cast(struct svg_context *ctx, struct svg_tensor *a, enum svg_type type);

/* elementwise with NumPy broadcasting; result has a's type */
struct svg_tensor *svg_add(struct svg_context *ctx, struct svg_tensor *a, struct svg_tensor *b);
struct svg_tensor *svg_sub(struct svg_context *ctx, struct svg_tensor *a, struct svg_tensor *b);
struct svg_tensor *svg_mul(struct svg_context *ctx, struct svg_tensor *a, struct svg_tensor *b);
struct svg_tensor *svg_div(struct svg_context *ctx, struct svg_tensor *a, struct svg_tensor *b);
/* a * s + b */
struct svg_tensor *svg_scale(struct svg_context *ctx, struct svg_tensor *a, float s, float b);

struct svg_tensor *svg_unary(struct svg_context *ctx, struct svg_tensor *a, enum svg_unary_op op);
struct svg_tensor *svg_gelu(struct svg_context *ctx, struct svg_tensor *a);
struct svg_tensor *svg_gelu_tanh(struct svg_context *ctx, struct svg_tensor *a);
struct svg_tensor *svg_silu(struct svg_context *ctx, struct svg_tensor *a);
struct svg_tensor *svg_relu(struct svg_context *ctx, struct svg_tensor *a);
struct svg_tensor *svg_exp(struct svg_context *ctx, struct svg_tensor *a);
struct svg_tensor *svg_tanh(struct svg_context *ctx, struct svg_tensor *a);
struct svg_tensor *svg_sigmoid(struct svg_context *ctx, struct svg_tensor *a);

/* softmax over the innermost dim */
struct svg_tensor *svg_softmax(struct svg_context *ctx, struct svg_tensor *a);

/* Normalization over the dims [dim0, dim0 + n_norm_dims) of a contiguous x,
 * statistics in fp32. Optional (NULL to skip):
 *   w, b     affine, nelements = product of the normalized dims
 *   scale, shift  modulation y = y*(1 + scale) + shift, broadcast to x's shape
 *                 (adaLN). */
struct svg_tensor *svg_norm_ext(struct svg_context *ctx, struct svg_tensor *x,
                                enum svg_norm_kind kind, int dim0, int n_norm_dims, float eps,
                                struct svg_tensor *w, struct svg_tensor *b,
                                struct svg_tensor *scale, struct svg_tensor *shift);
/* over the innermost dim */
struct svg_tensor *svg_layer_norm(struct svg_context *ctx, struct svg_tensor *x,
                                  struct svg_tensor *w, struct svg_tensor *b, float eps);
struct svg_tensor *svg_rms_norm(struct svg_context *ctx, struct svg_tensor *x,
                                struct svg_tensor *w, float eps);
/* norm (no affine unless w/b given) of the innermost dim, then x*(1+scale)+shift */
struct svg_tensor *svg_norm_modulate(struct svg_context *ctx, struct svg_tensor *x,
                                     enum svg_norm_kind kind, float eps, struct svg_tensor *w,
                                     struct svg_tensor *b, struct svg_tensor *scale,
                                     struct svg_tensor *shift);

/* x [B, C, ...]: statistics over (C/groups channels × all trailing dims);
 * w, b [C] optional */
struct svg_tensor *svg_group_norm(struct svg_context *ctx, struct svg_tensor *x, int n_groups,
                                  float eps, struct svg_tensor *w, struct svg_tensor *b);

/* a [..., M, K] (f32), b [..., N, K] (any float or quantized type, batch dims
 * broadcast to a's), bias [N] optional → [..., M, N] = a @ b^T + bias */
struct svg_tensor *svg_mul_mat(struct svg_context *ctx, struct svg_tensor *a,
                               struct svg_tensor *b);
/* x [..., K], w [N, K], bias [N] or NULL → [..., N]. A quantized w under
 * bf16/f16 x of many rows (q8_0/q4_0: 2048, k-quants: 64) is cast to x's
 * type first (one dense GEMM) */
struct svg_tensor *svg_linear(struct svg_context *ctx, struct svg_tensor *x, struct svg_tensor *w,
                              struct svg_tensor *bias);

/* table [V, D] (any type), ids i32/i64 [...] → [..., D] f32 */
struct svg_tensor *svg_get_rows(struct svg_context *ctx, struct svg_tensor *table,
                                struct svg_tensor *ids);

struct svg_tensor *svg_concat(struct svg_context *ctx, struct svg_tensor *a, struct svg_tensor *b,
                              int dim);

/* per-dim padding, arrays of a->n_dims entries (NULL = 0) */
struct svg_tensor *svg_pad(struct svg_context *ctx, struct svg_tensor *a, const int64_t *before,
                           const int64_t *after, enum svg_pad_mode mode, float value);

/* torch.Tensor.repeat: reps has a->n_dims entries */
struct svg_tensor *svg_repeat(struct svg_context *ctx, struct svg_tensor *a, const int64_t *reps);

/* nearest-neighbour upsampling of the innermost n dims by integer factors
 * (n = 2: [.., H, W]; n = 3: [.., D, H, W]) */
struct svg_tensor *svg_upsample_nearest(struct svg_context *ctx, struct svg_tensor *a, int n,
                                        const int *factors);

/* x [B, Cin, D, H, W], w [Cout, Cin, kd, kh, kw] (f32/f16/bf16), bias [Cout]
 * or NULL. stride[3] = (d, h, w); pad[6] = (d_before, d_after, h_before,
 * h_after, w_before, w_after), zero padding. Causal temporal padding is
 * pad d_before = kd - 1, d_after = 0. */
struct svg_tensor *svg_conv3d(struct svg_context *ctx, struct svg_tensor *x, struct svg_tensor *w,
                              struct svg_tensor *bias, const int *stride, const int *pad);
/* x [B, Cin, H, W], w [Cout, Cin, kh, kw]; stride[2]; pad[4] = (top, bottom, left, right) */
struct svg_tensor *svg_conv2d(struct svg_context *ctx, struct svg_tensor *x, struct svg_tensor *w,
                              struct svg_tensor *bias, const int *stride, const int *pad);

/* diffusers get_timestep_embedding: t [N] → [N, dim];
 * freq_i = exp(-ln(max_period) * i / (half - shift)), arg = scale * t * freq_i,
 * emb = [sin(arg) | cos(arg)] (flip_sin_to_cos → [cos | sin]); an odd dim
 * zero-pads the last column */
struct svg_tensor *svg_timestep_embedding(struct svg_context *ctx, struct svg_tensor *t, int dim,
                                          bool flip_sin_to_cos, float downscale_freq_shift,
                                          float scale, float max_period);

/* Rotary embedding. x [B, L, H, D]; pos f32 [L, n_axes] positions per axis;
 * axes_dim[n_axes] even sizes summing to D: axis a rotates its section of the
 * head dim with freq_j = theta^(-2j/axes_dim[a]) at angle pos[l,a]*freq_j. */
struct svg_tensor *svg_rope(struct svg_context *ctx, struct svg_tensor *x, struct svg_tensor *pos,
                            int n_axes, const int *axes_dim, float theta, enum svg_rope_mode mode);

/* Scaled dot-product attention, one op so backends run flash kernels.
 *   q [B, H, Lq, D], k [B, Hkv, Lk, D], v [B, Hkv, Lk, Dv] (any strides,
 *   e.g. permuted views of [B, L, H, D]); H % Hkv == 0 (GQA)
 *   bias     additive f32, broadcast to [B, H, Lq, Lk], or NULL
 *   key_mask [B, Lk] (f32 or i32, nonzero = attend), or NULL
 *   causal   query i sees keys j <= i + (Lk - Lq)
 * → [B, Lq, H, Dv] contiguous. Rows with every key masked give zeros. */
struct svg_tensor *svg_attention(struct svg_context *ctx, struct svg_tensor *q,
                                 struct svg_tensor *k, struct svg_tensor *v,
                                 struct svg_tensor *bias, struct svg_tensor *key_mask, float scale,
                                 bool causal);

/* ---------------------------------------------- Sparse VideoGen attention
 * (arXiv 2502.01776). A self-attention sequence of L tokens is
 *   [text_before | video: frames × tokens_per_frame | text_after]
 * (Wan: no text; CogVideoX: text first; HunyuanVideo: text last), the video
 * part frame-major. Each head is SPATIAL or TEMPORAL and sees its video rows
 * in its own order (svg_sparse_position): spatial heads frame-major;
 * temporal heads keep the sink frames first and lay the other frames out
 * token-major, so one spatial position across frames is contiguous.
 * In that order query i sees key j when
 *   - i or j is a text token (padded text keys are removed by the key mask), or
 *   - j is in the first sink_frames frames (the sink; Wan: 1 frame), or
 *   - |pos(i) − pos(j)| ≤ band.
 * The same band is thus frame-local for spatial heads and
 * same-position-across-frames for temporal heads; after svg_sparse_permute
 * both are one block-banded mask, which svg_attention_sparse computes. */
struct svg_sparse_layout {
    int64_t text_before, frames, tokens_per_frame, text_after;
    int64_t sink_frames;
    int64_t band;
};
enum svg_head_kind { SVG_HEAD_SPATIAL = 0, SVG_HEAD_TEMPORAL = 1 };

/* Position of video token (frame f, token s) among the video rows in a head
 * of `kind`: spatial f·T + s; temporal, for f ≥ sink, sink·T + s·(F − sink) + (f − sink). */
int64_t svg_sparse_position(const struct svg_sparse_layout *l, enum svg_head_kind kind, int64_t f, int64_t s);
/* Fraction of the L² query-key pairs the mask keeps (text and sink included). */
double svg_sparse_density(const struct svg_sparse_layout *l);
/* The largest band, a multiple of `block` (at least one block), whose density
 * is at most `density`; with density ≥ 1 the band covering everything. */
int64_t svg_sparse_band_for_density(const struct svg_sparse_layout *l, double density, int64_t block);

/* Online profiling, per (batch, head): `rows` query rows sampled uniformly
 * from the video rows (a hash of seed, batch, head and sample index: the same
 * rows on every backend) get their exact attention output and their output
 * under the spatial and under the temporal mask (q, k, v as for
 * svg_attention, [B, H, L, D] in frame-major order; GQA allowed). The mean
 * squared error of each against the exact output decides: temporal when
 * strictly smaller. → f32 [B, H, 3]: (kind, mse_spatial, mse_temporal). */
struct svg_tensor *svg_sparse_profile(struct svg_context *ctx, struct svg_tensor *q, struct svg_tensor *k,
                                      struct svg_tensor *v, struct svg_tensor *key_mask, float scale,
                                      const struct svg_sparse_layout *layout, int rows, uint32_t seed);
/* x [B, L, H, D] → the same with, in every head whose kind (element 0 of
 * kinds[b, h, :], e.g. svg_sparse_profile's result) is temporal, the video
 * rows moved from frame-major to that head's order (inverse: back). Text rows
 * and spatial heads are copied unchanged. */
struct svg_tensor *svg_sparse_permute(struct svg_context *ctx, struct svg_tensor *x, struct svg_tensor *kinds,
                                      const struct svg_sparse_layout *layout, bool inverse);
/* Attention under the band mask above, q/k/v already in their heads' orders
 * (as svg_attention: [B, H, L, D] views, → [B, L, H, Dv]); equals dense
 * attention with that mask. Backends skip the key blocks outside it. */
struct svg_tensor *svg_attention_sparse(struct svg_context *ctx, struct svg_tensor *q, struct svg_tensor *k,
                                        struct svg_tensor *v, struct svg_tensor *key_mask, float scale,
                                        const struct svg_sparse_layout *layout);

/* ------------------------------------------------------------------ graphs */

struct svg_graph;

struct svg_graph *svg_graph_new(struct svg_context *ctx);
void svg_graph_free(struct svg_graph *g);
/* add t and everything it depends on (topological order); false on NULL t */
bool svg_graph_build(struct svg_graph *g, struct svg_tensor *t);
int svg_graph_n_nodes(const struct svg_graph *g);
struct svg_tensor *svg_graph_node(const struct svg_graph *g, int i);
int svg_graph_n_leafs(const struct svg_graph *g);
struct svg_tensor *svg_graph_leaf(const struct svg_graph *g, int i);

/* ---------------------------------------------------------------- backends */

struct svg_backend;

/* n_threads <= 0: number of hardware threads */
struct svg_backend *svg_backend_cpu_new(int n_threads);
void svg_backend_cpu_set_threads(struct svg_backend *be, int n_threads);
/* Buffers may outlive their backend: a device backend's resources are released
   when the last of its buffers is freed. */
void svg_backend_free(struct svg_backend *be);
const char *svg_backend_name(const struct svg_backend *be);
/* The name plus what timings depend on: CPU threads; GPU, compute
 * capability, SMs and their maximum clock, memory, CUDA driver and runtime.
 * Valid until the calling thread's next call. */
const char *svg_backend_description(const struct svg_backend *be);
bool svg_backend_supports_op(struct svg_backend *be, const struct svg_tensor *node);
bool svg_backend_graph_compute(struct svg_backend *be, struct svg_graph *g);
/* wait for queued work (no-op on CPU) */
void svg_backend_synchronize(struct svg_backend *be);

/* CUDA backend. svg_cuda_device_count() is 0 when built without CUDA or
 * when no device is present; svg_backend_cuda_new then returns NULL with an
 * error saying which. Activations may be f32, f16 or bf16 on CUDA. */
int svg_cuda_device_count(void);
struct svg_backend *svg_backend_cuda_new(int device);
/* Peak device memory held by this backend since creation, bytes: its buffers
   at their peak plus its kernels' scratch and GEMM workspace. */
size_t svg_backend_cuda_peak_memory(struct svg_backend *be);
/* Cap on the device memory this backend holds at once (buffers, kernel
 * scratch, GEMM workspace), bytes; 0: none. An allocation past it fails with
 * an error naming the budget. False when be is not a CUDA backend. */
bool svg_backend_cuda_set_memory_limit(struct svg_backend *be, size_t bytes);
/* Free and total memory of a CUDA device (cudaMemGetInfo); false without one. */
bool svg_cuda_memory_info(int device, size_t *free_bytes, size_t *total_bytes);

struct svg_buffer *svg_backend_alloc_buffer(struct svg_backend *be, size_t size);
void svg_buffer_free(struct svg_buffer *buf);
size_t svg_buffer_size(const struct svg_buffer *buf);
size_t svg_backend_alignment(const struct svg_backend *be);
/* Allocate one buffer holding every tensor of a no_alloc context that has no
 * memory yet (weights), and point views at it. NULL on failure. */
struct svg_buffer *svg_backend_alloc_ctx_tensors(struct svg_context *ctx, struct svg_backend *be);

/* ------------------------------------------------------- memory planning */

/* The graph allocator places every intermediate of a graph in one buffer,
 * reusing a region as soon as the tensor stored there is dead, so the peak is
 * the live set rather than the sum of all nodes. Tensors that already have
 * memory (weights) are left alone; SVG_FLAG_OUTPUT tensors are never reused.
 * With SVG_PRINT_PLAN=1 in the environment the plan is printed to stderr. */
struct svg_gallocr;

struct svg_gallocr *svg_gallocr_new(struct svg_backend *be);
void svg_gallocr_free(struct svg_gallocr *ga);
bool svg_gallocr_alloc_graph(struct svg_gallocr *ga, struct svg_graph *g);
size_t svg_gallocr_buffer_size(const struct svg_gallocr *ga); /* planned peak, bytes */
size_t svg_gallocr_naive_size(const struct svg_gallocr *ga);  /* sum without reuse */
void svg_gallocr_print_plan(const struct svg_gallocr *ga);

/* Allocate (planner) + compute in one call. */
bool svg_backend_graph_run(struct svg_backend *be, struct svg_gallocr *ga, struct svg_graph *g);

/* -------------------------------------------------------------------- GGUF */

enum svg_gguf_type {
    SVG_GGUF_UINT8 = 0,
    SVG_GGUF_INT8 = 1,
    SVG_GGUF_UINT16 = 2,
    SVG_GGUF_INT16 = 3,
    SVG_GGUF_UINT32 = 4,
    SVG_GGUF_INT32 = 5,
    SVG_GGUF_FLOAT32 = 6,
    SVG_GGUF_BOOL = 7,
    SVG_GGUF_STRING = 8,
    SVG_GGUF_ARRAY = 9,
    SVG_GGUF_UINT64 = 10,
    SVG_GGUF_INT64 = 11,
    SVG_GGUF_FLOAT64 = 12,
    SVG_GGUF_TYPE_COUNT,
};

struct svg_gguf;

/* Open a GGUF v2/v3 file (memory-mapped). Validates the whole header,
 * metadata and tensor table; NULL + svg_last_error() on any problem.
 * Tensor names are at most 63 bytes; up to SVG_MAX_DIMS dims are accepted
 * (other GGUF tools stop at 4). Getters given a bad index or a kv of another
 * type set an error and return 0 / NULL / SVG_GGUF_TYPE_COUNT / SVG_TYPE_COUNT. */
struct svg_gguf *svg_gguf_open(const char *path);
/* Parse from memory (the bytes must outlive the handle). */
struct svg_gguf *svg_gguf_open_memory(const void *data, size_t size);
void svg_gguf_free(struct svg_gguf *f);

uint32_t svg_gguf_version(const struct svg_gguf *f);
size_t svg_gguf_alignment(const struct svg_gguf *f);
size_t svg_gguf_data_offset(const struct svg_gguf *f);

int64_t svg_gguf_n_kv(const struct svg_gguf *f);
int64_t svg_gguf_find_key(const struct svg_gguf *f, const char *key); /* -1 if absent */
const char *svg_gguf_key(const struct svg_gguf *f, int64_t i);
enum svg_gguf_type svg_gguf_kv_type(const struct svg_gguf *f, int64_t i);
/* scalar getters; the kv must have exactly that type */
uint8_t svg_gguf_get_u8(const struct svg_gguf *f, int64_t i);
int8_t svg_gguf_get_i8(const struct svg_gguf *f, int64_t i);
uint16_t svg_gguf_get_u16(const struct svg_gguf *f, int64_t i);
int16_t svg_gguf_get_i16(const struct svg_gguf *f, int64_t i);
uint32_t svg_gguf_get_u32(const struct svg_gguf *f, int64_t i);
int32_t svg_gguf_get_i32(const struct svg_gguf *f, int64_t i);
uint64_t svg_gguf_get_u64(const struct svg_gguf *f, int64_t i);
int64_t svg_gguf_get_i64(const struct svg_gguf *f, int64_t i);
float svg_gguf_get_f32(const struct svg_gguf *f, int64_t i);
double svg_gguf_get_f64(const struct svg_gguf *f, int64_t i);
bool svg_gguf_get_bool(const struct svg_gguf *f, int64_t i);
const char *svg_gguf_get_str(const struct svg_gguf *f, int64_t i); /* NUL-terminated copy */
/* arrays */
enum svg_gguf_type svg_gguf_arr_type(const struct svg_gguf *f, int64_t i);
int64_t svg_gguf_arr_n(const struct svg_gguf *f, int64_t i);
const void *svg_gguf_arr_data(const struct svg_gguf *f, int64_t i); /* non-string arrays */
const char *svg_gguf_arr_str(const struct svg_gguf *f, int64_t i, int64_t j);
/* typed lookups by key with conversion between integer widths; false if the
 * key is missing or not numeric */
bool svg_gguf_get_int(const struct svg_gguf *f, const char *key, int64_t *out);
bool svg_gguf_get_float(const struct svg_gguf *f, const char *key, double *out);
const char *svg_gguf_get_string(const struct svg_gguf *f, const char *key); /* NULL if absent */

int64_t svg_gguf_n_tensors(const struct svg_gguf *f);
int64_t svg_gguf_find_tensor(const struct svg_gguf *f, const char *name);
const char *svg_gguf_tensor_name(const struct svg_gguf *f, int64_t i);
enum svg_type svg_gguf_tensor_type(const struct svg_gguf *f, int64_t i);
int svg_gguf_tensor_n_dims(const struct svg_gguf *f, int64_t i);
/* PyTorch order (outermost first) */
void svg_gguf_tensor_shape(const struct svg_gguf *f, int64_t i, int64_t *ne);
size_t svg_gguf_tensor_offset(const struct svg_gguf *f, int64_t i); /* relative to data section */
size_t svg_gguf_tensor_nbytes(const struct svg_gguf *f, int64_t i);
const void *svg_gguf_tensor_data(const struct svg_gguf *f, int64_t i);

/* Create a tensor of the same name/type/shape in ctx (no data copied). */
struct svg_tensor *svg_gguf_new_tensor(const struct svg_gguf *f, int64_t i,
                                       struct svg_context *ctx);

struct svg_gguf_writer;

struct svg_gguf_writer *svg_gguf_writer_new(void);
void svg_gguf_writer_free(struct svg_gguf_writer *w);
/* general.alignment is written when not 32 */
bool svg_gguf_writer_set_alignment(struct svg_gguf_writer *w, uint32_t alignment);
/* setting an existing key replaces it */
bool svg_gguf_writer_set_u8(struct svg_gguf_writer *w, const char *key, uint8_t v);
bool svg_gguf_writer_set_i8(struct svg_gguf_writer *w, const char *key, int8_t v);
bool svg_gguf_writer_set_u16(struct svg_gguf_writer *w, const char *key, uint16_t v);
bool svg_gguf_writer_set_i16(struct svg_gguf_writer *w, const char *key, int16_t v);
bool svg_gguf_writer_set_u32(struct svg_gguf_writer *w, const char *key, uint32_t v);
bool svg_gguf_writer_set_i32(struct svg_gguf_writer *w, const char *key, int32_t v);
bool svg_gguf_writer_set_u64(struct svg_gguf_writer *w, const char *key, uint64_t v);
bool svg_gguf_writer_set_i64(struct svg_gguf_writer *w, const char *key, int64_t v);
bool svg_gguf_writer_set_f32(struct svg_gguf_writer *w, const char *key, float v);
bool svg_gguf_writer_set_f64(struct svg_gguf_writer *w, const char *key, double v);
bool svg_gguf_writer_set_bool(struct svg_gguf_writer *w, const char *key, bool v);
bool svg_gguf_writer_set_str(struct svg_gguf_writer *w, const char *key, const char *v);
/* array of a non-string scalar type: n elements of that type's size */
bool svg_gguf_writer_set_arr(struct svg_gguf_writer *w, const char *key, enum svg_gguf_type type,
                             const void *data, int64_t n);
bool svg_gguf_writer_set_arr_str(struct svg_gguf_writer *w, const char *key,
                                 const char *const *strs, int64_t n);
/* Add a tensor; its bytes are copied now (ne in PyTorch order). */
bool svg_gguf_writer_add_tensor_data(struct svg_gguf_writer *w, const char *name,
                                     enum svg_type type, int n_dims, const int64_t *ne,
                                     const void *data, size_t size);
/* Add a tensor whose bytes are produced while the file is written:
 * fill(user, dst, size) writes all `size` bytes of it into dst (valid during
 * the call), or returns false with svg_set_error to abort the write (no file
 * is left). Tensors are filled one at a time in the order added, so only the
 * largest is ever in memory: a converter can write files larger than RAM.
 * user must stay valid until svg_gguf_writer_write returns. */
typedef bool (*svg_gguf_fill_fn)(void *user, void *dst, size_t size);
bool svg_gguf_writer_add_tensor_fill(struct svg_gguf_writer *w, const char *name, enum svg_type type,
                                     int n_dims, const int64_t *ne, svg_gguf_fill_fn fill, void *user);
/* Add a contiguous tensor (host or device memory) by name t->name. */
bool svg_gguf_writer_add_tensor(struct svg_gguf_writer *w, const struct svg_tensor *t);
/* Write atomically (temp file + rename). */
bool svg_gguf_writer_write(struct svg_gguf_writer *w, const char *path);

/* ------------------------------------------------------------- safetensors */

struct svg_safetensors;

/* Open a .safetensors file, a sharded *.safetensors.index.json, or a directory
 * (its index.json, else every *.safetensors in it). Memory-mapped. */
struct svg_safetensors *svg_safetensors_open(const char *path);
/* Parse one file from memory (the bytes must outlive the handle). */
struct svg_safetensors *svg_safetensors_open_memory(const void *data, size_t size);
void svg_safetensors_free(struct svg_safetensors *st);

int64_t svg_safetensors_n_tensors(const struct svg_safetensors *st);
int64_t svg_safetensors_find(const struct svg_safetensors *st, const char *name); /* -1 */
const char *svg_safetensors_name(const struct svg_safetensors *st, int64_t i);
/* dtype string as in the file: "F32", "F16", "BF16", "F8_E4M3", "I64", ... */
const char *svg_safetensors_dtype(const struct svg_safetensors *st, int64_t i);
int svg_safetensors_n_dims(const struct svg_safetensors *st, int64_t i);
/* writes n_dims (<= SVG_MAX_DIMS) entries */
void svg_safetensors_shape(const struct svg_safetensors *st, int64_t i, int64_t *ne);
int64_t svg_safetensors_nelements(const struct svg_safetensors *st, int64_t i);
size_t svg_safetensors_nbytes(const struct svg_safetensors *st, int64_t i);
const void *svg_safetensors_data(const struct svg_safetensors *st, int64_t i);
/* __metadata__ value for key, or NULL */
const char *svg_safetensors_metadata(const struct svg_safetensors *st, const char *key);
/* Convert a tensor of any supported dtype (float, integer, BOOL) to f32 (n = nelements). */
bool svg_safetensors_read_f32(const struct svg_safetensors *st, int64_t i, float *out, int64_t n);
/* Integer dtypes and BOOL to i64 (float dtypes are refused). */
bool svg_safetensors_read_i64(const struct svg_safetensors *st, int64_t i, int64_t *out,
                              int64_t n);

/* Write tensors (contiguous; host or device memory) to a .safetensors file
 * under their names, atomically (temp file + rename). Types map to F32, F16,
 * BF16, F64, I64, I32, I16, I8; quantized tensors are refused. */
bool svg_safetensors_write(const char *path, const struct svg_tensor *const *tensors, int64_t n);

/* --------------------------------------------------------- embedding API
 *
 * A model file in, video frames out: the whole prompt → video pipeline
 * (tokenize + text encoder → seeded noise → denoise → VAE decode) behind
 * two opaque handles. svg-run is a thin CLI over these calls. Implemented in
 * the svg-models library (models/svg-api.cpp); link it with svg.
 *
 *   struct svg_model *m = svg_model_load("wan.gguf", NULL);
 *   struct svg_gen_params p = svg_gen_default_params(m);
 *   p.prompt = "a cat surfing a wave";
 *   size_t n = svg_gen_output_size(&p);
 *   uint8_t *rgb = malloc(n);
 *   if (!svg_generate(m, &p, rgb, n, on_progress, NULL)) puts(svg_last_error());
 *   svg_model_free(m);
 *
 * One svg_generate at a time per model (a model holds its backend); errors
 * are reported through svg_last_error() of the calling thread. */

struct svg_model;

struct svg_model_params {
    const char *backend;             /* "cuda", "cpu", or NULL / "auto": CUDA when a device is present, else the CPU */
    const char *dtype;               /* CUDA activations: NULL (bf16), "bf16", "f16", "f32"; the CPU computes in f32 */
    int n_threads;                   /* CPU threads; <= 0: every hardware thread */
    const char *text_encoder_device; /* NULL: the backend; "cpu": the text encoder on the CPU (GPU holds the transformer) */
    bool vae_tiling;                 /* decode in spatial tiles of 256 px (less memory); CogVideoX and HunyuanVideo always do */
    double vram_budget_gib;          /* CUDA: device memory the model may hold at once, GiB; 0: the card's free
                                      * memory at load. Planned per stage before any work (svg_model_memory_plan)
                                      * and never exceeded: past it an allocation fails with an error */
};
struct svg_model_params svg_model_default_params(void);

/* Open a model file (svg-convert output) and check that it holds a whole
 * pipeline: transformer, text encoder, VAE and tokenizer (missing ones are
 * named together); create the backend. Weights are read per stage during
 * svg_generate, each component freed after its stage. params NULL: defaults.
 * NULL + svg_last_error() on failure. */
struct svg_model *svg_model_load(const char *path, const struct svg_model_params *params);
void svg_model_free(struct svg_model *m);
const char *svg_model_backend_name(const struct svg_model *m); /* "CPU", "CUDA0 (…)" */
const char *svg_model_backend_description(const struct svg_model *m); /* svg_backend_description of its backend */
bool svg_model_is_i2v(const struct svg_model *m);              /* an image-to-video model: needs a first frame */
/* The memory plan svg_generate follows for p, one line per stage: where each
 * component runs and its weights against the VRAM budget (a text encoder
 * that does not fit runs on the CPU; under a budget asked for below 24 GiB
 * Wan's VAE decodes in tiles). Weights are not streamed yet: a stage whose
 * weights alone exceed the budget is an error naming them, and svg_generate
 * fails with it before any work. NULL + svg_last_error() then. Valid until
 * the next call on m. */
const char *svg_model_memory_plan(struct svg_model *m, const struct svg_gen_params *p);

/* Flow-matching models (Wan): UniPC, Euler. DDPM models (CogVideoX): DDIM, DPM. */
enum svg_sampler { SVG_SAMPLER_UNIPC = 0, SVG_SAMPLER_EULER = 1, SVG_SAMPLER_DDIM = 2, SVG_SAMPLER_DPM = 3 };

struct svg_gen_params {
    const char *prompt;
    const char *negative_prompt; /* NULL: the release's default negative prompt (CogVideoX: "") */
    int width, height;           /* multiples of 16 */
    int frames;                  /* 4k + 1 (CogVideoX 1.5: 8k + 1) */
    int steps;
    float cfg;                   /* classifier-free guidance; <= 1: off (no negative prompt pass) */
    float embedded_cfg;          /* guidance-distilled models (HunyuanVideo): the guidance the transformer
                                  * is given (one forward per step); cfg is then true CFG, off by default */
    float shift;                 /* flow shift (flow-matching models) */
    enum svg_sampler sampler;
    uint64_t seed;               /* noise drawn on the CPU: the same video on every backend */
    /* I2V first frame: image_height × image_width × 3 RGB bytes (resized to
     * width × height as the reference pipeline does); NULL for T2V */
    const uint8_t *image;
    int image_width, image_height;
    int fps;                     /* frames per second the model was made for (for the caller's file) */
    /* Sparse VideoGen in the transformer's self-attention (see above): on/off,
     * target density, profiled rows per head, and the shares of steps and of
     * layers that stay dense (the first floor(share · count)); a negative
     * share: the model's default for the video size (svg.sparse.* metadata) */
    bool svg;
    float svg_density;
    int svg_rows;
    float svg_dense_steps, svg_dense_layers;
    bool svg_stats; /* count each layer's head decisions (svg_model_sparse_stats); costs a sync per forward */
};
/* Defaults from the model file's metadata (svg.gen.*, svg.sparse.*, written by
 * svg-convert), else Wan 2.1's: 832×480, 81 frames, 50 steps, cfg 5.0, 16
 * fps, the flow shift of the converted scheduler config (else 3.0), UniPC,
 * seed 42, the release's negative prompt; prompt "" and no image. CogVideoX
 * 1.5 files: 1360×768, 81 frames, 50 steps, cfg 6.0, the sampler of its
 * scheduler config (DDIM or DPM), negative prompt "". HunyuanVideo files:
 * 1280×720, 129 frames, 50 steps, embedded guidance 6 with cfg 1 (off),
 * Euler with the scheduler's shift (7), 24 fps, negative prompt "". Sparse
 * VideoGen on at density 0.3 with 64 rows; dense shares -1: for Wan 2.1 the
 * first 25% of steps and 2.5% of layers below 1280×720 pixels, 20% and 3%
 * from there (the paper's Wan 2.1 settings); CogVideoX and HunyuanVideo the
 * first 25% of steps and no dense layers (the paper's settings for them). */
struct svg_gen_params svg_gen_default_params(const struct svg_model *m);

/* Bytes of the frames p produces: frames × height × width × 3; 0 + error when
 * p's sizes are invalid. */
size_t svg_gen_output_size(const struct svg_gen_params *p);

/* Progress: each stage reports step 0 when it starts and step == total when it
 * ends, with steps in between (denoise: sampler steps; decode: VAE chunks,
 * one per latent frame and tile; text: prompts encoded). Return false to
 * cancel: svg_generate then stops at the next step or chunk and returns false
 * with a "cancelled" error. */
enum svg_stage { SVG_STAGE_TEXT_ENCODE, SVG_STAGE_IMAGE_ENCODE, SVG_STAGE_DENOISE, SVG_STAGE_DECODE };
typedef bool (*svg_progress_cb)(enum svg_stage stage, int step, int total, void *user);
const char *svg_stage_name(enum svg_stage stage); /* "text_encode", "image_encode", "denoise", "decode" */

/* Generate into the caller's buffer: frames × height × width × 3 RGB bytes,
 * frames first, rows top to bottom (frames_size >= svg_gen_output_size(p)).
 * Nothing is written to frames unless the whole pipeline succeeds. cb may be
 * NULL. false + svg_last_error() on invalid parameters, failure, or
 * cancellation. */
bool svg_generate(struct svg_model *m, const struct svg_gen_params *p, uint8_t *frames, size_t frames_size,
                  svg_progress_cb cb, void *user);

/* Numbers of the running or last svg_generate (filled as stages finish, so
 * readable from the progress callback). */
struct svg_gen_stats {
    int prompt_tokens, negative_tokens; /* negative: 0 without guidance */
    int image_tokens;                   /* I2V: CLIP tokens */
    double text_encode_s, image_encode_s, denoise_s, decode_s, total_s;
    size_t peak_device_bytes; /* CUDA: peak memory of the backend since load; 0 on the CPU */
};
const struct svg_gen_stats *svg_model_stats(const struct svg_model *m);

/* Sparse VideoGen per transformer layer, from the last svg_generate with
 * svg_stats: heads decided spatial / temporal, summed over the sparse
 * forwards (steps, guidance passes, batch items), and the share of
 * query-key pairs the layer computed over all forwards (1 for a layer or a
 * step kept dense). Returns the number of layers (*layers points to that
 * many, valid until the next svg_generate); 0 when none were collected. */
struct svg_sparse_layer_stats {
    int64_t spatial, temporal;
    double density;
};
int svg_model_sparse_stats(const struct svg_model *m, const struct svg_sparse_layer_stats **layers);

#ifdef __cplusplus
}
#endif

#endif /* SVG_H */
