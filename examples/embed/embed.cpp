// The embedding API in a few lines: load a model file, generate a short clip
// into our own buffer with a progress callback, print the mean pixel value.
//
//   embed MODEL.gguf ["prompt"] [steps]
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "svg.h"

static bool on_progress(enum svg_stage stage, int step, int total, void *user) {
    fprintf(stderr, "\r%-12s %d/%d ", svg_stage_name(stage), step, total);
    if (step == total) fputc('\n', stderr);
    return true;  // false would cancel the generation
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: embed MODEL.gguf [\"prompt\"] [steps]\n");
        return 2;
    }
    svg_model_params mp = svg_model_default_params();  // backend: CUDA when present, else CPU
    svg_model *m = svg_model_load(argv[1], &mp);
    if (!m) return fprintf(stderr, "embed: %s\n", svg_last_error()), 1;

    svg_gen_params p = svg_gen_default_params(m);  // the model's defaults
    p.prompt = argc > 2 ? argv[2] : "a cat surfing a wave";
    p.steps = argc > 3 ? atoi(argv[3]) : 4;
    p.width = 64, p.height = 64, p.frames = 5;

    std::vector<uint8_t> frames(svg_gen_output_size(&p));  // frames × height × width × RGB
    if (frames.empty() || !svg_generate(m, &p, frames.data(), frames.size(), on_progress, nullptr)) {
        fprintf(stderr, "embed: %s\n", svg_last_error());
        svg_model_free(m);
        return 1;
    }
    double sum = 0;
    for (uint8_t v : frames) sum += v;
    const svg_gen_stats *st = svg_model_stats(m);
    printf("%d frames %dx%d on %s, mean pixel %.2f, denoise %.2f s, decode %.2f s\n", p.frames, p.width, p.height,
           svg_model_backend_name(m), sum / frames.size(), st->denoise_s, st->decode_s);
    svg_model_free(m);
    return 0;
}
