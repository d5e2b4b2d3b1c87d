package testutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"

	"golang.org/x/crypto/ssh"
)

// writeKeys generates the host keys, the user key and authorized_keys.
func (s *SSHD) writeKeys() error {
	_, edHost, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("ed25519 host key: %w", err)
	}
	ecHost, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("ecdsa host key: %w", err)
	}
	_, client, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("client key: %w", err)
	}
	for _, k := range []struct {
		name string
		key  crypto.Signer
	}{{"ssh_host_ed25519_key", edHost}, {"ssh_host_ecdsa_key", ecHost}} {
		pub, err := writePrivateKey(filepath.Join(s.Dir, k.name), k.key)
		if err != nil {
			return err
		}
		s.HostKeys = append(s.HostKeys, pub)
	}
	s.ClientKeyFile = filepath.Join(s.Dir, "id_ed25519")
	pub, err := writePrivateKey(s.ClientKeyFile, client)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "authorized_keys"), ssh.MarshalAuthorizedKey(pub), 0o644); err != nil {
		return fmt.Errorf("writing authorized_keys: %w", err)
	}
	return nil
}

// writePrivateKey writes key in OpenSSH format (mode 0600, as ssh and sshd
// demand) and its ".pub" file, and returns the public key.
func writePrivateKey(path string, key crypto.Signer) (ssh.PublicKey, error) {
	block, err := ssh.MarshalPrivateKey(key, "hbackup-test")
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("writing a key: %w", err)
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("public key of %s: %w", path, err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(pub), 0o644); err != nil {
		return nil, fmt.Errorf("writing a public key: %w", err)
	}
	return pub, nil
}

// setupChroot creates SFTPOnlyUser if needed and the chroot. sshd wants
// every component of the chroot path root-owned and writable by nobody
// else, which rules out anything under /tmp.
func (s *SSHD) setupChroot() error {
	uid, gid, err := ensureSFTPUser()
	if err != nil {
		return err
	}
	root, err := os.MkdirTemp("/var/lib", "hbackup-sshd-chroot-")
	if err != nil {
		return fmt.Errorf("creating the chroot: %w", err)
	}
	s.ChrootDir = root // from here on Stop removes it
	if err := os.Chmod(root, 0o755); err != nil {
		return fmt.Errorf("chroot mode: %w", err)
	}
	s.UploadDir = filepath.Join(root, "upload")
	if err := os.Mkdir(s.UploadDir, 0o755); err != nil {
		return fmt.Errorf("creating the upload directory: %w", err)
	}
	if err := os.Chown(s.UploadDir, uid, gid); err != nil {
		return fmt.Errorf("handing the upload directory to %s: %w", SFTPOnlyUser, err)
	}
	s.SFTPOnlyAlias = "hbackup-sftponly"
	return nil
}

// ensureSFTPUser creates SFTPOnlyUser once per machine and returns its
// ids. Its password field is "*" (no password, but not locked: sshd
// without PAM refuses locked accounts even for key logins).
func ensureSFTPUser() (uid, gid int, err error) {
	if _, err := user.Lookup(SFTPOnlyUser); err != nil {
		out, err := exec.Command("useradd", "-M", "-d", "/upload", "-s", "/usr/sbin/nologin", "-p", "*", SFTPOnlyUser).CombinedOutput()
		var ee *exec.ExitError
		// Exit code 9: created meanwhile by a test running in parallel.
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 9) {
			return 0, 0, fmt.Errorf("useradd %s: %w\n%s", SFTPOnlyUser, err, out)
		}
	}
	u, err := user.Lookup(SFTPOnlyUser)
	if err != nil {
		return 0, 0, fmt.Errorf("looking up %s: %w", SFTPOnlyUser, err)
	}
	if uid, err = strconv.Atoi(u.Uid); err != nil {
		return 0, 0, fmt.Errorf("uid of %s: %w", SFTPOnlyUser, err)
	}
	if gid, err = strconv.Atoi(u.Gid); err != nil {
		return 0, 0, fmt.Errorf("gid of %s: %w", SFTPOnlyUser, err)
	}
	return uid, gid, nil
}
