package testutil

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// b2Request holds the JSON fields of the API calls the emulator serves.
type b2Request struct {
	AccountID     string            `json:"accountId"`
	BucketID      string            `json:"bucketId"`
	BucketName    string            `json:"bucketName"`
	FileName      string            `json:"fileName"`
	FileID        string            `json:"fileId"`
	Prefix        string            `json:"prefix"`
	StartFileName string            `json:"startFileName"`
	StartFileID   string            `json:"startFileId"`
	MaxFileCount  int               `json:"maxFileCount"`
	PartSha1Array []string          `json:"partSha1Array"`
	FileInfo      map[string]string `json:"fileInfo"`
}

// apiCall serves the JSON calls.
func (e *B2Emulator) apiCall(w http.ResponseWriter, r *http.Request, op string) {
	if _, done := e.injectFault(w, r, op, nil); done {
		return
	}
	var in b2Request
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		b2Error(w, http.StatusBadRequest, "bad_request", "invalid JSON: "+err.Error())
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.checkToken(w, r) {
		return
	}
	switch op {
	case "b2_list_buckets":
		e.listBuckets(w, in)
	case "b2_get_upload_url":
		if b := e.bucketFor(w, in.BucketID); b != nil {
			e.newUploadURL(w, b.id, "")
		}
	case "b2_get_upload_part_url":
		if lf := e.large[in.FileID]; lf == nil {
			b2Error(w, http.StatusBadRequest, "bad_request", "no such unfinished large file: "+in.FileID)
		} else if e.bucketFor(w, lf.bucketID) != nil {
			e.newUploadURL(w, lf.bucketID, in.FileID)
		}
	case "b2_list_file_names", "b2_list_file_versions":
		if b := e.bucketFor(w, in.BucketID); b != nil {
			e.list(w, b, in, op == "b2_list_file_versions")
		}
	case "b2_delete_file_version":
		e.deleteVersion(w, in)
	case "b2_hide_file":
		if b := e.bucketFor(w, in.BucketID); b != nil {
			e.hide(w, b, in.FileName)
		}
	case "b2_start_large_file":
		if b := e.bucketFor(w, in.BucketID); b != nil {
			id, _ := e.nextID("large")
			e.large[id] = &emuLarge{bucketID: b.id, name: in.FileName, parts: map[int][]byte{}, info: in.FileInfo}
			writeJSON(w, map[string]any{"fileId": id, "fileName": in.FileName, "bucketId": b.id, "action": "start"})
		}
	case "b2_finish_large_file":
		e.finishLarge(w, in)
	case "b2_cancel_large_file":
		if _, ok := e.large[in.FileID]; !ok {
			b2Error(w, http.StatusBadRequest, "bad_request", "no such unfinished large file: "+in.FileID)
			return
		}
		delete(e.large, in.FileID)
		writeJSON(w, map[string]any{"fileId": in.FileID})
	default:
		b2Error(w, http.StatusNotFound, "not_found", "the emulator does not implement "+op)
	}
}

func (e *B2Emulator) listBuckets(w http.ResponseWriter, in b2Request) {
	if r := e.opts.RestrictToBucket; r != "" && in.BucketName != r {
		b2Error(w, http.StatusUnauthorized, "unauthorized", "the application key may only list bucket "+r)
		return
	}
	var out []map[string]any
	for _, b := range e.buckets {
		if in.BucketName == "" || in.BucketName == b.name {
			out = append(out, map[string]any{"bucketId": b.id, "bucketName": b.name, "bucketType": "allPrivate"})
		}
	}
	writeJSON(w, map[string]any{"buckets": out})
}

func (e *B2Emulator) newUploadURL(w http.ResponseWriter, bucketID, fileID string) {
	id, _ := e.nextID("up")
	token := "upload-" + randomID()
	e.uploads[id] = &emuUploadURL{token: token, bucketID: bucketID, fileID: fileID}
	path, kind := "b2_upload_file/"+bucketID, "bucketId"
	if fileID != "" {
		path, kind = "b2_upload_part/"+fileID, "fileId"
	}
	writeJSON(w, map[string]any{kind: bucketID + fileID, "uploadUrl": e.URL + "/b2api/v2/" + path + "/" + id, "authorizationToken": token})
}

// fileJSON is a version as listings and uploads describe it.
func fileJSON(v *emuVersion) map[string]any {
	sum := v.sha1
	if sum == "" {
		sum = "none"
	}
	return map[string]any{"fileId": v.id, "fileName": v.name, "action": v.action,
		"contentLength": len(v.data), "contentSha1": sum, "uploadTimestamp": v.seq}
}

