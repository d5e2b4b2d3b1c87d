package hugemem

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// mapped reports whether the page at p is in one of the process's
// mappings.
func mapped(t *testing.T, p uintptr) bool {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	for _, line := range strings.Split(string(maps), "\n") {
		var lo, hi uintptr
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err == nil && lo <= p && p < hi {
			return true
		}
	}
	return false
}

// Free unmaps the whole rounded-up mapping, its unused tail included.
func TestFreeUnmapsRoundedTail(t *testing.T) {
	b := Alloc(3 << 20)
	tail := uintptr(unsafe.Pointer(unsafe.SliceData(b))) + uintptr(cap(b)) - 1
	if !mapped(t, tail) {
		t.Fatal("the rounded-up tail is not mapped")
	}
	Free(b)
	if mapped(t, tail) {
		t.Error("the rounded-up tail is still mapped after Free")
	}
}
