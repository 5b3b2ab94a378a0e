//go:build linux

package sandbox

import (
	"reflect"
	"strings"
	"testing"
)

// fullConfig sets every field of initConfig to a value other than its
// zero, so that a field the codec forgets shows in the round trip.
func fullConfig() *initConfig {
	return &initConfig{
		Probe:  true,
		Binary: &initSource{MountFd: 0, Path: "/host/bin", Dir: false},
		Path:   "/prog",
		Args:   []string{"-v", "", "ünïcode"},
		Env:    []string{"A=1", "B="},
		Dir:    "/tmp/work",
		Binds: []initBind{
			{Source: initSource{MountFd: 1, Path: "/usr/share/zoneinfo", Dir: true}, Target: "/usr/share/zoneinfo"},
			{Source: initSource{MountFd: -1, Path: "/w", Dir: true}, Target: "/w", Writable: true},
		},
		Overlays: []initOverlay{{Source: initSource{MountFd: 2, Path: "/goroot", Dir: true}, Target: "/go", Size: 256 << 20}},
		TmpSize:  32 << 20,
		Stdout:   3, Stderr: 4, Extra: -1,
		Rlimits:  []initRlimit{{Resource: 7, Cur: 256, Max: 256}, {Resource: 0, Cur: ^uint64(0), Max: ^uint64(0)}},
		Landlock: true,
		Seccomp:  []byte{0x20, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0xff, 0x7f},
	}
}

func TestConfigCodecRoundTrip(t *testing.T) {
	for name, cfg := range map[string]*initConfig{
		"full":                    fullConfig(),
		"empty":                   {Stdout: -1, Stderr: -1, Extra: -1},
		"empty lists, no seccomp": {Args: []string{}, Env: []string{}, Seccomp: nil},
		"empty filter":            {Seccomp: []byte{}},
	} {
		got, err := decodeConfig(encodeConfig(cfg))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, cfg) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", name, got, cfg)
		}
	}
	// Every field of initConfig is set in fullConfig: a field added
	// later and left out of the codec fails here.
	v := reflect.ValueOf(*fullConfig())
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("fullConfig leaves %s zero", v.Type().Field(i).Name)
		}
	}
}

// A message cut anywhere, with bytes added, or of another version is
// refused with an error, never misread.
func TestConfigCodecRefusesBadMessages(t *testing.T) {
	msg := encodeConfig(fullConfig())
	for n := range len(msg) {
		if _, err := decodeConfig(msg[:n]); err == nil {
			t.Fatalf("a message cut to %d of %d bytes was accepted", n, len(msg))
		}
	}
	if _, err := decodeConfig(append(msg[:len(msg):len(msg)], 0)); err == nil || !strings.Contains(err.Error(), "left over") {
		t.Errorf("extra byte: got %v, want an error about bytes left over", err)
	}
	bad := append([]byte{configVersion + 1}, msg[1:]...)
	if _, err := decodeConfig(bad); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("other version: got %v, want a version error", err)
	}
	// A count far larger than the message must not allocate it.
	huge := []byte{configVersion, 0, 0, 0, 1}
	huge = append(huge, 0xff, 0xff, 0xff, 0xff, 0x0f)
	if _, err := decodeConfig(huge); err == nil {
		t.Errorf("an argument count of 4 G in a 10-byte message was accepted")
	}
}

// The base message round-trips every field, is refused cut short or
// with a byte more, and neither message is taken for the other.
func TestBaseCodec(t *testing.T) {
	full := &initBase{Prebuild: true, Hostname: "sandbox", RootSize: 1 << 20, TmpSize: 32 << 20, Loopback: true}
	v := reflect.ValueOf(*full)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("the full base leaves %s zero", v.Type().Field(i).Name)
		}
	}
	for _, b := range []*initBase{full, {}} {
		got, err := decodeBase(encodeBase(b))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, b)
		}
	}
	msg := encodeBase(full)
	for n := range len(msg) {
		if _, err := decodeBase(msg[:n]); err == nil {
			t.Fatalf("a base cut to %d of %d bytes was accepted", n, len(msg))
		}
	}
	if _, err := decodeBase(append(msg[:len(msg):len(msg)], 0)); err == nil {
		t.Error("a base with a byte more was accepted")
	}
	if _, err := decodeBase(encodeConfig(fullConfig())); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("a config read as a base: got %v, want a version error", err)
	}
	if _, err := decodeConfig(msg); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("a base read as a config: got %v, want a version error", err)
	}
}
