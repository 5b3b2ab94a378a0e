package e2e

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// These scenarios run against any server that follows the contracts: the
// real `playdoc serve` and the fixture (the real playground server over a
// scripted sandbox).

// runTimeout bounds one run, compilation included (the first build of a
// program in the sandbox is the slow part).
const runTimeout = 150 * time.Second

var timePrefix = regexp.MustCompile(`^\+\d+\.\d{3}s`)

// checkGather runs the concurrent snippet and checks that its output streamed
// (the first line was in the DOM while the footer was still empty, long
// before the end) and that the run took about 2 s, not 6.
func checkGather(t *testing.T, p *page, name string) {
	st := p.run(name, runTimeout)
	if st.WallMs < 0 {
		t.Fatalf("run of %s did not end with an exit: foot %q, msg %q, errors %q", name, st.Foot, st.Msg, st.Errors)
	}
	if st.Rec == nil || st.Rec.FirstLine == 0 {
		t.Fatalf("no output line appeared: %+v", st)
	}
	if !st.Rec.FootEmptyAtFirstLine {
		t.Errorf("the first line appeared together with the footer: output was not streamed")
	}
	if gap := st.Rec.Foot - st.Rec.FirstLine; gap < 1000 {
		t.Errorf("the first line appeared %.0f ms before the end, want ≥ 1000 ms (streamed as printed)", gap)
	}
	if st.WallMs < 1500 || st.WallMs > 3500 {
		t.Errorf("wall time %.0f ms, want about 2 s (1.5–3.5 s): the tasks did not run concurrently", st.WallMs)
	}
	if !strings.Contains(st.Foot, "wall 2.") && !strings.Contains(st.Foot, "wall 1.") && !strings.Contains(st.Foot, "wall 3.") {
		t.Errorf("footer %q does not show the wall time", st.Foot)
	}
	if !strings.HasPrefix(st.Foot, "Exit status 0") {
		t.Errorf("footer %q, want it to start with the exit status 0", st.Foot)
	}
	want := strings.Split(strings.TrimSuffix(st.Expected, "\n"), "\n")
	if len(st.Lines) != len(want) {
		t.Errorf("%d output lines %q, want %d like the expected output %q", len(st.Lines), st.Lines, len(want), want)
	}
	for _, l := range st.Lines {
		if !timePrefix.MatchString(l) {
			t.Errorf("line %q has no +0.000s time prefix", l)
		}
	}
	wantTL := fmt.Sprintf("Timeline: %d lines over %.1f s", len(st.Lines), st.WallMs/1000)
	if st.Timeline != wantTL || st.Ticks != len(st.Lines) {
		t.Errorf("timeline %q with %d ticks, want %q with %d", st.Timeline, st.Ticks, wantTL, len(st.Lines))
	}
	if !strings.HasPrefix(st.Status, "Compiled in ") && st.Status != "Cached build" {
		t.Errorf("status %q, want the compile time or Cached build", st.Status)
	}
}

