// Package snapshot holds restic's snapshot, tree and node formats, encoded
// byte for byte as restic encodes them, plus loading, saving and finding
// snapshots and trees in a repository.
package snapshot

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hbackup/hbackup/repo"
)

// NodeType is the "type" of a node as restic writes it.
type NodeType string

// Node types. Restic's archiver never stores sockets or irregular files,
// and restic check rejects "irregular", but readers must accept them.
const (
	NodeTypeFile      NodeType = "file"
	NodeTypeDir       NodeType = "dir"
	NodeTypeSymlink   NodeType = "symlink"
	NodeTypeDev       NodeType = "dev"
	NodeTypeCharDev   NodeType = "chardev"
	NodeTypeFifo      NodeType = "fifo"
	NodeTypeSocket    NodeType = "socket"
	NodeTypeIrregular NodeType = "irregular"
)

// Node is one entry of a tree. Field order and tags are restic's, because
// tree IDs (and so deduplication against restic) depend on the exact bytes.
//
// Name is the raw name; it is quoted on encoding (see MarshalJSON). Mode uses
// Go's io/fs bit layout, not POSIX: setuid is 1<<23, not 0o4000.
type Node struct {
	Name       string      `json:"name"`
	Type       NodeType    `json:"type"`
	Mode       os.FileMode `json:"mode,omitempty"`
	ModTime    time.Time   `json:"mtime"`
	AccessTime time.Time   `json:"atime"`
	ChangeTime time.Time   `json:"ctime"`
	UID        uint32      `json:"uid"`
	GID        uint32      `json:"gid"`
	User       string      `json:"user,omitempty"`
	Group      string      `json:"group,omitempty"`
	Inode      uint64      `json:"inode,omitempty"`
	DeviceID   uint64      `json:"device_id,omitempty"`
	Size       uint64      `json:"size,omitempty"`
	Links      uint64      `json:"links,omitempty"`
	LinkTarget string      `json:"linktarget,omitempty"`
	// LinkTargetRaw holds the target's bytes when they are not valid UTF-8
	// (restic 0.16+); JSON turns LinkTarget's invalid bytes into U+FFFD.
	// Encoding fills it in when needed; decoding copies it into LinkTarget.
	LinkTargetRaw      []byte                     `json:"linktarget_raw,omitempty"`
	ExtendedAttributes []ExtendedAttribute        `json:"extended_attributes,omitempty"`
	GenericAttributes  map[string]json.RawMessage `json:"generic_attributes,omitempty"`
	Device             uint64                     `json:"device,omitempty"`
	// Content lists the data blobs of a file: [] (not null) for an empty
	// file, nil for every other type. restic check rejects a file with null.
	Content []repo.ID `json:"content"`
	Subtree *repo.ID  `json:"subtree,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// ExtendedAttribute is one xattr; Value is base64 in JSON.
type ExtendedAttribute struct {
	Name  string `json:"name"`
	Value []byte `json:"value"`
}

// nodeJSON has Node's fields and tags but not its methods, so encoding it
// does not recurse.
type nodeJSON Node

// MarshalJSON encodes the node as restic does: the name goes through
// strconv.Quote without its outer quotes, times are clamped to years that
// JSON can hold, and linktarget_raw is added for a non-UTF-8 target.
func (n Node) MarshalJSON() ([]byte, error) {
	nj := nodeJSON(n)
	q := strconv.Quote(n.Name)
	nj.Name = q[1 : len(q)-1]
	nj.ModTime = clampYear(n.ModTime)
	nj.AccessTime = clampYear(n.AccessTime)
	nj.ChangeTime = clampYear(n.ChangeTime)
	if nj.LinkTargetRaw == nil && !utf8.ValidString(n.LinkTarget) {
		nj.LinkTargetRaw = []byte(n.LinkTarget)
	}
	return json.Marshal(nj)
}

// UnmarshalJSON decodes a node, unquoting its name. A name that is not a
// valid quoted string (e.g. a raw `"`) is an error, as in restic.
func (n *Node) UnmarshalJSON(data []byte) error {
	var nj nodeJSON
	if err := json.Unmarshal(data, &nj); err != nil {
		return fmt.Errorf("decode node: %w", err)
	}
	name, err := strconv.Unquote(`"` + nj.Name + `"`)
	if err != nil {
		return fmt.Errorf("decode node: name %q is not validly quoted: %w", nj.Name, err)
	}
	nj.Name = name
	if len(nj.LinkTargetRaw) > 0 {
		// The raw bytes are the real target; linktarget is lossy.
		nj.LinkTarget = string(nj.LinkTargetRaw)
	} else {
		nj.LinkTargetRaw = nil
	}
	// Empty lists that encoding omits decode as nil, so a decoded node
	// equals the decoding of its own encoding.
	if len(nj.ExtendedAttributes) == 0 {
		nj.ExtendedAttributes = nil
	}
	if len(nj.GenericAttributes) == 0 {
		nj.GenericAttributes = nil
	}
	for k, v := range nj.GenericAttributes {
		// Keep values in the form encoding writes them (compact, HTML
		// escaped), so a decoded node equals its re-decoded encoding.
		c, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("decode node %q: generic attribute %q: %w", name, k, err)
		}
		nj.GenericAttributes[k] = c
	}
	*n = Node(nj)
	return nil
}

// clampYear moves a time whose year JSON cannot encode into [0, 9999],
// keeping the rest of the date, as restic does before encoding.
func clampYear(t time.Time) time.Time {
	switch y := t.Year(); {
	case y < 0:
		return t.AddDate(-y, 0, 0)
	case y > 9999:
		return t.AddDate(9999-y, 0, 0)
	}
	return t
}

// Target returns the symlink target's bytes: LinkTargetRaw when set,
// because LinkTarget may have lost invalid UTF-8.
func (n *Node) Target() string {
	if n.LinkTargetRaw != nil {
		return string(n.LinkTargetRaw)
	}
	return n.LinkTarget
}

// String gives a short description for messages.
func (n *Node) String() string {
	return fmt.Sprintf("%s %q (%v)", n.Type, n.Name, n.Mode)
}
