package playground

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"playdoc/playground/api"
)

// StuckGoroutine is one group of goroutines of a stuck program, as its
// traceback showed them, placed in the user's code (the wire type of the
// stuck event).
type StuckGoroutine = api.Goroutine

// StuckReport says where each goroutine of a program that never finished
// (deadlock, or killed at the time limit after a SIGQUIT dump) was blocked.
type StuckReport struct {
	// Deadlock is true for the runtime's "all goroutines are asleep".
	Deadlock bool `json:"deadlock"`
	// Goroutines are the user's goroutines, grouped; main's group first.
	Goroutines []StuckGoroutine `json:"goroutines"`
	// Summary is one sentence for the reader, e.g. "main is waiting on
	// `wg.Wait()` at line 20; 3 goroutines are blocked sending on a
	// channel at line 10 (`results <- i * i`)."
	Summary string `json:"summary"`
}

var (
	goroutineHeader = regexp.MustCompile(`^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\]:$`)
	// dumpNoise is what a crash-level traceback adds for the runtime's
	// own readers: the header's g and m, each frame's fp, sp and pc.
	dumpNoise     = regexp.MustCompile(`(?m) gp=\S+ m=\S+(?: mp=\S+)?( \[)| fp=0x[0-9a-f]+ sp=0x[0-9a-f]+ pc=0x[0-9a-f]+$`)
	frameLocation = regexp.MustCompile(`^\t(\S+?):(\d+)(?: \+0x[0-9a-f]+)?(?: .*)?$`)
)

// waitWords describes a wait reason of the runtime (runtime/runtime2.go's
// waitReasonStrings) in words for the summary.
func waitWords(state string, funcs []string) string {
	for _, f := range funcs {
		switch {
		case strings.HasPrefix(f, "sync.(*WaitGroup).Wait"):
			return "waiting on a WaitGroup"
		case strings.HasPrefix(f, "sync.(*Mutex).Lock"), strings.HasPrefix(f, "sync.(*RWMutex).Lock"):
			return "waiting for a mutex"
		case strings.HasPrefix(f, "sync.(*RWMutex).RLock"):
			return "waiting for a read lock"
		case strings.HasPrefix(f, "sync.(*Cond).Wait"):
			return "waiting on a condition variable"
		case strings.HasPrefix(f, "time.Sleep"):
			return "sleeping"
		}
	}
	switch base, _, _ := strings.Cut(state, ","); base {
	case "chan send":
		return "blocked sending on a channel"
	case "chan send (nil chan)":
		return "blocked forever sending on a nil channel"
	case "chan receive":
		return "blocked receiving from a channel"
	case "chan receive (nil chan)":
		return "blocked forever receiving from a nil channel"
	case "select":
		return "blocked in a select"
	case "select (no cases)":
		return "blocked forever in an empty select"
	case "sleep":
		return "sleeping"
	case "IO wait":
		return "waiting for network I/O"
	case "syscall":
		return "in a system call"
	case "running", "runnable":
		return "running"
	case "sync.WaitGroup.Wait":
		return "waiting on a WaitGroup"
	case "sync.Mutex.Lock", "sync.RWMutex.Lock":
		return "waiting for a mutex"
	case "sync.RWMutex.RLock":
		return "waiting for a read lock"
	case "sync.Cond.Wait":
		return "waiting on a condition variable"
	case "semacquire":
		return "waiting on a semaphore"
	default:
		return "waiting (" + state + ")"
	}
}

// ParseStuck reads a Go traceback (the runtime's deadlock report, or the
// dump a SIGQUIT makes) from a program's stderr and places each goroutine
// in the user's files (name → source, the names as submitted: "prog.go",
// "util.go", "foo/foo.go"). Goroutines of the runtime itself are left out.
// ok is false when stderr holds no traceback. The files are those of
// module "play", as a submission without a go.mod builds.
func ParseStuck(stderr string, files map[string][]byte) (rep StuckReport, ok bool) {
	return parseStuck(stderr, files, defaultModPath)
}

// defaultModPath is the module of a submission without a go.mod.
const defaultModPath = "play"

