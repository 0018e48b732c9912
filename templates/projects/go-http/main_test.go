package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// `wasmforge test` runs this under wasip1, in the sandbox: the handlers are plain net/http.
func TestHello(t *testing.T) {
	w := httptest.NewRecorder()
	http.DefaultServeMux.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "Hello from {{name}}") {
		t.Errorf("GET / = %d %q", w.Code, w.Body.String())
	}
}

func TestEcho(t *testing.T) {
	w := httptest.NewRecorder()
	http.DefaultServeMux.ServeHTTP(w, httptest.NewRequest("POST", "/echo", strings.NewReader("ping")))
	if w.Body.String() != "ping" {
		t.Errorf("POST /echo = %q, want %q", w.Body.String(), "ping")
	}
}
