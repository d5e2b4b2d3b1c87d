package rest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// fakeServer is a small in-memory REST server whose quirks tests can
// switch on, to reach the client paths real servers do not take.
type fakeServer struct {
	v1Only           bool // list in the v1 format whatever the Accept header
	ignoreRange      bool // answer 200 with the whole file to a Range request
	noOverwrite      bool // 403 on a POST to an existing file (rest-server)
	appendOnly       bool // 403 on DELETE except locks, and no overwrite
	idempotentDelete bool // 200 for a DELETE of a missing file (rest-server)

	mu       sync.Mutex
	files    map[string][]byte // "config", "data/<name>", ...
	requests []string          // "METHOD /path [Range]" of every request
	protos   []int             // ProtoMajor of every request
}

func newFakeServer() *fakeServer { return &fakeServer{files: make(map[string][]byte)} }

var fakePath = regexp.MustCompile(`^/(?:(config)|(data|keys|locks|snapshots|index)/([^/]*))$`)

func (s *fakeServer) log(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := r.Method + " " + r.URL.Path
	if rg := r.Header.Get("Range"); rg != "" {
		line += " " + rg
	}
	s.requests = append(s.requests, line)
	s.protos = append(s.protos, r.ProtoMajor)
}

// seen returns the requests logged so far.
func (s *fakeServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.log(r)
	if r.URL.Path == "/" && r.Method == http.MethodPost && r.URL.RawQuery == "create=true" {
		return // every directory "exists" in the map
	}
	m := fakePath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	key, typ, name := "config", m[2], m[3]
	if m[1] == "" {
		if name == "" {
			s.list(w, r, typ)
			return
		}
		key = typ + "/" + name
	}
	switch r.Method {
	case http.MethodHead, http.MethodGet:
		s.get(w, r, key)
	case http.MethodPost:
		s.post(w, r, key)
	case http.MethodDelete:
		s.delete(w, key, typ)
	default:
		http.Error(w, "bad method", http.StatusMethodNotAllowed)
	}
}

func (s *fakeServer) get(w http.ResponseWriter, r *http.Request, key string) {
	s.mu.Lock()
	data, ok := s.files[key]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if s.ignoreRange {
		r.Header.Del("Range")
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

func (s *fakeServer) post(w http.ResponseWriter, r *http.Request, key string) {
	if r.ContentLength < 0 {
		http.Error(w, "chunked uploads are not accepted here", http.StatusLengthRequired)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil || int64(len(data)) != r.ContentLength {
		http.Error(w, "incomplete body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.files[key]; exists && (s.noOverwrite || s.appendOnly) {
		http.Error(w, "file exists", http.StatusForbidden)
		return
	}
	s.files[key] = data
}

func (s *fakeServer) delete(w http.ResponseWriter, key, typ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appendOnly && typ != "locks" {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	if _, ok := s.files[key]; !ok && !s.idempotentDelete {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	delete(s.files, key)
}

func (s *fakeServer) list(w http.ResponseWriter, r *http.Request, typ string) {
	if r.Method != http.MethodGet {
		http.Error(w, "bad method", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	entries := []fileEntry{}
	for key, data := range s.files {
		if name, ok := strings.CutPrefix(key, typ+"/"); ok {
			entries = append(entries, fileEntry{Name: name, Size: int64(len(data))})
		}
	}
	s.mu.Unlock()
	if !s.v1Only && r.Header.Get("Accept") == contentTypeV2 {
		w.Header().Set("Content-Type", contentTypeV2)
		_ = json.NewEncoder(w).Encode(entries)
		return
	}
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name)
	}
	w.Header().Set("Content-Type", contentTypeV1)
	_ = json.NewEncoder(w).Encode(names)
}
