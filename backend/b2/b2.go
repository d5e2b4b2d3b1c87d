// Package b2 stores a restic repository in a Backblaze B2 bucket through
// B2's native API (version 2), spoken directly over net/http.
//
// Files are laid out as restic lays them out, below an optional prefix:
// "<prefix>/config", "<prefix>/data/<xx>/<id>", "<prefix>/keys/<id>", …
// B2 has no directories, so Create writes nothing.
//
// The backend follows B2's documented retry rules itself, because only
// it knows the API's state: an upload failing with a network error, 408
// or 5xx is retried on a new upload URL; a 429 or 503 with Retry-After is
// retried after waiting that long; an expired token is renewed by
// authorizing again. After a few such attempts, and for all other
// transient failures, the error is returned unmarked so that
// backend/retry can back off; failures retrying cannot fix (bad
// credentials, a key restricted to another bucket, an exceeded cap) are
// marked with backend.Permanent.
package b2

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Defaults.
const (
	// DefaultConnections is restic's default for -o b2.connections.
	DefaultConnections = 5
	// DefaultEndpoint is where b2_authorize_account is called.
	DefaultEndpoint = "https://api.backblazeb2.com"
	// DefaultLargeFileThreshold is the size from which a file is uploaded
	// in parts (B2 recommends parts of 100 MB).
	DefaultLargeFileThreshold = 100 << 20
)

// maxTries bounds the attempts the backend makes on its own (new upload
// URL, Retry-After, new token) before handing a transient error back.
const maxTries = 5

// maxRetryAfter caps how long a Retry-After answer makes us wait.
const maxRetryAfter = 5 * time.Minute

// Config configures a B2 backend.
type Config struct {
	// AccountID and Key are the application key ID (or the account ID
	// for the master key) and the application key (restic reads them
	// from B2_ACCOUNT_ID and B2_ACCOUNT_KEY).
	AccountID, Key string
	// Bucket is the bucket's name. A key restricted to one bucket must
	// name that bucket.
	Bucket string
	// Prefix is the repository's path inside the bucket; empty means the
	// bucket's root. Leading and trailing slashes are ignored.
	Prefix string
	// Connections is the number of concurrent requests callers should
	// make; zero means DefaultConnections. backend/limit enforces it.
	Connections int
	// HardDelete makes Remove delete every version of a file. When false,
	// Remove hides the file instead (B2 keeps the data until a lifecycle
	// rule removes it), which protects against deletion by a stolen key
	// with no deleteFiles capability. The hbackup command sets it true.
	HardDelete bool
	// Endpoint replaces DefaultEndpoint (for tests against an emulator).
	Endpoint string
	// LargeFileThreshold is the size from which Save uploads in parts;
	// zero means DefaultLargeFileThreshold.
	LargeFileThreshold int64
	// PartSize is the size of each part of a large file; zero means the
	// size B2 recommends when authorizing. It is raised to B2's minimum.
	PartSize int64
	// Transport, if set, replaces the default HTTP transport.
	Transport http.RoundTripper
}

// session is what b2_authorize_account returned.
type session struct {
	gen         int // increases with every authorization
	accountID   string
	token       string
	apiURL      string
	downloadURL string
	partSize    int64
	minPartSize int64
	allowed     allowed
}

// allowed is the authorization's restriction; empty for the master key.
type allowed struct {
	BucketID     string   `json:"bucketId"`
	BucketName   string   `json:"bucketName"`
	NamePrefix   string   `json:"namePrefix"`
	Capabilities []string `json:"capabilities"`
}

// uploadTarget is an upload URL with its token. B2 allows one upload at
// a time on each.
type uploadTarget struct {
	url, token string
}

// Backend is a repository in a B2 bucket. It is safe for concurrent use.
type Backend struct {
	cfg      Config
	client   *http.Client
	prefix   string // "" or ending in "/"
	bucketID string
	location string

	authMu sync.Mutex // serializes re-authorizations
	mu     sync.Mutex
	sess   *session
	idle   []uploadTarget // upload URLs free for reuse
}

var _ backend.Backend = (*Backend)(nil)

