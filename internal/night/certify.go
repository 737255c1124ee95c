package night

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/store"
	"caucus/internal/tally"
)

// ErrCertified is the refusal of a decision for a precinct of a certified scope (its county, or
// the state): the certification must be withdrawn first, on the record. A *RefusedError wraps it.
var ErrCertified = errors.New("the precinct's results are certified")

// ErrUnsettled is the refusal of a certification while its scope has precincts not reported or
// under review, or, for the state, counties not certified. An *UnsettledError wraps it.
var ErrUnsettled = errors.New("the scope is not settled")

// UnsettledError names what a certification waits for.
type UnsettledError struct {
	Scope     string
	Precincts []tally.UnsettledPrecinct // not reported or under review
	Counties  []string                  // for the state: the counties not certified
}

func (e *UnsettledError) Error() string {
	var parts []string
	if n := len(e.Precincts); n > 0 {
		ids := make([]string, 0, min(n, 10))
		for _, p := range e.Precincts[:min(n, 10)] {
			ids = append(ids, p.PrecinctID+" ("+string(p.Status)+")")
		}
		more := ""
		if n > 10 {
			more = fmt.Sprintf(" and %d more", n-10)
		}
		parts = append(parts, fmt.Sprintf("%d precincts unsettled: %s%s", n, strings.Join(ids, ", "), more))
	}
	if n := len(e.Counties); n > 0 {
		parts = append(parts, fmt.Sprintf("%d counties not certified: %s", n, strings.Join(e.Counties[:min(n, 10)], ", ")))
	}
	return fmt.Sprintf("%s cannot be certified yet: %s", e.Scope, strings.Join(parts, "; "))
}

func (e *UnsettledError) Unwrap() error { return ErrUnsettled }

// Certification is a certifier's act on a scope: certify it, or withdraw its certification.
type Certification struct {
	Scope  string // "county:ID" or "state"
	Author string // the certifier's username
	Reason string // required to withdraw; optional to certify
}

// checkScope refuses a scope the election does not have.
func (n *Night) checkScope(scope string) error {
	county, ok := report.ParseScope(scope)
	if !ok {
		return refused("scope %q is not \"state\" nor \"county:ID\"", scope)
	}
	if _, known := n.def.County(county); county != "" && !known {
		return refused("county %q is not in this election", county)
	}
	return nil
}

// Certify appends a certification of c.Scope naming the checkpoint it certifies: the tree of
// the log as the certification is decided, every entry stored before it was read (log_size, and
// its root hash). That is the log just before the certification entry unless a chair's report
// was committed in between; such a report is after the certified checkpoint and puts its precinct
// under review like any late report. It is refused (*UnsettledError) while any precinct of the
// scope is not reported or under review, and for the state while any county is not certified;
// a scope already certified is refused too (*RefusedError).
func (n *Night) Certify(ctx context.Context, c Certification) (store.Entry, error) {
	if err := n.checkScope(c.Scope); err != nil {
		return store.Entry{}, err
	}
	if strings.TrimSpace(c.Author) == "" {
		return store.Entry{}, refused("a certification needs its certifier")
	}
	var e store.Entry
	err := n.exclusive(ctx, func(ctx context.Context) (err error) {
		e, err = n.certify(ctx, c)
		return err
	})
	return e, err
}

func (n *Night) certify(ctx context.Context, c Certification) (store.Entry, error) {
	snap, err := n.current(ctx)
	if err != nil {
		return store.Entry{}, err
	}
	if snap.Certified(c.Scope) {
		return store.Entry{}, refused("%s is already certified", c.Scope)
	}
	county, _ := report.ParseScope(c.Scope)
	un := &UnsettledError{Scope: c.Scope, Precincts: snap.Unsettled(county)}
	if county == "" {
		for _, cty := range n.def.Counties() {
			if !snap.Certified(report.CountyScope(cty.ID)) {
				un.Counties = append(un.Counties, cty.ID)
			}
		}
	}
	if len(un.Precincts) > 0 || len(un.Counties) > 0 {
		return store.Entry{}, un
	}
	size := snap.LogSize()
	root, ok := n.tlog.RootHash(size)
	if !ok {
		return store.Entry{}, fmt.Errorf("certify: the log has no tree of size %d", size)
	}
	leaf := n.certLeaf(c, report.Certified)
	leaf.LogSize, leaf.RootHash = &size, base64.StdEncoding.EncodeToString(root[:])
	return n.appendCert(ctx, leaf)
}

// Withdraw appends the withdrawal of c.Scope's certification, with its reason, so that its
// precincts can be corrected or decided again. A county's certification is withdrawn only once
// the state's is (the state's certification rests on every county's).
func (n *Night) Withdraw(ctx context.Context, c Certification) (store.Entry, error) {
	if err := n.checkScope(c.Scope); err != nil {
		return store.Entry{}, err
	}
	switch {
	case strings.TrimSpace(c.Author) == "":
		return store.Entry{}, refused("a withdrawal needs its certifier")
	case strings.TrimSpace(c.Reason) == "":
		return store.Entry{}, refused("a withdrawal needs its reason")
	}
	var e store.Entry
	err := n.exclusive(ctx, func(ctx context.Context) (err error) {
		e, err = n.withdraw(ctx, c)
		return err
	})
	return e, err
}

