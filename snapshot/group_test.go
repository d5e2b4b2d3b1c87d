package snapshot

import (
	"slices"
	"testing"
)

func TestParseGroupBy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want GroupBy
	}{
		{"", GroupBy{}},
		{"host,paths", GroupBy{Host: true, Paths: true}},
		{"tags", GroupBy{Tags: true}},
		{"paths,tags,host", GroupBy{true, true, true}},
		{"hosts,path,tag", GroupBy{true, true, true}}, // aliases restic 0.14 accepts
		{"host,,host", GroupBy{Host: true}},
	} {
		got, err := ParseGroupBy(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseGroupBy(%q) = %+v, %v", tc.in, got, err)
		}
	}
	if _, err := ParseGroupBy("host,foo"); err == nil || err.Error() != "unknown grouping option: 'foo'" {
		t.Errorf("unknown option: %v", err)
	}
	if s := (GroupBy{true, true, true}).String(); s != "host,paths,tags" {
		t.Errorf("String %q", s)
	}
	g := DefaultGroupBy()
	if err := g.Set("tags"); err != nil || g != (GroupBy{Tags: true}) || g.Type() != "group" {
		t.Errorf("Set: %+v %v", g, err)
	}
}

func TestGroupKey(t *testing.T) {
	sn := &Snapshot{Hostname: "h", Paths: []string{"/z", "/a"}, Tags: []string{"y", "x"}}
	for _, tc := range []struct {
		by   GroupBy
		want string
	}{
		{GroupBy{}, `{"hostname":"","paths":null,"tags":null}`},
		{DefaultGroupBy(), `{"hostname":"h","paths":["/a","/z"],"tags":null}`},
		{GroupBy{Tags: true}, `{"hostname":"","paths":null,"tags":["x","y"]}`},
	} {
		if got := tc.by.Key(sn).String(); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.by, got, tc.want)
		}
	}
	if !slices.Equal(sn.Paths, []string{"/z", "/a"}) || !slices.Equal(sn.Tags, []string{"y", "x"}) {
		t.Error("Key modified the snapshot")
	}
	untagged := &Snapshot{Hostname: "h", Paths: []string{"/a"}}
	if got := (GroupBy{Tags: true}).Key(untagged).String(); got != `{"hostname":"","paths":null,"tags":null}` {
		t.Errorf("untagged: %s", got)
	}
}

func TestGroupSnapshots(t *testing.T) {
	a1 := &Snapshot{Hostname: "b", Paths: []string{"/x", "/y"}}
	a2 := &Snapshot{Hostname: "b", Paths: []string{"/y", "/x"}} // same set, other order
	b := &Snapshot{Hostname: "a", Paths: []string{"/x"}}
	c := &Snapshot{Hostname: "b", Paths: []string{"/x"}, Tags: []string{"t"}}
	groups := GroupSnapshots([]*Snapshot{a1, b, a2, c}, DefaultGroupBy())
	var keys []string
	for _, g := range groups {
		keys = append(keys, g.Key.String())
	}
	want := []string{
		`{"hostname":"a","paths":["/x"],"tags":null}`,
		`{"hostname":"b","paths":["/x","/y"],"tags":null}`,
		`{"hostname":"b","paths":["/x"],"tags":null}`,
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %q", keys)
	}
	if !slices.Equal(groups[1].Snapshots, []*Snapshot{a1, a2}) || !slices.Equal(groups[2].Snapshots, []*Snapshot{c}) {
		t.Error("group members or their order")
	}
	if all := GroupSnapshots([]*Snapshot{a1, b, c}, GroupBy{}); len(all) != 1 || len(all[0].Snapshots) != 3 {
		t.Error("no grouping should give one group")
	}
}
