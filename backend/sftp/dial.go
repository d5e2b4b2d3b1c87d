package sftp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/hbackup/hbackup/backend"
)

// handshakeTimeout bounds connecting and authenticating when ctx has no
// earlier deadline, so a server that accepts and then says nothing
// cannot hang a backup.
const handshakeTimeout = 30 * time.Second

// clientOptions keep many requests in flight per file: reads and writes
// are split into 32 KiB packets sent without waiting for each answer.
// Concurrent writes are safe here because a failed upload's temporary
// file is removed, never renamed into place.
func clientOptions() []sftp.ClientOption {
	return []sftp.ClientOption{
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
		sftp.MaxConcurrentRequestsPerFile(maxRequestsInFlight), // until tune measures the link
	}
}

// openSSHMaxLength is the largest read and write OpenSSH's sftp-server
// accepts (SFTP_MAX_MSG_LENGTH minus 1 KiB for the header, as its
// limits@openssh.com reply says).
const openSSHMaxLength = 256<<10 - 1<<10

// tune sizes a new session's requests. The packet size goes up to
// OpenSSH's limit when the server says it is OpenSSH's sftp-server of 8.7
// or later (it offers limits@openssh.com): eight times fewer requests for
// the same bytes cost the server's single-threaded sftp-server less CPU
// (uploads over loopback were about 1.3x faster in BenchmarkSave). Other
// servers keep the 32 KiB that every SFTP server must accept.
//
// Then the requests kept in flight per file are sized to the link (see
// requestsInFlight), from the round-trip time of a few no-op requests.
func tune(client *sftp.Client) {
	packet := 32 << 10
	if _, ok := client.HasExtension("limits@openssh.com"); ok {
		packet = openSSHMaxLength
		_ = sftp.MaxPacketUnchecked(packet)(client) // only sets a field
	}
	rtt := time.Duration(-1)
	for range 3 {
		start := time.Now()
		if _, err := client.Getwd(); err != nil {
			return // keep the default; the error shows on first use
		}
		if d := time.Since(start); rtt < 0 || d < rtt {
			rtt = d
		}
	}
	_ = sftp.MaxConcurrentRequestsPerFile(requestsInFlight(rtt, packet))(client) // only sets a field
}

// requestsInFlight is how many requests of packet bytes to keep in flight
// per file on a link with round-trip time rtt: enough for linkRate, at
// least 2 and at most maxRequestsInFlight. More than needed does not go
// faster but costs the server: over loopback, 64 requests of 255 KiB made
// OpenSSH's sshd spend 1.65 s of CPU on a first backup of a quarter of the
// benchmark data (memmove and page faults while its buffers grew), 2
// requests 0.6 s, and the backup took 2.9 s instead of 2.3-2.5 s.
// OpenSSH's channel window (2 MiB) caps the bytes in flight anyway.
func requestsInFlight(rtt time.Duration, packet int) int {
	const linkRate = 256 << 20 // bytes per second
	n := int((float64(linkRate)*rtt.Seconds() + float64(packet) - 1) / float64(packet))
	return min(max(n, 2), maxRequestsInFlight)
}

const maxRequestsInFlight = 64

// dial opens a new session: through the external command if one is
// configured, otherwise with the native SSH client.
func (b *Backend) dial(ctx context.Context) (*conn, error) {
	if argv := b.ep.command; len(argv) > 0 {
		return dialCommand(ctx, argv)
	}
	return dialNative(ctx, b.ep)
}

