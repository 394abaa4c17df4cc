// Host-side work split for tools (converter, benchmarks): fn(i) for every
// item i in [0, n) on up to n_threads threads, each taking the next item
// as it finishes one. (The CPU backend's ops use its own thread pool.)
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

template <typename F>
void svg_parallel_for(int64_t n, int n_threads, const F &fn) {
    std::atomic<int64_t> next{0};
    auto work = [&] {
        for (int64_t i; (i = next.fetch_add(1)) < n;) fn(i);
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < std::min<int64_t>(n_threads, n); t++) threads.emplace_back(work);
    work();
    for (std::thread &t : threads) t.join();
}
