package web_test

import "testing"

// TestWasmLateServerMath: while rules.wasm has not arrived (here: never, its download fails),
// the chair types and the server's POST /api/v1/calc does the math: the threshold shows, Next
// works and the first alignment's rows say who is viable, with caucusCalc never defined.
func TestWasmLateServerMath(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.block(e.URL + "/static/rules.*")
	p.open("/")
	p.login(precinct5, e.PINs[precinct5])
	p.step("signin")
	p.typeCount("attendees", 100)
	p.wait(`document.getElementById("signin-math").textContent.includes("15")`)
	if eval[bool](p, `window.caucusReady === true || typeof window.caucusCalc === "function"`) {
		t.Fatal("the wasm loaded though it was blocked: the test proves nothing")
	}
	p.next("signin")
	p.step("first")
	p.counts("first", cleanFirst)
	p.wait(`document.getElementById("first-note-clark").classList.contains("notviable") && document.getElementById("first-note-adams").classList.contains("viable")`)
	p.next("first")
	p.step("final")
}
