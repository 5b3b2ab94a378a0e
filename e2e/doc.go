// Package e2e holds the end-to-end tests of the page playground
// (templates/static/playground.js): a real headless Chromium, driven with
// chromedp, against `playdoc serve`, against a static build with no /api/,
// and against a fixture page served with the real playground server over a
// scripted sandbox (playground/playgroundtest), whose programs produce the
// rare outcomes (busy, timeout, out of memory) on demand.
package e2e
