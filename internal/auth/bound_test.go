package auth

import (
	"math"
	"time"
)

// The guessing bound of the package doc, computed from the constants it is made of. Only the
// tests need the numbers (TestGuessBound, TestGuessingAttack): the server enforces the
// constants, and nothing at run time asks for the bound.

// PINSpace is N of the bound for a state's PINs: the number of PINs GeneratePIN can issue,
// counted pessimistically (every weak pattern excluded as if none overlapped).
func PINSpace() float64 { return PINSpaceOf(PINDigits) }

// PINSpaceOf is N of the bound for PINs of digits digits (check digit included): of the
// 10^(digits-1) random parts, the weak ones excluded, counted as weakFractionBound or the
// union bound of weakFractionOf, whichever is more (a longer PIN has more places for a run).
func PINSpaceOf(digits int) float64 {
	random := digits - 1
	return math.Pow(10, float64(random)) * (1 - max(weakFractionBound, weakFractionOf(random)))
}

// weakFractionOf bounds the fraction of weak random parts of random digits by a union bound
// over where each weak run can start: a run of r equal digits fixes r-1 digits, a run of r
// digits going one way fixes r-1 digits and allows 10-(r-1) first digits.
func weakFractionOf(random int) float64 {
	n := float64(random)
	repeat := (n - weakRepeatRun + 1) * math.Pow(10, -(weakRepeatRun-1))
	sequence := (n - weakSequenceRun + 1) * 2 * (10 - weakSequenceRun + 1) / 10 * math.Pow(10, -(weakSequenceRun-1))
	return repeat + sequence
}

// GuessBound returns the chance that an attacker, with any number of addresses and all
// night, logs in with a PIN to any of precincts precincts: each precinct gets at most
// PrecinctBudget live and PracticeBudget practice attempts at the same PIN among PINSpaceOf
// equally likely PINs of the election's length (PINDigitsFor), and the union over precincts
// adds them up. Every staff reset adds at most PrecinctBudget/PINSpaceOf more. +Inf for an
// election too big to have PINs.
func GuessBound(precincts int) float64 {
	digits, err := PINDigitsFor(precincts)
	if err != nil {
		return math.Inf(1)
	}
	return GuessBoundOf(precincts, digits)
}

// GuessBoundOf is GuessBound with PINs of digits digits.
func GuessBoundOf(precincts, digits int) float64 {
	return float64(precincts) * (PrecinctBudget + PracticeBudget) / PINSpaceOf(digits)
}

// MaxAttemptsIn returns how many PIN attempts the back-off alone lets through for one
// precinct in a window of length d, ignoring the budget. It shows how long an attacker needs
// to spend a budget (the package doc's "2 h 43 min").
func MaxAttemptsIn(d time.Duration) int {
	n, t := 0, time.Duration(0)
	for {
		t += backoff(n, PrecinctFreeAttempts, PrecinctBaseDelay, PrecinctMaxDelay)
		if t > d {
			return n
		}
		n++
	}
}
