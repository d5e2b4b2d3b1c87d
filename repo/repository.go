// Package repo reads and writes restic repositories: config and keys,
// encrypted and compressed blobs in pack files, index files, snapshots and
// locks, on any backend.Backend.
package repo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/crypto"
	"github.com/klauspost/compress/zstd"
)

// Pack size limits, as restic's --pack-size (MiB).
const (
	DefaultPackSize = 16 << 20
	MinPackSize     = 4 << 20
	MaxPackSize     = 128 << 20
)

// maxKeysTried mirrors restic: at most 20 key files are tried on open.
const maxKeysTried = 20

// Options tune how a repository is written. The zero value is restic's
// default behaviour.
type Options struct {
	Compression Compression
	// PackSize is the target pack size in bytes (0: DefaultPackSize).
	PackSize int
	// KeyHint names a key file (ID or prefix) to try first.
	KeyHint string
	Logger  *slog.Logger
	// Cache, if set, is called once the repository's ID is known (cache
	// directories are per repository) and returns the backend to use
	// from then on, typically a backend/cache.Backend keeping metadata on
	// local disk. If that backend is a PackCache, tree packs go through it.
	Cache func(repoID string, be backend.Backend) backend.Backend
	// SpoolSize bounds the bytes of data packs that may wait on local
	// disk for upload when the backend Cache returns is a Spooler (see
	// spool.go): 0 means DefaultSpoolSize, a negative size no spool.
	// Only packs held in memory (remote backends) are ever spooled.
	SpoolSize int64
}

