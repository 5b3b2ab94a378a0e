package site

import (
	"encoding/binary"
	"mime"
	"os"
	"testing"
)

// box is an ISO BMFF box: a 32-bit size, a type, then its body.
func box(typ string, body ...[]byte) []byte {
	n := 8
	for _, b := range body {
		n += len(b)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	out = append(out, typ...)
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

// avif is the start of an AVIF file as encoders write it: ftyp, then meta
// (a full box: 4 bytes of version and flags) holding hdlr and iprp/ipco,
// whose ispe gives the image's size; the pixels (mdat) follow.
func avif(w, h uint32) []byte {
	ispe := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(make([]byte, 4), w), h)
	meta := box("meta", make([]byte, 4),
		box("hdlr", make([]byte, 24)),
		box("iprp", box("ipco", box("colr", make([]byte, 8)), box("ispe", ispe))))
	return append(append(box("ftyp", []byte("avif\x00\x00\x00\x00mif1miaf")), meta...), box("mdat", make([]byte, 16))...)
}

// TestImageSizeAVIF: an AVIF image (as browsers take them) gets its width
// and height from its ispe property; the build refused it ("not a PNG,
// JPEG, GIF, WebP or SVG image"). A truncated one is an error, not a panic.
func TestImageSizeAVIF(t *testing.T) {
	w, h, err := imageSize(avif(640, 480))
	if err != nil || w != 640 || h != 480 {
		t.Errorf("imageSize(avif 640x480) = %d, %d, %v", w, h, err)
	}
	full := avif(10, 20)
	for _, n := range []int{20, 40, 60, len(full) - 30} {
		if _, _, err := imageSize(full[:n]); err == nil {
			t.Errorf("imageSize of the first %d bytes: no error", n)
		}
	}
}

// TestImageSizeAVIFEncoded reads the size of an AVIF file written by
// libavif's avifenc (Debian's libavif-bin 0.11, from a 37x21 PNG).
func TestImageSizeAVIFEncoded(t *testing.T) {
	body, err := os.ReadFile("testdata/images/red-37x21.avif")
	if err != nil {
		t.Fatal(err)
	}
	if w, h, err := imageSize(body); err != nil || w != 37 || h != 21 {
		t.Errorf("imageSize = %d, %d, %v; want 37, 21", w, h, err)
	}
	if ct := mime.TypeByExtension(".avif"); ct != "image/avif" {
		t.Errorf("a published .avif is served as %q", ct)
	}
}
