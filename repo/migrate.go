package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hbackup/hbackup/backend"
)

// ErrAlreadyUpgraded is returned by UpgradeToV2 for a repository that is
// not at version 1.
var ErrAlreadyUpgraded = errors.New("repository is not at version 1")

// UpgradeError is a failed config upgrade. The old config was re-uploaded
// unless Reupload is set; a copy of it is kept in BackupFile either way.
type UpgradeError struct {
	Upload, Reupload error
	BackupFile       string
}

func (e *UpgradeError) Error() string {
	if e.Reupload != nil {
		return fmt.Sprintf("error uploading config (%v), re-uploading old config failed as well (%v), but there is a backup of the config file in %v", e.Upload, e.Reupload, e.BackupFile)
	}
	return fmt.Sprintf("error uploading config (%v), re-uploading old config was successful, there is a backup of the config file in %v", e.Upload, e.BackupFile)
}

func (e *UpgradeError) Unwrap() error { return e.Upload }

// UpgradeToV2 rewrites the config of a version 1 repository with version
// 2, as restic's `migrate upgrade_repo_v2`; ID and chunker polynomial stay
// the same and no other file changes (version 2 reads version 1 data).
// The caller should hold an exclusive lock and have checked the
// repository. The raw old config is first copied to a temporary
// directory; if writing the new config fails, the old one is uploaded
// again and the copy is kept. r itself keeps writing the version 1
// format: open the repository again to write version 2.
func (r *Repository) UpgradeToV2(ctx context.Context) error {
	if r.cfg.Version != 1 {
		return fmt.Errorf("%w: version %d", ErrAlreadyUpgraded, r.cfg.Version)
	}
	h := backend.Handle{Type: backend.ConfigFile}
	raw, err := backend.LoadAll(ctx, r.be, h)
	if err != nil {
		return fmt.Errorf("load config file failed: %w", err)
	}
	dir, err := os.MkdirTemp("", "hbackup-migrate-upgrade-repo-v2-")
	if err != nil {
		return fmt.Errorf("create temp dir failed: %w", err)
	}
	backup := filepath.Join(dir, "config")
	if err := os.WriteFile(backup, raw, 0o600); err != nil {
		return fmt.Errorf("write config file backup to %v failed: %w", dir, err)
	}

	if err := r.writeConfigV2(ctx, h); err != nil {
		ue := &UpgradeError{Upload: err, BackupFile: backup}
		_ = r.be.Remove(ctx, h)
		if err := r.be.Save(ctx, h, backend.NewByteReader(raw)); err != nil {
			ue.Reupload = err
		}
		return ue
	}
	_ = os.Remove(backup)
	_ = os.Remove(dir)
	return nil
}

// writeConfigV2 stores the config with version 2. Backends that cannot
// replace a file atomically (rest-server refuses to overwrite config)
// get the old file removed first, as restic does.
func (r *Repository) writeConfigV2(ctx context.Context, h backend.Handle) error {
	if !r.be.Properties().HasAtomicReplace {
		if err := r.be.Remove(ctx, h); err != nil {
			return fmt.Errorf("remove config failed: %w", err)
		}
	}
	cfg := r.cfg
	cfg.Version = 2
	plain, err := jsonMarshal(cfg)
	if err != nil {
		return err
	}
	if err := r.be.Save(ctx, h, backend.NewByteReader(r.key.Seal(nil, plain))); err != nil {
		return fmt.Errorf("save new config file failed: %w", err)
	}
	return nil
}
