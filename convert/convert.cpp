// The converter: resolve each source (folder, pipeline folder, single file),
// name its tensors the diffusers way, check them against the architecture's
// parameter list for the config, and write one GGUF (models/model-file.h).
#include "convert/convert.h"
#include "models/model-file.h"
#include "convert/checkpoint.h"
#include "src/bpe.h"
#include "src/parallel.h"
#include "src/quants-k.h"
#include "src/tokenizer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <utility>

#include "src/svg-impl.h"


namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Every class the converter knows; a config's _class_name picks one, a
// checkpoint without config is matched by its tensor names.
// Where two classes read the same names, the first is what a file without
// config becomes (LlamaModel; CLIPTextModel, which drops a projection).
const svg_convert_arch *const k_archs[] = {&svg_convert_arch_wan,          &svg_convert_arch_umt5,
                                           &svg_convert_arch_t5,           &svg_convert_arch_wan_vae,
                                           &svg_convert_arch_clip_vision,  &svg_convert_arch_clip_vision_projection,
                                           &svg_convert_arch_clip_text,    &svg_convert_arch_clip_text_projection,
                                           &svg_convert_arch_llama,        &svg_convert_arch_llama_causal_lm,
                                           &svg_convert_arch_cogvideox,    &svg_convert_arch_cogvideox_vae,
                                           &svg_convert_arch_hunyuan,      &svg_convert_arch_hunyuan_vae};

// ComfyUI's full checkpoints nest the diffusion model under this prefix.
const std::string k_comfy_prefix = "model.diffusion_model.";

// How many names an error message lists before "and N more".
constexpr size_t k_list_max = 10;

struct writer_free {
    void operator()(svg_gguf_writer *w) const { svg_gguf_writer_free(w); }
};

// One component, resolved and checked against its parameter list.
struct component {
    std::string name;   // "transformer"
    std::string input;  // what was read, for messages
    const svg_convert_arch *arch = nullptr;
    json config;
    std::string config_from;  // for the log: a path or "inferred from tensor shapes"
    std::string scheme;       // naming scheme of the checkpoint
    std::vector<svg_convert_param> params;
    std::unique_ptr<svg_checkpoint> ck;            // null with random weights
    std::vector<int64_t> src_index;                // per param: its (first) tensor in st
    std::vector<std::vector<svg_convert_rows>> pieces;  // per param: where its rows come from
    std::vector<std::string> dropped;              // checkpoint tensors the network does not use
    svg_type weight_type = SVG_TYPE_F32;           // type of the LINEAR params
    bool own_types = false;  // each LINEAR param keeps its checkpoint type (quantized sources, no --type)
};

// Prefix the current error with where it happened.
bool fail_in(const std::string &where) {
    const std::string msg = svg_last_error();
    return svg_err(false, "%s: %s", where.c_str(), msg.c_str());
}

std::string shape_str(const std::vector<int64_t> &s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

// "a, b, c and 7 more"
std::string name_list(const std::vector<std::string> &names) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < k_list_max; i++) out += (i ? ", " : "") + names[i];
    if (names.size() > k_list_max) out += " and " + std::to_string(names.size() - k_list_max) + " more";
    return out;
}

bool read_json(const std::string &path, json *out) {
    std::ifstream f(path);
    if (!f) return svg_err(false, "cannot read config '%s': %s", path.c_str(), strerror(errno));
    *out = json::parse(f, nullptr, /*allow_exceptions=*/false);
    if (out->is_discarded()) return svg_err(false, "config '%s' is not valid JSON", path.c_str());
    if (!out->is_object()) return svg_err(false, "config '%s' is not a JSON object", path.c_str());
    return true;
}

const svg_convert_arch *arch_by_class(const std::string &cls) {
    for (const svg_convert_arch *a : k_archs)
        if (cls == a->cls) return a;
    return nullptr;
}

std::string known_classes() {
    std::string out;
    for (const svg_convert_arch *a : k_archs) out += std::string(out.empty() ? "" : ", ") + a->cls;
    return out;
}

bool is_weight_type(svg_type t) {
    return t == SVG_TYPE_F32 || t == SVG_TYPE_F16 || t == SVG_TYPE_BF16 || t == SVG_TYPE_Q8_0 || t == SVG_TYPE_Q4_0 || t == SVG_TYPE_Q4_K ||
           t == SVG_TYPE_Q5_K || t == SVG_TYPE_Q6_K;
}

// The stored type of a parameter: only linear weights take the requested
// type, and a block-quantized one only when rows are whole blocks; everything
// else (norms, biases, tables, the patch-embedding conv) stays f32, which
// every kernel accepts and costs little (they are a tiny share of the bytes).
svg_type param_type(const svg_convert_param &p, svg_type weight_type) {
    if (p.kind != SVG_PARAM_LINEAR) return SVG_TYPE_F32;
    if (p.shape.back() % svg_type_traits_of(weight_type)->block_size) return SVG_TYPE_F32;
    return weight_type;
}

// A parameter's checkpoint type when it is one a model file stores (its
// pieces all of it), else f32.
svg_type own_type(const component &c, size_t i) {
    const svg_type t = c.ck->type(c.pieces[i][0].src);
    for (const svg_convert_rows &r : c.pieces[i])
        if (c.ck->type(r.src) != t) return SVG_TYPE_F32;
    return is_weight_type(t) ? t : SVG_TYPE_F32;
}

// A name's numbered block: "transformer_blocks.7.attn.to_v.weight" → stack
// "transformer_blocks." and 7; false outside numbered blocks.
bool block_of(const std::string &name, std::string *stack, int64_t *index) {
    for (size_t i = name.find('.'); i != std::string::npos; i = name.find('.', i + 1)) {
        size_t j = i + 1;
        while (j < name.size() && isdigit((unsigned char)name[j])) j++;
        if (j > i + 1 && j < name.size() && name[j] == '.') {
            *stack = name.substr(0, i + 1);
            *index = std::stoll(name.substr(i + 1, j - i - 1));
            return true;
        }
    }
    return false;
}

// The k-quant mixes (svg_convert_options::mix): the type of param i.
svg_type mix_type(const std::vector<svg_convert_param> &params, size_t i, svg_type base) {
    const svg_convert_param &p = params[i];
    if (p.kind != SVG_PARAM_LINEAR) return SVG_TYPE_F32;
    const int64_t row = p.shape.back();
    if (row % SVG_QK_K) return row % 32 ? SVG_TYPE_F32 : SVG_TYPE_Q8_0;
    std::string stack;
    int64_t b = 0, n = 0;
    if (!block_of(p.name, &stack, &b)) return SVG_TYPE_Q6_K;  // (1)
    for (const svg_convert_param &q : params) {
        std::string s;
        int64_t k;
        if (block_of(q.name, &s, &k) && s == stack) n = std::max(n, k + 1);
    }
    const std::string rest = p.name.substr(p.name.find('.', stack.size()) + 1);
    auto has = [&](const char *part) { return rest.find(part) != std::string::npos; };
    const bool modulation = rest.rfind("norm", 0) == 0 && has(".linear");  // (2)
    if (modulation || b == 0 || b == n - 1) return SVG_TYPE_Q6_K;          // (3)
    const bool value_or_down = has("to_v.") || has("add_v_proj.") || has("v_proj.") || has(".v.") || has("net.2.") ||
                               has("down_proj.") || has("fc2.") || has(".wo.") || has("proj_out.");
    const bool more_bits = b < n / 8 || b >= 7 * n / 8 || (b - n / 8) % 3 == 2;
    return value_or_down && more_bits ? SVG_TYPE_Q6_K : base;  // (4)
}

