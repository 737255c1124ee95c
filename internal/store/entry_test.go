package store

import (
	"encoding/hex"
	"testing"
)

func TestLeafHash(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		// RFC 6962 §2.1: the hash of the empty leaf; golang.org/x/mod/sumdb/tlog.RecordHash agrees.
		{"", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
		{"\x00", "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"},
	} {
		got := LeafHash([]byte(tt.body))
		if hex.EncodeToString(got[:]) != tt.want {
			t.Errorf("LeafHash(%q) = %x, want %s", tt.body, got, tt.want)
		}
	}
}

func TestAuditKindsClosed(t *testing.T) {
	seen := map[AuditKind]bool{}
	for _, k := range AuditKinds {
		if seen[k] || !k.Valid() {
			t.Errorf("audit kind %q duplicated or invalid", k)
		}
		seen[k] = true
	}
	if AuditKind("coffee_break").Valid() {
		t.Error("an unknown kind is valid")
	}
}
