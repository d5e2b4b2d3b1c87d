package sftp

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hbackup/hbackup/backend"
)

// hostKeyChecker verifies the server's host key against known_hosts
// files. It never accepts an unknown or changed key: there is no one to
// ask, and trusting on first use would defeat the check for a backup
// that runs unattended.
type hostKeyChecker struct {
	files    []string // every file consulted, for messages
	existing []string // those that exist
	known    ssh.HostKeyCallback
	host     string
	port     string
}

func newHostKeyChecker(files []string, host, port string) (*hostKeyChecker, error) {
	h := &hostKeyChecker{files: files, host: host, port: port}
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			h.existing = append(h.existing, f)
		}
	}
	if len(h.existing) > 0 {
		cb, err := knownhosts.New(h.existing...)
		if err != nil {
			return nil, fmt.Errorf("read known hosts: %w", err)
		}
		h.known = cb
	}
	return h, nil
}

// addr is the host as known_hosts names it: "host", or "[host]:port".
func (h *hostKeyChecker) addr() string {
	return knownhosts.Normalize(net.JoinHostPort(h.host, h.port))
}

// check is the ssh.HostKeyCallback.
func (h *hostKeyChecker) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	if h.known == nil {
		return h.unknown(key)
	}
	err := h.known(hostname, remote, key)
	var (
		ke *knownhosts.KeyError
		re *knownhosts.RevokedError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return backend.Permanent(fmt.Errorf("the host key of %s (%s %s) is revoked in %s:%d: %w",
			h.addr(), key.Type(), ssh.FingerprintSHA256(key), re.Revoked.Filename, re.Revoked.Line, ErrHostKeyChanged))
	case !errors.As(err, &ke):
		return err
	case len(ke.Want) == 0:
		return h.unknown(key)
	}
	var known []string
	for _, k := range ke.Want {
		known = append(known, fmt.Sprintf("%s %s at %s:%d", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
	}
	return backend.Permanent(fmt.Errorf("WARNING: the host key of %s has changed: the server offered %s %s, but known_hosts has %s. "+
		"Someone could be intercepting the connection, or the server was reinstalled. "+
		"If you are sure the new key is right, remove the old one with: ssh-keygen -R '%s' -f %s, then add the new one: %w",
		h.addr(), key.Type(), ssh.FingerprintSHA256(key), strings.Join(known, "; "),
		h.addr(), ke.Want[0].Filename, ErrHostKeyChanged))
}

// unknown explains how to trust a host whose key is in no file.
func (h *hostKeyChecker) unknown(key ssh.PublicKey) error {
	target := "~/.ssh/known_hosts"
	if len(h.files) > 0 {
		target = h.files[0]
	}
	port := ""
	if h.port != "22" {
		port = "-p " + h.port + " "
	}
	return backend.Permanent(fmt.Errorf("the host key of %s (%s %s) is not in known_hosts (%s); hbackup never accepts unknown host keys. "+
		"After checking the fingerprint with the server's administrator, add it with: ssh-keyscan %s%s >> %s "+
		"(or connect once with ssh): %w",
		h.addr(), key.Type(), ssh.FingerprintSHA256(key), strings.Join(h.files, ", "),
		port, h.host, target, ErrUnknownHostKey))
}

// algorithms returns the host key algorithms to ask the server for: those
// of the keys known for this host, so that a server with several host
// keys shows the one we can check, rather than one of another type that
// would look like a changed key. Nil (the defaults) for an unknown host.
func (h *hostKeyChecker) algorithms() []string {
	if h.known == nil {
		return nil
	}
	// Asking with a key nobody has yields the list of known keys.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	remote := &net.TCPAddr{IP: net.IPv4zero}
	if !errors.As(h.known(net.JoinHostPort(h.host, h.port), remote, probe), &ke) {
		return nil
	}
	var algos []string
	for _, k := range ke.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !slices.Contains(algos, a) {
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// algorithmsFor maps a key type to the signature algorithms that use it.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
