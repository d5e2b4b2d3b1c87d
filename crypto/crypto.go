// Package crypto implements restic's authenticated encryption: AES-256-CTR
// with a Poly1305-AES MAC over the ciphertext, laid out as
// IV (16) || ciphertext || MAC (16).
package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/internal/poly1305x4"
)

const (
	ivSize  = 16
	macSize = 16
	// IVSize is the length of the IV that starts every sealed object.
	IVSize = ivSize
	// MACSize is the length of the MAC that ends every sealed object.
	MACSize = macSize
	// Extension is the number of bytes Seal adds to a plaintext.
	Extension = ivSize + macSize
)

// ErrUnauthenticated means the MAC did not match: wrong key or damaged data.
var ErrUnauthenticated = errors.New("ciphertext verification failed")

// MACKey is the Poly1305-AES key: K encrypts the nonce into s, R is r.
type MACKey struct {
	K [16]byte
	R [16]byte
}

// Key is a restic crypto key: the master key of a repository, or the user
// key derived from a password. Create one with NewRandomKey, KDF or by
// unmarshalling the master key JSON.
type Key struct {
	EncryptionKey [32]byte
	MAC           MACKey

	enc cipher.Block // AES-256 with EncryptionKey
	mac cipher.Block // AES-128 with MAC.K
}

// NewRandomKey returns a new key from the system's CSPRNG.
func NewRandomKey() *Key {
	k := &Key{}
	for !k.Valid() {
		mustRandom(k.EncryptionKey[:])
		mustRandom(k.MAC.K[:])
		mustRandom(k.MAC.R[:])
		clampR(&k.MAC.R) // harmless, and what restic <=0.16 stores
	}
	k.init()
	return k
}

// keyFromBytes builds a key from 64 bytes: 32 encryption, 16 K, 16 R.
func keyFromBytes(b []byte) *Key {
	k := &Key{}
	copy(k.EncryptionKey[:], b[:32])
	copy(k.MAC.K[:], b[32:48])
	copy(k.MAC.R[:], b[48:64])
	k.init()
	return k
}

func (k *Key) init() {
	var err error
	if k.enc, err = aes.NewCipher(k.EncryptionKey[:]); err != nil {
		panic(err) // cannot happen: the key length is fixed
	}
	if k.mac, err = aes.NewCipher(k.MAC.K[:]); err != nil {
		panic(err)
	}
}

// Valid reports whether no part of the key is all zero, as restic requires.
func (k *Key) Valid() bool {
	return !allZero(k.EncryptionKey[:]) && !allZero(k.MAC.K[:]) && !allZero(k.MAC.R[:])
}

// Seal encrypts plaintext with a fresh random IV and appends
// IV || ciphertext || MAC to dst. dst and plaintext must not overlap unless
// dst[len(dst):] is exactly plaintext shifted by ivSize, as with
// SealInPlace.
func (k *Key) Seal(dst, plaintext []byte) []byte {
	ret, out := sliceForAppend(dst, len(plaintext)+Extension)
	iv := out[:ivSize]
	for allZero(iv) {
		mustRandom(iv)
	}
	ct := out[ivSize : ivSize+len(plaintext)]
	cipher.NewCTR(k.enc, iv).XORKeyStream(ct, plaintext)
	tag := k.poly1305(iv, ct)
	copy(out[ivSize+len(plaintext):], tag[:])
	return ret
}

// SealInPlace encrypts buf[IVSize:] in place: buf's first IVSize bytes
// are overwritten with a fresh IV and the MAC is appended, so no second
// buffer is needed. It returns the sealed bytes (buf extended by MACSize,
// reallocated only if buf lacks the capacity).
func (k *Key) SealInPlace(buf []byte) []byte {
	if len(buf) < IVSize {
		panic("crypto: SealInPlace needs room for the IV")
	}
	iv := buf[:IVSize]
	mustRandom(iv)
	for allZero(iv) {
		mustRandom(iv)
	}
	ct := buf[IVSize:]
	cipher.NewCTR(k.enc, iv).XORKeyStream(ct, ct)
	tag := k.poly1305(iv, ct)
	return append(buf, tag[:]...)
}

// SealInto encrypts plaintext like Seal, but writes IV || ciphertext ||
// MAC across the pieces of dst in order, whose lengths must add up to
// len(plaintext)+Extension: a blob sealed straight into the memory
// blocks of a pack, with no contiguous copy to move there afterwards.
// plaintext must not overlap dst.
func (k *Key) SealInto(dst [][]byte, plaintext []byte) {
	total := 0
	for _, d := range dst {
		total += len(d)
	}
	if total != len(plaintext)+Extension {
		panic(fmt.Sprintf("crypto: SealInto: pieces of %d bytes for %d", total, len(plaintext)+Extension))
	}
	var iv [ivSize]byte
	for allZero(iv[:]) {
		mustRandom(iv[:])
	}
	var otk [32]byte
	copy(otk[:16], k.MAC.R[:])
	k.mac.Encrypt(otk[16:], iv[:])
	mac := poly1305x4.New(&otk)
	ctr := cipher.NewCTR(k.enc, iv[:])
	w := pieceWriter{pieces: dst}
	w.write(iv[:])
	for len(plaintext) > 0 {
		out := w.next(len(plaintext))
		ctr.XORKeyStream(out, plaintext[:len(out)])
		_, _ = mac.Write(out) // never fails
		plaintext = plaintext[len(out):]
	}
	var tag [16]byte
	mac.Sum(&tag)
	w.write(tag[:])
}