// ------------------------------------------------------------ resolving

// Open the checkpoint of s; *folder_config: the folder's config.json if any.
bool open_checkpoint(const svg_convert_source &s, component *c, std::string *folder_config) {
    std::error_code ec;
    fs::path p = s.path;
    if (!fs::exists(p, ec)) return svg_err(false, "input '%s' does not exist", s.path.c_str());
    if (fs::is_directory(p, ec)) {
        if (!s.component.empty() && fs::is_directory(p / s.component, ec)) p /= s.component;  // a pipeline folder
        if (fs::is_regular_file(p / "config.json", ec)) *folder_config = (p / "config.json").string();
    }
    c->input = p.string();
    c->ck = svg_checkpoint_open(c->input);
    if (!c->ck) return fail_in("cannot read the checkpoint");
    return true;
}

// Name the checkpoint's tensors the diffusers way and pick the architecture
// when the config did not. *names: per checkpoint tensor, the parameters it
// holds (svg_convert_targets).
bool map_names(component *c, std::vector<std::vector<svg_convert_target>> *names) {
    const int64_t n = c->ck->n_tensors();
    std::vector<std::string> raw((size_t)n);
    for (int64_t i = 0; i < n; i++) {
        raw[i] = c->ck->name(i);
        if (raw[i].rfind(k_comfy_prefix, 0) == 0) raw[i].erase(0, k_comfy_prefix.size());
    }
    std::vector<const svg_convert_arch *> candidates(std::begin(k_archs), std::end(k_archs));
    if (c->arch) candidates = {c->arch};  // named by the config
    c->arch = nullptr;
    std::vector<std::string> mapped;
    std::string why;
    for (const svg_convert_arch *a : candidates) {
        if (a->rename(raw, &mapped, &c->scheme)) {
            c->arch = a;
            break;
        }
        why += std::string(why.empty() ? "" : "; ") + svg_last_error();
    }
    if (!c->arch) return svg_err(false, "unknown architecture: %s", why.c_str());
    names->resize((size_t)n);
    for (int64_t i = 0; i < n; i++) {
        if (mapped[i].empty()) {  // left out (an empty target list)
            c->dropped.push_back(c->ck->name(i));
            continue;
        }
        if (!svg_convert_targets(mapped[i], &(*names)[(size_t)i]))
            return svg_err(false, "tensor '%s': %s", c->ck->name(i), svg_last_error());
    }
    return true;
}

// Every parameter present with the right shape and a float dtype; nothing else.
// A tensor stacking several parameters gives each its rows in order.
bool check_tensors(component *c, const std::vector<std::vector<svg_convert_target>> &names) {
    const svg_checkpoint *st = c->ck.get();
    std::vector<std::string> missing, mismatched;
    std::string first_mismatch;
    std::set<int64_t> used;
    std::map<std::string, size_t> param_of;
    for (size_t i = 0; i < c->params.size(); i++) param_of[c->params[i].name] = i;
    c->pieces.assign(c->params.size(), {});
    auto mismatch = [&](int64_t src, const std::string &param, const std::string &what) {
        if (mismatched.empty()) {
            const std::string name = st->name(src);
            first_mismatch = "'" + name + "'" + (name.find(param) == std::string::npos ? " (" + param + ")" : "") + " " + what;
        }
        mismatched.push_back(param);
    };
    for (size_t src = 0; src < names.size(); src++) {
        const std::vector<svg_convert_target> &targets = names[src];
        if (targets.empty()) continue;  // dropped
        const std::vector<int64_t> shape = st->shape((int64_t)src);
        const bool stacked = targets.size() > 1 || targets[0].parts > 1;
        int64_t row = 0;
        for (const svg_convert_target &t : targets) {
            const auto it = param_of.find(t.name);
            if (it == param_of.end()) continue;  // reported as not part of the model
            used.insert((int64_t)src);
            const svg_convert_param &p = c->params[it->second];
            if (!stacked) {
                if (shape != p.shape) mismatch((int64_t)src, p.name, "has shape " + shape_str(shape) + ", the config expects " + shape_str(p.shape));
                c->pieces[it->second].push_back({(int64_t)src, 0, 0, p.shape.empty() ? 1 : p.shape[0]});
                continue;
            }
            const int64_t rows = p.shape.empty() ? 0 : p.shape[0] / t.parts;
            const std::vector<int64_t> inner(p.shape.begin() + (p.shape.empty() ? 0 : 1), p.shape.end());
            if (rows * t.parts != (p.shape.empty() ? -1 : p.shape[0]) || shape.empty() ||
                std::vector<int64_t>(shape.begin() + 1, shape.end()) != inner) {
                mismatch((int64_t)src, p.name, "has shape " + shape_str(shape) + ", which does not stack parameters of shape " + shape_str(p.shape));
                continue;
            }
            c->pieces[it->second].push_back({(int64_t)src, row, t.part * rows, rows});
            row += rows;
        }
        if (stacked && used.count((int64_t)src) && mismatched.empty() && row != shape[0])
            mismatch((int64_t)src, targets[0].name, "has " + std::to_string(shape[0]) + " rows, the parameters it stacks " + std::to_string(row));
    }
    c->src_index.clear();
    for (size_t i = 0; i < c->params.size(); i++) {
        const svg_convert_param &p = c->params[i];
        std::vector<svg_convert_rows> &pc = c->pieces[i];
        if (pc.empty()) {
            missing.push_back(p.name);
            continue;
        }
        c->src_index.push_back(pc[0].src);
        // the pieces fill every row once
        std::sort(pc.begin(), pc.end(), [](const svg_convert_rows &a, const svg_convert_rows &b) { return a.dst_row < b.dst_row; });
        int64_t next = 0;
        for (const svg_convert_rows &r : pc) {
            if (r.dst_row != next)
                return svg_err(false, "tensors '%s' and '%s' both name '%s'", st->name(pc[0].src),
                               st->name(pc.back().src), p.name.c_str());
            next += r.rows;
        }
    }
    if (!missing.empty())
        return svg_err(false, "%zu tensor%s missing from '%s' (diffusers names): %s", missing.size(),
                       missing.size() > 1 ? "s" : "", c->input.c_str(), name_list(missing).c_str());
    if (!mismatched.empty())
        return svg_err(
            false, "shape mismatch: tensor %s%s", first_mismatch.c_str(),
            mismatched.size() > 1 ? (" (and " + std::to_string(mismatched.size() - 1) + " more)").c_str() : "");
    std::vector<std::string> extra;  // neither dropped nor used
    for (size_t i = 0; i < names.size(); i++)
        if (!names[i].empty() && !used.count((int64_t)i)) extra.push_back(st->name((int64_t)i));
    if (!extra.empty())
        return svg_err(false, "%zu tensor%s of '%s' %s not part of a %s with this config: %s", extra.size(),
                       extra.size() > 1 ? "s" : "", c->input.c_str(), extra.size() > 1 ? "are" : "is", c->arch->cls,
                       name_list(extra).c_str());
    for (int64_t i : c->src_index) {
        if (st->type(i) == SVG_TYPE_COUNT)
            return svg_err(false, "tensor '%s' has dtype %s; supported: F32, F16, BF16 (GGUF: float and quantized types)", st->name(i),
                           st->dtype(i).c_str());
    }
    return true;
}

