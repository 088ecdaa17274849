package rdb

import "encoding/binary"

// Redis checksums RDB files with CRC-64/Jones (reflected polynomial
// 0x95ac9329ac4bc9b5, init 0, no final xor). hash/crc64 takes a custom
// table but rebuilds its 8-way tables on every large update for anything
// but ISO and ECMA, so the slicing-by-8 tables are built here once.
const jonesPoly = 0x95ac9329ac4bc9b5

var jones = func() *[8][256]uint64 {
	var t [8][256]uint64
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ jonesPoly
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 8; k++ {
			c = t[0][c&0xff] ^ c>>8
			t[k][i] = c
		}
	}
	return &t
}()

// CRC64 continues crc over p as Redis' crc64() does.
func CRC64(crc uint64, p []byte) uint64 {
	t := jones
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}
