package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"playdoc/devserver"
	"playdoc/internal/testenv"
)

// TestServe drives the playground on the real tutorial, served with its
// playground API by `playdoc serve` on a free port.
func TestServe(t *testing.T) {
	base := startServe(t)
	browser := newBrowser(t)
	url := base + "/asyncio/gather/"

	t.Run("gather-streams-in-2s", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkGather(t, p, "gather")
		p.noConsoleErrors()
	})
	t.Run("lanes", func(t *testing.T) {
		// The gather snippet's fence has trace: its toggle is on.
		p := openPage(t, browser, url)
		checkLanes(t, p, "gather", "gather", true)
		p.noConsoleErrors()
	})
	t.Run("lanes-cpu", func(t *testing.T) {
		// The CPU-bound page's parallel snippet: goroutines queuing for
		// the processors.
		p := openPage(t, browser, base+"/asyncio/cpu-bound-work/")
		checkCPULanes(t, p, "cpu-parallel", "cpu-bound")
		p.noConsoleErrors()
	})
	t.Run("lanes-syscall", func(t *testing.T) {
		// Best practices' blocking calls: two lanes hold a thread each.
		p := openPage(t, browser, base+"/asyncio/best-practices/")
		checkThreadLanes(t, p, "blocking-is-fine", "syscall.Nanosleep(", "blocking-calls")
		p.noConsoleErrors()
	})
	t.Run("compile-error", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkCompileError(t, p, "gather")
		p.noConsoleErrors()
	})
	t.Run("deadlock", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkStuck(t, p, "gather")
		p.noConsoleErrors()
	})
	t.Run("stop", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkStop(t, p, "gather", base)
		p.noConsoleErrors()
	})
	t.Run("keyboard", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkKeyboard(t, p, "concurrent", runTimeout)
		p.noConsoleErrors()
	})
	t.Run("narrow", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkNarrow(t, p, url, "gather", "gather-360px.png")
		p.noConsoleErrors()
	})
	t.Run("compare", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkCompare(t, p)
		p.noConsoleErrors()
	})
	t.Run("run-both-gather", func(t *testing.T) {
		p := openPage(t, browser, url)
		// The Go program's build is cached first, so that both programs
		// start within moments of each other (a build takes seconds here).
		p.run("gather", runTimeout)
		r := checkRunBoth(t, p, "gather", "py-gather", "gather", 2*runTimeout)
		checkGatherBoth(t, r)
		screenshotsBoth(t, p, "gather", "run-both-gather")
		checkNarrowBoth(t, p, url, "gather", "py-gather", "gather", "run-both-gather-360px.png", 2*runTimeout)
		p.noConsoleErrors()
	})
	t.Run("run-both-cpu", func(t *testing.T) {
		p := openPage(t, browser, base+"/asyncio/cpu-bound-work/")
		p.run("cpu-parallel", runTimeout) // its build, cached
		r := checkRunBoth(t, p, "gil", "py-cpu-threads", "cpu-parallel", 2*runTimeout)
		checkCPUBoth(t, r)
		screenshotsBoth(t, p, "gil", "run-both-cpu")
		p.noConsoleErrors()
	})
	t.Run("screenshots", func(t *testing.T) {
		p := openPage(t, browser, url)
		if st := p.run("gather", runTimeout); st.WallMs < 0 {
			t.Errorf("run before the screenshots: foot %q", st.Foot)
		}
		checkScreenshots(t, p, "gather", "gather")
		p.noConsoleErrors()
	})
}

// TestStatic builds the site with `playdoc build` and serves public/ with a
// plain file server, as a static host would: /api/ is 404, so Run must fall
// back to the recorded output.
func TestStatic(t *testing.T) {
	out := buildSite(t)
	srv := &http.Server{Handler: devserver.WithCSP(http.FileServer(http.Dir(out))), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	p := openPage(t, newBrowser(t), "http://"+ln.Addr().String()+"/asyncio/gather/")
	checkFallback(t, p, "gather", "static-fallback.png")
	p.noConsoleErrors("404")
}

// buildSite runs `playdoc build` from the repository root into a temporary
// folder and returns it.
func buildSite(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command(playdocBin(t), "build", "--out", out)
	cmd.Dir = repoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("playdoc build --out %s: %v\n%s", out, err, b)
	}
	return out
}

// serveProc is a `playdoc serve` started by a test.
type serveProc struct {
	base    string
	logs    *testenv.SyncBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error         // its exit status, once done is closed
}

