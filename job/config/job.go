package config

import (
	"path/filepath"
	"strings"

	"github.com/hbackup/hbackup/filter"
)

var jobKeys = []string{"paths", "zfs", "repository", "copy_to", "tags", "exclude", "pre_backup",
	"post_backup", "on_failure", "resources", "schedule", "retention", "compression",
	"read_concurrency", "retries", "retry_delay", "healthchecks"}

var compressions = []string{"auto", "off", "max", "fastest", "better"}

// job decodes [jobs.NAME]; repositories are already decoded, so references
// are checked here, where their positions are at hand.
func (d *decoder) job(name string, t table, c *Config) *Job {
	j := &Job{Name: name, Retention: c.Retention, Retries: DefaultRetries, RetryDelay: DefaultRetryDelay}
	d.checkName(name, t, "job")
	t.known(jobKeys...)

	t.strs("paths", &j.Paths)
	if v, ok := t.get("paths"); ok && v.kind == kArray {
		for i, it := range v.items {
			if i < len(j.Paths) && (it.str == "" || !filepath.IsAbs(it.str)) {
				d.errorf(it.at, it.path, "%q is not an absolute path", it.str)
			}
		}
	}
	t.strs("zfs", &j.ZFS)
	if v, ok := t.get("zfs"); ok && v.kind == kArray {
		for i, it := range v.items {
			if i < len(j.ZFS) && (it.str == "" || strings.HasPrefix(it.str, "/") || strings.ContainsAny(it.str, " @")) {
				d.errorf(it.at, it.path, "%q is not a ZFS dataset name such as \"tank/home\"", it.str)
			}
		}
	}
	if len(j.Paths) == 0 && len(j.ZFS) == 0 {
		if _, p := t.get("paths"); !p {
			if _, z := t.get("zfs"); !z {
				d.errorf(t.n.keyAt, t.n.path, "nothing to back up: set paths or zfs")
			}
		}
		if v, ok := t.get("paths"); ok && v.kind == kArray && len(v.items) == 0 {
			d.errorf(v.at, v.path, "nothing to back up: paths is empty and zfs is not set")
		}
	}

	d.jobRepository(t, j, c)
	if t.strs("tags", &j.Tags) {
		v, _ := t.get("tags")
		for i, tag := range j.Tags {
			if tag == "" || strings.Contains(tag, ",") {
				d.errorf(v.items[i].at, v.items[i].path, "tag %q must be non-empty and without commas", tag)
			}
		}
	}
	if t.strs("exclude", &j.Exclude) {
		v, _ := t.get("exclude")
		for i, pat := range j.Exclude {
			if _, err := filter.ParsePattern(pat); err != nil && pat != "" {
				d.errorf(v.items[i].at, v.items[i].path, "bad exclude pattern %q (unclosed [ or bad escape?)", pat)
			}
		}
	}
	j.PreBackup = d.hook(t, "pre_backup")
	j.PostBackup = d.hook(t, "post_backup")
	j.OnFailure = d.hook(t, "on_failure")
	if r, ok := t.sub("resources"); ok {
		j.Resources = d.resources(r)
	}
	j.Schedule = d.schedule(t, "schedule", c.Timezone)
	if r, ok := t.sub("retention"); ok {
		j.Retention = d.retention(r, c.Retention)
	}
	if v, ok := t.typed("compression", kString); ok {
		if contains(compressions, v.str) {
			j.Compression = v.str
		} else {
			d.errorf(v.at, v.path, "unknown compression %q (want auto, off, max, fastest or better)%s", v.str, didYouMean(v.str, compressions))
		}
	}
	t.integer("read_concurrency", &j.ReadConcurrency, 1, 1024)
	t.integer("retries", &j.Retries, 0, 100)
	t.duration("retry_delay", &j.RetryDelay)
	j.Healthchecks = d.jobHealthchecks(t, c.Monitoring.Healthchecks)
	return j
}

