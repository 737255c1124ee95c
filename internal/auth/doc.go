// Package auth is how chairs and staff get into caucus: precinct PINs and QR tokens, staff
// passwords, the throttles on guessing, and sessions, so that every chair gets in on the night
// and nobody guesses their way in. It follows spec/reliability.md §B4 (A1–A3; A4 in part); the
// login endpoint itself is spec/interfaces.md's POST /api/v1/login, served by internal/server.
//
// It is not the HTTP layer (routes, cookies, CSRF and status codes are internal/server's;
// Error.Code is what the server maps), not the authorization table (the server's, beyond
// Session.MaySubmit), not the audit log (the server writes one entry per attempt), and not
// storage: it defines the one interface it needs, Store (credentials, counters, sessions),
// which the election's database implements directly (internal/store/sqlite) and
// storetest.RunAuth checks.
//
// # Credentials
//
// Each precinct gets two secrets from crypto/rand, printed on its packet: a QR code of the
// login URL base#p=PRECINCT&t=TOKEN carrying a 160-bit Token, and a PIN of PINDigits digits
// (PINRandomDigits random ones and a Damm check digit) for the chair to type, printed as
// 1234-5678-9012. The check digit catches every single wrong digit and every swap of two
// neighbours, on the phone and in ParsePIN, before anything counts as a guess. Only
// argon2id hashes are stored (Hash, with salt and parameters in the PHC string); secrets
// are types (PIN, Token, SessionToken, Password, Hash) that print, log and marshal as
// REDACTED.
//
// # Why guessing a PIN is hopeless for the whole state
//
// Let N be the number of PINs, B the PIN attempts verified per precinct, P the precincts.
// An attacker with any number of addresses tries distinct PINs; each precinct's PIN is
// uniform, so B attempts at one precinct win with probability B/N, and the union bound over
// precincts gives P(any precinct) ≤ P·B/N (the tests' GuessBound).
//
//	N = 10^11 · (1 − 0.01)  11 random digits; weak patterns, under 0.9% of them, excluded
//	B = PrecinctBudget = 40  verified attempts per precinct until a staff reset
//	P = MaxPrecincts = 2,000 (Iowa 2020: 1,765)
//
//	P(any) ≤ 2,000 · 40 / 9.9·10^10 = 8.1·10^-7    (Iowa: 1,765 · 40 / 9.9·10^10 = 7.1·10^-7)
//
// B is a hard count, taken atomically in the store before the hash is checked, so it holds
// however many servers, addresses and concurrent requests there are and however long the
// night is. A staff reset adds at most B/N = 4·10^-10; the bound stays under 10^-6 for the
// first 470 resets statewide. To meet 10^-6 a 6-digit PIN would need B ≤ 0.0005, an 8-digit
// one B ≤ 0.05, a 10-digit one B ≤ 4 (fewer than a chair's own slips); 11 random digits is
// the shortest that leaves a usable budget. The QR token (2^160) cannot be guessed at all.
//
// # Why an attacker cannot lock a chair out
//
// PIN attempts at a precinct are slowed, never locked: after PrecinctFreeAttempts wrong PINs
// (since the last right one) a wait of PrecinctBaseDelay doubling to PrecinctMaxDelay (5 min)
// between attempts; a right PIN clears the wait, so a chair's own repeated logins never cause
// it. At that pace the budget B lasts about 2 h 43 min of continuous guessing (the tests'
// MaxAttemptsIn); after it the precinct's PIN path answers ErrPINClosed until staff reset its
// counters after calling the chair back (headquarters' step; until it is built, the QR token
// is the way in). None of this touches the other ways in:
//   - the QR token is never throttled by anything (its hash is cheap, TokenParams, so a flood
//     of bogus tokens costs no CPU either);
//   - a session, once made, lasts ChairSessionTTL from login and is never cut by failures,
//     so a chair who logs in during the afternoon set-up is in for the night;
//   - PINs are refused before the live window (Config.LiveOpens) without counting, so the
//     budget cannot be spent before the caucus;
//   - typos (a failed check digit, wrong length) never count.
//
// Per address (IPv4 address, IPv6 /64), AddressMaxFailures wrong PINs or passwords per
// AddressWindow: that slows one attacker and bounds the cost of a single source; it plays
// no part in the bound. Token logins ignore it.
//
// # Sessions
//
// A login returns a 256-bit SessionToken; the store keeps only its SHA-256 (SessionID).
// Expiry is absolute from login (ChairSessionTTL, StaffSessionTTL), never extended.
//
// BUG(auth): staff sessions have no idle timeout yet (reliability.md A4 asks 30 min), and
// there is no way to end all of an account's sessions at once (account disable, admin kill).
//
// BUG(auth): a flood of bogus PIN logins at precincts in their free attempts, or at unknown
// precincts, costs one DefaultParams argon2id each (~23 ms): MaxConcurrentHashes bounds the
// memory, but the CPU must be protected by the server's per-address request limit.
package auth