// The slot c fills: its class's, or the one the source names when that is the
// same kind of slot (numbered ones, "transformer_2", included).
bool resolve_component(const svg_convert_source &s, component *c) {
    const std::string slot = c->arch->component;
    if (s.component.empty()) {
        c->name = slot;
        return true;
    }
    std::string kind = s.component;
    const size_t us = kind.rfind('_');
    if (us != std::string::npos && us + 1 < kind.size() && kind.find_first_not_of("0123456789", us + 1) == std::string::npos)
        kind.erase(us);
    if (kind != slot)
        return svg_err(false, "'%s' holds %s, a %s, not a %s (drop --component to use what it is)", c->input.c_str(),
                       c->arch->cls, slot.c_str(), s.component.c_str());
    c->name = s.component;
    return true;
}

bool prepare(const svg_convert_source &s, bool random, component *c) {
    c->name = s.component;
    std::string config_path = s.config_path, folder_config;
    if (!random && !open_checkpoint(s, c, &folder_config)) return false;
    if (config_path.empty()) config_path = folder_config;
    if (random) c->input = "random weights";

    if (!config_path.empty()) {
        if (!read_json(config_path, &c->config)) return false;
        c->config_from = config_path;
        // transformers' configs name the class in "architectures" instead
        const json *cls = c->config.contains("_class_name") ? &c->config["_class_name"] : nullptr;
        const auto archs = c->config.find("architectures");
        if (!cls && archs != c->config.end() && archs->is_array() && archs->size() == 1) cls = &(*archs)[0];
        if (cls) {
            if (!cls->is_string())
                return svg_err(false, "config '%s': _class_name is not a string", config_path.c_str());
            c->arch = arch_by_class(cls->get<std::string>());
            if (!c->arch)
                return svg_err(false, "unknown architecture '%s' (config _class_name; known: %s)",
                               cls->get<std::string>().c_str(), known_classes().c_str());
        }
    }
    if (random) {
        if (config_path.empty()) return svg_err(false, "random weights need a config.json (--config)");
        if (!c->arch)
            return svg_err(false, "unknown architecture: config '%s' has no _class_name", config_path.c_str());
        c->input = config_path;
        if (!resolve_component(s, c)) return false;
        c->input = "random weights";
        return c->arch->parameters(c->config, &c->params) || fail_in("config '" + config_path + "'");
    }

    std::vector<std::vector<svg_convert_target>> names;
    if (!map_names(c, &names) || !resolve_component(s, c)) return false;
    if (config_path.empty()) {
        svg_shape_map shapes;  // the tensors that are one parameter each
        for (size_t i = 0; i < names.size(); i++) {
            if (names[i].size() != 1 || names[i][0].parts != 1) continue;
            shapes[names[i][0].name] = c->ck->shape((int64_t)i);
        }
        if (!c->arch->infer_config(shapes, &c->config)) return fail_in("'" + c->input + "' has no config.json");
        c->config_from = "inferred from tensor shapes";
    }
    if (!c->arch->parameters(c->config, &c->params)) return fail_in("config (" + c->config_from + ")");
    if (!check_tensors(c, names)) return false;

    // Default weight type: the checkpoint's own, so nothing is rounded; linear
    // weights of mixed types keep f32, exact for all of them.
    std::set<svg_type> types;
    for (size_t i = 0; i < c->params.size(); i++)
        if (c->params[i].kind == SVG_PARAM_LINEAR)
            types.insert(c->ck->type(c->src_index[i]));
    c->weight_type = types.size() == 1 ? *types.begin() : SVG_TYPE_F32;
    // ggml-quantized checkpoints (ComfyUI-GGUF) keep every block as it is:
    // Q4_K_M files mix types by design
    for (svg_type t : types) c->own_types = c->own_types || svg_type_traits_of(t)->is_quantized;
    return true;
}

// ------------------------------------------------------------ tensor data

// Elements per parallel work item: a multiple of every block size, so
// quantized chunks start on a block, and the unit of the random streams.
constexpr int64_t k_chunk = 1 << 16;

uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string &s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
    return h;
}

// N(mean, std²) values of chunk c (elements [c·k_chunk, +len)) of tensor
// `name`. Each chunk has its own stream seeded by (seed, name, chunk), so the
// values depend on neither the thread count nor the order tensors are
// written in.
void random_chunk(uint64_t seed, const std::string &name, int64_t c, int64_t len, float mean, float std, float *out) {
    uint64_t s = (seed ^ fnv1a(name)) + (uint64_t)c * 0xD1B54A32D192ED03ull;
    // Box-Muller: two values per pair of uniforms
    for (int64_t i = 0; i < len; i += 2) {
        const double u1 = ((splitmix64(&s) >> 11) + 1) * 0x1.0p-53;  // (0, 1]
        const double u2 = (splitmix64(&s) >> 11) * 0x1.0p-53;
        const double r = std * std::sqrt(-2 * std::log(u1)), th = 2 * M_PI * u2;
        out[i] = (float)(mean + r * std::cos(th));
        if (i + 1 < len) out[i + 1] = (float)(mean + r * std::sin(th));
    }
}

// Tell the kernel a range of a mapped checkpoint will not be read again, so
// its pages leave this process's resident set (the file stays mapped: a
// later read brings them back). Keeps a large conversion's RSS flat.
void release_pages(const void *p, size_t n) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t b = (uintptr_t)p & ~(page - 1), e = ((uintptr_t)p + n + page - 1) & ~(page - 1);
    if (n) madvise((void *)b, e - b, MADV_DONTNEED);
}

// One parameter of c in type `type`, produced while the file is written
// (svg_gguf_writer_add_tensor_fill), so only one tensor is in memory at a time.
struct param_job {
    const component *c;
    size_t i;
    svg_type type;
    const svg_convert_options *opt;
    int n_threads;
    std::string log_line;
};

