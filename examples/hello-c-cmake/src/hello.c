#include <stdio.h>
#include "greeting.h"
int main(int argc, char **argv) {
    printf("%s, %s! (from C via CMake, compiled to WebAssembly)\n", greeting(1), argc > 1 ? argv[1] : "world");
    return 0;
}
