package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"playdoc/internal/testenv"
)

// playgroundProc is a `playdoc playground` started by a test.
type playgroundProc struct {
	*serveProc
	cmd *exec.Cmd
}

// startPlayground runs `playdoc playground` on a free port with the test
// data folder and args, waits until it answers /healthz (ready or not), and
// kills it at the end of the test if it still runs.
func startPlayground(t *testing.T, args ...string) *playgroundProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &playgroundProc{serveProc: &serveProc{base: "http://" + addr, logs: &testenv.SyncBuffer{}, done: make(chan struct{})}}
	p.cmd = exec.Command(playdocBin(t), append([]string{"playground", "--addr", addr, "--data", testDataDir(), "--rate", "-1"}, args...)...)
	p.cmd.Dir = repoRoot()
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start playdoc playground: %v", err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("playdoc playground log:\n%s", p.logs.String())
		}
	})
	// Listening is enough: shares need no toolchain. (A kill while the
	// server warms the shared data folder only costs the next server a
	// new warm-up: the folder's marker is written last.)
	p.waitReady(t, "/healthz answering", serveReadyTimeout, func() error {
		_, err := health(p.base)
		return err
	})
	return p
}

// TestShareSurvivesKill: a `playdoc playground` killed (SIGKILL) in the
// middle of a burst of shares loses none whose id it returned: after a
// restart on the same database every one reads back. A backup taken by
// `playdoc playground --share-backup` while the server runs restores them
// too.
func TestShareSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shares.db")
	p := startPlayground(t, "--share-db", db, "--share-per-day", "-1", "--share-bytes-per-day", "-1")

	const sharers = 16
	var mu sync.Mutex
	got := map[string]string{} // id → code, for every 200
	failed := 0                // requests cut by the kill
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := range sharers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				code := fmt.Sprintf("package main\n\nfunc main() { println(%d, %d) }\n", w, i)
				id, err := postShare(ctx, p.base, code)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					got[id] = code
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	// Kill once a good number of shares went through, with the burst
	// still going.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 500 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d shares in 2 minutes", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	time.Sleep(200 * time.Millisecond) // let the sharers see the closed port
	cancel()
	wg.Wait()
	t.Logf("%d ids returned before SIGKILL, %d requests cut", len(got), failed)

	q := startPlayground(t, "--share-db", db)
	check := func(base string) {
		t.Helper()
		for id, code := range got {
			body, status, err := httpGet(base + "/p/" + id + ".go")
			if err != nil || status != 200 || body != code {
				t.Fatalf("after restart, /p/%s.go: %d %q %v; want %q", id, status, body, err, code)
			}
		}
	}
	check(q.base)

	// The production server answers the pages too: /p/ID in the site's
	// look and CSP, a 404 page for an unknown id, and /play/.
	for id := range got {
		body, status, err := httpGet(q.base + "/p/" + id)
		if err != nil || status != 200 || !strings.Contains(body, `id="snippet-play"`) || !strings.Contains(body, `/assets/app.`) {
			t.Errorf("/p/%s: %d %v %.300q", id, status, err, body)
		}
		break
	}
	if body, status, _ := httpGet(q.base + "/p/AAAAAAAAAAA"); status != 404 || !strings.Contains(body, "Snippet not found") {
		t.Errorf("/p/ of an unknown id: %d %.300q", status, body)
	}
	res, err := http.Get(q.base + "/play/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("/play/: %s, CSP %q", res.Status, res.Header.Get("Content-Security-Policy"))
	}

	// Backup while q runs, then restore the copy for a third server.
	backup := filepath.Join(dir, "backup.db")
	out, err := exec.Command(playdocBin(t), "playground", "--share-db", db, "--share-backup", backup).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "backed up ") {
		t.Fatalf("playdoc playground --share-backup: %v\n%s", err, out)
	}
	restored := filepath.Join(dir, "restored", "shares.db")
	if err := os.MkdirAll(filepath.Dir(restored), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restored, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := startPlayground(t, "--share-db", restored)
	check(r.base)
}

// postShare shares code and returns its id; any answer but 200 is an error.
func postShare(ctx context.Context, base, code string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/share", strings.NewReader(code))
	if err != nil {
		return "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != 200 {
		return "", fmt.Errorf("share: %s %s", res.Status, b)
	}
	return string(b), nil
}

// httpGet returns the body and status of a GET.
func httpGet(url string) (string, int, error) {
	res, err := http.Get(url)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), res.StatusCode, err
}
