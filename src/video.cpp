// Video output (src/video.h). The AVI writer lays out
//   RIFF 'AVI ' { LIST 'hdrl' { avih, LIST 'strl' { strh, strf } },
//                 LIST 'movi' { '00dc' JPEG chunks }, idx1 }
// with one Motion-JPEG video stream and a key-frame index, which every
// common player reads.
#include "video.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "svg-impl.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace fs = std::filesystem;

namespace {

void put32(std::vector<uint8_t> &b, uint32_t v) {
    for (int i = 0; i < 4; i++) b.push_back((uint8_t)(v >> (8 * i)));
}
void put16(std::vector<uint8_t> &b, uint16_t v) {
    b.push_back((uint8_t)v);
    b.push_back((uint8_t)(v >> 8));
}
void fourcc(std::vector<uint8_t> &b, const char *c) { b.insert(b.end(), c, c + 4); }
void patch32(std::vector<uint8_t> &b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) b[at + i] = (uint8_t)(v >> (8 * i));
}
// Opens a chunk: writes id + size placeholder, returns the size offset.
size_t open_chunk(std::vector<uint8_t> &b, const char *id) {
    fourcc(b, id);
    put32(b, 0);
    return b.size() - 4;
}
void close_chunk(std::vector<uint8_t> &b, size_t size_at) {
    patch32(b, size_at, (uint32_t)(b.size() - size_at - 4));
    if (b.size() & 1) b.push_back(0);  // chunks are word aligned
}

void jpeg_sink(void *ctx, void *data, int size) {
    auto *v = (std::vector<uint8_t> *)ctx;
    v->insert(v->end(), (uint8_t *)data, (uint8_t *)data + size);
}

bool write_file_atomic(const std::string &path, const std::vector<uint8_t> &bytes) {
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    FILE *f = fopen(tmp.c_str(), "wb");
    if (!f) return svg_err(false, "cannot create '%s'", tmp.c_str());
    bool ok = fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
        unlink(tmp.c_str());
        return svg_err(false, "writing '%s' failed", path.c_str());
    }
    return true;
}

bool write_avi(const std::string &path, const uint8_t *rgb, int n, int h, int w, int fps, int quality) {
    std::vector<std::vector<uint8_t>> jpegs((size_t)n);
    size_t max_frame = 0;
    for (int i = 0; i < n; i++) {
        if (!stbi_write_jpg_to_func(jpeg_sink, &jpegs[(size_t)i], w, h, 3, rgb + (size_t)i * h * w * 3, quality))
            return svg_err(false, "JPEG encoding of frame %d failed", i);
        max_frame = std::max(max_frame, jpegs[(size_t)i].size());
    }
    std::vector<uint8_t> b;
    const size_t riff = open_chunk(b, "RIFF");
    fourcc(b, "AVI ");
    const size_t hdrl = open_chunk(b, "LIST");
    fourcc(b, "hdrl");
    const size_t avih = open_chunk(b, "avih");
    put32(b, (uint32_t)(1000000 / fps));        // µs per frame
    put32(b, (uint32_t)(max_frame * fps));      // max bytes per second
    put32(b, 0);                                // padding granularity
    put32(b, 0x10);                             // AVIF_HASINDEX
    put32(b, (uint32_t)n);                      // total frames
    put32(b, 0);                                // initial frames
    put32(b, 1);                                // streams
    put32(b, (uint32_t)max_frame);              // suggested buffer size
    put32(b, (uint32_t)w);
    put32(b, (uint32_t)h);
    for (int i = 0; i < 4; i++) put32(b, 0);    // reserved
    close_chunk(b, avih);
    const size_t strl = open_chunk(b, "LIST");
    fourcc(b, "strl");
    const size_t strh = open_chunk(b, "strh");
    fourcc(b, "vids");
    fourcc(b, "MJPG");
    put32(b, 0);                                // flags
    put16(b, 0);                                // priority
    put16(b, 0);                                // language
    put32(b, 0);                                // initial frames
    put32(b, 1);                                // scale
    put32(b, (uint32_t)fps);                    // rate: fps = rate / scale
    put32(b, 0);                                // start
    put32(b, (uint32_t)n);                      // length
    put32(b, (uint32_t)max_frame);              // suggested buffer size
    put32(b, 0xFFFFFFFFu);                      // quality: default
    put32(b, 0);                                // sample size: variable
    put16(b, 0), put16(b, 0), put16(b, (uint16_t)w), put16(b, (uint16_t)h);  // frame rectangle
    close_chunk(b, strh);
    const size_t strf = open_chunk(b, "strf");  // BITMAPINFOHEADER
    put32(b, 40);
    put32(b, (uint32_t)w);
    put32(b, (uint32_t)h);
    put16(b, 1);                                // planes
    put16(b, 24);                               // bits per pixel
    fourcc(b, "MJPG");
    put32(b, (uint32_t)(w * h * 3));
    for (int i = 0; i < 4; i++) put32(b, 0);
    close_chunk(b, strf);
    close_chunk(b, strl);
    close_chunk(b, hdrl);
    const size_t movi = open_chunk(b, "LIST");
    const size_t movi_fourcc = b.size();
    fourcc(b, "movi");
    std::vector<std::pair<uint32_t, uint32_t>> index;  // offset from 'movi', size
    for (const auto &j : jpegs) {
        index.push_back({(uint32_t)(b.size() - movi_fourcc), (uint32_t)j.size()});
        const size_t c = open_chunk(b, "00dc");
        b.insert(b.end(), j.begin(), j.end());
        close_chunk(b, c);
    }
    close_chunk(b, movi);
    const size_t idx = open_chunk(b, "idx1");
    for (const auto &e : index) {
        fourcc(b, "00dc");
        put32(b, 0x10);  // AVIIF_KEYFRAME
        put32(b, e.first);
        put32(b, e.second);
    }
    close_chunk(b, idx);
    close_chunk(b, riff);
    if (b.size() > 0xFFFFFFF0u) return svg_err(false, "video too large for an AVI file (%zu bytes); write .mp4 instead", b.size());
    return write_file_atomic(path, b);
}

