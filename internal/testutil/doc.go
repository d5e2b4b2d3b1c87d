// Package testutil holds helpers shared by hbackup's tests: locating external
// tools, driving the real restic binary, building a file tree that covers
// every case a backup must preserve, comparing two trees, and unpacking the
// restic repositories kept in testdata/restic-fixtures.
//
// Tests that need an external tool or root skip with a message saying why.
// When HBACKUP_REQUIRE_INTEGRATION=1 is set, a missing tool fails the test
// instead, so CI cannot pass by silently skipping the comparisons.
package testutil
