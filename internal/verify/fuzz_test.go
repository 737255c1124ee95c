package verify

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// FuzzOpenCheckpoint fuzzes verify's reading of a signed checkpoint (C2SP signed-note and
// tlog-checkpoint: x/mod's note.Open, c2sp.ParseCheckpoint, and verify's own rules on top) against
// code that is not ours. The fuzzer writes the note's text and what follows its signature; the
// text is signed with the log's key, so the inputs reach the checkpoint rules, not only the
// signature check. Properties, both ways: what openCheckpoint accepts, x/mod's note.Open accepts
// too, x/mod's tlog.ParseTree (the Go checksum database's reader of the same size and root lines
// under a fixed first line) reads the same size and root, the origin is the key's name, and the
// text is the canonical spelling of that checkpoint with no extension lines; and a text that is
// such a canonical spelling (by x/mod's reading and the spec's format), signed once, is always
// accepted.
func FuzzOpenCheckpoint(f *testing.F) {
	// A fixed test key (from a seed of zero bytes), so every run signs the same notes.
	skey, vkey, err := note.GenerateKey(bytes.NewReader(make([]byte, 64)), "caucus.example/fuzz")
	if err != nil {
		f.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		f.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		f.Fatal(err)
	}
	root := base64.StdEncoding.EncodeToString(make([]byte, 32))
	f.Add("caucus.example/fuzz\n1605\n"+root+"\n", "")
	f.Add("caucus.example/fuzz\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "")
	f.Add("caucus.example/fuzz\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextension\n", "")
	f.Add("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "")
	f.Add("caucus.example/fuzz\n01\n"+root+"\n", "")
	f.Add("caucus.example/fuzz\n7\n"+root+"\n", "— other.example/key AAAAAQ==\n")
	f.Add("caucus.example/fuzz\n7\n"+root+"\n", "dup")
	f.Fuzz(func(t *testing.T, text, tail string) {
		signed, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			return // not a note text: nothing to open
		}
		if tail == "dup" {
			i := bytes.LastIndex(signed, []byte("\n\n"))
			signed = append(signed, signed[i+2:]...)
		} else {
			signed = append(signed, tail...)
		}
		// x/mod's reading of the text, and whether the text is the one canonical spelling of
		// what x/mod read with the log's origin.
		var x tlog.Tree
		canonical := false
		if origin, rest, ok := strings.Cut(text, "\n"); ok {
			var err error
			x, err = tlog.ParseTree([]byte("go.sum database tree\n" + rest))
			canonical = err == nil && origin == verifier.Name() && text == canonicalText(origin, x.N, x.Hash)
		}
		cp, finding := openCheckpoint(signed, verifier)
		if finding != nil {
			if finding.Check == "" || finding.Record == "" {
				t.Fatalf("a finding that names no check or record: %+v", finding)
			}
			if tail == "" && finding.Check == "signed note" && (finding.Record == "bad signature" || finding.Record == "no signature by the log's key") {
				t.Fatalf("our own signature refused: %s", finding)
			}
			if tail == "" && canonical {
				t.Fatalf("canonical checkpoint %q refused: %s", text, finding)
			}
			return
		}
		if _, err := note.Open(signed, note.VerifierList(verifier)); err != nil {
			t.Fatalf("openCheckpoint accepted a note x/mod refuses (%v):\n%q", err, signed)
		}
		if !canonical || x.N != cp.N || x.Hash != cp.Hash || cp.Origin != verifier.Name() {
			t.Fatalf("openCheckpoint read %q as %+v; x/mod reads %+v, canonical %v", text, cp, x, canonical)
		}
	})
}

// canonicalText is a checkpoint's text as C2SP tlog-checkpoint spells it, written here from the
// spec rather than by c2sp's Marshal, which this fuzz target checks.
func canonicalText(origin string, n int64, h tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, n, base64.StdEncoding.EncodeToString(h[:]))
}
