package auth

import (
	"net/netip"
	"strconv"
	"time"
)

// The per-precinct PIN throttle. The package doc derives the guessing bound from these; the
// test TestGuessBound recomputes it from them, so changing one to a weaker value fails it.
const (
	// MaxPrecincts is the largest election whose PINs the bound covers (Iowa 2020 has 1,765
	// precincts and satellites). GeneratePrecinctSecrets refuses more: a bigger election
	// needs a longer PIN or a smaller PrecinctBudget.
	MaxPrecincts = 2000

	// PrecinctBudget is the number of PIN attempts verified for one precinct between staff
	// resets. It is the B of the bound: P(any precinct) ≤ MaxPrecincts·B/N. Successes count
	// too (the counter is taken before the hash is checked, which is what makes the budget
	// exact under concurrency and across servers), so a chair's own logins use a few of it.
	// When it is spent the precinct's PIN path closes (ErrPINClosed) until a staff reset;
	// its QR token and every session keep working.
	PrecinctBudget = 40

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
	// typos never count, so a gym of chairs reaches it only if something is wrong.
	AddressMaxFailures = 30

	// addressPrefixV6 groups IPv6 clients by /64: one subscriber usually holds a whole /64.
	addressPrefixV6 = 64
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
// precinct's PIN budget), "precinct-fail/ID" (its back-off), "staff/USER" and
// "addr/ADDRESS/UNIX" (addressPrefix).

// PrecinctKeyPrefix starts the key of every precinct's PIN budget: the counters that
// Store.ExpireThrottles must never reach.
const PrecinctKeyPrefix = "precinct/"

func precinctKey(id string) string { return PrecinctKeyPrefix + id }

// failKey counts a precinct's wrong PINs since its last right one: the back-off's count.
func failKey(id string) string    { return "precinct-fail/" + id }
func staffKey(user string) string { return "staff/" + user }

// addressPrefix is the key prefix of every per-address counter.
const addressPrefix = "addr/"

// addressKey groups client addresses (IPv4 by address, IPv6 by /64) and windows. An invalid
// address (the server could not tell) is one group: "addr/unknown/…".
func addressKey(client netip.Addr, window time.Time) string {
	group := "unknown"
	if client.IsValid() {
		client = client.Unmap()
		if client.Is6() {
			p, _ := client.Prefix(addressPrefixV6)
			group = p.String()
		} else {
			group = client.String()
		}
	}
	return addressPrefix + group + "/" + strconv.FormatInt(window.Unix(), 10)
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
