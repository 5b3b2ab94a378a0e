package site

import "testing"

// The link to the full contents names what the top level holds: a flat
// folder of pages is not "sections".
func TestNavAllLabel(t *testing.T) {
	for _, c := range []struct {
		sections, entries int
		want              string
	}{
		{45, 45, "All 45 sections"},
		{0, 1000, "All 1000 pages"},
		{20, 23, "All 20 sections and 3 pages"},
	} {
		if got := navAllLabel(c.sections, c.entries); got != c.want {
			t.Errorf("navAllLabel(%d, %d) = %q, want %q", c.sections, c.entries, got, c.want)
		}
	}
}
