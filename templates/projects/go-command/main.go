// A WebAssembly command: `wasmforge run . -- Ada` (Go 1.21 or newer, GOOS=wasip1).
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
	fmt.Printf("Hello, %s! (from {{name}}, Go compiled to WebAssembly)\n", name)
}
