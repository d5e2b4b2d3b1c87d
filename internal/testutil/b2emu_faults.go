package testutil

import (
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
)

// B2FaultKind is a failure the B2 emulator can inject, each as B2
// documents it (or as networks produce it).
type B2FaultKind int

const (
	// B2Fault503 answers 503 service_unavailable with Retry-After: 1.
	// On an upload the URL is retired: B2 wants a new one.
	B2Fault503 B2FaultKind = iota + 1
	// B2Fault429 answers 429 too_many_requests with Retry-After: 1.
	B2Fault429
	// B2Fault500 answers 500 internal_error. On an upload the URL is
	// retired.
	B2Fault500
	// B2FaultExpireToken expires the token the request carries (account
	// or upload token) and answers 401 expired_auth_token.
	B2FaultExpireToken
	// B2FaultDropConnection closes the connection without an answer; an
	// upload reads half its body first and retires its URL.
	B2FaultDropConnection
	// B2FaultTruncateDownload sends a download's headers and half its
	// body, then closes the connection.
	B2FaultTruncateDownload
	// B2FaultCorruptUpload flips a received byte, so the upload fails the
	// SHA-1 check with 400 bad_request.
	B2FaultCorruptUpload
	// B2FaultCapExceeded answers 403 transaction_cap_exceeded.
	B2FaultCapExceeded
	// B2FaultCorruptDownload flips a byte of a whole-file download's
	// body, which the client can notice only through the SHA-1 headers.
	// Ranged downloads are left alone: nothing in the answer lets a
	// client check a range (TLS protects it on real B2).
	B2FaultCorruptDownload
)

var b2FaultNames = map[B2FaultKind]string{
	B2Fault503: "503", B2Fault429: "429", B2Fault500: "500", B2FaultExpireToken: "expired-token",
	B2FaultDropConnection: "dropped-connection", B2FaultTruncateDownload: "truncated-download",
	B2FaultCorruptUpload: "corrupt-upload", B2FaultCapExceeded: "cap-exceeded",
	B2FaultCorruptDownload: "corrupt-download",
}

func (k B2FaultKind) String() string { return b2FaultNames[k] }

// applies reports whether a fault of kind k can hit API call op; ranged
// tells a download of a range from one of the whole file.
func (k B2FaultKind) applies(op string, ranged bool) bool {
	isUpload := op == "b2_upload_file" || op == "b2_upload_part"
	switch k {
	case B2FaultCorruptDownload:
		return op == "b2_download_file_by_name" && !ranged
	case B2FaultTruncateDownload:
		return op == "b2_download_file_by_name"
	case B2FaultCorruptUpload:
		return isUpload
	case B2FaultExpireToken, B2FaultCapExceeded, B2FaultDropConnection, B2Fault500:
		return op != "b2_authorize_account"
	}
	return true
}

type queuedFault struct {
	kind B2FaultKind
	op   string
	n    int
}

// emuFaults is the emulator's fault plan. Guarded by B2Emulator.mu.
type emuFaults struct {
	queue    []*queuedFault
	rate     float64
	kinds    []B2FaultKind
	rng      *rand.Rand
	observed map[B2FaultKind]int
}

func (f *emuFaults) init() { f.observed = map[B2FaultKind]int{} }

// Inject makes the next n requests to API call op ("" for any call the
// fault applies to) fail with kind. Download requests are named
// "b2_download_file_by_name".
func (e *B2Emulator) Inject(kind B2FaultKind, op string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults.queue = append(e.faults.queue, &queuedFault{kind: kind, op: op, n: n})
}

// InjectRandom makes each request (except authorization, which hbackup
// makes before its retry layer exists) fail with probability rate, with
// one of kinds that applies to it, reproducibly for a seed.
func (e *B2Emulator) InjectRandom(rate float64, seed uint64, kinds ...B2FaultKind) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults.rate, e.faults.kinds = rate, kinds
	e.faults.rng = rand.New(rand.NewPCG(seed, seed^0xb2))
}

// Observed returns how many faults of kind were injected so far.
func (e *B2Emulator) Observed(kind B2FaultKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.faults.observed[kind]
}

// pick chooses the fault for a request to op, or 0. Called with e.mu held.
func (f *emuFaults) pick(op string, ranged bool) B2FaultKind {
	for i, q := range f.queue {
		if (q.op == "" || q.op == op) && q.kind.applies(op, ranged) {
			q.n--
			if q.n <= 0 {
				f.queue = slices.Delete(f.queue, i, i+1)
			}
			f.observed[q.kind]++
			return q.kind
		}
	}
	if f.rng == nil || op == "b2_authorize_account" || f.rng.Float64() >= f.rate {
		return 0
	}
	var fit []B2FaultKind
	for _, k := range f.kinds {
		if k.applies(op, ranged) {
			fit = append(fit, k)
		}
	}
	if len(fit) == 0 {
		return 0
	}
	k := fit[f.rng.IntN(len(fit))]
	f.observed[k]++
	return k
}

// injectFault picks a fault for the request and, for the kinds that
// replace the whole answer, sends it and returns true. up is the upload
// URL of an upload request (nil otherwise); it is retired or expired as
// the fault says. The kind is returned for the handler's own faults
// (truncated download, corrupted upload).
func (e *B2Emulator) injectFault(w http.ResponseWriter, r *http.Request, op string, up *emuUploadURL) (B2FaultKind, bool) {
	e.mu.Lock()
	kind := e.faults.pick(op, r.Header.Get("Range") != "")
	switch kind {
	case B2FaultExpireToken:
		if up != nil {
			up.expired = true
		} else if _, ok := e.tokens[r.Header.Get("Authorization")]; ok {
			e.tokens[r.Header.Get("Authorization")] = true
		}
	case B2Fault500, B2Fault503, B2FaultDropConnection:
		if up != nil {
			up.retired = true
		}
	}
	e.mu.Unlock()

	switch kind {
	case B2Fault503:
		w.Header().Set("Retry-After", "1")
		b2Error(w, http.StatusServiceUnavailable, "service_unavailable", "injected: service unavailable, retry later")
	case B2Fault429:
		w.Header().Set("Retry-After", "1")
		b2Error(w, http.StatusTooManyRequests, "too_many_requests", "injected: too many requests")
	case B2Fault500:
		b2Error(w, http.StatusInternalServerError, "internal_error", "injected: internal error")
	case B2FaultExpireToken:
		b2Error(w, http.StatusUnauthorized, "expired_auth_token", "injected: authorization token has expired")
	case B2FaultCapExceeded:
		b2Error(w, http.StatusForbidden, "transaction_cap_exceeded", "injected: transaction cap exceeded")
	case B2FaultDropConnection:
		if up != nil && r.ContentLength > 0 {
			_, _ = io.CopyN(io.Discard, r.Body, r.ContentLength/2)
		}
		dropConnection(w)
	default:
		return kind, false
	}
	return kind, true
}

// dropConnection closes the request's connection without answering.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // still closes the connection
	}
	_ = conn.Close()
}
