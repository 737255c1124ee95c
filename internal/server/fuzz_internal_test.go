package server

import (
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// FuzzNormalizePhone: whatever a chair (or anyone, on the call-back route) types is either
// refused with a sentence naming the phone field, or becomes an E.164 number that normalises to
// itself: nothing else reaches headquarters' list, a spreadsheet or a dialler.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"515-555-0101", "(515) 555 0101", "+44 20 7946 0958", "1 515 555 0101",
		"=HYPERLINK(\"x\")", "<script>", "515\u202e5550101", "５１５５５５０１０１", "", "+", "+0123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := normalizePhone(in)
		if err != nil {
			if out != "" {
				t.Fatalf("%q refused (%v) but gave %q", in, err, out)
			}
			if msg := err.Error(); len(msg) < 7 || msg[:6] != "phone:" {
				t.Fatalf("%q: the refusal does not name the field: %q", in, msg)
			}
			return
		}
		if !e164.MatchString(out) {
			t.Fatalf("%q became %q, not an E.164 number", in, out)
		}
		if again, err := normalizePhone(out); err != nil || again != out {
			t.Fatalf("%q → %q → %q, %v: not a fixed point", in, out, again, err)
		}
	})
}

// FuzzClientAddr: whatever X-Forwarded-For a client sends, an untrusted peer is its own address,
// and behind a trusted proxy the answer is the peer or one of the header's hops, never
// something the header does not hold; it never panics.
func FuzzClientAddr(f *testing.F) {
	f.Add("203.0.113.7", "10.0.0.1:4000")
	f.Add("203.0.113.7, 10.0.0.2", "10.0.0.1:4000")
	f.Add("junk, 2001:db8::1", "10.0.0.1:4000")
	f.Add("::ffff:1.2.3.4,,", "[::1]:80")
	f.Add("203.0.113.7", "198.51.100.1:4000")
	s := &Server{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	f.Fuzz(func(t *testing.T, xff, remote string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		got := s.clientAddr(r)
		if !got.IsValid() {
			t.Fatalf("%q via %q: invalid address", xff, remote)
		}
		ap, err := netip.ParseAddrPort(remote)
		if err != nil {
			return
		}
		peer := ap.Addr().Unmap()
		if !trusted(s.trusted, peer) {
			if got != peer {
				t.Fatalf("untrusted peer %v sent %q and became %v", peer, xff, got)
			}
			return
		}
		if got == peer {
			return
		}
		found := false
		for _, hop := range splitHops(xff) {
			if a, err := netip.ParseAddr(hop); err == nil && a.Unmap() == got {
				found = true
			}
		}
		if !found {
			t.Fatalf("%q via %v gave %v, which the header does not hold", xff, peer, got)
		}
	})
}

// splitHops is the header's comma-separated hops, trimmed as clientAddr trims them.
func splitHops(s string) []string {
	hops := strings.Split(s, ",")
	for i, h := range hops {
		hops[i] = strings.TrimSpace(h)
	}
	return hops
}
