package web

// rules.wasm is internal/rules for the phone, built reproducibly; wasm_exec.js is the Go
// runtime's loader of the same Go version. TestWasmFresh fails when either is stale.
//go:generate sh -c "CGO_ENABLED=0 GOOS=js GOARCH=wasm go build -trimpath -ldflags='-s -w' -o static/rules.wasm ../cmd/caucus-wasm"
//go:generate sh -c "cp \"$(go env GOROOT)/lib/wasm/wasm_exec.js\" static/wasm_exec.js"
