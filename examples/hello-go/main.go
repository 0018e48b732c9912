// A WASI command in Go: prints a greeting for its first argument.
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
	fmt.Printf("Hello, %s! (from Go, compiled to WebAssembly)\n", name)
}
