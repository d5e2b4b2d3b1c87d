package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hbackup/hbackup/crypto"
)

// kdfSample is bound-kdf: scrypt with the parameters and salt of the key
// file at path, once, in this fresh process, as every tool command does
// before it can open the repository. The password does not change the
// work. hbackup's scrypt runs the lanes in parallel, the fastest way this
// project knows; a faster one would lower the bound.
func kdfSample(path string) (sample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return sample{}, fmt.Errorf("bound-kdf: %w", err)
	}
	kf, err := crypto.ParseKeyFile(data)
	if err != nil {
		return sample{}, fmt.Errorf("bound-kdf: %s: %w", path, err)
	}
	params := crypto.Params{N: kf.N, R: kf.R, P: kf.P}
	return measure(func() (int64, error) {
		_, err := crypto.KDF(params, kf.Salt, "any password")
		return 0, err
	})
}

// statSample is bound-stat: every directory of the data set listed and
// every entry lstat'ed, by n workers taking the next directory, as a
// backup that finds nothing changed must at least do. The directories are
// found before timing.
func statSample(ctx context.Context, dir string, n int) (sample, error) {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return err
	})
	if err != nil {
		return sample{}, fmt.Errorf("bound-stat: %w", err)
	}
	return measure(func() (int64, error) {
		// eachFile hands out the directories as it does files.
		return eachFile(ctx, n, len(dirs), func(i int, _ []byte) (int64, error) {
			entries, err := os.ReadDir(dirs[i])
			for _, e := range entries {
				if err != nil {
					break
				}
				_, err = os.Lstat(filepath.Join(dirs[i], e.Name()))
			}
			if err != nil {
				return 0, fmt.Errorf("bound-stat: %w", err)
			}
			return 0, nil
		})
	})
}
