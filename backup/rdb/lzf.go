package rdb

import "errors"

var errLZF = errors.New("corrupt LZF-compressed string")

// lzfDecompress expands an LZF block (liblzf's format, which Redis uses
// for strings over 20 bytes when rdbcompression is on) into exactly n
// bytes.
func lzfDecompress(in []byte, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 { // literal run of ctrl+1 bytes
			l := ctrl + 1
			if i+l > len(in) || len(out)+l > n {
				return nil, errLZF
			}
			out = append(out, in[i:i+l]...)
			i += l
			continue
		}
		l := ctrl >> 5 // back reference
		if l == 7 {
			if i >= len(in) {
				return nil, errLZF
			}
			l += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, errLZF
		}
		ref := len(out) - (ctrl&0x1f)<<8 - int(in[i]) - 1
		i++
		l += 2
		if ref < 0 || len(out)+l > n {
			return nil, errLZF
		}
		for k := range l { // may overlap: copy byte by byte
			out = append(out, out[ref+k])
		}
	}
	if len(out) != n {
		return nil, errLZF
	}
	return out, nil
}
