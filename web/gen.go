package web

// rules.wasm is internal/rules for the phone, built reproducibly; wasm_exec.js is the Go
// runtime's loader of the same Go version; rules.wasm.br is rules.wasm in brotli, compressed here
// once (about 20 s) rather than at every start. TestWasmFresh fails when any is stale.
//go:generate sh -c "CGO_ENABLED=0 GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o static/rules.wasm ../cmd/caucus-wasm"
//go:generate sh -c "cp \"$(go env GOROOT)/lib/wasm/wasm_exec.js\" static/wasm_exec.js"
//go:generate go run brotli_gen.go static/rules.wasm
