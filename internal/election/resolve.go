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
// its ID. The keys are held as 64-bit hashes (looseHash), not strings, so that the index of a
// national election (175,000 precincts, three keys each) costs about a tenth of the memory;
// FindPrecinct checks the precinct it finds against the key itself, so a collision of two hashes
// can only make a precinct unfindable by a loose name (the chair then types the ID), never find
// the wrong one.
func looseIndex(counties []County, precincts []Precinct) map[uint64]int32 {
	countyName := make(map[string]string, len(counties))
	for _, c := range counties {
		countyName[c.ID] = c.Name
	}
	idx := make(map[uint64]int32, 3*len(precincts))
	for i, p := range precincts {
		idx[looseHash(LooseKey(p.ID))] = int32(i)
	}
	ids := make(map[uint64]bool, len(idx))
	for k := range idx {
		ids[k] = true
	}
	for i, p := range precincts {
		for _, k := range looseNames(p, countyName[p.CountyID]) {
			h := looseHash(k)
			if k == "" || ids[h] {
				continue
			}
			if j, ok := idx[h]; ok && j != int32(i) {
				idx[h] = ambiguous
			} else if !ok {
				idx[h] = int32(i)
			}
		}
	}
	return idx
}

// looseNames are the loose keys of a precinct's name: alone, and after its county's name.
func looseNames(p Precinct, county string) [2]string {
	return [2]string{LooseKey(p.Name), LooseKey(county + " " + p.Name)}
}

// looseHash is FNV-1a, 64 bits, of a loose key.
func looseHash(k string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(k); i++ {
		h ^= uint64(k[i])
		h *= 1099511628211
	}
	return h
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
	k := LooseKey(typed)
	i, ok := d.looseIndex[looseHash(k)]
	if !ok || i == ambiguous {
		return Precinct{}, false
	}
	p := d.precincts[i]
	if names := looseNames(p, d.countyName(p.CountyID)); k != LooseKey(p.ID) && k != names[0] && k != names[1] {
		return Precinct{}, false // another key with the same hash
	}
	return p, true
}

// countyName is the name of the county with id, or "".
func (d *Definition) countyName(id string) string {
	if i, ok := d.countyIndex[id]; ok {
		return d.counties[i].Name
	}
	return ""
}
