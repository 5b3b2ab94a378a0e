// Package api is the wire protocol of the playground's POST /api/run: the
// NDJSON stream of events described in docs/contracts.md §3. The server,
// `playdoc check` and test doubles share these types, so that none of them
// re-derives the format.
//
// Durations are time.Duration in Go and milliseconds (a float with at most
// two decimals) on the wire.
package api

import (
	"encoding/json"
	"math"
	"time"
)

// Kind is the kind of an event, its "kind" field.
type Kind string

// Event kinds, in the order a run emits them.
const (
	KindAccepted     Kind = "accepted"      // the run has an id (usable with /api/stop)
	KindCompileStart Kind = "compile-start" // compiling began, after queueing
	KindCompileEnd   Kind = "compile-end"   // the binary is ready
	KindCompileError Kind = "compile-error" // the build failed; the stream ends
	KindStart        Kind = "start"         // the program started; T counts from here
	KindStdout       Kind = "stdout"        // a line (or piece) of standard output
	KindStderr       Kind = "stderr"        // a line (or piece) of standard error
	KindStuck        Kind = "stuck"         // where the goroutines were blocked (deadlock, or the time limit); just before exit
	KindTrace        Kind = "trace"         // a traced run's goroutine lanes, just before exit
	KindRace         Kind = "race"          // the race detector's reports, placed in the code; just before exit
	KindExit         Kind = "exit"          // the program ended; the stream ends
	KindError        Kind = "error"         // a server-side failure; the stream ends
)

// Reason says why a program ended, the exit event's "reason" field.
type Reason string

// Exit reasons.
const (
	ReasonNone        Reason = ""             // the program exited by itself
	ReasonTimeout     Reason = "timeout"      // wall or CPU time limit
	ReasonOOM         Reason = "oom"          // memory limit
	ReasonOutputLimit Reason = "output-limit" // too much output
	ReasonKilled      Reason = "killed"       // stopped by the client or the server
	ReasonSignal      Reason = "signal"       // killed by a signal it raised itself
)

// Diag is one compiler diagnostic of a compile-error event. Line and Col
// are 1-based, in File ("prog.go" for a single-file program).
type Diag struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Msg  string `json:"msg"`
	// EditorLine is Line counted in the submitted text (the editor's
	// line): for a txtar archive, past the sections before File's.
	EditorLine int `json:"editorLine,omitempty"`
}

// Goroutine is one group of goroutines of a stuck event: those with the
// same state, waiting at the same line of the user's code.
type Goroutine struct {
	// IDs are the runtime's goroutine ids of the group (1 is main's).
	IDs []int `json:"ids"`
	// State is the runtime's wait reason: "chan send", "chan receive",
	// "select", "sync.WaitGroup.Wait", "sync.Mutex.Lock", "sleep", "IO wait", …
	State string `json:"state"`
	// Wait is what it waits on, in words ("blocked sending on a channel").
	Wait string `json:"wait"`
	// File and Line locate the innermost frame in the user's code (or the
	// go statement that started it, when none of its frames is the user's);
	// Line is 1-based in File, 0 when unknown.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// EditorLine is Line counted in the submitted text (a txtar archive's
	// later files start below their "-- name --" line); 0 when unknown.
	EditorLine int `json:"editorLine,omitempty"`
	// Code is that source line, trimmed (from the submitted files).
	Code string `json:"code,omitempty"`
	// Func is the user function it is in ("main.main", "main.worker").
	Func string `json:"func,omitempty"`
	// Started is true when File:Line is where the goroutine was started,
	// not where it waits (no frame of the user's code on its stack).
	Started bool `json:"started,omitempty"`
}

// Race is one report of the race detector: two accesses to the same
// memory, at least one a write, with no synchronisation between them.
type Race struct {
	// Summary is the race in words ("goroutine 7 reads at line 13 (`n++`)
	// what goroutine 8 wrote at line 13 without synchronisation").
	Summary string `json:"summary"`
	// Accesses are the current access and the previous one, in that order.
	Accesses []RaceAccess `json:"accesses"`
}

