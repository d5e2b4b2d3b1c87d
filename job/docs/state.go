package docs

import (
	"context"
)

// state writes the current metrics and the last outcome of every job.
func (r *runbook) state(ctx context.Context) error {
	m := &r.m
	mon := r.c.Monitoring
	m.h(2, "Current state")
	m.p("As of %s.\n", r.now.In(r.c.Timezone).Format("2006-01-02 15:04:05 MST"))

	m.h(3, "Last runs")
	events, notes, err := lastRuns(ctx, mon.LogDir)
	if err != nil {
		return err
	}
	for _, n := range notes {
		m.p("- %s", n)
	}
	if len(notes) > 0 {
		m.p("")
	}
	if len(events) > 0 {
		var rows [][]string
		for _, e := range events {
			t := e.time.In(r.c.Timezone).Format("2006-01-02 15:04:05 MST")
			rows = append(rows, []string{e.job, e.kind, e.event, t, e.details})
		}
		m.table([]string{"Job", "Kind", "Last event", "Time", "Details"}, rows)
	} else {
		m.p("No job has logged a run yet.\n")
	}

	m.h(3, "Metrics")
	dir := mon.Prometheus.TextfileDir
	if dir == "" {
		m.p("No Prometheus textfile directory is configured.\n")
		return nil
	}
	samples, bad, err := readMetrics(ctx, dir)
	if err != nil {
		return err
	}
	for _, b := range bad {
		m.p("- Unreadable metrics file: %s", code(b))
	}
	if len(bad) > 0 {
		m.p("")
	}
	if len(samples) == 0 {
		m.p("No hbackup metrics in %s yet.\n", code(dir))
		return nil
	}
	m.p("From %s:\n", code(dir))
	var rows [][]string
	for _, s := range samples {
		rows = append(rows, []string{s.name, s.labels, valueText(s.name, s.value, r.c.Timezone)})
	}
	m.table([]string{"Metric", "Labels", "Value"}, rows)
	return nil
}
