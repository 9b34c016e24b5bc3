package rdb

import "encoding/binary"

// Redis checksums DUMP payloads and RDB files with CRC-64/Jones as in its
// crc64.c: polynomial 0xad93d23594c935a9, reflected input and output, initial
// value 0 and no final xor. crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
//
// hash/crc64 cannot be used: it fixes the initial value and final xor to all
// ones, and for tables other than ISO/ECMA it rebuilds an 8x256 helper table
// on every call of 2 KiB or more, which is wasteful when Load checksums a file
// chunk by chunk.
const crcPolyReflected = 0x95ac9329ac4bc9b5

// crcTab[k][b] is the CRC of byte b followed by k zero bytes; the eight tables
// let crc64 fold eight input bytes per step ("slicing-by-8", as Redis's
// crcspeed.c does).
var crcTab = makeCRCTable()

func makeCRCTable() *[8][256]uint64 {
	t := new([8][256]uint64)
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ crcPolyReflected
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
	return t
}

// crc64 continues the Redis CRC64 crc over p. Start with crc 0.
func crc64(crc uint64, p []byte) uint64 {
	t := crcTab
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

// crc64Byte continues crc over a single byte.
func crc64Byte(crc uint64, b byte) uint64 {
	return crcTab[0][byte(crc)^b] ^ crc>>8
}
