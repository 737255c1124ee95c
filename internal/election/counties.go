package election

// ReadCounties reads a counties.csv on its own (county_id,name,county_delegates,state_delegates),
// with the same checks as Load: `caucus check` needs the county ratios beside a results file that
// has no election folder. Duplicate county ids are refused.
func ReadCounties(data []byte) ([]County, error) {
	var p problems
	s := &source{countyIDs: map[string]bool{}}
	readCSV(CountiesFile, data, countiesHeader, maxCounties, &p, func(lines []int, rec []string) {
		s.countyRow(&p, lines, rec)
	})
	s.checkCounties(&p, make(map[string]int, len(s.counties)))
	if err := p.err(); err != nil {
		return nil, err
	}
	return s.counties, nil
}
