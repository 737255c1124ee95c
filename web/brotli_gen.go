//go:build ignore

// brotli_gen writes FILE.br, FILE in brotli at the best quality, for files too large to
// compress when the server starts (go generate ./web runs it for rules.wasm).
package main

import (
	"log"
	"os"

	"caucus/web"
)

func main() {
	for _, name := range os.Args[1:] {
		data, err := os.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(name+".br", web.Brotli(data), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
