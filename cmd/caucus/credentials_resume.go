package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"caucus/internal/auth"
)

// readIssuedSecrets reads back the secrets an issuance wrote to logins.csv (precinct_id,
// county, name, pin, login_url), for --resume: the same precincts, in the election's order ids,
// the PIN of the election's length and the token of the login URL's fragment.
func readIssuedSecrets(path string, ids []string) ([]auth.PrecinctSecret, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read issued secrets: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read issued secrets: %s: %w", path, err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], loginsCSVHeader) {
		return nil, fmt.Errorf("read issued secrets: %s is not a logins.csv", path)
	}
	if len(rows)-1 != len(ids) {
		return nil, fmt.Errorf("read issued secrets: %s has %d precincts, the election %d", path, len(rows)-1, len(ids))
	}
	digits, err := auth.PINDigitsFor(len(ids))
	if err != nil {
		return nil, fmt.Errorf("read issued secrets: %w", err)
	}
	out := make([]auth.PrecinctSecret, len(ids))
	for i, r := range rows[1:] {
		for j := range r {
			if s, ok := strings.CutPrefix(r[j], "'"); ok && formulaLike(s) {
				r[j] = s // WriteLoginsCSV's apostrophe before a formula-like cell
			}
		}
		if r[0] != ids[i] {
			return nil, fmt.Errorf("read issued secrets: %s row %d is precinct %q, the election's is %q", path, i+2, r[0], ids[i])
		}
		pin, err := auth.ParsePINOf(r[3], digits, digits)
		if err != nil {
			return nil, fmt.Errorf("read issued secrets: %s row %d: PIN: %w", path, i+2, err)
		}
		u, err := url.Parse(r[4])
		if err != nil {
			return nil, fmt.Errorf("read issued secrets: %s row %d: login URL: %w", path, i+2, err)
		}
		q, err := url.ParseQuery(u.Fragment)
		if err != nil || q.Get("p") != ids[i] {
			return nil, fmt.Errorf("read issued secrets: %s row %d: login URL is not precinct %q's", path, i+2, ids[i])
		}
		tok, err := auth.ParseToken(q.Get("t"))
		if err != nil {
			return nil, fmt.Errorf("read issued secrets: %s row %d: token: %w", path, i+2, err)
		}
		out[i] = auth.PrecinctSecret{PrecinctID: ids[i], PIN: pin, Token: tok}
	}
	return out, nil
}

// storedPrefix returns how many of secrets, from the first, the store already holds: an
// issuance stores its batches in order, so they are a prefix, found by binary search on
// whether a precinct's stored token hash matches its secret's token (the PIN's hash is
// stored with it in one transaction). A precinct never issued, or issued an older secret,
// does not match.
func storedPrefix(ctx context.Context, st auth.Store, secrets []auth.PrecinctSecret) (int, error) {
	stored := func(i int) (bool, error) {
		cred, err := st.PrecinctCredential(ctx, secrets[i].PrecinctID)
		if errors.Is(err, auth.ErrNotFound) {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("resume: %w", err)
		}
		ok, err := cred.TokenHash.Matches(secrets[i].Token.Reveal())
		if err != nil {
			return false, fmt.Errorf("resume: precinct %q: %w", secrets[i].PrecinctID, err)
		}
		return ok, nil
	}
	lo, hi := 0, len(secrets)
	for lo < hi {
		mid := lo + (hi-lo)/2
		ok, err := stored(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}
