package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
)

// The real repository must satisfy the interfaces of this package.
var _ interface {
	BlobLoader
	BlobSaver
	ListLoader
	UnpackedSaver
} = (*repo.Repository)(nil)

// memRepo is an in-memory stand-in for repo.Repository. Snapshot files are
// keyed by an ID the test chooses, so prefixes can be arranged.
type memRepo struct {
	blobs map[repo.BlobHandle][]byte
	snaps map[repo.ID][]byte
}

func newMemRepo() *memRepo {
	return &memRepo{blobs: map[repo.BlobHandle][]byte{}, snaps: map[repo.ID][]byte{}}
}

func (m *memRepo) LoadBlob(_ context.Context, t repo.BlobType, id repo.ID, buf []byte) ([]byte, error) {
	data, ok := m.blobs[repo.BlobHandle{ID: id, Type: t}]
	if !ok {
		return nil, fmt.Errorf("blob %v/%s: %w", t, id.Str(), backend.ErrNotExist)
	}
	return append(buf[:0], data...), nil
}

func (m *memRepo) SaveBlob(_ context.Context, t repo.BlobType, data []byte) (repo.ID, bool, error) {
	h := repo.BlobHandle{ID: repo.Hash(data), Type: t}
	_, known := m.blobs[h]
	m.blobs[h] = append([]byte(nil), data...)
	return h.ID, known, nil
}

func (m *memRepo) LoadUnpacked(_ context.Context, t backend.FileType, id repo.ID) ([]byte, error) {
	data, ok := m.snaps[id]
	if t != backend.SnapshotFile || !ok {
		return nil, fmt.Errorf("%v/%s: %w", t, id, backend.ErrNotExist)
	}
	return data, nil
}

func (m *memRepo) SaveUnpacked(_ context.Context, t backend.FileType, data []byte) (repo.ID, error) {
	if t != backend.SnapshotFile {
		return repo.ID{}, fmt.Errorf("unexpected type %v", t)
	}
	id := repo.Hash(data)
	m.snaps[id] = data
	return id, nil
}

func (m *memRepo) List(_ context.Context, t backend.FileType, fn func(repo.ID, int64) error) error {
	if t != backend.SnapshotFile {
		return nil
	}
	for id, data := range m.snaps { // random order, as a real listing
		if err := fn(id, int64(len(data))); err != nil {
			return err
		}
	}
	return nil
}

// put stores sn under the ID given as hex (padded with zeros).
func (m *memRepo) put(t testing.TB, hexID string, sn *Snapshot) repo.ID {
	t.Helper()
	id := mustID(t, hexID+strings.Repeat("0", 64-len(hexID)))
	data, err := sn.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m.snaps[id] = data
	return id
}

var (
	treeID = repo.Hash([]byte("tree"))
	day    = func(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC) }
)

func snap(d int, host string, tags []string, paths ...string) *Snapshot {
	return &Snapshot{Time: day(d), Tree: &treeID, Paths: paths, Hostname: host, Tags: tags}
}

func findFixture(t *testing.T) *memRepo {
	m := newMemRepo()
	m.put(t, "aa11", snap(1, "h1", []string{"a", "b"}, "/data"))
	m.put(t, "aa22", snap(3, "h1", []string{"a"}, "/data"))
	m.put(t, "bb33", snap(2, "h2", []string{"c"}, "/data", "/etc"))
	m.put(t, "cc44", snap(4, "h2", nil, "/etc"))
	return m
}

