package playground

import (
	"bufio"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// StuckGoroutine is one goroutine of a stuck program, as its traceback
// showed it, placed in the user's code.
type StuckGoroutine struct {
	// IDs are the goroutines in this group (one entry per goroutine with
	// the same state, waiting call and line).
	IDs []int `json:"ids"`
	// State is the runtime's wait reason: "chan send", "chan receive",
	// "select", "sync.WaitGroup.Wait", "sync.Mutex.Lock", "sleep", "IO wait", …
	State string `json:"state"`
	// Wait is what it waits on, in words ("sending on a channel").
	Wait string `json:"wait"`
	// File and Line locate the innermost frame in the user's code (or the
	// go statement that started it, when none of its frames is the user's);
	// Line is 1-based, 0 when unknown.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Code is that source line, trimmed (from the submitted files).
	Code string `json:"code,omitempty"`
	// Func is the user function it is in ("main.main", "main.worker").
	Func string `json:"func,omitempty"`
	// Started is true when File:Line is where the goroutine was started,
	// not where it waits (no frame of the user's code on its stack).
	Started bool `json:"started,omitempty"`
}

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
	frameLocation   = regexp.MustCompile(`^\t(\S+?):(\d+)(?: \+0x[0-9a-f]+)?(?: .*)?$`)
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
// ok is false when stderr holds no traceback.
func ParseStuck(stderr string, files map[string][]byte) (rep StuckReport, ok bool) {
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
			if file, line, ok := userLocation(loc, files); ok {
				sg.File, sg.Line = file, line
				if i < len(g.funcs) {
					sg.Func, _, _ = strings.Cut(g.funcs[i], "(")
				}
				break
			}
		}
		if sg.Line == 0 {
			file, line, ok := userLocation(g.created, files)
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
// writes files of the main module) to one of the user's files.
func userLocation(loc string, files map[string][]byte) (string, int, bool) {
	i := strings.LastIndexByte(loc, ':')
	if i < 0 {
		return "", 0, false
	}
	line, err := strconv.Atoi(loc[i+1:])
	if err != nil {
		return "", 0, false
	}
	path := loc[:i]
	for name := range files {
		if path == name || strings.HasSuffix(path, "/"+name) && strings.HasPrefix(path, "play/") {
			return name, line, true
		}
	}
	return "", 0, false
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
