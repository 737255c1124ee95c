package election

import (
	"embed"
	"fmt"
)

//go:embed iowa2020/election.json iowa2020/counties.csv iowa2020/precincts.csv iowa2020/practice/election.json
var iowa2020 embed.FS

// Iowa2020 returns the 2020 Iowa Democratic caucus structure: 99 counties and 5 satellite
// pseudo-counties, 1,765 precincts of which 87 are satellites, and the 14 candidate columns of
// the published results (12 candidates, other and uncommitted) in their published order. How
// the satellites are filled is explained in the package documentation. Each call parses the
// embedded files and returns a new Definition.
func Iowa2020() (*Definition, error) {
	return loadEmbedded("iowa2020/election.json")
}

// Iowa2020Practice returns the practice election over the same counties and precincts as
// [Iowa2020], with fictional candidates and Practice set, so chairs can rehearse with the
// same credentials and the same app.
func Iowa2020Practice() (*Definition, error) {
	return loadEmbedded("iowa2020/practice/election.json")
}

func loadEmbedded(electionPath string) (*Definition, error) {
	var p problems
	ej := readFile(iowa2020, electionPath, maxElectionBytes, &p)
	cc := readFile(iowa2020, "iowa2020/"+CountiesFile, maxCountiesBytes, &p)
	pc := readFile(iowa2020, "iowa2020/"+PrecinctsFile, maxPrecinctsBytes, &p)
	d, err := loadFiles(ej, cc, pc, &p)
	if err != nil {
		return nil, fmt.Errorf("embedded Iowa 2020 definition: %w", err)
	}
	return d, nil
}