func (d *decoder) jobRepository(t table, j *Job, c *Config) {
	names := c.RepositoryNames()
	if v, ok := t.typed("repository", kString); ok {
		if _, known := c.Repositories[v.str]; known {
			j.Repository = v.str
		} else {
			d.errorf(v.at, v.path, "unknown repository %q%s", v.str, orKnown(v.str, names))
		}
	} else if _, present := t.get("repository"); !present {
		switch p := primary(c); {
		case p != "":
			j.Repository = p
		case len(names) == 1:
			j.Repository = names[0]
		default:
			d.errorf(t.n.keyAt, t.n.path, "no repository: set repository, or mark one repository primary = true")
		}
	}
	if !t.strs("copy_to", &j.CopyTo) {
		return
	}
	v, _ := t.get("copy_to")
	seen := map[string]bool{}
	for i, it := range v.items {
		name := j.CopyTo[i]
		switch {
		case c.Repositories[name] == nil:
			d.errorf(it.at, it.path, "unknown repository %q%s", name, orKnown(name, names))
		case name == j.Repository:
			d.errorf(it.at, it.path, "%q is the job's own repository; copy_to lists other repositories", name)
		case seen[name]:
			d.errorf(it.at, it.path, "repository %q is listed twice", name)
		}
		seen[name] = true
	}
}

func primary(c *Config) string {
	for _, n := range c.RepositoryNames() {
		if c.Repositories[n].Primary {
			return n
		}
	}
	return ""
}

// orKnown suggests a close name, or lists the defined ones.
func orKnown(s string, names []string) string {
	if m := didYouMean(s, names); m != "" {
		return m
	}
	if len(names) == 0 {
		return " (no repositories are defined)"
	}
	return " (defined: " + strings.Join(names, ", ") + ")"
}

// hook accepts `key = "command"` or a table with command and timeout.
func (d *decoder) hook(t table, key string) *Hook {
	v, ok := t.get(key)
	if !ok {
		return nil
	}
	h := &Hook{Timeout: DefaultHookTimeout}
	switch v.kind {
	case kString:
		h.Command = v.str
	case kTable:
		ht := table{d, v}
		ht.known("command", "timeout")
		if !ht.str("command", &h.Command) {
			if _, ok := ht.get("command"); !ok {
				d.errorf(v.keyAt, v.path, "missing required key \"command\"")
			}
			return nil
		}
		if ht.duration("timeout", &h.Timeout) && h.Timeout <= 0 {
			tv, _ := ht.get("timeout")
			d.errorf(tv.at, tv.path, "timeout must be positive")
		}
	default:
		d.errorf(v.at, v.path, "expected a command string or a table with command and timeout, got %s", v.kind)
		return nil
	}
	if strings.TrimSpace(h.Command) == "" {
		d.errorf(v.at, v.path, "empty command")
		return nil
	}
	return h
}

var ioClasses = []string{"idle", "best-effort", "realtime"}

func (d *decoder) resources(t table) Resources {
	var r Resources
	t.known("cpus", "memory", "io_class", "io_priority", "nice")
	t.number("cpus", &r.CPUs, 0.01, 1024)
	t.size("memory", &r.Memory)
	if v, ok := t.typed("io_class", kString); ok {
		if contains(ioClasses, v.str) {
			r.IOClass = v.str
		} else {
			d.errorf(v.at, v.path, "unknown io_class %q (want idle, best-effort or realtime)%s", v.str, didYouMean(v.str, ioClasses))
		}
	}
	if r.IOClass != "idle" && r.IOClass != "" {
		r.IOPriority = DefaultIOPriority
	}
	if t.integer("io_priority", &r.IOPriority, 0, 7) && (r.IOClass == "" || r.IOClass == "idle") {
		v, _ := t.get("io_priority")
		d.errorf(v.at, v.path, "io_priority needs io_class = \"best-effort\" or \"realtime\"")
	}
	t.integer("nice", &r.Nice, -20, 19)
	return r
}
