package devserver

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"playdoc/internal/testenv"
	"playdoc/site"
)

// TestErrorDelay: a failed build's errors are held back ErrorDelay, on the
// bubble's fake clock, and a build that starts within it supersedes them:
// a save caught half-written never shows.
func TestErrorDelay(t *testing.T) {
	content := fstest.MapFS{}
	for _, name := range []string{"01-one.md", "02-two.md"} {
		b, err := os.ReadFile("testdata/content/" + name)
		if err != nil {
			t.Fatal(err)
		}
		content[name] = &fstest.MapFile{Data: b}
	}
	good := content["01-one.md"].Data
	broken := func(target string) []byte {
		return []byte(strings.Replace(string(good), "Original text", "See ["+target+"]("+target+".md).", 1))
	}
	synctest.Test(t, func(t *testing.T) {
		errOut := &testenv.SyncBuffer{}
		s := New(Config{
			Site:   site.Config{ContentName: "content", BaseURL: "http://127.0.0.1", Content: content, Static: os.DirFS("../templates/static")},
			Errors: errOut,
		})
		defer s.Close()
		// shown is what the pages show: the errors new clients get.
		shown := func() []string {
			s.hub.mu.Lock()
			defer s.hub.mu.Unlock()
			return s.errs
		}
		ctx := context.Background()
		if err := s.Rebuild(ctx); err != nil {
			t.Fatalf("first build: %v", err)
		}

		// A failed build: nothing shows until ErrorDelay has passed.
		content["01-one.md"] = &fstest.MapFile{Data: broken("98-gone")}
		if s.Rebuild(ctx) == nil {
			t.Fatal("a broken link built")
		}
		time.Sleep(DefaultErrorDelay - time.Millisecond)
		synctest.Wait()
		if out := errOut.String(); out != "" || shown() != nil {
			t.Fatalf("errors shown %v before the delay ended: %q, pages %q", DefaultErrorDelay-time.Millisecond, out, shown())
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if out := errOut.String(); !strings.Contains(out, "98-gone") {
			t.Fatalf("after %v the errors are %q, want the broken link", DefaultErrorDelay, out)
		}
		if errs := shown(); len(errs) != 1 || !strings.Contains(errs[0], "98-gone") {
			t.Errorf("after %v the pages show %q, want the broken link", DefaultErrorDelay, errs)
		}

		// Another failure, fixed within the delay: never shown.
		content["01-one.md"] = &fstest.MapFile{Data: broken("99-gone")}
		if s.Rebuild(ctx) == nil {
			t.Fatal("a broken link built")
		}
		time.Sleep(DefaultErrorDelay / 2)
		content["01-one.md"] = &fstest.MapFile{Data: good}
		if err := s.Rebuild(ctx); err != nil {
			t.Fatalf("fixed build: %v", err)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if out := errOut.String(); strings.Contains(out, "99-gone") {
			t.Errorf("superseded errors shown: %q", out)
		}
		if shown() != nil {
			t.Errorf("the pages still show %q", shown())
		}
		if !strings.HasSuffix(errOut.String(), "build fixed\n") {
			t.Errorf("terminal %q, want it to end with build fixed", errOut.String())
		}
	})
}
