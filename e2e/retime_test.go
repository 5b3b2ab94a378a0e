package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/exp/trace"
)

// Retiming a recorded runtime/trace so that the fixture's replay looks
// like a run that started now: every clock snapshot (in the trace's sync
// batches) moves by the same amount, nothing else changes.

// Event types of the runtime's trace format (Go 1.25 on; the Go
// source's internal/trace/tracev2) that retimeTrace reads.
const (
	evEventBatch        = 1
	evFrequency         = 8
	evExperimentalBatch = 49
	evSync              = 50
	evClockSnapshot     = 51
	evEndOfGeneration   = 52
)

// retimeTrace returns the runtime execution trace b with its wall clock
// moved so that its first event happened at first: every clock snapshot
// (the trace's tie to the wall clock, which the server's summary places
// the trace by) moves by the same amount, nothing else changes.
func retimeTrace(b []byte, first time.Time) ([]byte, error) {
	// Where the trace begins now, by its first snapshot.
	rd, err := trace.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("retime: %w", err)
	}
	var t0 trace.Time
	var snap *trace.ClockSnapshot
	for snap == nil {
		ev, err := rd.ReadEvent()
		if err != nil {
			return nil, fmt.Errorf("retime: no clock snapshot: %w", err)
		}
		if t0 == 0 {
			t0 = ev.Time()
		}
		if ev.Kind() == trace.EventSync {
			snap = ev.Sync().ClockSnapshot
		}
	}
	shift := first.Sub(snap.Wall.Add(t0.Sub(snap.Trace)))

	const headerLen = 16 // "go 1.26 trace\x00\x00\x00"
	if len(b) < headerLen {
		return nil, errors.New("retime: no trace header")
	}
	out := append([]byte(nil), b[:headerLen]...)
	rest := b[headerLen:]
	for len(rest) > 0 {
		typ := rest[0]
		if typ == evEndOfGeneration {
			out, rest = append(out, typ), rest[1:]
			continue
		}
		if typ != evEventBatch && typ != evExperimentalBatch {
			return nil, fmt.Errorf("retime: event %d where a batch starts", typ)
		}
		i := 1
		if typ == evExperimentalBatch {
			i++ // the experiment's byte
		}
		// gen, M, timestamp, then the size of the batch's data.
		var size uint64
		for k := range 4 {
			v, n := binary.Uvarint(rest[i:])
			if n <= 0 {
				return nil, errors.New("retime: bad batch header")
			}
			if k < 3 {
				i += n
			} else {
				size = v
				out = append(out, rest[:i]...)
				i += n
			}
		}
		if uint64(len(rest)-i) < size {
			return nil, errors.New("retime: batch cut short")
		}
		data := rest[i : i+int(size)]
		if typ == evEventBatch && len(data) > 0 && data[0] == evSync {
			if data, err = retimeSync(data, shift); err != nil {
				return nil, err
			}
		}
		out = binary.AppendUvarint(out, uint64(len(data)))
		out = append(out, data...)
		rest = rest[i+int(size):]
	}
	return out, nil
}

// retimeSync moves the wall time of the clock snapshot of a sync batch
// (EvSync, then EvFrequency [freq] and EvClockSnapshot [timestamp, mono,
// sec, nsec]) by shift.
func retimeSync(data []byte, shift time.Duration) ([]byte, error) {
	out := []byte{evSync}
	i := 1
	arg := func() (uint64, error) {
		v, n := binary.Uvarint(data[i:])
		if n <= 0 {
			return 0, errors.New("retime: bad sync batch")
		}
		i += n
		return v, nil
	}
	for i < len(data) {
		typ := data[i]
		i++
		var args []uint64
		switch typ {
		case evFrequency:
			args = make([]uint64, 1)
		case evClockSnapshot:
			args = make([]uint64, 4)
		default:
			return nil, fmt.Errorf("retime: event %d in a sync batch", typ)
		}
		for k := range args {
			v, err := arg()
			if err != nil {
				return nil, err
			}
			args[k] = v
		}
		if typ == evClockSnapshot {
			wall := time.Unix(int64(args[2]), int64(args[3])).Add(shift)
			args[2], args[3] = uint64(wall.Unix()), uint64(wall.Nanosecond())
		}
		out = append(out, typ)
		for _, a := range args {
			out = binary.AppendUvarint(out, a)
		}
	}
	return out, nil
}
