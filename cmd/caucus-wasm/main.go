//go:build js && wasm

// Command caucus-wasm is internal/rules compiled to WebAssembly for the chair's phone: the math
// the page shows is the server's math, byte for byte (one source of truth, so a chair never
// sees numbers the server would compute differently).
//
// It exposes one JavaScript function, caucusCalc(inputJSON) → resultJSON, taking the `caucus
// calc` input (spec/interfaces.md: the report plus delegates_to_elect, sde_ratio, satellite,
// candidates, rules) and returning the `caucus calc --json` object with viable_first. Then it
// sets caucusReady = true and blocks forever, so the function stays callable.
//
// Build it with web/gen.go (go generate ./web); the result, web/static/rules.wasm, is committed
// and a test fails when it is stale.
package main

import (
	"encoding/json"
	"syscall/js"

	"caucus/internal/rules"
)

func main() {
	js.Global().Set("caucusCalc", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) != 1 || args[0].Type() != js.TypeString {
			return `{"error":"caucusCalc takes one JSON string"}`
		}
		out, err := json.Marshal(rules.CalcJSON([]byte(args[0].String()), ""))
		if err != nil {
			return `{"error":"internal error"}`
		}
		return string(out)
	}))
	js.Global().Set("caucusReady", true)
	if cb := js.Global().Get("onCaucusReady"); cb.Type() == js.TypeFunction {
		cb.Invoke()
	}
	select {}
}