// PackCache is implemented by a caching backend (backend/cache.Backend)
// that keeps whole copies of the packs holding tree blobs, as restic
// does: only the repository knows from its index which packs those are.
type PackCache interface {
	// LoadCached is Load for a pack known to hold tree blobs: the whole
	// pack is cached, if it is not yet, and the range read from the copy.
	LoadCached(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error
	// AddCached stores a tree pack this process has just uploaded.
	AddCached(ctx context.Context, h backend.Handle, data []byte)
}

// InitOptions choose the format of a new repository.
type InitOptions struct {
	// Version is 1 or 2; 0 means StableVersion (2).
	Version uint
	// Polynomial for the chunker; 0 picks a random one. Copy another
	// repository's polynomial to deduplicate across the two.
	Polynomial chunk.Polynomial
	// KDF parameters for the first key; zero value calibrates as restic.
	KDF crypto.Params
	// Username and Hostname recorded in the key file; empty uses the
	// current user and host.
	Username, Hostname string
}

// Repository is an open restic repository. It is safe for concurrent use.
type Repository struct {
	be     backend.Backend // gate, in front of the backend given
	gate   *lockGate
	key    *crypto.Key
	keyID  ID
	cfg    Config
	opts   Options
	logger *slog.Logger

	idx *MasterIndex

	enc      *encoderPool // for data blobs, per Options.Compression
	encMeta  *encoderPool // trees and unpacked files: encProbe's, or enc's for better/max
	encProbe *encoderPool // fastest level, for the compressibility probe
	dec      *decoderPool
	// compressAll: compress every blob stored from plaintext, without the
	// probe and even when it does not shrink (repack writers).
	compressAll bool

	packerMu  sync.Mutex
	packers   map[BlobType]*packerSet
	pending   map[BlobHandle]struct{} // blobs in open packers or uploads
	unsaved   *pendingIndex           // packs uploaded but not yet in an index file
	freePacks chan []byte             // data pack buffers for reuse; its capacity bounds them
	// packerOpened is closed (and replaced) when a data packer opens, to
	// wake savers waiting for a buffer: the new pack may take their blobs.
	packerOpened chan struct{}
	packBuffers  atomic.Int64 // data pack buffers in existence
	uploadSlots  chan struct{}
	buildFiles   atomic.Int32                    // data packs: 0 unknown, 1 built in place, -1 in memory (see newDataPacker)
	liveFiles    map[backend.PendingFile]*packer // packs built in place, not yet committed or aborted
	stages       *stagePool                      // buffers for packs built in place
	direct       *directWrites                   // for packs built in place with direct writes (packblocks.go)
	// pairedPackHash counts bytes of packs built in place hashed
	// together with another pack's (packhash.go), for tests.
	pairedPackHash atomic.Int64

	uploads     sync.WaitGroup // pack uploads in flight
	uploadErrMu sync.Mutex
	uploadErr   error // first failed upload; the repository stops writing

	// The upload spool (spool.go), when spoolDir is set: turns bound
	// the data pack uploads at once, spoolUsed counts spooled bytes.
	spoolDir  string
	spoolSize int64
	spoolUsed atomic.Int64
	spoolWarn sync.Once
	turns     chan struct{}

	scratchPool  sync.Pool // *scratch, per concurrent SaveBlob
	decoders     sync.Pool // *BlobDecoder, per concurrent pack reader
	pairDecoders sync.Pool // *BlobDecoder for the second hash lane of a pack stream, for blobs up to maxPairedBlob
}

// Init creates a new repository on be, protected by password.
func Init(ctx context.Context, be backend.Backend, password string, opts InitOptions) (*Repository, error) {
	if password == "" {
		return nil, errors.New("an empty password is not a password")
	}
	if _, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile}); err == nil {
		return nil, fmt.Errorf("%s: %w", be.Location(), ErrRepositoryExists)
	} else if !errors.Is(err, backend.ErrNotExist) {
		return nil, fmt.Errorf("check for existing config: %w", err)
	}
	version := opts.Version
	if version == 0 {
		version = StableVersion
	}
	if version < MinVersion || version > MaxVersion {
		return nil, fmt.Errorf("unsupported repository version %d", version)
	}
	pol := opts.Polynomial
	if pol == 0 {
		var err error
		if pol, err = chunk.RandomPolynomial(); err != nil {
			return nil, fmt.Errorf("choose chunker polynomial: %w", err)
		}
	}
	if err := pol.Valid(); err != nil {
		return nil, err
	}
	var rid [32]byte
	if _, err := rand.Read(rid[:]); err != nil {
		return nil, err
	}
	cfg := Config{Version: version, ID: hex.EncodeToString(rid[:]), ChunkerPolynomial: pol}

	if err := be.Create(ctx); err != nil {
		return nil, fmt.Errorf("create repository at %s: %w", be.Location(), err)
	}
	r, err := newRepository(be, crypto.NewRandomKey(), cfg, Options{})
	if err != nil {
		return nil, err
	}
	// Order as restic: key file first, then config.
	keyID, err := r.AddKey(ctx, password, opts.KDF, opts.Username, opts.Hostname)
	if err != nil {
		return nil, err
	}
	r.keyID = keyID
	if err := r.saveConfig(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Open opens an existing repository with password.
func Open(ctx context.Context, be backend.Backend, password string, opts Options) (*Repository, error) {
	if _, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile}); err != nil {
		if errors.Is(err, backend.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", be.Location(), ErrNoRepository)
		}
		return nil, fmt.Errorf("open repository %s: %w", be.Location(), err)
	}
	master, keyID, err := openKey(ctx, be, password, opts.KeyHint)
	if err != nil {
		return nil, err
	}
	sealed, err := backend.LoadAll(ctx, be, backend.Handle{Type: backend.ConfigFile})
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	plain, err := master.Open(nil, sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrIntegrity, err)
	}
	cfg, err := parseConfig(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrIntegrity, err)
	}
	if opts.Cache != nil {
		be = opts.Cache(cfg.ID, be)
	}
	r, err := newRepository(be, master, cfg, opts)
	if err != nil {
		return nil, err
	}
	r.keyID = keyID
	return r, nil
}

