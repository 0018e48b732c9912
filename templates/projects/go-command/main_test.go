package main

import (
	"strings"
	"testing"
)

func TestGreetsByName(t *testing.T) {
	if got := greeting("Ada"); !strings.HasPrefix(got, "Hello, Ada!") {
		t.Errorf("greeting(%q) = %q", "Ada", got)
	}
}
