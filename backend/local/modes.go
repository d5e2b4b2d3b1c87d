package local

import "io/fs"

// modes are the permissions given to repository directories and files.
type modes struct {
	dir  fs.FileMode
	temp fs.FileMode // a file being written
	file fs.FileMode // a finished file; read-only since files never change
}

var (
	defaultModes = modes{dir: 0o700, temp: 0o600, file: 0o400}
	groupModes   = modes{dir: 0o770, temp: 0o660, file: 0o440}
)

// modesFor derives the modes from the config file's mode: if the group
// may read config, the repository is shared with the group, and new
// files and directories are made group-accessible too (as restic does).
func modesFor(config fs.FileMode) modes {
	if config.Perm()&0o040 != 0 {
		return groupModes
	}
	return defaultModes
}