// checkCompileError types a call to an undefined function on a new line
// inside main (Enter must keep the indentation), runs, and checks that the
// error names line:col and that this line is marked in the editor, at the
// right height; clicking the error moves the caret there.
func checkCompileError(t *testing.T, p *page, name string) {
	ta := fig(name) + ` textarea`
	var original string
	p.eval(fmt.Sprintf(`document.querySelector(%q).value`, ta), &original)
	// Put the caret at the end of the first line of main's body.
	var line int
	p.eval(fmt.Sprintf(`(() => {
	  const ta = document.querySelector(%q), v = ta.value;
	  const body = v.indexOf('\n', v.indexOf('func main() {')) + 1;
	  const end = v.indexOf('\n', body);
	  ta.focus();
	  ta.setSelectionRange(end, end);
	  return v.slice(0, end).split('\n').length + 1;
	})()`, ta), &line)
	p.do(pressEnter(), chromedp.KeyEvent("undefinedThing()"))
	var got string
	p.eval(fmt.Sprintf(`document.querySelector(%q).value.split('\n')[%d]`, ta, line-1), &got)
	if got != "\tundefinedThing()" {
		t.Fatalf("line %d after typing is %q, want \"\\tundefinedThing()\" (Enter keeps the indentation)", line, got)
	}
	// The highlighted copy under the textarea follows the edit, and the
	// textarea never scrolls inside itself (which would misalign the two).
	var aligned struct {
		Same bool `json:"same"`
		Fits bool `json:"fits"`
	}
	p.eval(fmt.Sprintf(`(() => { const f = document.querySelector(%q), ta = f.querySelector('textarea'), hl = f.querySelector('.pg-hl');
	  return {same: hl.textContent === ta.value + ' ', fits: ta.scrollHeight <= ta.clientHeight + 1 && ta.scrollWidth <= ta.clientWidth + 1}; })()`, fig(name)), &aligned)
	if !aligned.Same || !aligned.Fits {
		t.Errorf("editor layers: highlighted text matches %v, textarea fits without scrolling %v", aligned.Same, aligned.Fits)
	}
	st := p.run(name, runTimeout)
	prefix := fmt.Sprintf("%d:2: ", line)
	found := false
	for _, e := range st.Errors {
		if strings.HasPrefix(e, prefix) && strings.Contains(e, "undefined") {
			found = true
		}
	}
	if !found {
		t.Fatalf("errors %q (msg %q, foot %q), want one starting %q about undefined", st.Errors, st.Msg, st.Foot, prefix)
	}
	if len(st.Marks) != 1 || st.Marks[0] != line {
		t.Errorf("marked lines %v, want [%d]", st.Marks, line)
	}
	// The mark sits over the line: its top is padding + (line-1) line heights.
	var off float64
	p.eval(fmt.Sprintf(`(() => {
	  const f = document.querySelector(%q), ta = f.querySelector('textarea'), m = f.querySelector('.pg-mark');
	  const cs = getComputedStyle(ta);
	  const want = ta.getBoundingClientRect().top + parseFloat(cs.paddingTop) + (%d - 1) * parseFloat(cs.lineHeight);
	  return Math.abs(m.getBoundingClientRect().top - want);
	})()`, fig(name), line), &off)
	if off > 2 {
		t.Errorf("the error mark is %.1f px off line %d", off, line)
	}
	p.do(chromedp.Click(chromedp.CSS(fig(name) + ` .pg-errbtn`)))
	var caretLine int
	p.eval(fmt.Sprintf(`(() => { const ta = document.querySelector(%q);
	  return document.activeElement === ta ? ta.value.slice(0, ta.selectionStart).split('\n').length : -1; })()`, ta), &caretLine)
	if caretLine != line {
		t.Errorf("after clicking the error the caret is on line %d (-1: editor not focused), want %d", caretLine, line)
	}
	// Reset brings the original back and clears the marks.
	p.do(chromedp.Click(chromedp.CSS(fig(name) + ` .pg-reset`)))
	st = p.state(name)
	if len(st.Marks) != 0 {
		t.Errorf("marks %v remain after Reset", st.Marks)
	}
	var reset string
	p.eval(fmt.Sprintf(`document.querySelector(%q).value`, ta), &reset)
	if reset != original {
		t.Errorf("Reset did not bring back the original code")
	}
}

const foreverProgram = `package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("waiting forever")
	time.Sleep(time.Hour)
}
`

// pressEnter types Enter as a keyboard does: one keyDown that carries the
// text, so that preventDefault in the page suppresses the newline
// (chromedp.KeyEvent sends a separate char event, which it cannot suppress).
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter",
			WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Text: "\r", UnmodifiedText: "\r"}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, down); err != nil {
			return fmt.Errorf("enter down: %w", err)
		}
		up := down
		up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, up); err != nil {
			return fmt.Errorf("enter up: %w", err)
		}
		return nil
	})
}

