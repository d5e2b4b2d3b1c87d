// Package rest stores a restic repository on a server speaking restic's
// REST protocol (version 2, with the version 1 listing as a fallback):
// restic's rest-server, `rclone serve restic`, and compatible servers.
//
// Every request is one HTTP exchange, so the backend itself never
// retries; wrap it in backend/retry for that. Errors that retrying cannot
// fix (a 403 from an append-only server, bad credentials, a range past
// the end of a file) are marked with backend.Permanent.
package rest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hbackup/hbackup/backend"
)

// Media types of the protocol. A server answers a list request in the
// v2 format only when the response carries exactly contentTypeV2.
const (
	contentTypeV2 = "application/vnd.x.restic.rest.v2"
	contentTypeV1 = "application/vnd.x.restic.rest.v1"
)

// DefaultConnections is restic's default for -o rest.connections.
const DefaultConnections = 5

// Config configures a REST backend.
type Config struct {
	// URL is the repository's base URL: http or https, with an optional
	// user:password for HTTP basic authentication, or restic's
	// http+unix:///path/to/socket:/repository/path for a server on a unix
	// socket. A "rest:" prefix, as in a restic repository location, is
	// accepted.
	URL string
	// Username and Password are used when URL carries no user
	// information (restic reads them from RESTIC_REST_USERNAME and
	// RESTIC_REST_PASSWORD).
	Username, Password string
	// Connections is the number of concurrent requests callers should
	// make; zero means DefaultConnections. The backend does not enforce
	// it: backend/limit does.
	Connections int
	// TLSConfig, if set, is used for https (e.g. a private CA's pool).
	TLSConfig *tls.Config
	// Transport, if set, replaces the default transport (which speaks
	// HTTP/2 to servers that offer it over TLS, and dials the socket of
	// an http+unix URL); it must then reach the server by itself.
	Transport http.RoundTripper
}

// Backend is a repository on a REST server. It is safe for concurrent use.
type Backend struct {
	base        *url.URL // without user information, path ending in "/"
	user, pass  string
	auth        bool
	location    string
	connections int
	client      *http.Client
}

var _ backend.Backend = (*Backend)(nil)

// New returns a backend for the repository at cfg.URL. It makes no
// request: Create makes the repository, and the first Stat or Load tells
// whether one exists.
func New(cfg Config) (*Backend, error) {
	raw := strings.TrimPrefix(cfg.URL, "rest:")
	var socket string
	if strings.HasPrefix(raw, unixScheme) {
		var err error
		if socket, raw, err = splitUnixURL(raw); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's message may quote the password; keep it out.
		return nil, fmt.Errorf("rest: invalid URL %q", redact(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("rest: invalid URL %q: the scheme must be http or https", redact(raw))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("rest: invalid URL %q: no host", redact(raw))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("rest: invalid URL %q: a query or fragment is not allowed", redact(raw))
	}
	b := &Backend{connections: cfg.Connections, user: cfg.Username, pass: cfg.Password}
	if u.User != nil {
		b.user = u.User.Username()
		b.pass, _ = u.User.Password()
	}
	b.auth = b.user != "" || b.pass != ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	b.location = "rest:" + redactURL(u)
	if socket != "" {
		b.location = "rest:" + unixScheme + socket + ":" + u.Path
	}
	u.User = nil
	b.base = u
	if b.connections <= 0 {
		b.connections = DefaultConnections
	}
	b.client = &http.Client{Transport: cfg.Transport}
	if cfg.Transport == nil {
		tr := newTransport(cfg.TLSConfig, b.connections)
		if socket != "" {
			tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", socket)
			}
		}
		b.client.Transport = tr
	}
	return b, nil
}

// unixScheme starts restic's form for a server on a unix socket:
// http+unix:///path/to/socket:/repository/path.
const unixScheme = "http+unix://"

// splitUnixURL splits an http+unix URL into the socket's path and the
// plain http URL of the repository on it. As restic, the socket path ends
// at the first ':'.
func splitUnixURL(raw string) (socket, httpURL string, err error) {
	rest := strings.TrimPrefix(raw, unixScheme)
	socket, repoPath, ok := strings.Cut(rest, ":")
	if !ok || !strings.HasPrefix(socket, "/") || len(socket) < 2 {
		return "", "", fmt.Errorf("rest: invalid URL %q: want http+unix:///path/to/socket:/repository/path", raw)
	}
	if !strings.HasPrefix(repoPath, "/") {
		repoPath = "/" + repoPath
	}
	// The host only fills the Host header; the dialer ignores it.
	return socket, "http://localhost" + repoPath, nil
}

// newTransport is Go's default transport with an explicit TLS
// configuration and enough idle connections for every worker. Go
// negotiates HTTP/2 over TLS by itself (ForceAttemptHTTP2 keeps that on
// with a custom TLS configuration); plain http stays on HTTP/1.1.
func newTransport(tlsConfig *tls.Config, connections int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig.Clone()
	}
	tr.ForceAttemptHTTP2 = true
	tr.MaxIdleConnsPerHost = connections + 2
	// A server that accepted a whole upload but never answers would
	// otherwise hang a backup forever. Uploads themselves are not
	// limited: the timer starts once the request is written.
	tr.ResponseHeaderTimeout = 10 * time.Minute
	return tr
}