// dialNative connects, verifies the host key, authenticates and starts
// the sftp subsystem.
func dialNative(ctx context.Context, ep endpoint) (*conn, error) {
	hostKeys, err := newHostKeyChecker(ep.knownHosts, ep.hostname, ep.port)
	if err != nil {
		return nil, err
	}
	auth, closeAgent := authMethods(ep)
	defer closeAgent()

	cfg := &ssh.ClientConfig{
		User:              ep.user,
		Auth:              []ssh.AuthMethod{auth.method()},
		HostKeyCallback:   hostKeys.check,
		HostKeyAlgorithms: hostKeys.algorithms(),
	}
	addr := net.JoinHostPort(ep.hostname, ep.port)
	d := net.Dialer{Timeout: handshakeTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	// The handshake takes no context: a cancelled ctx closes the
	// connection instead, and a deadline stops a silent server.
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	deadline := time.Now().Add(handshakeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = nc.SetDeadline(deadline)
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		stop()
		_ = nc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to %s: %w", addr, ctx.Err())
		}
		return nil, fmt.Errorf("ssh to %s@%s: %w", ep.user, addr, auth.explain(err))
	}
	client := ssh.NewClient(sc, chans, reqs)
	session, err := sftp.NewClient(client, clientOptions()...)
	if !stop() {
		err = ctx.Err()
	}
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("start sftp on %s (is the sftp subsystem enabled?): %w", addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return newConn(session, func() error {
		// The transport first: closing the session waits for the
		// server's answer, which a broken connection never sends.
		err := client.Close()
		_ = session.Close() // can only report that the transport is gone
		if errors.Is(err, net.ErrClosed) {
			return nil // the connection had broken already
		}
		return err
	}), nil
}

// auth collects the keys to offer and why others could not be used, to
// explain an authentication failure.
type auth struct {
	agentSigners []ssh.Signer
	fileSigners  []ssh.Signer
	tried        []string // key files loaded
	notes        []string // keys skipped, and why
}

// authMethods offers the ssh-agent's keys first, then the key files, as
// ssh does; with IdentitiesOnly, only agent keys that match a key file.
// The returned function closes the agent connection.
func authMethods(ep endpoint) (*auth, func()) {
	a := &auth{}
	var filePubs [][]byte // public keys of the files, for IdentitiesOnly
	for _, id := range ep.identities {
		if pub, err := os.ReadFile(id.path + ".pub"); err == nil {
			if k, _, _, _, err := ssh.ParseAuthorizedKey(pub); err == nil {
				filePubs = append(filePubs, k.Marshal())
			}
		}
		data, err := os.ReadFile(id.path)
		if err != nil {
			if id.explicit || !errors.Is(err, os.ErrNotExist) {
				a.notes = append(a.notes, fmt.Sprintf("identity %s: %v", id.path, err))
			}
			continue
		}
		signer, err := ssh.ParsePrivateKey(data)
		var pm *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			a.notes = append(a.notes, fmt.Sprintf("identity %s is passphrase-protected: add it to ssh-agent (ssh-add %s)", id.path, id.path))
			continue
		case err != nil:
			a.notes = append(a.notes, fmt.Sprintf("identity %s: %v", id.path, err))
			continue
		}
		a.fileSigners = append(a.fileSigners, signer)
		filePubs = append(filePubs, signer.PublicKey().Marshal())
		a.tried = append(a.tried, id.path)
	}

	closeAgent := func() {}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return a, closeAgent
	}
	ac, err := net.Dial("unix", sock)
	if err != nil {
		a.notes = append(a.notes, fmt.Sprintf("ssh-agent at %s: %v", sock, err))
		return a, closeAgent
	}
	signers, err := agent.NewClient(ac).Signers()
	if err != nil {
		a.notes = append(a.notes, fmt.Sprintf("ssh-agent: %v", err))
	}
	for _, s := range signers {
		if !ep.identitiesOnly || slices.ContainsFunc(filePubs, func(p []byte) bool { return bytes.Equal(p, s.PublicKey().Marshal()) }) {
			a.agentSigners = append(a.agentSigners, s)
		}
	}
	return a, func() { _ = ac.Close() }
}

func (a *auth) method() ssh.AuthMethod {
	return ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		return append(append([]ssh.Signer(nil), a.agentSigners...), a.fileSigners...), nil
	})
}

// explain adds to an authentication failure which keys were offered.
func (a *auth) explain(err error) error {
	if !strings.Contains(err.Error(), "unable to authenticate") {
		return err
	}
	msg := fmt.Sprintf("%d agent key(s)", len(a.agentSigners))
	if len(a.tried) > 0 {
		msg += ", key files " + strings.Join(a.tried, ", ")
	} else {
		msg += ", no key file"
	}
	if len(a.notes) > 0 {
		msg += "; " + strings.Join(a.notes, "; ")
	}
	return backend.Permanent(fmt.Errorf("%w (offered %s)", err, msg))
}
