/* A WebAssembly command: `wasmforge run . -- Ada`. */
#include <stdio.h>

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "world";
    printf("Hello, %s! (from {{name}}, C compiled to WebAssembly)\n", name);
    return 0;
}
