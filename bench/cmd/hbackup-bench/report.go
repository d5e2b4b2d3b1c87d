package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

const mib = 1 << 20

// printReport writes the machine, the data set, the table and the notes.
func printReport(w io.Writer, rep *report) error {
	m := rep.Machine
	fmt.Fprintf(w, "machine: %d CPUs (%s), %s RAM, %s; load %s at start, %s at end\n",
		m.CPUs, m.CPUModel, m.Memory, m.Kernel, m.LoadStart, m.LoadEnd)
	fmt.Fprintf(w, "tools:   %s\n         %s\n         harness built with %s\n", m.Restic, m.Hbackup, m.GoVersion)
	d := rep.Data
	fmt.Fprintf(w, "data:    scale %g, seed %d: %d files, %d dirs, %d symlinks, %.1f MiB in %s\n",
		d.Scale, d.Seed, d.Files, d.Dirs, d.Symlinks, float64(d.Bytes)/mib, d.Path)
	cache := "warm: the data was read once before timing and the page cache is not dropped"
	if rep.DropCaches {
		cache = "sync + drop_caches before every timed run"
	}
	fmt.Fprintf(w, "runs:    %d per scenario and tool, alternating; page cache: %s\n\n", rep.Runs, cache)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\trestic\thbackup\tratio r/h\trestic min-max\thbackup min-max\tCPU s r/h\tMB/s r/h\tpeak RSS MiB r/h\trepo MiB r/h")
	for _, s := range rep.Scenarios {
		r, h := s.Restic, s.Hbackup
		rat := "n/a"
		if s.Ratio > 0 {
			rat = fmt.Sprintf("%.2f", s.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name,
			seconds(r), seconds(h), rat, spread(r), spread(h),
			pair(r, h, func(t *toolResult) float64 { return t.CPU }, "%.2f"),
			pair(r, h, func(t *toolResult) float64 { return t.MBps }, "%.0f"),
			pair(r, h, func(t *toolResult) float64 { return float64(t.PeakRSS) / mib }, "%.0f"),
			pair(r, h, func(t *toolResult) float64 { return float64(t.RepoSize) / mib }, "%.1f"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := printBounds(w, rep); err != nil {
		return err
	}
	if err := printTargets(w, rep); err != nil {
		return err
	}
	for _, s := range rep.Scenarios {
		for _, n := range s.Notes {
			fmt.Fprintf(w, "%s: %s\n", s.Name, n)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, n)
	}
	return nil
}

func seconds(t *toolResult) string {
	if t.NA != "" || len(t.Samples) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fs", t.Median)
}

func spread(t *toolResult) string {
	if t.NA != "" || len(t.Samples) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f-%.2f", t.Min, t.Max)
}

// pair formats one value for each tool as "restic/hbackup"; "-" stands for
// a value the scenario does not have, "n/a" for a tool that did not run.
func pair(r, h *toolResult, get func(*toolResult) float64, format string) string {
	one := func(t *toolResult) string {
		if t.NA != "" || len(t.Samples) == 0 {
			return "n/a"
		}
		if v := get(t); v > 0 {
			return fmt.Sprintf(format, v)
		}
		return "-"
	}
	a, b := one(r), one(h)
	if a == "-" && b == "-" {
		return "-"
	}
	return a + "/" + b
}

// writeJSON writes the report to path.
func writeJSON(path string, rep *report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding results: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return nil
}