func newRepository(be backend.Backend, key *crypto.Key, cfg Config, opts Options) (*Repository, error) {
	if opts.PackSize == 0 {
		opts.PackSize = DefaultPackSize
	}
	if opts.PackSize < MinPackSize || opts.PackSize > MaxPackSize {
		return nil, fmt.Errorf("pack size %d MiB outside %d..%d MiB", opts.PackSize>>20, MinPackSize>>20, MaxPackSize>>20)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	level := zstd.SpeedDefault
	switch opts.Compression {
	case CompressionMax:
		level = zstd.SpeedBestCompression
	case CompressionFastest:
		level = zstd.SpeedFastest
	case CompressionBetter:
		level = zstd.SpeedBetterCompression
	}
	n := runtime.GOMAXPROCS(0)
	enc, err := newEncoderPool(level, n)
	if err != nil {
		return nil, err
	}
	encProbe, err := newEncoderPool(zstd.SpeedFastest, n)
	if err != nil {
		return nil, err
	}
	// Trees, index files and snapshots are JSON full of hex IDs, which
	// the fastest level compresses smaller than the default level, in
	// half the time (a first backup of 20,000 small files: trees 0.182
	// -> 0.180 of their size, 24 -> 15 ms; its index 0.326 -> 0.311,
	// 18 -> 9 ms; the index is written at the end, when nothing else
	// runs). Only the slower levels do better, so they keep theirs.
	encMeta := encProbe
	if level == zstd.SpeedBetterCompression || level == zstd.SpeedBestCompression {
		encMeta = enc
	}
	dec, err := newDecoderPool(n)
	if err != nil {
		return nil, err
	}
	conns := be.Properties().Connections
	if conns < 1 {
		conns = 1
	}
	gate := &lockGate{Backend: be}
	blockSize := packBlockSize
	if cfg.Version < 2 || opts.Compression == CompressionOff {
		blockSize = uncompressedPackBlockSize
	}
	r := &Repository{
		be: gate, gate: gate, key: key, cfg: cfg, opts: opts, logger: logger,
		idx: newMasterIndex(),
		enc: enc, encMeta: encMeta, encProbe: encProbe, dec: dec,
		packers:      make(map[BlobType]*packerSet),
		packerOpened: make(chan struct{}),
		pending:      make(map[BlobHandle]struct{}),
		liveFiles:    make(map[backend.PendingFile]*packer),
		direct:       newDirectWrites(blockSize),
		stages:       newStagePool(runtime.GOMAXPROCS(0) + 2),
		unsaved:      &pendingIndex{},
		uploadSlots:  make(chan struct{}, conns),
		// The bound on data pack buffers (see tryPackBuffer): two open
		// packers and one per upload that makes uploading faster.
		freePacks: make(chan []byte, 2+uploadBuffers(be.Properties())),
		turns:     make(chan struct{}, uploadBuffers(be.Properties())),
	}
	if sp, ok := be.(Spooler); ok && opts.SpoolSize >= 0 {
		r.spoolDir, r.spoolSize = sp.SpoolDir(), opts.SpoolSize
		if r.spoolSize == 0 {
			r.spoolSize = DefaultSpoolSize
		}
	}
	// Pack buffers live outside the Go heap: give the idle ones back if
	// the repository is dropped without Close.
	runtime.AddCleanup(r, func(free chan []byte) { drainPackBuffers(free) }, r.freePacks)
	runtime.AddCleanup(r, func(s *stagePool) { s.drain() }, r.stages)
	runtime.AddCleanup(r, func(d *directWrites) { d.pool.drain() }, r.direct)
	return r, nil
}

// uploadBuffers is how many packs may wait for or be in upload at once.
func uploadBuffers(p backend.Properties) int {
	n := max(p.Connections, 1)
	if p.ParallelUploads > 0 {
		n = min(n, p.ParallelUploads)
	}
	return n
}

// openKey tries the key files with the password, the hinted one first.
func openKey(ctx context.Context, be backend.Backend, password, hint string) (*crypto.Key, ID, error) {
	var names []string
	err := be.List(ctx, backend.KeyFile, func(fi backend.FileInfo) error {
		if _, err := ParseID(fi.Name); err == nil {
			names = append(names, fi.Name)
		}
		return nil
	})
	if err != nil {
		return nil, ID{}, fmt.Errorf("list keys: %w", err)
	}
	if hint != "" {
		for i, n := range names {
			if len(n) >= len(hint) && n[:len(hint)] == hint {
				names[0], names[i] = names[i], names[0]
				break
			}
		}
	}
	if len(names) > maxKeysTried {
		names = names[:maxKeysTried]
	}
	for _, name := range names {
		data, err := backend.LoadAll(ctx, be, backend.Handle{Type: backend.KeyFile, Name: name})
		if err != nil {
			return nil, ID{}, fmt.Errorf("load key %s: %w", name, err)
		}
		kf, err := crypto.ParseKeyFile(data)
		if err != nil {
			return nil, ID{}, fmt.Errorf("%w: keys/%s: %v", ErrIntegrity, name, err)
		}
		master, err := kf.Open(password)
		if errors.Is(err, crypto.ErrWrongPassword) {
			continue
		}
		if err != nil {
			return nil, ID{}, fmt.Errorf("keys/%s: %w", name, err)
		}
		id, _ := ParseID(name)
		return master, id, nil
	}
	return nil, ID{}, ErrWrongPassword
}

// AddKey writes a new key file giving password access to this repository's
// master key, and returns its ID. Zero params calibrate as restic does.
func (r *Repository) AddKey(ctx context.Context, password string, params crypto.Params, username, hostname string) (ID, error) {
	if password == "" {
		return ID{}, errors.New("an empty password is not a password")
	}
	if params == (crypto.Params{}) {
		var err error
		if params, err = crypto.Calibrate(500*time.Millisecond, 60<<20); err != nil {
			params = crypto.DefaultParams
		}
	}
	if username == "" {
		if u, err := user.Current(); err == nil {
			username = u.Username
		}
	}
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	kf, err := crypto.NewKeyFile(r.key, password, params, username, hostname, time.Now())
	if err != nil {
		return ID{}, err
	}
	data, err := kf.Marshal()
	if err != nil {
		return ID{}, err
	}
	id := Hash(data)
	if err := r.be.Save(ctx, backend.Handle{Type: backend.KeyFile, Name: id.String()}, backend.NewByteReader(data)); err != nil {
		return ID{}, fmt.Errorf("save key: %w", err)
	}
	return id, nil
}

func (r *Repository) saveConfig(ctx context.Context) error {
	plain, err := jsonMarshal(r.cfg)
	if err != nil {
		return err
	}
	sealed := r.key.Seal(nil, plain)
	if err := r.be.Save(ctx, backend.Handle{Type: backend.ConfigFile}, backend.NewByteReader(sealed)); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// Config returns the repository's configuration.
func (r *Repository) Config() Config { return r.cfg }

// Key returns the master key.
func (r *Repository) Key() *crypto.Key { return r.key }

// KeyID returns the ID of the key file that opened the repository.
func (r *Repository) KeyID() ID { return r.keyID }

// Backend returns the underlying backend.
func (r *Repository) Backend() backend.Backend { return r.be }

// Index returns the in-memory index (filled by LoadIndex and by writes).
func (r *Repository) Index() *MasterIndex { return r.idx }

// Logger returns the repository's logger (never nil).
func (r *Repository) Logger() *slog.Logger { return r.logger }

// Close releases the pack buffers and closes the backend. Unflushed data
// is lost: call Flush first.
func (r *Repository) Close() error {
	r.abortFiles()
	r.direct.wg.Wait()
	r.freePackBuffers()
	r.stages.drain()
	r.direct.pool.drain()
	return r.be.Close()
}
