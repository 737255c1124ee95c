package web_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// attachPhoto gives the photo step a camera's file: a generated 2400 × 1800 image.
func (p *page) attachPhoto() {
	p.t.Helper()
	eval[bool](p, `(async () => {
		const c = new OffscreenCanvas(2400, 1800); const g = c.getContext("2d");
		g.fillStyle = "#fff"; g.fillRect(0, 0, 2400, 1800); g.fillStyle = "#000"; g.font = "200px sans-serif"; g.fillText("adams 2 baker 2", 100, 900);
		const blob = await c.convertToBlob({type: "image/png"});
		const dt = new DataTransfer(); dt.items.add(new File([blob], "worksheet.png", {type: "image/png"}));
		const inp = document.getElementById("photo"); inp.files = dt.files; inp.dispatchEvent(new Event("change"));
		return true })()`)
	p.wait(`document.getElementById("photo-info").textContent.includes("KB")`)
}

// TestQuota: past the precinct's quota of photos the report goes without its photo, at once,
// and the receipt says why (a 429 that is not "busy" is never retried: the quota would refuse
// every retry and the report would wait on the phone for good); past the quota of call-backs
// the request is answered, not kept and retried, and the chair is told headquarters has it.
func TestQuota(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.fillToDelegates(precinct4, 100, cleanFirst, cleanFinal, "")
	p.next("delegates")
	p.step("worksheet")
	p.next("worksheet")
	p.step("photo")
	p.attachPhoto()
	p.next("photo")
	p.step("review")
	e.quota.Store(true)
	p.submit()
	p.step("receipt")
	p.wait(`document.getElementById("receipt-state").textContent.includes("Accepted")`)
	p.shot("quota-01-photo")
	if got := p.text("#receipt"); !strings.Contains(got, "Photo not sent") || !strings.Contains(got, "past its quota") {
		t.Errorf("receipt = %q, want the photo's refusal", got)
	}
	if n := e.served("/api/v1/photos"); n != 1 {
		t.Errorf("the photo was sent %d times, want once", n)
	}
	es := e.entries(false, precinct4)
	if len(es) != 1 {
		t.Fatalf("%d entries stored, want 1", len(es))
	}
	var entry struct {
		Report map[string]any `json:"report"`
	}
	if err := json.Unmarshal(es[0].Body, &entry); err != nil {
		t.Fatal(err)
	}
	if _, ok := entry.Report["photo_sha256"]; ok {
		t.Errorf("stored report %s names a photo the server refused", es[0].Body)
	}

	p.do(clickCSS("#callback-box summary"))
	p.typeText("cb-phone", "515 555 0101")
	p.do(clickCSS("#callback-form button"))
	p.wait(`document.getElementById("cb-result").textContent.includes("Headquarters already has this precinct's call-back requests")`)
	p.shot("quota-02-callback")
	if n := eval[int](p, `(JSON.parse(localStorage.getItem("caucus.callbacks")) || []).length`); n != 0 {
		t.Errorf("%d call-backs still queued on the phone, to be retried", n)
	}
	if n := e.served("/api/v1/callbacks"); n != 1 {
		t.Errorf("the call-back was sent %d times, want once", n)
	}
}
