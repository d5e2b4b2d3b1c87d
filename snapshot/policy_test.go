package snapshot

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// policySnap makes a snapshot from "RFC3339 [tag,tag]"; its ID is derived from
// the text so results can be named.
func policySnap(t *testing.T, spec string) *Snapshot {
	t.Helper()
	ts, tags, _ := strings.Cut(spec, " ")
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatal(err)
	}
	sn := &Snapshot{Time: tm, Paths: []string{"/data"}, Hostname: "h"}
	if tags != "" {
		sn.Tags = strings.Split(tags, ",")
	}
	copy(sn.id[:], spec)
	return sn
}

func times(list []*Snapshot) []string {
	var out []string
	for _, sn := range list {
		out = append(out, sn.Time.Format(time.RFC3339))
	}
	return out
}

var policyNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestApplyPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sns    []string
		policy ExpirePolicy
		keep   []string // times, newest first
		why    []string // matches of the kept ones, joined by "+"
	}{
		{
			name:   "last keeps the newest, whatever the input order",
			sns:    []string{"2023-01-02T00:00:00Z", "2023-01-03T00:00:00Z", "2023-01-01T00:00:00Z"},
			policy: ExpirePolicy{Last: 2},
			keep:   []string{"2023-01-03T00:00:00Z", "2023-01-02T00:00:00Z"},
			why:    []string{"last snapshot", "last snapshot"},
		},
		{
			name:   "daily takes the newest of each of the N most recent days with snapshots",
			sns:    []string{"2023-01-01T10:00:00Z", "2023-01-05T09:00:00Z", "2023-01-05T18:00:00Z", "2023-01-09T01:00:00Z"},
			policy: ExpirePolicy{Daily: 2},
			keep:   []string{"2023-01-09T01:00:00Z", "2023-01-05T18:00:00Z"},
		},
		{
			name: "a day is the day of the stored zone, not of UTC",
			// 23:30 at -05:00 is 04:30 UTC on Jan 2; both are days of their own.
			sns:    []string{"2023-01-01T23:30:00-05:00", "2023-01-02T05:00:00Z"},
			policy: ExpirePolicy{Daily: 5},
			keep:   []string{"2023-01-02T05:00:00Z", "2023-01-01T23:30:00-05:00"},
		},
		{
			name: "the same UTC day split by zones",
			// 2023-01-02T01:00+05:45 is Jan 1 19:15 UTC; in its zone it is Jan 2,
			// the same day as the Z snapshot, which is newer.
			sns:    []string{"2023-01-02T01:00:00+05:45", "2023-01-02T10:00:00Z"},
			policy: ExpirePolicy{Daily: 5},
			keep:   []string{"2023-01-02T10:00:00Z"},
		},
		{
			name: "ISO week 53 of 2020 runs into 2021",
			sns: []string{"2020-12-27T12:00:00Z", "2020-12-31T12:00:00Z", "2021-01-03T12:00:00Z",
				"2021-01-04T12:00:00Z"},
			policy: ExpirePolicy{Weekly: 3},
			keep:   []string{"2021-01-04T12:00:00Z", "2021-01-03T12:00:00Z", "2020-12-27T12:00:00Z"},
		},
		{
			name: "the repeated hour at the end of DST is one hourly bucket",
			// Europe/Berlin 2023-10-29: 02:30 happens at +02:00 and again at +01:00.
			sns:    []string{"2023-10-29T02:10:00+02:00", "2023-10-29T02:30:00+02:00", "2023-10-29T02:10:00+01:00", "2023-10-29T03:05:00+01:00"},
			policy: ExpirePolicy{Hourly: 10},
			keep:   []string{"2023-10-29T03:05:00+01:00", "2023-10-29T02:10:00+01:00"},
		},
		{
			name:   "monthly and yearly at a year end",
			sns:    []string{"2021-12-31T23:59:59+01:00", "2022-01-01T00:00:01+01:00", "2022-01-31T08:00:00Z", "2022-02-01T08:00:00Z"},
			policy: ExpirePolicy{Monthly: 2, Yearly: 2},
			keep:   []string{"2022-02-01T08:00:00Z", "2022-01-31T08:00:00Z", "2021-12-31T23:59:59+01:00"},
			why:    []string{"monthly snapshot+yearly snapshot", "monthly snapshot", "yearly snapshot"},
		},
		{
			name: "within is measured from the newest snapshot that is not in the future",
			sns: []string{"2030-01-01T00:00:00Z", "2025-12-30T00:00:00Z", "2025-12-28T01:00:00Z",
				"2025-12-28T00:00:00Z"},
			policy: ExpirePolicy{Within: Duration{Days: 2}},
			keep:   []string{"2030-01-01T00:00:00Z", "2025-12-30T00:00:00Z", "2025-12-28T01:00:00Z"},
			why:    []string{"within 2d", "within 2d", "within 2d"},
		},
		{
			name:   "within uses calendar months",
			sns:    []string{"2023-03-31T12:00:00Z", "2023-03-03T12:00:01Z", "2023-03-03T12:00:00Z", "2023-02-28T12:00:00Z"},
			policy: ExpirePolicy{Within: Duration{Months: 1}},
			keep:   []string{"2023-03-31T12:00:00Z", "2023-03-03T12:00:01Z"},
		},
		{
			name:   "within-daily keeps one per day inside the window, uncounted",
			sns:    []string{"2023-01-10T10:00:00Z", "2023-01-10T08:00:00Z", "2023-01-09T10:00:00Z", "2023-01-08T10:00:00Z", "2023-01-07T10:00:00Z"},
			policy: ExpirePolicy{WithinDaily: Duration{Days: 2}},
			keep:   []string{"2023-01-10T10:00:00Z", "2023-01-09T10:00:00Z"},
			why:    []string{"daily within 2d", "daily within 2d"},
		},
		{
			name: "keep-tag needs all tags of a list; lists are ORed; tags are not counted",
			sns: []string{"2023-01-05T00:00:00Z a", "2023-01-04T00:00:00Z a,b", "2023-01-03T00:00:00Z b,a,c",
				"2023-01-02T00:00:00Z", "2023-01-01T00:00:00Z c"},
			policy: ExpirePolicy{Tags: []TagList{{"a", "b"}, {""}}, Last: 1},
			keep:   []string{"2023-01-05T00:00:00Z", "2023-01-04T00:00:00Z", "2023-01-03T00:00:00Z", "2023-01-02T00:00:00Z"},
			why:    []string{"last snapshot", "has tags [a, b]", "has tags [a, b]", "has tags []"},
		},
		{
			name:   "a policy that keeps nothing removes the whole group (0.14)",
			sns:    []string{"2023-01-02T00:00:00Z", "2023-01-01T00:00:00Z"},
			policy: ExpirePolicy{Tags: []TagList{{"typo"}}},
			keep:   nil,
		},
		{
			name:   "negative counts keep nothing in 0.14 mode",
			sns:    []string{"2023-01-02T00:00:00Z", "2023-01-01T00:00:00Z"},
			policy: ExpirePolicy{Last: -1},
			keep:   nil,
		},
		{
			name:   "empty policy keeps everything",
			sns:    []string{"2023-01-01T00:00:00Z", "2023-01-02T00:00:00Z"},
			policy: ExpirePolicy{},
			keep:   []string{"2023-01-02T00:00:00Z", "2023-01-01T00:00:00Z"},
			why:    []string{"policy is empty", "policy is empty"},
		},
		{
			name:   "0.16 rules: unlimited, and the oldest is kept while counts are left",
			sns:    []string{"2023-01-03T00:00:00Z", "2023-01-02T10:00:00Z", "2023-01-02T09:00:00Z", "2023-01-01T09:00:00Z", "2023-01-01T08:00:00Z"},
			policy: ExpirePolicy{Daily: -1, Monthly: 5, Restic016: true},
			keep:   []string{"2023-01-03T00:00:00Z", "2023-01-02T10:00:00Z", "2023-01-01T09:00:00Z", "2023-01-01T08:00:00Z"},
			why:    []string{"daily snapshot+monthly snapshot", "daily snapshot", "daily snapshot", "oldest daily snapshot+oldest monthly snapshot"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sns []*Snapshot
			for _, s := range tc.sns {
				sns = append(sns, policySnap(t, s))
			}
			in := slices.Clone(sns)
			keep, remove, reasons := ApplyPolicy(sns, tc.policy, policyNow)
			if !slices.Equal(sns, in) {
				t.Error("input was reordered")
			}
			if got := times(keep); !slices.Equal(got, tc.keep) {
				t.Errorf("keep %v\nwant %v", got, tc.keep)
			}
			if len(keep)+len(remove) != len(sns) || len(reasons) != len(keep) {
				t.Errorf("%d kept + %d removed of %d, %d reasons", len(keep), len(remove), len(sns), len(reasons))
			}
			for i := 1; i < len(remove); i++ {
				if remove[i].Time.After(remove[i-1].Time) {
					t.Errorf("remove not newest first: %v", times(remove))
				}
			}
			for i, w := range tc.why {
				if i < len(reasons) && strings.Join(reasons[i].Matches, "+") != w {
					t.Errorf("reason %d: %q, want %q", i, reasons[i].Matches, w)
				}
			}
		})
	}
}