func TestFind(t *testing.T) {
	ctx := context.Background()
	m := findFixture(t)
	full := "bb33" + strings.Repeat("0", 60)
	tests := []struct {
		in     string
		filter Filter
		want   string // ID prefix of the result
		err    error
	}{
		{in: full, want: "bb33"},
		{in: "bb", want: "bb33"},
		{in: "BB3", want: "bb33"},
		{in: "aa1", want: "aa11"},
		{in: "latest", want: "cc44"},
		{in: "latest", filter: Filter{Hosts: []string{"h1"}}, want: "aa22"},
		{in: "latest", filter: Filter{Tags: []TagList{{"a", "b"}}}, want: "aa11"},
		{in: "latest", filter: Filter{Tags: []TagList{{"a", "b"}, {"c"}}}, want: "bb33"},
		{in: "latest", filter: Filter{Tags: []TagList{{""}}}, want: "cc44"},
		{in: "latest", filter: Filter{Paths: []string{"/data"}}, want: "aa22"},
		{in: "latest", filter: Filter{Paths: []string{"/etc", "/data"}}, want: "bb33"},
		{in: "latest", filter: Filter{Hosts: []string{"h3"}}, err: ErrNotFound},
		{in: "latest", filter: Filter{Tags: []TagList{{"a", "c"}}}, err: ErrNotFound},
		{in: "aa", err: ErrAmbiguous},
		{in: "dd", err: ErrNotFound},
		{in: "bb34", err: ErrNotFound},
		{in: "bb", filter: Filter{Hosts: []string{"h1"}}, want: "bb33"}, // filters apply to latest only
	}
	for _, tc := range tests {
		sn, err := Find(ctx, m, tc.in, tc.filter)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("Find(%q, %+v): error %v, want %v", tc.in, tc.filter, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Find(%q, %+v): %v", tc.in, tc.filter, err)
			continue
		}
		if !strings.HasPrefix(sn.ID().String(), tc.want) {
			t.Errorf("Find(%q, %+v) = %s, want %s", tc.in, tc.filter, sn.ID().Str(), tc.want)
		}
	}
	_, err := Find(ctx, m, "aa", Filter{})
	if err == nil || !strings.Contains(err.Error(), "aa110000") || !strings.Contains(err.Error(), "aa220000") {
		t.Errorf("ambiguous error does not name the candidates: %v", err)
	}
	for _, bad := range []string{"", "xyz", "latest2", full + "0", "a b"} {
		_, err := Find(ctx, m, bad, Filter{})
		if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrAmbiguous) {
			t.Errorf("Find(%q): want an invalid-ID error, got %v", bad, err)
		}
	}
	_, err = Find(ctx, m, "latest", Filter{Hosts: []string{"h9"}, Tags: []TagList{{"a", "b"}}})
	if want := `latest snapshot (hosts ["h9"], tags [["a" "b"]]): not found`; err == nil || err.Error() != want {
		t.Errorf("latest error %q, want %q", err, want)
	}
	if _, err := Find(ctx, newMemRepo(), "latest", Filter{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("latest in empty repo: %v", err)
	}
}

