// Package hbuild builds the hbackup command for the benchmark programs,
// which compare the hbackup of the source tree they run from with restic.
package hbuild

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
)

// Package is the import path of the command Build compiles.
const Package = "github.com/hbackup/hbackup/cmd/hbackup"

// Build compiles cmd/hbackup into dir and returns the binary's path. It
// needs the go command and a working directory inside this module.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "hbackup")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, Package).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building hbackup (run from inside the module, or pass -hbackup): %w\n%s", err, out)
	}
	return bin, nil
}
