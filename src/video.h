// Writing generated videos: Motion-JPEG in a RIFF/AVI container of our own
// (.avi), a folder of PNG frames (a path without extension or ending in '/'),
// or .mp4 / .webm by piping raw frames to ffmpeg when it is on PATH. Every
// output is written to a temporary name and renamed into place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// frames: n_frames × height × width × 3 bytes (RGB). Sets svg_last_error().
bool svg_video_write(const std::string &path, const uint8_t *rgb, int n_frames, int height, int width, int fps,
                     int jpeg_quality = 90);

// [F, 3, H, W] floats in [0, 1] (the pipelines' video layout) → RGB bytes.
std::vector<uint8_t> svg_video_to_rgb(const float *video, int n_frames, int height, int width);