func TestLoadAllSortedAndNamed(t *testing.T) {
	ctx := context.Background()
	m := findFixture(t)
	m.put(t, "ee55", snap(3, "h1", nil, "/x")) // same time as aa22
	sns, err := LoadAll(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sn := range sns {
		got = append(got, sn.ID().Str()[:4])
	}
	if strings.Join(got, ",") != "aa11,bb33,aa22,ee55,cc44" {
		t.Fatalf("order %v", got)
	}
	bad := mustID(t, "ff66"+strings.Repeat("0", 60))
	m.snaps[bad] = []byte(`{"time":`)
	_, err = LoadAll(ctx, m)
	if err == nil || !strings.Contains(err.Error(), "snapshots/"+bad.String()) {
		t.Fatalf("error does not name the file: %v", err)
	}
}

func TestSaveLoad(t *testing.T) {
	ctx := context.Background()
	m := newMemRepo()
	sn := snap(5, "h", []string{"t"}, "/p")
	id, err := Save(ctx, m, sn)
	if err != nil {
		t.Fatal(err)
	}
	if sn.ID() != id || id != repo.Hash(m.snaps[id]) {
		t.Fatalf("ID %s, snapshot ID %s", id.Str(), sn.ID().Str())
	}
	back, err := Load(ctx, m, id)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != id {
		t.Fatal("loaded snapshot has no ID")
	}
	assertSnapshotsEqual(t, sn, back)
	if _, err := Load(ctx, m, repo.Hash(nil)); !errors.Is(err, backend.ErrNotExist) || !strings.Contains(err.Error(), "snapshots/") {
		t.Fatalf("missing snapshot: %v", err)
	}
	for _, bad := range []*Snapshot{{Paths: []string{"/p"}}, {Tree: &treeID}, {Tree: &repo.ID{}, Paths: []string{"/p"}}} {
		if _, err := Save(ctx, m, bad); err == nil {
			t.Errorf("saved %+v", bad)
		}
	}
}

func TestFindParent(t *testing.T) {
	mk := func(idHex string, d int, host string, paths ...string) *Snapshot {
		sn := snap(d, host, nil, paths...)
		sn.id = mustID(t, idHex+strings.Repeat("0", 64-len(idHex)))
		return sn
	}
	sns := []*Snapshot{
		mk("01", 1, "h", "/a", "/b"),
		mk("02", 2, "h", "/b", "/a"),       // same set, other order: the parent
		mk("03", 3, "h", "/a"),             // subset only
		mk("04", 4, "other", "/a", "/b"),   // other host
		mk("05", 5, "h", "/a", "/b", "/c"), // superset
		mk("06", 9, "h", "/a", "/b"),       // newer than the backup
	}
	if p := FindParent(sns, "h", []string{"/a", "/b"}, day(8)); p == nil || p.ID().Str() != "02000000" {
		t.Fatalf("parent %v", p)
	}
	if p := FindParent(sns, "h", []string{"/a", "/b"}, day(9)); p == nil || p.ID().Str() != "06000000" {
		t.Fatalf("parent at equal time %v", p)
	}
	if p := FindParent(sns, "h", []string{"/a"}, day(8)); p == nil || p.ID().Str() != "03000000" {
		t.Fatalf("parent for /a: %v", p)
	}
	if p := FindParent(sns, "h", []string{"/z"}, day(8)); p != nil {
		t.Fatalf("parent for /z: %v", p)
	}
	sns = append(sns, mk("07", 2, "h", "/a", "/b")) // same time as 02: higher ID wins
	if p := FindParent(sns, "h", []string{"/b", "/a"}, day(2)); p == nil || p.ID().Str() != "07000000" {
		t.Fatalf("tie: %v", p)
	}
}

func TestFindSubtreeAndTrees(t *testing.T) {
	ctx := context.Background()
	m := newMemRepo()
	save := func(nodes ...*Node) repo.ID {
		var tr Tree
		for _, n := range nodes {
			if err := tr.Insert(n); err != nil {
				t.Fatal(err)
			}
		}
		id, err := SaveTree(ctx, m, &tr)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	leaf := save(&Node{Name: "file", Type: NodeTypeFile, Content: []repo.ID{}})
	user := save(&Node{Name: "user dir", Type: NodeTypeDir, Subtree: &leaf})
	root := save(&Node{Name: "home", Type: NodeTypeDir, Subtree: &user},
		&Node{Name: "broken", Type: NodeTypeDir})
	if tr, err := LoadTree(ctx, m, root); err != nil || len(tr.Nodes) != 2 || tr.Nodes[0].Name != "broken" {
		t.Fatalf("LoadTree: %v %v", tr, err)
	}
	for in, want := range map[string]repo.ID{
		"": root, ".": root, "/": root, "home": user, "/home/": user,
		"home/user dir": leaf, "home/./user dir/": leaf, "../home": user,
	} {
		got, err := FindSubtree(ctx, m, root, in)
		if err != nil || got != want {
			t.Errorf("FindSubtree(%q) = %s, %v", in, got.Str(), err)
		}
	}
	if _, err := FindSubtree(ctx, m, root, "home/nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"home/nope"`) {
		t.Errorf("missing component: %v", err)
	}
	if _, err := FindSubtree(ctx, m, root, "home/user dir/file/x"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file component: %v", err)
	}
	if _, err := FindSubtree(ctx, m, root, "broken"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("dir without subtree: %v", err)
	}
	if _, err := FindSubtree(ctx, m, repo.Hash([]byte("none")), "x"); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("missing tree: %v", err)
	}
	if _, err := SaveTree(ctx, m, &Tree{Nodes: []*Node{{Name: "b"}, {Name: "a"}}}); err == nil {
		t.Error("saved an unsorted tree")
	}
}

func TestLoadAllFuncSkipsBrokenSnapshots(t *testing.T) {
	ctx := context.Background()
	m := newMemRepo()
	good := m.put(t, "aa", snap(1, "h", nil, "/a"))
	broken := mustID(t, "bb"+strings.Repeat("0", 62))
	m.snaps[broken] = []byte("not json")
	if _, err := LoadAll(ctx, m); err == nil || !strings.Contains(err.Error(), broken.String()) {
		t.Fatalf("LoadAll: %v, want an error naming %v", err, broken)
	}
	var skipped []repo.ID
	sns, err := LoadAllFunc(ctx, m, func(id repo.ID, err error) error { skipped = append(skipped, id); return nil })
	if err != nil || len(sns) != 1 || sns[0].ID() != good || len(skipped) != 1 || skipped[0] != broken {
		t.Fatalf("LoadAllFunc: %v %v, skipped %v", sns, err, skipped)
	}
}

// slowLister lists its snapshots in a fixed order, and holds each load
// until two are in flight, so a LoadAll that loads one file at a time
// stalls (and fails after a timeout) instead of passing.
type slowLister struct {
	*memRepo
	order    []repo.ID
	mu       sync.Mutex
	inFlight int
	overlap  chan struct{} // closed when two loads ran at once
	once     sync.Once
}

func (s *slowLister) List(ctx context.Context, t backend.FileType, fn func(repo.ID, int64) error) error {
	for _, id := range s.order {
		if err := fn(id, int64(len(s.snaps[id]))); err != nil {
			return err
		}
	}
	return nil
}

func (s *slowLister) LoadUnpacked(ctx context.Context, t backend.FileType, id repo.ID) ([]byte, error) {
	s.mu.Lock()
	s.inFlight++
	if s.inFlight == 2 {
		s.once.Do(func() { close(s.overlap) })
	}
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	select {
	case <-s.overlap:
	case <-time.After(10 * time.Second):
		return nil, errors.New("loaded alone for 10 s: snapshot files are not loaded in parallel")
	}
	return s.memRepo.LoadUnpacked(ctx, t, id)
}

func TestLoadAllFuncLoadsInParallelAndReportsInListingOrder(t *testing.T) {
	ctx := context.Background()
	m := newMemRepo()
	s := &slowLister{memRepo: m, overlap: make(chan struct{})}
	var broken []repo.ID
	for i := range 20 {
		hex := fmt.Sprintf("%02x", 0xff-i) // listed from ff down
		if i%7 == 3 {
			id := mustID(t, hex+strings.Repeat("0", 62))
			m.snaps[id] = []byte("not json")
			broken = append(broken, id)
			s.order = append(s.order, id)
			continue
		}
		s.order = append(s.order, m.put(t, hex, snap(i, "h", nil, "/a")))
	}
	var skipped []repo.ID
	sns, err := LoadAllFunc(ctx, s, func(id repo.ID, err error) error { skipped = append(skipped, id); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(sns) != 20-len(broken) || !slices.Equal(skipped, broken) {
		t.Fatalf("%d snapshots, skipped %v, want %d and %v in listing order", len(sns), skipped, 20-len(broken), broken)
	}
	for i := 1; i < len(sns); i++ {
		if sns[i].Time.Before(sns[i-1].Time) {
			t.Fatalf("not sorted by time at %d", i)
		}
	}
	if _, err := LoadAll(ctx, s); err == nil || !strings.Contains(err.Error(), broken[0].String()) {
		t.Fatalf("LoadAll: %v, want the first broken file in listing order, %v", err, broken[0])
	}
}
