# Thin wrapper over CMake: `make` builds, `make test` runs the test suite.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all test clean configure demo

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

# the tiny demo model $(BUILD)/demo.gguf (random weights; also built by `make`)
demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target demo svg-run

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
