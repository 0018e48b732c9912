// The app's greet service, in standard Go: plain net/http handlers, registered in init().
package main

import (
	"io"
	"net/http"
)

func init() {
	http.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello from greet, in Go!\n")
	})
}

// A library's main never runs: the host calls the handlers.
func main() {}