// pieceWriter fills a list of byte slices in order.
type pieceWriter struct {
	pieces [][]byte
	off    int // in pieces[0]
}

// next returns the next at most n bytes to fill, and counts them filled.
func (w *pieceWriter) next(n int) []byte {
	for w.off == len(w.pieces[0]) {
		w.pieces, w.off = w.pieces[1:], 0
	}
	out := w.pieces[0][w.off:min(len(w.pieces[0]), w.off+n)]
	w.off += len(out)
	return out
}

func (w *pieceWriter) write(b []byte) {
	for len(b) > 0 {
		b = b[copy(w.next(len(b)), b):]
	}
}

// Open verifies and decrypts IV || ciphertext || MAC, appending the
// plaintext to dst. It returns ErrUnauthenticated if the MAC is wrong.
func (k *Key) Open(dst, sealed []byte) ([]byte, error) {
	if len(sealed) < Extension {
		return nil, fmt.Errorf("encrypted data too short (%d bytes): %w", len(sealed), ErrUnauthenticated)
	}
	iv := sealed[:ivSize]
	if allZero(iv) {
		return nil, fmt.Errorf("all-zero IV: %w", ErrUnauthenticated)
	}
	ct := sealed[ivSize : len(sealed)-macSize]
	tag := k.poly1305(iv, ct)
	if subtle.ConstantTimeCompare(tag[:], sealed[len(sealed)-macSize:]) != 1 {
		return nil, ErrUnauthenticated
	}
	ret, out := sliceForAppend(dst, len(ct))
	cipher.NewCTR(k.enc, iv).XORKeyStream(out, ct)
	return ret, nil
}

// OpenInPlace verifies IV || ciphertext || MAC and decrypts the
// ciphertext where it lies, so no second buffer is needed: it returns
// the plaintext as the slice of sealed between IV and MAC. On error
// sealed is unchanged (the MAC is checked before anything is written).
func (k *Key) OpenInPlace(sealed []byte) ([]byte, error) {
	if len(sealed) < Extension {
		return k.Open(nil, sealed) // reports the short input
	}
	// Open appends to dst: an empty slice starting at the ciphertext
	// makes its output overlap its input exactly, which CTR allows.
	return k.Open(sealed[ivSize:ivSize], sealed)
}

// poly1305 computes Poly1305-AES: s = AES-128(K, IV), key = r || s.
func (k *Key) poly1305(iv, msg []byte) [16]byte {
	var otk [32]byte
	copy(otk[:16], k.MAC.R[:])
	k.mac.Encrypt(otk[16:], iv) // poly1305x4 clamps r itself
	var tag [16]byte
	poly1305x4.Sum(&tag, msg, &otk)
	return tag
}

type masterKeyJSON struct {
	MAC struct {
		K []byte `json:"k"`
		R []byte `json:"r"`
	} `json:"mac"`
	Encrypt []byte `json:"encrypt"`
}

// MarshalJSON encodes the key as restic's master key JSON
// {"mac":{"k":…,"r":…},"encrypt":…}.
func (k *Key) MarshalJSON() ([]byte, error) {
	var j masterKeyJSON
	j.MAC.K = k.MAC.K[:]
	j.MAC.R = k.MAC.R[:]
	j.Encrypt = k.EncryptionKey[:]
	return json.Marshal(j)
}

// UnmarshalJSON decodes restic's master key JSON.
func (k *Key) UnmarshalJSON(data []byte) error {
	var j masterKeyJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode master key: %w", err)
	}
	if len(j.MAC.K) != 16 || len(j.MAC.R) != 16 || len(j.Encrypt) != 32 {
		return errors.New("decode master key: wrong key lengths")
	}
	copy(k.MAC.K[:], j.MAC.K)
	copy(k.MAC.R[:], j.MAC.R)
	copy(k.EncryptionKey[:], j.Encrypt)
	if !k.Valid() {
		return errors.New("decode master key: key is all zero")
	}
	k.init()
	return nil
}

func clampR(r *[16]byte) {
	r[3] &= 15
	r[7] &= 15
	r[11] &= 15
	r[15] &= 15
	r[4] &= 252
	r[8] &= 252
	r[12] &= 252
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func mustRandom(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
}

// sliceForAppend extends in by n bytes, returning the whole slice and the
// new tail.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}
