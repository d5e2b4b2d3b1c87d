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
