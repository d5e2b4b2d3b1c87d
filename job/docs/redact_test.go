package docs

import "testing"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"rest:https://user:secret@host/":             "rest:https://user:***@host/",
		"rest:https://user:p%40ss:w@host:8000/r":     "rest:https://user:***@host:8000/r",
		"rest:https://user@host/":                    "rest:https://user@host/",
		"rest:http://host:8000/":                     "rest:http://host:8000/",
		"sftp:backup@host:/srv/restic":               "sftp:backup@host:/srv/restic",
		"s3:https://s3.example.org/bucket?x=a@b":     "s3:https://s3.example.org/bucket?x=a@b",
		"/srv/restic":                                "/srv/restic",
		"https://u:p@ntfy.example.org/topic":         "https://u:***@ntfy.example.org/topic",
		"rest:https://user:se/cret@host/":            "rest:https://user:se/cret@host/", // not a URL password: "/" ends the host
		"b2:bucket:path":                             "b2:bucket:path",
		"rest:https://user:secret@host/path@version": "rest:https://user:***@host/path@version",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactAll(t *testing.T) {
	in := `Post "rest:https://a:b1@h1/x": refused; retry https://c:d2@h2/y and https://h3/z`
	want := `Post "rest:https://a:***@h1/x": refused; retry https://c:***@h2/y and https://h3/z`
	if got := redactAll(in); got != want {
		t.Errorf("redactAll:\n got %s\nwant %s", got, want)
	}
}

func TestCodeAndQuoting(t *testing.T) {
	for in, want := range map[string]string{"a": "`a`", "a`b": "``a`b``", "`x": "`` `x ``", "": "(empty)"} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"/srv/x": "/srv/x", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "*.tmp": "'*.tmp'"} {
		if got := shq(in); got != want {
			t.Errorf("shq(%q) = %s, want %s", in, got, want)
		}
	}
	if got := cell("a|b\nc"); got != `a\|b c` {
		t.Errorf("cell = %q", got)
	}
}
