package hbuild_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/hbackup/hbackup/bench/internal/hbuild"
)

// Build compiles the hbackup of this source tree, as the benchmarks do
// when no -hbackup binary is given.
func ExampleBuild() {
	dir, err := os.MkdirTemp("", "hbuild-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	bin, err := hbuild.Build(context.Background(), dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := exec.Command(bin, "version").Output()
	fmt.Println(err == nil && strings.HasPrefix(string(out), "hbackup "))
	// Output: true
}
