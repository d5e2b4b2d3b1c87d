package config

import (
	"sort"
	"time"

	"github.com/hbackup/hbackup/repo/checker"
)

func (d *decoder) verification(root table, loc *time.Location) Verification {
	var v Verification
	t, ok := root.sub("verification")
	if !ok {
		return v
	}
	t.known("schedule", "read_data_subset")
	v.Schedule = d.schedule(t, "schedule", loc)
	if n, ok := t.typed("read_data_subset", kString); ok {
		if _, err := checker.ParseSubset(n.str); err != nil {
			d.errorf(n.at, n.path, "%q: want \"x%%\", \"n/t\" or a size such as \"500M\"", n.str)
		} else {
			v.ReadDataSubset = n.str
		}
	}
	return v
}

func (d *decoder) restoreTesting(root table, loc *time.Location) RestoreTesting {
	r := RestoreTesting{SampleFiles: DefaultSampleFiles, TestDir: DefaultRestoreTestDir}
	t, ok := root.sub("restore_testing")
	if !ok {
		return r
	}
	t.known("schedule", "sample_files", "test_dir", "retain_test_data")
	r.Schedule = d.schedule(t, "schedule", loc)
	t.integer("sample_files", &r.SampleFiles, 1, 1_000_000)
	t.absPath("test_dir", &r.TestDir)
	t.boolean("retain_test_data", &r.RetainTestData)
	return r
}

func (d *decoder) validation(root table) Validation {
	v := Validation{NetworkTimeout: DefaultNetworkTimeout, MaxAge: DefaultMaxAge, MinBackups: DefaultMinBackups}
	t, ok := root.sub("validation")
	if !ok {
		return v
	}
	t.known("min_free_space", "network_timeout", "max_age", "min_backups")
	t.size("min_free_space", &v.MinFreeSpace)
	if t.duration("network_timeout", &v.NetworkTimeout) && v.NetworkTimeout <= 0 {
		n, _ := t.get("network_timeout")
		d.errorf(n.at, n.path, "must be positive")
	}
	t.duration("max_age", &v.MaxAge)
	t.integer("min_backups", &v.MinBackups, 0, 1_000_000)
	return v
}

func (d *decoder) documentation(root table) Documentation {
	var doc Documentation
	t, ok := root.sub("documentation")
	if !ok {
		return doc
	}
	t.known("output_dir", "include_metrics")
	t.absPath("output_dir", &doc.OutputDir)
	t.boolean("include_metrics", &doc.IncludeMetrics)
	return doc
}

// crossCheck validates what spans sections.
func (d *decoder) crossCheck(root table, c *Config) {
	rs, ok := root.sub("repositories")
	if !ok {
		return // jobs already said they have no repository
	}
	first := ""
	for _, name := range c.RepositoryNames() {
		if !c.Repositories[name].Primary {
			continue
		}
		if first != "" {
			r, _ := rs.sub(name)
			v, _ := r.get("primary")
			d.errorf(v.at, v.path, "repositories %q and %q are both primary; mark only one", first, name)
		}
		first = name
	}
}

func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Column < es[j].Column
	})
}
