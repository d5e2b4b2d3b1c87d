package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// printBounds writes the bound lines: times of the harness itself, kept
// apart from the tools' table so no one mistakes them for a tool.
func printBounds(w io.Writer, rep *report) error {
	if len(rep.Bounds) == 0 {
		return nil
	}
	fmt.Fprintln(w, "bounds: the harness itself, in process, with no tool and no repository: what this machine allows (not a tool)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "bound\tmedian\tmin-max\tCPU s\tMB/s\tsealed MiB\twhat")
	for _, br := range rep.Bounds {
		r := br.Result
		out, rate := "-", "-"
		if r.RepoSize > 0 {
			out = fmt.Sprintf("%.1f", float64(r.RepoSize)/mib)
		}
		if r.MBps > 0 { // the key derivation and lstat move no data
			rate = fmt.Sprintf("%.0f", r.MBps)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\n", br.Name, seconds(r), spread(r), r.CPU, rate, out, br.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}

// printTargets writes, per scenario, the target next to the ratio
// reached, the bound, the best ratio the bound allows any tool (restic's
// time over the bound) and hbackup's share of the bound; then the same in
// CPU seconds, which a busy machine disturbs less than wall time.
func printTargets(w io.Writer, rep *report) error {
	if !slices.ContainsFunc(rep.Scenarios, func(s *scenarioResult) bool { _, ok := target(s.Name); return ok }) {
		return nil
	}
	fmt.Fprintln(w, "against the targets: best r/bound = restic / bound, the most any tool could reach here; share bound/h = bound / hbackup, 1 would be at the bound; the CPU columns compare CPU seconds the same way")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\ttarget\tratio r/h\tbound\tbest r/bound\tshare bound/h\tbound CPU s\tCPU r/bound\tCPU share bound/h\t")
	for _, s := range rep.Scenarios {
		want, ok := target(s.Name)
		if !ok {
			continue
		}
		rat, verdict := "n/a", ""
		if s.Ratio > 0 {
			rat = fmt.Sprintf("%.2f", s.Ratio)
		}
		bound, cpu := boundFor(s.Name, rep.Bounds, rep.Machine.CPUs)
		if best, ok := ratio(s.Restic.Median, bound); ok && best < want {
			verdict = "target beyond the bound"
		}
		if s.Skipped != "" {
			verdict = "skipped: " + s.Skipped
		}
		fmt.Fprintf(tw, "%s\t≥ %.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, want, rat,
			orDash("%.2fs", bound), quotient(s.Restic.Median, bound), quotient(bound, s.Hbackup.Median),
			orDash("%.2f", cpu), quotient(s.Restic.CPU, cpu), quotient(cpu, s.Hbackup.CPU), verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Data.Scale < 0.1 && len(rep.Bounds) > 0 {
		fmt.Fprintf(w, "note: at scale %g the tools' fixed costs (start-up, locks, index), which the bounds leave out, dominate: judge the bound columns from scale 0.1 up\n", rep.Data.Scale)
	}
	fmt.Fprintln(w)
	return nil
}

// orDash formats v, or "-" when it is not positive (not measured).
func orDash(format string, v float64) string {
	if v > 0 {
		return fmt.Sprintf(format, v)
	}
	return "-"
}

// quotient formats a/b, or "-" when either is not measured.
func quotient(a, b float64) string {
	if q, ok := ratio(a, b); ok {
		return fmt.Sprintf("%.2f", q)
	}
	return "-"
}
