// A WASI reactor: exports functions with //go:wasmexport (Go 1.24 or newer).
// `wasmforge run --invoke add target/wasmforge/wasip1/debug/{{name}}.wasm 2 40`
package main

//go:wasmexport add
func add(a, b int32) int32 {
	return a + b
}

// A reactor's main is never called, but package main needs one.
func main() {}
