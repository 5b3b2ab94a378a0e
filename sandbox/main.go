package sandbox

// Main turns this process into the sandbox's init when it was started as
// one, and returns at once otherwise.
func Main() {
	// TODO(sandbox): implemented by the sandbox package.
}
