package playground

import (
	"bytes"
	"time"

	"playdoc/playground/api"
)

// maxEventData bounds the data of one output event: a longer line is
// sent in pieces, so that no client has to take a megabyte JSON line.
const maxEventData = 64 << 10

// partialFlush is how long a line without its newline waits for more
// output before it is sent as it is.
const partialFlush = 50 * time.Millisecond

// lineStream splits one output stream of a program (stdout or stderr)
// into output events: one per line, newline included; a line longer than
// maxEventData in pieces cut between characters; and a partial line (no
// newline yet) once it has waited partialFlush without growing, or when
// the other stream writes. A UTF-8 sequence cut between two writes waits
// for its end: events end between characters, and only bytes that can
// never be part of one become U+FFFD. It does
// no I/O and reads no clock: the caller passes the times, so that the
// splitting is testable without a program or a timer.
type lineStream struct {
	kind    api.Kind  // api.KindStdout or api.KindStderr
	started time.Time // the program's start: event times are relative to it
	pending []byte    // the incomplete last line: whole characters
	tail    []byte    // an incomplete UTF-8 sequence the next write may complete
	at      time.Time // when pending last grew
}

// newLineStream returns a splitter for the stream of the given kind of a
// program started at started.
func newLineStream(kind api.Kind, started time.Time) *lineStream {
	return &lineStream{kind: kind, started: started}
}

// event is an output event for data read at t.
func (ls *lineStream) event(data []byte, t time.Time) api.Event {
	// Whole microseconds: the precision the protocol has always had.
	return api.Event{Kind: ls.kind, T: t.Sub(ls.started).Truncate(time.Microsecond), Data: string(data)}
}

// push adds data read at t and returns the events it completes: every
// complete line, and the full-size pieces of an over-long one. What is
// left waits for more data, flushDue or flush.
func (ls *lineStream) push(data []byte, t time.Time) []api.Event {
	data = append(ls.tail, data...)
	k := completeLen(data)
	ls.pending = append(ls.pending, data[:k]...)
	ls.tail = bytes.Clone(data[k:])
	ls.at = t
	var evs []api.Event
	for {
		n := bytes.IndexByte(ls.pending, '\n') + 1
		if n == 0 || n > maxEventData {
			if len(ls.pending) < maxEventData {
				break
			}
			n = cutAt(ls.pending, maxEventData)
		}
		evs = append(evs, ls.event(ls.pending[:n], t))
		ls.pending = ls.pending[n:]
	}
	if len(ls.pending) == 0 {
		ls.pending = nil // let the big buffer go
	}
	return evs
}

// hasPending reports whether a partial line waits.
func (ls *lineStream) hasPending() bool { return len(ls.pending) > 0 }

// flushDue returns the partial line as an event if, at now, it has waited
// partialFlush since it last grew (a millisecond early counts: timers
// fire late, never much early), else nil.
func (ls *lineStream) flushDue(now time.Time) []api.Event {
	if !ls.hasPending() || now.Sub(ls.at) < partialFlush-time.Millisecond {
		return nil
	}
	return ls.flushPartial()
}

// flushPartial returns the partial line's whole characters, if any, as an
// event stamped with the time it last grew: when it waited long enough, or
// before the other stream's output, which was written after it.
func (ls *lineStream) flushPartial() []api.Event {
	if !ls.hasPending() {
		return nil
	}
	ev := ls.event(ls.pending, ls.at)
	ls.pending = nil
	return []api.Event{ev}
}

// flush returns all that waits, an incomplete character included (it
// will never complete now, and becomes U+FFFD); at the end of the stream,
// or before a kill.
func (ls *lineStream) flush() []api.Event {
	ls.pending, ls.tail = append(ls.pending, ls.tail...), nil
	return ls.flushPartial()
}

// outputStreams turns a running program's output, stdout and stderr in
// write order, into output events through two lineStreams: it keeps that
// order across the streams, and caps the total at limit bytes. Like
// lineStream it does no I/O and reads no clock; the caller's timer calls
// flushDue partialFlush after a write that left a partial line.
type outputStreams struct {
	streams [2]*lineStream // stdout, stderr
	limit   int64          // bytes of output the program may write in all
	total   int64          // bytes sent so far
	emit    func(api.Event)
}

// newOutputStreams returns the router of a program started at started
// that may write limit bytes; emit gets the events.
func newOutputStreams(started time.Time, limit int64, emit func(api.Event)) *outputStreams {
	return &outputStreams{
		streams: [2]*lineStream{newLineStream(api.KindStdout, started), newLineStream(api.KindStderr, started)},
		limit:   limit,
		emit:    emit,
	}
}

// write sends the events that data, read at t from stdout or stderr,
// completes. Data past the limit is cut off (between characters) and all
// that waits is sent: write then reports over, and the program must be
// killed.
func (o *outputStreams) write(stderr bool, data []byte, t time.Time) (over bool) {
	if room := o.limit - o.total; int64(len(data)) > room {
		data, over = data[:cutAt(data, int(room))], true
	}
	o.total += int64(len(data))
	ls, other := o.streams[0], o.streams[1]
	if stderr {
		ls, other = other, ls
	}
	// What the other stream has pending was written before this chunk:
	// send it first, so that events keep the write order.
	o.send(other.flushPartial())
	o.send(ls.push(data, t))
	if over {
		o.flush()
	}
	return over
}

// pending reports whether a partial line waits for flushDue.
func (o *outputStreams) pending() bool {
	return o.streams[0].hasPending() || o.streams[1].hasPending()
}

// flushDue sends the partial lines that are due at now.
func (o *outputStreams) flushDue(now time.Time) {
	for _, ls := range o.streams {
		o.send(ls.flushDue(now))
	}
}

// flush sends all that waits: at the end of the output, or before a kill.
func (o *outputStreams) flush() {
	for _, ls := range o.streams {
		o.send(ls.flush())
	}
}

func (o *outputStreams) send(evs []api.Event) {
	for _, e := range evs {
		o.emit(e)
	}
}
