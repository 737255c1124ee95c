package export

import (
	"bytes"
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"caucus/internal/store"
)

// TableReader reads a table's rows, as Tx.Read does.
type TableReader interface {
	Read(ctx context.Context, t *Table, emit func(raw []any) error) error
}

func table(name string) *Table {
	for i := range Tables {
		if Tables[i].Name == name {
			return &Tables[i]
		}
	}
	panic("export: no table " + name)
}

// Check checks an election as a store holds it: the log's indices are dense and each leaf hash
// is the hash of its entry's bytes; the tree of the stored entries has, at the size of want (the
// exported checkpoint, nil when none was signed), want's root hash; the stored checkpoint is the
// one want describes; and the precincts' states are what replaying the log through store.Next
// gives (every field but the time of the last change). Every failure wraps ErrMismatch.
func Check(ctx context.Context, r TableReader, want *Checkpoint) error {
	var hashes []tlog.Hash
	var n int64
	var roots []tlog.Hash // the root at want's size, once the tree reaches it
	states := map[string]store.PrecinctState{}
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(hashes)) {
				return nil, fmt.Errorf("stored hash %d not in the tree", x)
			}
			out[i] = hashes[x]
		}
		return out, nil
	})
	treeAt := func() error {
		if want != nil && n == want.Size {
			h, err := tlog.TreeHash(n, reader)
			if err != nil {
				return err
			}
			roots = append(roots, h)
		}
		return nil
	}
	if err := treeAt(); err != nil {
		return err
	}
	err := r.Read(ctx, table("entries"), func(raw []any) error {
		row, err := Normalize(table("entries"), raw)
		if err != nil {
			return err
		}
		idx, body, leaf := row[0].(int64), row[7].([]byte), row[8].([]byte)
		if idx != n {
			return fmt.Errorf("%w: entry %d where %d was due: the log is not dense", ErrMismatch, idx, n)
		}
		h := tlog.RecordHash(body)
		if !bytes.Equal(h[:], leaf) {
			return fmt.Errorf("%w: entry %d: its leaf hash is not the hash of its bytes", ErrMismatch, idx)
		}
		more, err := tlog.StoredHashesForRecordHash(n, h, reader)
		if err != nil {
			return err
		}
		hashes = append(hashes, more...)
		n++
		if err := treeAt(); err != nil {
			return err
		}
		e := store.NewEntry{Kind: store.Kind(row[1].(string)), PrecinctID: row[2].(string), Status: store.Status(row[9].(string))}
		if c, ok := row[10].(int64); ok {
			e.Counts = &c
		}
		prev, ok := states[e.PrecinctID]
		if !ok {
			prev = store.EmptyState(e.PrecinctID)
		}
		st, status, _, err := store.Next(prev, &e, idx, prev.UpdatedAt)
		if err != nil {
			return fmt.Errorf("%w: replay entry %d: %w", ErrMismatch, idx, err)
		}
		if status != e.Status {
			return fmt.Errorf("%w: entry %d: stored status %s, the replay gives %s", ErrMismatch, idx, e.Status, status)
		}
		// An audit's entry is no precinct's and a certification's is a scope's: Next leaves
		// every state alone.
		if e.Kind != store.KindAudit && e.Kind != store.KindCertification {
			states[e.PrecinctID] = st
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the log: %w", err)
	}
	if want != nil {
		if len(roots) != 1 {
			return fmt.Errorf("%w: the checkpoint is of %d entries, the log has %d", ErrMismatch, want.Size, n)
		}
		if !bytes.Equal(roots[0][:], want.Root) {
			return fmt.Errorf("%w: the tree of the first %d entries has root %x, the checkpoint %x", ErrMismatch, want.Size, roots[0][:], want.Root)
		}
	}
	var stored *Checkpoint
	err = r.Read(ctx, table("kv"), func(raw []any) error {
		row, err := Normalize(table("kv"), raw)
		if err != nil || row[0] != checkpointValue {
			return err
		}
		c, err := parseCheckpoint(row[1].([]byte))
		if err != nil {
			return fmt.Errorf("%w: the stored checkpoint: %w", ErrMismatch, err)
		}
		stored = &c
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the checkpoint: %w", err)
	}
	if (stored == nil) != (want == nil) || stored != nil && (stored.Size != want.Size || !bytes.Equal(stored.Root, want.Root)) {
		return fmt.Errorf("%w: the stored checkpoint is not the exported one", ErrMismatch)
	}
	seen := 0
	err = r.Read(ctx, table("precinct_state"), func(raw []any) error {
		row, err := Normalize(table("precinct_state"), raw)
		if err != nil {
			return err
		}
		got := store.PrecinctState{PrecinctID: row[0].(string), Status: store.Status(row[1].(string)), Counted: store.NoIndex,
			Reports: row[3].(int64), Conflict: row[4].(bool), LastIndex: row[5].(int64)}
		if c, ok := row[2].(int64); ok {
			got.Counted = c
		}
		want, ok := states[got.PrecinctID]
		want.UpdatedAt = got.UpdatedAt
		if !ok || got != want {
			return fmt.Errorf("%w: precinct %q: stored state %+v, the replay gives %+v", ErrMismatch, got.PrecinctID, got, want)
		}
		seen++
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the precincts' states: %w", err)
	}
	if seen != len(states) {
		return fmt.Errorf("%w: %d precincts have entries, %d have a stored state", ErrMismatch, len(states), seen)
	}
	return nil
}
