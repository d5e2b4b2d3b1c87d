package metrics

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the collectors in Prometheus' text format. With more than
// one repository, each collector's metrics carry a repository label with
// its key; a single repository keyed "" is served exactly as
// restic-exporter would.
func Handler(collectors map[string]prometheus.Collector) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	for name, c := range collectors {
		var r prometheus.Registerer = reg
		if name != "" {
			r = prometheus.WrapRegistererWith(prometheus.Labels{"repository": name}, reg)
		}
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: registering repository %q: %w", name, err)
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}), nil
}
