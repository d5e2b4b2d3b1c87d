package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hbackup/hbackup/repo"
)

// checkSummary is the last line of `check --json`, in the shape of
// restic 0.17+ (restic 0.14 has no check --json).
type checkSummary struct {
	MessageType        string   `json:"message_type"` // "summary"
	NumErrors          int      `json:"num_errors"`
	BrokenPacks        []string `json:"broken_packs"`         // damaged pack files
	SuggestRepairIndex bool     `json:"suggest_repair_index"` // run "repair index"
	SuggestPrune       bool     `json:"suggest_prune"`        // run "prune"
}

// checkError is one error line of `check --json`, written to stderr.
type checkError struct {
	MessageType string `json:"message_type"` // "error"
	Message     string `json:"message"`
}

// checkReport prints check's findings: restic's text lines, or with
// --json one JSON error per line on stderr and a summary on stdout.
type checkReport struct {
	g       *globalOptions
	summary checkSummary
	broken  []repo.ID
}

func newCheckReport(g *globalOptions) *checkReport {
	return &checkReport{g: g, summary: checkSummary{MessageType: "summary", BrokenPacks: []string{}}}
}

// errorf reports one error, which may span several lines.
func (c *checkReport) errorf(format string, args ...any) {
	c.summary.NumErrors++
	msg := fmt.Sprintf(format, args...)
	if !c.g.json {
		fmt.Fprint(c.g.stderr, msg)
		return
	}
	for _, line := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		_ = writeJSON(c.g.stderr, checkError{MessageType: "error", Message: strings.TrimSpace(line)})
	}
}

// brokenPack records a pack whose content is damaged.
func (c *checkReport) brokenPack(id repo.ID) {
	if !slices.Contains(c.broken, id) {
		c.broken = append(c.broken, id)
		c.summary.BrokenPacks = append(c.summary.BrokenPacks, id.String())
	}
}

// finish prints the JSON summary, even when check failed, as restic.
func (c *checkReport) finish(err error) error {
	if !c.g.json {
		return err
	}
	if err != nil && c.summary.NumErrors == 0 {
		c.summary.NumErrors = 1
	}
	slices.Sort(c.summary.BrokenPacks)
	if werr := writeJSON(c.g.stdout, c.summary); werr != nil && err == nil {
		err = werr
	}
	return err
}
