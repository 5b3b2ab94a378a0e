// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's
// postgresql package (scripts/test.sh installs it), a new cluster in a
// temporary folder, reachable only by its Unix socket.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Start runs a new PostgreSQL cluster until the end of the test and returns
// its connection URL. It fails the test (never skips it) when PostgreSQL is
// not installed: the test needs it, and scripts/test.sh installs it.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp("", "playdoc-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	// As root, the server runs as the postgres user (it refuses root).
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root needs the postgres user (Debian's postgresql package): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(root, "data")
	cmd := func(name string, args ...string) *exec.Cmd {
		c := exec.Command(filepath.Join(bin, name), args...)
		c.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
		return c
	}
	if out, err := cmd("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	srv := cmd("postgres", "-D", data, "-k", root, "-p", strconv.Itoa(port), "-c", "listen_addresses=")
	logf, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("playdoc-pg-%d.log", port)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		t.Fatalf("pgtest: start postgres: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
		logf.Close()
		os.Remove(logf.Name())
	})
	sock := filepath.Join(root, fmt.Sprintf(".s.PGSQL.%d", port))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		if out, err := exec.CommandContext(ctx, filepath.Join(bin, "pg_isready"), "-h", root, "-p", strconv.Itoa(port)).CombinedOutput(); err == nil {
			break
		} else if ctx.Err() != nil {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("pgtest: postgres not ready at %s: %s\n%s", sock, out, b)
		}
		select {
		case err := <-done:
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("pgtest: postgres exited: %v\n%s", err, b)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Sprintf("postgres://postgres@/postgres?host=%s&port=%d&sslmode=disable", root, port)
}

// binDir is the newest installed PostgreSQL's program folder.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(dirs) == 0 {
		return "", fmt.Errorf("pgtest: PostgreSQL is not installed (apt-get install postgresql; scripts/test.sh installs it)")
	}
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a < b
	})
	return dirs[len(dirs)-1], nil
}

// freePort is a TCP port nobody listens on now: PostgreSQL names its
// socket after the port even when it listens on no TCP address.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
