package errclass_test

import (
	"fmt"
	"regexp"

	"github.com/hbackup/hbackup/job/errclass"
)

func ExampleClassifier_ClassifyText() {
	c := errclass.New([]errclass.Rule{{
		Pattern:  regexp.MustCompile(`pg_dump: error`),
		Category: "database_dump", Severity: errclass.Error, Actionable: true,
	}}, errclass.Options{})
	for _, msg := range []string{
		"write /srv/restic/data/1a/1a2b: no space left on device",
		"ssh: connect to host nas port 22: Connection refused",
		"pre_backup hook: pg_dump: error: connection to server failed",
	} {
		r := c.ClassifyText(msg)
		fmt.Println(r.Category, r.Severity, "actionable:", r.Actionable, "retryable:", r.Retryable)
	}
	// Output:
	// storage critical actionable: true retryable: false
	// network warning actionable: false retryable: true
	// database_dump error actionable: true retryable: false
}
