package site

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// fenceInfo is the parsed info string of a code fence: ```go run name=x.
type fenceInfo struct {
	Lang      string
	Run       bool
	Name      string
	Compare   string
	Trace     bool   // trace: the playground records the goroutines' lanes by default
	Pair      string // pair=KEY: the Python and Go programs "Run both" starts together
	Duration  time.Duration
	Tolerance time.Duration // 0 when not given
	// HL are the lines to highlight (hl=2,4-6), 1-based, in the order
	// written; LineNos shows line numbers (linenos).
	HL      []lineRange
	LineNos bool
	// Tabs asks for the python/go pair the block belongs to to show as
	// tabs where the two do not fit side by side.
	Tabs bool
	// Race: run with the race detector (```go run race); Races, RacesSet:
	// race=N on an output fence.
	Race     bool
	Races    int
	RacesSet bool
}

// lineRange is the lines From to To of a code block, 1-based, inclusive.
type lineRange struct{ From, To int }

// parseLineRanges parses hl='s value: line numbers and ranges separated by
// commas ("2,4-6").
func parseLineRanges(v string) ([]lineRange, error) {
	var out []lineRange
	for part := range strings.SplitSeq(v, ",") {
		a, b, isRange := strings.Cut(part, "-")
		from, err1 := strconv.Atoi(a)
		to, err2 := from, error(nil)
		if isRange {
			to, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || from < 1 || to < from {
			return nil, fmt.Errorf("invalid line range %q in hl=%s (want lines like hl=2,4-6)", part, v)
		}
		out = append(out, lineRange{from, to})
	}
	return out, nil
}

// parseFenceInfo parses a fence's info string. Each problem is returned as
// a message; the caller adds the file and line.
func parseFenceInfo(info string) (fenceInfo, []string) {
	fields := strings.Fields(info)
	var fi fenceInfo
	var errs []string
	if len(fields) == 0 {
		return fi, nil
	}
	fi.Lang = fields[0]
	for _, f := range fields[1:] {
		key, val, hasVal := strings.Cut(f, "=")
		switch {
		case runnable(fi.Lang) && f == "run":
			fi.Run = true
		case runnable(fi.Lang) && key == "name" && hasVal:
			if !validName(val) {
				errs = append(errs, fmt.Sprintf("invalid snippet name %q (use letters, digits, '-' and '_')", val))
			}
			fi.Name = val
		case runnable(fi.Lang) && key == "compare" && hasVal:
			if !validName(val) {
				errs = append(errs, fmt.Sprintf("invalid compare key %q (use letters, digits, '-' and '_')", val))
			}
			fi.Compare = val
		case fi.Lang == "go" && f == "race":
			fi.Race = true
		case fi.Lang == "output" && key == "race" && hasVal:
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				errs = append(errs, fmt.Sprintf("invalid race %q (want the number of racy lines, such as race=1)", val))
				continue
			}
			fi.Races, fi.RacesSet = n, true
		case fi.Lang != "output" && key == "hl" && hasVal:
			r, err := parseLineRanges(val)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			fi.HL = append(fi.HL, r...)
		case fi.Lang != "output" && f == "linenos":
			fi.LineNos = true
		case runnable(fi.Lang) && f == "tabs":
			fi.Tabs = true
		case fi.Lang == "go" && f == "trace":
			fi.Trace = true
		case runnable(fi.Lang) && key == "pair" && hasVal:
			if !validName(val) {
				errs = append(errs, fmt.Sprintf("invalid pair key %q (use letters, digits, '-' and '_')", val))
			}
			fi.Pair = val
		case fi.Lang == "output" && (key == "duration" || key == "tolerance") && hasVal:
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 {
				errs = append(errs, fmt.Sprintf("invalid %s %q (want a Go duration such as 2s or 500ms)", key, val))
				continue
			}
			if key == "duration" {
				fi.Duration = d
			} else {
				fi.Tolerance = d
			}
		default:
			errs = append(errs, fmt.Sprintf("unknown code fence attribute %q for %q (allowed: %s)", f, fi.Lang, allowedAttrs(fi.Lang)))
		}
	}
	if runnable(fi.Lang) && !fi.Run && (fi.Name != "" || fi.Compare != "" || fi.Trace || fi.Pair != "") {
		errs = append(errs, fmt.Sprintf("name=, compare=, trace and pair= need the run attribute (```%s run name=ID)", fi.Lang))
	}
	if fi.Race && !fi.Run {
		errs = append(errs, "race needs the run attribute (```go run name=ID race)")
	}
	if fi.Run && fi.Name == "" {
		errs = append(errs, fmt.Sprintf("runnable snippet needs a name (```%s run name=ID)", fi.Lang))
	}
	return fi, errs
}

// runnable reports whether fences of lang may be run: Go, and Python on
// the playground's python3.
func runnable(lang string) bool { return lang == "go" || lang == "python" }

func allowedAttrs(lang string) string {
	switch lang {
	case "go":
		return "run, name=ID, compare=KEY, pair=KEY, race, hl=LINES, linenos, tabs, trace"
	case "python":
		return "run, name=ID, compare=KEY, pair=KEY, hl=LINES, linenos, tabs"
	case "output":
		return "duration=D, tolerance=D, race=N"
	default:
		return "hl=LINES, linenos"
	}
}

// validName reports whether s is usable in an HTML id and a URL fragment.
func validSlug(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
