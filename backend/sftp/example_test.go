package sftp_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/sftp"
)

// Open the repository of "sftp:backup@nas.example.org:/srv/restic-repo",
// create it, and store a file. The server's host key must already be in
// ~/.ssh/known_hosts (ssh-keyscan nas.example.org >> ~/.ssh/known_hosts,
// after checking the fingerprint); keys come from ssh-agent or ~/.ssh.
// It needs a server, so it only compiles here.
func Example() {
	cfg, err := sftp.ParseURL("sftp:backup@nas.example.org:/srv/restic-repo")
	if err != nil {
		log.Fatal(err)
	}
	cfg.Connections = 8 // -o sftp.connections=8

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	be, err := sftp.New(ctx, cfg)
	if err != nil {
		log.Fatal(err) // e.g. wraps sftp.ErrUnknownHostKey, with the ssh-keyscan command to run
	}
	defer func() { _ = be.Close() }()

	if err := be.Create(ctx); err != nil {
		log.Fatal(err)
	}
	h := backend.Handle{Type: backend.KeyFile, Name: "5eedc0de"}
	if err := be.Save(ctx, h, backend.NewByteReader([]byte("key"))); err != nil {
		log.Fatal(err)
	}
	fi, err := be.Stat(ctx, h)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(be.Location(), fi.Size)
}

// Reach the server through the system ssh instead, as restic's
// -o sftp.command does: ssh then reads ~/.ssh/config and known_hosts
// itself.
func Example_command() {
	be, err := sftp.New(context.Background(), sftp.Config{
		Host:    "nas",
		Path:    "restic-repo", // relative to the login directory
		Command: "ssh -o ServerAliveInterval=60 nas -s sftp",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = be.Close() }()
	fmt.Println(be.Location())
}
