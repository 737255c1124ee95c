package verify

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"strconv"

	"caucus/internal/audit"
	"caucus/internal/report"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
	"caucus/internal/tlog/c2sp"
)

// auditLeaf is an entry of the risk-limiting audit, with its log index.
type auditLeaf struct {
	idx int64
	e   *report.Entry
}

// checkAudit recomputes the risk-limiting audit from the log's audit entries alone: the results
// at the checkpoint the start names (recomputed here from the log, as for every published
// number), the seed and risk limit, and the hand counts give every contest's samples and
// measured risks (internal/audit's Replay); each sample and risk entry must be exactly one the
// replay gives, and the replay's must all be there.
func (v *run) checkAudit(l *ledger, profile rules.Profile, leaves []auditLeaf) {
	if len(leaves) == 0 {
		return
	}
	bad := func(idx int64, published, recomputed, detail string) {
		v.find(Finding{Check: "audit", Record: fmt.Sprintf("entry %d", idx), Published: published, Recomputed: recomputed, Detail: detail})
	}
	start := leaves[0]
	sa := start.e.Audit
	if sa.Event != report.AuditStart {
		bad(start.idx, sa.Event, report.AuditStart, "the audit's first entry must be its start")
		return
	}
	if sa.LogSize > start.idx {
		bad(start.idx, fmt.Sprintf("log size %d", sa.LogSize), fmt.Sprintf("at most %d", start.idx), "the start audits a checkpoint after itself")
		return
	}
	if root, err := c2sp.TreeHash(sa.LogSize, v.reader()); err != nil || hex.EncodeToString(root[:]) != sa.RootHash {
		bad(start.idx, "root hash "+sa.RootHash, "root hash "+hex.EncodeToString(root[:]), fmt.Sprintf("the tree of size %d", sa.LogSize))
	}
	// An audit of the certified results names the checkpoint of the state's certification in
	// force when it started; one that is not marked certified names a checkpoint of its own.
	if want, ok := l.stateCertificationAt(start.idx); sa.Certified && (!ok || want.LogSize == nil ||
		*want.LogSize != sa.LogSize || hexOfBase64(want.RootHash) != sa.RootHash) {
		bad(start.idx, fmt.Sprintf("certified checkpoint %d %s", sa.LogSize, sa.RootHash), "the state's certification in force",
			"the audit says it audits the certified results, but no state certification in force names its checkpoint")
	}
	alpha, err := audit.ParseRiskLimit(sa.RiskLimit)
	if err != nil {
		bad(start.idx, "risk limit "+sa.RiskLimit, "", err.Error())
		return
	}
	el, err := audit.FromPublished(l.rowsAt(v, sa.LogSize), l.ratioOf, profile)
	if err != nil {
		bad(start.idx, "", "", "the audit's contests: "+err.Error())
		return
	}
	hand := map[string]audit.HandCounted{}
	handAt := map[string]int64{} // the log index of each precinct's hand count
	logged := map[string]auditLeaf{}
	var sampled []string
	for _, lf := range leaves[1:] {
		a := lf.e.Audit
		switch a.Event {
		case report.AuditStart:
			bad(lf.idx, "a second start", "one start", "")
		case report.AuditHandCount:
			if _, dup := hand[a.PrecinctID]; dup {
				bad(lf.idx, "a second hand count of "+a.PrecinctID, "one", "")
				continue
			}
			if len(a.KeyedBy) != 2 || a.KeyedBy[0] == a.KeyedBy[1] {
				bad(lf.idx, fmt.Sprintf("keyed by %q", a.KeyedBy), "two operators", "")
			}
			if !slices.Contains(sampled, a.PrecinctID) {
				bad(lf.idx, "hand count of "+a.PrecinctID, "a precinct of the samples logged before it", "")
			}
			hand[a.PrecinctID] = audit.HandCounted{First: a.First, Final: a.Final}
			handAt[a.PrecinctID] = lf.idx
		default:
			k := a.Event + " " + a.Contest + " round " + strconv.Itoa(a.Round)
			if _, dup := logged[k]; dup {
				bad(lf.idx, k+" twice", "once", "")
			}
			logged[k] = lf
			for _, t := range a.Tickets {
				sampled = append(sampled, t.PrecinctID)
			}
		}
	}
	replays, err := el.Status(sa.Seed, alpha, hand)
	if err != nil {
		bad(start.idx, "", "", "the audit's replay: "+err.Error())
		return
	}
	want := 0
	for i, r := range replays {
		c := el.Contests[i]
		for k, ts := range r.RoundTickets() {
			key := fmt.Sprintf("%s %s round %d", report.AuditSample, c.Kind, k+1)
			want++
			exp := make([]report.AuditTicket, len(ts))
			for j, t := range ts {
				exp[j] = report.AuditTicket{Draw: t.Draw, Hash: t.HashHex(), PrecinctID: t.PrecinctID}
			}
			got, ok := logged[key]
			switch {
			case !ok:
				v.find(Finding{Check: "audit", Record: key, Published: "no entry", Recomputed: fmt.Sprintf("%d tickets", len(exp))})
			case !slices.Equal(got.e.Audit.Tickets, exp):
				v.find(Finding{Check: "audit", Record: fmt.Sprintf("entry %d (%s)", got.idx, key), Published: ticketsText(got.e.Audit.Tickets), Recomputed: ticketsText(exp)})
			}
			if k >= len(r.Progress.Rounds) {
				continue
			}
			rd := r.Progress.Rounds[k]
			status := audit.InProgress
			if k == len(r.Progress.Rounds)-1 {
				status = r.Progress.Status
			}
			key = fmt.Sprintf("%s %s round %d", report.AuditRisk, c.Kind, k+1)
			want++
			rec := fmt.Sprintf("draws %d risk %s status %s", rd.Draws, rd.Risk.String(), status)
			for _, o := range r.RoundOverstatements(ts) {
				rec += fmt.Sprintf(" e(%s)=%s", o.PrecinctID, o.E.String())
			}
			got, ok = logged[key]
			if !ok {
				v.find(Finding{Check: "audit", Record: key, Published: "no entry", Recomputed: rec})
				continue
			}
			pub := fmt.Sprintf("draws %d risk %s status %s", got.e.Audit.Draws, got.e.Audit.Risk, got.e.Audit.Status)
			for _, o := range got.e.Audit.Overstatements {
				pub += fmt.Sprintf(" e(%s)=%s", o.PrecinctID, o.E)
			}
			if pub != rec {
				v.find(Finding{Check: "audit", Record: fmt.Sprintf("entry %d (%s)", got.idx, key), Published: pub, Recomputed: rec})
			}
			// A round's risk is measured once its precincts are counted: after their hand counts.
			for _, t := range ts {
				if at := handAt[t.PrecinctID]; at > got.idx {
					v.find(Finding{Check: "audit", Record: fmt.Sprintf("entry %d (%s)", got.idx, key), Published: "before the hand count of " + t.PrecinctID,
						Recomputed: fmt.Sprintf("after it (entry %d)", at)})
					break
				}
			}
		}
	}
	if len(logged) != want {
		v.find(Finding{Check: "audit", Record: "samples and risks", Published: fmt.Sprintf("%d entries", len(logged)), Recomputed: fmt.Sprintf("%d", want)})
	}
	v.say("audit from seed %s at a risk limit of %s %% of the checkpoint of size %d: %d hand counts; every sample and measured risk recomputed", sa.Seed, sa.RiskLimit, sa.LogSize, len(hand))
	for i, r := range replays {
		v.say("  %s: %s after %d draws, risk %s", el.Contests[i].Kind, r.Progress.Status, len(r.Progress.Draws), r.Progress.Risk.String())
	}
}

