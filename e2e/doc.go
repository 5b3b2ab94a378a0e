// Package e2e holds the end-to-end tests of the page playground
// (templates/static/playground.js): a real headless Chromium, driven with
// chromedp, against `playdoc serve`, against a static build with no /api/,
// and against an in-test fake of the playground API (docs/contracts.md §3)
// that produces the rare outcomes (busy, timeout, out of memory) on demand.
package e2e
