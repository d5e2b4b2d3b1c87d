package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hbackup/hbackup/job/errclass"
)

func TestExampleFile(t *testing.T) {
	c, err := Load("../../examples/hbackup.toml")
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	check("hostname", c.Hostname, "nas")
	check("timezone", c.Timezone.String(), "Europe/Berlin")
	check("retention", c.Retention, Retention{Last: 3, Daily: 14, Weekly: 8, Monthly: 6, Yearly: 2, Prune: true})
	check("repositories", c.RepositoryNames(), []string{"b2", "local", "offsite"})
	check("repositories.local", *c.Repositories["local"], Repository{Name: "local", URL: "/srv/backup/restic",
		PasswordFile: "/etc/hbackup/local.password", Primary: true})
	check("repositories.b2", *c.Repositories["b2"], Repository{Name: "b2", URL: "b2:my-bucket:nas",
		PasswordFile: "/etc/hbackup/b2.password", EnvironmentFile: "/etc/hbackup/b2.env", AppendOnly: true})
	check("jobs", c.JobNames(), []string{"home", "tank"})

	home := c.Jobs["home"]
	check("home.paths", home.Paths, []string{"/home", "/etc"})
	check("home.repository", home.Repository, "local")
	check("home.copy_to", home.CopyTo, []string{"b2", "offsite"})
	check("home.tags", home.Tags, []string{"home", "daily"})
	check("home.exclude", home.Exclude, []string{"*.tmp", "/home/*/.cache"})
	check("home.schedule", home.Schedule.String(), "*-*-* 02:00:00")
	check("home.compression", home.Compression, "auto")
	check("home.read_concurrency", home.ReadConcurrency, 4)
	check("home.retries", home.Retries, 3)
	check("home.retry_delay", home.RetryDelay, 2*time.Minute)
	check("home.pre_backup", *home.PreBackup, Hook{Command: "systemctl stop postgresql", Timeout: DefaultHookTimeout})
	check("home.post_backup", *home.PostBackup, Hook{Command: "systemctl start postgresql", Timeout: 2 * time.Minute})
	check("home.on_failure", *home.OnFailure, Hook{Command: "logger -t hbackup 'home backup failed'", Timeout: 30 * time.Second})
	check("home.resources", home.Resources, Resources{CPUs: 1.5, Memory: 2 << 30, IOClass: "best-effort", IOPriority: 6, Nice: 10})
	check("home.retention", home.Retention, Retention{Last: 3, Daily: 30, Weekly: 8, Monthly: 6, Yearly: 2, Prune: true})
	check("home.healthchecks", *home.Healthchecks, Healthchecks{BaseURL: "https://hc.example.org",
		UUID: "5f6e8c1a-9b2d-4c3e-8f7a-1b2c3d4e5f60", Start: true, LogLines: 50})

	tank := c.Jobs["tank"]
	check("tank.zfs", tank.ZFS, []string{"tank/data", "tank/vm"})
	check("tank.paths", len(tank.Paths), 0)
	check("tank.repository (primary)", tank.Repository, "local")
	check("tank.retries (default)", tank.Retries, DefaultRetries)
	check("tank.retention (global)", tank.Retention, c.Retention)
	check("tank.hooks", []*Hook{tank.PreBackup, tank.PostBackup, tank.OnFailure}, []*Hook{nil, nil, nil})
	check("tank.healthchecks", *tank.Healthchecks, Healthchecks{BaseURL: "https://hc.example.org",
		UUIDFile: "/etc/hbackup/tank.hc-uuid", Start: false, LogLines: 20})
	// Mon..Fri 03:00 in Berlin: after Friday 2026-11-20 04:00 comes Monday 03:00.
	from := time.Date(2026, 11, 20, 4, 0, 0, 0, c.Timezone)
	check("tank next run", tank.Schedule.Next(from), time.Date(2026, 11, 23, 3, 0, 0, 0, c.Timezone))

	m := c.Monitoring
	check("log_dir", m.LogDir, "/var/log/hbackup")
	check("ntfy", *m.Ntfy, Ntfy{URL: "https://ntfy.sh/nas-backups", TokenFile: "/etc/hbackup/ntfy.token",
		On:       []string{"start", "warning", "failure"},
		Priority: map[string]int{"start": 1, "success": 2, "warning": 4, "failure": 5}})
	check("healthchecks", *m.Healthchecks, Healthchecks{BaseURL: "https://hc.example.org",
		URL: "https://hc.example.org/ping/0e4a2c1b-7d3f-4a5e-9b8c-6f1d2e3a4b5c", Start: true, LogLines: 50})
	check("prometheus", m.Prometheus, Prometheus{TextfileDir: "/var/lib/prometheus/node-exporter", Listen: "127.0.0.1:9436"})
	check("disable_defaults", m.ErrorAnalysis.DisableDefaults, false)
	if rules := m.ErrorAnalysis.Rules; len(rules) != 2 {
		t.Fatalf("%d rules", len(rules))
	}
	r := m.ErrorAnalysis.Rules[0]
	check("rule 0", []any{r.Pattern.String(), r.Category, r.Severity, r.Actionable, r.Retryable, r.Advice},
		[]any{"(?i)pg_dump: error", errclass.Category("database_dump"), errclass.Critical, true, false, "check that PostgreSQL is running"})
	r = m.ErrorAnalysis.Rules[1]
	check("rule 1", []any{r.Category, r.Severity, r.Retryable, r.Pattern.MatchString("dial offsite.example.org:22: connection refused")},
		[]any{errclass.Network, errclass.Warning, true, true})

	check("verification.schedule", c.Verification.Schedule.String(), "Sun 05:00")
	check("verification.read_data_subset", c.Verification.ReadDataSubset, "5%")
	check("restore_testing", []any{c.RestoreTesting.Schedule.String(), c.RestoreTesting.SampleFiles, c.RestoreTesting.TestDir, c.RestoreTesting.RetainTestData},
		[]any{"monthly", 25, "/var/tmp/hbackup-restore-test", false})
	check("validation", c.Validation, Validation{MinFreeSpace: 10 << 30, NetworkTimeout: 30 * time.Second, MaxAge: 26 * time.Hour, MinBackups: 7})
	check("documentation", c.Documentation, Documentation{OutputDir: "/var/lib/hbackup/docs", IncludeMetrics: true})
}

