package playground

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"playdoc/playground/api"
	"playdoc/sandbox"
)

// runPython runs src with Debian's python3 in a real sandbox and returns
// its stdout, stderr and result.
func runPython(t *testing.T, sb *sandbox.Sandbox, py *Python, src string) (string, string, sandbox.Result) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := sb.Start(context.Background(), py.Spec(dir, sandbox.Limits{WallTime: 20 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	for {
		c, err := p.Output.Next()
		if err != nil {
			break
		}
		if c.Stream == sandbox.Stderr {
			errb.Write(c.Data)
		} else {
			out.Write(c.Data)
		}
	}
	res, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), res
}

// TestPythonInTheSandbox runs the tutorial's kinds of Python program
// (asyncio, threads, processes, the standard library's C modules) with
// Debian's python3 in the real sandbox: they work, and the host stays
// out of reach.
func TestPythonInTheSandbox(t *testing.T) {
	py, err := FindPython("")
	if err != nil {
		t.Fatalf("%v (scripts/test.sh installs python3)", err)
	}
	defer py.Close()
	sb, err := sandbox.New(context.Background(), sandbox.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cases := []struct{ name, src, want string }{
		{"asyncio gather", `import asyncio, time
async def task(n):
    await asyncio.sleep(0.5)
    return n
async def main():
    t = time.perf_counter()
    print(await asyncio.gather(task(1), task(2), task(3)))
    print("concurrent:", time.perf_counter() - t < 1.2)
asyncio.run(main())
`, "[1, 2, 3]\nconcurrent: True\n"},
		{"threads", `import threading
out = []
ts = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(sorted(out))
`, "[0, 1, 2, 3]\n"},
		{"C modules", `import json, sqlite3, hashlib, zlib, ssl, decimal, ctypes
db = sqlite3.connect(":memory:")
print(db.execute("select 1 + 1").fetchone()[0], hashlib.sha256(b"x").hexdigest()[:8], json.dumps({"a": 1}))
`, "2 2d711642 {\"a\": 1}\n"},
		{"unbuffered output", `import time, sys
print("first")
time.sleep(0.3)
print("second", file=sys.stderr)
`, "first\n"},
		{"processes", `from concurrent.futures import ProcessPoolExecutor
import multiprocessing as mp
if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2) as ex:
        print(list(ex.map(abs, [-1, -2, -3])))
    with mp.Pool(2) as pool:
        print(pool.map(abs, [-4, -5]))
`, "[1, 2, 3]\n[4, 5]\n"},
		{"host invisible", `import os
for p in ["/etc/shadow", "/root", "/usr/bin/python3", "/home"]:
    print(p, os.path.exists(p))
# The sandbox's own /etc/passwd names only its user, not the host's.
print("root:" in open("/etc/passwd").read())
`, "/etc/shadow False\n/root False\n/usr/bin/python3 False\n/home False\nFalse\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, res := runPython(t, sb, py, c.src)
			if out != c.want || res.ExitCode != 0 {
				t.Errorf("stdout %q (exit %d %s), want %q\nstderr:\n%s", out, res.ExitCode, res.Reason, c.want, errOut)
			}
			if c.name == "unbuffered output" && !strings.Contains(errOut, "second") {
				t.Errorf("stderr %q", errOut)
			}
		})
	}
}

// TestRealPythonRunThroughTheAPI runs a Python program through POST
// /api/run with "lang": "python": the events of a Go run (compile-start,
// compile-end, start, timed output, exit) come back, each print when it
// happened; an unknown lang is a 400.
func TestRealPythonRunThroughTheAPI(t *testing.T) {
	_, ts := newRealServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := "import asyncio\n\nasync def main():\n    print('before')\n    await asyncio.sleep(0.4)\n    print('after')\n\nasyncio.run(main())\n"
	resp := postJSON(t, ctx, ts.URL+"/api/run", map[string]string{"code": src, "lang": "python"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	evs := readEvents(t, resp.Body, nil)
	if got := output(evs, api.KindStdout); got != "before\nafter\n" {
		t.Fatalf("stdout %q; events %s", got, kinds(evs))
	}
	var times []time.Duration
	for _, e := range evs {
		if e.Kind == api.KindStdout {
			times = append(times, e.T)
		}
	}
	if gap := times[1] - times[0]; gap < 350*time.Millisecond {
		t.Errorf("the two prints %v apart, want the 400 ms sleep between them (buffered output?)", gap)
	}
	exit, ok := find(evs, api.KindExit)
	if !ok || exit.Code != 0 {
		t.Errorf("exit %+v", exit.Event)
	}
	resp = postJSON(t, ctx, ts.URL+"/api/run", map[string]string{"code": src, "lang": "cobol"})
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("lang cobol: status %d, want 400", resp.StatusCode)
	}
}

// TestRealRunBothFromOneClient is the page's "Run both": one client posts a
// Python and a Go program at the same moment, under the default rate limit
// and admission. Both are admitted (no 429 or 503) and run at the same time:
// each program started (its start event) before the other one ended.
func TestRealRunBothFromOneClient(t *testing.T) {
	_, ts := newRealServer(t, func(c *Config) { c.RateLimit = 0 }) // 0: DefaultConfig's limit
	py := "import asyncio\n\nasync def main():\n    print('py start', flush=True)\n    await asyncio.sleep(1)\n    print('py end')\n\nasyncio.run(main())\n"
	goSrc := uniq("package main\n\nimport (\n\t\"fmt\"\n\t\"time\"\n)\n\nfunc main() {\n\tfmt.Println(\"go start\")\n\ttime.Sleep(time.Second)\n\tfmt.Println(\"go end\")\n}\n")
	runCode(t, ts.URL, goSrc) // build it first, so that both start at once below
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type result struct {
		status     int
		start, end time.Time // client receipt of the start and the exit event
		evs        []timedEvent
	}
	var results [2]result
	var wg sync.WaitGroup
	for i, body := range []map[string]string{{"code": py, "lang": "python"}, {"code": goSrc}} {
		wg.Go(func() {
			resp := postJSON(t, ctx, ts.URL+"/api/run", body)
			results[i].status = resp.StatusCode
			if resp.StatusCode != 200 {
				resp.Body.Close()
				return
			}
			results[i].evs = readEvents(t, resp.Body, func(e timedEvent) {
				if e.Kind == api.KindStart {
					results[i].start = e.at
				}
				if e.Kind == api.KindExit {
					results[i].end = e.at
				}
			})
		})
	}
	wg.Wait()
	for i, lang := range []string{"python", "go"} {
		r := results[i]
		if r.status != 200 {
			t.Fatalf("%s: status %d, want both runs of one client admitted", lang, r.status)
		}
		if got, want := output(r.evs, api.KindStdout), lang[:2]+" start\n"+lang[:2]+" end\n"; got != want {
			t.Fatalf("%s: stdout %q, want %q; events %s", lang, got, want, kinds(r.evs))
		}
	}
	py0, go0 := results[0], results[1]
	if py0.start.IsZero() || go0.start.IsZero() || py0.start.After(go0.end) || go0.start.After(py0.end) {
		t.Errorf("the runs did not overlap: python started %v after go ended, or go %v after python ended",
			py0.start.Sub(go0.end), go0.start.Sub(py0.end))
	}
}

// TestRealProgramsGetTwoCPUs: the default quota (RunCPUs 2) lets a Go
// program use two CPUs, so goroutines can show a parallel speed-up (the
// CPU-bound page's "Run both"); Go sets GOMAXPROCS from the quota.
func TestRealProgramsGetTwoCPUs(t *testing.T) {
	_, ts := newRealServer(t, nil)
	evs := runCode(t, ts.URL, uniq("package main\n\nimport (\n\t\"fmt\"\n\t\"runtime\"\n)\n\nfunc main() { fmt.Println(runtime.GOMAXPROCS(0)) }\n"))
	if got, want := output(evs, api.KindStdout), fmt.Sprintln(min(2, runtime.NumCPU())); got != want {
		t.Errorf("GOMAXPROCS in the sandbox: %q, want %q; events %s", got, want, kinds(evs))
	}
}
