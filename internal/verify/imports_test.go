package verify

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the verifier independent (STYLE.md §1): it shares the math and the wire
// formats, never a server code path.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"caucus/internal/store", "caucus/internal/server", "caucus/internal/intake", "caucus/internal/tally", "caucus/internal/tlog"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("internal/verify depends on %s", dep)
			}
		}
	}
}