// checkStop runs a program that never ends, presses Stop, and checks that
// the run ends as stopped and that the server has no program left running.
func checkStop(t *testing.T, p *page, name, base string) {
	p.setCode(name, foreverProgram)
	p.eval(fmt.Sprintf(`pgt.watch(%q)`, name), nil)
	p.do(chromedp.Click(chromedp.CSS(fig(name) + ` .pg-run`)))
	p.wait("the first line of the endless program",
		fmt.Sprintf(`pgt.state(%q).lines.some((l) => l.includes('waiting forever'))`, name), runTimeout)
	st := p.state(name)
	if !st.Running || !st.StopVisible {
		t.Fatalf("while running: running %v, Stop visible %v", st.Running, st.StopVisible)
	}
	p.do(chromedp.Click(chromedp.CSS(fig(name) + ` .pg-stop`)))
	p.wait("the run to end after Stop", fmt.Sprintf(`pgt.done(%q)`, name), 10*time.Second)
	st = p.state(name)
	if !strings.HasPrefix(st.Foot, "Stopped") {
		t.Errorf("footer %q after Stop, want it to start with Stopped", st.Foot)
	}
	if st.StopVisible {
		t.Errorf("Stop is still visible after the run ended")
	}
	// The server must have killed the program: poll /healthz briefly, since
	// the cleanup may finish just after the stream ends.
	deadline := time.Now().Add(5 * time.Second)
	for {
		running, err := healthRunning(base)
		if err != nil {
			t.Fatal(err)
		}
		if running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz still reports %d running programs 5 s after Stop", running)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func healthRunning(base string) (int, error) {
	h, err := health(base)
	return h.Running, err
}

// checkKeyboard: Tab from the top of the page reaches the snippet's editor
// and then its Run button, which shows a visible focus ring; Ctrl+Enter
// runs. In the editor Tab inserts a tab, and Escape then Tab leaves it.
func checkKeyboard(t *testing.T, p *page, name string, timeout time.Duration) {
	p.eval(`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); true`, nil)
	// Tab from the top; in another snippet's editor Tab indents, so leave it
	// as a keyboard user would, with Escape then Tab.
	reached := func(sel string) bool {
		for i := 0; i < 300; i++ {
			var other bool
			p.eval(fmt.Sprintf(`document.activeElement.tagName === 'TEXTAREA' && document.activeElement !== document.querySelector(%q)`, sel), &other)
			if other {
				p.do(chromedp.KeyEvent(kb.Escape))
			}
			p.do(chromedp.KeyEvent("\t"))
			var ok bool
			p.eval(fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, sel), &ok)
			if ok {
				return true
			}
		}
		return false
	}
	if !reached(fig(name) + ` textarea`) {
		t.Fatalf("Tab never reached the editor of %s", name)
	}
	// In the editor, Tab indents; Escape then Tab moves on to Run.
	var before, after string
	p.eval(fmt.Sprintf(`document.querySelector(%q).value`, fig(name)+` textarea`), &before)
	p.do(chromedp.KeyEvent("\t"))
	p.eval(fmt.Sprintf(`document.querySelector(%q).value`, fig(name)+` textarea`), &after)
	if len(after) != len(before)+1 || !strings.Contains(after, "\t") {
		t.Errorf("Tab in the editor did not insert a tab")
	}
	p.do(chromedp.KeyEvent(kb.Escape), chromedp.KeyEvent("\t"))
	var onRun bool
	p.eval(fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, fig(name)+` .pg-run`), &onRun)
	if !onRun {
		var active string
		p.eval(`document.activeElement.outerHTML.slice(0, 80)`, &active)
		t.Fatalf("Escape then Tab left focus on %s, want the Run button", active)
	}
	var outline struct {
		Style string  `json:"style"`
		Width float64 `json:"width"`
	}
	p.eval(`(() => { const cs = getComputedStyle(document.activeElement);
	  return {style: cs.outlineStyle, width: parseFloat(cs.outlineWidth)}; })()`, &outline)
	if outline.Style == "none" || outline.Width < 2 {
		t.Errorf("the focused Run button has outline %+v, want a visible focus ring", outline)
	}
	p.do(chromedp.Click(chromedp.CSS(fig(name) + ` .pg-reset`)))
	p.do(chromedp.Focus(chromedp.CSS(fig(name) + ` .pg-run`)))
	p.eval(fmt.Sprintf(`pgt.watch(%q)`, name), nil)
	p.do(chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	p.wait("the run started with Ctrl+Enter to end", fmt.Sprintf(`pgt.done(%q)`, name), timeout)
	if st := p.state(name); st.WallMs < 0 || len(st.Lines) == 0 {
		t.Errorf("Ctrl+Enter: foot %q, %d lines; want a complete run", st.Foot, len(st.Lines))
	}
}

