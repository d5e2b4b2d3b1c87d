package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// B2EmuOptions configures a B2 emulator.
type B2EmuOptions struct {
	// Buckets are the buckets of the account; default {"bucket"}.
	Buckets []string
	// RestrictToBucket makes the key an application key restricted to
	// that bucket: b2_authorize_account returns it in allowed.bucketId
	// and allowed.bucketName, and requests for other buckets get 401.
	RestrictToBucket string
	// PageSize caps the entries of one listing page (default 3), so
	// clients must follow nextFileName.
	PageSize int
	// MinPartSize is absoluteMinimumPartSize: every part of a large file
	// but the last must be at least this long (default 5 bytes).
	MinPartSize int64
	// RecommendedPartSize is returned by authorization (default 64 KiB).
	RecommendedPartSize int64
}

// B2Emulator is an in-process emulator of the Backblaze B2 native API
// (version 2) for tests. It models the documented behaviour of the calls
// hbackup's B2 backend makes, not B2's implementation:
//
//   - b2_authorize_account (HTTP basic auth) returns an account token, the
//     API and download URLs (this server), part sizes and, for a key
//     restricted to one bucket, allowed.bucketId/bucketName;
//   - tokens can expire (ExpireTokens, or the B2FaultExpireToken fault):
//     requests with an expired token get 401 expired_auth_token;
//   - b2_get_upload_url and b2_get_upload_part_url hand out upload URLs,
//     each usable by one upload at a time, and retired after a failed
//     upload; reusing a retired URL or using one concurrently is
//     recorded as a violation (Violations) and answered with 401;
//   - uploads check X-Bz-Content-Sha1 (or the digest appended to the
//     body with hex_digits_at_end) and answer 400 on a mismatch;
//   - uploading an existing name adds a version; b2_list_file_names
//     shows each name's newest version unless it is a hide marker;
//     b2_list_file_versions shows all versions, newest first per name;
//     b2_hide_file adds a hide marker; b2_delete_file_version deletes one;
//   - listings return at most PageSize entries with nextFileName (and
//     nextFileId) to continue;
//   - b2_download_file_by_name honours Range (206, Content-Range, 416);
//   - large files: b2_start_large_file, b2_upload_part,
//     b2_finish_large_file (checks the part SHA-1s and sizes),
//     b2_cancel_large_file; a large file's fileInfo (large_file_sha1)
//     comes back as X-Bz-Info-* download headers, its
//     X-Bz-Content-Sha1 is "none".
//
// Faults are injected with Inject and InjectRandom; see B2FaultKind.
type B2Emulator struct {
	// URL is the server's base URL, the endpoint to authorize at.
	URL string
	// AccountID and Key are the only credentials accepted.
	AccountID, Key string

	srv  *httptest.Server
	opts B2EmuOptions

	mu         sync.Mutex
	seq        int
	buckets    map[string]*emuBucket // by ID
	tokens     map[string]bool       // account token → expired
	uploads    map[string]*emuUploadURL
	large      map[string]*emuLarge
	faults     emuFaults
	violations []string
}

type emuBucket struct {
	id, name string
	versions map[string][]*emuVersion // by name, newest first
}

type emuVersion struct {
	id, name, action string
	data             []byte
	sha1             string            // "" for a large file
	info             map[string]string // fileInfo, sent as X-Bz-Info-*
	seq              int
}

// emuUploadURL is a handed-out upload URL. fileID is set for part URLs.
type emuUploadURL struct {
	token, bucketID, fileID string
	expired, retired, inUse bool
}

type emuLarge struct {
	bucketID, name string
	parts          map[int][]byte
	info           map[string]string
}

// StartB2Emulator starts an emulator on 127.0.0.1, stopped when the test
// ends.
func StartB2Emulator(t testing.TB, opts B2EmuOptions) *B2Emulator {
	t.Helper()
	if len(opts.Buckets) == 0 {
		opts.Buckets = []string{"bucket"}
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 3
	}
	if opts.MinPartSize <= 0 {
		opts.MinPartSize = 5
	}
	if opts.RecommendedPartSize <= 0 {
		opts.RecommendedPartSize = 64 << 10
	}
	e := &B2Emulator{
		AccountID: "emu-key-" + randomID(), Key: "emu-secret-" + randomID(),
		opts:    opts,
		buckets: map[string]*emuBucket{}, tokens: map[string]bool{},
		uploads: map[string]*emuUploadURL{}, large: map[string]*emuLarge{},
	}
	e.faults.init()
	for _, name := range opts.Buckets {
		id := "bkt" + randomID()
		e.buckets[id] = &emuBucket{id: id, name: name, versions: map[string][]*emuVersion{}}
	}
	// URL is set before the server starts: handlers read it.
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(e.serve))
	e.URL = "http://" + e.srv.Listener.Addr().String()
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// serve routes a request to its API call.
func (e *B2Emulator) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, "/file/") {
		e.download(w, r)
		return
	}
	op, ok := strings.CutPrefix(path, "/b2api/v2/")
	if !ok {
		b2Error(w, http.StatusNotFound, "not_found", "unknown path "+path)
		return
	}
	op, arg, _ := strings.Cut(op, "/")
	switch op {
	case "b2_authorize_account":
		e.authorize(w, r)
	case "b2_upload_file", "b2_upload_part":
		e.upload(w, r, op, arg)
	default:
		e.apiCall(w, r, op)
	}
}

