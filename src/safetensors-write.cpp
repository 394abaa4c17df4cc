// safetensors writer: header JSON (nlohmann) + raw bytes, written to a temp
// file and renamed into place.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "svg-impl.h"

namespace {

const char *st_dtype(enum svg_type t) {
    switch (t) {
        case SVG_TYPE_F32: return "F32";
        case SVG_TYPE_F16: return "F16";
        case SVG_TYPE_BF16: return "BF16";
        case SVG_TYPE_F64: return "F64";
        case SVG_TYPE_I64: return "I64";
        case SVG_TYPE_I32: return "I32";
        case SVG_TYPE_I16: return "I16";
        case SVG_TYPE_I8: return "I8";
        default: return nullptr;
    }
}

}  // namespace

extern "C" bool svg_safetensors_write(const char *path, const struct svg_tensor *const *tensors, int64_t n) {
    nlohmann::json header = nlohmann::json::object();
    std::set<std::string> names;
    size_t offset = 0;
    for (int64_t i = 0; i < n; i++) {
        const svg_tensor *t = tensors[i];
        if (!t) return svg_err(false, "safetensors write: tensor %lld is NULL", (long long)i);
        const char *dt = st_dtype(t->type);
        if (!dt) return svg_err(false, "safetensors write: '%s' has type %s, not storable", t->name, svg_type_name(t->type));
        if (!t->name[0] || !names.insert(t->name).second) return svg_err(false, "safetensors write: tensor names must be unique and non-empty ('%s')", t->name);
        if (!svg_is_contiguous(t)) return svg_err(false, "safetensors write: '%s' is not contiguous", t->name);
        std::vector<int64_t> shape(t->ne, t->ne + t->n_dims);
        const size_t bytes = svg_nbytes(t);
        header[t->name] = {{"dtype", dt}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string js = header.dump();
    while ((js.size() + 8) % 8) js += ' ';  // keep the data 8-byte aligned
    const std::string tmp = std::string(path) + ".tmp." + std::to_string(getpid());
    FILE *fp = fopen(tmp.c_str(), "wb");
    if (!fp) return svg_err(false, "safetensors write: cannot create '%s'", tmp.c_str());
    const uint64_t hlen = js.size();
    bool ok = fwrite(&hlen, 8, 1, fp) == 1 && fwrite(js.data(), 1, js.size(), fp) == js.size();
    std::vector<char> buf;
    for (int64_t i = 0; ok && i < n; i++) {
        buf.resize(svg_nbytes(tensors[i]));
        ok = svg_tensor_get(tensors[i], buf.data(), 0, buf.size()) && fwrite(buf.data(), 1, buf.size(), fp) == buf.size();
    }
    ok = (fflush(fp) == 0) && ok;
    ok = (fsync(fileno(fp)) == 0) && ok;
    ok = (fclose(fp) == 0) && ok;
    if (!ok || rename(tmp.c_str(), path) != 0) {
        unlink(tmp.c_str());
        return svg_err(false, "safetensors write: writing '%s' failed", path);
    }
    return true;
}
