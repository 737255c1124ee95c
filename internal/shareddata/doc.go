// Package shareddata holds the copies of the shared folder's files that tests read, so that a
// checkout runs its tests without the shared folder (../shared beside the repository, where CI
// puts it). The copies keep the shared folder's layout under testdata/: a test in internal/<pkg>
// reads ../shareddata/testdata/data/iowa-2020/precincts.csv where it used to read
// ../../../shared/data/iowa-2020/precincts.csv. They are the 2020 published results
// (data/iowa-2020/precincts.csv, counties.csv and inconsistencies.csv; their sources and
// licences are in the shared folder's data/iowa-2020/README.md). The spec's vectors are copied
// beside the math they test, in internal/rules/testdata/vectors, which web's tests read too.
//
// One location per file, read by path rather than embedded: the command's tests pass the file's
// path to `caucus check`, and no binary should carry test data. The package has no code; its
// tests keep the copies honest: TestCopiesFresh fails when a copy differs from the shared folder
// (when the shared folder is absent it says so and passes, unless CAUCUS_REQUIRE_SHARED=1, which
// scripts/test sets), and TestNoTestReadsShared fails when a test reads the shared folder again.
package shareddata
