// Package tally is the live tabulation of one election: it folds the log's entries (reports,
// corrections, review decisions, certifications), in log order, into precinct, county and state
// totals of the three published numbers (first alignment, final alignment, SDEs) plus county
// delegates and precincts reporting, and publishes them as immutable snapshots of pre-rendered
// JSON and CSV.
//
// Which entry of a precinct counts, and the precinct's status, is decided by replaying
// store.Next, the store's own state machine (spec/reliability.md C3: the first accepted report
// stands until a reviewer decides; a conflicting second report is kept and puts the precinct
// under review; a correction becomes counted). The counted entry's leaf is read with
// report.ParseEntry and its numbers go through rules.Calc with the precinct's facts: its
// county's SDE ratio, and for a satellite whose delegates follow attendance, its attendance
// band (spec/caucus-rules.md R13, R14). County and state SDE totals are sums of the exact
// rationals delegates × ratio, rounded half-up to 4 places only when written (R13). A counted
// report whose result has an open game of chance or an error check (a worksheet staff recorded
// flagged) contributes its counts and delegates as computed but no SDE, and is flagged.
//
// Apply is incremental, and its cost per entry follows the entry, not the election's size: an
// entry changes only its precinct, its county and the state, whose totals are running sums (the
// precinct's old contribution is subtracted, the new one added; the state's exact SDEs are
// integers over the common denominator of the counties' ratios, so no fraction is reduced per
// entry). A snapshot holds its precinct and county views in persistent vectors (pvec.go): a new
// one copies only the paths to the views that changed and shares everything else with the
// previous one. /results is rendered once per Apply; every other document, and a county's SDEs,
// when first read. Snapshot never locks. Recount is the other path of spec/reliability.md B0.3:
// totals computed from scratch from a list of entries, summing exact rationals, to the same
// bytes. A tally's output depends only on the entries applied (updated_at is the received_at of
// an entry, never the clock), so rebuilding from the stored log after a restart gives
// byte-identical results.
//
// The documents are the results endpoints of spec/interfaces.md, the types of internal/results
// (the one declaration every reader decodes into) encoded with encoding/json:
//
//	/api/v1/results                   Snapshot.Results
//	/api/v1/results/counties          Snapshot.Counties
//	/api/v1/results/counties/{id}     Snapshot.County
//	/api/v1/results/precincts/{id}    Snapshot.Precinct
//	/api/v1/results.csv               Snapshot.CSV (internal/resultscsv)
//
// It is not HTTP (internal/server), not storage (internal/store), not the caucus math
// (internal/rules), and not the independent verifier (internal/verify, which must not import
// it: it recomputes the same totals from the public log on its own).
package tally
