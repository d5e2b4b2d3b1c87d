package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// writeJSON writes one JSON value followed by a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// formatBytes renders a size as restic does (1024-based units).
func formatBytes(n uint64) string {
	switch {
	case n >= 1<<40:
		return fmt.Sprintf("%.3f TiB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.3f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.3f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.3f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func formatDuration(d time.Duration) string {
	s := int(d.Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
