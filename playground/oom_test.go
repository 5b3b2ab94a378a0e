package playground

import (
	"strings"
	"testing"
	"time"

	"playdoc/playground/api"
)

// TestRealMemoryBombsEndInOOM runs programs that take all the memory they
// can, on a server whose run time limit is far above what touching the
// memory limit takes even on a loaded machine: the outcome must be "oom",
// never "timeout" (with a 2 s limit, a busy machine let the clock win).
func TestRealMemoryBombsEndInOOM(t *testing.T) {
	_, ts := newRealServer(t, func(c *Config) { c.RunTimeout = time.Minute })
	cases := []struct{ name, imports, body string }{
		{"growing slices", `"fmt"`, `var keep [][]byte; for { b := make([]byte, 64<<20); for i := range b { b[i] = 1 }; keep = append(keep, b); fmt.Println(len(keep)) }`},
		{"allocate 4 GiB", ``, `b := make([]byte, 4<<30); for i := range b { b[i] = 1 }; println(len(b), "ESCAPED")`},
		{"map of strings", `"strings"`, `m := map[int]string{}; for i := 0; ; i++ { m[i] = strings.Repeat("x", 4096) }`},
		{"goroutine stacks", `"time"`, `for { go func() { var a [64 << 10]byte; a[0] = 1; time.Sleep(time.Hour); _ = a }() }`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := uniq("package main\n\nimport (" + c.imports + ")\n\nfunc main() {\n\t" + c.body + "\n}\n")
			evs := runCode(t, ts.URL, src)
			exit, ok := find(evs, api.KindExit)
			if !ok {
				t.Fatalf("no exit: %s %+v", kinds(evs), evs[len(evs)-1].Event)
			}
			if exit.Reason != api.ReasonOOM {
				t.Errorf("exit = %+v, want reason %q", exit.Event, api.ReasonOOM)
			}
			if exit.Message == "" {
				t.Error("no message for the user")
			}
			if out := output(evs, api.KindStdout) + output(evs, api.KindStderr); strings.Contains(out, "ESCAPED") {
				t.Errorf("escape:\n%s", firstLines(out, 5))
			}
			if evs := runCode(t, ts.URL, "package main\n\nfunc main() { println(\"next\") }\n"); output(evs, api.KindStderr) != "next\n" {
				t.Errorf("the next run: %s", kinds(evs))
			}
		})
	}
}
