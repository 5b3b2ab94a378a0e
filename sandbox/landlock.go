//go:build linux

package sandbox

import (
	"fmt"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsyscall "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// landlockPaths restricts the file system to the sandbox's own tree. It is
// redundant with the mount namespace by design: one layer's bug should not
// be enough.
func landlockPaths(cfg *initConfig) error {
	rules := []landlock.Rule{
		landlock.RWDirs("/tmp").WithRefer(),
		landlock.RODirs("/proc"),
		landlock.RWFiles("/dev/null"),
		landlock.ROFiles("/dev/zero", "/dev/urandom", "/etc/hosts", "/etc/passwd", "/etc/group"),
	}
	if cfg.Binary != nil {
		rules = append(rules, landlock.ROFiles("/prog"))
	}
	for _, b := range cfg.Binds {
		switch {
		case b.Source.Dir && b.Writable:
			rules = append(rules, landlock.RWDirs(b.Target).WithRefer())
		case b.Source.Dir:
			rules = append(rules, landlock.RODirs(b.Target))
		case b.Writable:
			rules = append(rules, landlock.RWFiles(b.Target))
		default:
			rules = append(rules, landlock.ROFiles(b.Target))
		}
	}
	for _, o := range cfg.Overlays {
		rules = append(rules, landlock.RWDirs(o.Target).WithRefer())
	}
	// The scope keeps the program from abstract sockets made outside its
	// domain: its output sockets may belong to the host's network
	// namespace (see newOutput), where such names are looked up.
	fs := landlock.Config{HandledAccessFS: landlock.V11.HandledAccessFS, Scoped: llsyscall.ScopeAbstractUnixSocket}
	fd, flags, err := fs.BestEffort().NewRulesetFD(rules...)
	if err != nil {
		return fmt.Errorf("landlock ruleset: %w", err)
	}
	if fd < 0 {
		return nil // no Landlock in this kernel after all
	}
	defer unix.Close(fd)
	if err := llsyscall.LandlockRestrictSelf(fd, flags); err != nil {
		return fmt.Errorf("landlock: %w", err)
	}
	return nil
}