// Equal times keep their input order (a stable sort), which decides which
// one "last" keeps.
func TestApplyPolicyStableTies(t *testing.T) {
	a, b := policySnap(t, "2023-01-01T00:00:00Z x"), policySnap(t, "2023-01-01T00:00:00Z y")
	for _, in := range [][]*Snapshot{{a, b}, {b, a}} {
		keep, _, _ := ApplyPolicy(in, ExpirePolicy{Last: 1}, policyNow)
		if len(keep) != 1 || keep[0] != in[0] {
			t.Errorf("tie: kept %v, want the first of the input", keep[0].Tags)
		}
	}
}

func TestApplyPolicyCountersJSON(t *testing.T) {
	sns := []*Snapshot{policySnap(t, "2023-01-02T00:00:00Z"), policySnap(t, "2023-01-01T00:00:00Z")}
	_, _, reasons := ApplyPolicy(sns, ExpirePolicy{Last: 1, Daily: 3}, policyNow)
	var got []string
	for _, r := range reasons {
		b, err := json.Marshal(struct {
			M []string `json:"matches"`
			C Counters `json:"counters"`
		}{r.Matches, r.Counters})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	want := []string{
		`{"matches":["last snapshot","daily snapshot"],"counters":{"daily":2}}`,
		`{"matches":["daily snapshot"],"counters":{"daily":1}}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestApplyPolicyEmptyInput(t *testing.T) {
	keep, remove, reasons := ApplyPolicy(nil, ExpirePolicy{Last: 1}, policyNow)
	if keep != nil || remove != nil || reasons != nil {
		t.Fatal("want nothing")
	}
}

// The descriptions are those restic 0.14 prints as "Applying Policy: …".
func TestExpirePolicyString(t *testing.T) {
	for _, tc := range []struct {
		p    ExpirePolicy
		want string
	}{
		{ExpirePolicy{Last: 1}, "keep 1 latest snapshots"},
		{ExpirePolicy{Daily: 2, Tags: []TagList{{"a"}}}, "keep 2 daily snapshots and all snapshots with tags [[a]]"},
		{ExpirePolicy{Within: Duration{Days: 3}}, "keep all snapshots within 3d of the newest"},
		{ExpirePolicy{Last: -1}, "keep "},
		{ExpirePolicy{Last: -1, Restic016: true}, "keep all latest snapshots"},
		{ExpirePolicy{
			Last: 2, Hourly: 3, Daily: 4, Weekly: 5, Monthly: 6, Yearly: 7,
			Within: Duration{1, 2, 3, 4}, WithinHourly: Duration{Hours: 3}, WithinDaily: Duration{Days: 5},
			WithinWeekly: Duration{Months: 2}, WithinMonthly: Duration{Years: 1}, WithinYearly: Duration{Years: 9},
			Tags: []TagList{{"a", "b"}, {""}},
		}, "keep 2 latest, 3 hourly, 4 daily, 5 weekly, 6 monthly, 7 yearly snapshots, hourly snapshots within 3h, " +
			"daily snapshots within 5d, weekly snapshots within 2m, monthly snapshots within 1y, yearly snapshots within 9y " +
			"and all snapshots with tags [[a, b] []] and all snapshots within 1y2m3d4h of the newest"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func TestExpirePolicyEmpty(t *testing.T) {
	if !(ExpirePolicy{Restic016: true, Tags: []TagList{}}).Empty() {
		t.Error("no rules should be empty")
	}
	for _, p := range []ExpirePolicy{{Yearly: 1}, {Last: -1}, {WithinYearly: Duration{Hours: 1}}, {Tags: []TagList{{""}}}} {
		if p.Empty() {
			t.Errorf("%+v is not empty", p)
		}
	}
}

func TestSplitTagListAndMatch(t *testing.T) {
	none, a, ab := policySnap(t, "2023-01-01T00:00:00Z"), policySnap(t, "2023-01-01T00:00:00Z a"), policySnap(t, "2023-01-01T00:00:00Z b,a")
	for _, tc := range []struct {
		in     string
		list   TagList
		none   bool
		a, ab  bool
		reason string
	}{
		{"", TagList{""}, true, false, false, "[]"},
		{"a", TagList{"a"}, false, true, true, "[a]"},
		{" a , b ", TagList{"a", "b"}, false, false, true, "[a, b]"},
		{"a,", TagList{"a", ""}, false, false, false, "[a, ]"},
		{",a", TagList{"", "a"}, true, false, false, "[, a]"}, // "" first matches untagged at once
		{",", TagList{"", ""}, true, false, false, "[, ]"},
	} {
		l := SplitTagList(tc.in)
		if !slices.Equal(l, tc.list) {
			t.Errorf("SplitTagList(%q) = %q, want %q", tc.in, l, tc.list)
		}
		if l.Match(none) != tc.none || l.Match(a) != tc.a || l.Match(ab) != tc.ab {
			t.Errorf("%q matches none/a/ab = %v/%v/%v", tc.in, l.Match(none), l.Match(a), l.Match(ab))
		}
		if s := tagListString(l); s != tc.reason {
			t.Errorf("%q formats as %q, want %q", tc.in, s, tc.reason)
		}
	}
	if !(TagList{}).Match(none) {
		t.Error("an empty list matches everything")
	}
}
