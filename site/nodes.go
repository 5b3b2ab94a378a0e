package site

import (
	"github.com/yuin/goldmark/ast"

	"playdoc/snippet"
)

// kindCode and kindPair are the goldmark node kinds of code blocks and
// python/go pairs after the fences have been parsed.
var (
	kindCode = ast.NewNodeKind("PlaydocCode")
	kindPair = ast.NewNodeKind("PlaydocPair")
)

// codeNode is a parsed code fence: highlighted code, maybe a runnable
// snippet with its expected output.
type codeNode struct {
	ast.BaseBlock
	Lang    string
	Code    string
	Line    int
	Snippet *snippet.Snippet // nil unless ```go run
	// HL marks the lines to highlight (HL[i] for line i+1, as long as
	// the code's lines); nil for none. LineNos shows line numbers.
	HL      []bool
	LineNos bool
	Tabs    bool   // the fence asked for its pair as tabs
	key     string // highlight cache key, set by the build
	html    string // highlighted code, set by the build before rendering
}

func (n *codeNode) Kind() ast.NodeKind { return kindCode }

func (n *codeNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"Lang": n.Lang}, nil)
}

// pairNode holds a python code node and the go code node after it; Tabs
// when either fence said tabs.
type pairNode struct {
	ast.BaseBlock
	Tabs bool
}

func (n *pairNode) Kind() ast.NodeKind { return kindPair }

func (n *pairNode) Dump(src []byte, level int) { ast.DumpHelper(n, src, level, nil, nil) }

// kindCallout is the node kind of a GitHub-style callout.
var kindCallout = ast.NewNodeKind("PlaydocCallout")

// calloutNode is a block quote that starts with [!NOTE], [!TIP],
// [!IMPORTANT], [!WARNING] or [!CAUTION]: its children are the quote's,
// without the marker.
type calloutNode struct {
	ast.BaseBlock
	Variant string // "note", "tip", "important", "warning", "caution"
	Title   string // the heading: the kind's word, "Note" or "Danger"
}

func (n *calloutNode) Kind() ast.NodeKind { return kindCallout }

func (n *calloutNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"Variant": n.Variant}, nil)
}
