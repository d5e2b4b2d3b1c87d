package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

func keyCommand() *command {
	return &command{
		name:  "key",
		usage: "[list|add|remove|passwd] [ID]",
		short: "Manage keys (passwords)",
		long: `The "key" command manages the keys (passwords) of a repository:
"list" shows them (the one in use marked with *), "add" adds a key,
"remove ID" removes one (never the key in use), and "passwd" replaces the
key in use with a new password.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var o keyOptions
			fs.StringVar(&o.newPasswordFile, "new-password-file", "", "`file` from which to read the new password")
			fs.StringVar(&o.host, "host", "", "the hostname for new keys")
			fs.StringVar(&o.user, "user", "", "the username for new keys")
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return errors.New("no subcommand given: use list, add, remove or passwd")
				}
				switch args[0] {
				case "list":
					return keyList(ctx, g)
				case "add":
					return keyAdd(ctx, g, o)
				case "remove":
					if len(args) != 2 {
						return errors.New("key remove needs exactly one key ID")
					}
					return keyRemove(ctx, g, args[1])
				case "passwd":
					return keyPasswd(ctx, g, o)
				}
				return fmt.Errorf("unknown key subcommand %q: use list, add, remove or passwd", args[0])
			}
		},
	}
}

type keyOptions struct {
	newPasswordFile string
	host, user      string
}

// keyJSON is one entry of restic's `key list --json`.
type keyJSON struct {
	Current  bool   `json:"current"`
	ID       string `json:"id"`
	UserName string `json:"userName"`
	HostName string `json:"hostName"`
	Created  string `json:"created"`
}

func keyList(ctx context.Context, g *globalOptions) error {
	r, done, err := g.openRepository(ctx, sharedLock)
	if err != nil {
		return err
	}
	defer done()
	keys, err := r.Keys(ctx)
	if err != nil {
		return err
	}
	list := make([]keyJSON, len(keys))
	for i, k := range keys {
		list[i] = keyJSON{Current: k.Current, ID: k.ID.Str(), UserName: k.Username,
			HostName: k.Hostname, Created: k.Created.Local().Format("2006-01-02 15:04:05")}
	}
	if g.json {
		return writeJSON(g.stdout, list)
	}
	rows := [][]string{{" ID", "User", "Host", "Created"}}
	for _, k := range list {
		mark := " "
		if k.Current {
			mark = "*"
		}
		rows = append(rows, []string{mark + k.ID, k.UserName, k.HostName, k.Created})
	}
	printTable(g.stdout, rows)
	return nil
}

// printTable prints rows[0] as header and the rest between dashed lines,
// columns padded and separated by two spaces, like restic's tables.
func printTable(w io.Writer, rows [][]string) {
	widths := map[int]int{}
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	lines := make([]string, len(rows))
	longest := 0
	for j, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = c
			if i < len(row)-1 {
				cells[i] = fmt.Sprintf("%-*s", widths[i], c)
			}
		}
		lines[j] = strings.Join(cells, "  ")
		longest = max(longest, len(lines[j]))
	}
	dashes := strings.Repeat("-", longest)
	fmt.Fprintln(w, lines[0])
	fmt.Fprintln(w, dashes)
	for _, l := range lines[1:] {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, dashes)
}

func keyAdd(ctx context.Context, g *globalOptions, o keyOptions) error {
	r, done, err := g.openRepository(ctx, sharedLock)
	if err != nil {
		return err
	}
	defer done()
	_, err = addKey(ctx, g, r, o)
	return err
}

// addKey asks for the new password and writes the key file.
func addKey(ctx context.Context, g *globalOptions, r *repo.Repository, o keyOptions) (repo.ID, error) {
	pw, err := newPassword(g, o.newPasswordFile)
	if err != nil {
		return repo.ID{}, err
	}
	id, err := r.AddKey(ctx, pw, crypto.Params{}, o.user, o.host)
	if err != nil {
		return repo.ID{}, fmt.Errorf("creating new key failed: %w", err)
	}
	g.printf("saved new key as %s\n", id)
	return id, nil
}

func keyRemove(ctx context.Context, g *globalOptions, prefix string) error {
	r, done, err := g.openRepository(ctx, exclusiveLock)
	if err != nil {
		return err
	}
	defer done()
	id, err := r.FindID(ctx, backend.KeyFile, prefix)
	if err != nil {
		return err
	}
	if err := r.RemoveKey(ctx, id); err != nil {
		return err
	}
	g.printf("removed key %s\n", id)
	return nil
}

// keyPasswd adds the new key before removing the old one, so an
// interruption never leaves the repository without a usable key.
func keyPasswd(ctx context.Context, g *globalOptions, o keyOptions) error {
	r, done, err := g.openRepository(ctx, exclusiveLock)
	if err != nil {
		return err
	}
	defer done()
	old := r.KeyID()
	id, err := addKey(ctx, g, r, o)
	if err != nil {
		return err
	}
	r.SetCurrentKey(id)
	if err := r.RemoveKey(ctx, old); err != nil {
		return fmt.Errorf("new key %s saved, but removing the old key failed: %w", id.Str(), err)
	}
	return nil
}

// newPassword reads the new password from a file, or asks for it twice on
// a terminal (once from a pipe), as restic does.
func newPassword(g *globalOptions, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read new password file: %w", err)
		}
		pw := strings.TrimSpace(string(b))
		if pw == "" {
			return "", errors.New("an empty password is not a password")
		}
		return pw, nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read new password: %w", err)
		}
		if pw := strings.TrimRight(line, "\r\n"); pw != "" {
			return pw, nil
		}
		return "", errors.New("an empty password is not a password")
	}
	pw, err := promptPassword(g.stderr, "enter new password: ")
	if err != nil {
		return "", err
	}
	again, err := promptPassword(g.stderr, "enter password again: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("passwords do not match")
	}
	if pw == "" {
		return "", errors.New("an empty password is not a password")
	}
	return pw, nil
}
