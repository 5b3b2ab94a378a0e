package api

import (
	"encoding/json"
	"testing"
	"time"
)

// TestEventWireFormat pins the bytes of each kind (docs/contracts.md §3):
// only the kind's fields, zero values included, milliseconds with two
// decimals, keys sorted.
func TestEventWireFormat(t *testing.T) {
	for _, tt := range []struct {
		ev   Event
		want string
	}{
		{Event{Kind: KindAccepted, ID: "abc", Data: "ignored"}, `{"id":"abc","kind":"accepted"}`},
		{Event{Kind: KindCompileStart}, `{"kind":"compile-start"}`},
		{Event{Kind: KindCompileStart, Message: "preparing"}, `{"kind":"compile-start","message":"preparing"}`},
		{Event{Kind: KindCompileEnd, Compile: 1234567 * time.Nanosecond}, `{"cached":false,"kind":"compile-end","ms":1.23}`},
		{Event{Kind: KindCompileEnd, Compile: 5 * time.Microsecond, Cached: true}, `{"cached":true,"kind":"compile-end","ms":0.01}`},
		{Event{Kind: KindCompileError, Message: "m"}, `{"errors":[],"kind":"compile-error","message":"m"}`},
		{Event{Kind: KindCompileError, Message: "m", Errors: []Diag{{File: "prog.go", Line: 4, Col: 2, Msg: "x"}}},
			`{"errors":[{"file":"prog.go","line":4,"col":2,"msg":"x"}],"kind":"compile-error","message":"m"}`},
		{Event{Kind: KindStart}, `{"kind":"start"}`},
		{Event{Kind: KindStdout, T: 2*time.Second + 345678*time.Nanosecond, Data: "a\n"}, `{"data":"a\n","kind":"stdout","t":2000.35}`},
		{Event{Kind: KindStderr, Data: "<b>"}, `{"data":"\u003cb\u003e","kind":"stderr","t":0}`},
		{Event{Kind: KindExit, Code: 0, Wall: 2 * time.Second, CPU: 1500 * time.Microsecond, PeakMemKB: 2048},
			`{"code":0,"cpuMs":1.5,"kind":"exit","message":"","peakMemKB":2048,"reason":"","wallMs":2000}`},
		{Event{Kind: KindExit, Code: -1, Reason: ReasonTimeout, Message: "too long"},
			`{"code":-1,"cpuMs":0,"kind":"exit","message":"too long","peakMemKB":0,"reason":"timeout","wallMs":0}`},
		{Event{Kind: KindStuck, Summary: "s.", Deadlock: true, Goroutines: []Goroutine{{IDs: []int{1}, State: "chan send", Wait: "w", File: "prog.go", Line: 3, EditorLine: 3}}},
			`{"deadlock":true,"dump":"","goroutines":[{"ids":[1],"state":"chan send","wait":"w","file":"prog.go","line":3,"editorLine":3}],"kind":"stuck","summary":"s."}`},
		{Event{Kind: KindStuck, Summary: "s.", Dump: "goroutine 1 [sleep]:\n"}, `{"deadlock":false,"dump":"goroutine 1 [sleep]:\n","goroutines":[],"kind":"stuck","summary":"s."}`},
		{Event{Kind: KindRace, Summary: "s.", Count: 3, Races: []Race{{Summary: "r", Accesses: []RaceAccess{{Op: "write", Goroutine: 7, File: "prog.go", Line: 13, EditorLine: 13}}}}},
			`{"count":3,"kind":"race","races":[{"summary":"r","accesses":[{"op":"write","previous":false,"goroutine":7,"file":"prog.go","line":13,"editorLine":13}]}],"summary":"s."}`},
		{Event{Kind: KindRace}, `{"count":0,"kind":"race","races":[],"summary":""}`},
		{Event{Kind: KindError, Message: "broken"}, `{"kind":"error","message":"broken"}`},
	} {
		b, err := json.Marshal(tt.ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%+v\n got %s\nwant %s", tt.ev, b, tt.want)
		}
	}
}

// TestEventRoundTrip: what MarshalJSON writes, UnmarshalJSON reads back,
// durations to the hundredth of a millisecond.
func TestEventRoundTrip(t *testing.T) {
	for _, ev := range []Event{
		{Kind: KindAccepted, ID: "r1"},
		{Kind: KindCompileEnd, Compile: 240 * time.Millisecond, Cached: true},
		{Kind: KindCompileError, Message: "m", Errors: []Diag{{File: "a.go", Line: 1, Col: 2, Msg: "x"}}},
		{Kind: KindStdout, T: 1234560 * time.Microsecond, Data: "x\n"},
		{Kind: KindExit, Code: 2, Wall: 120 * time.Millisecond, CPU: 100 * time.Millisecond, PeakMemKB: 262144, Reason: ReasonOOM, Message: "oom"},
		{Kind: KindStuck, Summary: "s.", Deadlock: true, Dump: "d", Goroutines: []Goroutine{{IDs: []int{4, 5}, State: "select", Wait: "w", File: "a/a.go", Line: 2, EditorLine: 9, Code: "select {}", Func: "a.f", Started: true}}},
	} {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		b2, _ := json.Marshal(back)
		if string(b2) != string(b) || back.Kind != ev.Kind || back.T != ev.T || back.Wall != ev.Wall || back.Compile != ev.Compile {
			t.Errorf("%s read back as %+v (%s)", b, back, b2)
		}
	}
	var e Event
	if err := json.Unmarshal([]byte(`{"kind":"exit","wallMs":1.5`), &e); err == nil {
		t.Error("truncated JSON: no error")
	}
}

func TestMillis(t *testing.T) {
	for d, want := range map[time.Duration]float64{
		0:                         0,
		999 * time.Nanosecond:     0, // whole microseconds
		4 * time.Microsecond:      0,
		5 * time.Microsecond:      0.01,
		1234567 * time.Nanosecond: 1.23,
		10 * time.Second:          10000,
		-1500 * time.Microsecond:  -1.5,
	} {
		if got := Millis(d); got != want {
			t.Errorf("Millis(%v) = %v, want %v", d, got, want)
		}
	}
}
