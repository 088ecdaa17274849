package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// reader is a buffered reader over an RDB stream that checksums exactly the
// bytes the parser consumed (bufio would read ahead into the trailing
// checksum) and counts them for error messages.
type reader struct {
	src  io.Reader
	buf  []byte
	r, w int
	// crcAt is where in buf the bytes not yet checksummed begin.
	crcAt int
	crc   uint64
	// off is the stream offset of buf[0].
	off int64
	err error
}

const bufSize = 256 << 10

func newReader(src io.Reader) *reader {
	return &reader{src: src, buf: make([]byte, bufSize)}
}

// offset is the number of bytes consumed so far.
func (d *reader) offset() int64 { return d.off + int64(d.r) }

// sum checksums what was consumed and returns the running CRC.
func (d *reader) sum() uint64 {
	d.crc = CRC64(d.crc, d.buf[d.crcAt:d.r])
	d.crcAt = d.r
	return d.crc
}

// fill makes at least n bytes (n <= len(buf)) available.
func (d *reader) fill(n int) error {
	for d.w-d.r < n {
		if d.err != nil {
			return d.err
		}
		if d.r > 0 { // slide the unread bytes to the front
			d.sum()
			copy(d.buf, d.buf[d.r:d.w])
			d.off += int64(d.r)
			d.w -= d.r
			d.r, d.crcAt = 0, 0
		}
		k, err := d.src.Read(d.buf[d.w:])
		d.w += k
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			d.err = err
		}
	}
	return nil
}

// next consumes n bytes (n <= len(buf)); the slice is valid until the next
// call.
func (d *reader) next(n int) ([]byte, error) {
	if err := d.fill(n); err != nil {
		return nil, err
	}
	p := d.buf[d.r : d.r+n]
	d.r += n
	return p, nil
}

func (d *reader) byte() (byte, error) {
	p, err := d.next(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

// skip consumes n bytes, writing them to h when h is not nil.
func (d *reader) skip(n uint64, h hash.Hash) error {
	for n > 0 {
		if d.r == d.w {
			if err := d.fill(1); err != nil {
				return err
			}
		}
		k := uint64(d.w - d.r)
		if k > n {
			k = n
		}
		if h != nil {
			h.Write(d.buf[d.r : d.r+int(k)])
		}
		d.r += int(k)
		n -= k
	}
	return nil
}

// read consumes n bytes into a new slice, growing it as the bytes arrive so
// that a corrupt length cannot make it allocate more than the stream holds.
func (d *reader) read(n uint64) ([]byte, error) {
	out := make([]byte, 0, min(n, 4096))
	for uint64(len(out)) < n {
		if d.r == d.w {
			if err := d.fill(1); err != nil {
				return nil, err
			}
		}
		k := min(uint64(d.w-d.r), n-uint64(len(out)))
		out = append(out, d.buf[d.r:d.r+int(k)]...)
		d.r += int(k)
	}
	return out, nil
}

// atEOF reports whether the stream ends exactly here.
func (d *reader) atEOF() bool {
	if d.r < d.w {
		return false
	}
	return d.fill(1) != nil && errors.Is(d.err, io.ErrUnexpectedEOF)
}

func (d *reader) uint64LE() (uint64, error) {
	p, err := d.next(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p), nil
}

func (d *reader) uint32LE() (uint32, error) {
	p, err := d.next(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(p), nil
}

// length reads an RDB length. encoded is true for the special string
// encodings (the low 6 bits then say which).
func (d *reader) length() (n uint64, encoded bool, err error) {
	b, err := d.byte()
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case 0:
		return uint64(b & 0x3f), false, nil
	case 1:
		b2, err := d.byte()
		return uint64(b&0x3f)<<8 | uint64(b2), false, err
	case 2:
		switch b {
		case 0x80:
			p, err := d.next(4)
			if err != nil {
				return 0, false, err
			}
			return uint64(binary.BigEndian.Uint32(p)), false, nil
		case 0x81:
			p, err := d.next(8)
			if err != nil {
				return 0, false, err
			}
			return binary.BigEndian.Uint64(p), false, nil
		}
		return 0, false, fmt.Errorf("unknown length encoding 0x%02x", b)
	default:
		return uint64(b & 0x3f), true, nil
	}
}

// count reads a length that counts elements: not a string encoding.
func (d *reader) count() (uint64, error) {
	n, enc, err := d.length()
	if err == nil && enc {
		err = errors.New("string encoding where a length was expected")
	}
	return n, err
}

// maxString is Redis' proto-max-bulk-len ceiling; longer is corruption.
const maxString = 1 << 40

// str reads a string. With keep it returns the bytes (decompressed, integers
// as decimal text); otherwise it skips them, feeding h the value's bytes
// when h is not nil (h needs keep for compressed and integer strings, so
// the caller asks for keep when it hashes).
func (d *reader) str(keep bool) ([]byte, error) {
	n, enc, err := d.length()
	if err != nil {
		return nil, err
	}
	if !enc {
		if n > maxString {
			return nil, fmt.Errorf("string of %d bytes is implausible", n)
		}
		if !keep {
			return nil, d.skip(n, nil)
		}
		return d.read(n)
	}
	switch n {
	case 0, 1, 2:
		size := 1 << n
		p, err := d.next(size)
		if err != nil {
			return nil, err
		}
		var v int64
		switch size {
		case 1:
			v = int64(int8(p[0]))
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		default:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		}
		return fmt.Appendf(nil, "%d", v), nil
	case 3:
		clen, err := d.count()
		if err != nil {
			return nil, err
		}
		ulen, err := d.count()
		if err != nil {
			return nil, err
		}
		if clen > maxString || ulen > maxString {
			return nil, fmt.Errorf("compressed string of %d/%d bytes is implausible", clen, ulen)
		}
		if !keep {
			return nil, d.skip(clen, nil)
		}
		c, err := d.read(clen)
		if err != nil {
			return nil, err
		}
		if ulen > 100*clen+64 { // a 3-byte LZF back reference expands to at most 264 bytes
			return nil, errLZF
		}
		return lzfDecompress(c, int(ulen))
	}
	return nil, fmt.Errorf("unknown string encoding %d", n)
}
