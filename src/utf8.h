// utf8.h — UTF-8 decoding / encoding shared by the tokenizers (tokenizer.cpp,
// bpe.cpp). Internal header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace svg_utf8 {

inline size_t one_char_len(uint8_t c) { return (size_t) "\1\1\1\1\1\1\1\1\1\1\1\1\2\2\3\4"[c >> 4]; }
inline bool is_trail(uint8_t c) { return (c & 0xC0) == 0x80; }
inline bool valid_cp(uint32_t c) { return c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF); }

// SentencePiece's DecodeUTF8: a structurally invalid sequence (bad lead or
// trail byte, overlong form, surrogate, > U+10FFFF, truncated) is one byte.
inline uint32_t decode_utf8(const char *s, size_t n, size_t *mblen, bool *valid) {
    const uint8_t *b = (const uint8_t *)s;
    *valid = true;
    if (b[0] < 0x80) {
        *mblen = 1;
        return b[0];
    } else if (n >= 2 && (b[0] & 0xE0) == 0xC0) {
        uint32_t cp = ((b[0] & 0x1Fu) << 6) | (b[1] & 0x3Fu);
        if (is_trail(b[1]) && cp >= 0x80 && valid_cp(cp)) {
            *mblen = 2;
            return cp;
        }
    } else if (n >= 3 && (b[0] & 0xF0) == 0xE0) {
        uint32_t cp = ((b[0] & 0x0Fu) << 12) | ((b[1] & 0x3Fu) << 6) | (b[2] & 0x3Fu);
        if (is_trail(b[1]) && is_trail(b[2]) && cp >= 0x800 && valid_cp(cp)) {
            *mblen = 3;
            return cp;
        }
    } else if (n >= 4 && (b[0] & 0xF8) == 0xF0) {
        uint32_t cp = ((b[0] & 0x07u) << 18) | ((b[1] & 0x3Fu) << 12) | ((b[2] & 0x3Fu) << 6) | (b[3] & 0x3Fu);
        if (is_trail(b[1]) && is_trail(b[2]) && is_trail(b[3]) && cp >= 0x10000 && valid_cp(cp)) {
            *mblen = 4;
            return cp;
        }
    }
    *mblen = 1;
    // SentencePiece counts an encoded U+FFFD as valid; a decoding error is not
    *valid = false;
    return 0xFFFD;
}

inline void append_utf8(std::string &out, uint32_t c) {
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = 0xFFFD;
    if (c < 0x80) {
        out += (char)c;
    } else if (c < 0x800) {
        out += (char)(0xC0 | (c >> 6));
        out += (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += (char)(0xE0 | (c >> 12));
        out += (char)(0x80 | ((c >> 6) & 0x3F));
        out += (char)(0x80 | (c & 0x3F));
    } else {
        out += (char)(0xF0 | (c >> 18));
        out += (char)(0x80 | ((c >> 12) & 0x3F));
        out += (char)(0x80 | ((c >> 6) & 0x3F));
        out += (char)(0x80 | (c & 0x3F));
    }
}

// Length of the valid character at s[0..n), or 0 when none starts there
// (Unicode's well-formed byte sequences table: no overlongs, surrogates or
// code points above U+10FFFF).
inline size_t valid_char_len(const uint8_t *s, size_t n) {
    const uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else return 0;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if (!is_trail(s[k])) return 0;
    return len;
}

// Rust's String::from_utf8_lossy: each maximal prefix of a valid sequence
// that ends early (or a lone bad byte) becomes one U+FFFD.
inline std::string lossy(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    const uint8_t *s = (const uint8_t *)in.data();
    const size_t n = in.size();
    for (size_t i = 0; i < n;) {
        size_t len = valid_char_len(s + i, n - i);
        if (len) {
            out.append(in.substr(i, len));
            i += len;
            continue;
        }
        // the bytes that still fit a valid sequence's start are swallowed too
        const uint8_t c = s[i];
        size_t want = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 1;
        size_t k = 1;
        if (want > 1 && i + 1 < n) {
            uint8_t lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80, hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
            if (s[i + 1] >= lo && s[i + 1] <= hi) {
                k = 2;
                while (k < want && i + k < n && is_trail(s[i + k])) k++;
            }
        }
        out += "\xEF\xBF\xBD";
        i += k;
    }
    return out;
}

}  // namespace svg_utf8
