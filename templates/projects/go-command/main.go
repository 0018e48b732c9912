// A WebAssembly command: `wasmforge run . -- Ada` (Go 1.21 or newer, GOOS=wasip1).
// Its tests run in the sandbox too: `wasmforge test`.
package main

import (
	"fmt"
	"os"
)

func main() {
	name := "world"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Println(greeting(name))
}

func greeting(name string) string {
	return fmt.Sprintf("Hello, %s! (from {{name}}, Go compiled to WebAssembly)", name)
}
