package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binEnv names the environment variable through which TestMain hands the
// playdoc binary it built to the tests (set it beforehand to test a binary
// built elsewhere).
const binEnv = "PLAYDOC_E2E_BIN"

// chromiumEnv may name the Chromium executable; by default it is Debian's
// chromium on PATH.
const chromiumEnv = "PLAYDOC_E2E_CHROMIUM"

// TestMain checks that Chromium is installed, builds playdoc once for all
// the tests and starts the Chromium they share (startChromium).
func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	if _, err := chromiumPath(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if os.Getenv(binEnv) == "" {
		dir, err := os.MkdirTemp("", "playdoc-e2e-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "playdoc")
		cmd := exec.Command("go", "build", "-ldflags=-w", "-o", bin, "./cmd/playdoc") // no DWARF: a cheaper link
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/playdoc: %v\n%s", err, out)
			return 1
		}
		os.Setenv(binEnv, bin)
	}
	if os.Getenv(browserEnv) == "" {
		wsURL, stop, err := startChromium()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer stop()
		os.Setenv(browserEnv, wsURL)
	}
	return m.Run()
}

// chromiumPath finds the browser, or explains how to install it.
func chromiumPath() (string, error) {
	if p := os.Getenv(chromiumEnv); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found: the browser tests need Debian's chromium "+
		"(apt-get install -y chromium; scripts/test.sh installs it) or %s=/path/to/chrome", chromiumEnv)
}

// repoRoot is the module root: the tests run in e2e/.
func repoRoot() string {
	abs, err := filepath.Abs("..")
	if err != nil {
		return ".."
	}
	return abs
}

// playdocBin is the binary that TestMain built.
func playdocBin(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(binEnv)
	if bin == "" {
		t.Fatalf("%s is not set: TestMain did not build playdoc", binEnv)
	}
	return bin
}
