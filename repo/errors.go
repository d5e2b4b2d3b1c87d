package repo

import "errors"

// Sentinel errors callers match with errors.Is.
var (
	// ErrNoRepository: the location holds no repository (no config file).
	ErrNoRepository = errors.New("repository does not exist")
	// ErrRepositoryExists: Init found a repository already there.
	ErrRepositoryExists = errors.New("repository already exists")
	// ErrWrongPassword: no key file could be opened with the password.
	ErrWrongPassword = errors.New("wrong password or no key found")
	// ErrBlobNotFound: the index does not know the blob.
	ErrBlobNotFound = errors.New("blob not found in index")
	// ErrIntegrity: stored bytes failed a MAC or hash check, or do not
	// parse. The message names the file.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrNotFound: no file matches an ID or prefix.
	ErrNotFound = errors.New("no matching ID found")
	// ErrAmbiguous: an ID prefix matches more than one file.
	ErrAmbiguous = errors.New("ambiguous ID prefix")
	// ErrLocked: another process holds a conflicting lock.
	ErrLocked = errors.New("repository is already locked")
)
