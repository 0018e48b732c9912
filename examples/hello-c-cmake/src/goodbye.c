#include <stdio.h>
#include "greeting.h"
int main(void) {
    printf("%s! (from C via CMake)\n", greeting(0));
    return 0;
}