// New authorizes with B2 and finds the bucket. A key restricted to
// another bucket, or to a name prefix outside Prefix, is refused here
// with a permanent error.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.AccountID == "" || cfg.Key == "" {
		return nil, backend.Permanent(fmt.Errorf("b2: %w: no account ID or key (set B2_ACCOUNT_ID and B2_ACCOUNT_KEY)", ErrUnauthorized))
	}
	if cfg.Bucket == "" {
		return nil, backend.Permanent(errors.New("b2: no bucket name"))
	}
	if cfg.Connections <= 0 {
		cfg.Connections = DefaultConnections
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	cfg.Endpoint = strings.TrimSuffix(cfg.Endpoint, "/")
	if cfg.LargeFileThreshold <= 0 {
		cfg.LargeFileThreshold = DefaultLargeFileThreshold
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	b := &Backend{cfg: cfg, location: "b2:" + cfg.Bucket + ":" + prefix}
	if prefix != "" {
		b.prefix = prefix + "/"
	}
	b.client = &http.Client{Transport: cfg.Transport}
	if cfg.Transport == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Connections + 2
		// An upload accepted whole but never answered would otherwise
		// hang a backup; the timer starts once the request is sent.
		tr.ResponseHeaderTimeout = 10 * time.Minute
		b.client.Transport = tr
	}
	if err := b.reauthorize(ctx, 0); err != nil {
		return nil, fmt.Errorf("b2: %w", err)
	}
	if err := b.findBucket(ctx); err != nil {
		return nil, fmt.Errorf("b2: %w", err)
	}
	return b, nil
}

// findBucket sets bucketID, from the key's restriction or by listing.
func (b *Backend) findBucket(ctx context.Context) error {
	s := b.session()
	if a := s.allowed; a.BucketID != "" {
		if a.BucketName != b.cfg.Bucket {
			return backend.Permanent(fmt.Errorf("%w: the application key is restricted to bucket %q, not %q",
				ErrUnauthorized, a.BucketName, b.cfg.Bucket))
		}
		if a.NamePrefix != "" && !strings.HasPrefix(b.prefix, a.NamePrefix) {
			return backend.Permanent(fmt.Errorf("%w: the application key is restricted to names starting with %q, the repository is at %q",
				ErrUnauthorized, a.NamePrefix, b.prefix))
		}
		b.bucketID = a.BucketID
		return nil
	}
	var out struct {
		Buckets []struct {
			BucketID   string `json:"bucketId"`
			BucketName string `json:"bucketName"`
		} `json:"buckets"`
	}
	in := map[string]string{"accountId": s.accountID, "bucketName": b.cfg.Bucket}
	if err := b.apiCall(ctx, "b2_list_buckets", in, &out); err != nil {
		return fmt.Errorf("finding bucket %q: %w", b.cfg.Bucket, err)
	}
	for _, bk := range out.Buckets {
		if bk.BucketName == b.cfg.Bucket {
			b.bucketID = bk.BucketID
			return nil
		}
	}
	return backend.Permanent(fmt.Errorf("bucket %q does not exist or the key cannot see it (create it in the B2 web interface or with the b2 tool)", b.cfg.Bucket))
}

// Location returns "b2:bucket:prefix", as restic writes it.
func (b *Backend) Location() string { return b.location }

// Properties implements backend.Backend. Uploading a name again adds a
// newer version, which readers see at once in full: an atomic replace.
func (b *Backend) Properties() backend.Properties {
	return backend.Properties{Connections: b.cfg.Connections, HasAtomicReplace: true}
}

// Close releases idle connections.
func (b *Backend) Close() error {
	b.client.CloseIdleConnections()
	return nil
}

// Create checks that no repository exists at the location. B2 has no
// directories, so there is nothing to make.
func (b *Backend) Create(ctx context.Context) error {
	_, err := b.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	switch {
	case err == nil:
		return fmt.Errorf("create %s: %w", b.location, backend.Permanent(backend.ErrAlreadyExists))
	case !errors.Is(err, backend.ErrNotExist):
		return fmt.Errorf("create %s: %w", b.location, err)
	}
	return nil
}

// fileName returns h's name in the bucket.
func (b *Backend) fileName(h backend.Handle) string {
	return b.prefix + layout.Filename(h)
}
