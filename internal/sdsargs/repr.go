package sdsargs

// AppendRepr appends b to dst double-quoted as Redis's sdscatrepr writes
// it (CONFIG REWRITE, MONITOR, the AOF manifest): \\ \" \n \r \t \a \b
// escaped, other bytes outside printable ASCII as \xHH. Split turns the
// result back into b.
func AppendRepr(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range b {
		switch c {
		case '\\', '"':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\a':
			dst = append(dst, '\\', 'a')
		case '\b':
			dst = append(dst, '\\', 'b')
		default:
			if c >= 0x20 && c < 0x7f {
				dst = append(dst, c)
			} else {
				dst = append(dst, '\\', 'x', hex[c>>4], hex[c&15])
			}
		}
	}
	return append(dst, '"')
}

// Repr is AppendRepr for a string.
func Repr(s string) string {
	return string(AppendRepr(make([]byte, 0, len(s)+2), []byte(s)))
}
