package autosnap

import (
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // DST tests need America/New_York everywhere

	"github.com/hbackup/hbackup/zfs"
)

func TestNameRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	if got := Name(Hourly, at); got != "autosnap_2026-11-22_14:00:00_hourly" {
		t.Fatalf("Name = %q", got)
	}
	for _, p := range Periods() {
		name := Name(p, at)
		gotP, gotT, ok := ParseName(name, time.UTC)
		if !ok || gotP != p || !gotT.Equal(at) {
			t.Errorf("ParseName(%q) = %v %v %v", name, gotP, gotT, ok)
		}
	}
	for _, bad := range []string{"", "autosnap", "manual", "autosnap_2026-11-22_14:00:00", "autosnap_2026-11-22_14:00:00_hourlyx",
		"autosnap_2026-13-22_14:00:00_hourly", "autosnap_2026-11-22T14:00:00_daily", "syncoid_2026-11-22_14:00:00_hourly"} {
		if _, _, ok := ParseName(bad, time.UTC); ok {
			t.Errorf("ParseName(%q) accepted", bad)
		}
	}
	if Period(9).String() != "Period(9)" || Yearly.String() != "yearly" {
		t.Error("Period.String")
	}
}

// sim is one dataset's snapshots under repeated Decide runs.
type sim struct {
	t       *testing.T
	snaps   []zfs.Snapshot
	txg     uint64
	created map[string]int // names created per period
	log     []string       // every created name
}

func newSim(t *testing.T) *sim { return &sim{t: t, created: map[string]int{}} }

func (s *sim) add(name string, at time.Time, refs int) {
	s.txg++
	s.snaps = append(s.snaps, zfs.Snapshot{Dataset: "pool/ds", Name: name, Created: at, CreateTXG: s.txg, GUID: s.txg, UserRefs: refs})
}

func (s *sim) run(tmpl Template, now time.Time, protect ...string) Plan {
	s.t.Helper()
	plan := Decide(s.snaps, tmpl, now, protect...)
	for _, name := range plan.Create {
		for _, x := range s.snaps {
			if x.Name == name {
				s.t.Fatalf("%v: planned %s, which exists", now, name)
			}
		}
		p, _, ok := ParseName(name, now.Location())
		if !ok {
			s.t.Fatalf("planned unparsable name %q", name)
		}
		s.created[p.String()]++
		s.log = append(s.log, name)
		s.add(name, now.Truncate(time.Second), 0)
	}
	for _, d := range plan.Destroy {
		if d.UserRefs > 0 || slices.Contains(protect, d.FullName()) {
			s.t.Fatalf("%v: destroys held/protected %s", now, d.FullName())
		}
		i := slices.IndexFunc(s.snaps, func(x zfs.Snapshot) bool { return x.Name == d.Name })
		if i < 0 {
			s.t.Fatalf("%v: destroys missing %s", now, d.Name)
		}
		s.snaps = slices.Delete(s.snaps, i, i+1)
	}
	return plan
}

// names returns the current names of period p, oldest first.
func (s *sim) names(p Period) []string {
	var out []string
	for _, x := range s.snaps {
		if strings.HasSuffix(x.Name, "_"+p.String()) {
			out = append(out, x.Name)
		}
	}
	return out
}

func TestTwoMonthsOfHourlyRuns(t *testing.T) {
	s := newSim(t)
	tmpl := DefaultTemplate()
	start := time.Date(2026, 10, 1, 0, 7, 12, 0, time.UTC)
	end := start.AddDate(0, 0, 70)
	for now := start; now.Before(end); now = now.Add(time.Hour) {
		s.run(tmpl, now)
		for _, p := range Periods() {
			if n := len(s.names(p)); n > tmpl.Count(p) {
				t.Fatalf("%v: %d %s snapshots, keep %d", now, n, p, tmpl.Count(p))
			}
		}
		if h := s.names(Hourly); h[len(h)-1] != Name(Hourly, now) {
			t.Fatalf("%v: newest hourly %s", now, h[len(h)-1])
		}
	}
	for p, want := range map[Period]int{Hourly: 24, Daily: 7, Weekly: 4, Monthly: 3, Frequently: 0, Yearly: 0} {
		if got := len(s.names(p)); got != want {
			t.Errorf("%s: %d kept, want %d: %v", p, got, want, s.names(p))
		}
	}
	if s.created["hourly"] != 70*24 || s.created["daily"] != 70 || s.created["monthly"] != 3 || s.created["weekly"] != 11 {
		t.Errorf("created %v", s.created)
	}
	// Last run: 2026-12-09 23:07:12. Daily snapshots are the first run of
	// each of the last 7 days; weekly the first run of each Monday;
	// monthly the first run of each month.
	wantDaily := []string{}
	for d := 3; d <= 9; d++ {
		wantDaily = append(wantDaily, Name(Daily, time.Date(2026, 12, d, 0, 7, 12, 0, time.UTC)))
	}
	if got := s.names(Daily); !slices.Equal(got, wantDaily) {
		t.Errorf("daily %v\nwant %v", got, wantDaily)
	}
	wantWeekly := []string{"autosnap_2026-11-16_00:07:12_weekly", "autosnap_2026-11-23_00:07:12_weekly", "autosnap_2026-11-30_00:07:12_weekly", "autosnap_2026-12-07_00:07:12_weekly"}
	if got := s.names(Weekly); !slices.Equal(got, wantWeekly) {
		t.Errorf("weekly %v\nwant %v", got, wantWeekly)
	}
	wantMonthly := []string{"autosnap_2026-10-01_00:07:12_monthly", "autosnap_2026-11-01_00:07:12_monthly", "autosnap_2026-12-01_00:07:12_monthly"}
	if got := s.names(Monthly); !slices.Equal(got, wantMonthly) {
		t.Errorf("monthly %v\nwant %v", got, wantMonthly)
	}
}