// runServe starts `playdoc serve --addr <a free port> args...` in dir and
// stops it at the end of the test (SIGINT, then SIGKILL after 10 s), showing
// its log if the test failed. With cleanExit, a serve that does not exit
// cleanly and promptly on SIGINT fails the test.
func runServe(t testing.TB, dir string, cleanExit bool, args ...string) *serveProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &serveProc{base: "http://" + addr, logs: &testenv.SyncBuffer{}, done: make(chan struct{})}
	cmd := exec.Command(playdocBin(t), append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start playdoc serve: %v", err)
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
			if cleanExit && s.waitErr != nil {
				t.Errorf("playdoc serve did not exit cleanly on Ctrl-C: %v", s.waitErr)
			}
		case <-time.After(10 * time.Second):
			if cleanExit {
				t.Errorf("playdoc serve still running 10 s after Ctrl-C")
			}
			cmd.Process.Signal(syscall.SIGKILL)
			<-s.done
		}
		if t.Failed() {
			t.Logf("playdoc serve log:\n%s", s.logs.String())
		}
	})
	return s
}

// waitReady polls check until it returns nil, failing the test if serve
// exits first or check still fails after timeout (reporting its last error
// as the reason).
func (s *serveProc) waitReady(t testing.TB, what string, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.done:
			t.Fatalf("playdoc serve exited before serving: %v\n%s", s.waitErr, s.logs.String())
		default:
		}
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("playdoc serve: %s not within %v (last: %v)\n%s", what, timeout, err, s.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startServe runs `playdoc serve` from the repository root on a free port,
// waits until /healthz says the playground is ready, and stops it (SIGINT,
// then SIGKILL) at the end of the test. It returns the base URL.
func startServe(t *testing.T) string {
	t.Helper()
	s := startServeProc(t)
	s.waitPlaygroundReady(t, serveReadyTimeout)
	return s.base
}

// startServeProc runs `playdoc serve` like startServe but returns as soon
// as the site answers, before the playground is ready.
func startServeProc(t *testing.T) *serveProc {
	t.Helper()
	// Shares go to a database of the test's, not the user's data folder.
	s := runServe(t, repoRoot(), false, "--data", testDataDir(), "--share-db", filepath.Join(t.TempDir(), "shares.db"))
	s.waitReady(t, "the site served", serveReadyTimeout, func() error { return httpOK(s.base + "/") })
	return s
}

// waitPlaygroundReady waits for the playground's toolchain: the first start
// prepares the sandbox's Go build cache, which takes a while on a busy
// machine.
func (s *serveProc) waitPlaygroundReady(t *testing.T, timeout time.Duration) {
	t.Helper()
	s.waitPlayground(t, "the playground ready", func(h healthz) bool { return h.Ready }, timeout)
}

// waitPlaygroundCore waits for the first stage of the playground's warm-up
// (/healthz's coreReady): programs that import only the common standard
// packages (fmt, sync, time, ...) build from then on, long before a new
// machine has compiled the allowed modules.
func (s *serveProc) waitPlaygroundCore(t *testing.T, timeout time.Duration) {
	t.Helper()
	s.waitPlayground(t, "the playground's common standard packages warm", func(h healthz) bool { return h.CoreReady }, timeout)
}

// waitPlayground waits until ready(/healthz) holds; a playground that
// reports itself broken fails the test at once.
func (s *serveProc) waitPlayground(t *testing.T, what string, ready func(healthz) bool, timeout time.Duration) {
	t.Helper()
	s.waitReady(t, what, timeout, func() error {
		h, err := health(s.base)
		switch {
		case err != nil:
			return fmt.Errorf("/healthz: %w; is the API mounted?", err)
		case !h.OK:
			t.Fatalf("playdoc serve: /healthz reports the playground broken: %s\n%s", h.Error, s.logs.String())
		case !ready(h):
			return fmt.Errorf("/healthz: %+v", h)
		}
		return nil
	})
}

// testDataDir is the playground data folder that every test package and
// scripts/test.sh's `playdoc check` share, so that a new machine warms the
// sandbox's build cache once, not once per package.
func testDataDir() string { return testenv.PlaygroundDataDir() }

// serveReadyTimeout bounds the toolchain preparation of a first start.
const serveReadyTimeout = 5 * time.Minute

// healthz is the /healthz answer (docs/contracts.md §3).
type healthz struct {
	OK      bool   `json:"ok"`
	Running int    `json:"running"`
	Queued  int    `json:"queued"`
	Ready   bool   `json:"ready"`
	Error   string `json:"error"`
	// CoreReady: the warm-up's first stage is over (playground's healthResponse).
	CoreReady bool `json:"coreReady"`
}

func health(base string) (healthz, error) {
	var h healthz
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return h, fmt.Errorf("healthz: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return h, fmt.Errorf("healthz: %w", err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		return h, fmt.Errorf("healthz: status %s: %w", res.Status, err)
	}
	return h, nil
}