// redactURL returns u as a string with the password replaced by ***.
func redactURL(u *url.URL) string {
	if _, ok := u.User.Password(); !ok {
		return u.String()
	}
	c := *u
	c.User = url.UserPassword(u.User.Username(), "***")
	// url escapes '*' in user information; restic shows it plain.
	return strings.Replace(c.String(), ":%2A%2A%2A@", ":***@", 1)
}

// redact hides the password of a URL that may not even parse.
func redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	host, path, _ := strings.Cut(rest, "/")
	at := strings.LastIndex(host, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(host[:at], ":")
	if !hasPass {
		return raw
	}
	out := scheme + "://" + user + ":***@" + host[at+1:]
	if strings.Contains(rest, "/") {
		out += "/" + path
	}
	return out
}

// Location returns the repository URL as a restic location, without the
// password.
func (b *Backend) Location() string { return b.location }

// Properties implements backend.Backend. REST servers cannot replace a
// file atomically (rest-server and append-only servers refuse to
// overwrite at all).
func (b *Backend) Properties() backend.Properties {
	return backend.Properties{Connections: b.connections}
}

// Close releases idle connections.
func (b *Backend) Close() error {
	b.client.CloseIdleConnections()
	return nil
}

// Create makes the repository on the server. It fails with an error
// wrapping backend.ErrAlreadyExists when the server already has a config
// file there, so an existing repository is never re-created.
func (b *Backend) Create(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create %s: %w", b.location, err)
	}
	_, err := b.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	switch {
	case err == nil:
		return fmt.Errorf("create %s: %w", b.location, backend.Permanent(backend.ErrAlreadyExists))
	case !errors.Is(err, backend.ErrNotExist):
		return fmt.Errorf("create %s: %w", b.location, err)
	}
	u := *b.base
	u.RawQuery = "create=true"
	req, err := b.newRequest(ctx, http.MethodPost, u.String(), http.NoBody)
	if err != nil {
		return fmt.Errorf("create %s: %w", b.location, err)
	}
	req.Header.Del("Accept") // restic sends none on create
	req.Header.Set("Content-Type", "binary/octet-stream")
	resp, err := b.do(req)
	if err != nil {
		return fmt.Errorf("create %s: %w", b.location, err)
	}
	defer discard(resp)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("create %s: %w", b.location, statusError(resp, "create the repository"))
	}
	return nil
}

// fileURL returns the URL of h, which must pass layout.Check.
func (b *Backend) fileURL(h backend.Handle) string {
	if h.Type == backend.ConfigFile {
		return b.base.JoinPath("config").String()
	}
	return b.base.JoinPath(h.Type.String(), h.Name).String()
}

// dirURL returns the listing URL of t, with restic's trailing slash.
func (b *Backend) dirURL(t backend.FileType) string {
	return b.base.JoinPath(t.String()).String() + "/"
}

// newRequest builds a request with the protocol's Accept header and the
// credentials.
func (b *Backend) newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, backend.Permanent(err)
	}
	req.Header.Set("Accept", contentTypeV2)
	if b.auth {
		req.SetBasicAuth(b.user, b.pass)
	}
	return req, nil
}

// do sends req. A cancelled context comes back as the context's own
// error so callers can tell it from a network failure.
func (b *Backend) do(req *http.Request) (*http.Response, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), ctxErr)
		}
		return nil, err // *url.Error names method and URL
	}
	return resp, nil
}

// discard drains a little of the body, so the connection can be reused,
// and closes it.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}