// parseStuck is ParseStuck for files of module mod (the paths -trimpath
// writes in tracebacks: "mod/prog.go", "mod/sub/sub.go").
func parseStuck(stderr string, files map[string][]byte, mod string) (rep StuckReport, ok bool) {
	rep.Deadlock = strings.Contains(stderr, "all goroutines are asleep - deadlock!")
	type goroutine struct {
		id      int
		state   string
		funcs   []string // function lines, innermost first
		locs    []string // file:line of each, same order
		created string   // file:line of the go statement
	}
	var gs []*goroutine
	var cur *goroutine
	inCreated := false
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := goroutineHeader.FindStringSubmatch(line); m != nil {
			id, _ := strconv.Atoi(m[1])
			cur = &goroutine{id: id, state: m[2]}
			gs = append(gs, cur)
			inCreated = false
			continue
		}
		if cur == nil || line == "" {
			if line == "" {
				cur = nil
			}
			continue
		}
		if m := frameLocation.FindStringSubmatch(line); m != nil {
			loc := m[1] + ":" + m[2]
			if inCreated {
				cur.created = loc
			} else if len(cur.locs) < len(cur.funcs) {
				cur.locs = append(cur.locs, loc)
			}
			continue
		}
		if strings.HasPrefix(line, "created by ") {
			inCreated = true
			continue
		}
		if !strings.HasPrefix(line, "\t") && !inCreated {
			cur.funcs = append(cur.funcs, line)
		}
	}
	if len(gs) == 0 {
		return rep, false
	}

	type key struct {
		state, wait, file string
		line              int
		started           bool
	}
	groups := map[key]*StuckGoroutine{}
	var order []key
	for _, g := range gs {
		sg := StuckGoroutine{State: g.state, Wait: waitWords(g.state, g.funcs)}
		for i, loc := range g.locs {
			if file, line, ok := userLocation(loc, files, mod); ok {
				sg.File, sg.Line = file, line
				if i < len(g.funcs) {
					sg.Func, _, _ = strings.Cut(g.funcs[i], "(")
				}
				break
			}
		}
		if sg.Line == 0 {
			file, line, ok := userLocation(g.created, files, mod)
			if !ok {
				continue // the runtime's own goroutine
			}
			sg.File, sg.Line, sg.Started = file, line, true
		}
		sg.Code = sourceLine(files[sg.File], sg.Line)
		k := key{sg.State, sg.Wait, sg.File, sg.Line, sg.Started}
		if groups[k] == nil {
			sg.IDs = nil
			groups[k] = &sg
			order = append(order, k)
		}
		groups[k].IDs = append(groups[k].IDs, g.id)
	}
	// main's goroutine first, then by line.
	sort.SliceStable(order, func(i, j int) bool {
		mi, mj := slices.Contains(groups[order[i]].IDs, 1), slices.Contains(groups[order[j]].IDs, 1)
		if mi != mj {
			return mi
		}
		return order[i].line < order[j].line
	})
	var parts []string
	for _, k := range order {
		g := groups[k]
		rep.Goroutines = append(rep.Goroutines, *g)
		parts = append(parts, describeGroup(*g))
	}
	if len(parts) == 0 {
		return rep, false
	}
	rep.Summary = strings.Join(parts, "; ") + "."
	if rep.Deadlock {
		rep.Summary = "Deadlock: every goroutine is blocked. " + strings.ToUpper(rep.Summary[:1]) + rep.Summary[1:]
	}
	return rep, true
}

// describeGroup is one clause of the summary.
func describeGroup(g StuckGoroutine) string {
	who := fmt.Sprintf("%d goroutines are", len(g.IDs))
	switch {
	case len(g.IDs) == 1 && g.IDs[0] == 1:
		who = "main is"
	case len(g.IDs) == 1:
		who = fmt.Sprintf("goroutine %d is", g.IDs[0])
	}
	where := fmt.Sprintf("at line %d", g.Line)
	if g.File != "prog.go" {
		where = fmt.Sprintf("at %s:%d", g.File, g.Line)
	}
	if g.Started {
		where = "(started " + where + ")"
	}
	code := ""
	if g.Code != "" {
		code = " (`" + g.Code + "`)"
	}
	return fmt.Sprintf("%s %s %s%s", who, g.Wait, where, code)
}

// userLocation maps a traceback location ("play/prog.go:18", as -trimpath
// writes files of the main module mod) to one of the user's files.
func userLocation(loc string, files map[string][]byte, mod string) (string, int, bool) {
	i := strings.LastIndexByte(loc, ':')
	if i < 0 {
		return "", 0, false
	}
	line, err := strconv.Atoi(loc[i+1:])
	if err != nil {
		return "", 0, false
	}
	name, ok := strings.CutPrefix(loc[:i], mod+"/")
	if _, user := files[name]; !ok || !user {
		return "", 0, false
	}
	return name, line, true
}

// sourceLine is line n (1-based) of src, trimmed; "" when out of range or
// longer than a summary can show.
func sourceLine(src []byte, n int) string {
	if n <= 0 {
		return ""
	}
	lines := strings.Split(string(src), "\n")
	if n > len(lines) {
		return ""
	}
	s := strings.TrimSpace(lines[n-1])
	if len(s) > 80 {
		return ""
	}
	return s
}

// Bounds of what a stuckWatch keeps of one run's stderr, in bytes.
const (
	maxStuckText = 1 << 20 // a dump or deadlock report read for the summary
	stuckCarry   = 64      // stderr kept to find a marker cut between writes
)

