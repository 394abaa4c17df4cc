# Thin wrapper over CMake: `make` builds, `make test` runs the test suite,
# `make demo` builds and renders a video with the tiny demo model.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all test clean configure demo

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

# the tiny demo model $(BUILD)/demo.gguf (random weights; also built by `make`),
# then prompt → video with it on the CPU: $(BUILD)/demo.avi
demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target demo svg-run
	$(BUILD)/svg-run $(BUILD)/demo.gguf "a cat surfing a wave" -o $(BUILD)/demo.avi --backend cpu \
		--width 256 --height 256 --frames 17 --steps 4

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
