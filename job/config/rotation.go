package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hbackup/hbackup/repo/checker"
)

// SubsetForRun turns a read_data_subset into the one verification run
// number run (0, 1, 2...) should read, so that successive runs rotate
// through the whole repository: "5%" becomes group run%20+1 of 20, and
// "n/t" walks the t groups starting at n. restic's own "x%" picks packs at
// random, which can leave packs unread for a long time. A size (such as
// "500M") cannot rotate and is returned as it is; so is "".
func SubsetForRun(spec string, run int) string {
	if run < 0 {
		run = -run
	}
	if p, ok := strings.CutSuffix(spec, "%"); ok {
		x, err := strconv.ParseFloat(p, 64)
		if err != nil || !(x > 0 && x <= 100) {
			return spec
		}
		t := min(int(math.Ceil(100/x)), checker.MaxBuckets)
		return fmt.Sprintf("%d/%d", run%t+1, t)
	}
	if n, t, ok := strings.Cut(spec, "/"); ok {
		start, err1 := strconv.Atoi(n)
		total, err2 := strconv.Atoi(t)
		if err1 != nil || err2 != nil || total < 1 || start < 1 || start > total {
			return spec
		}
		return fmt.Sprintf("%d/%d", (start-1+run)%total+1, total)
	}
	return spec
}