bool fill_param(void *user, void *dst, size_t size) {
    const param_job &job = *(const param_job *)user;
    const component &c = *job.c;
    const svg_convert_param &p = c.params[job.i];
    if (job.opt->log) job.opt->log(job.log_line);
    int64_t n = 1;
    for (int64_t d : p.shape) n *= d;
    std::vector<float> values;
    if (job.opt->random) {
        // small values everywhere so nothing is degenerate; norm scales near 1
        // so activations keep their size through the network. Made and
        // converted chunk by chunk on every thread: a 13B model is 10^10 values.
        const svg_type_traits *tr = svg_type_traits_of(job.type);
        const float mean = p.kind == SVG_PARAM_NORM ? 1.f : 0.f;
        svg_parallel_for((n + k_chunk - 1) / k_chunk, job.n_threads, [&](int64_t ch) {
            const int64_t b = ch * k_chunk, len = std::min(n, b + k_chunk) - b;
            std::vector<float> f((size_t)len);
            random_chunk(job.opt->seed ^ fnv1a(c.name), p.name, ch, len, mean, 0.02f, f.data());
            tr->from_float(f.data(), (uint8_t *)dst + b / tr->block_size * tr->type_size, len);
        });
        return true;
    } else if (c.pieces[job.i].size() > 1 || c.ck->nelements(c.pieces[job.i][0].src) != n) {
        // rows stacked in other tensors: each piece's rows copied into place,
        // as stored where the pieces already have the type (quantized rows are
        // whole blocks), else as floats
        const int64_t row_len = p.shape.empty() ? 1 : n / p.shape[0];
        if (std::all_of(c.pieces[job.i].begin(), c.pieces[job.i].end(), [&](const svg_convert_rows &r) { return c.ck->type(r.src) == job.type; })) {
            const size_t row_bytes = svg_row_size(job.type, row_len);
            for (const svg_convert_rows &r : c.pieces[job.i]) {
                if ((size_t)(r.dst_row + r.rows) * row_bytes > size || (size_t)(r.src_row + r.rows) * row_bytes > c.ck->nbytes(r.src))
                    return svg_err(false, "%s: rows out of range", p.name.c_str());
                memcpy((uint8_t *)dst + r.dst_row * row_bytes, (const uint8_t *)c.ck->data(r.src) + r.src_row * row_bytes, r.rows * row_bytes);
            }
            return true;
        }
        values.resize((size_t)n);
        std::vector<float> src;
        for (const svg_convert_rows &r : c.pieces[job.i]) {
            src.resize((size_t)c.ck->nelements(r.src));
            const bool ok = c.ck->read_f32(r.src, src.data(), (int64_t)src.size());
            release_pages(c.ck->data(r.src), c.ck->nbytes(r.src));
            if (!ok) return false;
            std::copy_n(src.data() + r.src_row * row_len, r.rows * row_len, values.data() + r.dst_row * row_len);
        }
    } else {
        const int64_t j = c.src_index[job.i];
        const void *src = c.ck->data(j);
        const size_t src_bytes = c.ck->nbytes(j);
        if (c.ck->type(j) == job.type) {
            if (src_bytes != size) return svg_err(false, "%s: %zu bytes, expected %zu", p.name.c_str(), src_bytes, size);
            memcpy(dst, src, size);
            release_pages(src, src_bytes);
            return true;
        }
        values.resize((size_t)n);
        const bool ok = c.ck->read_f32(j, values.data(), n);
        release_pages(src, src_bytes);
        if (!ok) return false;
    }
    if (job.type == SVG_TYPE_F32) {
        memcpy(dst, values.data(), size);
        return true;
    }
    const svg_type_traits *tr = svg_type_traits_of(job.type);
    svg_parallel_for((n + k_chunk - 1) / k_chunk, job.n_threads, [&](int64_t ch) {
        const int64_t b = ch * k_chunk, e = std::min(n, b + k_chunk);
        tr->from_float(values.data() + b, (uint8_t *)dst + b / tr->block_size * tr->type_size, e - b);
    });
    return true;
}

// ------------------------------------------------------------ metadata

// One config.json value as svg.<component>.<key> (models/model-file.h); a
// nested object's entries as <key>.<sub> (transformers' rope_parameters:
// svg.text_encoder.rope_parameters.rope_theta), nulls left out.
bool set_config_kv(svg_gguf_writer *w, const std::string &key, const json &v) {
    if (v.is_object()) {
        for (const auto &kv : v.items())
            if (!kv.key().empty() && !kv.value().is_null() && !set_config_kv(w, key + "." + kv.key(), kv.value())) return false;
        return true;
    }
    const char *k = key.c_str();
    if (v.is_boolean()) return svg_gguf_writer_set_bool(w, k, v.get<bool>());
    if (v.is_number_integer()) return svg_gguf_writer_set_i64(w, k, v.get<int64_t>());
    if (v.is_number_float()) return svg_gguf_writer_set_f32(w, k, v.get<float>());
    if (v.is_string()) return svg_gguf_writer_set_str(w, k, v.get<std::string>().c_str());
    if (v.is_array()) {
        bool ints = true, numbers = true, strings = true, bools = true;
        for (const json &e : v) {
            ints = ints && e.is_number_integer();
            numbers = numbers && e.is_number();
            strings = strings && e.is_string();
            bools = bools && e.is_boolean();
        }
        if (ints) {
            const std::vector<int64_t> a = v.get<std::vector<int64_t>>();
            return svg_gguf_writer_set_arr(w, k, SVG_GGUF_INT64, a.data(), (int64_t)a.size());
        }
        if (bools) {
            std::vector<uint8_t> a;
            for (const json &e : v) a.push_back(e.get<bool>() ? 1 : 0);
            return svg_gguf_writer_set_arr(w, k, SVG_GGUF_BOOL, a.data(), (int64_t)a.size());
        }
        if (numbers) {
            const std::vector<float> a = v.get<std::vector<float>>();
            return svg_gguf_writer_set_arr(w, k, SVG_GGUF_FLOAT32, a.data(), (int64_t)a.size());
        }
        if (strings) {
            const std::vector<std::string> a = v.get<std::vector<std::string>>();
            std::vector<const char *> p;
            for (const std::string &s : a) p.push_back(s.c_str());
            return svg_gguf_writer_set_arr_str(w, k, p.data(), (int64_t)p.size());
        }
    }
    return svg_err(false, "config key '%s': unsupported value %s", key.c_str(), v.dump().c_str());
}

bool set_metadata(svg_gguf_writer *w, const std::vector<component> &comps, const std::string &name) {
    std::vector<const char *> names;
    for (const component &c : comps) names.push_back(c.name.c_str());
    if (!svg_gguf_writer_set_str(w, "general.architecture", comps[0].arch->family) ||
        !svg_gguf_writer_set_str(w, "general.name", name.c_str()) ||
        !svg_gguf_writer_set_arr_str(w, "svg.components", names.data(), (int64_t)names.size()))
        return false;
    for (const component &c : comps) {
        const std::string prefix = "svg." + c.name + ".";
        if (!svg_gguf_writer_set_str(w, (prefix + "class").c_str(), c.arch->cls) ||
            !svg_gguf_writer_set_str(w, (prefix + "tensor_prefix").c_str(), svg_component_tensor_prefix(c.name).c_str()))
            return false;
        for (const auto &kv : c.config.items()) {
            if (kv.key().empty() || kv.key()[0] == '_' || kv.value().is_null()) continue;
            if (!set_config_kv(w, prefix + kv.key(), kv.value())) return fail_in(c.name);
        }
    }
    return true;
}

