package crypto

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// KeyFile is the JSON of a restic key file (keys/<id>), in restic's field
// order. It is stored unencrypted; Data holds the sealed master key.
type KeyFile struct {
	Created  time.Time `json:"created"`
	Username string    `json:"username"`
	Hostname string    `json:"hostname"`
	KDF      string    `json:"kdf"`
	N        int       `json:"N"`
	R        int       `json:"r"`
	P        int       `json:"p"`
	Salt     []byte    `json:"salt"`
	Data     []byte    `json:"data"`
}

// ErrWrongPassword is returned when a key file cannot be opened with the
// given password.
var ErrWrongPassword = errors.New("wrong password or no key found")

// NewKeyFile wraps master in a new key file protected by password.
func NewKeyFile(master *Key, password string, p Params, username, hostname string, created time.Time) (*KeyFile, error) {
	salt := NewSalt()
	user, err := KDF(p, salt, password)
	if err != nil {
		return nil, err
	}
	plain, err := master.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return &KeyFile{
		Created:  created,
		Username: username,
		Hostname: hostname,
		KDF:      "scrypt",
		N:        p.N, R: p.R, P: p.P,
		Salt: salt,
		Data: user.Seal(nil, plain),
	}, nil
}

// ParseKeyFile decodes a key file's JSON.
func ParseKeyFile(data []byte) (*KeyFile, error) {
	var kf KeyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("decode key file: %w", err)
	}
	if kf.KDF != "scrypt" {
		return nil, fmt.Errorf("key file: unsupported KDF %q", kf.KDF)
	}
	if len(kf.Salt) != SaltSize {
		return nil, fmt.Errorf("key file: salt has %d bytes, want %d", len(kf.Salt), SaltSize)
	}
	return &kf, nil
}

// Params returns the key file's scrypt parameters.
func (kf *KeyFile) Params() Params { return Params{N: kf.N, R: kf.R, P: kf.P} }

// Open derives the user key from password and decrypts the master key.
// A wrong password gives an error wrapping ErrWrongPassword.
func (kf *KeyFile) Open(password string) (*Key, error) {
	user, err := KDF(kf.Params(), kf.Salt, password)
	if err != nil {
		return nil, err
	}
	plain, err := user.Open(nil, kf.Data)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			return nil, ErrWrongPassword
		}
		return nil, err
	}
	master := &Key{}
	if err := master.UnmarshalJSON(plain); err != nil {
		return nil, err
	}
	return master, nil
}

// Marshal encodes the key file as restic does (json.Marshal, no newline).
func (kf *KeyFile) Marshal() ([]byte, error) { return json.Marshal(kf) }
