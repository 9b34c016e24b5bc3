package rdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Load reads an RDB file from r and calls apply once per string key and
// once or more per list key, in file order: a list is passed in parts of
// about 1 MiB of items, in order, so that loading a huge list takes memory
// for a part, not for the whole list. It accepts RDB versions 1 to 10 (Redis 7.0 writes 10), skips
// aux fields, resize hints and LRU/LFU data, and at the EOF opcode verifies
// the CRC64 unless the file stores 0 (rdbchecksum no) or predates version 5.
//
// db is the database from the last SELECTDB (0 before any). expireAtMs is
// the key's absolute expiry in Unix milliseconds, or NoExpire. Load does not
// drop keys that have already expired: Redis drops them only when loading a
// plain RDB as a master, not from an AOF preamble, so the caller decides.
// Lists with no items are skipped, as Redis does.
//
// key and every byte slice in v alias buffers that Load reuses: they are
// valid only until apply returns. Copy what must outlive the call.
//
// A key of another type (set, hash, zset, stream, module) and module aux
// data or function libraries stop the load with a *TypeError; malformed or
// truncated input gives a *CorruptError; a checksum mismatch ErrChecksum.
// An error from apply stops the load and is returned unchanged.
//
// Load reads r through a 64 KiB bufio.Reader, so it may consume bytes past
// the end of the RDB. If r is a *bufio.Reader it is used as is and is left
// positioned just after the checksum, ready for whatever follows (such as
// the RESP commands after an old-style AOF preamble).
func Load(r io.Reader, apply func(db int, key []byte, v Value, expireAtMs int64) error) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	d := &decoder{r: reader{br: br, left: -1, sum: true}}
	var (
		keyBuf []byte
		db     = 0
		expire = NoExpire
	)
	d.flush = func() error { return apply(db, keyBuf, d.build(KindList), expire) }
	ver, err := d.header()
	if err != nil {
		return err
	}
	for {
		at := d.r.off
		t, err := d.r.byte()
		if err != nil {
			return err
		}
		switch t {
		case opAux:
			if err := d.skipString(); err != nil {
				return err
			}
			if err := d.skipString(); err != nil {
				return err
			}
		case opResizeDB:
			if _, err := d.length(); err != nil {
				return err
			}
			if _, err := d.length(); err != nil {
				return err
			}
		case opSelectDB:
			n, err := d.length()
			if err != nil {
				return err
			}
			if n > math.MaxInt32 {
				return d.r.corrupt("database number %d out of range", n)
			}
			db = int(n)
		case opExpireTime:
			if err := d.r.full(d.tmp[:4]); err != nil {
				return err
			}
			expire = int64(int32(binary.LittleEndian.Uint32(d.tmp[:4]))) * 1000
		case opExpireTimeMs:
			// RDB < 9 stored this in host byte order; every Redis we care
			// about runs little-endian, so one reading covers all versions.
			if err := d.r.full(d.tmp[:8]); err != nil {
				return err
			}
			expire = int64(binary.LittleEndian.Uint64(d.tmp[:8]))
		case opFreq:
			if _, err := d.r.byte(); err != nil {
				return err
			}
		case opIdle:
			if _, err := d.length(); err != nil {
				return err
			}
		case opEOF:
			return d.trailer(ver)
		case opModuleAux, opFunction2, opFunctionPreGA, opSlotInfo:
			// Module aux data can only be skipped by the module that wrote
			// it, and skipping a function library would silently lose it.
			return &TypeError{Offset: at, DB: db, Type: t}
		default:
			d.reset()
			ks, err := d.string()
			if err != nil {
				return err
			}
			// The key is kept apart so that the arena can be emptied
			// each time a part of a list is passed on.
			keyBuf = append(keyBuf[:0], d.arena[ks.off:ks.off+ks.n]...)
			d.reset()
			d.flushed = 0
			kind, err := d.value(t, at, db, keyBuf)
			if errors.Is(err, ErrEmptyKey) {
				expire = NoExpire
				continue
			}
			if err != nil {
				return err
			}
			if kind == KindList && len(d.spans) == 0 {
				expire = NoExpire // all of it was passed on in parts
				continue
			}
			v := d.build(kind)
			if err := apply(db, keyBuf[:len(keyBuf):len(keyBuf)], v, expire); err != nil {
				return err
			}
			expire = NoExpire
		}
	}
}

// header reads "REDIS" and a four-digit version and returns the version.
func (d *decoder) header() (int, error) {
	var h [9]byte
	if err := d.r.full(h[:5]); err != nil {
		return 0, err
	}
	if string(h[:5]) != "REDIS" {
		return 0, fmt.Errorf("%w: file starts with %q, not \"REDIS\"", ErrNotRDB, h[:5])
	}
	if err := d.r.full(h[5:]); err != nil {
		return 0, err
	}
	ver := 0
	for _, c := range h[5:] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: header version %q is not a number", ErrVersion, h[5:])
		}
		ver = ver*10 + int(c-'0')
	}
	if ver < 1 || ver > Version {
		return 0, fmt.Errorf("%w: RDB version %d, want 1 to %d", ErrVersion, ver, Version)
	}
	return ver, nil
}

// trailer checks the CRC64 after the EOF opcode. It covers every byte from
// the magic up to and including the opcode; 0 means the writer had
// rdbchecksum off. Files before version 5 have no checksum.
func (d *decoder) trailer(ver int) error {
	if ver < 5 {
		return nil
	}
	want := d.r.crc
	if err := d.r.full(d.tmp[:8]); err != nil {
		return err
	}
	if got := binary.LittleEndian.Uint64(d.tmp[:8]); got != 0 && got != want {
		return fmt.Errorf("%w: file says %#016x, data hashes to %#016x", ErrChecksum, got, want)
	}
	return nil
}
