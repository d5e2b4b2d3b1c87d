// Package filter implements restic's path selection rules: the patterns of
// backup --exclude/--iexclude/--exclude-file/--iexclude-file and restore
// --include/--exclude/--iinclude/--iexclude, plus backup's
// --exclude-caches, --exclude-if-present and --exclude-larger-than.
//
// # Patterns
//
// A pattern is cleaned (path/filepath.Clean) and split at "/" into
// components; so is the path it is tested against (the path is not cleaned).
// Components are compared one to one: a component without any of the
// characters `*?[]\` must be equal, any other is matched with
// path/filepath.Match, so `*`, `?` and `[...]` never cross a "/". A component
// that is exactly "**" matches any number of path components, including none.
//
//   - A pattern with a leading "/" is anchored at the root: "/bin" matches
//     "/bin/bash" but not "/usr/bin/restic".
//   - A pattern without a leading "/" may match at any depth: "foo" matches
//     "/dir1/foo/dir2/file" and "/dir/foo", not "/dir/foobar".
//   - A pattern only needs to match the leading components of a path, so a
//     pattern that matches a directory also matches everything below it.
//   - A trailing "/" is ignored.
//   - A pattern starting with "!" is negated: when it matches, it cancels a
//     match by an earlier pattern of the same list. In effect the last
//     matching pattern of a list decides. As in restic, once a directory is
//     excluded its contents are never visited, so they cannot be re-included.
//   - The case-insensitive variants lower-case both patterns and paths.
//
// Empty pattern strings are ignored. Patterns that path/filepath.Match
// rejects (such as "[") are reported by ParsePatterns before any matching.
//
// # Callers
//
// The archiver builds one Excluder from ExcludeOptions and asks
// Excluder.Excluded for every path it visits (never descending into an
// excluded directory). The restorer builds one RestoreSelector from
// RestoreOptions and asks RestoreSelector.Select for every snapshot path,
// descending into a directory only when a child may be selected.
//
// Paths use "/" as separator, as on Unix and inside snapshots.
package filter
