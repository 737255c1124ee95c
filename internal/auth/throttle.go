package auth

import (
	"net/netip"
	"strconv"
	"time"
)

// The per-precinct PIN throttle. The package doc derives the guessing bound from these; the
// test TestGuessBound recomputes it from them, so changing one to a weaker value fails it.
const (
	// StatePrecincts is the largest election whose PINs have PINDigits digits (Iowa 2020 has
	// 1,765 precincts and satellites): the bound is sized for it.
	StatePrecincts = 2000

	// MaxPrecincts is the largest election whose PINs the bound covers, with MaxPINDigits
	// digits (one national election has about 175,000 precincts). GeneratePrecinctSecrets
	// refuses more: a bigger election needs a longer PIN or a smaller PrecinctBudget.
	MaxPrecincts = 200_000

	// PrecinctBudget is the number of wrong live PIN attempts verified for one precinct
	// between staff resets; with PracticeBudget it makes the B of the bound: P(any precinct)
	// ≤ precincts·(PrecinctBudget+PracticeBudget)/N. Each attempt is reserved in the store
	// before the hash is checked, atomically with the back-off and the address count, which
	// is what makes the budget exact under concurrency and across servers; a reservation that
	// turns out to be the right PIN is given back, so a chair's own logins spend none of it.
	// When it is spent the precinct's live PIN path closes (ErrPINClosed) until a staff reset;
	// its QR token and every session keep working.
	PrecinctBudget = 40

	// PracticeBudget is the same for PIN logins to the practice election (the same PINs, days
	// before the night, outside the live window): a budget of its own, so that practice, or
	// an attacker during practice, never spends the night's.
	PracticeBudget = 8

	// PrecinctFreeAttempts are verified without delay: a chair who misreads the card (two
	// wrong digits get past the check digit) gets a few tries at once.
	PrecinctFreeAttempts = 5

	// PrecinctBaseDelay is the wait after the free attempts; it doubles with each attempt.
	PrecinctBaseDelay = 30 * time.Second

	// PrecinctMaxDelay caps the doubling: a chair who arrives during an attack waits at most
	// this long for a PIN attempt (and not at all with the QR code). Never a permanent lock.
	// At this pace an attacker needs about 2 h 43 min of the night to spend a budget.
	PrecinctMaxDelay = 5 * time.Minute
)

// The per-address throttle slows one attacker down; it does nothing for the bound (an
// attacker with many addresses is assumed) and must not hurt a school gym where twenty chairs
// share one address, or a mobile carrier's NAT.
const (
	// AddressWindow is the fixed window over which an address's failures are counted.
	AddressWindow = time.Hour

	// AddressMaxFailures wrong PINs, passwords or unknown precincts per address per window:
	// typos never count, so a gym of chairs reaches it only if something is wrong. Past it an
	// address is refused only what costs nothing to refuse: attempts at unknown precincts and
	// users. An attempt at a real precinct or account goes on to that precinct's (account's)
	// own back-off and budget, so a chair behind the same NAT as an attacker, or behind the
	// party's own proxy, still gets in with a right PIN: slowed at most by the back-off of
	// their own precinct, never refused for an address's sake.
	AddressMaxFailures = 30

	// AddressMaxTokenFailures wrong QR tokens per address per window, under the same rule: a
	// token is never mistyped (it comes from the QR code), so these are junk, but they are
	// cheap to check (TokenParams), hence the higher limit.
	AddressMaxTokenFailures = 100

	// addressPrefixV6 groups IPv6 clients by /48. The client address is the connection's
	// peer or, behind a configured trusted proxy only, the address that proxy saw, so it is
	// the real client's, not one it chose (ASVS 15.3.4). A /48 is what an organisation or
	// a hosting customer is assigned (RIR policy, RFC 6177), so an attacker with one counts
	// as one address instead of 65,536 /64s; legitimate users who share a /48 (customers of
	// one carrier region) lose little by it, because the per-address limit never refuses an
	// attempt at a real precinct (above).
	addressPrefixV6 = 48

	// MaxNameLen bounds a precinct ID or user name in a login: the election format's own
	// limit on IDs. Longer is refused (ErrTooLong) before anything is written or hashed.
	MaxNameLen = 128
)

// Staff passwords: back-off only, no budget, so an outsider can never lock a staff account
// (reliability.md A2: at most 100 failures per hour per account, soft lock). With these
// values an account sees at most 5 + 12 = 17 verified failures in an hour.
const (
	StaffFreeAttempts = 5
	StaffBaseDelay    = 30 * time.Second
	StaffMaxDelay     = 5 * time.Minute
)

// ThrottleCounter is one key's count of attempts and the time of the latest.
type ThrottleCounter struct {
	Count int
	Last  time.Time
}

// Counter keys are short ASCII strings made by this package: PrecinctKeyPrefix+ID (a
// precinct's live PIN budget), PracticeKeyPrefix+ID (its practice budget),
// "precinct-fail/ID" and "practice-fail/ID" (their back-offs), "staff/USER",
// "addr/GROUP/UNIX" (addressPrefix) and "addr-token/GROUP/UNIX" (tokenAddressPrefix).

// PrecinctKeyPrefix starts the key of every precinct's live PIN budget, and
// PracticeKeyPrefix of its practice budget: the counters that Store.ExpireThrottles must
// never reach (BudgetKeyPrefixes).
const (
	PrecinctKeyPrefix = "precinct/"
	PracticeKeyPrefix = "practice/"
)

// BudgetKeyPrefixes are the prefixes Store.ExpireThrottles must refuse to reach.
var BudgetKeyPrefixes = []string{PrecinctKeyPrefix, PracticeKeyPrefix}

// pinKeys are one precinct's budget and back-off keys, live or practice, and the budget.
func pinKeys(id string, practice bool) (budgetKey, failKey string, budget int) {
	if practice {
		return PracticeKeyPrefix + id, "practice-fail/" + id, PracticeBudget
	}
	return PrecinctKeyPrefix + id, "precinct-fail/" + id, PrecinctBudget
}

func staffKey(user string) string { return "staff/" + user }

// The key prefixes of the per-address counters: wrong PINs and passwords, wrong tokens.
const (
	addressPrefix      = "addr/"
	tokenAddressPrefix = "addr-token/"
)

// addressGroup names a client's group: an IPv4 address, an IPv6 /48 (addressPrefixV6), or
// "unknown" when the server could not tell.
func addressGroup(client netip.Addr) string {
	if !client.IsValid() {
		return "unknown"
	}
	client = client.Unmap()
	if client.Is6() {
		p, _ := client.Prefix(addressPrefixV6)
		return p.String()
	}
	return client.String()
}

// addressKey is the counter of a client's group in a window, under prefix.
func addressKey(prefix string, client netip.Addr, window time.Time) string {
	return prefix + addressGroup(client) + "/" + strconv.FormatInt(window.Unix(), 10)
}

// backoff returns how long after the latest of count attempts the next may be verified:
// nothing for the first free ones, then base doubling up to max.
func backoff(count, free int, base, ceiling time.Duration) time.Duration {
	if count < free {
		return 0
	}
	d := base
	for i := free; i < count && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// waitFor returns how long the holder of c must still wait at now; 0 when it may go.
func waitFor(c ThrottleCounter, now time.Time, free int, base, ceiling time.Duration) time.Duration {
	if c.Count == 0 {
		return 0
	}
	return max0(c.Last.Add(backoff(c.Count, free, base, ceiling)).Sub(now))
}

func max0(d time.Duration) time.Duration { return max(d, 0) }
