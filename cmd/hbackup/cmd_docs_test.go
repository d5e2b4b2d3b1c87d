package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeJobConfig writes a small hbackup.toml into a temp dir.
func writeJobConfig(t *testing.T, extra string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "hbackup.toml")
	doc := `hostname = "web1"
timezone = "UTC"

[repositories.rest]
url = "rest:https://backup:topsecret@rest.example.org/web1/"
password_file = "/etc/hbackup/rest.password"

[jobs.www]
paths = ["/var/www"]
schedule = "*-*-* 04:30:00"

[jobs.www.resources]
cpus = 0.5
nice = 5

[jobs.adhoc]
paths = ["/root"]
` + extra
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func TestDocsStdout(t *testing.T) {
	_, cfg := writeJobConfig(t, "")
	out, errb, code := runCLI(t, nil, "docs", "--config", cfg, "--stdout")
	if code != 0 {
		t.Fatalf("docs: %d %s", code, errb)
	}
	for _, want := range []string{"# Backup runbook for web1", "### www", "### adhoc",
		"rest:https://backup:***@rest.example.org/web1/",
		"restic -r rest:https://rest.example.org/web1/ --password-file /etc/hbackup/rest.password restore latest --host web1 --path /var/www --target / --include /path/to/file",
		"from `" + cfg + "`"} {
		if !strings.Contains(out, want) {
			t.Errorf("runbook lacks %q", want)
		}
	}
	if strings.Contains(out, "topsecret") {
		t.Error("runbook shows the REST password")
	}
}

func TestDocsOutputDirs(t *testing.T) {
	dir, cfg := writeJobConfig(t, "[documentation]\noutput_dir = \"OUT\"\n")
	outDir := filepath.Join(dir, "docs")
	if err := os.WriteFile(cfg, []byte(strings.Replace(mustRead(t, cfg), "OUT", outDir, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	// documentation.output_dir, with the config from $HBACKUP_CONFIG
	out, errb, code := runCLI(t, map[string]string{"HBACKUP_CONFIG": cfg}, "docs")
	if code != 0 || !strings.Contains(out, filepath.Join(outDir, "web1.md")) {
		t.Fatalf("docs: %d %s %s", code, out, errb)
	}
	if !strings.HasPrefix(mustRead(t, filepath.Join(outDir, "web1.md")), "# Backup runbook for web1") {
		t.Error("runbook not written to output_dir")
	}
	// --output wins, --hostname names the file
	other := filepath.Join(dir, "other")
	if _, errb, code := runCLI(t, nil, "docs", "--config", cfg, "--output", other, "--hostname", "h2"); code != 0 {
		t.Fatalf("docs --output: %d %s", code, errb)
	}
	if !strings.HasPrefix(mustRead(t, filepath.Join(other, "h2.md")), "# Backup runbook for h2") {
		t.Error("runbook not written to --output")
	}
}

func TestDocsErrors(t *testing.T) {
	_, cfg := writeJobConfig(t, "")
	if _, errb, code := runCLI(t, nil, "docs", "--config", cfg); code != exitFatal || !strings.Contains(errb, "documentation.output_dir") {
		t.Errorf("no output dir: %d %s", code, errb)
	}
	if _, errb, code := runCLI(t, nil, "docs", "--config", filepath.Join(t.TempDir(), "missing.toml"), "--stdout"); code != exitFatal || !strings.Contains(errb, "missing.toml") {
		t.Errorf("missing config: %d %s", code, errb)
	}
	if _, _, code := runCLI(t, nil, "docs", "--config", cfg, "--stdout", "--output", "/tmp/x"); code != exitFatal {
		t.Errorf("--stdout with --output: %d", code)
	}
}

func TestDocsDefaultConfigPath(t *testing.T) {
	t.Setenv("HBACKUP_CONFIG", "")
	if got := defaultConfigPath(); got != "/etc/hbackup/hbackup.toml" {
		t.Errorf("default %s", got)
	}
	t.Setenv("HBACKUP_CONFIG", "/x/h.toml")
	if got := defaultConfigPath(); got != "/x/h.toml" {
		t.Errorf("from env %s", got)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
