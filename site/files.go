package site

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
)

// contentFile is a file beside the pages (an image, a download) that a
// page refers to: published under a fingerprinted name in /assets/, so it
// can be cached for good, like the stylesheet.
type contentFile struct {
	file string // path in the content folder ("img/diagram.png")
	url  string // "/assets/diagram.3f2a9c01be.png"
	body []byte
	// width and height are an image's size in CSS pixels (0 when the file
	// is not an image or its size is unknown, see sizeErr).
	width, height int
	sizeErr       error
}

// publishedName is the file name of a content file in /assets/: its base
// name made URL-safe, its fingerprint and its extension.
func publishedName(file string, body []byte) string {
	base := path.Base(file)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	var b strings.Builder
	for _, r := range stem {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	cleanExt := ""
	for _, r := range strings.ToLower(ext) {
		if r == '.' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			cleanExt += string(r)
		}
	}
	return b.String() + "." + fingerprint(body) + cleanExt
}

// readContentFile reads a referenced file; ok is false when there is no
// regular file by that name.
func readContentFile(fsys fs.FS, file string) (*contentFile, bool, error) {
	st, err := fs.Stat(fsys, file)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || (err == nil && !st.Mode().IsRegular()) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read content: %w", err)
	}
	body, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, false, fmt.Errorf("read content: %w", err)
	}
	f := &contentFile{file: file, body: body, url: "/assets/" + publishedName(file, body)}
	return f, true, nil
}

// measure fills in an image's size, once.
func (f *contentFile) measure() {
	if f.width > 0 || f.sizeErr != nil {
		return
	}
	f.width, f.height, f.sizeErr = imageSize(f.body)
}

// errImageFormat is the size error of a file in no format imageSize reads.
var errImageFormat = errors.New("not a PNG, JPEG, GIF, WebP, AVIF or SVG image")

// imageSize reads the width and height of an image from its header: PNG,
// JPEG, GIF and WebP in pixels; SVG from its width and height attributes,
// else its viewBox.
func imageSize(body []byte) (w, h int, err error) {
	r := bytes.NewReader(body)
	switch {
	case bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n")):
		c, err := png.DecodeConfig(r)
		return c.Width, c.Height, err
	case bytes.HasPrefix(body, []byte("\xff\xd8")):
		c, err := jpeg.DecodeConfig(r)
		return c.Width, c.Height, err
	case bytes.HasPrefix(body, []byte("GIF8")):
		c, err := gif.DecodeConfig(r)
		return c.Width, c.Height, err
	case len(body) >= 30 && string(body[:4]) == "RIFF" && string(body[8:12]) == "WEBP":
		return webpSize(body)
	case len(body) >= 12 && string(body[4:8]) == "ftyp" && (string(body[8:12]) == "avif" || string(body[8:12]) == "avis"):
		return avifSize(body)
	}
	return svgSize(body)
}

// webpSize reads the canvas size of a WebP file (lossy, lossless or
// extended), as described in RFC 9649.
func webpSize(b []byte) (int, int, error) {
	chunk := string(b[12:16])
	d := b[20:]
	switch {
	case chunk == "VP8X" && len(d) >= 10:
		w := 1 + (int(d[4]) | int(d[5])<<8 | int(d[6])<<16)
		h := 1 + (int(d[7]) | int(d[8])<<8 | int(d[9])<<16)
		return w, h, nil
	case chunk == "VP8 " && len(d) >= 10 && d[3] == 0x9d && d[4] == 0x01 && d[5] == 0x2a:
		return int(binary.LittleEndian.Uint16(d[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(d[8:]) & 0x3fff), nil
	case chunk == "VP8L" && len(d) >= 5 && d[0] == 0x2f:
		bits := binary.LittleEndian.Uint32(d[1:])
		return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, nil
	}
	return 0, 0, errors.New("malformed WebP header")
}

// avifSize reads the size of an AVIF image (ISO/IEC 23008-12: boxes of a
// 32-bit size and a type): the first image spatial extents property,
// meta > iprp > ipco > ispe, which is the primary image's in the files
// encoders write.
func avifSize(b []byte) (int, int, error) {
	for _, typ := range []string{"meta", "iprp", "ipco", "ispe"} {
		body, ok := findBox(b, typ)
		if !ok {
			return 0, 0, fmt.Errorf("malformed AVIF: no %s box", typ)
		}
		b = body
		if typ == "meta" {
			if len(b) < 4 {
				return 0, 0, errors.New("malformed AVIF: short meta box")
			}
			b = b[4:] // a full box: version and flags
		}
	}
	if len(b) < 12 { // version and flags, width, height
		return 0, 0, errors.New("malformed AVIF: short ispe box")
	}
	return int(binary.BigEndian.Uint32(b[4:])), int(binary.BigEndian.Uint32(b[8:])), nil
}

// findBox returns the body of the first box of type typ among the boxes
// in b.
func findBox(b []byte, typ string) ([]byte, bool) {
	for len(b) >= 8 {
		size, hdr := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		switch size {
		case 0: // to the end
			size = uint64(len(b))
		case 1: // a 64-bit size follows the type
			if len(b) < 16 {
				return nil, false
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return nil, false
		}
		if string(b[4:8]) == typ {
			return b[hdr:size], true
		}
		b = b[size:]
	}
	return nil, false
}

// svgSize reads the size of an SVG image from its root element.
func svgSize(body []byte) (int, int, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return 0, 0, errImageFormat
		}
		if err != nil {
			return 0, 0, errImageFormat
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "svg" {
			return 0, 0, errImageFormat
		}
		var width, height, viewBox string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "width":
				width = a.Value
			case "height":
				height = a.Value
			case "viewBox":
				viewBox = a.Value
			}
		}
		w, wok := cssPixels(width)
		h, hok := cssPixels(height)
		if wok && hok {
			return w, h, nil
		}
		if f := strings.Fields(strings.ReplaceAll(viewBox, ",", " ")); len(f) == 4 {
			vw, err1 := strconv.ParseFloat(f[2], 64)
			vh, err2 := strconv.ParseFloat(f[3], 64)
			if err1 == nil && err2 == nil && vw > 0 && vh > 0 {
				return int(math.Round(vw)), int(math.Round(vh)), nil
			}
		}
		return 0, 0, errors.New("the SVG has neither width and height in pixels nor a viewBox")
	}
}

// cssPixels parses an SVG length given in pixels ("120" or "120px").
func cssPixels(s string) (int, bool) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "px"), 64)
	if err != nil || v <= 0 || v > 1e6 {
		return 0, false
	}
	return int(math.Round(v)), true
}
