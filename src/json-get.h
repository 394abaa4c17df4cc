// Reading tokenizer.json files (tokenizer.cpp, bpe.cpp): a parse that refuses
// deep nesting (hostile files), and typed lookups that treat absent, null and
// mistyped the same.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "src/svg-impl.h"

namespace svg_json {

using json = nlohmann::json;

// Parsed `text`; discarded, with the error set ("<what>: ..."), when it is not
// valid JSON or nests deeper than max_depth (nlohmann recurses when it
// destroys values, so a hostile file must not nest without bound).
inline json parse(std::string_view text, const char *what, int max_depth = 64) {
    bool too_deep = false;
    json::parser_callback_t cb = [&](int d, json::parse_event_t ev, json &) {
        if ((ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) && d > max_depth) too_deep = true;
        return !too_deep;
    };
    json j = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
    if (too_deep) {
        svg_set_error("%s: nested too deeply", what);
        return json(json::value_t::discarded);
    }
    if (j.is_discarded()) svg_set_error("%s: not valid JSON", what);
    return j;
}

// j[key] when j is an object holding a non-null key, else NULL
inline const json *get(const json &j, const char *key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    return &*it;
}
inline bool get_bool(const json &j, const char *key, bool def) {
    const json *v = get(j, key);
    return (v && v->is_boolean()) ? v->get<bool>() : def;
}
inline std::string get_str(const json &j, const char *key, const char *def = "") {
    const json *v = get(j, key);
    return (v && v->is_string()) ? v->get<std::string>() : std::string(def);
}

}  // namespace svg_json
