package auth

import (
	"math"
	"time"
)

// The guessing bound of the package doc, computed from the constants it is made of. Only the
// tests need the numbers (TestGuessBound, TestGuessingAttack): the server enforces the
// constants, and nothing at run time asks for the bound.

// PINSpace is N of the bound: the number of PINs GeneratePIN can issue, counted
// pessimistically (every weak pattern excluded as if none overlapped).
func PINSpace() float64 {
	return math.Pow(10, PINRandomDigits) * (1 - weakFractionBound)
}

// GuessBound returns the chance that an attacker, with any number of addresses and all
// night, logs in with a PIN to any of precincts precincts: each precinct gets at most
// PrecinctBudget live and PracticeBudget practice attempts at the same PIN among PINSpace
// equally likely PINs, and the union over precincts adds them up. Every staff reset adds at
// most PrecinctBudget/PINSpace more.
func GuessBound(precincts int) float64 {
	return float64(precincts) * (PrecinctBudget + PracticeBudget) / PINSpace()
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
