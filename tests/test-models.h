// Model files for the model and pipeline suites: a converted file removed
// when the test ends, and the tiny golden pipeline in one file.
#pragma once

#include <unistd.h>

#include <string>

#include "convert/convert.h"
#include "svg.h"

namespace svgtest {

// A converted model file, removed at the end of the test.
struct model_file {
    std::string path;
    svg_gguf *f = nullptr;
    ~model_file() {
        if (f) svg_gguf_free(f);
        unlink(path.c_str());
    }
};

// The golden transformer `dit` (wan_t2v / wan_i2v) with the golden umT5, VAE
// and the test tokenizer, converted into `out`.
inline bool convert_tiny_pipeline(const std::string &dit, const std::string &out) {
    const std::string data = SVG_TEST_DATA;
    svg_convert_options opt;
    svg_convert_source t, te, v;
    t.path = data + "/goldens/" + dit + "/transformer";
    te.component = "text_encoder";
    te.path = data + "/goldens/umt5_encoder/text_encoder";
    v.component = "vae";
    v.path = data + "/goldens/wan_vae/vae";
    opt.sources = {t, te, v};
    opt.tokenizer_path = data + "/tokenizer_spm/spm_unigram.model";
    opt.output = out;
    return svg_convert(opt);
}

}  // namespace svgtest
