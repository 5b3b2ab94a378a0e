package site

import (
	"go/scanner"
	"go/token"
	"strings"

	"github.com/alecthomas/chroma/v2"
)

// tokeniseGo splits Go source into chroma tokens classified the way chroma's
// own Go lexer classifies them, using go/scanner instead of chroma's
// regular expressions: highlighting is most of a build's time, and this is
// an order of magnitude faster. Code that go/scanner cannot read (a stray
// character in a fragment) still comes out whole, as plain text where it
// fails.
func tokeniseGo(src string) []chroma.Token {
	// Go code has a token (after coalescing) every 3 bytes or so.
	return appendGoTokens(make([]chroma.Token, 0, len(src)/2+1), src)
}

// appendGoTokens is tokeniseGo appending to out, which has no tokens
// (its spare capacity is used): the highlighter reuses one slice.
func appendGoTokens(out []chroma.Token, src string) []chroma.Token {
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(file, []byte(src), func(token.Position, string) {}, scanner.ScanComments)
	// Every token's text follows the last one's in src (see below), so a
	// coalesced token is src[start:end] of the last: no concatenation.
	start := 0
	emit := func(tt chroma.TokenType, from, to int) {
		if from == to {
			return
		}
		if n := len(out); n > 0 && out[n-1].Type == tt {
			out[n-1].Value = src[start:to] // coalesce, as chroma does
			return
		}
		start = from
		out = append(out, chroma.Token{Type: tt, Value: src[from:to]})
	}
	last := 0
	for {
		pos, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		if t == token.SEMICOLON && lit != ";" {
			continue // inserted by the scanner at a newline
		}
		off := file.Offset(pos)
		end := off + len(lit)
		if lit == "" {
			end = off + len(t.String())
		}
		end = min(end, len(src))
		if off < last {
			continue // overlaps what was already emitted
		}
		emit(chroma.TextWhitespace, last, off)
		text := src[off:end]
		// Is the next non-space character a '('? (Function names.)
		rest := strings.TrimLeft(src[end:], " \t")
		callNext := strings.HasPrefix(rest, "(")
		directCall := strings.HasPrefix(src[end:], "(")
		emit(goTokenType(t, text, callNext, directCall), off, end)
		last = end
	}
	emit(chroma.TextWhitespace, last, len(src))
	return out
}

// goTokenType classifies one token as chroma's Go lexer does.
func goTokenType(t token.Token, text string, callNext, directCall bool) chroma.TokenType {
	switch {
	case t == token.COMMENT:
		switch {
		case strings.HasPrefix(text, "/*"):
			return chroma.CommentMultiline
		case len(text) > 2 && !isSpace(text[2]):
			return chroma.CommentPreproc
		default:
			return chroma.CommentSingle
		}
	case t == token.IMPORT || t == token.PACKAGE:
		return chroma.KeywordNamespace
	case t == token.VAR || t == token.FUNC || t == token.STRUCT || t == token.MAP || t == token.CHAN ||
		t == token.TYPE || t == token.INTERFACE || t == token.CONST:
		return chroma.KeywordDeclaration
	case t.IsKeyword():
		return chroma.Keyword
	case t == token.IDENT:
		switch {
		case text == "true" || text == "false" || text == "iota" || text == "nil":
			return chroma.KeywordConstant
		case directCall && goBuiltinCall[text]:
			return chroma.NameBuiltin
		case goBuiltinType[text]:
			return chroma.KeywordType
		case callNext:
			return chroma.NameFunction
		default:
			return chroma.NameOther
		}
	case t == token.INT:
		switch {
		case strings.HasPrefix(text, "0x") || strings.HasPrefix(text, "0X"):
			return chroma.LiteralNumberHex
		case strings.HasPrefix(text, "0b"):
			return chroma.LiteralNumberBin
		case len(text) > 1 && text[0] == '0' && strings.Trim(text, "01234567") == "":
			return chroma.LiteralNumberOct
		default:
			return chroma.LiteralNumberInteger
		}
	case t == token.FLOAT:
		return chroma.LiteralNumberFloat
	case t == token.IMAG:
		return chroma.LiteralNumber
	case t == token.CHAR:
		return chroma.LiteralStringChar
	case t == token.STRING:
		return chroma.LiteralString
	case t.IsOperator():
		// chroma's operator set: every multi-character operator but ^=,
		// and + - * / % &; the other single characters are punctuation.
		if (len(text) > 1 && text != "^=") || strings.ContainsAny(text, "+-*/%&") {
			return chroma.Operator
		}
		return chroma.Punctuation
	}
	return chroma.Text
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// goBuiltinCall are the names chroma marks as builtins when a '(' follows.
var goBuiltinCall = map[string]bool{
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"float": true, "float32": true, "float64": true, "complex64": true, "complex128": true,
	"byte": true, "rune": true, "string": true, "bool": true, "error": true, "uintptr": true,
	"print": true, "println": true, "panic": true, "recover": true, "close": true,
	"complex": true, "real": true, "imag": true, "len": true, "cap": true, "append": true,
	"copy": true, "delete": true, "new": true, "make": true, "clear": true, "min": true, "max": true,
}

// goBuiltinType are the predeclared types chroma marks as type keywords.
var goBuiltinType = map[string]bool{
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"float": true, "float32": true, "float64": true, "complex64": true, "complex128": true,
	"byte": true, "rune": true, "string": true, "bool": true, "error": true, "uintptr": true, "any": true,
}
