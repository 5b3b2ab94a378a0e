package sandbox

import "testing"

func TestSmoke(t *testing.T) {
	sb := newSandbox(t)
	for _, l := range sb.Layers() {
		t.Logf("%+v", l)
	}
	o := hostile(t, sb, Limits{}, "whoami")
	t.Logf("%v", o)
	expectHello(t, sb)
}
