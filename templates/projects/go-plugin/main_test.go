package main

import "testing"

// `wasmforge test` runs this under wasip1, in the sandbox.
func TestTransform(t *testing.T) {
	if got := Transform("abc"); got != "ABC" {
		t.Errorf(`Transform("abc") = %q, want "ABC"`, got)
	}
}
