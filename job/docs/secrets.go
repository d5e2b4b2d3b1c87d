package docs

import "sort"

// secretFile is one file that holds a secret.
type secretFile struct{ path, holds, usedBy string }

func (r *runbook) secrets() {
	m := &r.m
	c := r.c
	m.h(2, "Keys and secrets")
	m.p("These files hold the secrets; this runbook names them and never shows their contents.")
	m.p("Keep copies of the repository password files off this host: without them the backups cannot be")
	m.p("read by anyone, including you.\n")
	var files []secretFile
	for _, name := range c.RepositoryNames() {
		repo := c.Repositories[name]
		files = append(files, secretFile{repo.PasswordFile, "password of repository " + name, orNone(r.users(name))})
		if repo.EnvironmentFile != "" {
			files = append(files, secretFile{repo.EnvironmentFile, "environment (storage credentials) of repository " + name, orNone(r.users(name))})
		}
	}
	if n := c.Monitoring.Ntfy; n != nil {
		if n.TokenFile != "" {
			files = append(files, secretFile{n.TokenFile, "ntfy access token", "notifications"})
		}
		if n.PasswordFile != "" {
			files = append(files, secretFile{n.PasswordFile, "ntfy password", "notifications"})
		}
	}
	if h := c.Monitoring.Healthchecks; h != nil && h.UUIDFile != "" {
		files = append(files, secretFile{h.UUIDFile, "Healthchecks check UUID", "monitoring"})
	}
	for _, name := range c.JobNames() {
		if h := c.Jobs[name].Healthchecks; h != nil && h.UUIDFile != "" {
			files = append(files, secretFile{h.UUIDFile, "Healthchecks check UUID", "job " + name})
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].path < files[j].path })
	var rows [][]string
	for _, f := range files {
		if len(rows) > 0 && rows[len(rows)-1][0] == code(f.path) {
			prev := rows[len(rows)-1]
			prev[1] += "; " + f.holds
			continue
		}
		rows = append(rows, []string{code(f.path), f.holds, f.usedBy})
	}
	m.table([]string{"File", "Holds", "Used by"}, rows)
	if inline := r.inlineSecrets(); len(inline) > 0 {
		m.p("The configuration file %s itself holds secrets, so protect it like the files above (mode 0600):", code(c.File))
		for _, s := range inline {
			m.p("- %s", code(s))
		}
		m.p("")
	}
}

// inlineSecrets lists the keys of the config file that hold a secret.
func (r *runbook) inlineSecrets() []string {
	c := r.c
	var keys []string
	for _, name := range c.RepositoryNames() {
		if _, _, ok := splitCredentials(c.Repositories[name].URL); ok {
			keys = append(keys, "repositories."+name+".url")
		}
	}
	if n := c.Monitoring.Ntfy; n != nil {
		if n.Token != "" {
			keys = append(keys, "monitoring.ntfy.token")
		}
		if n.Password != "" {
			keys = append(keys, "monitoring.ntfy.password")
		}
		if _, _, ok := splitCredentials(n.URL); ok {
			keys = append(keys, "monitoring.ntfy.url")
		}
	}
	global := c.Monitoring.Healthchecks
	if global != nil && (global.URL != "" || global.UUID != "") {
		keys = append(keys, "monitoring.healthchecks")
	}
	for _, name := range c.JobNames() {
		h := c.Jobs[name].Healthchecks
		if h == nil || h.URL == "" && h.UUID == "" {
			continue
		}
		// A job that inherits the global check holds no secret of its own.
		if global != nil && h.URL == global.URL && h.UUID == global.UUID {
			continue
		}
		keys = append(keys, "jobs."+name+".healthchecks")
	}
	return keys
}
