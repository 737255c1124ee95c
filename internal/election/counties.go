package election

// ReadCounties reads a counties.csv on its own (county_id,name,county_delegates,state_delegates),
// with the same checks as Load: `caucus check` needs the county ratios beside a results file that
// has no election folder. Duplicate county ids are refused.
func ReadCounties(data []byte) ([]County, error) {
	p := &problems{}
	s := &source{electionLines: map[string]int{}, countyIDs: map[string]bool{}}
	seen := map[string]int{}
	readCSV(CountiesFile, data, countiesHeader, maxCounties, p, func(lines []int, rec []string) {
		if first, dup := seen[rec[0]]; dup && lines != nil {
			p.add(CountiesFile, lines[0], "county_id", "%q is already on line %d", rec[0], first)
			return
		}
		if lines != nil {
			seen[rec[0]] = lines[0]
		}
		s.countyRow(p, lines, rec)
	})
	if err := p.err(); err != nil {
		return nil, err
	}
	return s.counties, nil
}
