package site

import (
	"context"
	"errors"
	"testing"
)

func TestNoContent(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = memContent(nil)
	if _, err := New(cfg).Build(context.Background()); !errors.Is(err, errNoContent) {
		t.Errorf("err = %v, want %v", err, errNoContent)
	}
}