// RaceAccess is one side of a race, placed at its innermost frame in the
// user's code (File "" and Line 0 when none of its frames is).
type RaceAccess struct {
	Op         string `json:"op"` // "read" or "write"
	Previous   bool   `json:"previous"`
	Goroutine  int    `json:"goroutine"` // 1 for main
	File       string `json:"file,omitempty"`
	Line       int    `json:"line,omitempty"`
	EditorLine int    `json:"editorLine,omitempty"` // as Goroutine.EditorLine
	Code       string `json:"code,omitempty"`
	Func       string `json:"func,omitempty"`
}

// Event is one line of the /api/run stream. Only the fields of its kind
// are written; the comments name the kinds and the wire field.
type Event struct {
	Kind Kind
	ID   string // accepted: "id"

	Compile time.Duration // compile-end: "ms", compile (or cache lookup) time
	Cached  bool          // compile-end: "cached", no compile was needed

	// Message: compile-error, exit, error; compile-start only while a new
	// server still prepares its toolchain.
	Message string
	Errors  []Diag // compile-error: "errors", never null on the wire

	T    time.Duration // stdout, stderr: "t", since the program started
	Data string        // stdout, stderr: "data", one line with its "\n" if it had one

	// Trace: the trace event's fields (its goroutines, GOMAXPROCS…), or
	// only its Message when the run could not be traced.
	Trace *Trace

	Code      int           // exit: "code"
	Wall      time.Duration // exit: "wallMs"
	CPU       time.Duration // exit: "cpuMs"
	PeakMemKB int64         // exit: "peakMemKB", peak memory in KiB
	Reason    Reason        // exit: "reason"

	// Stuck: "summary", one sentence saying where the goroutines wait.
	Summary    string
	Deadlock   bool        // stuck: "deadlock", the runtime's "all goroutines are asleep"
	Goroutines []Goroutine // stuck: "goroutines", main's group first; never null on the wire
	// Dump (stuck: "dump") is the goroutine dump the time limit's SIGQUIT
	// made, only the user's goroutines, at most MaxDump bytes; "" for a
	// deadlock, whose report is in the stderr events.
	Dump string

	// Races (race: "races", never null) are the first reports of a run
	// built with the race detector, at most 10; Count (race: "count") is
	// how many it wrote in all. Summary is then one sentence for them.
	Races []Race
	Count int
}

// MaxDump bounds a stuck event's dump, in bytes.
const MaxDump = 64 << 10

// Millis is d in milliseconds with two decimals, as written on the wire
// (computed from whole microseconds, as the protocol always has been).
func Millis(d time.Duration) float64 {
	return math.Round(float64(d.Microseconds())/1000*100) / 100
}

