// libFuzzer target for the GGUF reader: parse the input, and when it is
// accepted call every accessor on every kv and tensor (mismatched types and
// out-of-range indices included) and read every byte they point at, so the
// sanitizers see any access the validation let through.
//
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DSVG_FUZZ=ON -DSVG_SANITIZE=ON
//   cmake --build build-fuzz --target fuzz-gguf
//   mkdir -p /tmp/gguf-corpus
//   ./build-fuzz/fuzz-gguf -max_total_time=60 /tmp/gguf-corpus tests/fuzz/corpus/gguf
// (libFuzzer adds new inputs to the first directory, so keep the seeds second.)
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "svg.h"
#include "tests/gguf-walk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    svg_gguf *f = svg_gguf_open_memory(data, size);
    if (!f) return 0;
    bool sizes_agree;
    volatile uint64_t sink = svg_test_gguf_walk(f, &sizes_agree);
    (void)sink;
    if (!sizes_agree) __builtin_trap();  // the reader's size and the core's must agree
    svg_gguf_free(f);
    return 0;
}
