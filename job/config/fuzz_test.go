package config

import (
	"os"
	"testing"
)

// FuzzParse checks that no document makes Parse panic, and that a
// failure always comes with at least one positioned error.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../../examples/hbackup.toml"); err == nil {
		f.Add(string(data))
	}
	for _, s := range []string{base, "[jobs.a]\npaths = [\"/a\"]", "a = {b = {c = [1, {d = 2}]}}", "[[x]]\n[x.y]\nz = 1",
		"[a]\nb.c = 1\n[a.b]", "jobs.a.paths = [\"/\"]\njobs.a.zfs = []", "x = 0x1F\ny = -inf\nz = 1979-05-27T07:32:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := Parse("fuzz.toml", []byte(doc))
		if err == nil {
			if c == nil || c.Timezone == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		es, ok := err.(Errors)
		if !ok || len(es) == 0 {
			t.Fatalf("error %v is not a non-empty Errors", err)
		}
	})
}
