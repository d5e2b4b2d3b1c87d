// Package zfs drives the zfs and zpool commands: it lists pools, datasets
// and snapshots with their properties, creates (atomic, recursive)
// snapshots, holds and releases them, destroys, clones, mounts and renames,
// and sends and receives streams (full, incremental, raw, resumable), and
// replicates a dataset to another pool, locally or over ssh.
//
// # Why the command line and not libzfs
//
// hbackup runs the zfs and zpool commands and parses their
// machine-readable output (-H tab-separated, -p exact numbers, -j JSON
// where the installed OpenZFS has it) instead of linking libzfs through
// cgo. The Go binding go-libzfs needs the OpenZFS headers at build time and
// cgo, so no static single binary and no cross-compiling; it supports only
// older OpenZFS releases; and libzfs has no stable ABI: it changes between
// OpenZFS versions, so a binary built against one release breaks on
// another. The command line is the interface OpenZFS keeps stable, works
// the same over ssh (for replication) and under sudo or delegated
// permissions (zfs allow), and is what zrepl and sanoid/syncoid drive for
// the same reasons. Capabilities differ between versions (zfs-fuse 0.7,
// OpenZFS 2.x): a Runner reads them once from the usage text and returns
// ErrUnsupported with the missing feature's name instead of failing
// obscurely.
//
// Errors of failed commands are *CommandError values carrying the command
// line, its stderr and exit code; errors.Is matches them against
// ErrNotExist, ErrExists, ErrBusy, ErrPermission, ErrPoolMissing,
// ErrUnsupported and ErrNoCommonSnapshot.
package zfs
