// A plugin: implements the `transform` interface of wit/world.wit.
// wasmforge generates the Go side of the world when it builds (standard Go 1.24 or newer) and
// adds it to this package: the //go:wasmexport wrappers call the functions below. Its header,
// target/wasmforge/wit-bindgen/go/plugin_wit.go, lists what to define:
//
//	wasmforge build
//	wasmforge run --invoke 'wasmforge:plugin/transform#transform' . '"abc"'
package main

import "strings"

// Transform implements `transform: func(input: string) -> string`.
func Transform(input string) string {
	return strings.ToUpper(input)
}

// A plugin's main is never called, but package main needs one.
func main() {}
