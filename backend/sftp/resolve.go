package sftp

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// endpoint is everything needed to connect, after applying the ssh
// configuration and defaults to a Config.
type endpoint struct {
	hostname, port, user string
	identities           []identity
	identitiesOnly       bool // offer only agent keys that match identities
	knownHosts           []string
	command              []string // set: run this instead of the native client
}

// identity is a private key file to try; explicit ones were named by the
// user, so a missing one is worth mentioning.
type identity struct {
	path     string
	explicit bool
}

// defaultIdentities are the key files ssh tries when none is configured
// (the ones the native client can use).
var defaultIdentities = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// resolve fills in cfg from the ssh configuration and OpenSSH's defaults.
// Values in cfg (that is, from the repository URL) win over the ssh
// configuration, as on ssh's command line.
func resolve(cfg Config) (endpoint, error) {
	if cfg.Command != "" {
		argv, err := splitCommand(cfg.Command)
		if err != nil {
			return endpoint{}, fmt.Errorf("sftp.command: %w", err)
		}
		if len(argv) == 0 {
			return endpoint{}, errors.New("sftp.command is empty")
		}
		return endpoint{command: argv}, nil
	}
	if cfg.Args != "" {
		return systemSSH(cfg)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return endpoint{}, err
	}
	sc, err := loadSSHConfig(cfg.SSHConfigFile, home)
	if err != nil {
		return endpoint{}, err
	}
	hs := sc.lookup(cfg.Host)
	// The native client cannot hop through a proxy: leave such hosts
	// to the system ssh, as restic always does.
	for _, key := range []string{"proxyjump", "proxycommand"} {
		if v := hs.get(key); v != "" && !strings.EqualFold(v, "none") {
			return systemSSH(cfg)
		}
	}
	local := localUser()

	ep := endpoint{hostname: cfg.Host, user: cfg.User, port: "22"}
	if h := hs.get("hostname"); h != "" {
		ep.hostname = expandTokens(h, map[byte]string{'h': cfg.Host}, home)
	}
	if ep.user == "" {
		ep.user = hs.get("user")
	}
	if ep.user == "" {
		ep.user = local
	}
	switch {
	case cfg.Port != 0:
		ep.port = strconv.Itoa(cfg.Port)
	case hs.get("port") != "":
		if _, err := strconv.ParseUint(hs.get("port"), 10, 16); err != nil {
			return endpoint{}, fmt.Errorf("ssh config: host %s: bad Port %q", cfg.Host, hs.get("port"))
		}
		ep.port = hs.get("port")
	}
	ep.identitiesOnly = strings.EqualFold(hs.get("identitiesonly"), "yes")
	tokens := map[byte]string{'d': home, 'h': ep.hostname, 'n': cfg.Host, 'p': ep.port, 'r': ep.user, 'u': local}

	switch {
	case len(cfg.IdentityFiles) > 0:
		for _, f := range cfg.IdentityFiles {
			ep.identities = append(ep.identities, identity{expandTokens(f, tokens, home), true})
		}
	case len(hs.identityFiles) > 0:
		for _, f := range hs.identityFiles {
			ep.identities = append(ep.identities, identity{expandTokens(f, tokens, home), true})
		}
	default:
		for _, f := range defaultIdentities {
			ep.identities = append(ep.identities, identity{filepath.Join(home, ".ssh", f), false})
		}
	}

	if len(cfg.KnownHostsFiles) > 0 {
		ep.knownHosts = cfg.KnownHostsFiles
		return ep, nil
	}
	userFiles := hs.values["userknownhostsfile"]
	if userFiles == nil {
		userFiles = []string{"~/.ssh/known_hosts", "~/.ssh/known_hosts2"}
	}
	globalFiles := hs.values["globalknownhostsfile"]
	if globalFiles == nil {
		globalFiles = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
	}
	for _, f := range slices.Concat(userFiles, globalFiles) {
		if f != "none" {
			ep.knownHosts = append(ep.knownHosts, expandTokens(f, tokens, home))
		}
	}
	return ep, nil
}

// loadSSHConfig reads the user's and the system's ssh configuration, or
// only file if one is given (as ssh -F does).
func loadSSHConfig(file, home string) (*sshConfig, error) {
	sc := &sshConfig{}
	switch file {
	case "none":
		return sc, nil
	case "":
		if err := sc.read(filepath.Join(home, ".ssh", "config"), filepath.Join(home, ".ssh"), home, section{}, 0); err != nil {
			return nil, fmt.Errorf("ssh config: %w", err)
		}
		if err := sc.read("/etc/ssh/ssh_config", "/etc/ssh", home, section{}, 0); err != nil {
			return nil, fmt.Errorf("ssh config: %w", err)
		}
	default:
		file = expandTilde(file, home)
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("ssh config: %w", err)
		}
		if err := sc.read(file, filepath.Join(home, ".ssh"), home, section{}, 0); err != nil {
			return nil, fmt.Errorf("ssh config: %w", err)
		}
	}
	return sc, nil
}

// localUser is the name of the user running hbackup, ssh's default login.
func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// systemSSH builds the system ssh command line restic runs for
// -o sftp.args: ssh resolves the host alias and checks keys itself.
func systemSSH(cfg Config) (endpoint, error) {
	extra, err := splitCommand(cfg.Args)
	if err != nil {
		return endpoint{}, fmt.Errorf("sftp.args: %w", err)
	}
	argv := []string{"ssh"}
	if cfg.Port != 0 {
		argv = append(argv, "-p", strconv.Itoa(cfg.Port))
	}
	if cfg.User != "" {
		argv = append(argv, "-l", cfg.User)
	}
	argv = append(argv, extra...)
	if strings.HasPrefix(cfg.Host, "-") {
		return endpoint{}, fmt.Errorf("invalid host name %q", cfg.Host)
	}
	argv = append(argv, cfg.Host, "-s", "sftp")
	return endpoint{command: argv}, nil
}
