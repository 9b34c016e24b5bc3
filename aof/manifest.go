package aof

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"mullet/internal/sdsargs"
)

// The manifest lists the files of a multi-part AOF, one per line, exactly
// as Redis 7.0 writes it (aof.c, aofInfoFormat):
//
//	file appendonly.aof.2.base.aof seq 2 type b
//	file appendonly.aof.1.incr.aof seq 1 type h
//	file appendonly.aof.2.incr.aof seq 2 type i
//
// The base (at most one) comes first, then history files (already
// rewritten, pending deletion), then incr files in replay order. A file
// name that sdsneedsrepr would escape (space, quote, backslash,
// non-printable) is written double-quoted with C escapes and read back by
// the rules of sdssplitargs. Lines starting with '#' are comments.

// File types, as the one-letter codes in the manifest.
const (
	typeBase    = 'b'
	typeHistory = 'h'
	typeIncr    = 'i'
)

// manifestMaxLine is Redis's MANIFEST_MAX_LINE: longer lines fail to load.
const manifestMaxLine = 1024

type aofInfo struct {
	name string
	seq  int64
	typ  byte
}

type manifest struct {
	base    *aofInfo
	history []aofInfo
	incr    []aofInfo
	// baseSeq and incrSeq are the highest sequence numbers seen, so new
	// files continue from them (curr_base_file_seq, curr_incr_file_seq).
	baseSeq, incrSeq int64
}

func (m *manifest) clone() manifest {
	c := manifest{baseSeq: m.baseSeq, incrSeq: m.incrSeq}
	if m.base != nil {
		b := *m.base
		c.base = &b
	}
	c.history = append([]aofInfo(nil), m.history...)
	c.incr = append([]aofInfo(nil), m.incr...)
	return c
}

// parseManifest follows aofLoadManifestFromFile: it refuses what Redis
// refuses, so a manifest we accept is one redis-server accepts.
func parseManifest(data []byte) (manifest, error) {
	var m manifest
	if len(data) == 0 {
		return m, errors.New("found an empty AOF manifest")
	}
	var maxIncr int64
	for lineno := 1; len(data) > 0; lineno++ {
		nl := bytes.IndexByte(data, '\n')
		var line []byte
		if nl < 0 {
			line, data = data, nil
		} else {
			line, data = data[:nl], data[nl+1:]
		}
		if len(line) > 0 && line[0] == '#' {
			continue
		}
		bad := func(reason string) error {
			return fmt.Errorf("manifest line %d %q: %s", lineno, line, reason)
		}
		if nl < 0 || nl >= manifestMaxLine {
			return m, bad("line too long or not terminated by a newline")
		}
		trimmed := strings.Trim(string(line), " \t\r\n")
		if trimmed == "" {
			return m, bad("invalid AOF manifest file format")
		}
		// Redis cuts the line at a NUL (and so refuses it: no newline);
		// here a NUL outside quotes separates arguments (sdsargs.Split).
		argv, ok := sdsargs.SplitString(trimmed)
		if !ok || len(argv) < 6 || len(argv)%2 != 0 {
			return m, bad("invalid AOF manifest file format")
		}
		var ai aofInfo
		for i := 0; i < len(argv); i += 2 {
			switch strings.ToLower(argv[i]) {
			case "file":
				ai.name = argv[i+1]
				if strings.ContainsAny(ai.name, `/\`) {
					return m, bad("file can't be a path, just a filename")
				}
			case "seq":
				ai.seq, _ = strconv.ParseInt(argv[i+1], 10, 64)
			case "type":
				if argv[i+1] != "" {
					ai.typ = argv[i+1][0]
				}
			}
		}
		if ai.name == "" || ai.seq <= 0 || ai.typ == 0 {
			return m, bad("invalid AOF manifest file format")
		}
		switch ai.typ {
		case typeBase:
			if m.base != nil {
				return m, bad("found duplicate base file information")
			}
			b := ai
			m.base = &b
			m.baseSeq = ai.seq
		case typeHistory:
			m.history = append(m.history, ai)
		case typeIncr:
			if ai.seq <= maxIncr {
				return m, bad("found a non-monotonic sequence number")
			}
			maxIncr = ai.seq
			m.incr = append(m.incr, ai)
			m.incrSeq = ai.seq
		default:
			return m, bad("unknown AOF file type")
		}
	}
	// As Redis's aofLoadManifestFromFile: comments alone (or history
	// alone) describe no data to load.
	if m.base == nil && len(m.incr) == 0 {
		return m, errors.New("found an empty AOF manifest")
	}
	return m, nil
}

// format renders m as Redis's getAofManifestAsString does.
func (m *manifest) format() []byte {
	var b []byte
	line := func(ai aofInfo) {
		b = append(b, "file "...)
		b = append(b, quoteName(ai.name)...)
		b = append(b, " seq "...)
		b = strconv.AppendInt(b, ai.seq, 10)
		b = append(b, " type "...)
		b = append(b, ai.typ, '\n')
	}
	if m.base != nil {
		line(*m.base)
	}
	for _, ai := range m.history {
		line(ai)
	}
	for _, ai := range m.incr {
		line(ai)
	}
	return b
}

// quoteName is sdsneedsrepr + sdscatrepr.
func quoteName(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		// A single quote is quoted too, where Redis's sdsneedsrepr does
		// not: unquoted, it would open a quoted string when the manifest is
		// read back (by Redis as well), so the file name could not load.
		if c == '\\' || c == '"' || c == '\'' || c <= ' ' || c >= 0x7f {
			return sdsargs.Repr(s)
		}
	}
	return s
}

func (a *AOF) manifestPath() string {
	return filepath.Join(a.dir, a.opts.FileName+".manifest")
}

// persistManifest replaces the manifest atomically, as Redis's
// writeAofManifestFile: write a temp file, fsync it, rename it over the
// manifest, fsync the directory. A crash leaves the old or the new
// manifest, never a mix.
func persistManifest(opts *Options, dir string, m *manifest) error {
	name := opts.FileName + ".manifest"
	tmp := filepath.Join(dir, "temp-"+name)
	if err := writeFileSync(opts.OpenFile, tmp, m.format()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("aof: write manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("aof: rename manifest: %w", err)
	}
	return syncDir(dir)
}

// baseName and incrName follow Redis's naming rules (aof.c): the base is
// <appendfilename>.<seq>.base.rdb in RDB format, .base.aof in RESP; an
// incr file <appendfilename>.<seq>.incr.aof.
func baseName(prefix string, seq int64, rdb bool) string {
	if rdb {
		return prefix + "." + strconv.FormatInt(seq, 10) + ".base.rdb"
	}
	return prefix + "." + strconv.FormatInt(seq, 10) + ".base.aof"
}

func incrName(prefix string, seq int64) string {
	return prefix + "." + strconv.FormatInt(seq, 10) + ".incr.aof"
}
