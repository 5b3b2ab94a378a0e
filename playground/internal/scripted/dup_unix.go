//go:build unix

package scripted

import (
	"fmt"
	"os"
	"syscall"
)

// dupFile duplicates f's descriptor, as a process inherits it.
func dupFile(f *os.File) (*os.File, error) {
	c, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd, dupErr := -1, error(nil)
	if err := c.Control(func(d uintptr) { fd, dupErr = syscall.Dup(int(d)) }); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, fmt.Errorf("dup: %w", dupErr)
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), f.Name()), nil
}
