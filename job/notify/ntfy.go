package notify

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Outcome is what happened, and decides a notification's priority and tags.
type Outcome string

// Outcomes.
const (
	Start   Outcome = "start"
	Success Outcome = "success"
	Warning Outcome = "warning" // done, with problems: files skipped
	Failure Outcome = "failure"
)

// Message is one notification.
type Message struct {
	Outcome  Outcome
	Job      string
	Hostname string
	Title    string   // default: "hbackup: JOB on HOST: OUTCOME"
	Body     string   // e.g. a summary and the log tail; its end is kept if too long
	Tags     []string // added to the outcome's tag
}

func (m Message) title() string {
	if m.Title != "" {
		return m.Title
	}
	words := map[Outcome]string{Start: "started", Success: "succeeded", Warning: "finished with warnings", Failure: "failed"}
	w := words[m.Outcome]
	if w == "" {
		w = string(m.Outcome)
	}
	host := ""
	if m.Hostname != "" {
		host = " on " + m.Hostname
	}
	return fmt.Sprintf("hbackup: %s%s %s", m.Job, host, w)
}

// Ntfy publishes to an ntfy topic (https://ntfy.sh or a self-hosted server).
type Ntfy struct {
	URL      string // the topic URL, e.g. https://ntfy.sh/my-backups
	Token    string // access token, sent as a Bearer; or
	Username string // basic auth with Password
	Password string
	// On lists the outcomes that are sent; nil means Warning and Failure,
	// and an empty, non-nil list sends nothing.
	On []Outcome
	// Priority maps outcomes to ntfy priorities 1 (min) .. 5 (max); missing
	// outcomes use Start 2, Success 2, Warning 4, Failure 5.
	Priority map[Outcome]int
	Client   *http.Client // nil: http.DefaultClient
	Retry    Retry
	Logger   *slog.Logger
}

// ntfy turns messages over 4096 bytes into attachments; stay below.
const ntfyMaxBody = 4000

var defaultPriority = map[Outcome]int{Start: 2, Success: 2, Warning: 4, Failure: 5}

var outcomeTag = map[Outcome]string{Start: "arrow_forward", Success: "white_check_mark", Warning: "warning", Failure: "rotating_light"}

// Wants reports whether outcome is sent.
func (n *Ntfy) Wants(o Outcome) bool {
	if n.On == nil {
		return o == Warning || o == Failure
	}
	return slices.Contains(n.On, o)
}

// Send publishes m unless its outcome is not wanted.
func (n *Ntfy) Send(ctx context.Context, m Message) error {
	if !n.Wants(m.Outcome) {
		return nil
	}
	prio, ok := n.Priority[m.Outcome]
	if !ok {
		prio = defaultPriority[m.Outcome]
	}
	if prio == 0 {
		prio = 3
	}
	tags := []string{}
	if t := outcomeTag[m.Outcome]; t != "" {
		tags = append(tags, t)
	}
	tags = append(tags, m.Tags...)
	h := http.Header{}
	h.Set("Title", headerText(m.title()))
	h.Set("Priority", strconv.Itoa(prio))
	if len(tags) > 0 {
		h.Set("Tags", strings.Join(tags, ","))
	}
	switch {
	case n.Token != "":
		h.Set("Authorization", "Bearer "+n.Token)
	case n.Username != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(n.Username+":"+n.Password)))
	}
	body := m.Body
	if body == "" {
		body = m.title()
	}
	return do(ctx, n.Client, n.Retry, n.Logger, request{method: http.MethodPost, url: n.URL, header: h,
		body: []byte(tail(body, ntfyMaxBody))})
}

// headerText encodes non-ASCII text as RFC 2047, which ntfy decodes:
// raw UTF-8 is not allowed in HTTP headers.
func headerText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return mime.BEncoding.Encode("utf-8", s)
		}
	}
	return s
}

// redact drops credentials from a URL before it is logged.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
