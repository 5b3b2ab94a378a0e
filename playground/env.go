package playground

import (
	"os"
	"path/filepath"

	"playdoc/sandbox"
)

// programEnv returns the binds of the host files a program's sandbox
// shows read-only (those this host has), so
// that the standard library works as on go.dev/play: time zones
// (time.LoadLocation reads /usr/share/zoneinfo), service and protocol
// names (net.LookupPort, "ip4:icmp"), MIME types beyond the built-in few
// (mime.TypeByExtension) and the CA roots (x509.SystemCertPool). The
// sandbox itself provides /etc/hosts, /etc/passwd and /etc/group
// (os/user). When the host has no zoneinfo folder, the Go toolchain's
// zoneinfo archive (goroot/lib/time/zoneinfo.zip) is shown instead, with
// ZONEINFO naming it in env.
func programEnv(goroot string) (binds []sandbox.Bind, env []string) {
	for _, p := range []string{
		"/usr/share/zoneinfo",
		"/etc/services",
		"/etc/protocols",
		"/etc/mime.types",
		"/etc/ssl/certs/ca-certificates.crt",
	} {
		if _, err := os.Stat(p); err == nil {
			binds = append(binds, sandbox.Bind{Host: p, Target: p})
		}
	}
	if _, err := os.Stat("/usr/share/zoneinfo"); err != nil && goroot != "" {
		zip := filepath.Join(goroot, "lib", "time", "zoneinfo.zip")
		if _, err := os.Stat(zip); err == nil {
			const target = "/usr/local/share/zoneinfo.zip"
			binds = append(binds, sandbox.Bind{Host: zip, Target: target})
			env = append(env, "ZONEINFO="+target)
		}
	}
	return binds, env
}
