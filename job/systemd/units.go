package systemd

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/config"
	"github.com/hbackup/hbackup/job/schedule"
)

// Names of the units for the checks that are not jobs.
const (
	VerifyName      = Prefix + "verify"
	RestoreTestName = Prefix + "restore-test"
)

// task is one scheduled command: a job, verification or restore testing.
type task struct {
	name        string // unit name without suffix
	description string
	args        []string // after the executable
	schedule    *schedule.Schedule
	resources   config.Resources
}

// Units returns a service and a timer for every scheduled job, and for
// verification and restore testing when they have schedules, sorted by
// name. Jobs without a schedule run only when named, so they get none.
func Units(c *config.Config, o Options) ([]Unit, error) {
	if o.Executable == "" || o.ConfigFile == "" {
		return nil, fmt.Errorf("systemd: executable and config file must be set")
	}
	var tasks []task
	for _, name := range c.JobNames() {
		j := c.Jobs[name]
		if j.Schedule == nil {
			continue
		}
		tasks = append(tasks, task{name: Prefix + name, description: "hbackup backup job " + name,
			args: []string{"run", "--config", o.ConfigFile, name}, schedule: j.Schedule, resources: j.Resources})
	}
	if s := c.Verification.Schedule; s != nil {
		tasks = append(tasks, task{name: VerifyName, description: "hbackup repository verification",
			args: []string{"verify", "--config", o.ConfigFile}, schedule: s})
	}
	if s := c.RestoreTesting.Schedule; s != nil {
		tasks = append(tasks, task{name: RestoreTestName, description: "hbackup restore test",
			args: []string{"restore-test", "--config", o.ConfigFile}, schedule: s})
	}
	seen := map[string]bool{}
	var units []Unit
	for _, t := range tasks {
		if seen[t.name] {
			return nil, fmt.Errorf("systemd: two schedules want the unit name %s; rename the job", t.name)
		}
		seen[t.name] = true
		units = append(units, Unit{Name: t.name + ".service", Text: service(t, o)}, Unit{Name: t.name + ".timer", Text: timer(t, o)})
	}
	sortUnits(units)
	return units, nil
}

func header(o Options) string {
	src := strings.ReplaceAll(o.ConfigFile, "\n", " ")
	return Marker + " from " + src + "; `hbackup schedule remove` deletes it.\n"
}

func service(t task, o Options) string {
	var b strings.Builder
	b.WriteString(header(o))
	fmt.Fprintf(&b, "[Unit]\nDescription=%s\n", t.description)
	// Remote repositories need the network; harmless for local ones.
	b.WriteString("Wants=network-online.target\nAfter=network-online.target\n\n")
	b.WriteString("[Service]\nType=oneshot\n")
	fmt.Fprintf(&b, "Environment=%s\n", quoteWord("HBACKUP_CONFIG="+o.ConfigFile, false))
	words := []string{quoteWord(o.Executable, true)}
	for _, a := range t.args {
		words = append(words, quoteWord(a, true))
	}
	fmt.Fprintf(&b, "ExecStart=%s\n", strings.Join(words, " "))
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	fmt.Fprintf(&b, "TimeoutStartSec=%s\n", span(timeout))
	for _, p := range Properties(t.resources) {
		b.WriteString(p + "\n")
	}
	return b.String()
}

func timer(t task, o Options) string {
	var b strings.Builder
	b.WriteString(header(o))
	fmt.Fprintf(&b, "[Unit]\nDescription=Schedule of %s\n\n", t.description)
	fmt.Fprintf(&b, "[Timer]\nOnCalendar=%s\n", Calendar(t.schedule))
	// Catch up on a run missed while the machine was off.
	b.WriteString("Persistent=true\n")
	if o.RandomizedDelay > 0 {
		fmt.Fprintf(&b, "RandomizedDelaySec=%s\n", span(o.RandomizedDelay))
	}
	b.WriteString("\n[Install]\nWantedBy=timers.target\n")
	return b.String()
}

// Calendar returns the schedule as written, with the configuration's time
// zone appended when it sets one, so systemd fires at the wall-clock time
// hbackup itself computes.
func Calendar(s *schedule.Schedule) string {
	expr := strings.TrimSpace(s.String())
	loc := s.Location()
	if loc == nil || loc == time.Local {
		return expr
	}
	f := strings.Fields(expr)
	if f[len(f)-1] == loc.String() {
		return expr
	}
	return expr + " " + loc.String()
}

// span formats a duration as a systemd time span.
func span(d time.Duration) string {
	switch {
	case d < 0:
		return "infinity"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dmin", d/time.Minute)
	default:
		return fmt.Sprintf("%ds", (d+time.Second-1)/time.Second)
	}
}

// sortUnits orders by name, so each service comes before its timer.
func sortUnits(units []Unit) {
	sort.Slice(units, func(i, j int) bool { return units[i].Name < units[j].Name })
}
