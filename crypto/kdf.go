package crypto

import (
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/crypto/scrypt"
)

// SaltSize is the salt length restic requires in key files.
const SaltSize = 64

// Params are scrypt cost parameters as stored in a key file.
type Params struct {
	N int
	R int
	P int
}

// DefaultParams are used when calibration fails, as in restic.
var DefaultParams = Params{N: 16384, R: 8, P: 1}

// Check validates parameters with the same rules restic applies.
func (p Params) Check() error {
	switch {
	case p.N <= 1 || p.N%2 != 0 || p.N&(p.N-1) != 0:
		return fmt.Errorf("scrypt N=%d must be a power of two greater than 1", p.N)
	case p.N > math.MaxInt32:
		return fmt.Errorf("scrypt N=%d too large", p.N)
	case p.R < 1 || p.P < 1:
		return fmt.Errorf("scrypt r=%d, p=%d must be at least 1", p.R, p.P)
	case uint64(p.R)*uint64(p.P) >= 1<<30:
		return fmt.Errorf("scrypt r*p too large")
	case p.R > math.MaxInt/128/p.P || p.R > math.MaxInt/256 || p.N > math.MaxInt/128/p.R:
		return fmt.Errorf("scrypt parameters too large")
	}
	return nil
}

// KDF derives the user key from a password with scrypt, as restic does.
func KDF(p Params, salt []byte, password string) (*Key, error) {
	if len(salt) != SaltSize {
		return nil, fmt.Errorf("scrypt salt has %d bytes, want %d", len(salt), SaltSize)
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	b, err := scryptKey([]byte(password), salt, p.N, p.R, p.P, 64)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	return keyFromBytes(b), nil
}

// NewSalt returns a random salt for a new key file.
func NewSalt() []byte {
	b := make([]byte, SaltSize)
	mustRandom(b)
	return b
}

// Calibrate picks scrypt parameters the way restic does: r=8, the largest
// power-of-two N that fits in maxMemory, halved while one run exceeds
// timeout, then p raised until a run takes about timeout. It times the
// sequential reference implementation, so it picks what restic would
// pick; KDF then runs the lanes in parallel.
func Calibrate(timeout time.Duration, maxMemory int) (Params, error) {
	if timeout <= 0 || maxMemory <= 0 {
		return Params{}, errors.New("calibrate: timeout and memory must be positive")
	}
	p := Params{N: 1 << 10, R: 8, P: 1}
	for 128*p.R*p.N*2 <= maxMemory {
		p.N *= 2
	}
	salt := NewSalt()
	measure := func(p Params) time.Duration {
		start := time.Now()
		_, _ = scrypt.Key([]byte("calibrate"), salt, p.N, p.R, p.P, 64)
		return time.Since(start)
	}
	d := measure(p)
	for d > timeout && p.N > 1<<10 {
		p.N /= 2
		d = measure(p)
	}
	if d <= 0 {
		d = time.Nanosecond
	}
	if extra := int(timeout/d) - 1; extra > 0 {
		p.P += extra
	}
	if err := p.Check(); err != nil {
		return DefaultParams, err
	}
	return p, nil
}