func ticketsText(ts []report.AuditTicket) string {
	if len(ts) == 0 {
		return "no tickets"
	}
	return fmt.Sprintf("%d tickets, draw %d %s … %s", len(ts), ts[0].Draw, ts[0].PrecinctID, ts[len(ts)-1].PrecinctID)
}

// ratioOf is a county's SDE ratio, or nil.
func (l *ledger) ratioOf(countyID string) *big.Rat {
	for i, c := range l.counties {
		if c.ID == countyID {
			return l.ratios[i]
		}
	}
	return nil
}

// rowsAt is the results CSV's precincts at a log size, as recomputed here: every reporting
// precinct with each candidate's first and final alignment and, when it counts toward them, its
// SDEs.
func (l *ledger) rowsAt(v *run, size int64) []resultscsv.Precinct {
	var out []resultscsv.Precinct
	for _, pr := range l.order {
		st := v.at(pr, size)
		if st.res == nil {
			continue
		}
		cty := l.counties[pr.county]
		p := resultscsv.Precinct{CountyID: cty.ID, County: cty.Name, ID: pr.p.ID, Name: pr.p.Name,
			DelegatesToElect: int64(pr.p.DelegatesToElect), HasDelegatesToElect: !pr.p.FollowsAttendance(),
			Satellite: pr.p.Satellite, First: rules.Counts{}, Final: rules.Counts{}, SDE: map[string]string{}}
		for _, id := range l.ids {
			g := group(st.res, id)
			p.Candidates = append(p.Candidates, resultscsv.Candidate{ID: id, Name: id})
			p.First[id], p.Final[id] = g.First, g.Final
			if st.sde {
				p.SDE[id] = rules.SDE(dels(g), pr.ratio)
			}
		}
		out = append(out, p)
	}
	return out
}

// hexOfBase64 is a root hash written as a checkpoint writes it (standard base64) in the audit's
// hex; empty when it is not base64.
func hexOfBase64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || s == "" {
		return ""
	}
	return hex.EncodeToString(b)
}
