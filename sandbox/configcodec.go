//go:build linux

package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The init's config travels as a compact binary message rather than JSON:
// decoding JSON by reflection was the init's largest step after its own
// start-up (2.6 ms of CPU per run on the 2-core VM), and the init then
// links no JSON decoder. The layout is the fields of initConfig in their
// order: integers as varints, strings and byte slices as a uvarint length
// and the bytes, lists as a uvarint count and the items, a pointer or a
// nil-able slice after a presence byte. Both ends are this package, built
// from the same source (BuildInit), so the layout needs no version.

// configVersion starts every message: a message of another layout (a
// spawner and an init of different builds cannot meet, but a stray writer
// could) is refused rather than misread.
const configVersion = 1

// baseVersion starts every initBase message (encodeBase): a config read
// where a base is expected, or the reverse, is refused.
const baseVersion = 101

// encodeBase returns b as the message the init reads first (decodeBase).
func encodeBase(b *initBase) []byte {
	var e configEncoder
	e.uint(baseVersion)
	e.bool(b.Prebuild)
	e.string(b.Hostname)
	e.int(b.RootSize)
	e.int(b.TmpSize)
	e.bool(b.Loopback)
	return e.b
}

// decodeBase reads a message of encodeBase. Errors: a message of another
// version, cut short or with bytes left over.
func decodeBase(msg []byte) (*initBase, error) {
	d := configDecoder{b: msg}
	if err := d.version(baseVersion); err != nil {
		return nil, fmt.Errorf("decode base: %w", err)
	}
	b := &initBase{}
	b.Prebuild = d.bool()
	b.Hostname = d.string()
	b.RootSize = d.int()
	b.TmpSize = d.int()
	b.Loopback = d.bool()
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("decode base: %w", err)
	}
	return b, nil
}

// encodeConfig returns cfg as the message the init reads (decodeConfig).
func encodeConfig(cfg *initConfig) []byte {
	var e configEncoder
	e.uint(configVersion)
	e.bool(cfg.Probe)
	e.bool(cfg.Binary != nil)
	if cfg.Binary != nil {
		e.source(cfg.Binary)
	}
	e.string(cfg.Path)
	e.strings(cfg.Args)
	e.strings(cfg.Env)
	e.string(cfg.Dir)
	e.uint(uint64(len(cfg.Binds)))
	for i := range cfg.Binds {
		b := &cfg.Binds[i]
		e.source(&b.Source)
		e.string(b.Target)
		e.bool(b.Writable)
	}
	e.uint(uint64(len(cfg.Overlays)))
	for i := range cfg.Overlays {
		o := &cfg.Overlays[i]
		e.source(&o.Source)
		e.string(o.Target)
		e.int(o.Size)
	}
	e.int(cfg.TmpSize)
	e.int(int64(cfg.Stdout))
	e.int(int64(cfg.Stderr))
	e.int(int64(cfg.Extra))
	e.uint(uint64(len(cfg.Rlimits)))
	for _, r := range cfg.Rlimits {
		e.int(int64(r.Resource))
		e.uint(r.Cur)
		e.uint(r.Max)
	}
	e.bool(cfg.Landlock)
	e.bool(cfg.Seccomp != nil)
	if cfg.Seccomp != nil {
		e.bytes(cfg.Seccomp)
	}
	return e.b
}

