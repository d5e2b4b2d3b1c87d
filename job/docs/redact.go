package docs

import "strings"

// RedactURL replaces the password of every "scheme://user:password@host"
// in s with "***", as in "rest:https://user:***@host/". A user name alone
// is kept: it is not a secret and the reader needs it.
func RedactURL(s string) string {
	stripped, user, hadPassword := splitCredentials(s)
	if !hadPassword {
		return s
	}
	i := strings.Index(stripped, "://") + 3
	return stripped[:i] + user + ":***@" + stripped[i:]
}

// splitCredentials removes "user:password@" from the first URL in s and
// returns the rest, the user and whether a password was there. Without a
// password s is returned unchanged.
func splitCredentials(s string) (stripped, user string, hadPassword bool) {
	i := strings.Index(s, "://")
	if i < 0 {
		return s, "", false
	}
	start := i + 3
	end := len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	at := strings.LastIndex(s[start:end], "@")
	if at < 0 {
		return s, "", false
	}
	userinfo := s[start : start+at]
	u, _, ok := strings.Cut(userinfo, ":")
	if !ok {
		return s, "", false
	}
	return s[:start] + s[start+at+1:], u, true
}

// redactAll redacts every URL in free text, such as a log message.
func redactAll(s string) string {
	var out strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		end := i + 3 + strings.IndexFunc(s[i+3:]+" ", func(r rune) bool { return r == ' ' || r == '\t' || r == '"' || r == '\'' })
		out.WriteString(RedactURL(s[:end]))
		s = s[end:]
	}
}
