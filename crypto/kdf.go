package crypto

import (
	"errors"
	"fmt"
	"math"
	"runtime"
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

// Calibrate picks scrypt parameters the way restic does (its calibration
// comes from github.com/elithrar/simple-scrypt): r=8; N the largest power
// of two whose lane (128*r*N bytes) stays under maxMemory, halved while one
// lane takes longer than timeout; p lanes so that a run takes about
// timeout, lowered again while a run of p lanes takes longer. It times the
// sequential reference implementation, so it picks what restic would pick;
// KDF then runs the lanes in parallel.
//
// The one-lane timing is the faster of two runs: a process's first run is
// about 3x slower while the Go heap faults its memory in. One
// cold timing made `hbackup init` pick p=2 where restic's init picked
// p=5..7 on the same machine, giving hbackup's keys a third of the scrypt
// work of restic's.
func Calibrate(timeout time.Duration, maxMemory int) (Params, error) {
	salt := NewSalt()
	return calibrate(timeout, maxMemory, func(p Params) time.Duration {
		start := time.Now()
		_, _ = scrypt.Key([]byte("calibrate"), salt, p.N, p.R, p.P, 64)
		d := time.Since(start)
		// Collected now, this run's memory serves the next one, which
		// then runs warm instead of faulting in memory of its own.
		runtime.GC()
		return d
	})
}

// calibrateRuns is how many timings of one lane Calibrate takes the
// fastest of.
const calibrateRuns = 2

// calibrate is Calibrate with the timing of one scrypt run given, so that
// tests can drive it with a deterministic clock.
func calibrate(timeout time.Duration, maxMemory int, run func(Params) time.Duration) (Params, error) {
	if timeout <= 0 || maxMemory <= 0 {
		return Params{}, errors.New("calibrate: timeout and memory must be positive")
	}
	measure := func(p Params) time.Duration {
		best := run(p)
		for range calibrateRuns - 1 {
			best = min(best, run(p))
		}
		return max(best, time.Nanosecond)
	}
	p := Params{N: 2, R: 8, P: 1}
	for 128*p.R*p.N*2 < maxMemory {
		p.N *= 2
	}
	d := measure(p)
	for d > timeout && p.N > 2 {
		p.N /= 2
		d = measure(p)
	}
	p.P = max(1, int(timeout/d))
	for p.P > 1 {
		// One run: the heap is warm by now.
		d = run(p)
		if d <= timeout {
			break
		}
		// Too slow with p lanes: scale p down by the time one lane took.
		p.P = max(1, min(p.P-1, int(timeout/(d/time.Duration(p.P)))))
	}
	if err := p.Check(); err != nil {
		return DefaultParams, err
	}
	return p, nil
}
