package systemd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteListRemove(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	units, err := Units(load(t, "testdata/hbackup.toml"), exampleOptions)
	if err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "hbackup-mine.service")
	if err := os.WriteFile(foreign, []byte("[Unit]\nDescription=written by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other.timer"), []byte(Marker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, dir, units); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "hbackup-home.timer"))
	if err != nil || string(b) != units[1].Text {
		t.Fatalf("hbackup-home.timer: %v\n%s", err, b)
	}
	names, err := List(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(units) {
		t.Fatalf("List = %v: want exactly the %d generated units", names, len(units))
	}

	// A job that lost its schedule leaves stale units behind.
	stale, err := Stale(ctx, dir, units[2:])
	if err != nil || strings.Join(stale, " ") != "hbackup-home.service hbackup-home.timer" {
		t.Fatalf("Stale = %v, %v", stale, err)
	}
	if err := Remove(ctx, dir, names); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 2 {
		t.Fatalf("want only the foreign files left, got %v", left)
	}

	// Foreign units are neither overwritten nor removed.
	if err := Remove(ctx, dir, []string{"hbackup-mine.service"}); !errors.Is(err, ErrNotGenerated) {
		t.Errorf("Remove foreign: %v", err)
	}
	clash := []Unit{{Name: "hbackup-mine.service", Text: Marker + "\n"}}
	if err := Write(ctx, dir, clash); !errors.Is(err, ErrNotGenerated) {
		t.Errorf("Write over foreign: %v", err)
	}
	if b, _ := os.ReadFile(foreign); !strings.Contains(string(b), "written by hand") {
		t.Errorf("foreign unit changed: %s", b)
	}
	if err := Remove(ctx, dir, []string{"../etc/passwd"}); err == nil {
		t.Error("Remove accepted a path outside dir")
	}
	if err := Remove(ctx, dir, []string{"hbackup-gone.timer"}); err != nil {
		t.Errorf("Remove of a missing unit: %v", err)
	}
}

func TestDetectWithoutSystemd(t *testing.T) {
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("systemd runs this machine")
	}
	_, err := Detect()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Detect = %v, want ErrUnavailable", err)
	}
	t.Log(err)
}

func TestSystemctlRuns(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	fake := filepath.Join(dir, "systemctl")
	script := "#!/bin/sh\necho \"$@\" >> " + log + "\n[ \"$1\" != fail ] || { echo broken >&2; exit 1; }\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := Systemctl{Path: fake}
	if err := s.DaemonReload(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableNow(ctx, "hbackup-a.timer", "hbackup-b.timer"); err != nil {
		t.Fatal(err)
	}
	if err := s.DisableNow(ctx); err != nil { // nothing to do: not run
		t.Fatal(err)
	}
	if err := s.run(ctx, "fail"); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("failure lacks the output: %v", err)
	}
	b, _ := os.ReadFile(log)
	if got := string(b); got != "daemon-reload\nenable --now hbackup-a.timer hbackup-b.timer\nfail\n" {
		t.Errorf("calls:\n%s", got)
	}
}
