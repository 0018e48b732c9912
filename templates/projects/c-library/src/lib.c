/* A WebAssembly library (a WASI reactor): `add` is exported, see wasmforge.toml.
   `wasmforge run --invoke add target/wasmforge/wasip1/debug/{{name}}.wasm 2 40` */
int add(int a, int b) {
    return a + b;
}
