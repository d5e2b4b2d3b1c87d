package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
)

// TestUnavailableScenario: a scenario the machine cannot run is skipped
// with its reason in the table and the notes, unless -scenarios names it.
func TestUnavailableScenario(t *testing.T) {
	ran := false
	sc := scenario{name: "backup-sftp", title: "over SFTP",
		unavailable: func() error { return errors.New("sshd not found") },
		run:         func(context.Context, *tool, int) (sample, error) { ran = true; return sample{}, nil }}
	b := &bench{cfg: config{runs: 1}, log: io.Discard}
	res, _, err := b.runScenario(context.Background(), sc)
	if err != nil || ran {
		t.Fatalf("skipped scenario: err %v, ran %v", err, ran)
	}
	if res.Skipped != "sshd not found" || res.Ratio != 0 {
		t.Errorf("result: %+v", res)
	}
	var out bytes.Buffer
	if err := printReport(&out, &report{Runs: 1, Scenarios: []*scenarioResult{res}}); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^backup-sftp +n/a +n/a +n/a `,
		`(?m)^backup-sftp +≥ 2\.0 +n/a .*skipped: sshd not found$`,
		`(?m)^backup-sftp: SKIPPED: sshd not found \(not a failure`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output does not match %s:\n%s", re, out.String())
		}
	}

	b.cfg.named = true
	if _, _, err := b.runScenario(context.Background(), sc); err == nil || !strings.Contains(err.Error(), "sshd not found") {
		t.Errorf("named with -scenarios: err %v, want the reason", err)
	}
}
