package store

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"
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

// TestAuditEntry: an entry of a risk-limiting audit belongs to no precinct and changes no
// precinct's state.
func TestAuditEntry(t *testing.T) {
	e := NewEntry{Kind: KindAudit, Submitter: "ann", Channel: ChannelStaff, Body: []byte(`{}`)}
	if err := e.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, bad := range []func(*NewEntry){
		func(e *NewEntry) { e.PrecinctID = "p1" },
		func(e *NewEntry) { e.Status = StatusAccepted },
		func(e *NewEntry) { c := int64(0); e.Counts = &c },
		func(e *NewEntry) { e.Content = []byte{1} },
	} {
		b := e
		bad(&b)
		if err := b.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalid", b, err)
		}
	}
	prev := PrecinctState{PrecinctID: "p1", Status: StatusAccepted, Counted: 3, Reports: 1, LastIndex: 3}
	next, status, outcome, err := Next(prev, &e, 9, time.Unix(1, 0))
	if err != nil || next != prev || status != "" || outcome != Appended {
		t.Errorf("Next = %+v, %q, %v, %v; want the state unchanged", next, status, outcome, err)
	}
}
