package config

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hbackup/hbackup/job/errclass"
)

func (d *decoder) monitoring(root table) Monitoring {
	m := Monitoring{LogDir: DefaultLogDir}
	t, ok := root.sub("monitoring")
	if !ok {
		return m
	}
	t.known("log_dir", "ntfy", "healthchecks", "prometheus", "error_analysis")
	t.absPath("log_dir", &m.LogDir)
	if n, ok := t.sub("ntfy"); ok {
		m.Ntfy = d.ntfy(n)
	}
	if h, ok := t.sub("healthchecks"); ok {
		m.Healthchecks = d.healthchecks(h, defaultHealthchecks(), true)
	}
	if p, ok := t.sub("prometheus"); ok {
		p.known("textfile_dir", "listen")
		p.absPath("textfile_dir", &m.Prometheus.TextfileDir)
		if v, ok := p.typed("listen", kString); ok {
			_, port, err := net.SplitHostPort(v.str)
			if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
				d.errorf(v.at, v.path, "%q is not a host:port address such as \"127.0.0.1:9436\"", v.str)
			} else {
				m.Prometheus.Listen = v.str
			}
		}
	}
	if e, ok := t.sub("error_analysis"); ok {
		m.ErrorAnalysis = d.errorAnalysis(e)
	}
	return m
}

// httpURL checks that s is an absolute http(s) URL.
func (d *decoder) httpURL(t table, key string, dst *string) bool {
	v, ok := t.typed(key, kString)
	if !ok {
		return false
	}
	u, err := url.Parse(v.str)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.errorf(v.at, v.path, "%q is not an http:// or https:// URL", v.str)
		return false
	}
	*dst = v.str
	return true
}

var outcomes = []string{OutcomeStart, OutcomeSuccess, OutcomeWarning, OutcomeFailure}

