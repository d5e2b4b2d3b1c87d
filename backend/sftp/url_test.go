package sftp

import (
	"slices"
	"testing"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Config
	}{
		// restic's sftp:[user@]host:path form: no port.
		{"sftp:user@host:/srv/repo", Config{User: "user", Host: "host", Path: "/srv/repo"}},
		{"sftp:host:/srv/repo", Config{Host: "host", Path: "/srv/repo"}},
		{"sftp:host:relative/path", Config{Host: "host", Path: "relative/path"}},
		{"sftp:truenas-backup:hass", Config{Host: "truenas-backup", Path: "hass"}},
		{"sftp:host:/srv/repo/", Config{Host: "host", Path: "/srv/repo"}},
		{"sftp:host:a//b/../c", Config{Host: "host", Path: "a/c"}},
		{"sftp:host:.", Config{Host: "host", Path: "."}},
		{"sftp:user@domain@host:repo", Config{User: "user@domain", Host: "host", Path: "repo"}},
		// A colon after the first belongs to the path, as in restic.
		{"sftp:host:222//srv/repo", Config{Host: "host", Path: "222/srv/repo"}},
		{"sftp:host:/srv/a:b", Config{Host: "host", Path: "/srv/a:b"}},

		// The URL form: one slash after the host separates, a second
		// makes the path absolute.
		{"sftp://user@host:2222//srv/repo", Config{User: "user", Host: "host", Port: 2222, Path: "/srv/repo"}},
		{"sftp://user@host//srv/repo", Config{User: "user", Host: "host", Path: "/srv/repo"}},
		{"sftp://host/relative", Config{Host: "host", Path: "relative"}},
		{"sftp://host:22/relative/sub/", Config{Host: "host", Port: 22, Path: "relative/sub"}},
		{"sftp://host/", Config{Host: "host", Path: "."}},
		{"sftp://user@[::1]:2222//srv/repo", Config{User: "user", Host: "::1", Port: 2222, Path: "/srv/repo"}},
		{"sftp://us%40er@host/repo", Config{User: "us@er", Host: "host", Path: "repo"}},
	} {
		got, err := ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		if got.User != tc.want.User || got.Host != tc.want.Host || got.Port != tc.want.Port || got.Path != tc.want.Path {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"sftp:host",                  // no path
		"sftp:host:",                 // empty path
		"sftp::/srv/repo",            // no host
		"sftp:user@:/srv/repo",       // no host after the user
		"sftp:-oProxyCommand=x:repo", // would be an ssh option
		"sftp:host:~/repo",           // servers do not expand ~
		"sftp://host",                // no path
		"sftp://host:port/repo",      // bad port
		"sftp://host:0/repo",         // port 0
		"sftp://host:70000/repo",     // port out of range
		"sftp://user:secret@host/r",  // passwords are not supported
		"sftp:/",                     // nothing
		"local:/srv/repo",            // not sftp
	} {
		if got, err := ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", in, got)
		}
	}
}

func TestLocationString(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"sftp:user@host:/srv/repo", "sftp:host:rel", "sftp://user@host:2222//srv/repo", "sftp://host:2222/rel", "sftp://[::1]:2222//srv"} {
		cfg, err := ParseURL(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := locationString(cfg, cfg.Path); got != in {
			t.Errorf("location of %q is %q", in, got)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"ssh host -s sftp", []string{"ssh", "host", "-s", "sftp"}},
		{"  ssh\t-F /a/b  host  ", []string{"ssh", "-F", "/a/b", "host"}},
		{`ssh -o "ProxyCommand nc %h %p" host`, []string{"ssh", "-o", "ProxyCommand nc %h %p", "host"}},
		{`ssh -i '/path with/space' h`, []string{"ssh", "-i", "/path with/space", "h"}},
		{`a\ b "c\"d" 'e\f' ""`, []string{"a b", `c"d`, `e\f`, ""}},
		{"", nil},
	} {
		got, err := splitCommand(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{`ssh "host`, `ssh 'host`} {
		if _, err := splitCommand(in); err == nil {
			t.Errorf("splitCommand(%q) succeeded", in)
		}
	}
}
