package crypto_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/testutil"
)

func TestSealOpenRoundTrip(t *testing.T) {
	k := crypto.NewRandomKey()
	for _, n := range []int{0, 1, 15, 16, 17, 1000, 1 << 20} {
		plain := testutil.RandomBytes(int64(n), n)
		sealed := k.Seal(nil, plain)
		if len(sealed) != n+crypto.Extension {
			t.Fatalf("sealed length %d, want %d", len(sealed), n+crypto.Extension)
		}
		if n > 16 && bytes.Contains(sealed, plain[:16]) {
			t.Fatal("ciphertext contains plaintext")
		}
		got, err := k.Open(nil, sealed)
		if err != nil {
			t.Fatalf("open %d bytes: %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("round trip of %d bytes differs", n)
		}
	}
}

func TestSealUsesFreshIVs(t *testing.T) {
	k := crypto.NewRandomKey()
	a, b := k.Seal(nil, []byte("same")), k.Seal(nil, []byte("same"))
	if bytes.Equal(a[:16], b[:16]) {
		t.Fatal("two seals used the same IV")
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	k := crypto.NewRandomKey()
	sealed := k.Seal(nil, []byte("some secret content"))
	for i := range sealed {
		bad := append([]byte(nil), sealed...)
		bad[i] ^= 0x01
		if _, err := k.Open(nil, bad); !errors.Is(err, crypto.ErrUnauthenticated) {
			t.Fatalf("flipped byte %d: err %v, want ErrUnauthenticated", i, err)
		}
	}
	if _, err := crypto.NewRandomKey().Open(nil, sealed); !errors.Is(err, crypto.ErrUnauthenticated) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := k.Open(nil, sealed[:31]); !errors.Is(err, crypto.ErrUnauthenticated) {
		t.Fatalf("short input: %v", err)
	}
	zeroIV := append(make([]byte, 16), sealed[16:]...)
	if _, err := k.Open(nil, zeroIV); !errors.Is(err, crypto.ErrUnauthenticated) {
		t.Fatalf("zero IV: %v", err)
	}
}

func TestMasterKeyJSON(t *testing.T) {
	k := crypto.NewRandomKey()
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{"mac":{"k":"`)) || !bytes.Contains(b, []byte(`"},"encrypt":"`)) {
		t.Fatalf("master key JSON not in restic's field order: %s", b)
	}
	var k2 crypto.Key
	if err := k2.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	sealed := k.Seal(nil, []byte("x"))
	if _, err := k2.Open(nil, sealed); err != nil {
		t.Fatalf("decoded key cannot open: %v", err)
	}
	if err := k2.UnmarshalJSON([]byte(`{"mac":{"k":"AAAA","r":"AAAA"},"encrypt":"AAAA"}`)); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestParamsCheck(t *testing.T) {
	for _, tc := range []struct {
		p  crypto.Params
		ok bool
	}{
		{crypto.Params{N: 32768, R: 8, P: 7}, true},
		{crypto.Params{N: 2, R: 1, P: 1}, true},
		{crypto.Params{N: 1, R: 8, P: 1}, false},
		{crypto.Params{N: 1000, R: 8, P: 1}, false},
		{crypto.Params{N: 1024, R: 0, P: 1}, false},
		{crypto.Params{N: 1024, R: 8, P: 0}, false},
		{crypto.Params{N: 1024, R: 1 << 20, P: 1 << 10}, false},
	} {
		if err := tc.p.Check(); (err == nil) != tc.ok {
			t.Errorf("%+v: Check() = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	master := crypto.NewRandomKey()
	p := crypto.Params{N: 1024, R: 8, P: 1}
	kf, err := crypto.NewKeyFile(master, "pw", p, "user", "host", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, err := kf.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(`{"created":`)) || !bytes.Contains(data, []byte(`"kdf":"scrypt","N":1024,"r":8,"p":1,"salt":"`)) {
		t.Fatalf("key file JSON not in restic's layout: %s", data)
	}
	kf2, err := crypto.ParseKeyFile(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := kf2.Open("pw")
	if err != nil {
		t.Fatal(err)
	}
	if got.EncryptionKey != master.EncryptionKey || got.MAC != master.MAC {
		t.Fatal("opened master key differs")
	}
	if _, err := kf2.Open("wrong"); !errors.Is(err, crypto.ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
}

// TestOpensResticKeyFile decrypts a key file written by restic 0.19.1 and
// uses the master key on that repository's config.
func TestOpensResticKeyFile(t *testing.T) {
	dir := filepath.Join(testutil.Fixture(t, "restic-0.19.1-v2"), "repo")
	keys, err := os.ReadDir(filepath.Join(dir, "keys"))
	if err != nil || len(keys) == 0 {
		t.Fatalf("fixture keys: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "keys", keys[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	kf, err := crypto.ParseKeyFile(data)
	if err != nil {
		t.Fatal(err)
	}
	master, err := kf.Open("geheim")
	if err != nil {
		t.Fatalf("open restic key file: %v", err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := master.Open(nil, cfg)
	if err != nil {
		t.Fatalf("decrypt config: %v", err)
	}
	if !bytes.HasPrefix(plain, []byte(`{"version":2,"id":"`)) {
		t.Fatalf("config plaintext: %s", plain)
	}
	if _, err := kf.Open("Geheim"); !errors.Is(err, crypto.ErrWrongPassword) {
		t.Fatalf("wrong password accepted or wrong error: %v", err)
	}
}

func FuzzParseKeyFile(f *testing.F) {
	f.Add([]byte(`{"created":"2020-01-01T00:00:00Z","kdf":"scrypt","N":1024,"r":8,"p":1,"salt":"` +
		string(bytes.Repeat([]byte("A"), 88)) + `","data":"AAAA"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"kdf":"pbkdf2"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := crypto.ParseKeyFile(data)
		if err != nil {
			return
		}
		if kf.Params().Check() == nil && kf.N <= 1024 && kf.R <= 8 && kf.P <= 2 {
			_, _ = kf.Open("pw") // must not panic
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	k := crypto.NewRandomKey()
	plain := testutil.RandomBytes(1, 1<<20)
	buf := make([]byte, 0, len(plain)+crypto.Extension)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		buf = k.Seal(buf[:0], plain)
	}
}

func BenchmarkOpen(b *testing.B) {
	k := crypto.NewRandomKey()
	sealed := k.Seal(nil, testutil.RandomBytes(1, 1<<20))
	buf := make([]byte, 0, len(sealed))
	b.SetBytes(int64(len(sealed) - crypto.Extension))
	for b.Loop() {
		var err error
		if buf, err = k.Open(buf[:0], sealed); err != nil {
			b.Fatal(err)
		}
	}
}

// OpenInPlace decrypts within the sealed bytes, and leaves damaged input
// as it was.
func TestOpenInPlace(t *testing.T) {
	k := crypto.NewRandomKey()
	for _, n := range []int{0, 1, 17, 1 << 20} {
		plain := testutil.RandomBytes(int64(n), n)
		sealed := k.Seal(nil, plain)
		got, err := k.OpenInPlace(sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: %v, or wrong plaintext", n, err)
		}
		if n > 0 && &got[0] != &sealed[crypto.IVSize] {
			t.Fatalf("%d bytes: plaintext not decrypted in place", n)
		}
	}
	sealed := k.Seal(nil, []byte("some plaintext"))
	sealed[20] ^= 1
	before := bytes.Clone(sealed)
	if _, err := k.OpenInPlace(sealed); !errors.Is(err, crypto.ErrUnauthenticated) {
		t.Fatalf("tampered: %v, want ErrUnauthenticated", err)
	}
	if !bytes.Equal(sealed, before) {
		t.Fatal("tampered input was changed")
	}
	if _, err := k.OpenInPlace(make([]byte, crypto.Extension-1)); !errors.Is(err, crypto.ErrUnauthenticated) {
		t.Fatalf("short input: %v, want ErrUnauthenticated", err)
	}
}
