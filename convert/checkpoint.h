// What svg-convert reads, whatever the file: the tensors of a safetensors
// checkpoint (one file, a sharded set, a diffusers folder) or of a GGUF file
// (ComfyUI-GGUF's community files: original tensor naming, ggml-quantized
// blocks, "comfy.gguf.orig_shape.<name>" where a tensor was stored
// reshaped). Files are told apart by their first bytes, not their names.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "svg.h"

struct svg_checkpoint {
    virtual ~svg_checkpoint() = default;
    virtual int64_t n_tensors() const = 0;
    virtual const char *name(int64_t i) const = 0;
    // PyTorch order; for a GGUF tensor stored reshaped, its original shape
    virtual std::vector<int64_t> shape(int64_t i) const = 0;
    // SVG_TYPE_COUNT for a dtype svg.cpp does not read (safetensors: F32,
    // F16, BF16; GGUF: every float and quantized type of the type table)
    virtual svg_type type(int64_t i) const = 0;
    virtual std::string dtype(int64_t i) const = 0;  // as the file names it, for messages
    virtual const void *data(int64_t i) const = 0;
    virtual size_t nbytes(int64_t i) const = 0;
    virtual bool read_f32(int64_t i, float *out, int64_t n) const = 0;
    // "gguf" or "safetensors", for the log
    virtual const char *format() const = 0;
    int64_t nelements(int64_t i) const {
        int64_t n = 1;
        for (int64_t d : shape(i)) n *= d;
        return n;
    }
};

// A safetensors file, index or folder, or a GGUF file; NULL + svg_last_error().
std::unique_ptr<svg_checkpoint> svg_checkpoint_open(const std::string &path);
