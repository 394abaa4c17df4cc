// svg-convert: checkpoint → svg.cpp model file. All logic is in convert.cpp.
#include <cstdio>

#include "convert/convert.h"

int main(int argc, char **argv) {
    svg_convert_options opt;
    bool help = false;
    if (!svg_convert_parse_args(argc, argv, &opt, &help)) {
        fprintf(stderr, "svg-convert: %s\n", svg_last_error());
        return 2;
    }
    if (help) {
        fputs(svg_convert_usage(), stdout);
        return 0;
    }
    if (!svg_convert(opt)) {
        fprintf(stderr, "svg-convert: error: %s\n", svg_last_error());
        return 1;
    }
    return 0;
}
