//go:build !unix

package scripted

import (
	"errors"
	"os"
)

// dupFile is not available here: a traced run's extra output needs Unix.
func dupFile(*os.File) (*os.File, error) {
	return nil, errors.New("duplicating a descriptor needs Unix")
}
