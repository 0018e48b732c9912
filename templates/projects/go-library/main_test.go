package main

import "testing"

// `wasmforge test` runs this under GOOS=wasip1, in the sandbox.
func TestAdd(t *testing.T) {
	if got := add(2, 40); got != 42 {
		t.Errorf("add(2, 40) = %d", got)
	}
}
