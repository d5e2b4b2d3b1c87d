package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// RcloneOptions configures a REST server started by StartRclone.
type RcloneOptions struct {
	// AppendOnly passes --append-only: files cannot be deleted (except
	// locks) or overwritten.
	AppendOnly bool
	// User and Password, when set, require HTTP basic authentication.
	User, Password string
	// Dir is the directory served; empty means a new temporary one.
	Dir string
}

// RcloneServer is a running `rclone serve restic`.
type RcloneServer struct {
	// URL is the server's root, "http://127.0.0.1:<port>/", without
	// credentials. Any path below it is a repository of its own.
	URL string
	// Dir is the directory the repositories are stored in.
	Dir string
	// log collects rclone's output, shown when the test fails.
	log *syncBuffer
}

// StartRclone starts `rclone serve restic` on a free port of 127.0.0.1
// and stops it when the test ends. It skips (or fails, see
// RequireBinary) when rclone is missing.
func StartRclone(t testing.TB, opts RcloneOptions) *RcloneServer {
	t.Helper()
	bin := RequireBinary(t, "rclone")
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	// An empty config file keeps rclone away from the user's remotes.
	conf := filepath.Join(t.TempDir(), "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	// The port is free when picked but could be taken before rclone
	// binds it; try a few.
	for range 5 {
		srv, err := startRclone(t, bin, conf, opts)
		if err == nil {
			return srv
		}
		lastErr = err
	}
	t.Fatalf("starting rclone serve restic: %v", lastErr)
	return nil
}

func startRclone(t testing.TB, bin, conf string, opts RcloneOptions) (*RcloneServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "restic", "--config", conf, "--addr", addr}
	if opts.AppendOnly {
		args = append(args, "--append-only")
	}
	if opts.User != "" || opts.Password != "" {
		args = append(args, "--user", opts.User, "--pass", opts.Password)
	}
	args = append(args, opts.Dir)
	srv := &RcloneServer{URL: "http://" + addr + "/", Dir: opts.Dir, log: &syncBuffer{}}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = srv.log, srv.log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// exited is closed once the process is gone; waitErr is then set.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	if err := waitListening(addr, exited); err != nil {
		if errors.Is(err, errExited) {
			<-exited
			err = fmt.Errorf("rclone exited: %v", waitErr)
		}
		stop()
		return nil, fmt.Errorf("%w\nrclone output:\n%s", err, srv.log.String())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("rclone serve restic output:\n%s", srv.log.String())
		}
	})
	return srv, nil
}

var errExited = errors.New("rclone exited")

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// waitListening polls addr until an HTTP request gets any answer, the
// process exits, or ten seconds pass.
func waitListening(addr string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errExited
		default:
		}
		resp, err := client.Head("http://" + addr + "/config")
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("rclone did not answer on %s within 10s", addr)
}

// syncBuffer is a bytes.Buffer safe for the two output streams of a
// process.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
