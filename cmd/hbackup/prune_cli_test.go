package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// --repack-uncompressed compresses what is stored uncompressed: like
// restic, prune refuses it with compression off and on a version 1
// repository, which cannot hold compressed blobs.
func TestPruneRepackUncompressedNeedsCompression(t *testing.T) {
	env, _ := backedUpTestRepo(t)
	_, errb, code := runCLI(t, env, "prune", "--repack-uncompressed", "--compression", "off")
	if code != exitFatal || !strings.Contains(errb, "mutually exclusive") {
		t.Fatalf("--compression off: exit %d\n%s", code, errb)
	}
	mustRun(t, env, "prune", "--repack-uncompressed")

	env1 := map[string]string{"RESTIC_REPOSITORY": filepath.Join(t.TempDir(), "repo"), "RESTIC_PASSWORD": "pw"}
	mustRun(t, env1, "init", "--repository-version", "1")
	_, errb, code = runCLI(t, env1, "prune", "--repack-uncompressed")
	if code != exitFatal || !strings.Contains(errb, "version 2") {
		t.Fatalf("version 1 repository: exit %d\n%s", code, errb)
	}
	mustRun(t, env1, "prune")
}
