// Package screen turns a program's output, the pieces of stdout and stderr
// in the order they were written, into the lines a terminal would show.
// It is the one definition of a line (docs/contracts.md, "Lines") that
// `playdoc check`, the recorded output and the playground page share; the
// page's copy is in templates/static/playground.js (lineScreen) and is
// tested against the same cases.
//
// The rules:
//   - A piece extends the open line; "\n" closes it, and the next piece
//     opens a new one. A lone "\n" only closes the open line: no row
//     appears that the program did not print.
//   - "\r" returns to the start of the open line; what follows overwrites
//     it character by character, and what is not overwritten stays, as on
//     a terminal. "\r\n" is a newline. "\b" moves back one character.
//   - ANSI escape sequences (colours, cursor movement) are removed, even
//     when a write cuts one in two.
//   - "\f" (form feed) clears the screen: the lines so far are dropped and
//     what follows starts the first line again. The Go playground's output
//     pane does the same, and programs written for it (animations, progress
//     bars) print "\f" before each frame.
//   - A line belongs to stderr when its first character does.
//   - A line's time is when its first piece was written.
package screen

import "strings"

// Line is one row as a terminal shows it.
type Line struct {
	Text   string
	Stderr bool    // its first character came from stderr
	T      float64 // ms since the program started: when its first piece was written
	Closed bool    // ended by a newline; the last line may be open
}

// cell is one character of the open line and the stream it came from.
type cell struct {
	r      rune
	stderr bool
}

// Screen accumulates output. The zero Screen is empty and ready.
type Screen struct {
	lines []Line
	open  []cell
	col   int     // the cursor in the open line
	t     float64 // the open line's time
	began bool    // a piece has opened the current line
	esc   []rune  // an escape sequence cut by the end of a piece
}

// Write adds one piece of output written at t ms.
func (s *Screen) Write(stderr bool, t float64, data string) {
	for _, r := range data {
		if s.esc != nil || r == 0x1b {
			s.escape(r)
			continue
		}
		if !s.began {
			s.began, s.t = true, t
		}
		switch r {
		case '\n':
			s.closeLine()
		case '\r':
			s.col = 0
		case '\b':
			s.col = max(0, s.col-1)
		case '\f':
			s.lines, s.open, s.col, s.began = nil, nil, 0, false
		default:
			c := cell{r, stderr}
			if s.col < len(s.open) {
				s.open[s.col] = c
			} else {
				s.open = append(s.open, c)
			}
			s.col++
		}
	}
}

// escape consumes one character of an ANSI escape sequence: ESC [ ...
// final (CSI), ESC ] ... BEL or ESC \ (OSC), or ESC and one character.
func (s *Screen) escape(r rune) {
	s.esc = append(s.esc, r)
	e := s.esc
	if len(e) < 2 {
		return
	}
	done := false
	switch e[1] {
	case '[':
		done = len(e) > 2 && r >= 0x40 && r <= 0x7e
	case ']':
		done = r == 0x07 || len(e) > 3 && e[len(e)-2] == 0x1b && r == '\\'
	default:
		done = true
	}
	if done || len(e) > 256 {
		s.esc = nil
	}
}

func (s *Screen) closeLine() {
	s.lines = append(s.lines, s.line(true))
	s.open, s.col, s.began = nil, 0, false
}

func (s *Screen) line(closed bool) Line {
	var sb strings.Builder
	for _, c := range s.open {
		sb.WriteRune(c.r)
	}
	l := Line{Text: sb.String(), T: s.t, Closed: closed}
	if len(s.open) > 0 {
		l.Stderr = s.open[0].stderr
	}
	return l
}

// Lines returns the lines so far, the open one last if a piece began it.
func (s *Screen) Lines() []Line {
	ls := append([]Line(nil), s.lines...)
	if s.began {
		ls = append(ls, s.line(false))
	}
	return ls
}

// Text is the whole screen, each line followed by a newline except an
// open last one.
func (s *Screen) Text() string {
	var sb strings.Builder
	for _, l := range s.Lines() {
		sb.WriteString(l.Text)
		if l.Closed {
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}
