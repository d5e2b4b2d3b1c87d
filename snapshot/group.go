package snapshot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// GroupBy selects the snapshot fields that form a group, as restic's
// --group-by. The zero value puts all snapshots in one group.
type GroupBy struct {
	Host, Paths, Tags bool
}

// DefaultGroupBy returns restic's default for forget: "host,paths".
func DefaultGroupBy() GroupBy { return GroupBy{Host: true, Paths: true} }

// ParseGroupBy parses a comma-separated list of "host", "paths" and
// "tags"; "" (or empty items) select nothing. Like restic 0.14 it also
// accepts "hosts", "path" and "tag".
func ParseGroupBy(s string) (GroupBy, error) {
	var g GroupBy
	for _, opt := range strings.Split(s, ",") {
		switch opt {
		case "host", "hosts":
			g.Host = true
		case "paths", "path":
			g.Paths = true
		case "tags", "tag":
			g.Tags = true
		case "":
		default:
			return GroupBy{}, fmt.Errorf("unknown grouping option: '%s'", opt)
		}
	}
	return g, nil
}

// String gives the canonical option list, such as "host,paths".
func (g GroupBy) String() string {
	var opts []string
	if g.Host {
		opts = append(opts, "host")
	}
	if g.Paths {
		opts = append(opts, "paths")
	}
	if g.Tags {
		opts = append(opts, "tags")
	}
	return strings.Join(opts, ",")
}

// Set parses s into g; with Type it makes *GroupBy a command-line flag
// value (pflag.Value).
func (g *GroupBy) Set(s string) error {
	v, err := ParseGroupBy(s)
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// Type names the flag value type in help texts.
func (g *GroupBy) Type() string { return "group" }

// GroupKey identifies a group. Only the fields selected by GroupBy are
// set; Paths and Tags are sorted copies. Its JSON (String) is restic's
// group key: {"hostname":…,"paths":…,"tags":…}, with null for fields not
// grouped by and for a snapshot without tags.
type GroupKey struct {
	Hostname string   `json:"hostname"`
	Paths    []string `json:"paths"`
	Tags     []string `json:"tags"`
}

// String returns the key as restic's JSON.
func (k GroupKey) String() string {
	b, err := json.Marshal(k)
	if err != nil { // cannot happen for strings
		panic(err)
	}
	return string(b)
}

// Key returns the group key of sn. The snapshot is not modified.
func (g GroupBy) Key(sn *Snapshot) GroupKey {
	var k GroupKey
	if g.Host {
		k.Hostname = sn.Hostname
	}
	if g.Paths {
		k.Paths = sortedCopy(sn.Paths)
	}
	if g.Tags {
		k.Tags = sortedCopy(sn.Tags)
	}
	return k
}

// Group is one group of snapshots with its key.
type Group struct {
	Key       GroupKey
	Snapshots []*Snapshot
}

// GroupSnapshots splits sns into groups by g. Within a group the input
// order is kept; the groups are ordered by their key's JSON, so the
// result is deterministic (restic iterates a map, in random order).
func GroupSnapshots(sns []*Snapshot, g GroupBy) []Group {
	index := map[string]int{}
	var groups []Group
	for _, sn := range sns {
		k := g.Key(sn)
		ks := k.String()
		i, ok := index[ks]
		if !ok {
			i = len(groups)
			index[ks] = i
			groups = append(groups, Group{Key: k})
		}
		groups[i].Snapshots = append(groups[i].Snapshots, sn)
	}
	slices.SortStableFunc(groups, func(a, b Group) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	return groups
}

// sortedCopy returns a sorted copy of l; nil stays nil and empty stays
// empty, because the key's JSON tells null from [].
func sortedCopy(l []string) []string {
	if l == nil {
		return nil
	}
	c := append(make([]string, 0, len(l)), l...)
	slices.Sort(c)
	return c
}
