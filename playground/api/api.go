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

	Code      int           // exit: "code"
	Wall      time.Duration // exit: "wallMs"
	CPU       time.Duration // exit: "cpuMs"
	PeakMemKB int64         // exit: "peakMemKB", peak memory in KiB
	Reason    Reason        // exit: "reason"
}

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
		errs := e.Errors
		if errs == nil {
			errs = []Diag{}
		}
		m["errors"] = errs
	case KindStdout, KindStderr:
		m["t"] = Millis(e.T)
		m["data"] = e.Data
	case KindExit:
		m["code"] = e.Code
		m["wallMs"] = Millis(e.Wall)
		m["cpuMs"] = Millis(e.CPU)
		m["peakMemKB"] = e.PeakMemKB
		m["reason"] = e.Reason
		m["message"] = e.Message
	case KindError:
		m["message"] = e.Message
	}
	return json.Marshal(m)
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
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Event{Kind: w.Kind, ID: w.ID, Compile: fromMillis(w.Ms), Cached: w.Cached, Message: w.Message, Errors: w.Errors,
		T: fromMillis(w.T), Data: w.Data, Code: w.Code, Wall: fromMillis(w.WallMs), CPU: fromMillis(w.CPUMs),
		PeakMemKB: w.PeakMemKB, Reason: w.Reason}
	return nil
}
