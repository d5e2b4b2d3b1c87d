package interop_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// checkJSON runs hbackup check --json --read-data and decodes its output:
// the summary (the only line on stdout) and the error lines on stderr. A
// failed check ends stderr with restic's exit_error line, with the exit
// code.
func checkJSON(t *testing.T, repoDir string) (summary map[string]any, errs []string, code int) {
	t.Helper()
	stdout, stderr, code := newHbackup(repoDir).runErr("check", "--json", "--read-data")
	lines := bytes.Split(bytes.TrimSpace(stdout), []byte("\n"))
	if len(lines) != 1 || json.Unmarshal(lines[0], &summary) != nil || summary["message_type"] != "summary" {
		t.Fatalf("stdout is not one summary line:\n%s", stdout)
	}
	lines = bytes.Split(bytes.TrimSpace(stderr), []byte("\n"))
	for i, l := range lines {
		var m map[string]any
		if len(l) == 0 {
			continue
		}
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("stderr line is not JSON: %q", l)
		}
		if m["message_type"] == "exit_error" {
			if i != len(lines)-1 || m["code"] != float64(code) {
				t.Fatalf("exit_error %q: not the last line or not exit code %d", l, code)
			}
			continue
		}
		if m["message_type"] != "error" {
			t.Fatalf("stderr line is not a JSON error: %q", l)
		}
		errs = append(errs, m["message"].(string))
	}
	if code != 0 && !bytes.Contains(lines[len(lines)-1], []byte(`"exit_error"`)) {
		t.Fatalf("exit code %d without an exit_error line:\n%s", code, stderr)
	}
	return summary, errs, code
}

// TestCheckJSON: check --json reports a clean repository with zero
// errors, and a flipped byte in a pack as an error naming the pack, which
// the summary lists as broken.
func TestCheckJSON(t *testing.T) {
	repoDir := backedUpRepo(t, t.TempDir(), 3)
	summary, errs, code := checkJSON(t, repoDir)
	if code != 0 || summary["num_errors"] != 0.0 || len(errs) != 0 ||
		len(summary["broken_packs"].([]any)) != 0 || summary["suggest_repair_index"] != false || summary["suggest_prune"] != false {
		t.Fatalf("clean repository: exit %d, summary %v, errors %q", code, summary, errs)
	}

	pack := largestPack(t, repoDir)
	flipByte(100)(t, writable(t, pack))
	summary, errs, code = checkJSON(t, repoDir)
	id := filepath.Base(pack)
	broken := summary["broken_packs"].([]any)
	if code != 1 || summary["num_errors"].(float64) < 1 || !slices.Contains(broken, any(id)) {
		t.Fatalf("damaged repository: exit %d, summary %v, errors %q", code, summary, errs)
	}
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), id) {
		t.Fatalf("no error names pack %s: %q", id, errs)
	}

	// A missing pack is an error too.
	if err := os.Remove(pack); err != nil {
		t.Fatal(err)
	}
	summary, errs, code = checkJSON(t, repoDir)
	if code != 1 || summary["num_errors"].(float64) < 1 || len(errs) == 0 {
		t.Fatalf("missing pack: exit %d, summary %v, errors %q", code, summary, errs)
	}
}
