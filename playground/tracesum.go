package playground

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"

	"playdoc/playground/api"
)

// Caps on the trace event, to keep it a few tens of KiB at most.
const (
	traceMaxGoroutines   = 64   // lanes
	traceMaxIntervals    = 400  // per lane
	traceMaxAllIntervals = 4000 // over all lanes
)

// userCode tells the user's frames in a traced program's stacks: files of
// the module's root directory that the user wrote.
type userCode struct {
	modPath string // "play" unless the submission's go.mod names one
	// lines is each of the user's files' number of lines ("prog.go": 30):
	// a frame past them is in the trace wrapper appended to the file.
	lines map[string]int
}

// newUserCode is p's userCode.
func newUserCode(p *Program) userCode {
	u := userCode{modPath: p.ModPath, lines: map[string]int{}}
	if u.modPath == "" {
		u.modPath = "play"
	}
	for name, src := range p.Files {
		u.lines[name] = bytes.Count(src, []byte("\n")) + 1
	}
	return u
}

// at is "prog.go:12" for a frame in the user's files, else "".
func (u userCode) at(f trace.StackFrame) string {
	// Built with -trimpath: files are "MODPATH/name".
	name, ok := strings.CutPrefix(f.File, u.modPath+"/")
	if n, user := u.lines[name]; !ok || !user || int(f.Line) > n {
		return ""
	}
	return fmt.Sprintf("%s:%d", name, f.Line)
}

// firstUserLine is the innermost user frame of s, as at says it.
func (u userCode) firstUserLine(s trace.Stack) string {
	for f := range s.Frames() {
		if a := u.at(f); a != "" {
			return a
		}
	}
	return ""
}

// outermostFunc is the function of the outermost user frame of s.
func (u userCode) outermostFunc(s trace.Stack) string {
	fn := ""
	for f := range s.Frames() {
		if u.at(f) != "" {
			fn = funcName(f.Func)
		}
	}
	return fn
}

// funcName is a frame's function as the user wrote it (main.main, not the
// wrapper's name for it).
func funcName(fn string) string {
	if rest, ok := strings.CutPrefix(fn, "main."+traceMainName); ok {
		return "main.main" + rest
	}
	return fn
}

// lane is a goroutine being summarised.
type lane struct {
	g       api.Lane
	startFn string // the function it runs, "" when it existed before the trace
	named   bool   // Name is the user's function (or "main")
	user    bool   // runs or was created by the user's code
	open    bool   // cur is its current state
	cur     api.Interval
	since   trace.Time
	dropped int // intervals left out (traceMaxIntervals)
}

// traceSummary builds the trace event from a trace's events.
type traceSummary struct {
	user     userCode
	started  time.Time // the program's exec: the output's time origin
	snapWall time.Time // a clock snapshot: wall time at trace time snapTime
	snapTime trace.Time
	haveSnap bool
	first    trace.Time
	last     trace.Time
	procs    int
	lanes    map[trace.GoID]*lane
	order    []trace.GoID
}

// ms is trace time t in ms since the program started.
func (s *traceSummary) ms(t trace.Time) float64 {
	wall := s.snapWall.Add(time.Duration(t - s.snapTime))
	return api.Millis(wall.Sub(s.started))
}

// summarizeTrace reads a runtime execution trace (as the traced program's
// wrapper wrote it to descriptor 3) and summarises its user goroutines on
// the time axis of the output events: ms since started, the program's
// exec. A trace cut short (the byte bound, a killed program) is
// summarised up to its last complete part; truncated then says why the
// rest is missing. err: no trace at all, or none that can be read.
func summarizeTrace(r io.Reader, started time.Time, u userCode) (t *api.Trace, truncated string, err error) {
	// The bytes come from the user's program, which may write anything to
	// descriptor 3: a parser panic on them is a bad trace, not a crash.
	defer func() {
		if p := recover(); p != nil {
			t, truncated, err = nil, "", fmt.Errorf("reading the trace: %v", p)
		}
	}()
	rd, err := trace.NewReader(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, "", errors.New("no trace was recorded")
		}
		return nil, "", fmt.Errorf("reading the trace: %w", err)
	}
	s := &traceSummary{user: u, started: started, lanes: map[trace.GoID]*lane{}}
	for {
		ev, err := rd.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			truncated = "the trace ends early (" + err.Error() + ")"
			break
		}
		s.add(ev)
	}
	if !s.haveSnap {
		return nil, truncated, errors.New("the trace has no clock snapshot to place it on the output's time axis")
	}
	return s.result(), truncated, nil
}

// add takes one event into the summary.
func (s *traceSummary) add(ev trace.Event) {
	if s.first == 0 {
		s.first = ev.Time()
	}
	s.last = ev.Time()
	switch ev.Kind() {
	case trace.EventSync:
		if c := ev.Sync().ClockSnapshot; c != nil && !s.haveSnap {
			s.snapWall, s.snapTime, s.haveSnap = c.Wall, c.Trace, true
		}
	case trace.EventMetric:
		if m := ev.Metric(); m.Name == "/sched/gomaxprocs:threads" && m.Value.Kind() == trace.ValueUint64 {
			s.procs = max(s.procs, int(m.Value.Uint64()))
		}
	case trace.EventStateTransition:
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			return
		}
		s.transition(ev, st)
	}
}

