package connection

import "encoding/binary"

// cksumPoly is the CRC-32 polynomial of POSIX cksum (the one of Ethernet),
// used most-significant bit first and without reflection, unlike Go's
// hash/crc32 whose IEEE table is the reflected form of the same polynomial.
const cksumPoly = 0x04C11DB7

// cksumTables are the slicing-by-8 tables: cksumTables[0] is the
// byte-at-a-time table, cksumTables[k] advances a byte through k further
// zero bytes, so eight input bytes cost eight lookups and no loop.
var cksumTables = func() (t [8][256]uint32) {
	for i := range 256 {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ cksumPoly
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range 256 {
			p := t[k-1][i]
			t[k][i] = p<<8 ^ t[0][p>>24]
		}
	}
	return t
}()

// Cksum computes what POSIX cksum prints for its input: a CRC-32 over the
// data followed by the data's length (least significant byte first, only
// as many bytes as it needs), complemented. The zero value is ready to
// use. Not safe for concurrent use.
type Cksum struct {
	crc uint32
	n   int64
}

// Write adds p to the checksum; it never fails.
func (c *Cksum) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	c.crc = cksumUpdate(c.crc, p)
	return len(p), nil
}

// Sum32 is the value cksum prints for everything written so far.
func (c *Cksum) Sum32() uint32 {
	crc := c.crc
	var lb [8]byte
	k := 0
	for n := uint64(c.n); n != 0; n >>= 8 {
		lb[k] = byte(n)
		k++
	}
	crc = cksumUpdate(crc, lb[:k])
	return ^crc
}

// Len is the number of bytes written so far.
func (c *Cksum) Len() int64 { return c.n }

func cksumUpdate(crc uint32, p []byte) uint32 {
	t := &cksumTables
	for len(p) >= 8 {
		v := crc ^ binary.BigEndian.Uint32(p)
		crc = t[7][v>>24] ^ t[6][v>>16&0xff] ^ t[5][v>>8&0xff] ^ t[4][v&0xff] ^
			t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]]
		p = p[8:]
	}
	for _, b := range p {
		crc = crc<<8 ^ t[0][byte(crc>>24)^b]
	}
	return crc
}
