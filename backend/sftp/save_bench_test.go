package sftp

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/internal/testutil"
)

// BenchmarkSave uploads 16 MiB packs to a real sshd on 127.0.0.1 from
// several goroutines at once, as a backup does.
func BenchmarkSave(b *testing.B) {
	s := testutil.StartSSHD(b, testutil.SSHDOptions{})
	data := make([]byte, 16<<20)
	_, _ = rand.Read(data)
	for _, uploaders := range []int{1, 2, 5} {
		b.Run(fmt.Sprintf("uploaders=%d", uploaders), func(b *testing.B) {
			cfg := testConfig(s, filepath.Join(b.TempDir(), "repo"))
			be, err := New(b.Context(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer be.Close()
			if err := be.Create(b.Context()); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)) * int64(uploaders))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				var wg sync.WaitGroup
				errs := make([]error, uploaders)
				for u := range uploaders {
					wg.Go(func() {
						name := fmt.Sprintf("%02x%062d", u, i)
						errs[u] = be.Save(b.Context(), backend.Handle{Type: backend.PackFile, Name: name}, backend.NewByteReader(data))
					})
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