bool write_png_folder(const std::string &dir, const uint8_t *rgb, int n, int h, int w) {
    const std::string final_dir = dir.back() == '/' ? dir.substr(0, dir.size() - 1) : dir;
    const std::string tmp = final_dir + ".tmp." + std::to_string(getpid());
    std::error_code ec;
    fs::remove_all(tmp, ec);
    if (!fs::create_directories(tmp, ec)) return svg_err(false, "cannot create folder '%s'", tmp.c_str());
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "/frame_%05d.png", i);
        if (!stbi_write_png((tmp + name).c_str(), w, h, 3, rgb + (size_t)i * h * w * 3, w * 3)) {
            fs::remove_all(tmp, ec);
            return svg_err(false, "writing PNG frame %d into '%s' failed", i, tmp.c_str());
        }
    }
    if (fs::exists(final_dir)) fs::remove_all(final_dir, ec);
    fs::rename(tmp, final_dir, ec);
    if (ec) return svg_err(false, "cannot move frames into '%s': %s", final_dir.c_str(), ec.message().c_str());
    return true;
}

bool on_path(const char *prog) {
    const char *path = getenv("PATH");
    if (!path) return false;
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
        const size_t end = p.find(':', start);
        const std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!dir.empty() && access((dir + "/" + prog).c_str(), X_OK) == 0) return true;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return false;
}

bool write_ffmpeg(const std::string &path, const std::string &ext, const uint8_t *rgb, int n, int h, int w, int fps) {
    if (!on_path("ffmpeg")) return svg_err(false, "writing %s needs ffmpeg on PATH (not found); use .avi or a PNG folder instead", ext.c_str());
    const std::string tmp = path + ".tmp." + std::to_string(getpid()) + ext;
    const std::string codec = ext == ".webm" ? "-c:v libvpx-vp9 -b:v 0 -crf 30" : "-c:v libx264 -crf 18 -pix_fmt yuv420p";
    auto quote = [](const std::string &s) {
        std::string q = "'";
        for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
        return q + "'";
    };
    const std::string cmd = "ffmpeg -loglevel error -y -f rawvideo -pix_fmt rgb24 -s " + std::to_string(w) + "x" + std::to_string(h) +
                            " -r " + std::to_string(fps) + " -i - " + codec + " " + quote(tmp);
    FILE *p = popen(cmd.c_str(), "w");
    if (!p) return svg_err(false, "cannot start ffmpeg");
    const size_t bytes = (size_t)n * h * w * 3;
    const bool wrote = fwrite(rgb, 1, bytes, p) == bytes;
    const int rc = pclose(p);
    if (!wrote || rc != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
        unlink(tmp.c_str());
        return svg_err(false, "ffmpeg failed writing '%s' (exit status %d)", path.c_str(), rc);
    }
    return true;
}

}  // namespace

std::vector<uint8_t> svg_video_to_rgb(const float *video, int n, int h, int w) {
    std::vector<uint8_t> out((size_t)n * h * w * 3);
    for (int f = 0; f < n; f++)
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    const float v = video[(((size_t)f * 3 + c) * h + y) * w + x];
                    const float cl = std::isfinite(v) ? std::min(1.f, std::max(0.f, v)) : 0.f;
                    out[(((size_t)f * h + y) * w + x) * 3 + c] = (uint8_t)std::lround(cl * 255.f);
                }
    return out;
}

bool svg_video_write(const std::string &path, const uint8_t *rgb, int n, int h, int w, int fps, int quality) {
    if (n < 1 || h < 1 || w < 1 || h > 65535 || w > 65535) return svg_err(false, "video size %dx%d with %d frames is invalid", w, h, n);
    if (fps < 1 || fps > 1000) return svg_err(false, "fps %d out of range (1..1000)", fps);
    const std::string ext = fs::path(path).extension().string();
    if (ext == ".avi") return write_avi(path, rgb, n, h, w, fps, quality);
    if (ext == ".mp4" || ext == ".webm") return write_ffmpeg(path, ext, rgb, n, h, w, fps);
    if (ext.empty() || path.back() == '/') return write_png_folder(path, rgb, n, h, w);
    return svg_err(false, "unknown video format '%s' (use .avi, .mp4, .webm, or a folder for PNG frames)", ext.c_str());
}
