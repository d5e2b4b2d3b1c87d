package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireIntegrationEnv is the environment variable that turns a missing
// external tool from a skip into a test failure when set to "1".
const RequireIntegrationEnv = "HBACKUP_REQUIRE_INTEGRATION"

// IntegrationRequired reports whether RequireIntegrationEnv is set to "1".
func IntegrationRequired() bool {
	return os.Getenv(RequireIntegrationEnv) == "1"
}

// RequireBinary returns the absolute path of the executable name found in
// PATH. If it is missing the test is skipped, or fails when
// IntegrationRequired is true.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		abs, absErr := filepath.Abs(p)
		if absErr == nil {
			return abs
		}
		err = absErr
	}
	skipMissing(t, name, err)
	return ""
}

// skipMissing skips the test for want of the tool name, or fails it when
// IntegrationRequired is true.
func skipMissing(t testing.TB, name string, err error) {
	t.Helper()
	if IntegrationRequired() {
		t.Fatalf("%s not installed: %v (required because %s=1)", name, err, RequireIntegrationEnv)
	}
	t.Skipf("%s not installed: %v (set %s=1 to make this a failure)", name, err, RequireIntegrationEnv)
}

// IsRoot reports whether the test process runs with effective uid 0.
func IsRoot() bool {
	return os.Geteuid() == 0
}

// RequireRoot skips the test unless it runs as root. Unlike RequireBinary it
// never fails: root-only cases are expected to be skipped in normal runs.
func RequireRoot(t testing.TB) {
	t.Helper()
	if !IsRoot() {
		t.Skipf("needs root (running as uid %d)", os.Geteuid())
	}
}