// What svg_gen_default_params (and so svg-run) starts from for a family's
// pipeline, written where the file holds its transformer: the release's
// generation settings, and Sparse VideoGen's from the paper.
//   Wan 2.1: dense warm-up of the first 25% of steps and 2.5% of layers at
//     480p, 20% and 3% from 1280×720 pixels (the paper's Wan runs).
//   CogVideoX 1.5: 1360×768, 81 frames, 50 steps, guidance 6 (the release's
//     defaults); the paper's CogVideoX-v1.5 setting keeps the first 25% of
//     steps dense and no layers, and its windows (4 latent frames for
//     spatial heads, 1224 tokens for temporal heads) compute about 30% of
//     the attention: density 0.3.
//   HunyuanVideo: 1280×720, 129 frames, 50 steps, 24 fps, embedded guidance
//     6 and no true CFG (the release's); the paper's HunyuanVideo setting
//     keeps the first 25% of steps dense and no layers, and its windows (10
//     latent frames spatial, 1200 tokens temporal) compute about 30%.
struct generation_defaults {
    const char *family;
    uint32_t width, height, frames, steps, fps;
    float cfg, embedded_cfg, density, dense_steps, dense_layers, dense_steps_720p, dense_layers_720p;
};
const generation_defaults k_generation_defaults[] = {
    {"wan", 832, 480, 81, 50, 16, 5.0f, 0.0f, 0.3f, 0.25f, 0.025f, 0.2f, 0.03f},
    {"cogvideox", 1360, 768, 81, 50, 16, 6.0f, 0.0f, 0.3f, 0.25f, 0.0f, 0.25f, 0.0f},
    {"hunyuan", 1280, 720, 129, 50, 24, 1.0f, 6.0f, 0.3f, 0.25f, 0.0f, 0.25f, 0.0f},
};

bool add_generation_defaults(svg_gguf_writer *w, const std::vector<component> &comps) {
    for (const component &c : comps) {
        if (c.name != "transformer") continue;
        for (const generation_defaults &d : k_generation_defaults) {
            if (std::string(c.arch->family) != d.family) continue;
            return svg_gguf_writer_set_u32(w, "svg.gen.width", d.width) && svg_gguf_writer_set_u32(w, "svg.gen.height", d.height) &&
                   svg_gguf_writer_set_u32(w, "svg.gen.frames", d.frames) && svg_gguf_writer_set_u32(w, "svg.gen.steps", d.steps) &&
                   svg_gguf_writer_set_f32(w, "svg.gen.cfg", d.cfg) && svg_gguf_writer_set_u32(w, "svg.gen.fps", d.fps) &&
                   (d.embedded_cfg <= 0 || svg_gguf_writer_set_f32(w, "svg.gen.embedded_cfg", d.embedded_cfg)) &&
                   svg_gguf_writer_set_bool(w, "svg.sparse.enabled", true) && svg_gguf_writer_set_f32(w, "svg.sparse.density", d.density) &&
                   svg_gguf_writer_set_u32(w, "svg.sparse.rows", 64) && svg_gguf_writer_set_f32(w, "svg.sparse.dense_steps", d.dense_steps) &&
                   svg_gguf_writer_set_f32(w, "svg.sparse.dense_layers", d.dense_layers) &&
                   svg_gguf_writer_set_f32(w, "svg.sparse.dense_steps_720p", d.dense_steps_720p) &&
                   svg_gguf_writer_set_f32(w, "svg.sparse.dense_layers_720p", d.dense_layers_720p);
        }
    }
    return true;
}

// Sampler defaults from a diffusers scheduler_config.json (scalar keys only).
bool add_scheduler(svg_gguf_writer *w, const std::string &path) {
    std::ifstream f(path);
    if (!f) return svg_err(false, "scheduler config: cannot read '%s'", path.c_str());
    const json cfg = json::parse(f, nullptr, false);
    if (cfg.is_discarded() || !cfg.is_object()) return svg_err(false, "scheduler config '%s' is not a JSON object", path.c_str());
    for (const auto &kv : cfg.items()) {
        const json &v = kv.value();
        if (!v.is_primitive() || v.is_null()) continue;
        if (!set_config_kv(w, "svg.scheduler." + kv.key(), v)) return false;
    }
    return true;
}

}  // namespace

bool svg_convert_need(const svg_shape_map &shapes, const std::string &name, size_t rank, const std::vector<int64_t> **out) {
    const auto it = shapes.find(name);
    if (it == shapes.end()) return svg_err(false, "cannot infer the config: tensor %s missing", name.c_str());
    if (it->second.size() != rank)
        return svg_err(false, "cannot infer the config: tensor %s has %zu dims, expected %zu", name.c_str(), it->second.size(), rank);
    *out = &it->second;
    return true;
}

bool svg_convert_config_int(const json &config, const char *key, int64_t *out) {
    const auto it = config.find(key);
    if (it == config.end() || !it->is_number_integer()) return svg_err(false, "config: %s missing or not an integer", key);
    *out = it->get<int64_t>();
    if (*out <= 0) return svg_err(false, "config: %s must be positive, got %lld", key, (long long)*out);
    return true;
}

bool svg_convert_config_opt_int(const json &config, const char *key, int64_t def, int64_t *out) {
    const auto it = config.find(key);
    if (it == config.end() || it->is_null()) {
        *out = def;
        return true;
    }
    if (!it->is_number_integer() || it->get<int64_t>() < 1) return svg_err(false, "config: %s must be a positive integer", key);
    *out = it->get<int64_t>();
    return true;
}

bool svg_convert_config_opt_float(const json &config, const char *key, double def, double *out) {
    const auto it = config.find(key);
    if (it == config.end() || it->is_null()) {
        *out = def;
        return true;
    }
    if (!it->is_number()) return svg_err(false, "config: %s must be a number", key);
    *out = it->get<double>();
    return true;
}

bool svg_convert_config_opt_bool(const json &config, const char *key, bool def, bool *out) {
    const auto it = config.find(key);
    if (it == config.end() || it->is_null()) {
        *out = def;
        return true;
    }
    if (!it->is_boolean()) return svg_err(false, "config: %s must be true or false", key);
    *out = it->get<bool>();
    return true;
}

bool svg_convert_targets(const std::string &renamed, std::vector<svg_convert_target> *out) {
    out->clear();
    size_t b = 0;
    while (true) {
        const size_t e = std::min(renamed.find('|', b), renamed.size());
        svg_convert_target t;
        t.name = renamed.substr(b, e - b);
        const size_t hash = t.name.find('#');
        if (hash != std::string::npos) {
            long long part = -1, parts = 0;
            int used = 0;
            if (sscanf(t.name.c_str() + hash, "#%lld/%lld%n", &part, &parts, &used) != 2 || hash + (size_t)used != t.name.size() || parts < 1 ||
                part < 0 || part >= parts)
                return svg_err(false, "bad row block '%s' (name#i/n, 0 <= i < n)", t.name.c_str());
            t.part = part;
            t.parts = parts;
            t.name.erase(hash);
        }
        if (t.name.empty()) return svg_err(false, "empty parameter name in '%s'", renamed.c_str());
        out->push_back(std::move(t));
        if (e == renamed.size()) return true;
        b = e + 1;
    }
}

bool svg_convert_rename_two_schemes(const std::vector<std::string> &names,
                                    const std::function<bool(const std::string &, std::string *)> &to_diffusers,
                                    const std::function<bool(const std::string &)> &is_diffusers, const char *what,
                                    std::vector<std::string> *out, std::string *scheme) {
    std::vector<std::string> mapped(names.size());
    size_t n_original = 0, n_diffusers = 0;
    for (size_t i = 0; i < names.size(); i++) {
        // names spelled the same in both schemes count for neither
        if (to_diffusers(names[i], &mapped[i]) && mapped[i] != names[i])
            n_original++;
        else
            mapped[i] = names[i];
        if (is_diffusers(names[i])) n_diffusers++;
    }
    if (n_original && n_diffusers) return svg_err(false, "tensor names mix the diffusers and the original %s naming", what);
    if (!n_original && !n_diffusers)
        return svg_err(false, "tensor names match neither the diffusers nor the original %s naming (e.g. '%s')", what,
                       names.empty() ? "" : names[0].c_str());
    *scheme = n_original ? "original" : "diffusers";
    *out = n_original ? std::move(mapped) : names;
    return true;
}

