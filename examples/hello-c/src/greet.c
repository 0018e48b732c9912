#include <stdio.h>

#include "greet.h"

#ifndef GREETING
#define GREETING "Hi"
#endif

void greet(const char *name) {
    printf("%s, %s! (from C, compiled to WebAssembly)\n", GREETING, name);
}
