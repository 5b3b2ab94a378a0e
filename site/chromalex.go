package site

import (
	"fmt"
	"slices"
	"time"

	"github.com/alecthomas/chroma/v2"
)

// chromaMatchTimeout is the wall time after which chroma's regexp lexers
// give up one rule's match and silently try the next rule (chroma v2.27.0
// regexp.go sets rule.Regexp.MatchTimeout to 250 ms on every compiled
// rule and drops the timeout error). Under load (a build descheduled, a
// paused VM) a keyword then came out as plain text: two builds of the same
// SQL block differed ("SELECT" unstyled in one of five runs of
// TestPageCacheCorpus at load ~8).
const chromaMatchTimeout = 250 * time.Millisecond

// maxLexAttempts bounds the tokenisations of one block that took longer
// than chromaMatchTimeout.
const maxLexAttempts = 5

// tokeniseChroma is lexer's tokens for code, the same whatever the
// machine's load: no match can have timed out in a tokenisation that took
// less than chromaMatchTimeout of wall time in all (regexp2 measures a
// match's deadline on a clock that never runs ahead), so a slower one is
// done again until one is quick or two in a row agree (a block that is
// slow every time: whatever chroma makes of it, the same each build).
// Errors are chroma's.
func tokeniseChroma(lexer chroma.Lexer, code string) ([]chroma.Token, error) {
	return stableTokens(func() ([]chroma.Token, time.Duration, error) {
		start := time.Now()
		it, err := chroma.Coalesce(lexer).Tokenise(nil, code)
		if err != nil {
			return nil, 0, err
		}
		tokens := it.Tokens() // the lexing happens here, token by token
		return tokens, time.Since(start), nil
	})
}

// stableTokens runs lex (tokens, the wall time it took, an error) as
// tokeniseChroma says.
func stableTokens(lex func() ([]chroma.Token, time.Duration, error)) ([]chroma.Token, error) {
	var prev []chroma.Token
	for attempt := 1; ; attempt++ {
		tokens, took, err := lex()
		if err != nil {
			return nil, fmt.Errorf("tokenise: %w", err)
		}
		if took < chromaMatchTimeout || (prev != nil && slices.Equal(prev, tokens)) || attempt == maxLexAttempts {
			return tokens, nil
		}
		prev = tokens
	}
}
