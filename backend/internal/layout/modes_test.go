package layout

import (
	"io/fs"
	"testing"
)

func TestModesFor(t *testing.T) {
	for _, c := range []struct {
		config uint32
		want   Modes
	}{
		{0o400, Modes{Dir: 0o700, Temp: 0o600, File: 0o400}},
		{0o600, Modes{Dir: 0o700, Temp: 0o600, File: 0o400}},
		{0o440, Modes{Dir: 0o770, Temp: 0o660, File: 0o440}},
		{0o444, Modes{Dir: 0o770, Temp: 0o660, File: 0o440}},
		{0o404, Modes{Dir: 0o700, Temp: 0o600, File: 0o400}}, // others only: not shared
	} {
		if got := ModesFor(fs.FileMode(c.config)); got != c.want {
			t.Errorf("config %o: %+v, want %+v", c.config, got, c.want)
		}
	}
}
