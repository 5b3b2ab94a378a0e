//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseKeyed(t *testing.T) {
	for _, c := range []struct {
		content, key string
		want         int64
	}{
		{"MemTotal:       24684084 kB\nMemFree:         1000 kB\n", "MemTotal:", 24684084},
		{"MemFree:         1000 kB\n", "MemTotal:", -1},
		{"oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill", 3},
		{"usage_usec 1234\nuser_usec 1000\n", "usage_usec", 1234},
		{"usage_usec abc\n", "usage_usec", -1},
		{"usage_usec\n", "usage_usec", -1},
	} {
		if got := parseKeyed(c.content, c.key); got != c.want {
			t.Errorf("parseKeyed(%q, %q) = %d, want %d", c.content, c.key, got, c.want)
		}
	}
}

// The default total memory of all runs is half of the machine's: read
// /proc/meminfo here on our own and compare. A parse that failed on the
// "kB" unit fell back to 1 GiB, so every machine got a 512 MiB total.
func TestDefaultTotalIsHalfTheMachine(t *testing.T) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	var kb int64 = -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "MemTotal:") {
			if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err != nil {
				t.Fatalf("%q: %v", sc.Text(), err)
			}
		}
	}
	if kb <= 0 {
		t.Fatal("no MemTotal in /proc/meminfo")
	}
	if got := memTotal(); got != kb<<10 {
		t.Errorf("memTotal() = %d, /proc/meminfo says %d kB (%d bytes)", got, kb, kb<<10)
	}
	if got := (Totals{}).withDefaults().Memory; got != kb<<10/2 {
		t.Errorf("default total memory %d MiB, want half of %d MiB", got>>20, kb>>10)
	}
}

// TestTotalsCPUWeight: Totals.CPUWeight is the parent cgroup's weight (v1:
// cpu.shares in proportion to the defaults), on every host whose cgroups
// have a cpu controller; out of range, New refuses it.
func TestTotalsCPUWeight(t *testing.T) {
	for _, w := range []int{-1, 10001} {
		if sb, err := New(context.Background(), Options{Totals: Totals{CPUWeight: w}, Warm: -1}); err == nil {
			sb.Close()
			t.Errorf("New accepted Totals.CPUWeight %d", w)
		}
	}
	for _, c := range []struct{ w, shares int }{{1, 10}, {100, 1024}, {500, 5120}, {10000, 102400}} {
		if got := v1Shares(c.w); got != c.shares {
			t.Errorf("v1Shares(%d) = %d, want %d", c.w, got, c.shares)
		}
	}
	sb, err := New(context.Background(), Options{Totals: Totals{CPUWeight: 500}, Warm: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	t.Logf("host features: %v", host)
	if !slices.Contains(host.Controllers, "cpu") {
		if sb.cg != nil && sb.cg.cpu {
			t.Errorf("the sandbox uses a cpu controller the host does not list (%v)", host.Controllers)
		}
		return // no weight to set: the attack-free case, nothing to compare
	}
	if sb.cg == nil || !sb.cg.cpu {
		t.Fatalf("the host lists a cpu controller, the sandbox has none: %v", sb.Layers())
	}
	path, want := filepath.Join(sb.cg.parents["cpu"], "cpu.shares"), "5120"
	if sb.cg.v2 {
		path, want = filepath.Join(sb.cg.parents["unified"], "cpu.weight"), "500"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != want {
		t.Errorf("%s = %s, want %s", path, got, want)
	}
}
