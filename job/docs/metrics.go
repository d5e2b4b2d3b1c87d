package docs

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// sample is one metric value read from a textfile.
type sample struct {
	file, name, labels string
	value              float64
}

// readMetrics parses hbackup's files (hbackup_*.prom) in the textfile
// collector directory dir; the directory is shared with other exporters,
// whose files are not ours to show. A file that does not parse is
// reported in bad and skipped.
func readMetrics(ctx context.Context, dir string) (samples []sample, bad []string, err error) {
	paths, err := filepath.Glob(filepath.Join(dir, "hbackup_*.prom"))
	if err != nil {
		return nil, nil, fmt.Errorf("docs: %w", err)
	}
	sort.Strings(paths)
	for _, path := range paths {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("docs: %w", err)
		}
		families, err := parseTextfile(path)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		for name, mf := range families {
			for _, m := range mf.GetMetric() {
				samples = append(samples, sample{file: filepath.Base(path), name: name, labels: labelText(m), value: metricValue(mf.GetType(), m)})
			}
		}
	}
	sort.Slice(samples, func(i, j int) bool {
		a, b := samples[i], samples[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if a.labels != b.labels {
			return a.labels < b.labels
		}
		return a.file < b.file
	})
	return samples, bad, nil
}

func parseTextfile(path string) (map[string]*dto.MetricFamily, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(f)
}

func labelText(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+strconv.Quote(l.GetValue()))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// metricValue is a gauge's or counter's value, or a summary's or
// histogram's sample count.
func metricValue(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_SUMMARY:
		return float64(m.GetSummary().GetSampleCount())
	case dto.MetricType_HISTOGRAM:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetUntyped().GetValue()
}

// valueText prints a value; timestamps also as a date in loc.
func valueText(name string, v float64, loc *time.Location) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if strings.Contains(name, "timestamp") && v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
		sec, frac := math.Modf(v)
		t := time.Unix(int64(sec), int64(frac*1e9)).In(loc)
		s += " (" + t.Format("2006-01-02 15:04:05 MST") + ")"
	}
	return s
}