// b2Error writes B2's JSON error body.
func b2Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "code": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (e *B2Emulator) authorize(w http.ResponseWriter, r *http.Request) {
	if _, done := e.injectFault(w, r, "b2_authorize_account", nil); done {
		return
	}
	id, key, ok := r.BasicAuth()
	if !ok || id != e.AccountID || key != e.Key {
		b2Error(w, http.StatusUnauthorized, "unauthorized", "invalid application key ID or key")
		return
	}
	e.mu.Lock()
	token := "acct-" + randomID()
	e.tokens[token] = false
	allowed := map[string]any{"capabilities": []string{"listBuckets", "listFiles", "readFiles", "writeFiles", "deleteFiles"}}
	if name := e.opts.RestrictToBucket; name != "" {
		if b := e.bucketByName(name); b != nil {
			allowed["bucketId"], allowed["bucketName"] = b.id, b.name
		}
	}
	e.mu.Unlock()
	writeJSON(w, map[string]any{
		"accountId": "acct" + e.AccountID, "authorizationToken": token,
		"apiUrl": e.URL, "downloadUrl": e.URL,
		"recommendedPartSize": e.opts.RecommendedPartSize, "absoluteMinimumPartSize": e.opts.MinPartSize,
		"allowed": allowed,
	})
}

// checkToken answers 401 unless r carries a valid account token.
// Called with e.mu held.
func (e *B2Emulator) checkToken(w http.ResponseWriter, r *http.Request) bool {
	expired, ok := e.tokens[r.Header.Get("Authorization")]
	switch {
	case !ok:
		b2Error(w, http.StatusUnauthorized, "bad_auth_token", "invalid authorization token")
	case expired:
		b2Error(w, http.StatusUnauthorized, "expired_auth_token", "authorization token has expired")
	}
	return ok && !expired
}

// bucketFor returns the bucket with the ID, answering 400 or 401 when it
// is unknown or the key may not use it. Called with e.mu held.
func (e *B2Emulator) bucketFor(w http.ResponseWriter, id string) *emuBucket {
	b := e.buckets[id]
	if b == nil {
		b2Error(w, http.StatusBadRequest, "bad_bucket_id", "invalid bucketId: "+id)
		return nil
	}
	if e.opts.RestrictToBucket != "" && b.name != e.opts.RestrictToBucket {
		b2Error(w, http.StatusUnauthorized, "unauthorized", "the application key is not allowed to use bucket "+b.name)
		return nil
	}
	return b
}

func (e *B2Emulator) bucketByName(name string) *emuBucket {
	for _, b := range e.buckets {
		if b.name == name {
			return b
		}
	}
	return nil
}

// ExpireTokens expires every account and upload token handed out so
// far, as B2 does after 24 hours.
func (e *B2Emulator) ExpireTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for t := range e.tokens {
		e.tokens[t] = true
	}
	for _, u := range e.uploads {
		u.expired = true
	}
}

// Violations returns the protocol rules clients broke so far: reusing a
// retired upload URL, or two uploads at once on one URL.
func (e *B2Emulator) Violations() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.violations...)
}

// B2EmuVersion describes one stored version of a name.
type B2EmuVersion struct {
	Action string // "upload" or "hide"
	Size   int
}

// Versions returns the versions of name in bucket, newest first.
func (e *B2Emulator) Versions(bucket, name string) []B2EmuVersion {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.bucketByName(bucket)
	if b == nil {
		return nil
	}
	var out []B2EmuVersion
	for _, v := range b.versions[name] {
		out = append(out, B2EmuVersion{Action: v.action, Size: len(v.data)})
	}
	return out
}

// Names returns every name in bucket with at least one version, sorted.
func (e *B2Emulator) Names(bucket string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.bucketByName(bucket)
	if b == nil {
		return nil
	}
	var out []string
	for name, vs := range b.versions {
		if len(vs) > 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// UnfinishedLargeFiles returns how many large files were started and
// neither finished nor cancelled.
func (e *B2Emulator) UnfinishedLargeFiles() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.large)
}

func (e *B2Emulator) nextID(kind string) (string, int) {
	e.seq++
	return fmt.Sprintf("%s_%08d_%s", kind, e.seq, randomID()), e.seq
}
