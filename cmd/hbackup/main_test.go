package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/repo"
)

// runCLI runs one command line in-process.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RESTIC_") {
			k, _, _ := strings.Cut(kv, "=")
			t.Setenv(k, "")
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestHelpAndUnknownCommand(t *testing.T) {
	out, _, code := runCLI(t, nil, "help")
	if code != 0 || !strings.Contains(out, "backup") || !strings.Contains(out, "Exit codes") {
		t.Fatalf("help: %d\n%s", code, out)
	}
	out, _, code = runCLI(t, nil, "backup", "--help")
	if code != 0 || !strings.Contains(out, "--exclude") || !strings.Contains(out, "--repo") {
		t.Fatalf("backup --help: %d\n%s", code, out)
	}
	if _, errb, code := runCLI(t, nil, "help", "frobnicate"); code != exitFatal || !strings.Contains(errb, "unknown command") {
		t.Fatalf("help of unknown command: %d %s", code, errb)
	}
	if _, errb, code := runCLI(t, nil, "frobnicate"); code != exitFatal || !strings.Contains(errb, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, errb)
	}
	if _, errb, code := runCLI(t, nil, "snapshots"); code != exitFatal || !strings.Contains(errb, "repository location") {
		t.Fatalf("no repository: %d %s", code, errb)
	}
}

