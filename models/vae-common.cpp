// Shared video-VAE machinery (models/vae-common.h): the frame cache, chunk
// runs, tiling and host tensor helpers.
#include "models/vae-common.h"

#include <algorithm>
#include <cstring>

#include "src/svg-impl.h"

namespace {

int64_t numel(const std::vector<int64_t> &shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

// Copy n = (frames, rows, columns) from src at s0 to dst at d0 (both
// [B, C, T, H, W] with the same B and C).
void copy_box(const vae_tensor &src, const int64_t s0[3], vae_tensor *dst, const int64_t d0[3], const int64_t n[3]) {
    const int64_t planes = src.shape[0] * src.shape[1];
    const int64_t sT = src.shape[2], sH = src.shape[3], sW = src.shape[4];
    const int64_t dT = dst->shape[2], dH = dst->shape[3], dW = dst->shape[4];
    for (int64_t p = 0; p < planes; p++)
        for (int64_t t = 0; t < n[0]; t++)
            for (int64_t h = 0; h < n[1]; h++)
                memcpy(&dst->data[(size_t)(((p * dT + d0[0] + t) * dH + d0[1] + h) * dW + d0[2])],
                       &src.data[(size_t)(((p * sT + s0[0] + t) * sH + s0[1] + h) * sW + s0[2])], (size_t)n[2] * sizeof(float));
}

}  // namespace

svg_tensor *vae_conv(svg_context *ctx, svg_tensor *x, svg_tensor *w, svg_tensor *b, const int stride[3], const int pad[6]) {
    if (w && w->n_dims == 4) {
        const int64_t ne[5] = {w->ne[0], w->ne[1], 1, w->ne[2], w->ne[3]};
        w = svg_reshape(ctx, w, 5, ne);
    }
    return svg_conv3d(ctx, x, w, b, stride, pad);
}

bool vae_check_video(const vae_tensor &x, int64_t channels, const char *what) {
    bool ok = x.shape.size() == 5 && x.shape[1] == channels && (int64_t)x.data.size() == numel(x.shape);
    for (size_t i = 0; ok && i < 5; i++) ok = x.shape[i] > 0;
    if (!ok)
        return svg_err(false, "vae: %s must be [B, %lld, T, H, W] with its values (got %zu dims, %zu values)", what,
                       (long long)channels, x.shape.size(), x.data.size());
    return true;
}

vae_tensor vae_zeros(std::vector<int64_t> shape) {
    vae_tensor t;
    t.data.assign((size_t)numel(shape), 0.f);
    t.shape = std::move(shape);
    return t;
}

// x[:, :, t0:t1, h0:h1, w0:w1]
vae_tensor vae_crop(const vae_tensor &x, int64_t t0, int64_t t1, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
    vae_tensor out = vae_zeros({x.shape[0], x.shape[1], t1 - t0, h1 - h0, w1 - w0});
    const int64_t from[3] = {t0, h0, w0}, at[3] = {0, 0, 0}, n[3] = {t1 - t0, h1 - h0, w1 - w0};
    copy_box(x, from, &out, at, n);
    return out;
}

void vae_clamp(std::vector<float> *v, float lo, float hi) {
    for (float &x : *v) x = std::min(std::max(x, lo), hi);
}

void vae_blend(const vae_tensor &a, vae_tensor *b, int64_t extent, int axis) {
    extent = std::min({a.shape[axis], b->shape[axis], extent});
    // b as [outer, n, inner] around the axis; a has the same outer and inner
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= b->shape[d];
    for (int d = axis + 1; d < 5; d++) inner *= b->shape[d];
    const int64_t na = a.shape[axis], nb = b->shape[axis];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < extent; i++) {
            const float wa = (float)(1.0 - (double)i / extent), wb = (float)((double)i / extent);
            const float *ap = &a.data[(size_t)((o * na + na - extent + i) * inner)];
            float *bp = &b->data[(size_t)((o * nb + i) * inner)];
            for (int64_t x = 0; x < inner; x++) bp[x] = ap[x] * wa + bp[x] * wb;
        }
}

