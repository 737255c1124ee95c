package rules

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandardLibraryOnly keeps the math pure and portable (doc.go): the package and everything
// it imports, test files aside, are the standard library's, so the server, the verifier and the
// phone's WebAssembly build the very same code with nothing else.
func TestStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, _ := strings.Cut(line, " ")
		n++
		if std != "true" && path != "caucus/internal/rules" {
			t.Errorf("internal/rules depends on %s, which is not the standard library", path)
		}
	}
	if n < 10 {
		t.Fatalf("go list named only %d packages:\n%s", n, out)
	}
}
