package docs

import (
	"strings"

	"github.com/hbackup/hbackup/job/schedule"
)

func (r *runbook) schedules() {
	m := &r.m
	m.h(2, "Schedules")
	var rows [][]string
	add := func(what string, s *schedule.Schedule) {
		rows = append(rows, []string{what, code(s.String()), zoneName(s), strings.Join(nextRuns(s, r.now, 3), ", ")})
	}
	var manual []string
	for _, name := range r.c.JobNames() {
		if s := r.c.Jobs[name].Schedule; s != nil {
			add("backup job "+name, s)
		} else {
			manual = append(manual, name)
		}
	}
	if s := r.c.Verification.Schedule; s != nil {
		add("verification", s)
	}
	if s := r.c.RestoreTesting.Schedule; s != nil {
		add("restore testing", s)
	}
	if len(rows) > 0 {
		m.table([]string{"What", "Schedule", "Time zone", "Next runs"}, rows)
		m.p("Schedules use systemd's calendar syntax. `%s schedule install --config %s` installs one",
			r.cmd, shq(r.c.File))
		m.p("systemd timer per line (units `hbackup-*.timer`); `systemctl list-timers 'hbackup-*'` shows them.\n")
	} else {
		m.p("Nothing is scheduled.\n")
	}
	if len(manual) > 0 {
		m.p("Run only when named (no schedule): %s.\n", strings.Join(manual, ", "))
	}
}

func (r *runbook) retention() {
	m := &r.m
	m.h(2, "Retention")
	m.p("Global default: %s.\n", retentionText(r.c.Retention))
	var rows [][]string
	for _, name := range r.c.JobNames() {
		j := r.c.Jobs[name]
		p := j.Retention
		rows = append(rows, []string{name, j.Repository, keep(p.Last), keep(p.Hourly), keep(p.Daily),
			keep(p.Weekly), keep(p.Monthly), keep(p.Yearly), yesNo(p.Prune)})
	}
	if len(rows) > 0 {
		m.table([]string{"Job", "Repository", "Last", "Hourly", "Daily", "Weekly", "Monthly", "Yearly", "Prune"}, rows)
	}
	var ao []string
	for _, name := range r.c.RepositoryNames() {
		if r.c.Repositories[name].AppendOnly {
			ao = append(ao, name)
		}
	}
	if len(ao) > 0 {
		m.p("Append-only repositories keep every snapshot; hbackup never forgets or prunes in them: %s.\n",
			strings.Join(ao, ", "))
	}
}

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
