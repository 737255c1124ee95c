package verify

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
	xtlog "golang.org/x/mod/sumdb/tlog"

	"caucus/internal/tlog/c2sp"
)

// FuzzOpenCheckpoint fuzzes verify's own reading of a signed checkpoint (C2SP signed-note and
// tlog-checkpoint). The fuzzer writes the note's text and what follows its signature; the text
// is signed with the log's key, so the inputs reach the checkpoint rules, not only the
// signature check. Properties: what openCheckpoint accepts, the server's independent parser
// (internal/tlog/c2sp.ParseCheckpoint) accepts too, with the same origin, size and root, no extension
// lines, and the text is the canonical encoding of that checkpoint (a round trip); x/mod's
// note.Open accepts the note; and a canonical checkpoint text with the log's origin, signed once,
// is always accepted.
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
		cp, finding := openCheckpoint(signed, verifier)
		if finding != nil {
			if finding.Check == "" || finding.Record == "" {
				t.Fatalf("a finding that names no check or record: %+v", finding)
			}
			if tail == "" && finding.Check == "signed note" && (finding.Record == "bad signature" || finding.Record == "no signature by the log's key") {
				t.Fatalf("our own signature refused: %s", finding)
			}
			// A canonical checkpoint of the log's origin, signed once by its key, must open.
			if c, ext, err := c2sp.ParseCheckpoint([]byte(text)); tail == "" && err == nil && len(ext) == 0 && c.Origin == verifier.Name() {
				t.Fatalf("canonical checkpoint %q refused: %s", text, finding)
			}
			return
		}
		if _, err := note.Open(signed, note.VerifierList(verifier)); err != nil {
			t.Fatalf("openCheckpoint accepted a note x/mod refuses (%v):\n%q", err, signed)
		}
		c, ext, err := c2sp.ParseCheckpoint([]byte(text))
		if err != nil || len(ext) != 0 {
			t.Fatalf("openCheckpoint accepted %q, the server's parser says %v (extensions %q)", text, err, ext)
		}
		if c.Origin != cp.Origin || c.N != cp.N || c.Hash != xtlog.Hash(cp.Hash) || cp.Origin != verifier.Name() {
			t.Fatalf("the parsers disagree on %q: %+v vs %+v", text, cp, c)
		}
		if again := fmt.Sprintf("%s\n%d\n%s\n", cp.Origin, cp.N, b64(cp.Hash)); again != text {
			t.Fatalf("accepted a text that is not the canonical encoding of its checkpoint: %q, re-encoded %q", text, again)
		}
	})
}
