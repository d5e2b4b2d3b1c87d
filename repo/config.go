package repo

import (
	"encoding/json"
	"fmt"

	"github.com/hbackup/hbackup/chunk"
)

// Repository format versions.
const (
	MinVersion    = 1
	MaxVersion    = 2
	StableVersion = 2
)

// Config is the repository's config file, in restic's field order.
type Config struct {
	Version           uint             `json:"version"`
	ID                string           `json:"id"`
	ChunkerPolynomial chunk.Polynomial `json:"chunker_polynomial"`
}

// parseConfig decodes and validates a config file's plaintext.
func parseConfig(data []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("decode config: %w", err)
	}
	if c.Version < MinVersion || c.Version > MaxVersion {
		return c, fmt.Errorf("unsupported repository version %d", c.Version)
	}
	if err := c.ChunkerPolynomial.Valid(); err != nil {
		return c, err
	}
	return c, nil
}

// Compression selects how data blobs are compressed in a version 2
// repository. Trees and metadata files are always compressed there.
type Compression int

// Compression modes, named as restic's --compression values.
const (
	CompressionAuto Compression = iota // zstd default level (the zero value)
	CompressionOff                     // data blobs stored uncompressed
	CompressionMax                     // zstd best compression
	CompressionFastest
	CompressionBetter
)

// ParseCompression parses restic's --compression values.
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "auto", "":
		return CompressionAuto, nil
	case "off":
		return CompressionOff, nil
	case "max":
		return CompressionMax, nil
	case "fastest":
		return CompressionFastest, nil
	case "better":
		return CompressionBetter, nil
	}
	return 0, fmt.Errorf("invalid compression mode %q (want auto, off, max, fastest or better)", s)
}

func (c Compression) String() string {
	return [...]string{"auto", "off", "max", "fastest", "better"}[c]
}
