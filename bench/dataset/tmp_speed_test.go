package dataset

import (
	"os"
	"testing"
	"time"
)

func TestTmpSpeed(t *testing.T) {
	dir := os.Getenv("GENDIR")
	if dir == "" {
		t.Skip()
	}
	start := time.Now()
	st, err := Generate(dir, Params{Seed: 1, Scale: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v in %v", st, time.Since(start))
	start = time.Now()
	m, err := Scan(dir)
	t.Logf("scan %v %v", time.Since(start), m.Sum)
}