var ntfyPriorities = map[string]int{"min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5}

func (d *decoder) ntfy(t table) *Ntfy {
	n := &Ntfy{On: []string{OutcomeWarning, OutcomeFailure},
		Priority: map[string]int{OutcomeStart: 2, OutcomeSuccess: 2, OutcomeWarning: 4, OutcomeFailure: 5}}
	t.known("url", "token", "token_file", "username", "password", "password_file", "on", "priority")
	if d.httpURL(t, "url", &n.URL) {
		if u, _ := url.Parse(n.URL); strings.Trim(u.Path, "/") == "" {
			v, _ := t.get("url")
			d.errorf(v.at, v.path, "%q names no topic; use e.g. \"https://ntfy.sh/my-backups\"", n.URL)
		}
	} else if _, ok := t.get("url"); !ok {
		d.errorf(t.n.keyAt, t.n.path, "missing required key \"url\"")
	}
	t.str("token", &n.Token)
	t.absPath("token_file", &n.TokenFile)
	t.str("username", &n.Username)
	t.str("password", &n.Password)
	t.absPath("password_file", &n.PasswordFile)
	d.exclusive(t, "token", "token_file", "username")
	d.exclusive(t, "password", "password_file")
	if n.Username != "" && n.Password == "" && n.PasswordFile == "" {
		v, _ := t.get("username")
		d.errorf(v.at, v.path, "username needs password or password_file")
	}
	if t.strs("on", &n.On) {
		v, _ := t.get("on")
		for i, o := range n.On {
			if !contains(outcomes, o) {
				d.errorf(v.items[i].at, v.items[i].path, "unknown outcome %q (want start, success, warning or failure)%s", o, didYouMean(o, outcomes))
			}
		}
	}
	if p, ok := t.sub("priority"); ok {
		p.known(outcomes...)
		for _, o := range outcomes {
			v, ok := p.get(o)
			if !ok {
				continue
			}
			switch {
			case v.kind == kInteger && v.i >= 1 && v.i <= 5:
				n.Priority[o] = int(v.i)
			case v.kind == kString && ntfyPriorities[v.str] != 0:
				n.Priority[o] = ntfyPriorities[v.str]
			case v.kind == kInteger:
				d.errorf(v.at, v.path, "priority %d is out of range [1, 5]", v.i)
			default:
				d.errorf(v.at, v.path, "priority must be 1..5 or min, low, default, high, max, urgent")
			}
		}
	}
	return n
}

// exclusive reports keys of which at most one may be set.
func (d *decoder) exclusive(t table, keys ...string) {
	var set []string
	for _, k := range keys {
		if _, ok := t.get(k); ok {
			set = append(set, k)
		}
	}
	if len(set) > 1 {
		v, _ := t.get(set[1])
		d.errorf(v.keyAt, v.path, "%s and %s cannot both be set", set[0], set[1])
	}
}

func defaultHealthchecks() Healthchecks {
	return Healthchecks{BaseURL: DefaultHealthchecksURL, Start: true, LogLines: DefaultLogTailLines}
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// healthchecks decodes a [..healthchecks] table over base; global allows
// base_url and a table without a check (jobs then name their own).
func (d *decoder) healthchecks(t table, base Healthchecks, global bool) *Healthchecks {
	h := base
	keys := []string{"url", "uuid", "uuid_file", "start", "log_lines"}
	if global {
		keys = append(keys, "base_url")
	}
	t.known(keys...)
	d.exclusive(t, "url", "uuid", "uuid_file")
	if _, ok := t.get("url"); ok {
		h.UUID, h.UUIDFile = "", ""
		d.httpURL(t, "url", &h.URL)
	}
	if v, ok := t.typed("uuid", kString); ok {
		h.URL, h.UUIDFile = "", ""
		if uuidRE.MatchString(v.str) {
			h.UUID = v.str
		} else {
			d.errorf(v.at, v.path, "%q is not a UUID such as \"5f6e8c1a-9b2d-4c3e-8f7a-1b2c3d4e5f60\"", v.str)
		}
	}
	if _, ok := t.get("uuid_file"); ok {
		h.URL, h.UUID = "", ""
		t.absPath("uuid_file", &h.UUIDFile)
	}
	if global {
		d.httpURL(t, "base_url", &h.BaseURL)
	}
	t.boolean("start", &h.Start)
	t.integer("log_lines", &h.LogLines, 0, 100000)
	return &h
}

func (d *decoder) jobHealthchecks(t table, global *Healthchecks) *Healthchecks {
	jt, hasJob := t.sub("healthchecks")
	if !hasJob {
		if global == nil || global.URL == "" && global.UUID == "" && global.UUIDFile == "" {
			return nil // neither names a check for this job
		}
		h := *global
		return &h
	}
	base := defaultHealthchecks()
	if global != nil {
		base = *global
	}
	h := d.healthchecks(jt, base, false)
	if h.URL == "" && h.UUID == "" && h.UUIDFile == "" {
		d.errorf(jt.n.keyAt, jt.n.path, "names no check: set url, uuid or uuid_file")
	}
	return h
}

var categoryRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func (d *decoder) errorAnalysis(t table) ErrorAnalysis {
	var ea ErrorAnalysis
	t.known("disable_defaults", "rules")
	t.boolean("disable_defaults", &ea.DisableDefaults)
	v, ok := t.typed("rules", kArray)
	if !ok {
		return ea
	}
	sevs := []string{}
	for _, s := range errclass.Severities() {
		sevs = append(sevs, string(s))
	}
	for _, it := range v.items {
		if it.kind != kTable {
			d.errorf(it.at, it.path, "expected a table, got %s", it.kind)
			continue
		}
		rt := table{d, it}
		rt.known("pattern", "category", "severity", "actionable", "retryable", "advice")
		var r errclass.Rule
		good := true
		if pv, ok := rt.typed("pattern", kString); ok {
			re, err := regexp.Compile(pv.str)
			if err != nil {
				d.errorf(pv.at, pv.path, "bad regular expression: %v", err)
				good = false
			}
			r.Pattern = re
		} else {
			if _, present := rt.get("pattern"); !present {
				d.errorf(it.keyAt, it.path, "missing required key \"pattern\"")
			}
			good = false
		}
		var cat, sev string
		if cv, ok := rt.typed("category", kString); ok && !categoryRE.MatchString(cv.str) {
			d.errorf(cv.at, cv.path, "category %q must be lower case letters, digits and '_'", cv.str)
		} else if ok {
			cat = cv.str
		} else if _, present := rt.get("category"); !present {
			d.errorf(it.keyAt, it.path, "missing required key \"category\"")
		}
		r.Severity = errclass.Error
		if rt.str("severity", &sev) {
			if errclass.Severity(sev).Valid() {
				r.Severity = errclass.Severity(sev)
			} else {
				sv, _ := rt.get("severity")
				d.errorf(sv.at, sv.path, "unknown severity %q (want info, warning, error or critical)%s", sev, didYouMean(sev, sevs))
			}
		}
		r.Category = errclass.Category(cat)
		rt.boolean("actionable", &r.Actionable)
		rt.boolean("retryable", &r.Retryable)
		rt.str("advice", &r.Advice)
		if good && cat != "" {
			ea.Rules = append(ea.Rules, r)
		}
	}
	return ea
}
