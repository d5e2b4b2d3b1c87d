package repo

// AddIndexFile merges one decoded index file into the in-memory index.
// LoadIndex stops at the first unreadable index file; a checker loads the
// files one by one with LoadIndexFile instead, reports each failure, and
// adds the good ones with this.
func (r *Repository) AddIndexFile(f *IndexFile) {
	if f != nil {
		r.addIndexFile(f)
	}
}
