package config

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestExampleCoversEveryKey fails when a key is added to the format but
// not to examples/hbackup.toml, so the example stays a complete reference.
func TestExampleCoversEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../examples/hbackup.toml")
	if err != nil {
		t.Fatal(err)
	}
	root, errs, _ := parseTree("hbackup.toml", data)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	// Keys that exclude each other; the example shows them in comments.
	alternatives := map[string]bool{
		"monitoring.ntfy.token": true, "monitoring.ntfy.username": true,
		"monitoring.ntfy.password": true, "monitoring.ntfy.password_file": true,
		"jobs.*.healthchecks.url": true, "monitoring.healthchecks.uuid": true, "monitoring.healthchecks.uuid_file": true,
	}
	// Table names chosen by the user become "*".
	shape := regexp.MustCompile(`^(jobs|repositories)\.[^.]+`)
	index := regexp.MustCompile(`\[\d+\]`)
	canonical := func(path string) string {
		s := index.ReplaceAllString(shape.ReplaceAllString(path, "$1.*"), "[]")
		if s == "jobs.*.retention" {
			s = "retention" // same keys; [retention] shows them
		}
		return s
	}
	accepted := map[string]map[string]bool{} // shape → keys accepted
	used := map[string]map[string]bool{}     // shape → keys the example sets
	d := &decoder{file: "hbackup.toml", onKnown: func(path string, keys []string) {
		s := canonical(path)
		if accepted[s] == nil {
			accepted[s] = map[string]bool{}
		}
		for _, k := range keys {
			accepted[s][k] = true
		}
	}}
	var walk func(n *node)
	walk = func(n *node) {
		s := canonical(n.path)
		for _, k := range n.keys {
			if used[s] == nil {
				used[s] = map[string]bool{}
			}
			used[s][k] = true
			child := n.fields[k]
			if child.kind == kTable {
				walk(child)
			}
			for _, it := range child.items {
				if it.kind == kTable {
					walk(it)
				}
			}
		}
	}
	walk(root)
	d.config(d.table(root))
	if len(d.errs) > 0 {
		t.Fatal(d.errs)
	}
	var missing []string
	for s, keys := range accepted {
		for k := range keys {
			full := strings.TrimPrefix(s+"."+k, ".")
			if !used[s][k] && !alternatives[full] {
				missing = append(missing, full)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("examples/hbackup.toml does not show: %s", strings.Join(missing, ", "))
	}
	if len(accepted) < 15 {
		t.Errorf("only %d tables seen: %v", len(accepted), accepted)
	}
}
