package site

import (
	"fmt"
	"math"

	"github.com/alecthomas/chroma/v2"
)

// minContrast is WCAG AA's contrast ratio for normal text.
const minContrast = 4.5

// luminance is the WCAG relative luminance of a colour.
func luminance(c chroma.Colour) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.Red()) + 0.7152*lin(c.Green()) + 0.0722*lin(c.Blue())
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b chroma.Colour) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// accessible returns the style with every token colour that is too faint
// against its background darkened (light themes) or lightened (dark
// themes) until it meets WCAG AA: some of chroma's themes have comments
// below 4.5:1. Colours on the code background must meet it on tint too
// (the background of highlighted lines).
func accessible(style *chroma.Style, tint chroma.Colour) (*chroma.Style, error) {
	bg := style.Get(chroma.Background).Background
	if !bg.IsSet() {
		bg = chroma.NewColour(255, 255, 255)
	}
	b := style.Builder()
	for _, tt := range style.Types() {
		if tt == chroma.TextWhitespace || (tt < 0 && tt != chroma.Error) { // < 0: backgrounds, line numbers and other non-token types; Error colours a token
			continue
		}
		e := b.Get(tt)
		if !e.Colour.IsSet() {
			continue
		}
		against := []chroma.Colour{bg, tint}
		if e.Background.IsSet() && e.Background != bg {
			against = []chroma.Colour{e.Background}
		}
		step := -0.04 // darken on a light background
		if luminance(against[0]) < 0.2 {
			step = 0.04
		}
		c := e.Colour
		for i := 0; minContrastOf(c, against) < minContrast; i++ {
			if i == 50 {
				return nil, fmt.Errorf("style %s: cannot reach contrast %.1f for %v", style.Name, minContrast, tt)
			}
			c = c.Brighten(step)
		}
		if c != e.Colour {
			e.Colour = c
			b.AddEntry(tt, e)
		}
	}
	s, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("style %s: %w", style.Name, err)
	}
	return s, nil
}

// minContrastOf is c's lowest contrast against the backgrounds.
func minContrastOf(c chroma.Colour, backgrounds []chroma.Colour) float64 {
	m := math.Inf(1)
	for _, b := range backgrounds {
		m = min(m, contrast(c, b))
	}
	return m
}