vae_tensor vae_cat_frames(const std::vector<vae_tensor> &parts) {
    std::vector<int64_t> shape = parts[0].shape;
    shape[2] = 0;
    for (const vae_tensor &p : parts) shape[2] += p.shape[2];
    vae_tensor out = vae_zeros(shape);
    int64_t t = 0;
    for (const vae_tensor &p : parts) {
        const int64_t from[3] = {0, 0, 0}, at[3] = {t, 0, 0}, n[3] = {p.shape[2], shape[3], shape[4]};
        copy_box(p, from, &out, at, n);
        t += p.shape[2];
    }
    return out;
}


bool vae_run_chunks(svg_backend *be, const vae_tensor &x, const std::vector<int64_t> &bounds, const vae_chunk_builder &build,
                    vae_tensor *out, const char *what, const std::function<bool()> &chunk_done) {
    vae_frame_cache cache(be);
    svg_gallocr *ga = svg_gallocr_new(be);
    std::vector<vae_tensor> parts;
    bool ok = true;
    for (size_t c = 0; ok && c + 1 < bounds.size(); c++) {
        const vae_tensor in = vae_crop(x, bounds[c], bounds[c + 1], 0, x.shape[3], 0, x.shape[4]);
        svg_context *ctx = svg_context_new(true);
        svg_tensor *xin = svg_new_tensor(ctx, SVG_TYPE_F32, 5, in.shape.data());
        svg_set_input(xin);
        svg_tensor *y = build(ctx, xin, &cache);
        svg_set_output(y);
        svg_graph *g = svg_graph_new(ctx);
        ok = y && svg_graph_build(g, y) && cache.finish_build(g) && svg_gallocr_alloc_graph(ga, g) &&
             svg_tensor_set_f32(xin, in.data.data(), (int64_t)in.data.size()) && svg_backend_graph_compute(be, g);
        if (ok) {
            parts.push_back(vae_zeros(std::vector<int64_t>(y->ne, y->ne + 5)));
            ok = svg_tensor_get_f32(y, parts.back().data.data(), svg_nelements(y));
        }
        if (ok) cache.commit();
        svg_graph_free(g);
        svg_context_free(ctx);
        if (!ok) {
            const std::string msg = svg_last_error();
            svg_err(false, "%s: chunk %zu of %zu: %s", what, c + 1, bounds.size() - 1, msg.c_str());
        } else if (chunk_done && !chunk_done()) {
            ok = svg_err(false, "%s: cancelled after chunk %zu of %zu", what, c + 1, bounds.size() - 1);
        }
    }
    svg_gallocr_free(ga);
    if (!ok) return false;
    *out = vae_cat_frames(parts);
    return true;
}


bool vae_decode_tiled(const vae_tensor &z, int64_t f, const vae_tiling &t, int64_t chunks_per_tile, const vae_decode_fn &decode,
                      vae_tensor *video, const vae_progress &progress) {
    if (t.stride_h < f || t.stride_w < f || t.tile_h < t.stride_h || t.tile_w < t.stride_w || t.tile_h % f || t.tile_w % f ||
        t.stride_h % f || t.stride_w % f)
        return svg_err(false, "vae: tiles %lldx%lld every %lldx%lld pixels must be multiples of %lld, no smaller than the strides",
                       (long long)t.tile_h, (long long)t.tile_w, (long long)t.stride_h, (long long)t.stride_w, (long long)f);
    const int64_t H = z.shape[3], Wd = z.shape[4];
    const int64_t tile_h = t.tile_h / f, tile_w = t.tile_w / f, step_h = t.stride_h / f, step_w = t.stride_w / f;
    const int64_t tiles = H <= tile_h && Wd <= tile_w ? 1 : ((H + step_h - 1) / step_h) * ((Wd + step_w - 1) / step_w);
    int64_t done = 0;
    const std::function<bool()> chunk_done = [&] { return progress(++done, tiles * chunks_per_tile); };
    const std::function<bool()> no_progress;
    if (tiles == 1) return decode(z, video, progress ? chunk_done : no_progress);

    // Row by row: a tile is blended with the finished tiles above and to its
    // left (already blended themselves, as the reference blends in place),
    // then its top-left stride × stride pixels are final.
    vae_tensor out;
    std::vector<vae_tensor> above;
    for (int64_t i = 0; i < H; i += step_h) {
        std::vector<vae_tensor> row;
        for (int64_t j = 0; j < Wd; j += step_w) {
            vae_tensor tile;
            if (!decode(vae_crop(z, 0, z.shape[2], i, std::min(i + tile_h, H), j, std::min(j + tile_w, Wd)), &tile,
                        progress ? chunk_done : no_progress))
                return false;
            if (i > 0) vae_blend(above[row.size()], &tile, t.tile_h - t.stride_h, 3);
            if (j > 0) vae_blend(row.back(), &tile, t.tile_w - t.stride_w, 4);
            if (out.data.empty()) out = vae_zeros({tile.shape[0], tile.shape[1], tile.shape[2], H * f, Wd * f});
            const int64_t from[3] = {0, 0, 0}, at[3] = {0, i * f, j * f};
            const int64_t n[3] = {tile.shape[2], std::min(t.stride_h, tile.shape[3]), std::min(t.stride_w, tile.shape[4])};
            copy_box(tile, from, &out, at, n);
            row.push_back(std::move(tile));
        }
        above = std::move(row);
    }
    *video = std::move(out);
    return true;
}