// decodeConfig reads a message of encodeConfig. Errors: a message of
// another version, cut short, with a count larger than what is left, or
// with bytes left over.
func decodeConfig(msg []byte) (*initConfig, error) {
	d := configDecoder{b: msg}
	if err := d.version(configVersion); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	cfg := &initConfig{}
	cfg.Probe = d.bool()
	if d.bool() {
		cfg.Binary = &initSource{}
		d.source(cfg.Binary)
	}
	cfg.Path = d.string()
	cfg.Args = d.strings()
	cfg.Env = d.strings()
	cfg.Dir = d.string()
	if n := d.count(); n > 0 {
		cfg.Binds = make([]initBind, n)
		for i := range cfg.Binds {
			b := &cfg.Binds[i]
			d.source(&b.Source)
			b.Target = d.string()
			b.Writable = d.bool()
		}
	}
	if n := d.count(); n > 0 {
		cfg.Overlays = make([]initOverlay, n)
		for i := range cfg.Overlays {
			o := &cfg.Overlays[i]
			d.source(&o.Source)
			o.Target = d.string()
			o.Size = d.int()
		}
	}
	cfg.TmpSize = d.int()
	cfg.Stdout = int(d.int())
	cfg.Stderr = int(d.int())
	cfg.Extra = int(d.int())
	if n := d.count(); n > 0 {
		cfg.Rlimits = make([]initRlimit, n)
		for i := range cfg.Rlimits {
			r := &cfg.Rlimits[i]
			r.Resource = int(d.int())
			r.Cur = d.uint()
			r.Max = d.uint()
		}
	}
	cfg.Landlock = d.bool()
	if d.bool() {
		cfg.Seccomp = d.bytes()
	}
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	return cfg, nil
}

// configEncoder appends the fields of a config message to b.
type configEncoder struct{ b []byte }

func (e *configEncoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *configEncoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }

func (e *configEncoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *configEncoder) string(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *configEncoder) bytes(p []byte) {
	e.uint(uint64(len(p)))
	e.b = append(e.b, p...)
}

// strings keeps nil apart from empty: Env nil means the init's default.
func (e *configEncoder) strings(ss []string) {
	e.bool(ss != nil)
	if ss == nil {
		return
	}
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.string(s)
	}
}

func (e *configEncoder) source(s *initSource) {
	e.int(int64(s.MountFd))
	e.string(s.Path)
	e.bool(s.Dir)
}

// configDecoder reads the fields of a config message from b; after the
// first error every read returns the zero value and err stays set.
type configDecoder struct {
	b   []byte
	err error
}

var errConfigShort = errors.New("message cut short")

// version reads a message's leading version number: an error if it is
// not want (the init expected the other message) or the message is empty.
func (d *configDecoder) version(want uint64) error {
	if v := d.uint(); d.err == nil && v != want {
		return fmt.Errorf("version %d, want %d", v, want)
	}
	return d.err
}

// end is the decoding's first error, or one for bytes left over.
func (d *configDecoder) end() error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	return d.err
}

func (d *configDecoder) uint() uint64 { return readVarint(d, binary.Uvarint) }

func (d *configDecoder) int() int64 { return readVarint(d, binary.Varint) }

// readVarint reads one varint from d with decode (binary.Uvarint or
// binary.Varint).
func readVarint[T int64 | uint64](d *configDecoder, decode func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := decode(d.b)
	if n <= 0 {
		d.err = errConfigShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *configDecoder) bool() bool {
	if d.err != nil {
		return false
	}
	if len(d.b) == 0 {
		d.err = errConfigShort
		return false
	}
	v := d.b[0]
	d.b = d.b[1:]
	if v > 1 {
		d.err = fmt.Errorf("boolean byte %d", v)
		return false
	}
	return v == 1
}

// count reads a length and checks it against what is left: every item
// takes at least one byte, so a larger count is a corrupt message, not a
// reason to allocate.
func (d *configDecoder) count() int {
	n := d.uint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.err = fmt.Errorf("count %d with %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *configDecoder) bytes() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *configDecoder) string() string { return string(d.bytes()) }

func (d *configDecoder) strings() []string {
	if !d.bool() {
		return nil
	}
	n := d.count()
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.string()
	}
	if d.err != nil {
		return nil
	}
	return ss
}

func (d *configDecoder) source(s *initSource) {
	s.MountFd = int(d.int())
	s.Path = d.string()
	s.Dir = d.bool()
}