func TestExitCodeMapping(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want int
	}{
		{ctx, nil, 0},
		{ctx, errors.New("boom"), 1},
		{ctx, fmt.Errorf("x: %w", errPartial), 3},
		{ctx, fmt.Errorf("x: %w", repo.ErrNoRepository), 10},
		{ctx, fmt.Errorf("x: %w", repo.ErrLocked), 11},
		{ctx, repo.ErrWrongPassword, 12},
		{cancelled, context.Canceled, 130},
	} {
		if got := exitCode(tc.ctx, tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		g    globalOptions
		env  string
		want string
		err  bool
	}{
		{"file", globalOptions{passwordFile: pwFile}, "", "from-file", false},
		{"command", globalOptions{passwordCommand: "echo from-command"}, "", "from-command", false},
		{"env", globalOptions{}, "from-env", "from-env", false},
		{"file wins over env", globalOptions{passwordFile: pwFile}, "from-env", "from-file", false},
		{"both file and command", globalOptions{passwordFile: pwFile, passwordCommand: "echo x"}, "", "", true},
		{"missing file", globalOptions{passwordFile: filepath.Join(dir, "nope")}, "", "", true},
		{"failing command", globalOptions{passwordCommand: "exit 3"}, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RESTIC_PASSWORD", tc.env)
			g := tc.g
			g.stderr = &bytes.Buffer{}
			got, err := g.readPassword("")
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("got %q, %v; want %q (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestFilesFrom(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", "b.txt", "c.log"} {
		_ = os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	list := filepath.Join(dir, "list")
	_ = os.WriteFile(list, []byte("# comment\n\n"+filepath.Join(dir, "*.txt")+"\n  "+filepath.Join(dir, "c.log")+"  \n"), 0o644)
	raw := filepath.Join(dir, "raw")
	_ = os.WriteFile(raw, []byte("/x/with\nnewline\x00/y\x00"), 0o644)
	got, err := collectTargets(&backupFlags{filesFrom: []string{list}, filesFromRaw: []string{raw}}, []string{"/arg"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/arg", filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt"), filepath.Join(dir, "c.log"), "/x/with\nnewline", "/y"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("targets %q, want %q", got, want)
	}
}

func TestRepoVersionParsing(t *testing.T) {
	for in, want := range map[string]uint{"stable": 2, "latest": 2, "1": 1, "2": 2, "": 2} {
		if got, err := parseRepoVersion(in); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"0", "3", "x"} {
		if _, err := parseRepoVersion(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestInitBackupSnapshotsInProcess drives the commands end to end with a
// local repository and checks the JSON outputs.
func TestInitBackupSnapshotsInProcess(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	_ = os.MkdirAll(src, 0o755)
	_ = os.WriteFile(filepath.Join(src, "f"), []byte("content"), 0o644)
	env := map[string]string{"RESTIC_REPOSITORY": filepath.Join(dir, "repo"), "RESTIC_PASSWORD": "pw"}
	if out, errb, code := runCLI(t, env, "init", "--repository-version", "1"); code != 0 || !strings.Contains(out, "created restic repository") {
		t.Fatalf("init: %d\n%s%s", code, out, errb)
	}
	if _, errb, code := runCLI(t, env, "init"); code != 1 || !strings.Contains(errb, "already exists") {
		t.Fatalf("second init: %d %s", code, errb)
	}
	out, errb, code := runCLI(t, env, "backup", "--json", "--tag", "a,b", "--host", "h", src)
	if code != 0 {
		t.Fatalf("backup: %d\n%s", code, errb)
	}
	var sum map[string]any
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum["message_type"] != "summary" || sum["files_new"] != 1.0 {
		t.Fatalf("summary line %q: %v", lines[len(lines)-1], err)
	}
	out, _, code = runCLI(t, env, "snapshots", "--json", "--tag", "a")
	var sns []map[string]any
	if err := json.Unmarshal([]byte(out), &sns); err != nil || code != 0 || len(sns) != 1 || sns[0]["hostname"] != "h" || sns[0]["id"] != sum["snapshot_id"] {
		t.Fatalf("snapshots --json: %s (%v)", out, err)
	}
	out, _, _ = runCLI(t, env, "snapshots", "--tag", "nomatch")
	if !strings.Contains(out, "0 snapshots") {
		t.Fatalf("filtered snapshots: %s", out)
	}
	out, _, code = runCLI(t, env, "cat", "config")
	if code != 0 || !strings.Contains(out, `"version": 1`) {
		t.Fatalf("cat config: %s", out)
	}
	if _, errb, code := runCLI(t, map[string]string{"RESTIC_REPOSITORY": env["RESTIC_REPOSITORY"], "RESTIC_PASSWORD": "bad"}, "snapshots"); code != 12 {
		t.Fatalf("wrong password: %d %s", code, errb)
	}
}

func TestCatAndCopyChunkerParams(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	_ = os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	_ = os.WriteFile(filepath.Join(src, "sub", "f"), []byte("cat me"), 0o644)
	repoA := filepath.Join(dir, "a")
	env := map[string]string{"RESTIC_REPOSITORY": repoA, "RESTIC_PASSWORD": "pw"}
	if _, errb, code := runCLI(t, env, "init"); code != 0 {
		t.Fatal(errb)
	}
	if _, errb, code := runCLI(t, env, "backup", "-q", src); code != 0 {
		t.Fatal(errb)
	}
	cat := func(args ...string) string {
		t.Helper()
		out, errb, code := runCLI(t, env, append([]string{"cat"}, args...)...)
		if code != 0 {
			t.Fatalf("cat %v: %d %s", args, code, errb)
		}
		return out
	}
	if out := cat("masterkey"); !strings.Contains(out, `"mac"`) || !strings.Contains(out, `"encrypt"`) {
		t.Fatalf("cat masterkey: %s", out)
	}
	if out := cat("snapshot", "latest"); !strings.Contains(out, `"tree"`) || !strings.Contains(out, src) {
		t.Fatalf("cat snapshot: %s", out)
	}
	tree := cat("tree", "latest:"+filepath.Join(src, "sub"))
	if !strings.HasPrefix(tree, `{"nodes":[{"name":"f","type":"file"`) {
		t.Fatalf("cat tree: %s", tree)
	}
	var parsed struct {
		Nodes []struct {
			Content []string `json:"content"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(tree), &parsed); err != nil {
		t.Fatal(err)
	}
	if out := cat("blob", parsed.Nodes[0].Content[0]); out != "cat me" {
		t.Fatalf("cat blob: %q", out)
	}
	for _, kind := range []string{"index", "key", "pack"} {
		sub := map[string]string{"index": "index", "key": "keys", "pack": "data"}[kind]
		var name string
		_ = filepath.Walk(filepath.Join(repoA, sub), func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				name = fi.Name()
			}
			return nil
		})
		if out := cat(kind, name[:10]); len(out) == 0 {
			t.Fatalf("cat %s %s: empty", kind, name)
		}
	}
	if _, errb, code := runCLI(t, env, "cat", "snapshot", "ffffffffff"); code == 0 || !strings.Contains(errb, "no matching ID") && !strings.Contains(errb, "not found") {
		t.Fatalf("cat of unknown snapshot: %d %s", code, errb)
	}

	// A second repository with the first one's chunker polynomial.
	repoB := filepath.Join(dir, "b")
	pwFile := filepath.Join(dir, "pwa")
	_ = os.WriteFile(pwFile, []byte("pw\n"), 0o600)
	envB := map[string]string{"RESTIC_REPOSITORY": repoB, "RESTIC_PASSWORD": "pw2"}
	if _, errb, code := runCLI(t, envB, "init", "--copy-chunker-params", "--from-repo", repoA, "--from-password-file", pwFile); code != 0 {
		t.Fatal(errb)
	}
	pol := func(env map[string]string) string {
		out, _, _ := runCLI(t, env, "cat", "config")
		var c struct {
			Pol string `json:"chunker_polynomial"`
		}
		_ = json.Unmarshal([]byte(out), &c)
		return c.Pol
	}
	if a, b := pol(env), pol(envB); a == "" || a != b {
		t.Fatalf("polynomials differ: %q vs %q", a, b)
	}
}

// TestJSONExitError: with --json, a fatal error ends with restic's
// exit_error message on stderr (one JSON line with the code and the
// message), and stdout stays free of it; without --json, the plain line.
func TestJSONExitError(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-repo")
	env := map[string]string{"RESTIC_PASSWORD": "pw"}
	out, errb, code := runCLI(t, env, "snapshots", "--json", "-r", missing)
	if code != exitNoRepo || out != "" {
		t.Fatalf("missing repository: code %d, stdout %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(errb), "\n")
	var msg struct {
		MessageType string `json:"message_type"`
		Code        int    `json:"code"`
		Message     string `json:"message"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &msg); err != nil {
		t.Fatalf("last stderr line is not JSON: %v\n%s", err, errb)
	}
	if msg.MessageType != "exit_error" || msg.Code != exitNoRepo || !strings.Contains(msg.Message, missing) {
		t.Fatalf("exit_error message %+v", msg)
	}
	// Before the repository is opened: no repository given at all.
	_, errb, code = runCLI(t, env, "snapshots", "--json")
	if code != exitFatal || !strings.Contains(errb, `"message_type":"exit_error","code":1`) {
		t.Fatalf("no repository flag: code %d, stderr %q", code, errb)
	}
	_, errb, code = runCLI(t, env, "snapshots", "-r", missing)
	if code != exitNoRepo || !strings.HasPrefix(errb, "Fatal: ") || strings.Contains(errb, "exit_error") {
		t.Fatalf("without --json: code %d, stderr %q", code, errb)
	}
}
