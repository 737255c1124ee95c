package verify

import (
	"context"
	"fmt"
	"strconv"

	"caucus/internal/client"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/tlog/c2sp"
)

// certEntry is a certification entry of the log.
type certEntry struct {
	idx int64
	le  *report.Entry
}

// certifiedAt reports whether a scope is certified by the log's first size entries.
func (l *ledger) certifiedAt(scope string, size int64) bool {
	on := false
	for _, c := range l.certs {
		if c.idx < size && c.le.PrecinctID == scope {
			on = c.le.Decision == report.Certified
		}
	}
	return on
}

// stateCertificationAt is the state's certification in force among the log's first size
// entries, if any.
func (l *ledger) stateCertificationAt(size int64) (*report.Entry, bool) {
	var in *report.Entry
	for _, c := range l.certs {
		if c.idx < size && c.le.PrecinctID == report.StateScope {
			in = nil
			if c.le.Decision == report.Certified {
				in = c.le
			}
		}
	}
	return in, in != nil
}

// status is a precinct's published status at a log size: certified when its county is and the
// precinct is settled (accepted or corrected), else what its entries make it.
func (l *ledger) status(pr *precinct, s *pstate, size int64) results.Status {
	if (s.status == results.Accepted || s.status == results.Corrected) &&
		l.certifiedAt(report.CountyScope(l.counties[pr.county].ID), size) {
		return results.Certified
	}
	return s.status
}

// certifications checks every certification entry of the log: the checkpoint it names is one
// of this log (log_size no later than the entry, root_hash the tree's); its scope was settled at
// that checkpoint (every precinct of it reported and not under review, and for the state every
// county certified before it); a withdrawal withdraws a certification in force. Then each
// certification's published results CSV is recomputed at its checkpoint, and the published list
// of certifications compared with the log's.
func (v *run) certifications(l *ledger, d *docs) {
	byIdx := map[int64]results.Certification{}
	for _, c := range d.certs.Certifications {
		byIdx[c.LogIndex] = c
	}
	for _, c := range l.certs {
		rec := fmt.Sprintf("certification entry %d (%s)", c.idx, c.le.PrecinctID)
		county, _ := report.ParseScope(c.le.PrecinctID)
		ci, known := l.cty[county]
		if county != "" && !known {
			v.find(Finding{Check: "certification", Record: rec, Detail: "certifies a county the election does not have"})
			continue
		}
		pub, listed := byIdx[c.idx]
		if !listed {
			v.find(Finding{Check: "certification", Record: rec, Published: "not in /api/v1/certifications", Recomputed: "in the log"})
		} else {
			v.cmpStr("certification", rec+" scope", &pub.Scope, c.le.PrecinctID)
			v.cmpStr("certification", rec+" decision", &pub.Decision, c.le.Decision)
			v.cmpStr("certification", rec+" root_hash", pub.RootHash, c.le.RootHash)
			if (pub.LogSize == nil) != (c.le.LogSize == nil) || (pub.LogSize != nil && *pub.LogSize != *c.le.LogSize) {
				v.find(Finding{Check: "certification", Record: rec + " log_size", Published: sizeText(pub.LogSize), Recomputed: sizeText(c.le.LogSize)})
			}
		}
		if c.le.Decision == report.Withdrawn {
			if !l.certifiedAt(c.le.PrecinctID, c.idx) {
				v.find(Finding{Check: "certification", Record: rec, Detail: "withdraws a certification that is not in force"})
			}
			continue
		}
		size := *c.le.LogSize
		if size > c.idx {
			v.find(Finding{Check: "certification", Record: rec + " log_size", Published: strconv.FormatInt(size, 10),
				Recomputed: fmt.Sprintf("at most %d, its own log index", c.idx), Detail: "a certification names a checkpoint of the log before it"})
			continue
		}
		root, err := c2sp.TreeHash(size, v.reader())
		if err != nil || b64(root) != c.le.RootHash {
			v.find(Finding{Check: "certification", Record: rec + " root_hash", Published: c.le.RootHash,
				Recomputed: fmt.Sprintf("%s (the tree of %d entries)", b64(root), size), Detail: "the checkpoint it names is not this log's"})
			continue
		}
		unsettled := 0
		for _, pr := range l.order {
			if county != "" && pr.county != ci {
				continue
			}
			if st := v.at(pr, size).status; st != results.Accepted && st != results.Corrected {
				unsettled++
				if unsettled <= 3 {
					v.find(Finding{Check: "certification", Record: rec, Published: "certified",
						Recomputed: fmt.Sprintf("precinct %s %s at log size %d", pr.p.ID, st, size), Detail: "a certified scope had an unsettled precinct"})
				}
			}
		}
		if county == "" {
			for _, cty := range l.counties {
				if !l.certifiedAt(report.CountyScope(cty.ID), c.idx) {
					v.find(Finding{Check: "certification", Record: rec, Detail: "the state was certified before county " + cty.ID})
				}
			}
		}
		csv, ok := d.certCSV[c.idx]
		if !ok {
			v.find(Finding{Check: "certification", Record: rec, Published: "no results.csv", Recomputed: "the certified results"})
			continue
		}
		label := fmt.Sprintf("certification %d results.csv", c.idx)
		if county == "" {
			ci = -1
		}
		v.compareCSV(l, label, csv, size, ci)
	}
	inLog := map[int64]bool{}
	for _, c := range l.certs {
		inLog[c.idx] = true
	}
	for _, pub := range d.certs.Certifications {
		if pub.LogIndex < v.n && !inLog[pub.LogIndex] {
			v.find(Finding{Check: "certification", Record: fmt.Sprintf("certification %d (%s) in /api/v1/certifications", pub.LogIndex, pub.Scope),
				Published: "a certification", Recomputed: "entry " + strconv.FormatInt(pub.LogIndex, 10) + " is none"})
		}
	}
	if len(l.certs) > 0 {
		v.say("%d certification entries: each names a checkpoint of this log, its scope settled there, its results.csv recomputed at it", len(l.certs))
	}
}

func sizeText(p *int64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatInt(*p, 10)
}

// fetchCertifications reads the certifications and the results CSV of each certification.
func (d *docs) fetchCertifications(ctx context.Context, c *client.Client) error {
	var err error
	if d.certs, err = c.Certifications(ctx); err != nil {
		return err
	}
	d.certCSV = map[int64][]byte{}
	for _, cert := range d.certs.Certifications {
		if cert.Decision != report.Certified {
			continue
		}
		b, err := c.CertifiedCSV(ctx, cert.LogIndex)
		if err != nil {
			return err
		}
		d.certCSV[cert.LogIndex] = b
	}
	return nil
}
