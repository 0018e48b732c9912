// A WASI reactor in Go: exports functions with //go:wasmexport (Go 1.24 or newer).
// Build with `wasmforge build` (wasmforge.toml says kind = "library"), then
// `wasmforge run --invoke add target/wasmforge/wasip1/debug/hello-go-lib.wasm 2 40`.
package main

//go:wasmexport add
func add(a, b int32) int32 {
	return a + b
}

//go:wasmexport fib
func fib(n int32) int64 {
	a, b := int64(0), int64(1)
	for i := int32(0); i < n; i++ {
		a, b = b, a+b
	}
	return a
}

// A reactor's main is never called, but package main needs one.
func main() {}
