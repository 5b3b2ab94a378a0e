package playground

import (
	"os"
	"testing"

	"playdoc/sandbox"
)

func TestMain(m *testing.M) {
	// The sandbox re-executes the test binary as its init.
	sandbox.Main()
	os.Exit(m.Run())
}
