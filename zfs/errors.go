package zfs

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. A failed command returns a *CommandError whose Unwrap
// gives one of these, so callers test with errors.Is.
var (
	ErrNotExist         = errors.New("zfs: dataset does not exist")
	ErrExists           = errors.New("zfs: dataset already exists")
	ErrPermission       = errors.New("zfs: permission denied")
	ErrBusy             = errors.New("zfs: dataset is busy")
	ErrPoolMissing      = errors.New("zfs: no such pool")
	ErrUnsupported      = errors.New("zfs: not supported by this zfs")
	ErrNoCommonSnapshot = errors.New("zfs: no common snapshot")
	// ErrUnavailable means the zfs tools cannot reach ZFS at all (kernel
	// module not loaded, zfs-fuse daemon not running).
	ErrUnavailable = errors.New("zfs: ZFS is not available")
)

// CommandError is a zfs or zpool command that failed.
type CommandError struct {
	Args     []string // the full command line, wrapper included
	Stderr   string
	ExitCode int   // -1 when the command did not exit normally (killed)
	Kind     error // one of the sentinels, or nil
}

func (e *CommandError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	// Usage texts run to dozens of lines; the first ones say what is wrong.
	if lines := strings.SplitN(msg, "\n", 4); len(lines) > 3 {
		msg = strings.Join(lines[:3], "\n") + " ..."
	}
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("%s: %s (exit status %d)", strings.Join(e.Args, " "), msg, e.ExitCode)
}

// Unwrap returns the sentinel matching the command's message.
func (e *CommandError) Unwrap() error { return e.Kind }

// stderrKinds maps fragments of zfs/zpool messages (OpenZFS and zfs-fuse)
// to sentinels. Order matters: the first match wins.
var stderrKinds = []struct {
	fragment string
	kind     error
}{
	{"permission denied", ErrPermission},
	{"insufficient privileges", ErrPermission},
	{"operation not permitted", ErrPermission},
	{"delegated administration is disabled", ErrPermission}, // EZFS_NODELEGATION
	// libzfs's generic EZFS_NOENT text; zpool says "no such pool" alone.
	{"no such pool or dataset", ErrNotExist},
	{"no such pool", ErrPoolMissing},
	{"does not match incremental source", ErrNoCommonSnapshot},
	{"destination has snapshots", ErrNoCommonSnapshot},
	{"does not exist", ErrNotExist},
	{"no such tag", ErrNotExist},
	{"could not find any snapshots", ErrNotExist},
	{"already exists", ErrExists},
	{"pool or dataset exists", ErrExists}, // libzfs's generic EZFS_EXISTS text
	{"' exists", ErrExists},               // receive: "destination 'x' exists"
	{"already mounted", ErrExists},
	{"must specify -f to overwrite", ErrExists},
	{"busy", ErrBusy},
	{"has dependent clones", ErrBusy},
	{"invalid option", ErrUnsupported},
	{"unrecognized command", ErrUnsupported},
	{"pyzfs.py not found", ErrUnsupported},
	{"not supported", ErrUnsupported},
	{"unsupported", ErrUnsupported},
	{"too many arguments", ErrUnsupported},
	{"module does not support", ErrUnsupported}, // "the loaded zfs module does not support this operation"
	{"failed to initialize zfs library", ErrUnavailable},
	// OpenZFS's libzfs_error_init (lib/libzfs/os/linux/libzfs_util_os.c).
	{"modules are not loaded", ErrUnavailable},
	{"modules cannot be auto-loaded", ErrUnavailable},
	{"/dev/zfs and /proc/self/mounts are required", ErrUnavailable},
	{"failed to initialize the libzfs library", ErrUnavailable},
	{"connect: connection refused", ErrUnavailable},
	{"connect: no such file or directory", ErrUnavailable},
}

// classify returns the sentinel for a command's stderr, or nil.
func classify(stderr string) error {
	// zfs wraps long messages ("does not\nmatch incremental source").
	s := strings.Join(strings.Fields(strings.ToLower(stderr)), " ")
	for _, k := range stderrKinds {
		if strings.Contains(s, k.fragment) {
			return k.kind
		}
	}
	return nil
}

// unsupported returns an error wrapping ErrUnsupported that names the
// missing feature.
func unsupported(feature string) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, feature)
}
