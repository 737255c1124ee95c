package rules_test

import (
	"encoding/json"
	"slices"
	"testing"

	"caucus/internal/rules"
)

// FuzzCalcJSON: any bytes give a well-formed result (checks sorted, each once; C01 alone with no
// groups), and a valid input is a fixed point of decode → canonical encode → decode: it
// calculates to exactly the same result.
func FuzzCalcJSON(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add([]byte(v.Input))
	}
	f.Add([]byte(`{"attendees": 1e3, "first": {}, "final": {}}`))
	f.Add([]byte(`{"attendees": 5, "first": {"a": 5, "a": 1}, "final": {}}`))
	f.Add([]byte(`[1, 2]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := rules.CalcJSON(data, "")
		out, err := json.Marshal(res)
		if err != nil {
			t.Fatalf("result does not marshal: %v", err)
		}
		if !slices.IsSortedFunc(res.Checks, func(a, b rules.Check) int { return compare(a.ID, b.ID) }) {
			t.Fatalf("checks not sorted: %v", res.Checks)
		}
		for i := 1; i < len(res.Checks); i++ {
			if res.Checks[i].ID == res.Checks[i-1].ID {
				t.Fatalf("check %s twice", res.Checks[i].ID)
			}
		}
		if res.Has(rules.C01) {
			if len(res.Checks) != 1 || len(res.Groups) != 0 || res.Threshold != nil || len(res.TiebreaksNeeded) != 0 {
				t.Fatalf("C01 result is not bare: %s", out)
			}
			return
		}
		in, err := rules.Decode(data, "")
		if err != nil {
			t.Fatalf("CalcJSON accepted what Decode refuses: %v", err)
		}
		canon, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := json.Marshal(rules.CalcJSON(canon, ""))
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(out) {
			t.Fatalf("not a fixed point:\ninput %s\ncanonical %s\nresult %s\nagain  %s", data, canon, out, again)
		}
	})
}

func compare(a, b rules.CheckID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
