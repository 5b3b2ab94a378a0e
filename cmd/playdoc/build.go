package main

import (
	"context"
	"errors"
)

// TODO(owner of this subcommand): replace this placeholder.
func runBuild(ctx context.Context, e *env, args []string) error {
	return errors.New("build: not implemented yet")
}
