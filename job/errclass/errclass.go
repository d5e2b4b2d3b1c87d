// Package errclass sorts backup errors into categories that decide what
// happens next: how loud the alert is, whether a person must act, and
// whether the job is worth retrying.
//
// A Classifier tries the user's rules first, then structural checks on
// the error chain (errors.Is on the standard library's and hbackup's
// sentinels), then the built-in text rules. Text rules let errors that
// crossed a process boundary (hook output, log lines) be classified too.
package errclass

import (
	"regexp"
	"strings"
)

// Category names a kind of failure. Users may add their own.
type Category string

// Built-in categories.
const (
	Network          Category = "network"
	Storage          Category = "storage"
	Permission       Category = "permission"
	Lock             Category = "lock"
	RepositoryDamage Category = "repository_damage"
	Authentication   Category = "authentication"
	Configuration    Category = "configuration"
	Hook             Category = "hook"
	SourceRead       Category = "source_read"
	Interrupted      Category = "interrupted"
	Unknown          Category = "unknown"
)

// Severity says how urgent a failure is.
type Severity string

// Severities, from least to most urgent.
const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Error    Severity = "error"
	Critical Severity = "critical"
)

// Severities lists the valid severities in increasing urgency.
func Severities() []Severity { return []Severity{Info, Warning, Error, Critical} }

// Valid reports whether s is one of Severities.
func (s Severity) Valid() bool {
	switch s {
	case Info, Warning, Error, Critical:
		return true
	}
	return false
}

// Rule maps error messages matching Pattern to a classification.
type Rule struct {
	Pattern    *regexp.Regexp
	Category   Category
	Severity   Severity
	Actionable bool   // a person must do something for the next run to succeed
	Retryable  bool   // running the job again soon may succeed
	Advice     string // optional: what to do, for notifications and runbooks
}

// Result is the classification of one error.
type Result struct {
	Category   Category
	Severity   Severity
	Actionable bool
	Retryable  bool
	Advice     string
	// Matched is the pattern of the rule that matched, or a description
	// of the structural check; empty for Unknown.
	Matched string
	Message string // the classified error text
}

// Options tune a Classifier. The zero value uses the built-in rules.
type Options struct {
	// DisableDefaults drops the built-in structural checks and text rules,
	// leaving only the user's rules (and Unknown).
	DisableDefaults bool
}

// Classifier classifies errors. It is immutable and safe for concurrent use.
type Classifier struct {
	user     []Rule
	defaults []Rule
	checks   bool
}

// New returns a Classifier that tries rules in order before the defaults.
func New(rules []Rule, opts Options) *Classifier {
	c := &Classifier{user: append([]Rule(nil), rules...), checks: !opts.DisableDefaults}
	if !opts.DisableDefaults {
		c.defaults = DefaultRules()
	}
	return c
}

// Classify classifies err. A nil error classifies as Unknown with severity Info.
func (c *Classifier) Classify(err error) Result {
	if err == nil {
		return Result{Category: Unknown, Severity: Info}
	}
	msg := err.Error()
	if r, ok := match(c.user, msg); ok {
		return r
	}
	if c.checks {
		if r, ok := structural(err); ok {
			r.Message = msg
			return r
		}
	}
	if r, ok := match(c.defaults, msg); ok {
		return r
	}
	return unknown(msg)
}

// ClassifyText classifies an error message, such as a line of hook output.
func (c *Classifier) ClassifyText(msg string) Result {
	msg = strings.TrimSpace(msg)
	if r, ok := match(c.user, msg); ok {
		return r
	}
	if r, ok := match(c.defaults, msg); ok {
		return r
	}
	return unknown(msg)
}

func match(rules []Rule, msg string) (Result, bool) {
	for _, r := range rules {
		if r.Pattern != nil && r.Pattern.MatchString(msg) {
			return Result{
				Category: r.Category, Severity: r.Severity, Actionable: r.Actionable,
				Retryable: r.Retryable, Advice: r.Advice, Matched: r.Pattern.String(), Message: msg,
			}, true
		}
	}
	return Result{}, false
}

// unknown is deliberately actionable: nobody has taught us this error yet.
func unknown(msg string) Result {
	return Result{Category: Unknown, Severity: Error, Actionable: true, Message: msg,
		Advice: "read the job log; add an error_analysis rule once the cause is known"}
}
