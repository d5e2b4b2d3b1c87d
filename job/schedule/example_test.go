package schedule_test

import (
	"fmt"
	"time"

	"github.com/hbackup/hbackup/job/schedule"
)

func ExampleSchedule_Next() {
	s, err := schedule.Parse("Mon..Fri 03:00", time.UTC)
	if err != nil {
		fmt.Println(err)
		return
	}
	t := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) // a Friday
	for range 3 {
		t = s.Next(t)
		fmt.Println(t.Format("Mon 2006-01-02 15:04"))
	}
	// Output:
	// Mon 2026-11-23 03:00
	// Tue 2026-11-24 03:00
	// Wed 2026-11-25 03:00
}
