package playground

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestBuildVsBare(t *testing.T) {
	s, ts := newRealServer(t, nil)
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), s.builder.goMod, 0o644)
	os.WriteFile(filepath.Join(dir, "go.sum"), s.builder.goSum, 0o644)
	dir2 := t.TempDir()
	os.WriteFile(filepath.Join(dir2, "go.mod"), []byte("module bare\n\ngo 1.26\n"), 0o644)
	var ours, bare, bare2, full time.Duration
	for i := 0; i < 10; i++ {
		src := helloSnippet + "//" + newID() + "\n"
		p, _ := ParseProgram([]byte(src))
		t0 := time.Now()
		_, ws, err := s.builder.compile(ctx, p)
		ours += time.Since(t0)
		s.builder.release(ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{dir, dir2} {
			os.WriteFile(filepath.Join(d, "prog.go"), []byte(src+"//y\n"), 0o644)
			t0 = time.Now()
			cmd := exec.Command("go", append(append([]string{"build", "-o", "prog"}, buildFlags...), ".")...)
			cmd.Dir = d
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatal(string(out))
			}
			if d == dir {
				bare += time.Since(t0)
			} else {
				bare2 += time.Since(t0)
			}
		}
		t0 = time.Now()
		evs := runCode(t, ts.URL, src+"//z\n")
		full += time.Since(t0)
		if i == 9 {
			for _, e := range evs {
				t.Logf("%s %v", e.Kind, e.at.Sub(t0))
			}
			fmt.Println()
		}
	}
	fmt.Println("sandboxed build", ours/10, "bare (same go.mod)", bare/10, "bare (empty go.mod)", bare2/10, "full run", full/10)
}
