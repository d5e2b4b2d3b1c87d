package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const missingTool = "hbackup-no-such-tool-for-tests"

func TestRequireBinaryFound(t *testing.T) {
	p := RequireBinary(t, "sh")
	if !filepath.IsAbs(p) {
		t.Fatalf("RequireBinary(sh) = %q, want an absolute path", p)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}

func TestRequireBinaryMissingSkips(t *testing.T) {
	t.Setenv(RequireIntegrationEnv, "")
	rec := runRecorded(t, func(tb testing.TB) { RequireBinary(tb, missingTool) })
	if !rec.skipped || rec.failed {
		t.Fatalf("skipped=%v failed=%v, want a skip", rec.skipped, rec.failed)
	}
	if !strings.Contains(rec.msgs[0], missingTool+" not installed") {
		t.Errorf("skip message %q does not name the tool", rec.msgs[0])
	}
}

func TestRequireBinaryMissingFailsWhenRequired(t *testing.T) {
	t.Setenv(RequireIntegrationEnv, "1")
	rec := runRecorded(t, func(tb testing.TB) { RequireBinary(tb, missingTool) })
	if !rec.failed || rec.skipped {
		t.Fatalf("skipped=%v failed=%v, want a failure", rec.skipped, rec.failed)
	}
	if !strings.Contains(rec.msgs[0], RequireIntegrationEnv) {
		t.Errorf("failure message %q does not say why it is required", rec.msgs[0])
	}
}

func TestRequireRootNeverFails(t *testing.T) {
	t.Setenv(RequireIntegrationEnv, "1")
	rec := runRecorded(t, func(tb testing.TB) { RequireRoot(tb) })
	if rec.failed {
		t.Fatalf("RequireRoot failed: %v", rec.msgs)
	}
	if rec.skipped == IsRoot() {
		t.Fatalf("skipped=%v while root=%v", rec.skipped, IsRoot())
	}
}
