package layout

import "io/fs"

// Modes are the permissions given to repository directories and files,
// the same as restic's for local and sftp repositories.
type Modes struct {
	Dir  fs.FileMode
	Temp fs.FileMode // a file being written
	File fs.FileMode // a finished file; read-only since files never change
}

// DefaultModes are for a repository only its owner may read.
var DefaultModes = Modes{Dir: 0o700, Temp: 0o600, File: 0o400}

// groupModes are for a repository shared with the owner's group.
var groupModes = Modes{Dir: 0o770, Temp: 0o660, File: 0o440}

// ModesFor derives the modes from the config file's mode: if the group
// may read config, the repository is shared with the group, and new
// files and directories are made group-accessible too (as restic does).
func ModesFor(config fs.FileMode) Modes {
	if config.Perm()&0o040 != 0 {
		return groupModes
	}
	return DefaultModes
}
