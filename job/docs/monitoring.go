package docs

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/hbackup/hbackup/job/config"
)

func (r *runbook) monitoring() {
	m := &r.m
	mon := r.c.Monitoring
	m.h(2, "Monitoring")
	m.p("- JSON-lines logs: %s (`backup-jobs.jsonl`, `error-analysis.jsonl`, `backup-restore-tests.jsonl`)", code(mon.LogDir))
	if n := mon.Ntfy; n != nil {
		m.p("- ntfy: %s, on %s; priorities %s%s", code(RedactURL(n.URL)), strings.Join(n.On, ", "), priorities(n.Priority), ntfyAuth(n))
	} else {
		m.p("- ntfy: not configured")
	}
	if h := mon.Healthchecks; h != nil {
		m.p("- Healthchecks (default for jobs): %s", healthchecksText(*h))
	}
	var hc []string
	for _, name := range r.c.JobNames() {
		if r.c.Jobs[name].Healthchecks != nil {
			hc = append(hc, name)
		}
	}
	m.p("- Jobs pinging Healthchecks: %s (details under [Jobs](#jobs))", orNone(hc))
	p := mon.Prometheus
	if p.TextfileDir != "" {
		m.p("- Prometheus textfile collector: %s (files `hbackup_<job>.prom`)", code(p.TextfileDir))
	}
	if p.Listen != "" {
		m.p("- Prometheus exporter: `%s exporter --config %s` serves http://%s/metrics", r.cmd, shq(r.c.File), p.Listen)
	}
	if p.TextfileDir == "" && p.Listen == "" {
		m.p("- Prometheus: not configured")
	}
	ea := mon.ErrorAnalysis
	m.p("- Error analysis: built-in rules %s; %d rules of this host tried first\n",
		map[bool]string{true: "disabled", false: "enabled"}[ea.DisableDefaults], len(ea.Rules))
	if len(ea.Rules) > 0 {
		var rows [][]string
		for _, rule := range ea.Rules {
			rows = append(rows, []string{code(rule.Pattern.String()), string(rule.Category), string(rule.Severity),
				yesNo(rule.Actionable), yesNo(rule.Retryable), rule.Advice})
		}
		m.table([]string{"Pattern", "Category", "Severity", "Actionable", "Retryable", "Advice"}, rows)
	}
}

func priorities(p map[string]int) string {
	var parts []string
	for _, o := range []string{config.OutcomeStart, config.OutcomeSuccess, config.OutcomeWarning, config.OutcomeFailure} {
		if v, ok := p[o]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", o, v))
		}
	}
	return strings.Join(parts, ", ")
}

func ntfyAuth(n *config.Ntfy) string {
	switch {
	case n.TokenFile != "":
		return "; access token in " + code(n.TokenFile)
	case n.Token != "":
		return "; access token set in the configuration (not shown)"
	case n.PasswordFile != "":
		return fmt.Sprintf("; user %s, password in %s", code(n.Username), code(n.PasswordFile))
	case n.Password != "":
		return fmt.Sprintf("; user %s, password set in the configuration (not shown)", code(n.Username))
	}
	return ""
}

// healthchecksText describes a check without its UUID: whoever knows it
// can report false successes.
func healthchecksText(h config.Healthchecks) string {
	var s string
	switch {
	case h.URL != "":
		host := "?"
		if u, err := url.Parse(h.URL); err == nil {
			host = u.Host
		}
		s = fmt.Sprintf("ping URL on %s (set in the configuration, not shown)", host)
	case h.UUID != "":
		s = fmt.Sprintf("check UUID set in the configuration (not shown), pinged at %s", RedactURL(h.BaseURL))
	case h.UUIDFile != "":
		s = fmt.Sprintf("check UUID in %s, pinged at %s", code(h.UUIDFile), RedactURL(h.BaseURL))
	default:
		s = "no check named"
	}
	return fmt.Sprintf("%s; start pings %s; %d log lines sent on failure", s, yesNo(h.Start), h.LogLines)
}