func TestFrequentSnapshots(t *testing.T) {
	s := newSim(t)
	tmpl := Template{Frequently: 4, Hourly: 2}
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for now := start; now.Before(start.Add(3 * time.Hour)); now = now.Add(5 * time.Minute) {
		s.run(tmpl, now)
	}
	want := []string{"autosnap_2026-11-22_12:15:00_frequently", "autosnap_2026-11-22_12:30:00_frequently", "autosnap_2026-11-22_12:45:00_frequently"}
	if got := s.names(Frequently); len(got) != 4 || got[0] != "autosnap_2026-11-22_12:00:00_frequently" || !slices.Equal(got[1:], want) {
		t.Fatalf("frequently %v", got)
	}
	if s.created["frequently"] != 12 || s.created["hourly"] != 3 {
		t.Fatalf("created %v", s.created)
	}
	// A 10-minute period.
	s = newSim(t)
	tmpl = Template{Frequently: 100, FrequentPeriod: 10 * time.Minute}
	for now := start; now.Before(start.Add(time.Hour)); now = now.Add(time.Minute) {
		s.run(tmpl, now)
	}
	if s.created["frequently"] != 6 {
		t.Fatalf("10-minute period: %d snapshots in an hour", s.created["frequently"])
	}
}

func TestDaylightSavingTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// Spring forward 2026-03-08 02:00 -> 03:00; fall back 2026-11-01 02:00 -> 01:00.
	for _, day := range []time.Time{time.Date(2026, 3, 6, 12, 0, 0, 0, ny), time.Date(2026, 10, 30, 12, 0, 0, 0, ny)} {
		s := newSim(t)
		tmpl := Template{Hourly: 24, Daily: 7}
		for now := day; now.Before(day.Add(96 * time.Hour)); now = now.Add(time.Hour) {
			s.run(tmpl, now)
		}
		// One daily snapshot per local calendar day, 23- and 25-hour days included.
		days := map[string]int{}
		for _, name := range s.log {
			if strings.HasSuffix(name, "_daily") {
				days[name[len("autosnap_"):len("autosnap_")+10]]++
			}
		}
		if len(days) != 5 { // noon of day 1 to noon of day 5
			t.Errorf("%v: daily snapshots on %v", day, days)
		}
		for d, n := range days {
			if n != 1 {
				t.Errorf("%s: %d daily snapshots", d, n)
			}
		}
		// Hourly: one per hour of absolute time, except the repeated
		// local hour of the fall-back (same name), which is skipped.
		wantHourly := 96
		if day.Month() == 10 {
			wantHourly = 95
		}
		if s.created["hourly"] != wantHourly || len(s.names(Hourly)) != 24 {
			t.Errorf("%v: %d hourly created, %d kept", day, s.created["hourly"], len(s.names(Hourly)))
		}
	}
}