func TestDefaults(t *testing.T) {
	c, err := Parse("min.toml", []byte(`
[repositories.only]
url = "/srv/restic"
password_file = "/etc/p"
[jobs.docs]
paths = ["/home/alice/docs"]
`))
	if err != nil {
		t.Fatal(err)
	}
	j := c.Jobs["docs"]
	if j.Repository != "only" {
		t.Errorf("the only repository was not chosen: %q", j.Repository)
	}
	if want := (Retention{Daily: 14, Weekly: 8, Monthly: 6, Yearly: 2, Prune: true}); j.Retention != want || c.Retention != want {
		t.Errorf("retention %+v / %+v, want %+v", j.Retention, c.Retention, want)
	}
	if j.Retries != DefaultRetries || j.RetryDelay != DefaultRetryDelay || j.Schedule != nil || j.Healthchecks != nil {
		t.Errorf("job defaults: %+v", j)
	}
	if c.Monitoring.LogDir != DefaultLogDir || c.Monitoring.Ntfy != nil || c.Monitoring.Healthchecks != nil {
		t.Errorf("monitoring defaults: %+v", c.Monitoring)
	}
	if c.Timezone != time.Local {
		t.Errorf("timezone %v", c.Timezone)
	}
	want := Validation{NetworkTimeout: DefaultNetworkTimeout, MaxAge: DefaultMaxAge, MinBackups: DefaultMinBackups}
	if c.Validation != want {
		t.Errorf("validation %+v", c.Validation)
	}
	if c.RestoreTesting.SampleFiles != DefaultSampleFiles || c.RestoreTesting.TestDir != DefaultRestoreTestDir {
		t.Errorf("restore testing %+v", c.RestoreTesting)
	}
}

func TestNtfyDefaultsAndNames(t *testing.T) {
	c, err := Parse("n.toml", []byte(`
[monitoring.ntfy]
url = "https://ntfy.example.org/backups"
username = "alice"
password_file = "/etc/hbackup/ntfy.pw"
priority = { warning = "urgent" }
`))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Monitoring.Ntfy
	if !reflect.DeepEqual(n.On, []string{"warning", "failure"}) {
		t.Errorf("on = %v", n.On)
	}
	if want := map[string]int{"start": 2, "success": 2, "warning": 5, "failure": 5}; !reflect.DeepEqual(n.Priority, want) {
		t.Errorf("priority = %v, want %v", n.Priority, want)
	}
}

func TestTOMLForms(t *testing.T) {
	// Dotted keys, inline tables, literal strings and array-of-tables in
	// inline form all decode the same as their long forms.
	c, err := Parse("f.toml", []byte(`
repositories.r = { url = 'sftp:u@h:/back\slash', password_file = "/etc/p" }
jobs.a.paths = ["/a"]
jobs.a.retention.daily = 1_0
monitoring.error_analysis.rules = [{ pattern = "x", category = "c" }]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Repositories["r"].URL != `sftp:u@h:/back\slash` || c.Jobs["a"].Retention.Daily != 10 {
		t.Errorf("%+v %+v", c.Repositories["r"], c.Jobs["a"].Retention)
	}
	if r := c.Monitoring.ErrorAnalysis.Rules; len(r) != 1 || r[0].Severity != errclass.Error {
		t.Errorf("rules %+v", r)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"30s", 30 * time.Second, true}, {"1h30m", 90 * time.Minute, true},
		{"7d", 7 * 24 * time.Hour, true}, {"2w", 14 * 24 * time.Hour, true}, {"1.5h", 90 * time.Minute, true},
		{"10min", 10 * time.Minute, true}, {"250ms", 250 * time.Millisecond, true},
		{"", 0, false}, {"10", 0, false}, {"-5m", 0, false}, {"5 minutes", 0, false}, {"h", 0, false}, {"1y", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"512", 512, true}, {"500MiB", 500 << 20, true}, {"10G", 10 << 30, true},
		{"2GB", 2e9, true}, {"1.5 KiB", 1536, true}, {"1t", 1 << 40, true}, {"3kb", 3000, true},
		{"", 0, false}, {"G", 0, false}, {"10 gigs", 0, false}, {"-1G", 0, false}, {"1e30T", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"paths", "zfs", "repository", "copy_to", "exclude"}
	for in, want := range map[string]string{"path": "paths", "repo": "", "Repository": "repository",
		"copyto": "copy_to", "zfz": "zfs", "nothing_like_it": ""} {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPositionsCountCharacters(t *testing.T) {
	_, err := Parse("u.toml", []byte("[repositories.r]\nurl = \"/r\"\npassword_file = \"/etc/p\"\n[jobs.a]\npaths = [\"/\"]\ntags = [\"müll\", \"ünï\", 3]\n"))
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 6 || es[0].Column != 24 {
		t.Fatalf("%v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load = %v, want fs.ErrNotExist", err)
	}
}