// transition records a goroutine's change of state at ev's time.
func (s *traceSummary) transition(ev trace.Event, st trace.StateTransition) {
	id := st.Resource.Goroutine()
	from, to := st.Goroutine()
	l := s.lanes[id]
	if l == nil {
		l = &lane{g: api.Lane{ID: int64(id)}}
		s.lanes[id] = l
		s.order = append(s.order, id)
		if from == trace.GoNotExist {
			// Creation: st.Stack is where the new goroutine starts, the
			// event's stack is its creator's.
			for f := range st.Stack.Frames() {
				l.startFn = f.Func
				break
			}
			l.g.Name = funcName(l.startFn)
			l.named = strings.HasPrefix(l.startFn, "main.")
			l.g.CreatedAt = s.user.firstUserLine(ev.Stack())
			l.user = strings.HasPrefix(l.startFn, "main.") && !strings.HasPrefix(l.startFn, "main.playdoc_") ||
				l.g.CreatedAt != "" && !strings.HasPrefix(l.startFn, "runtime")
		}
		if id == 1 {
			l.g.Name, l.user, l.named = "main", true, true
		}
	}
	now := ev.Time()
	next := api.Interval{}
	switch to {
	case trace.GoRunning:
		next.State = "running"
	case trace.GoRunnable:
		next.State = "runnable"
	case trace.GoWaiting:
		next.State = "blocked"
		next.Reason = blockReason(st.Reason, st.Stack)
		next.At = s.user.firstUserLine(st.Stack)
	case trace.GoSyscall:
		next.State = "syscall"
		next.At = s.user.firstUserLine(st.Stack)
	}
	if !l.user && next.At != "" && l.startFn == "" {
		// A goroutine from before the trace that shows the user's code.
		l.user = true
	}
	if l.user && !l.named {
		// Started by a library for the user (wg.Go's closure): named
		// after the outermost user function on its stack.
		if fn := s.user.outermostFunc(st.Stack); fn != "" {
			l.g.Name, l.named = fn, true
		}
	}
	if l.open && l.cur.State == next.State && (from == trace.GoUndetermined || from == to || l.cur.Reason == next.Reason && l.cur.At == next.At) {
		return // a new generation restating the state (without its reason), or no change
	}
	s.close(l, now)
	if next.State != "" {
		l.cur, l.since, l.open = next, now, true
	}
}

// close ends l's current interval at now.
func (s *traceSummary) close(l *lane, now trace.Time) {
	if !l.open {
		return
	}
	l.open = false
	if now <= l.since {
		return
	}
	iv := l.cur
	iv.Start, iv.End = s.ms(l.since), s.ms(now)
	if iv.End <= iv.Start {
		return // under 10 µs: nothing a lane can show
	}
	if n := len(l.g.Intervals); n > 0 {
		if p := &l.g.Intervals[n-1]; p.State == iv.State && p.Reason == iv.Reason && p.At == iv.At && p.End >= iv.Start {
			p.End = iv.End // the same state, split by one the lane cannot show
			return
		}
	}
	if len(l.g.Intervals) >= traceMaxIntervals {
		l.dropped++
		return
	}
	l.g.Intervals = append(l.g.Intervals, iv)
}

// result closes the lanes at the trace's end and applies the caps.
func (s *traceSummary) result() *api.Trace {
	t := &api.Trace{GOMAXPROCS: s.procs, Start: time.Duration(s.ms(s.first) * float64(time.Millisecond)),
		End: time.Duration(s.ms(s.last) * float64(time.Millisecond))}
	var lanes, intervals, droppedLanes, droppedIntervals int
	slices.Sort(s.order)
	for _, id := range s.order {
		l := s.lanes[id]
		s.close(l, s.last)
		if !l.user {
			continue
		}
		droppedIntervals += l.dropped
		if lanes >= traceMaxGoroutines {
			droppedLanes++
			continue
		}
		if room := traceMaxAllIntervals - intervals; len(l.g.Intervals) > room {
			droppedIntervals += len(l.g.Intervals) - room
			l.g.Intervals = l.g.Intervals[:room]
		}
		intervals += len(l.g.Intervals)
		if l.g.Intervals == nil {
			l.g.Intervals = []api.Interval{}
		}
		t.Lanes = append(t.Lanes, l.g)
		lanes++
	}
	t.Capped = droppedLanes > 0 || droppedIntervals > 0
	return t
}

// cappedMessage says what the caps left out of t, for the event's message.
func cappedMessage(t *api.Trace) string {
	if !t.Capped {
		return ""
	}
	return fmt.Sprintf("the trace event is capped: at most %d goroutines, %d intervals each and %d in all are shown",
		traceMaxGoroutines, traceMaxIntervals, traceMaxAllIntervals)
}

// blockReason names why a goroutine blocked, from the runtime's reason
// and, for the sync package's ones, the stack.
func blockReason(reason string, stk trace.Stack) string {
	switch {
	case reason == "sleep":
		return "sleep"
	case reason == "chan send":
		return "chan send"
	case strings.HasPrefix(reason, "chan receive"):
		return "chan recv"
	case reason == "select":
		return "select"
	case reason == "network":
		return "network"
	case reason == "forever" || strings.HasPrefix(reason, "select (no cases)"):
		return "forever"
	case strings.HasPrefix(reason, "GC") || strings.Contains(reason, "wait until GC"):
		return "GC"
	case reason == "sync" || strings.HasPrefix(reason, "sync."):
		for f := range stk.Frames() {
			switch {
			case strings.HasPrefix(f.Func, "sync.(*WaitGroup)."):
				return "waitgroup"
			case strings.HasPrefix(f.Func, "sync.(*Mutex)."), strings.HasPrefix(f.Func, "sync.(*RWMutex)."):
				return "mutex"
			case strings.HasPrefix(f.Func, "sync.(*Cond)."):
				return "cond"
			}
		}
		if strings.Contains(reason, "Cond") {
			return "cond"
		}
		return "sync"
	}
	return reason
}