// checkCompare presses the Compare bar of the page's sequential/concurrent
// pair and checks that the sequential total is clearly the larger one.
func checkCompare(t *testing.T, p *page) {
	p.do(chromedp.Click(chromedp.CSS(`.pg-cmp-run`)))
	p.wait("both runs of the comparison", `!document.querySelector('.pg-cmp-run').disabled && !document.querySelector('.pg-cmp-res').textContent.includes('–')`, 2*runTimeout)
	var res string
	p.eval(`document.querySelector('.pg-cmp-res').textContent`, &res)
	var seq, conc float64
	if _, err := fmt.Sscanf(res, "sequential %f s · concurrent %f s", &seq, &conc); err != nil {
		t.Fatalf("comparison %q: %v", res, err)
	}
	if seq < 2*conc {
		t.Errorf("comparison %q: the sequential run should take about three times as long", res)
	}
	t.Logf("compare bar: %s", res)
}

// stuckProgram deadlocks: main waits on a WaitGroup (line 12) whose three
// goroutines are blocked sending (line 10). The fixture replays a real
// run's report (testdata/recorded/deadlock.txtar).
const stuckProgram = `package main

import "sync"

func main() {
	results := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); results <- i }()
	}
	wg.Wait()
}
`

// checkStuck runs stuckProgram in snippet name: the runtime's report stays
// in the output, the server's sentence is above it, both lines are marked
// and listed, and a click on an entry puts the caret on its line.
func checkStuck(t *testing.T, p *page, name string) {
	p.setCode(name, stuckProgram)
	st := p.run(name, runTimeout)
	if !strings.HasPrefix(st.Msg, "Deadlock: every goroutine is blocked. Main is waiting on a WaitGroup at line 12 (`wg.Wait()`); 3 goroutines are blocked sending on a channel at line 10") {
		t.Errorf("sentence above the output %q", st.Msg)
	}
	if len(st.Stderr) == 0 || !strings.Contains(st.Stderr[0], "fatal error: all goroutines are asleep - deadlock!") {
		t.Errorf("the runtime's report is not in the output: %q", st.Stderr)
	}
	if want := []string{"line 12: main waiting on a WaitGroup", "line 10: 3 goroutines blocked sending on a channel"}; strings.Join(st.Errors, "|") != strings.Join(want, "|") {
		t.Errorf("entries %q, want %q", st.Errors, want)
	}
	marks := append([]int(nil), st.Marks...)
	sort.Ints(marks)
	if len(marks) != 2 || marks[0] != 10 || marks[1] != 12 {
		t.Errorf("marked lines %v, want [10 12]", st.Marks)
	}
	if !strings.HasPrefix(st.Foot, "Exit status 2") {
		t.Errorf("footer %q", st.Foot)
	}
	var caretLine int
	p.eval(fmt.Sprintf(`(() => { const f = document.querySelector(%q), ta = f.querySelector('textarea');
	  f.querySelectorAll('.pg-stuckbtn')[1].click();
	  return document.activeElement === ta ? ta.value.slice(0, ta.selectionStart).split('\n').length : -1; })()`, fig(name)), &caretLine)
	if caretLine != 10 {
		t.Errorf("after clicking the senders' entry the caret is on line %d (-1: editor not focused), want 10", caretLine)
	}
}
