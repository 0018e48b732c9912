/* A plugin: implements the `transform` interface of wit/world.wit.
   plugin.h is generated from the WIT by wasmforge (wit-bindgen-c) when it builds:
     wasmforge build
     wasmforge run --invoke 'wasmforge:plugin/transform#transform' . '"abc"'   */
#include <ctype.h>
#include <stdlib.h>

#include "plugin.h"

void exports_wasmforge_plugin_transform_transform(plugin_string_t *input, plugin_string_t *ret) {
    uint8_t *out = malloc(input->len ? input->len : 1);
    for (size_t i = 0; i < input->len; i++) {
        out[i] = (uint8_t)toupper(input->ptr[i]);
    }
    ret->ptr = out; /* freed by the generated post-return function */
    ret->len = input->len;
    plugin_string_free(input); /* arguments belong to the callee */
}
