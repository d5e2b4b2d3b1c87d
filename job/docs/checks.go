package docs

// checks describes verification, restore testing and the health thresholds.
func (r *runbook) checks() {
	m := &r.m
	c := r.c
	m.h(2, "Verification and restore testing")
	v := c.Verification
	if v.Schedule != nil {
		m.p("- Verification: %s (%s), next %s: `%s verify --config %s`", code(v.Schedule.String()),
			zoneName(v.Schedule), first(nextRuns(v.Schedule, r.now, 1)), r.cmd, shq(c.File))
	} else {
		m.p("- Verification: not scheduled; run `%s verify --config %s` by hand", r.cmd, shq(c.File))
	}
	if v.ReadDataSubset != "" {
		m.p("- Data read per verification: %s of the pack files, a different part each run, so successive runs cover the whole repository", code(v.ReadDataSubset))
	} else {
		m.p("- Data read per verification: none (structure only)")
	}
	t := c.RestoreTesting
	if t.Schedule != nil {
		m.p("- Restore testing: %s (%s), next %s: `%s restore-test --config %s`", code(t.Schedule.String()),
			zoneName(t.Schedule), first(nextRuns(t.Schedule, r.now, 1)), r.cmd, shq(c.File))
	} else {
		m.p("- Restore testing: not scheduled; run `%s restore-test --config %s` by hand", r.cmd, shq(c.File))
	}
	m.p("- Restore test: %d sample files from the latest snapshot, restored into %s and compared; test data %s\n",
		t.SampleFiles, code(t.TestDir), map[bool]string{true: "kept", false: "removed afterwards"}[t.RetainTestData])

	val := c.Validation
	m.h(3, "Pre-flight and health thresholds")
	free := "not checked"
	if val.MinFreeSpace > 0 {
		free = size(val.MinFreeSpace)
	}
	m.p("- Minimum free space: %s", free)
	m.p("- Network timeout: %s", duration(val.NetworkTimeout))
	m.p("- Maximum age of the last backup: %s", duration(val.MaxAge))
	m.p("- Minimum number of snapshots: %d", val.MinBackups)
	m.p("- Check them now: `%s health --config %s`; overview: `%s status --config %s`\n", r.cmd, shq(c.File), r.cmd, shq(c.File))
}

func first(s []string) string {
	if len(s) == 0 {
		return "never"
	}
	return s[0]
}
