package zfs

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseUsage(t *testing.T) {
	tests := []struct {
		file string
		want Capabilities
	}{
		{"usage-zfs-fuse-0.7.txt", Capabilities{}},
		{"usage-openzfs-2.2.txt", Capabilities{
			ListParsable: true, GetTypes: true, MultiSnapshot: true, Bookmarks: true, Holds: true,
			RawSend: true, ResumeSend: true, ResumableReceive: true, ReceiveNoMount: true,
			ReceiveAbort: true, DestroyMultiSnaps: true,
		}},
		{"usage-openzfs-2.3.txt", Capabilities{
			ListParsable: true, JSON: true, GetTypes: true, MultiSnapshot: true, Bookmarks: true, Holds: true,
			RawSend: true, ResumeSend: true, ResumableReceive: true, ReceiveNoMount: true,
			ReceiveAbort: true, DestroyMultiSnaps: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := ParseUsage(string(readTestdata(t, tt.file)))
			if got != tt.want {
				t.Fatalf("ParseUsage:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseGetZFSFuse(t *testing.T) {
	sets, err := parseGet(readTestdata(t, "get-zfs-fuse-0.7.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range sets {
		names = append(names, s.Name)
	}
	want := []string{"hbexp", "hbexp/a", "hbexp/a@s3", "hbexp/a/b", "hbexp/a/b@s2", "hbexp/c"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	ds, err := datasetFrom(sets[1])
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "hbexp/a" || ds.Type != "filesystem" || ds.Mountpoint != "/tmp/zexp/mnt/a" || !ds.Mounted ||
		ds.Used != 241664 || ds.Available != 227819520 || ds.Creation.Unix() != 1795356317 || ds.Origin != "" {
		t.Fatalf("dataset %+v", ds)
	}
	clone, err := datasetFrom(sets[5])
	if err != nil || clone.Origin != "hbexp/a/b@s2" {
		t.Fatalf("clone %+v, %v", clone, err)
	}
	snap, err := snapshotFrom(sets[2])
	if err != nil {
		t.Fatal(err)
	}
	if snap.Dataset != "hbexp/a" || snap.Name != "s3" || snap.CreateTXG != 50 || snap.UserRefs != 1 ||
		snap.GUID != 9287784013652214129 || snap.FullName() != "hbexp/a@s3" {
		t.Fatalf("snapshot %+v", snap)
	}
	if _, err := snapshotFrom(sets[0]); err == nil {
		t.Fatal("snapshotFrom accepted a filesystem")
	}
	if got := filterType(sets, []string{"snapshot"}); len(got) != 2 {
		t.Fatalf("filterType: %d snapshots, want 2", len(got))
	}
}

// openZFSWant is what the three OpenZFS sample files hold.
func checkOpenZFSSets(t *testing.T, sets []propSet) {
	t.Helper()
	byName := map[string]propSet{}
	for _, s := range sets {
		byName[s.Name] = s
	}
	if len(byName) != 9 {
		t.Fatalf("%d datasets, want 9", len(byName))
	}
	home, err := datasetFrom(byName["rpool/home"])
	if err != nil {
		t.Fatal(err)
	}
	want := Dataset{Name: "rpool/home", Type: "filesystem", Mountpoint: "/home", Mounted: true, Used: 20506779648,
		Available: 1877339066368, Referenced: 19327352832, Creation: time.Unix(1700000123, 0)}
	if home != want {
		t.Fatalf("home\n got %+v\nwant %+v", home, want)
	}
	swap, err := datasetFrom(byName["rpool/swap"])
	if err != nil || swap.Type != "volume" || swap.Mountpoint != "" || swap.Mounted {
		t.Fatalf("swap %+v %v", swap, err)
	}
	clone, err := datasetFrom(byName["rpool/clone"])
	if err != nil || clone.Origin != "rpool/home@autosnap_2026-11-22_13:00:00_hourly" {
		t.Fatalf("clone %+v %v", clone, err)
	}
	s, err := snapshotFrom(byName["rpool/home@autosnap_2026-11-22_13:00:00_hourly"])
	if err != nil {
		t.Fatal(err)
	}
	wantSnap := Snapshot{Dataset: "rpool/home", Name: "autosnap_2026-11-22_13:00:00_hourly", Created: time.Unix(1795352400, 0),
		CreateTXG: 912345, GUID: 13849871241109485127, UserRefs: 2, Used: 1179648}
	if s != wantSnap {
		t.Fatalf("snapshot\n got %+v\nwant %+v", s, wantSnap)
	}
}

func TestParseGetOpenZFS(t *testing.T) {
	sets, err := parseGet(readTestdata(t, "get-openzfs-2.2.txt"))
	if err != nil {
		t.Fatal(err)
	}
	checkOpenZFSSets(t, sets)
}

func TestParseJSONOpenZFS(t *testing.T) {
	for _, f := range []string{"get-openzfs-2.3.json", "get-openzfs-2.3-json-int.json"} {
		t.Run(f, func(t *testing.T) {
			sets, err := parseJSON(readTestdata(t, f))
			if err != nil {
				t.Fatal(err)
			}
			checkOpenZFSSets(t, sets)
			for i := 1; i < len(sets); i++ {
				if sets[i-1].Name >= sets[i].Name {
					t.Fatalf("not sorted: %s before %s", sets[i-1].Name, sets[i].Name)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{"a\tb\n", true},
		{"a\tname\ta\n\n", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := parseGet([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("parseGet(%q) error %v, want error %v", tt.in, err, tt.wantErr)
		}
	}
	if _, err := parseJSON([]byte("{")); err == nil {
		t.Error("parseJSON accepted truncated JSON")
	}
	if _, err := parseJSON([]byte(`{"datasets":{"a":{"properties":{"used":{"value":[1]}}}}}`)); err == nil {
		t.Error("parseJSON accepted an array value")
	}
	bad := propSet{Name: "x", Props: map[string]string{"used": "12K"}}
	if _, err := datasetFrom(bad); err == nil {
		t.Error("datasetFrom accepted a human-readable size")
	}
}

func TestParsePools(t *testing.T) {
	tests := []struct {
		file string
		want []Pool
	}{
		{"zpool-list-zfs-fuse-0.7.txt", []Pool{{Name: "hbexp", Size: 250 << 20, Allocated: 956 << 10, Free: 249 << 20, Health: "ONLINE"}}},
		{"zpool-list-openzfs-2.2.txt", []Pool{
			{Name: "rpool", Size: 1992864825344, Allocated: 52613328896, Free: 1940251496448, Health: "ONLINE"},
			{Name: "backup", Size: 3985729650688, Allocated: 1073741824, Free: 3984655908864, Health: "DEGRADED"},
		}},
	}
	for _, tt := range tests {
		got, err := parsePools(readTestdata(t, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.file, got, tt.want)
		}
	}
	if _, err := parsePools([]byte("a\t1\t2\n")); err == nil {
		t.Error("parsePools accepted a short line")
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"0", 0, false}, {"-", 0, false}, {"1234", 1234, false}, {"512B", 512, false},
		{"1K", 1024, false}, {"1.50G", 3 << 29, false}, {"2T", 2 << 40, false},
		{"3X", 0, true}, {"abcM", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseHolds(t *testing.T) {
	got, err := parseHolds(readTestdata(t, "holds-openzfs-2.2.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"hbackup-replication", "keep"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	if _, err := parseHolds([]byte("onlyname\n")); err == nil {
		t.Fatal("parseHolds accepted a line without a tag")
	}
}

func TestClassify(t *testing.T) {
	sentinels := map[string]error{
		"ErrNotExist": ErrNotExist, "ErrExists": ErrExists, "ErrBusy": ErrBusy, "ErrPoolMissing": ErrPoolMissing,
		"ErrUnsupported": ErrUnsupported, "ErrPermission": ErrPermission, "ErrNoCommonSnapshot": ErrNoCommonSnapshot,
		"ErrUnavailable": ErrUnavailable, "nil": nil,
	}
	for _, file := range []string{"errors-zfs-fuse-0.7.txt", "errors-openzfs-2.2.txt"} {
		sc := bufio.NewScanner(strings.NewReader(string(readTestdata(t, file))))
		n := 0
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			name, stderr, _ := strings.Cut(line, "\t")
			want, ok := sentinels[name]
			if !ok {
				t.Fatalf("%s: unknown sentinel %q", file, name)
			}
			n++
			ce := &CommandError{Args: []string{"zfs", "x"}, Stderr: stderr, ExitCode: 1, Kind: classify(stderr)}
			if want == nil && ce.Kind != nil || want != nil && !errors.Is(ce, want) {
				t.Errorf("%s: %q classified as %v, want %v", file, stderr, ce.Kind, want)
			}
		}
		if n < 10 {
			t.Fatalf("%s: only %d cases", file, n)
		}
	}
	// Wrapped lines, as zfs prints them.
	if k := classify("cannot receive incremental stream: most recent snapshot of p/a does not\nmatch incremental source\n"); k != ErrNoCommonSnapshot {
		t.Errorf("wrapped message classified as %v", k)
	}
}

func TestCommandErrorMessage(t *testing.T) {
	usage := "invalid option 'w'\nusage:\n\tsend [-RDp] [-[iI] snapshot] <snapshot>\n\nFor the property list, run: zfs set|get\n"
	e := &CommandError{Args: []string{"zfs", "send", "-w", "p/a@s"}, Stderr: usage, ExitCode: 2, Kind: classify(usage)}
	msg := e.Error()
	if !strings.HasPrefix(msg, "zfs send -w p/a@s: invalid option 'w'") || strings.Contains(msg, "property list") || !strings.Contains(msg, "exit status 2") {
		t.Fatalf("message %q", msg)
	}
	if !errors.Is(e, ErrUnsupported) {
		t.Fatal("not ErrUnsupported")
	}
}

func TestShellQuote(t *testing.T) {
	tests := map[string]string{
		"pool/ds@snap":   "pool/ds@snap",
		"a b":            "'a b'",
		"it's":           `'it'\''s'`,
		"":               "''",
		"-o":             "-o",
		"x;rm -rf /":     "'x;rm -rf /'",
		"hold:tag=1,2%3": "hold:tag=1,2%3",
	}
	for in, want := range tests {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
	r := &Runner{Wrapper: []string{"ssh", "-F", "cfg", "host"}}
	got := r.argv("zfs", []string{"hold", "a tag", "p/a@s"})
	want := []string{"ssh", "-F", "cfg", "host", "zfs hold 'a tag' p/a@s"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("argv %q, want %q", got, want)
	}
	r = &Runner{Wrapper: []string{"sudo", "-n"}, ZFS: "/sbin/zfs"}
	if got := r.argv(r.zfsBin(), []string{"list", "a b"}); !reflect.DeepEqual(got, []string{"sudo", "-n", "/sbin/zfs", "list", "a b"}) {
		t.Fatalf("sudo argv %q", got)
	}
}
