package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hbackup/hbackup/backend/location"
	"github.com/hbackup/hbackup/job/schedule"
)

// Load reads and validates the configuration file at path. When the file is
// invalid the error is an Errors listing every problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for a document already in memory; name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	root, errs, syntaxErr := parseTree(name, data)
	if syntaxErr {
		// Decoding a truncated tree would only add noise.
		return nil, errs
	}
	d := &decoder{file: name, errs: errs}
	c := d.config(d.table(root))
	c.File = name
	if len(d.errs) > 0 {
		sortErrors(d.errs)
		return nil, d.errs
	}
	return c, nil
}

var topKeys = []string{"hostname", "timezone", "retention", "repositories", "jobs", "monitoring",
	"verification", "restore_testing", "validation", "documentation"}

func (d *decoder) config(t table) *Config {
	c := &Config{Timezone: time.Local, Retention: DefaultRetention(),
		Repositories: map[string]*Repository{}, Jobs: map[string]*Job{}}
	t.known(topKeys...)
	t.str("hostname", &c.Hostname)
	if v, ok := t.typed("timezone", kString); ok {
		loc, err := time.LoadLocation(v.str)
		if err != nil || v.str == "" {
			d.errorf(v.at, v.path, "unknown time zone %q (use an IANA name such as \"Europe/Berlin\" or \"UTC\")", v.str)
		} else {
			c.Timezone = loc
		}
	}
	if r, ok := t.sub("retention"); ok {
		c.Retention = d.retention(r, c.Retention)
	}
	if rs, ok := t.sub("repositories"); ok {
		rs.each(func(name string, r table) { c.Repositories[name] = d.repository(name, r) })
	}
	c.Monitoring = d.monitoring(t)
	if js, ok := t.sub("jobs"); ok {
		js.each(func(name string, j table) { c.Jobs[name] = d.job(name, j, c) })
	}
	c.Verification = d.verification(t, c.Timezone)
	c.RestoreTesting = d.restoreTesting(t, c.Timezone)
	c.Validation = d.validation(t)
	c.Documentation = d.documentation(t)
	d.crossCheck(t, c)
	return c
}

func (d *decoder) schedule(t table, key string, loc *time.Location) *schedule.Schedule {
	v, ok := t.typed(key, kString)
	if !ok {
		return nil
	}
	s, err := schedule.Parse(v.str, loc)
	if err != nil {
		d.errorf(v.at, v.path, "%v", err)
		return nil
	}
	return s
}

func (d *decoder) retention(t table, base Retention) Retention {
	t.known("last", "hourly", "daily", "weekly", "monthly", "yearly", "prune")
	r := base
	for key, dst := range map[string]*int{"last": &r.Last, "hourly": &r.Hourly, "daily": &r.Daily,
		"weekly": &r.Weekly, "monthly": &r.Monthly, "yearly": &r.Yearly} {
		t.integer(key, dst, -1, 1<<31-1)
	}
	t.boolean("prune", &r.Prune)
	if r.Last == 0 && r.Hourly == 0 && r.Daily == 0 && r.Weekly == 0 && r.Monthly == 0 && r.Yearly == 0 {
		d.errorf(t.n.keyAt, t.n.path, "keeps no snapshots: forget would delete them all; keep at least one")
	}
	return r
}

func (d *decoder) repository(name string, t table) *Repository {
	r := &Repository{Name: name}
	d.checkName(name, t, "repository")
	t.known("url", "password_file", "environment_file", "primary", "append_only")
	if t.nonEmpty("url", &r.URL) {
		if msg := checkLocation(r.URL); msg != "" {
			v, _ := t.get("url")
			d.errorf(v.at, v.path, "%s", msg)
		}
	} else if _, ok := t.get("url"); !ok {
		d.errorf(t.n.keyAt, t.n.path, "missing required key \"url\"")
	}
	if !t.absPath("password_file", &r.PasswordFile) {
		if _, ok := t.get("password_file"); !ok {
			d.errorf(t.n.keyAt, t.n.path, "missing required key \"password_file\"")
		}
	}
	t.absPath("environment_file", &r.EnvironmentFile)
	t.boolean("primary", &r.Primary)
	t.boolean("append_only", &r.AppendOnly)
	return r
}

// checkLocation catches repository locations that cannot work, without
// opening them (that is cmd/hbackup's job).
func checkLocation(loc string) string {
	b, rest, err := location.Split(loc)
	if err != nil {
		return err.Error()
	}
	switch b {
	case location.REST:
		if u, err := url.Parse(rest); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Sprintf("%q: want rest:http://host:port/path or rest:https://...", loc)
		}
	case location.B2:
		if bucket, _, _ := strings.Cut(rest, ":"); bucket == "" {
			return fmt.Sprintf("%q: want b2:bucket or b2:bucket:path", loc)
		}
	case location.SFTP:
		if rest == "" {
			return fmt.Sprintf("%q: want sftp:user@host:/path", loc)
		}
	case location.Local:
		if !filepath.IsAbs(rest) {
			return fmt.Sprintf("%q is not an absolute path; local repositories need one", loc)
		}
	}
	return ""
}

// checkName restricts names to what is safe in file names, systemd unit
// names and metric labels.
func (d *decoder) checkName(name string, t table, what string) {
	if !isBare(name) {
		d.errorf(t.n.keyAt, t.n.path, "%s name %q may contain only letters, digits, '-' and '_'", what, name)
	}
}