namespace {

bool read_file(const std::string &path, std::string *out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return svg_err(false, "cannot read '%s'", path.c_str());
    out->assign((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return true;
}

// Store a tokenizer as svg.<key>.model + svg.<key>.format after checking that
// it loads: spiece.model ("spm"), or a tokenizer.json ("hf_json") with a
// Unigram or a BPE model. CLIP's slow files (vocab.json with merges.txt
// beside it, or a folder of them) are stored as the tokenizer.json
// transformers' CLIPTokenizerFast builds from them.
bool add_tokenizer(svg_gguf_writer *w, const std::string &path, const char *key) {
    fs::path p(path);
    std::error_code ec;
    if (fs::is_directory(p, ec)) p = fs::is_regular_file(p / "tokenizer.json", ec) ? p / "tokenizer.json" : p / "vocab.json";
    std::string bytes;
    if (!read_file(p.string(), &bytes)) return svg_err(false, "tokenizer: %s", svg_last_error());
    const bool json = p.extension() == ".json";
    if (p.filename() == "vocab.json") {
        std::string merges, tok_json;
        if (!read_file((p.parent_path() / "merges.txt").string(), &merges))
            return svg_err(false, "tokenizer '%s': a vocab.json needs merges.txt beside it (%s)", path.c_str(), svg_last_error());
        if (!svg_bpe_clip_json_from_vocab_merges(bytes, merges, &tok_json))
            return svg_err(false, "tokenizer '%s': %s", path.c_str(), std::string(svg_last_error()).c_str());
        bytes = std::move(tok_json);
    }
    svg_tokenizer unigram;
    svg_bpe_tokenizer bpe;
    bool ok = json ? unigram.load_hf_json(bytes.data(), bytes.size()) : unigram.load_spm(bytes.data(), bytes.size());
    if (!ok && json) {
        const std::string unigram_error = svg_last_error();
        ok = bpe.load_hf_json(bytes.data(), bytes.size());
        if (!ok && unigram_error.find("only Unigram") == std::string::npos) svg_err(false, "%s", unigram_error.c_str());
    }
    if (!ok) return svg_err(false, "tokenizer '%s': %s", path.c_str(), std::string(svg_last_error()).c_str());
    const std::string k = std::string("svg.") + key;
    return svg_gguf_writer_set_str(w, (k + ".format").c_str(), json ? "hf_json" : "spm") &&
           svg_gguf_writer_set_arr(w, (k + ".model").c_str(), SVG_GGUF_UINT8, bytes.data(), (int64_t)bytes.size());
}

// general.name from a path: the model's folder, not "transformer" or
// "diffusion_pytorch_model".
std::string name_from_path(const std::string &path, const std::string &component) {
    fs::path p = fs::absolute(path).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
        std::string stem = p.filename().string();
        for (const char *ext : {".index.json", ".safetensors", ".json"})
            if (stem.size() > strlen(ext) && stem.compare(stem.size() - strlen(ext), std::string::npos, ext) == 0)
                stem.erase(stem.size() - strlen(ext));
        if (stem.rfind("diffusion_pytorch_model", 0) != 0 && stem != "config" && stem != "model") return stem;
        p = p.parent_path();
    }
    if (p.filename() == component) p = p.parent_path();
    return p.filename().string();
}

bool check_options(const svg_convert_options &opt) {
    if (opt.sources.empty()) return svg_err(false, "nothing to convert: no source");
    if (opt.output.empty()) return svg_err(false, "no output file");
    if (opt.type != SVG_TYPE_COUNT && !is_weight_type(opt.type))
        return svg_err(false, "type %s is not a weight type (f32, f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K)", svg_type_name(opt.type));
    if (!opt.mix.empty() && !((opt.mix == "q4_K_m" || opt.mix == "q4_k_m") && opt.type == SVG_TYPE_Q4_K) &&
        !((opt.mix == "q5_K_m" || opt.mix == "q5_k_m") && opt.type == SVG_TYPE_Q5_K))
        return svg_err(false, "mix '%s' with type %s: the mixes are q4_K_m (type q4_K) and q5_K_m (type q5_K)", opt.mix.c_str(), svg_type_name(opt.type));
    for (const svg_convert_source &s : opt.sources) {
        if (s.component.find('.') != std::string::npos) return svg_err(false, "bad component name '%s'", s.component.c_str());
        if (opt.random && !s.path.empty())
            return svg_err(false, "%s: random weights take no input (got '%s')", s.component.c_str(), s.path.c_str());
        if (!opt.random && s.path.empty()) return svg_err(false, "%s: no input", s.component.c_str());
    }
    // fail before a long conversion, not at the end
    std::error_code ec;
    if (fs::is_directory(opt.output, ec)) return svg_err(false, "output '%s' is a directory", opt.output.c_str());
    fs::path dir = fs::path(opt.output).parent_path();
    if (dir.empty()) dir = ".";
    if (access(dir.c_str(), W_OK) != 0)
        return svg_err(false, "output '%s' is not writable: %s: %s", opt.output.c_str(), dir.c_str(), strerror(errno));
    return true;
}

bool convert(const svg_convert_options &opt) {
    if (!check_options(opt)) return false;
    const int n_threads = opt.n_threads > 0 ? opt.n_threads : std::max(1u, std::thread::hardware_concurrency());
    auto log = [&](const std::string &s) {
        if (opt.log) opt.log(s);
    };

    for (const std::string &note : opt.notes) log(note);
    std::vector<component> comps(opt.sources.size());
    std::set<std::string> seen;
    for (size_t k = 0; k < comps.size(); k++) {
        component &c = comps[k];
        const svg_convert_source &s = opt.sources[k];
        if (!prepare(s, opt.random, &c)) return fail_in(!s.component.empty() ? s.component : !s.path.empty() ? s.path : s.config_path);
        if (!seen.insert(c.name).second) return svg_err(false, "component '%s' given twice", c.name.c_str());
        if (opt.type != SVG_TYPE_COUNT) {
            c.weight_type = opt.type;
            c.own_types = false;
        }
        const std::string prefix = svg_component_tensor_prefix(c.name);
        for (const svg_convert_param &p : c.params)
            if (prefix.size() + p.name.size() >= SVG_MAX_NAME)
                return svg_err(false, "%s: tensor name '%s%s' is longer than the %d bytes a model file allows",
                               c.name.c_str(), prefix.c_str(), p.name.c_str(), SVG_MAX_NAME - 1);
        log(c.name + ": " + c.arch->cls + " from " + c.input + (c.scheme.empty() ? "" : " (" + c.scheme + " naming)") +
            ", config " + c.config_from + ", " + std::to_string(c.params.size()) + " tensors, linear weights " +
            (c.own_types ? std::string("as stored") : svg_type_name(c.weight_type)));
        if (!c.dropped.empty())
            log("note: " + c.name + ": " + std::to_string(c.dropped.size()) + " tensor" + (c.dropped.size() > 1 ? "s" : "") +
                " of " + c.input + " left out (not part of a " + c.arch->cls + "): " + name_list(c.dropped));
    }

    std::unique_ptr<svg_gguf_writer, writer_free> w(svg_gguf_writer_new());
    if (!w) return false;
    std::string name = opt.name;
    if (name.empty())
        name = opt.random ? name_from_path(opt.sources[0].config_path, comps[0].name) + "-random"
                          : name_from_path(opt.sources[0].path, comps[0].name);
    if (!set_metadata(w.get(), comps, name) || !add_generation_defaults(w.get(), comps)) return false;
    if (!opt.tokenizer_path.empty() && !add_tokenizer(w.get(), opt.tokenizer_path, "tokenizer")) return false;
    if (!opt.tokenizer_2_path.empty() && !add_tokenizer(w.get(), opt.tokenizer_2_path, "tokenizer_2")) return false;
    if (!opt.scheduler_config_path.empty() && !add_scheduler(w.get(), opt.scheduler_config_path)) return false;
    if (!opt.tokenizer_path.empty()) log("tokenizer: " + opt.tokenizer_path);
    if (!opt.tokenizer_2_path.empty()) log("tokenizer_2: " + opt.tokenizer_2_path);

    size_t n_total = 0, done = 0;
    for (const component &c : comps) n_total += c.params.size();
    std::vector<param_job> jobs;
    jobs.reserve(n_total);  // the writer keeps pointers to them
    for (const component &c : comps) {
        for (size_t i = 0; i < c.params.size(); i++) {
            const svg_convert_param &p = c.params[i];
            const svg_type type = !opt.mix.empty() ? mix_type(c.params, i, c.weight_type)
                                  : c.own_types ? param_type(p, own_type(c, i)) : param_type(p, c.weight_type);
            const std::string name = svg_component_tensor_prefix(c.name) + p.name;
            const std::string from = c.ck ? c.ck->dtype(c.src_index[i]) : "random";
            char head[32];
            snprintf(head, sizeof head, "[%zu/%zu] ", ++done, n_total);
            jobs.push_back({&c, i, type, &opt, n_threads, head + name + " " + shape_str(p.shape) + " " + from + " -> " + svg_type_name(type)});
            if (!svg_gguf_writer_add_tensor_fill(w.get(), name.c_str(), type, (int)p.shape.size(), p.shape.data(), fill_param, &jobs.back()))
                return fail_in(name);
        }
    }
    if (!svg_gguf_writer_write(w.get(), opt.output.c_str())) return false;
    log("wrote " + opt.output);
    return true;
}

}  // namespace

bool svg_convert(const svg_convert_options &opt) {
    try {
        return convert(opt);
    } catch (const std::bad_alloc &) {
        return svg_err(false, "out of memory");
    } catch (const std::exception &e) {
        return svg_err(false, "%s", e.what());
    }
}

// ------------------------------------------------------------ command line

const char *svg_convert_usage(void) {
    return "usage: svg-convert [options] INPUT -o OUTPUT.gguf\n"
           "       svg-convert --random --config config.json [--seed N] -o OUTPUT.gguf\n"
           "       svg-convert --random PIPELINE_FOLDER [--tokenizer F] -o OUTPUT.gguf\n"
           "\n"
           "INPUT: a diffusers model folder (config.json + *.safetensors, sharded or not), a\n"
           "pipeline folder (model_index.json, or sub-folders: its transformer/, text_encoder/,\n"
           "text_encoder_2/, vae/ and image_encoder/ all go into the file, with tokenizer/ and\n"
           "scheduler/), or a single-file checkpoint (original Wan or ComfyUI naming; its config\n"
           "is inferred from the tensor shapes unless --config is given). What INPUT is\n"
           "(transformer, text encoder, VAE, image encoder) is read from its config's class, or\n"
           "from a single file's tensor names.\n"
           "\n"
           "  -o, --output FILE   model file to write\n"
           "  -c, --config FILE   config.json to use instead of the folder's or the inferred one\n"
           "      --component C   the slot INPUT fills: transformer, text_encoder, vae, image_encoder\n"
           "                      (numbered for a second one: text_encoder_2 holds HunyuanVideo's CLIP)\n"
           "                      (default: the one its class fills; a contradicting one is an error;\n"
           "                      with a pipeline folder: convert only that sub-folder)\n"
           "      --text-encoder P  add a text encoder (folder or file) to the model file\n"
           "      --text-encoder-2 P  add the second text encoder (HunyuanVideo's CLIP-L)\n"
           "      --vae P         add a VAE (folder or file) to the model file\n"
           "      --image-encoder P  add a CLIP image encoder (I2V) to the model file\n"
           "      --tokenizer F   add the text encoder's tokenizer (spiece.model or tokenizer.json)\n"
           "      --tokenizer-2 F add text_encoder_2's tokenizer (tokenizer.json, or CLIP's vocab.json with\n"
           "                      merges.txt beside it, or their folder)\n"
           "  -t, --type TYPE     type of the linear weights: f32, f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K\n"
           "                      (k-quants: ggml's blocks of 256; rows not a whole number of\n"
           "                      blocks keep f32), or the mixes q4_K_m, q5_K_m (q6_K where it pays:\n"
           "                      embedders, heads, modulation, first/last blocks; see convert.h)\n"
           "                      (default: the checkpoint's; other tensors stay f32)\n"
           "      --random        random weights for --config instead of a checkpoint; INPUT and\n"
           "                      --text-encoder/--vae/--image-encoder then name config.json files (or\n"
           "                      folders holding one), and a pipeline folder brings each component's\n"
           "                      config.json, its tokenizer and scheduler config (a tiny demo model:\n"
           "                      examples/demo)\n"
           "      --seed N        random seed (default 0)\n"
           "      --name NAME     general.name (default: the model folder's or file's name)\n"
           "  -j, --threads N     worker threads (default: all)\n"
           "  -q, --quiet         no progress output\n"
           "  -h, --help          this text\n";
}

namespace {

// The sub-folders of a diffusers pipeline folder that svg.cpp converts.
const char *const k_pipeline_components[] = {"transformer", "transformer_2", "text_encoder", "text_encoder_2", "vae", "image_encoder"};

std::string pipeline_component_list() {
    std::string out;
    for (const char *c : k_pipeline_components) out += std::string(out.empty() ? "" : ", ") + c + "/";
    return out;
}

// A pipeline folder: model_index.json, or no config.json of its own and a
// component sub-folder.
bool is_pipeline_folder(const std::string &path) {
    std::error_code ec;
    const fs::path p = path;
    if (path.empty() || !fs::is_directory(p, ec)) return false;
    if (fs::is_regular_file(p / "model_index.json", ec)) return true;
    if (fs::exists(p / "config.json", ec)) return false;
    return std::any_of(std::begin(k_pipeline_components), std::end(k_pipeline_components),
                       [&](const char *c) { return fs::is_regular_file(p / c / "config.json", ec); });
}

// The sub-folders of `path` holding weights (*.safetensors, *.bin, *.pt, *.gguf), sorted.
std::vector<std::string> weight_folders(const std::string &path) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const fs::directory_entry &d : fs::directory_iterator(path, ec)) {
        if (!d.is_directory(ec)) continue;
        for (const fs::directory_entry &f : fs::directory_iterator(d.path(), ec)) {
            const std::string ext = f.path().extension().string();
            if (ext == ".safetensors" || ext == ".bin" || ext == ".pt" || ext == ".gguf") {
                out.push_back(d.path().filename().string());
                break;
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

bool svg_convert_parse_args(int argc, const char *const *argv, svg_convert_options *out, bool *help) {
    *help = false;
    svg_convert_options o;
    svg_convert_source src;
    std::vector<std::string> inputs;
    std::vector<svg_convert_source> extras;  // --text-encoder, --vae, --image-encoder
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i], inline_value;
        bool has_inline = false;
        const size_t eq = arg.find('=');
        if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            inline_value = arg.substr(eq + 1);
            arg.erase(eq);
            has_inline = true;
        }
        bool took_value = false;
        auto value = [&](std::string *v) {
            took_value = true;
            if (has_inline)
                *v = inline_value;
            else if (i + 1 < argc)
                *v = argv[++i];
            else
                return svg_err(false, "option %s needs a value", arg.c_str());
            return true;
        };
        std::string v;
        if (arg == "-h" || arg == "--help") {
            *help = true;
            return true;
        } else if (arg == "-o" || arg == "--output") {
            if (!value(&o.output)) return false;
        } else if (arg == "-c" || arg == "--config") {
            if (!value(&src.config_path)) return false;
        } else if (arg == "-t" || arg == "--type") {
            if (!value(&v)) return false;
            if (v == "q4_K_m" || v == "q4_k_m" || v == "q5_K_m" || v == "q5_k_m") {
                o.mix = v;
                v = v.substr(0, 4);  // the base type
            }
            if (!svg_type_from_name(v.c_str(), &o.type) || !is_weight_type(o.type))
                return svg_err(false, "unknown type '%s' (f32, f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K)", v.c_str());
        } else if (arg == "--component") {
            if (!value(&src.component)) return false;
        } else if (arg == "--tokenizer") {
            if (!value(&o.tokenizer_path)) return false;
        } else if (arg == "--tokenizer-2") {
            if (!value(&o.tokenizer_2_path)) return false;
        } else if (arg == "--text-encoder" || arg == "--text-encoder-2" || arg == "--vae" || arg == "--image-encoder") {
            svg_convert_source extra;
            extra.component = arg == "--vae" ? "vae" : arg == "--image-encoder" ? "image_encoder" : arg == "--text-encoder-2" ? "text_encoder_2" : "text_encoder";
            if (!value(&extra.path)) return false;
            extras.push_back(extra);
        } else if (arg == "--random") {
            o.random = true;
        } else if (arg == "--seed") {
            if (!value(&v)) return false;
            char *end = nullptr;
            errno = 0;
            o.seed = strtoull(v.c_str(), &end, 0);
            if (v.empty() || *end || errno || v[0] == '-') return svg_err(false, "bad --seed '%s'", v.c_str());
        } else if (arg == "--name") {
            if (!value(&o.name)) return false;
        } else if (arg == "-j" || arg == "--threads") {
            if (!value(&v)) return false;
            char *end = nullptr;
            const long n = strtol(v.c_str(), &end, 10);
            if (v.empty() || *end || n < 1 || n > 4096) return svg_err(false, "bad --threads '%s'", v.c_str());
            o.n_threads = (int)n;
        } else if (arg == "-q" || arg == "--quiet") {
            quiet = true;
        } else if (arg.size() > 1 && arg[0] == '-') {
            return svg_err(false, "unknown option '%s' (see --help)", argv[i]);
        } else {
            inputs.push_back(arg);
        }
        if (has_inline && !took_value) return svg_err(false, "option %s takes no value", arg.c_str());
    }
    if (inputs.size() > 1) return svg_err(false, "one input expected, got %zu", inputs.size());
    if (!inputs.empty()) src.path = inputs[0];
    if (!o.random && src.path.empty()) return svg_err(false, "no input (see --help)");
    if (o.output.empty()) return svg_err(false, "no output file (-o FILE)");
    const std::string input = src.path;
    const bool pipeline = is_pipeline_folder(input);
    if (o.random) {
        // random weights: INPUT and the --text-encoder/--vae/--image-encoder
        // values name configs (config.json, a folder holding one, or a pipeline folder)
        auto config_of = [](const std::string &p) { return fs::is_directory(p) ? (fs::path(p) / "config.json").string() : p; };
        for (svg_convert_source &e : extras) e.config_path = config_of(e.path), e.path.clear();
        if (!input.empty() && !src.config_path.empty()) return svg_err(false, "--random takes a config as INPUT or as --config, not both");
        if (!input.empty() && !pipeline) src.config_path = config_of(input);
        src.path.clear();
    }
    if (pipeline) {
        // every component sub-folder (or the one --component names), except
        // those given as --text-encoder etc.; a note for what is left out
        for (const char *comp : k_pipeline_components) {
            const bool given = std::any_of(extras.begin(), extras.end(), [&](const svg_convert_source &e) { return e.component == comp; });
            if (given || (!src.component.empty() && src.component != comp) || !fs::is_directory(fs::path(input) / comp)) continue;
            svg_convert_source c;
            c.component = comp;
            if (o.random)
                c.config_path = (fs::path(input) / comp / "config.json").string();
            else
                c.path = input;
            o.sources.push_back(c);
        }
        if (o.sources.empty() && !src.component.empty())
            return svg_err(false, "pipeline folder '%s' has no %s/ sub-folder", input.c_str(), src.component.c_str());
        if (o.sources.empty())
            return svg_err(false, "pipeline folder '%s' holds none of the components svg.cpp converts (%s)", input.c_str(),
                           pipeline_component_list().c_str());
        for (const std::string &sub : weight_folders(input))
            if (std::none_of(o.sources.begin(), o.sources.end(), [&](const svg_convert_source &c) { return c.component == sub; }))
                o.notes.push_back("note: " + (fs::path(input) / sub).string() + "/ is left out (not a component svg.cpp uses)");
    } else {
        o.sources.push_back(src);
    }
    o.sources.insert(o.sources.end(), extras.begin(), extras.end());
    if (pipeline && fs::is_regular_file(fs::path(input) / "scheduler/scheduler_config.json"))
        o.scheduler_config_path = (fs::path(input) / "scheduler/scheduler_config.json").string();
    // the pipeline folder's tokenizer, unless one was given
    if (pipeline && o.tokenizer_path.empty())
        for (const char *t : {"tokenizer/spiece.model", "tokenizer/tokenizer.json"})
            if (fs::is_regular_file(fs::path(input) / t)) {
                o.tokenizer_path = (fs::path(input) / t).string();
                break;
            }
    if (pipeline && o.tokenizer_2_path.empty() &&
        std::any_of(o.sources.begin(), o.sources.end(), [](const svg_convert_source &c) { return c.component == "text_encoder_2"; }))
        for (const char *t : {"tokenizer_2/tokenizer.json", "tokenizer_2/vocab.json"})
            if (fs::is_regular_file(fs::path(input) / t)) {
                o.tokenizer_2_path = (fs::path(input) / t).string();
                break;
            }
    if (!quiet) o.log = [](const std::string &s) { fprintf(stderr, "%s\n", s.c_str()); };
    *out = std::move(o);
    return true;
}
