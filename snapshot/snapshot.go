package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hbackup/hbackup/repo"
)

// Snapshot is the content of a snapshots/<id> file. Field order and tags
// are restic's. Unknown keys are dropped on decoding, as restic drops them.
type Snapshot struct {
	// Time is written in its own zone; restic uses the writer's local zone,
	// and forget's calendar buckets follow it.
	Time   time.Time `json:"time"`
	Parent *repo.ID  `json:"parent,omitempty"`
	// Tree is the root tree: a virtual "/" holding the backed-up paths.
	Tree     *repo.ID `json:"tree"`
	Paths    []string `json:"paths"`
	Hostname string   `json:"hostname,omitempty"`
	Username string   `json:"username,omitempty"`
	UID      uint32   `json:"uid,omitempty"`
	GID      uint32   `json:"gid,omitempty"`
	Excludes []string `json:"excludes,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	// Original is the first version of a snapshot whose metadata was
	// rewritten (tag, copy, rewrite).
	Original       *repo.ID `json:"original,omitempty"`
	ProgramVersion string   `json:"program_version,omitempty"` // restic 0.16+
	Summary        *Summary `json:"summary,omitempty"`         // restic 0.17+

	id repo.ID // set when loaded or saved
}

// Summary holds the statistics of the backup that made a snapshot.
type Summary struct {
	BackupStart         time.Time `json:"backup_start"`
	BackupEnd           time.Time `json:"backup_end"`
	FilesNew            uint      `json:"files_new"`
	FilesChanged        uint      `json:"files_changed"`
	FilesUnmodified     uint      `json:"files_unmodified"`
	DirsNew             uint      `json:"dirs_new"`
	DirsChanged         uint      `json:"dirs_changed"`
	DirsUnmodified      uint      `json:"dirs_unmodified"`
	DataBlobs           int       `json:"data_blobs"`
	TreeBlobs           int       `json:"tree_blobs"`
	DataAdded           uint64    `json:"data_added"`        // new plaintext bytes, data and trees
	DataAddedPacked     uint64    `json:"data_added_packed"` // bytes added to the repository
	TotalFilesProcessed uint      `json:"total_files_processed"`
	TotalBytesProcessed uint64    `json:"total_bytes_processed"`
}

// ID returns the snapshot's file ID once it was loaded or saved, else the
// zero ID.
func (sn *Snapshot) ID() repo.ID { return sn.id }

// Encode returns the snapshot JSON as restic writes it: json.Marshal, no
// trailing newline.
func (sn *Snapshot) Encode() ([]byte, error) {
	data, err := json.Marshal(sn)
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	return data, nil
}

// DecodeSnapshot parses snapshot JSON. The result has no ID.
func DecodeSnapshot(data []byte) (*Snapshot, error) {
	var sn Snapshot
	if err := json.Unmarshal(data, &sn); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	// Empty lists that encoding omits decode as nil.
	if len(sn.Excludes) == 0 {
		sn.Excludes = nil
	}
	if len(sn.Tags) == 0 {
		sn.Tags = nil
	}
	return &sn, nil
}

// Check reports what restic needs of a snapshot it reads: a root tree and
// at least one path.
func (sn *Snapshot) Check() error {
	if sn.Tree == nil || sn.Tree.IsNull() {
		return errors.New("snapshot has no tree")
	}
	if len(sn.Paths) == 0 {
		return errors.New("snapshot has no paths")
	}
	return nil
}

// HasTags reports whether the snapshot has every tag in l. An empty tag
// matches only a snapshot without tags (restic's --tag "").
func (sn *Snapshot) HasTags(l []string) bool {
	for _, tag := range l {
		if tag == "" && len(sn.Tags) == 0 {
			continue
		}
		if !slices.Contains(sn.Tags, tag) {
			return false
		}
	}
	return true
}

// HasTagList reports whether the snapshot satisfies any of the lists (each
// is ANDed, the lists are ORed). No lists match every snapshot.
func (sn *Snapshot) HasTagList(lists []TagList) bool {
	if len(lists) == 0 {
		return true
	}
	for _, l := range lists {
		if sn.HasTags(l) {
			return true
		}
	}
	return false
}

// HasHostname reports whether the snapshot's hostname is one of hosts. No
// hosts match every snapshot.
func (sn *Snapshot) HasHostname(hosts []string) bool {
	return len(hosts) == 0 || slices.Contains(hosts, sn.Hostname)
}

// HasPaths reports whether every path in paths is exactly one of the
// snapshot's paths. No paths match every snapshot.
func (sn *Snapshot) HasPaths(paths []string) bool {
	for _, p := range paths {
		if !slices.Contains(sn.Paths, p) {
			return false
		}
	}
	return true
}

// samePaths reports whether the snapshot has exactly this set of paths,
// in any order.
func (sn *Snapshot) samePaths(paths []string) bool {
	a := slices.Compact(slices.Sorted(slices.Values(sn.Paths)))
	b := slices.Compact(slices.Sorted(slices.Values(paths)))
	return slices.Equal(a, b)
}

// String gives a short description for messages.
func (sn *Snapshot) String() string {
	return fmt.Sprintf("snapshot %s of %v at %s by %s", sn.id.Str(), sn.Paths, sn.Time.Format(time.RFC3339), sn.Hostname)
}
