package eventlog

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Read calls fn for every event in r, in order. Lines that are not events
// (a line cut short by a crash, an editor's stray blank line) are skipped
// and counted in bad.
func Read(ctx context.Context, r io.Reader, fn func(Event) error) (bad int, err error) {
	br := bufio.NewReader(r)
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return bad, fmt.Errorf("eventlog: %w", err)
			}
		}
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 {
			var e Event
			if json.Unmarshal(line, &e) != nil || e.Event == "" {
				bad++
			} else if err := fn(e); err != nil {
				return bad, err
			}
		}
		if rerr == io.EOF {
			return bad, nil
		}
		if rerr != nil {
			return bad, fmt.Errorf("eventlog: %w", rerr)
		}
	}
}

// Last returns, for each job, the last event in file that keep accepts
// (nil keeps all), e.g. Event.Finished for `hbackup status`. A missing
// file has no events.
func (l Log) Last(ctx context.Context, file string, keep func(Event) bool) (map[string]Event, error) {
	last := map[string]Event{}
	f, err := os.Open(filepath.Join(l.Dir, file))
	if errors.Is(err, fs.ErrNotExist) {
		return last, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	defer f.Close()
	_, err = Read(ctx, f, func(e Event) error {
		if keep == nil || keep(e) {
			last[e.Job] = e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return last, nil
}