func TestMonthAndYearEnds(t *testing.T) {
	s := newSim(t)
	tmpl := Template{Daily: 3, Monthly: 2, Yearly: 2}
	// Two runs a day, a minute before and after midnight.
	for d := time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC); d.Before(time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		s.run(tmpl, d.Add(time.Minute))
		s.run(tmpl, d.Add(24*time.Hour-time.Minute))
	}
	if got, want := s.names(Yearly), []string{"autosnap_2026-12-29_00:01:00_yearly", "autosnap_2027-01-01_00:01:00_yearly"}; !slices.Equal(got, want) {
		t.Errorf("yearly %v, want %v", got, want)
	}
	if got, want := s.names(Monthly), []string{"autosnap_2026-12-29_00:01:00_monthly", "autosnap_2027-01-01_00:01:00_monthly"}; !slices.Equal(got, want) {
		t.Errorf("monthly %v, want %v", got, want)
	}
	if got, want := s.names(Daily), []string{"autosnap_2026-12-31_00:01:00_daily", "autosnap_2027-01-01_00:01:00_daily", "autosnap_2027-01-02_00:01:00_daily"}; !slices.Equal(got, want) {
		t.Errorf("daily %v, want %v", got, want)
	}
	// February into March, non-leap 2027.
	s = newSim(t)
	for now := time.Date(2027, 2, 27, 23, 0, 0, 0, time.UTC); now.Before(time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)); now = now.Add(30 * time.Minute) {
		s.run(Template{Monthly: 5}, now)
	}
	if got, want := s.names(Monthly), []string{"autosnap_2027-02-27_23:00:00_monthly", "autosnap_2027-03-01_00:00:00_monthly"}; !slices.Equal(got, want) {
		t.Errorf("monthly over Feb end %v, want %v", got, want)
	}
}

func TestHeldAndProtectedSurvive(t *testing.T) {
	s := newSim(t)
	tmpl := Template{Hourly: 3}
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	s.run(tmpl, start)
	s.snaps[0].UserRefs = 1 // a replication or backup holds it
	held := s.snaps[0].Name
	s.run(tmpl, start.Add(time.Hour))
	protected := s.snaps[len(s.snaps)-1].FullName()
	var plan Plan
	for h := 2; h < 10; h++ {
		plan = s.run(tmpl, start.Add(time.Duration(h)*time.Hour), protected)
	}
	names := s.names(Hourly)
	if len(names) != 5 || names[0] != held || "pool/ds@"+names[1] != protected {
		t.Fatalf("hourly %v", names)
	}
	if len(plan.Kept) != 2 || plan.Kept[0].Reason != "protected" || plan.Kept[1].Reason != "held" {
		t.Fatalf("kept %+v", plan.Kept)
	}
}

func TestSwitchesAndForeignSnapshots(t *testing.T) {
	now := time.Date(2026, 11, 22, 14, 30, 0, 0, time.UTC)
	old := []zfs.Snapshot{
		{Dataset: "p/d", Name: "manual", CreateTXG: 1},
		{Dataset: "p/d", Name: "autosnap_2026-11-22_12:00:00_hourly", CreateTXG: 2},
		{Dataset: "p/d", Name: "autosnap_2026-11-22_13:00:00_hourly", CreateTXG: 3},
		{Dataset: "p/d", Name: "autosnap_2026-11-20_00:00:00_daily", CreateTXG: 4},
		{Dataset: "p/d", Name: "hbackup-repl_2026-11-22_13:00:00.000", CreateTXG: 5},
	}
	tests := []struct {
		name        string
		tmpl        Template
		wantCreate  []string
		wantDestroy []string
	}{
		{"keep one hourly", Template{Hourly: 1, Daily: 1},
			[]string{"autosnap_2026-11-22_14:30:00_hourly", "autosnap_2026-11-22_14:30:00_daily"},
			[]string{"autosnap_2026-11-22_12:00:00_hourly", "autosnap_2026-11-22_13:00:00_hourly", "autosnap_2026-11-20_00:00:00_daily"}},
		{"no autosnap", Template{Hourly: 1, Daily: 1, NoAutosnap: true},
			nil, []string{"autosnap_2026-11-22_12:00:00_hourly"}},
		{"no autoprune", Template{Hourly: 1, NoAutoprune: true},
			[]string{"autosnap_2026-11-22_14:30:00_hourly"}, nil},
		{"zero counts prune the period", Template{},
			nil, []string{"autosnap_2026-11-22_12:00:00_hourly", "autosnap_2026-11-22_13:00:00_hourly", "autosnap_2026-11-20_00:00:00_daily"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := Decide(old, tt.tmpl, now)
			var destroyed []string
			for _, d := range plan.Destroy {
				destroyed = append(destroyed, d.Name)
			}
			if !slices.Equal(plan.Create, tt.wantCreate) || !slices.Equal(destroyed, tt.wantDestroy) {
				t.Fatalf("create %v destroy %v\nwant create %v destroy %v", plan.Create, destroyed, tt.wantCreate, tt.wantDestroy)
			}
		})
	}
}

func TestMachineOffForDays(t *testing.T) {
	s := newSim(t)
	tmpl := Template{Hourly: 24, Daily: 7}
	start := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	s.run(tmpl, start)
	plan := s.run(tmpl, start.AddDate(0, 0, 3)) // no backfill: one of each
	if len(plan.Create) != 2 || len(s.names(Hourly)) != 2 || len(s.names(Daily)) != 2 {
		t.Fatalf("after 3 days off: plan %+v, hourly %v, daily %v", plan.Create, s.names(Hourly), s.names(Daily))
	}
}
