// Package rules is the caucus math of caucus: viability, delegate allocation with every adjustment
// and game-of-chance rule, state delegate equivalents (SDEs) and the numbered consistency checks,
// for the profiles iowa-dem-2020 (the default), nevada-dem-2020 and straw-poll.
//
// It implements spec/caucus-rules.md (the rule IDs R.. and check IDs C.. in comments refer to it)
// and decodes the precinct input format of spec/interfaces.md (`caucus calc`) strictly, as §5b
// says.
//
// It is pure: no I/O, no clock, no globals, no logging, and only the standard library, so the
// server, the verifier and the chair's phone (this package compiled to WebAssembly) run the very
// same code. All arithmetic that decides anything is exact: counts are int64, quotients are
// compared as integer numerators over the common divisor, SDEs are math/big rationals rounded
// half-up to 4 decimal places. No float64 is used anywhere.
//
// Each consistency check is described once, in the table of check_table.go: its severity, a title
// and a message template in English and Spanish over named arguments. A Check carries those
// arguments as typed values (exact integers, decimal strings, candidates, lists), so its message
// can be written in either language from the same finding (Check.In here, the chair app from
// Words); Message is the English one.
//
// It is not the report wire format of the server (see internal/report), nor the long results CSV
// (see internal/resultscsv).
package rules
