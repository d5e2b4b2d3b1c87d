package repo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// ID is a SHA-256 hash: the name of a stored file (hash of its bytes) or of
// a blob (hash of its plaintext).
type ID [32]byte

// Hash returns the SHA-256 of data.
func Hash(data []byte) ID { return sha256.Sum256(data) }

// ParseID decodes 64 hex characters.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 64 {
		return id, fmt.Errorf("invalid ID %q: want 64 hex characters", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("invalid ID %q: %w", s, err)
	}
	return id, nil
}

// String returns the lowercase hex form.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Str returns the short 8-character form shown to users.
func (id ID) Str() string { return hex.EncodeToString(id[:4]) }

// IsNull reports whether the ID is all zero.
func (id ID) IsNull() bool { return id == ID{} }

// MarshalJSON encodes the ID as a JSON string of lowercase hex.
func (id ID) MarshalJSON() ([]byte, error) {
	buf := make([]byte, 66)
	buf[0], buf[65] = '"', '"'
	hex.Encode(buf[1:65], id[:])
	return buf, nil
}

// UnmarshalJSON decodes a JSON string of 64 hex characters.
func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("invalid ID: %w", err)
	}
	v, err := ParseID(s)
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// IDs is a list of IDs.
type IDs []ID
