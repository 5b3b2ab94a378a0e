package main

import (
	"context"
	"errors"
)

// TODO(owner of this subcommand): replace this placeholder.
func runPlayground(ctx context.Context, e *env, args []string) error {
	return errors.New("playground: not implemented yet")
}
