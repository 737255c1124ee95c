package election

import (
	"strings"
	"unicode"
)

// The precinct a chair typed is found loosely: the ID or the name as printed on the packet, in
// any case, with spaces, hyphens or other punctuation between its words ("Polk Des Moines 41",
// "polk-des-moines-41", "1NW ADAIR", "Adair 1NW Adair"). A name two precincts share finds
// neither: the chair then types the ID.

// ambiguous marks a loose key that more than one precinct has.
const ambiguous = -1

// LooseKey is the form in which precinct IDs and names are compared: lower case, each run of
// characters that are not letters or digits one hyphen, none at either end.
func LooseKey(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if gap && b.Len() > 0 {
				b.WriteByte('-')
			}
			gap = false
			b.WriteRune(r)
		} else {
			gap = true
		}
	}
	return b.String()
}

// looseIndex maps each precinct's loose keys (its ID, its name, its county's name and its name)
// to its index; a key shared by two precincts maps to ambiguous, unless one of them has it as
// its ID.
func looseIndex(counties []County, precincts []Precinct) map[string]int {
	countyName := make(map[string]string, len(counties))
	for _, c := range counties {
		countyName[c.ID] = c.Name
	}
	idx := make(map[string]int, 3*len(precincts))
	for i, p := range precincts {
		idx[LooseKey(p.ID)] = i
	}
	ids := make(map[string]bool, len(idx))
	for k := range idx {
		ids[k] = true
	}
	for i, p := range precincts {
		for _, k := range []string{LooseKey(p.Name), LooseKey(countyName[p.CountyID] + " " + p.Name)} {
			if k == "" || ids[k] {
				continue
			}
			if j, ok := idx[k]; ok && j != i {
				idx[k] = ambiguous
			} else if !ok {
				idx[k] = i
			}
		}
	}
	return idx
}

// FindPrecinct returns the precinct a chair means by what they typed: its exact ID, or else the
// one precinct whose ID, name, or county and name match it loosely (see LooseKey). Text after a
// "·" (as the app's header writes "name · ID") counts alone.
func (d *Definition) FindPrecinct(typed string) (Precinct, bool) {
	if p, ok := d.Precinct(typed); ok {
		return p, true
	}
	if _, after, ok := strings.Cut(typed, "·"); ok {
		typed = after
	}
	i, ok := d.looseIndex[LooseKey(typed)]
	if !ok || i == ambiguous {
		return Precinct{}, false
	}
	return d.precincts[i], true
}
