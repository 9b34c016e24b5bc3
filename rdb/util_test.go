package rdb

import (
	"bufio"
	"bytes"
	"strconv"
)

func bufioOf(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func itoa(n int) string { return strconv.Itoa(n) }
