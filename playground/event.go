package playground

import (
	"encoding/json"
	"math"
)

// Event kinds of the /api/run stream (docs/contracts.md §3).
const (
	KindAccepted     = "accepted"
	KindCompileStart = "compile-start"
	KindCompileEnd   = "compile-end"
	KindCompileError = "compile-error"
	KindStart        = "start"
	KindStdout       = "stdout"
	KindStderr       = "stderr"
	KindExit         = "exit"
	KindError        = "error"
)

// Exit reasons of the exit event.
const (
	ReasonNone        = ""
	ReasonTimeout     = "timeout"
	ReasonOOM         = "oom"
	ReasonOutputLimit = "output-limit"
	ReasonKilled      = "killed"
	ReasonSignal      = "signal"
)

// Event is one line of the /api/run NDJSON stream. Only the fields of its
// kind are written.
type Event struct {
	Kind string
	ID   string // accepted

	Ms     float64 // compile-end: compile (or cache lookup) time
	Cached bool    // compile-end

	Message string // compile-error, exit, error; compile-start while the toolchain is still being prepared
	Errors  []Diag // compile-error

	T    float64 // stdout, stderr: ms since the program started
	Data string  // stdout, stderr: one line, with its "\n" if it had one

	Code      int     // exit
	WallMs    float64 // exit
	CPUMs     float64 // exit
	PeakMemKB int64   // exit
	Reason    string  // exit
}

// round2 keeps two decimals of a millisecond figure.
func round2(f float64) float64 { return math.Round(f*100) / 100 }

// MarshalJSON writes the fields of the event's kind, zero values included
// (e.g. "code":0, "cached":false).
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
		m["ms"] = round2(e.Ms)
		m["cached"] = e.Cached
	case KindCompileError:
		m["message"] = e.Message
		errs := e.Errors
		if errs == nil {
			errs = []Diag{}
		}
		m["errors"] = errs
	case KindStdout, KindStderr:
		m["t"] = round2(e.T)
		m["data"] = e.Data
	case KindExit:
		m["code"] = e.Code
		m["wallMs"] = round2(e.WallMs)
		m["cpuMs"] = round2(e.CPUMs)
		m["peakMemKB"] = e.PeakMemKB
		m["reason"] = e.Reason
		m["message"] = e.Message
	case KindError:
		m["message"] = e.Message
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads an event written by MarshalJSON (for clients and
// tests in Go).
func (e *Event) UnmarshalJSON(b []byte) error {
	var w struct {
		Kind      string  `json:"kind"`
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
		Reason    string  `json:"reason"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Event{Kind: w.Kind, ID: w.ID, Ms: w.Ms, Cached: w.Cached, Message: w.Message, Errors: w.Errors,
		T: w.T, Data: w.Data, Code: w.Code, WallMs: w.WallMs, CPUMs: w.CPUMs, PeakMemKB: w.PeakMemKB, Reason: w.Reason}
	return nil
}
