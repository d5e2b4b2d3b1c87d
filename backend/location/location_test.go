package location

import (
	"errors"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		loc         string
		backend     Backend
		rest        string
		unsupported bool
	}{
		{"/srv/repo", Local, "/srv/repo", false},
		{"local:/srv/repo", Local, "/srv/repo", false},
		{"relative/dir", Local, "relative/dir", false},
		{"/srv/a:b", Local, "/srv/a:b", false},
		{"odd:/srv/repo", Local, "odd:/srv/repo", false}, // unknown prefix: a path
		{"sftp:user@host:/srv/repo", SFTP, "user@host:/srv/repo", false},
		{"rest:https://host:8000/repo/", REST, "https://host:8000/repo/", false},
		{"b2:bucket:path", B2, "bucket:path", false},
		{"s3:s3.amazonaws.com/bucket", S3, "s3.amazonaws.com/bucket", true},
		{"gs:bucket:/path", GS, "bucket:/path", true},
		{"azure:container:/path", Azure, "container:/path", true},
		{"swift:container:/path", Swift, "container:/path", true},
		{"rclone:remote:path", Rclone, "remote:path", true},
		{"sftp:", SFTP, "", false},
	} {
		b, rest, err := Split(c.loc)
		if b != c.backend || rest != c.rest {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", c.loc, b, rest, c.backend, c.rest)
		}
		if got := errors.Is(err, ErrUnsupported); got != c.unsupported || (err != nil) != c.unsupported {
			t.Errorf("Split(%q) error %v; want unsupported %v", c.loc, err, c.unsupported)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for loc, want := range map[string]string{"/srv/repo": "/srv/repo", "local:/srv/repo": "/srv/repo"} {
		if got, ok := LocalPath(loc); !ok || got != want {
			t.Errorf("LocalPath(%q) = %q, %v; want %q, true", loc, got, ok, want)
		}
	}
	for _, loc := range []string{"sftp:host:/srv/repo", "rest:http://host/", "b2:bucket", "s3:host/bucket"} {
		if got, ok := LocalPath(loc); ok {
			t.Errorf("LocalPath(%q) = %q, true; want false", loc, got)
		}
	}
}
