package rules_test

import (
	"os"
	"testing"

	"caucus/internal/rules"
)

// BenchmarkCalc is one precinct's whole calculation (allocation, SDEs, every check) on a decoded
// input: the large-precinct vector (1,234 people, 12 delegates, 7 groups).
func BenchmarkCalc(b *testing.B) {
	data, err := os.ReadFile("testdata/vectors/57-large-precinct.json")
	if err != nil {
		b.Fatal(err)
	}
	var v vector
	if err := jsonUnmarshal(data, &v); err != nil {
		b.Fatal(err)
	}
	in, err := rules.Decode(v.Input, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rules.Calc(in)
	}
}

// BenchmarkCalcJSON adds decoding the JSON, as the server and the phone do.
func BenchmarkCalcJSON(b *testing.B) {
	data, err := os.ReadFile("testdata/vectors/57-large-precinct.json")
	if err != nil {
		b.Fatal(err)
	}
	var v vector
	if err := jsonUnmarshal(data, &v); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rules.CalcJSON(v.Input, "")
	}
}