// fromMillis is the inverse of Millis, to the nanosecond.
func fromMillis(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

// MarshalJSON writes the fields of the event's kind, zero values included
// (e.g. "code":0, "cached":false), keys in alphabetical order.
func (e Event) MarshalJSON() ([]byte, error) {
	m := map[string]any{"kind": e.Kind}
	switch e.Kind {
	case KindAccepted:
		m["id"] = e.ID
	case KindCompileStart:
		if e.Message != "" {
			m["message"] = e.Message
		}
	case KindCompileEnd:
		m["ms"] = Millis(e.Compile)
		m["cached"] = e.Cached
	case KindCompileError:
		m["message"] = e.Message
		m["errors"] = nonNil(e.Errors)
	case KindStdout, KindStderr:
		m["t"] = Millis(e.T)
		m["data"] = e.Data
	case KindTrace:
		m["message"] = e.Message
		t := e.Trace
		if t == nil {
			break // not traced: the message says why
		}
		m["gomaxprocs"] = t.GOMAXPROCS
		m["startMs"] = Millis(t.Start)
		m["endMs"] = Millis(t.End)
		m["lanes"] = nonNil(t.Lanes)
		m["capped"] = t.Capped
	case KindExit:
		m["code"] = e.Code
		m["wallMs"] = Millis(e.Wall)
		m["cpuMs"] = Millis(e.CPU)
		m["peakMemKB"] = e.PeakMemKB
		m["reason"] = e.Reason
		m["message"] = e.Message
	case KindStuck:
		m["summary"] = e.Summary
		m["deadlock"] = e.Deadlock
		m["goroutines"] = nonNil(e.Goroutines)
		m["dump"] = e.Dump
	case KindRace:
		m["summary"] = e.Summary
		m["races"] = nonNil(e.Races)
		m["count"] = e.Count
	case KindError:
		m["message"] = e.Message
	}
	return json.Marshal(m)
}

// nonNil is s, or an empty slice for nil: the wire's lists are [], never
// null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// UnmarshalJSON reads an event written by MarshalJSON (for clients and
// tests in Go). Unknown fields are ignored.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w struct {
		Kind      Kind    `json:"kind"`
		ID        string  `json:"id"`
		Ms        float64 `json:"ms"`
		Cached    bool    `json:"cached"`
		Message   string  `json:"message"`
		Errors    []Diag  `json:"errors"`
		T         float64 `json:"t"`
		Data      string  `json:"data"`
		Code      int     `json:"code"`
		WallMs    float64 `json:"wallMs"`
		CPUMs     float64 `json:"cpuMs"`
		PeakMemKB int64   `json:"peakMemKB"`
		Reason    Reason  `json:"reason"`

		Summary    string      `json:"summary"`
		Deadlock   bool        `json:"deadlock"`
		Goroutines []Goroutine `json:"goroutines"`
		Dump       string      `json:"dump"`
		GOMAXPROCS int         `json:"gomaxprocs"`
		StartMs    float64     `json:"startMs"`
		EndMs      float64     `json:"endMs"`
		Lanes      []Lane      `json:"lanes"`
		Capped     bool        `json:"capped"`
		Races      []Race      `json:"races"`
		Count      int         `json:"count"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Event{Kind: w.Kind, ID: w.ID, Compile: fromMillis(w.Ms), Cached: w.Cached, Message: w.Message, Errors: w.Errors,
		T: fromMillis(w.T), Data: w.Data, Code: w.Code, Wall: fromMillis(w.WallMs), CPU: fromMillis(w.CPUMs),
		PeakMemKB: w.PeakMemKB, Reason: w.Reason,
		Summary: w.Summary, Deadlock: w.Deadlock, Goroutines: w.Goroutines, Dump: w.Dump,
		Races: w.Races, Count: w.Count}
	if w.Kind == KindTrace && w.Lanes != nil {
		e.Trace = &Trace{GOMAXPROCS: w.GOMAXPROCS, Start: fromMillis(w.StartMs), End: fromMillis(w.EndMs),
			Lanes: w.Lanes, Capped: w.Capped}
	}
	return nil
}

// Trace is what the trace event says of a traced run: its goroutines'
// lanes on the output's time axis (ms since the program started, like
// the output events' "t").
type Trace struct {
	// GOMAXPROCS is the number of processors the run's goroutines shared
	// (its largest value during the trace).
	GOMAXPROCS int
	// Start and End bound the trace ("startMs", "endMs"): it starts just
	// after the program does and stops when main returns, at os.Exit, or
	// at the trace's own bounds.
	Start, End time.Duration
	// Lanes ("lanes") are the user's goroutines (created by or running
	// the user's code), in order of id; at most a few dozen.
	Lanes []Lane
	// Capped: goroutines or intervals were left out to keep the event
	// small (the event's message says which).
	Capped bool
}

// Lane is one goroutine of a trace event and what it did.
type Lane struct {
	ID int64 `json:"id"`
	// Name is "main" for the main goroutine, else the function it runs
	// (e.g. "main.worker", "main.main.func1").
	Name string `json:"name"`
	// CreatedAt is the user's line of the go statement ("prog.go:12"),
	// empty when it was not in the user's code or before the trace.
	CreatedAt string `json:"createdAt,omitempty"`
	// Intervals are consecutive, in time order; gaps are times the
	// goroutine did not exist.
	Intervals []Interval `json:"intervals"`
}

// Interval is a span of one goroutine's state. Start and End are ms since
// the program started (two decimals).
type Interval struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	// State is "running", "runnable" (ready, waiting for a processor),
	// "blocked" or "syscall".
	State string `json:"state"`
	// Reason, for blocked: "sleep", "chan send", "chan recv", "select",
	// "mutex", "waitgroup", "cond", "sync", "network", "GC", "forever",
	// or the runtime's own words for anything else.
	Reason string `json:"reason,omitempty"`
	// At is the user's line where it blocked or entered the syscall
	// ("prog.go:14"), empty when no user frame was on the stack.
	At string `json:"at,omitempty"`
}
