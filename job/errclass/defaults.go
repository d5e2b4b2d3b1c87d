package errclass

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"regexp"
	"syscall"

	"github.com/hbackup/hbackup/repo"
)

// class holds the fixed consequences of a built-in category.
type class struct {
	sev                   Severity
	actionable, retryable bool
	advice                string
}

func builtin(c Category) class {
	switch c {
	case Network:
		return class{Warning, false, true, "check the network path to the repository; transient failures are retried"}
	case Storage:
		return class{Critical, true, false, "free space or raise the quota/cap where the repository or cache lives"}
	case Permission:
		return class{Error, true, false, "fix file ownership or permissions, or run the job as a user that can read the sources"}
	case Lock:
		return class{Warning, false, true, "another process holds the repository lock; if it persists and no process is running, run `hbackup unlock`"}
	case RepositoryDamage:
		return class{Critical, true, false, "run `hbackup check --read-data` and repair the repository before the next backup"}
	case Authentication:
		return class{Critical, true, false, "check the password file, credentials in the environment file, SSH keys and host keys"}
	case Configuration:
		return class{Error, true, false, "fix hbackup.toml or the repository location"}
	case Hook:
		return class{Error, true, false, "read the hook's output in the job log and fix the script"}
	case SourceRead:
		return class{Warning, true, false, "some source files could not be read; fix their permissions or exclude them"}
	case Interrupted:
		return class{Warning, false, false, "the job was cancelled; it runs again at its next schedule"}
	}
	return class{Error, true, false, ""}
}

func rule(c Category, pattern string) Rule {
	k := builtin(c)
	return Rule{Pattern: regexp.MustCompile(pattern), Category: c, Severity: k.sev,
		Actionable: k.actionable, Retryable: k.retryable, Advice: k.advice}
}

// DefaultRules returns the built-in text rules, a fresh slice on each call.
// Order matters: the more specific rules (an SSH "Permission denied
// (publickey)" is authentication, not permission) come first.
func DefaultRules() []Rule {
	return []Rule{
		rule(Interrupted, `(?i)\binterrupted\b|signal: interrupt|context canceled`),
		rule(Hook, `(?i)\b(pre_backup|post_backup|on_failure)\b|\bhook\b`),
		rule(SourceRead, `(?i)files or directories skipped|source files? could not be read`),
		rule(Lock, `(?i)repository is already locked|unable to create lock|locked (exclusively|non-exclusively)|lock .* (held|stale)`),
		rule(Authentication, `(?i)wrong password|no key found|authentication failed|unable to authenticate|permission denied \((publickey|password|keyboard)|host key (changed|verification failed)|bad_auth_token|\bunauthorized\b|\b401\b`),
		rule(Storage, `(?i)no space left on device|disk quota exceeded|quota exceeded|read-only file system|file too large|cap exceeded|storage_cap_exceeded|insufficient storage|\b507\b`),
		rule(RepositoryDamage, `(?i)integrity check failed|does not match its (id|name)|ciphertext verification failed|invalid pack header|invalid index|unexpected file size|repository contains errors|blob .* not found in index|pack .* (is missing|does not exist)|(file|pack) damaged or truncated`),
		rule(Network, `(?i)connection (refused|reset|lost|closed|timed out)|broken pipe|no route to host|network is unreachable|i/o timeout|tls handshake timeout|no such host|could not resolve|temporary failure in name resolution|name or service not known|kex_exchange_identification|deadline exceeded|timeout awaiting|unexpected eof|service unavailable|\b50[234]\b|too many requests|\b429\b`),
		rule(Configuration, `(?i)repository does not exist|is there a repository|unknown host key|no such file or directory|is not a directory|invalid (argument|repository|url)|unsupported (backend|repository)|config(uration)? (error|invalid)`),
		rule(Permission, `(?i)permission denied|operation not permitted|access denied|\bforbidden\b|\b403\b`),
	}
}

// structural classifies by the error chain, which is more reliable than
// text when the error comes from this process.
func structural(err error) (Result, bool) {
	var c Category
	var why string
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		c, why = Interrupted, "context.Canceled"
	case errors.Is(err, repo.ErrLocked):
		c, why = Lock, "repo.ErrLocked"
	case errors.Is(err, repo.ErrWrongPassword):
		c, why = Authentication, "repo.ErrWrongPassword"
	case errors.Is(err, repo.ErrIntegrity):
		c, why = RepositoryDamage, "repo.ErrIntegrity"
	case errors.Is(err, repo.ErrNoRepository):
		c, why = Configuration, "repo.ErrNoRepository"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EFBIG):
		c, why = Storage, "ENOSPC/EDQUOT/EROFS/EFBIG"
	case errors.Is(err, fs.ErrPermission):
		c, why = Permission, "fs.ErrPermission"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr):
		c, why = Network, "timeout or net.Error"
	default:
		return Result{}, false
	}
	k := builtin(c)
	return Result{Category: c, Severity: k.sev, Actionable: k.actionable, Retryable: k.retryable,
		Advice: k.advice, Matched: why}, true
}
