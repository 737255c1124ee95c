package tally

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestPvec: a persistent vector reads as the slice it models after any batches of changes, and
// every earlier version still reads as its own slice.
func TestPvec(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 3000).Draw(t, "n")
		model := make([]int, n)
		for i := range model {
			model[i] = i
		}
		v := newPvec(model)
		type version struct {
			v     pvec[int]
			model []int
		}
		versions := []version{{v, slices.Clone(model)}}
		if n > 0 {
			for range rapid.IntRange(0, 8).Draw(t, "batches") {
				b := v.Edit()
				for range rapid.IntRange(0, 40).Draw(t, "sets") {
					i := rapid.IntRange(0, n-1).Draw(t, "i")
					x := rapid.Int().Draw(t, "x")
					b.Set(i, x)
					model[i] = x
				}
				v = b.Done()
				versions = append(versions, version{v, slices.Clone(model)})
			}
		}
		for k, ver := range versions {
			if ver.v.Len() != len(ver.model) {
				t.Fatalf("version %d: len %d, want %d", k, ver.v.Len(), len(ver.model))
			}
			var all []int
			ver.v.All(func(i, x int) bool {
				if i != len(all) {
					t.Fatalf("version %d: All gave index %d after %d values", k, i, len(all))
				}
				all = append(all, x)
				return true
			})
			if !slices.Equal(all, ver.model) && !(len(all) == 0 && len(ver.model) == 0) {
				t.Fatalf("version %d: All gives %v, want %v", k, all, ver.model)
			}
			for i, want := range ver.model {
				if got := ver.v.Get(i); got != want {
					t.Fatalf("version %d: Get(%d) = %d, want %d", k, i, got, want)
				}
			}
		}
	})
}
