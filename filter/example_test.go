package filter_test

import (
	"fmt"

	"github.com/hbackup/hbackup/filter"
)

func ExampleMatch() {
	patterns, err := filter.ParsePatterns([]string{"*.go", "foo/**/bar", "/tmp", "!/tmp/keep"})
	if err != nil {
		panic(err)
	}
	for _, path := range []string{
		"/home/user/main.go",
		"/home/user/foo/x/y/bar/file",
		"/home/user/foobar",
		"/tmp/junk",
		"/tmp/keep/notes",
		"/var/tmp",
	} {
		fmt.Println(path, filter.Match(patterns, path))
	}
	// Output:
	// /home/user/main.go true
	// /home/user/foo/x/y/bar/file true
	// /home/user/foobar false
	// /tmp/junk true
	// /tmp/keep/notes false
	// /var/tmp false
}

func ExamplePattern_ChildMatch() {
	p, err := filter.ParsePattern("/home/*/Documents")
	if err != nil {
		panic(err)
	}
	for _, dir := range []string{"/home", "/home/bob", "/home/bob/Music", "/etc"} {
		fmt.Println(dir, p.ChildMatch(dir))
	}
	// Output:
	// /home true
	// /home/bob true
	// /home/bob/Music false
	// /etc false
}

func ExampleExcluder_ExcludedByName() {
	e, err := filter.NewExcluder(filter.ExcludeOptions{
		Excludes:            []string{"node_modules", "*.o"},
		InsensitiveExcludes: []string{"thumbs.db"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(e.ExcludedByName("/src/app/node_modules/left-pad/index.js"))
	fmt.Println(e.ExcludedByName("/src/app/Thumbs.DB"))
	fmt.Println(e.ExcludedByName("/src/app/main.c"))
	// Output:
	// true
	// true
	// false
}

func ExampleNewExcluder_invalidPattern() {
	_, err := filter.NewExcluder(filter.ExcludeOptions{Excludes: []string{"*.log", "[abc"}})
	fmt.Println(err)
	// Output:
	// --exclude: invalid pattern(s) provided:
	// [abc
}

func ExampleRestoreSelector_Select() {
	s, err := filter.NewRestoreSelector(filter.RestoreOptions{Includes: []string{"/work/foo"}})
	if err != nil {
		panic(err)
	}
	for _, item := range []struct {
		path  string
		isDir bool
	}{
		{"/work", true},
		{"/work/foo", false},
		{"/work/bar", true},
	} {
		selected, enter := s.Select(item.path, item.isDir)
		fmt.Printf("%s selected=%v enter=%v\n", item.path, selected, enter)
	}
	// Output:
	// /work selected=false enter=true
	// /work/foo selected=true enter=false
	// /work/bar selected=false enter=false
}

func ExampleParseSize() {
	for _, s := range []string{"2048", "1k", "20M", "2T", "1.5G"} {
		n, err := filter.ParseSize(s)
		fmt.Println(s, n, err != nil)
	}
	// Output:
	// 2048 2048 false
	// 1k 1024 false
	// 20M 20971520 false
	// 2T 2199023255552 false
	// 1.5G 0 true
}