void vae_split_moments(const vae_tensor &h, vae_tensor *mean, vae_tensor *logvar) {
    std::vector<int64_t> shape = h.shape;
    shape[1] /= 2;
    *mean = vae_zeros(shape);
    *logvar = vae_zeros(shape);
    const size_t half = mean->data.size() / (size_t)shape[0];
    for (int64_t b = 0; b < shape[0]; b++) {
        const float *src = &h.data[2 * half * (size_t)b];
        std::copy(src, src + half, &mean->data[half * (size_t)b]);
        std::copy(src + half, src + 2 * half, &logvar->data[half * (size_t)b]);
    }
    vae_clamp(&logvar->data, -30.f, 20.f);
}

vae_frame_cache::vae_frame_cache(svg_backend *be) : be_(be), ctx_(svg_context_new(true)) {}

vae_frame_cache::~vae_frame_cache() {
    for (svg_buffer *b : bufs_) svg_buffer_free(b);
    svg_context_free(ctx_);
}

svg_tensor *vae_frame_cache::frames(const std::string &key) const {
    const auto it = entries_.find(key);
    return it != entries_.end() && it->second.cur >= 0 ? it->second.t[it->second.cur] : nullptr;
}

svg_tensor *vae_frame_cache::keep(svg_context *ctx, const std::string &key, svg_tensor *stream, int64_t n) {
    if (!stream) return nullptr;
    const int64_t len = stream->ne[2];
    svg_tensor *node = svg_cont(ctx, svg_slice(ctx, stream, 2, len - n, len, 1));
    if (!node) return nullptr;
    entry &e = entries_[key];
    if (!e.t[0]) {
        for (svg_tensor *&t : e.t)
            if (!(t = svg_new_tensor(ctx_, node->type, node->n_dims, node->ne))) return nullptr;
    } else if (!svg_same_shape(e.t[0], node)) {
        return svg_err<svg_tensor *>(nullptr, "vae: cached frames of %s change shape from %s to %s", key.c_str(),
                            svg_shape_string(e.t[0]).c_str(), svg_shape_string(node).c_str());
    }
    writes_.push_back({node, &e, e.cur < 0 ? 0 : 1 - e.cur});
    return stream;
}

bool vae_frame_cache::finish_build(svg_graph *g) {
    bool fresh = false;
    for (const write &w : writes_) {
        if (!svg_graph_build(g, w.node)) return false;
        fresh = fresh || !w.e->t[w.target]->data;
    }
    if (fresh) {
        svg_buffer *b = svg_backend_alloc_ctx_tensors(ctx_, be_);
        if (!b) return false;
        bufs_.push_back(b);
    }
    // svg.h has no copy-into op: the copy nodes get the entries' memory as
    // their own, and the planner leaves tensors that have memory alone
    for (const write &w : writes_) {
        const svg_tensor *dst = w.e->t[w.target];
        w.node->data = dst->data;
        w.node->buffer = dst->buffer;
    }
    return true;
}

void vae_frame_cache::commit() {
    for (const write &w : writes_) w.e->cur = w.target;
    writes_.clear();
    chunks_++;
}

