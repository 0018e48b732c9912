// An HTTP service (the wasi:http/proxy world of WASI 0.2) on standard Go's net/http: the
// handlers registered on http.DefaultServeMux in init() answer every request. Every request
// gets a fresh instance, so nothing is shared between requests unless the host grants it.
package main

import (
	"io"
	"net/http"
)

func init() {
	// Go's patterns: a method and a path; another method gets 405 with Allow, another path 404.
	http.HandleFunc("GET /{$}", hello)
	http.HandleFunc("POST /echo", echo)
}

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Served-By", "{{name}}")
	io.WriteString(w, "Hello from {{name}}, a WebAssembly HTTP component!\n")
}

// The request's body, streamed back as it arrives.
func echo(w http.ResponseWriter, r *http.Request) {
	if kind := r.Header.Get("Content-Type"); kind != "" {
		w.Header().Set("Content-Type", kind)
	}
	io.Copy(w, r.Body)
}

// A library's main never runs: the host calls the handlers.
func main() {}