// list serves both listings: every version (newest first per name) or
// each name's newest version unless hidden, from the start name (and
// ID), at most PageSize entries.
func (e *B2Emulator) list(w http.ResponseWriter, b *emuBucket, in b2Request, versions bool) {
	names := make([]string, 0, len(b.versions))
	for name := range b.versions {
		if strings.HasPrefix(name, in.Prefix) && name >= in.StartFileName {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var all []*emuVersion
	for _, name := range names {
		vs := b.versions[name]
		switch {
		case versions:
			all = append(all, vs...)
		case len(vs) > 0 && vs[0].action == "upload":
			all = append(all, vs[0])
		}
	}
	if versions && in.StartFileID != "" {
		for len(all) > 0 && all[0].name == in.StartFileName && all[0].id != in.StartFileID {
			all = all[1:]
		}
	}
	count := in.MaxFileCount
	if count <= 0 {
		count = 100
	}
	count = min(count, e.opts.PageSize)
	out := map[string]any{"files": []any{}, "nextFileName": nil}
	files := []any{}
	for i, v := range all {
		if i == count {
			out["nextFileName"] = v.name
			if versions {
				out["nextFileId"] = v.id
			}
			break
		}
		files = append(files, fileJSON(v))
	}
	out["files"] = files
	writeJSON(w, out)
}

func (e *B2Emulator) deleteVersion(w http.ResponseWriter, in b2Request) {
	for _, b := range e.buckets {
		vs := b.versions[in.FileName]
		for i, v := range vs {
			if v.id != in.FileID {
				continue
			}
			if e.bucketFor(w, b.id) == nil {
				return
			}
			b.versions[in.FileName] = append(vs[:i:i], vs[i+1:]...)
			if len(b.versions[in.FileName]) == 0 {
				delete(b.versions, in.FileName)
			}
			writeJSON(w, map[string]any{"fileId": v.id, "fileName": v.name})
			return
		}
	}
	b2Error(w, http.StatusBadRequest, "file_not_present", "File not present: "+in.FileName+" "+in.FileID)
}

func (e *B2Emulator) hide(w http.ResponseWriter, b *emuBucket, name string) {
	vs := b.versions[name]
	if len(vs) == 0 || vs[0].action != "upload" {
		b2Error(w, http.StatusBadRequest, "no_such_file", "no such file: "+name)
		return
	}
	id, seq := e.nextID("hide")
	v := &emuVersion{id: id, name: name, action: "hide", seq: seq}
	b.versions[name] = append([]*emuVersion{v}, vs...)
	writeJSON(w, fileJSON(v))
}

// addVersion stores an upload as the newest version of its name.
func (e *B2Emulator) addVersion(b *emuBucket, name string, data []byte, sum string) *emuVersion {
	id, seq := e.nextID("file")
	v := &emuVersion{id: id, name: name, action: "upload", data: data, sha1: sum, seq: seq}
	b.versions[name] = append([]*emuVersion{v}, b.versions[name]...)
	return v
}

func (e *B2Emulator) finishLarge(w http.ResponseWriter, in b2Request) {
	lf := e.large[in.FileID]
	if lf == nil {
		b2Error(w, http.StatusBadRequest, "bad_request", "no such unfinished large file: "+in.FileID)
		return
	}
	if len(in.PartSha1Array) != len(lf.parts) || len(lf.parts) == 0 {
		b2Error(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%d parts uploaded, %d SHA-1s given", len(lf.parts), len(in.PartSha1Array)))
		return
	}
	var data []byte
	for i, want := range in.PartSha1Array {
		part, ok := lf.parts[i+1]
		if !ok {
			b2Error(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("part %d missing", i+1))
			return
		}
		if sum := sha1.Sum(part); hex.EncodeToString(sum[:]) != want {
			b2Error(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("part %d: Sha1 does not match", i+1))
			return
		}
		if i < len(in.PartSha1Array)-1 && int64(len(part)) < e.opts.MinPartSize {
			b2Error(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("part %d is smaller than %d bytes", i+1, e.opts.MinPartSize))
			return
		}
		data = append(data, part...)
	}
	delete(e.large, in.FileID)
	v := e.addVersion(e.buckets[lf.bucketID], lf.name, data, "")
	v.id, v.info = in.FileID, lf.info
	writeJSON(w, fileJSON(v))
}

// upload serves b2_upload_file and b2_upload_part on an upload URL.
func (e *B2Emulator) upload(w http.ResponseWriter, r *http.Request, op, arg string) {
	_, urlID, _ := strings.Cut(arg, "/")
	e.mu.Lock()
	up := e.uploads[urlID]
	switch {
	case up == nil || r.Header.Get("Authorization") != up.token:
		e.mu.Unlock()
		b2Error(w, http.StatusUnauthorized, "bad_auth_token", "invalid upload URL or token")
		return
	case up.expired:
		e.mu.Unlock()
		b2Error(w, http.StatusUnauthorized, "expired_auth_token", "upload authorization token has expired")
		return
	case up.retired || up.inUse:
		why := "reused an upload URL after a failed upload"
		if up.inUse {
			why = "two uploads at once on one upload URL"
		}
		e.violations = append(e.violations, why)
		e.mu.Unlock()
		b2Error(w, http.StatusUnauthorized, "bad_auth_token", "emulator: "+why)
		return
	}
	up.inUse = true
	e.mu.Unlock()
	defer func() { e.mu.Lock(); up.inUse = false; e.mu.Unlock() }()

	kind, done := e.injectFault(w, r, op, up)
	if done {
		return
	}
	data, sum, ok := readUpload(w, r)
	if !ok {
		return
	}
	if kind == B2FaultCorruptUpload && len(data) > 0 {
		data[len(data)/2] ^= 0xff
	}
	if got := sha1.Sum(data); sum != "do_not_verify" && hex.EncodeToString(got[:]) != sum {
		b2Error(w, http.StatusBadRequest, "bad_request", "Sha1 did not match data received")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if op == "b2_upload_part" {
		n, err := strconv.Atoi(r.Header.Get("X-Bz-Part-Number"))
		lf := e.large[up.fileID]
		if err != nil || n < 1 || n > 10000 || lf == nil {
			b2Error(w, http.StatusBadRequest, "bad_request", "invalid part number or large file")
			return
		}
		lf.parts[n] = data
		writeJSON(w, map[string]any{"fileId": up.fileID, "partNumber": n, "contentLength": len(data), "contentSha1": sum})
		return
	}
	name, err := url.PathUnescape(r.Header.Get("X-Bz-File-Name"))
	if err != nil || name == "" {
		b2Error(w, http.StatusBadRequest, "bad_request", "invalid X-Bz-File-Name")
		return
	}
	writeJSON(w, fileJSON(e.addVersion(e.buckets[up.bucketID], name, data, sum)))
}

// readUpload reads an upload's body and its SHA-1, given in the header
// or, with hex_digits_at_end, as the body's last 40 bytes.
func readUpload(w http.ResponseWriter, r *http.Request) ([]byte, string, bool) {
	if r.ContentLength < 0 {
		b2Error(w, http.StatusBadRequest, "bad_request", "missing Content-Length")
		return nil, "", false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil || int64(len(body)) != r.ContentLength {
		// The client broke off: B2 stores nothing.
		return nil, "", false
	}
	sum := strings.ToLower(r.Header.Get("X-Bz-Content-Sha1"))
	if sum == "hex_digits_at_end" {
		if len(body) < 40 {
			b2Error(w, http.StatusBadRequest, "bad_request", "body shorter than its SHA-1")
			return nil, "", false
		}
		body, sum = body[:len(body)-40], strings.ToLower(string(body[len(body)-40:]))
	}
	return body, sum, true
}

// download serves b2_download_file_by_name: /file/<bucket>/<name>.
func (e *B2Emulator) download(w http.ResponseWriter, r *http.Request) {
	kind, done := e.injectFault(w, r, "b2_download_file_by_name", nil)
	if done {
		return
	}
	bucketName, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/file/"), "/")
	e.mu.Lock()
	if !e.checkToken(w, r) {
		e.mu.Unlock()
		return
	}
	b := e.bucketByName(bucketName)
	if b == nil || (e.opts.RestrictToBucket != "" && b.name != e.opts.RestrictToBucket) {
		e.mu.Unlock()
		b2Error(w, http.StatusUnauthorized, "unauthorized", "no access to bucket "+bucketName)
		return
	}
	vs := b.versions[name]
	if len(vs) == 0 || vs[0].action != "upload" {
		e.mu.Unlock()
		b2Error(w, http.StatusNotFound, "not_found", "File with such name does not exist: "+name)
		return
	}
	v := vs[0]
	e.mu.Unlock()

	data, status := v.data, http.StatusOK
	if rng := r.Header.Get("Range"); rng != "" {
		first, last, ok := parseRange(rng, int64(len(v.data)))
		if !ok {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(v.data)))
			b2Error(w, http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable", "invalid range "+rng)
			return
		}
		data, status = v.data[first:last+1], http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(v.data)))
	}
	h := w.Header()
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Bz-File-Name", url.PathEscape(v.name))
	h.Set("X-Bz-File-Id", v.id)
	for k, val := range v.info {
		h.Set("X-Bz-Info-"+k, url.QueryEscape(val))
	}
	if v.sha1 != "" {
		h.Set("X-Bz-Content-Sha1", v.sha1)
	} else {
		h.Set("X-Bz-Content-Sha1", "none")
	}
	w.WriteHeader(status)
	if kind == B2FaultTruncateDownload {
		_, _ = w.Write(data[:len(data)/2])
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}
	if kind == B2FaultCorruptDownload && len(data) > 0 {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	_, _ = w.Write(data)
}

// parseRange parses "bytes=a-b" or "bytes=a-" against a size.
func parseRange(s string, size int64) (first, last int64, ok bool) {
	spec, found := strings.CutPrefix(s, "bytes=")
	a, b, dash := strings.Cut(spec, "-")
	if !found || !dash {
		return 0, 0, false
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 || first >= size {
		return 0, 0, false
	}
	last = size - 1
	if b != "" {
		if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
			return 0, 0, false
		}
		last = min(last, size-1)
	}
	return first, last, true
}