// Markers of the runtime's reports on stderr.
const (
	quitMarker     = "SIGQUIT: quit"
	deadlockMarker = "fatal error: all goroutines are asleep - deadlock!"
)

// stuckWatch reads a Go run's stderr for the goroutine dump that the time
// limit's SIGQUIT makes, which it takes out of the output (it is the
// sandbox's doing, not the program's), and for the runtime's deadlock
// report, which stays in the output. Once the run has ended, event says
// where the goroutines were stuck.
type stuckWatch struct {
	p *Program
	// quitAfter is the wall limit: the sandbox sends SIGQUIT no earlier
	// than this after the exec, so a "SIGQUIT: quit" written before is the
	// program's own text.
	quitAfter time.Duration

	dumping bool            // the dump has begun: stderr goes to dump
	dump    strings.Builder // at most maxStuckText
	carry   []byte          // the end of stderr so far, to find the markers
	report  strings.Builder // the deadlock report, from its marker on, at most maxStuckText
	races   strings.Builder // a race build's reports, from the first on, at most maxStuckText
}

// stderr reads one chunk of stderr written at t (since the exec) and
// reports whether it belongs to the output (false: it is the dump's).
func (w *stuckWatch) stderr(data []byte, t time.Duration) bool {
	if !w.dumping && t >= w.quitAfter && bytes.HasPrefix(data, []byte(quitMarker)) {
		w.dumping = true
	}
	if w.dumping {
		appendBounded(&w.dump, data)
		return false
	}
	buf := append(w.carry, data...)
	watchReport(&w.report, buf, data, deadlockMarker)
	if w.p.Race {
		watchReport(&w.races, buf, data, raceMarker)
	}
	w.carry = append([]byte(nil), buf[max(0, len(buf)-stuckCarry):]...)
	return true
}

// watchReport keeps in b what stderr holds from marker on: data once the
// marker was seen, else buf (the carry and data) from the marker, if there.
func watchReport(b *strings.Builder, buf, data []byte, marker string) {
	if b.Len() > 0 {
		appendBounded(b, data)
	} else if i := bytes.Index(buf, []byte(marker)); i >= 0 {
		appendBounded(b, buf[i:])
	}
}

// appendBounded appends data to b up to maxStuckText bytes in all.
func appendBounded(b *strings.Builder, data []byte) {
	if room := maxStuckText - b.Len(); room > 0 {
		b.Write(data[:min(len(data), room)])
	}
}

// event is the stuck event of a run that ended with reason and exit code,
// if it timed out with a dump or died of a deadlock.
func (w *stuckWatch) event(reason api.Reason, code int) (api.Event, bool) {
	var text, prefix string
	switch {
	case w.dumping && reason == api.ReasonTimeout:
		text, prefix = w.dump.String(), "At the time limit: "
	case w.report.Len() > 0 && code == 2 && reason == api.ReasonNone:
		text = w.report.String()
	default:
		return api.Event{}, false
	}
	rep, ok := parseStuck(text, w.p.Files, w.p.modPath())
	if !ok {
		return api.Event{}, false
	}
	ev := api.Event{Kind: api.KindStuck, Summary: prefix + rep.Summary, Deadlock: rep.Deadlock, Goroutines: rep.Goroutines}
	for i, g := range ev.Goroutines {
		ev.Goroutines[i].EditorLine = w.p.EditorLine(g.File, g.Line)
	}
	if w.dumping {
		ev.Dump = userDump(text, rep.Goroutines)
	}
	return ev, true
}

// userDump is the part of a goroutine dump a reader wants: the stacks of
// the given goroutines (the user's), without the runtime's own goroutines
// and the signal's registers; at most api.MaxDump bytes, cut at a line.
func userDump(dump string, groups []StuckGoroutine) string {
	ids := map[int]bool{}
	for _, g := range groups {
		for _, id := range g.IDs {
			ids[id] = true
		}
	}
	var b strings.Builder
	for _, sec := range strings.Split(dump, "\n\n") {
		m := goroutineHeader.FindStringSubmatch(strings.SplitN(sec, "\n", 2)[0])
		if m == nil {
			continue
		}
		if id, _ := strconv.Atoi(m[1]); !ids[id] {
			continue
		}
		sec = dumpNoise.ReplaceAllString(strings.TrimRight(sec, "\n"), "$1") + "\n\n"
		if b.Len()+len(sec) > api.MaxDump {
			rest := sec[:api.MaxDump-b.Len()]
			if i := strings.LastIndexByte(rest, '\n'); i >= 0 {
				b.WriteString(rest[:i+1])
			}
			b.WriteString("…\n")
			break
		}
		b.WriteString(sec)
	}
	if b.Len() == 0 {
		return ""
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
