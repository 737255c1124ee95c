// Package audit is the mathematics of a risk-limiting audit of a caucus from its paper: a batch
// comparison audit with one batch per precinct, PPEB sampling and the Kaplan–Markov risk
// measurement, for each of the night's three contests on its own (first alignment, final
// alignment, state delegate equivalents). It is pure: no I/O, no clock, no randomness other than
// the public seed.
//
// # The method
//
// For a contest with reported winner w, every other candidate l is a loser, and V_wl is the
// reported margin (the winner's reported total minus l's). For precinct p, with reported tallies
// v and hand-counted tallies a:
//
//	e_p = max over l of ((v_wp − v_lp) − (a_wp − a_lp)) / V_wl   the relative overstatement
//	u_p = max over l of ((v_wp − v_lp) + b_p) / V_wl             its bound
//
// e_p is the maximum relative overstatement of pairwise margins of P. B. Stark, "A sharper
// discrepancy measure for post-election audits", Ann. Appl. Stat. 2(3) (2008) 982–985, built on
// the per-pair overstatements and bounds of his "Conservative statistical post-election audits",
// Ann. Appl. Stat. 2(2) (2008) 550–581. MACRO (Stark, "Efficient post-election audits of multiple
// contests: 2009 California tests") takes the same maximum across contests too; with each contest
// audited on its own, as VotingWorks' Arlo does, the two are the same. b_p bounds how much a loser
// can gain on the winner in the precinct (a_lp − a_wp ≤ b_p): for people it is the precinct's
// attendance as spec R22 reads it from published counts, max(Σ first, Σ final); for SDEs it is
// the most SDEs the precinct can award (see FromPublished). U = Σ u_p.
//
// Precincts are drawn with replacement, precinct p with probability u_p / U (PPEB, Aslam, Popa
// and Rivest 2008). After n draws p_1 … p_n the Kaplan–Markov p-value is
//
//	P = Π_j (1 − 1/U) / (1 − e_{p_j} / u_{p_j})
//
// with understatements (e_p < 0) counted as 0, which can only make P larger (conservative). The
// audit stops when P ≤ α, the risk limit; otherwise it escalates (more draws, see NextRound), up
// to a full hand count. With no overstatement at all, P = (1 − 1/U)^n, so the sample expected
// to be needed is the smallest n with (1 − 1/U)^n ≤ α, that is ⌈ln α / ln(1 − 1/U)⌉.
//
// A precinct whose hand count overstates by its whole bound (e_p ≥ u_p: the loser gained at
// least the precinct's whole attendance on the winner, or more cards were found than the
// attendance the bound assumed) makes the factor infinite: only a full hand count can then
// confirm the outcome, and Risk says so.
//
// # Exactness
//
// Every tally is an exact rational (people are integers, SDEs are exact decimals), and so are
// margins, bounds, e_p, u_p and U. The p-value P is exact too: ((U − 1)/U)^n times the product
// of u_p/(u_p − e_p) over the draws that found an overstatement, the latter kept as an unreduced
// fraction of big integers (Risk). Comparing P with α is decided by interval arithmetic first
// (big.Float of 128 bits with every operation rounded outwards, so the true value is inside the
// interval) and by exact integer powers whenever the interval holds α, so every answer is the
// exact one; the interval only makes the common case fast. The one float64 is the first guess of
// DrawsNeeded, which is then checked, and corrected, by those exact comparisons; it is shown as
// is only as the estimate of a sample too large to draw (a full hand count).
//
// # Public sampling
//
// The seed is at least 20 decimal digits rolled with dice in public. Draw number i (1, 2, …)
// is SHA-256 of the ASCII bytes "<seed>,<i>" (the seed's digits exactly as rolled, a comma, the
// decimal draw number without leading zeros; R. L. Rivest's sampler convention). The 256-bit
// digest, read as a big-endian integer h, is mapped without modulo onto [0, U): x = h·U / 2²⁵⁶,
// and the draw is the precinct whose interval [C_{k−1}, C_k) holds x, where C_k is the sum of
// u_p over the first k precincts in byte order of precinct id. Each contest maps the same
// digests onto its own bounds, so a precinct drawn for several contests is hand counted once.
package audit
