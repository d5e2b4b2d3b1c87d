package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPrintReportShowsNA(t *testing.T) {
	backup := &scenarioResult{Name: "backup-auto",
		Restic:  &toolResult{Samples: []sample{{Seconds: 4, CPU: 6, MaxRSS: 130 * mib, Bytes: 400e6, RepoSize: 100 * mib}}},
		Hbackup: &toolResult{Samples: []sample{{Seconds: 2, CPU: 3.5, MaxRSS: 90 * mib, Bytes: 400e6, RepoSize: 101 * mib}}},
	}
	check := &scenarioResult{Name: "check",
		Restic:  &toolResult{Samples: []sample{{Seconds: 1}}},
		Hbackup: &toolResult{NA: `hbackup has no "check" command`},
		Notes:   []string{"n/a for hbackup"},
	}
	backup.finish()
	check.finish()
	rep := &report{Runs: 1, Scenarios: []*scenarioResult{backup, check}, Notes: []string{"ratio = ..."}}
	var out bytes.Buffer
	if err := printReport(&out, rep); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, re := range []string{
		`(?m)^backup-auto +4\.00s +2\.00s +2\.00 +4\.00-4\.00 +2\.00-2\.00 +6\.00/3\.50 +100/200 +130/90 +100\.0/101\.0$`,
		`(?m)^check +1\.00s +n/a +n/a +1\.00-1\.00 +n/a +-/n/a +-/n/a +-/n/a +-/n/a$`,
		`(?m)^check: n/a for hbackup$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("output does not match %s:\n%s", re, text)
		}
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.scale != 0.1 || c.runs != 5 || c.dropCaches || c.named || len(c.scenarios) != len(scenarioNames()) {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parseFlags([]string{"-scenarios", "restore, check"}, &bytes.Buffer{})
	if err != nil || strings.Join(c.scenarios, ",") != "restore,check" || !c.named {
		t.Errorf("-scenarios restore,check: %q, %v", c.scenarios, err)
	}
	if _, err := parseFlags([]string{"-scenarios", "backup,nosuch"}, &bytes.Buffer{}); err == nil {
		t.Error("an unknown scenario was accepted")
	}
	if _, err := parseFlags([]string{"-runs", "0"}, &bytes.Buffer{}); err == nil {
		t.Error("-runs 0 was accepted")
	}
}

// TestHasCommand probes a fake tool that, like hbackup today, lacks check.
func TestHasCommand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fake")
	script := "#!/bin/sh\n[ \"$1\" = check ] && exit 1\nexit 0\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tl := newTool("fake", bin, "/dev/null")
	ctx := context.Background()
	if !tl.hasCommand(ctx, "backup") || tl.hasCommand(ctx, "check") {
		t.Errorf("probe: backup %v, check %v; want true, false", tl.has["backup"], tl.has["check"])
	}
}

func TestParseSummary(t *testing.T) {
	out := []byte(`{"message_type":"status","files_done":3}
{"message_type":"summary","files_new":2,"files_changed":5}
`)
	if s := parseSummary(out); s == nil || s.FilesNew != 2 || s.FilesChanged != 5 {
		t.Errorf("parseSummary = %+v", s)
	}
	if s := parseSummary([]byte("plain text\n")); s != nil {
		t.Errorf("parseSummary of text = %+v, want nil", s)
	}
}
