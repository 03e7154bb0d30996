package template

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
)

// shaCrypt implements SHA-256/SHA-512 crypt(3) ($5$ / $6$) as published by
// Ulrich Drepper ("Unix crypt using SHA-256 and SHA-512"). rounds 0 means the
// default 5000, which is then left out of the output.
func shaCrypt(password, salt string, rounds int, use512 bool) string {
	newHash := sha256.New
	prefix := "$5$"
	if use512 {
		newHash = sha512.New
		prefix = "$6$"
	}
	custom := rounds != 0
	if !custom {
		rounds = 5000
	}
	rounds = min(max(rounds, 1000), 999999999)
	if len(salt) > 16 {
		salt = salt[:16]
	}
	p, s := []byte(password), []byte(salt)
	sum := func(h hash.Hash) []byte { return h.Sum(nil) }

	hb := newHash()
	hb.Write(p)
	hb.Write(s)
	hb.Write(p)
	b := sum(hb)
	size := len(b)

	ha := newHash()
	ha.Write(p)
	ha.Write(s)
	n := len(p)
	for ; n > size; n -= size {
		ha.Write(b)
	}
	ha.Write(b[:n])
	for n = len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			ha.Write(b)
		} else {
			ha.Write(p)
		}
	}
	a := sum(ha)

	hdp := newHash()
	for range p {
		hdp.Write(p)
	}
	dp := sum(hdp)
	pSeq := make([]byte, 0, len(p))
	for n = len(p); n > size; n -= size {
		pSeq = append(pSeq, dp...)
	}
	pSeq = append(pSeq, dp[:n]...)

	hds := newHash()
	for i := 0; i < 16+int(a[0]); i++ {
		hds.Write(s)
	}
	ds := sum(hds)
	sSeq := make([]byte, 0, len(s))
	for n = len(s); n > size; n -= size {
		sSeq = append(sSeq, ds...)
	}
	sSeq = append(sSeq, ds[:n]...)

	c := a
	for i := 0; i < rounds; i++ {
		h := newHash()
		if i&1 != 0 {
			h.Write(pSeq)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sSeq)
		}
		if i%7 != 0 {
			h.Write(pSeq)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(pSeq)
		}
		c = sum(h)
	}

	out := []byte(prefix)
	if custom {
		out = append(out, "rounds="+strconv.Itoa(rounds)+"$"...)
	}
	out = append(out, s...)
	out = append(out, '$')
	enc := func(b2, b1, b0 byte, n int) {
		w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for ; n > 0; n-- {
			out = append(out, saltChars[w&0x3f])
			w >>= 6
		}
	}
	if use512 {
		// The spec's byte triples rotate: (0,21,42), (22,43,1), (44,2,23)...
		order := [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48},
			{28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13},
			{56, 14, 35}, {15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}}
		for _, t := range order {
			enc(c[t[0]], c[t[1]], c[t[2]], 4)
		}
		enc(0, 0, c[63], 2)
	} else {
		order := [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14}, {15, 25, 5},
			{6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}}
		for _, t := range order {
			enc(c[t[0]], c[t[1]], c[t[2]], 4)
		}
		enc(0, c[31], c[30], 3)
	}
	return string(out)
}
