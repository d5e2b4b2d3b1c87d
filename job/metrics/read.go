package metrics

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one value of a job's textfile.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Read returns the samples in job's file, sorted by name, for `hbackup
// status` and `hbackup docs`. A job that never wrote metrics has none.
func (t Textfile) Read(job string) ([]Sample, error) {
	f, err := os.Open(t.Path(job))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		return nil, fmt.Errorf("metrics: %s: %w", t.Path(job), err)
	}
	var out []Sample
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			s := Sample{Name: name, Labels: map[string]string{}}
			for _, lp := range m.GetLabel() {
				s.Labels[lp.GetName()] = lp.GetValue()
			}
			switch {
			case m.GetGauge() != nil:
				s.Value = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				s.Value = m.GetCounter().GetValue()
			case m.GetUntyped() != nil:
				s.Value = m.GetUntyped().GetValue()
			default:
				continue
			}
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