func (n *Night) withdraw(ctx context.Context, c Certification) (store.Entry, error) {
	snap, err := n.current(ctx)
	if err != nil {
		return store.Entry{}, err
	}
	if !snap.Certified(c.Scope) {
		return store.Entry{}, refused("%s is not certified", c.Scope)
	}
	if c.Scope != report.StateScope && snap.Certified(report.StateScope) {
		return store.Entry{}, refused("the state is certified: withdraw the state's certification first")
	}
	return n.appendCert(ctx, n.certLeaf(c, report.Withdrawn))
}

// current brings the tally up to every entry stored so far and returns its snapshot.
func (n *Night) current(ctx context.Context) (*tally.Snapshot, error) {
	size, err := n.store.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("read log size: %w", err)
	}
	if err := n.follow(ctx, size); err != nil {
		return nil, err
	}
	return n.Snapshot(), nil
}

func (n *Night) certLeaf(c Certification, decision string) report.Entry {
	now := n.now().UTC().Truncate(time.Millisecond)
	return report.Entry{Kind: report.KindCertification, ElectionID: n.def.Election().ID, PrecinctID: c.Scope,
		ReceivedAt: report.FormatTime(now), Submitter: c.Author, Channel: string(store.ChannelStaff),
		Reason: strings.TrimSpace(c.Reason), Decision: decision}
}

// appendCert appends a certification entry and brings the log and the tally up to it.
func (n *Night) appendCert(ctx context.Context, leaf report.Entry) (store.Entry, error) {
	at, err := time.Parse(report.TimeFormat, leaf.ReceivedAt)
	if err != nil {
		return store.Entry{}, err
	}
	status := store.StatusCertified
	if leaf.Decision == report.Withdrawn {
		status = store.StatusWithdrawn
	}
	ne := store.NewEntry{Kind: store.KindCertification, PrecinctID: leaf.PrecinctID, Submitter: leaf.Submitter,
		Channel: store.ChannelStaff, ReceivedAt: at, Body: leaf.Marshal(), Status: status}
	res, err := n.store.Append(ctx, []store.NewEntry{ne})
	if err != nil {
		return store.Entry{}, fmt.Errorf("append certification: %w", err)
	}
	if len(res) != 1 {
		return store.Entry{}, fmt.Errorf("append certification: the store answered %d results for one entry", len(res))
	}
	r := res[0]
	switch r.Outcome {
	case store.Appended:
	case store.Invalid:
		return store.Entry{}, &RefusedError{Message: r.Err.Error(), Err: r.Err}
	default:
		return store.Entry{}, fmt.Errorf("append certification: outcome %s: %w", r.Outcome, r.Err)
	}
	if err := n.follow(context.WithoutCancel(ctx), r.Entry.Index+1); err != nil {
		return store.Entry{}, fmt.Errorf("follow certification %d: %w", r.Entry.Index, err)
	}
	return r.Entry, nil
}

// checkCertified refuses a decision for a precinct of a certified scope.
func (n *Night) checkCertified(precinctID string) error {
	snap := n.Snapshot()
	county, ok := snap.CountyOf(precinctID)
	if !ok {
		return nil
	}
	for _, scope := range []string{report.CountyScope(county), report.StateScope} {
		if snap.Certified(scope) {
			return &RefusedError{Err: ErrCertified, Message: fmt.Sprintf(
				"precinct %s is in %s, which is certified: the certification must be withdrawn first, with its reason", precinctID, scope)}
		}
	}
	return nil
}

// Certifications is every certification of the log, with the checkpoint each names.
func (n *Night) Certifications() results.Certifications { return n.Snapshot().Certifications() }

// certified keeps the results computed at each certification's checkpoint, by its log index.
type certified struct {
	mu   sync.Mutex
	snap map[int64]*tally.Snapshot
}

// CertifiedResults is the certification at log index idx and the results at the checkpoint it
// names: a tally of the log's first log_size entries under the night's publication policy, the
// same snapshot /api/v1/results was at that size. false when idx is no certification (a withdrawal is none).
func (n *Night) CertifiedResults(ctx context.Context, idx int64) (results.Certification, *tally.Snapshot, bool, error) {
	var cert results.Certification
	found := false
	for _, c := range n.Snapshot().Certifications().Certifications {
		if c.LogIndex == idx && c.Decision == report.Certified {
			cert, found = c, true
		}
	}
	if !found {
		return cert, nil, false, nil
	}
	n.certified.mu.Lock()
	defer n.certified.mu.Unlock()
	if s := n.certified.snap[idx]; s != nil {
		return cert, s, true, nil
	}
	t := tally.NewWithLog(n.def, nightLog{n.tlog}.names())
	if err := t.SetPolicy(n.Policy()); err != nil {
		return cert, nil, false, err
	}
	for from := int64(0); from < *cert.LogSize; {
		to := min(*cert.LogSize, from+rebuildChunk)
		es, err := n.store.Entries(ctx, from, to)
		if err != nil {
			return cert, nil, false, fmt.Errorf("read entries %d to %d: %w", from, to, err)
		}
		if len(es) == 0 {
			return cert, nil, false, fmt.Errorf("the log ends at %d, before the certified size %d", from, *cert.LogSize)
		}
		if err := t.Apply(es...); err != nil {
			return cert, nil, false, err
		}
		from += int64(len(es))
	}
	if n.certified.snap == nil {
		n.certified.snap = map[int64]*tally.Snapshot{}
	}
	s := t.Snapshot()
	n.certified.snap[idx] = s
	return cert, s, true, nil
}
