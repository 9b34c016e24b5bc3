package config

import (
	"regexp"
	"strings"
)

// Secrets in DSNs. A DSN directive (one whose name ends in -dsn:
// consumer-mysql-dsn, and any other sink's) holds a password inside a
// longer value the operator needs to see, so unlike requirepass, whose
// value Redis's CONFIG GET returns as it is, its value is shown with the
// password masked wherever it leaves the process: CONFIG GET, Get and
// Match, and the texts of FileError and FlagError. The typed accessors
// (String) still return the real value: the components need it.
//
// A DSN given outside the configuration file (a --flag, or the
// environment through SetExternal) is never written into the file by
// Rewrite, so a secret kept off the file stays off it.

// maskedPassword replaces a password in a masked DSN.
const maskedPassword = "***"

// isDSN reports whether table entry i holds a DSN.
func isDSN(i int) bool { return strings.HasSuffix(table[i].name, "-dsn") }

// passwordParam matches a password given as key=value, in a
// PostgreSQL keyword/value string (password=secret, password='a b') or
// in a URL's query (?password=secret&...).
var passwordParam = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)`)

// MaskDSN returns dsn with its password replaced by "***", in each form
// a sink may take:
//
//	user:pass@tcp(host:3306)/db?x=y          go-sql-driver/mysql
//	postgres://user:pass@host/db             URL
//	host=h user=u password=pass dbname=db    key=value (and ?password= in a URL)
//
// A DSN without a password comes back unchanged.
func MaskDSN(dsn string) string {
	out := passwordParam.ReplaceAllStringFunc(dsn, func(m string) string {
		sub := passwordParam.FindStringSubmatch(m)
		if sub[2] == "" || sub[2] == "''" {
			return m
		}
		return sub[1] + maskedPassword
	})
	if i := strings.Index(out, "://"); i >= 0 {
		// URL: the user info is the authority's part before its last '@'
		// (a '/' in a password must be percent-encoded).
		rest := out[i+3:]
		auth := rest
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			auth = rest[:j]
		}
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			if colon := strings.IndexByte(auth[:at], ':'); colon >= 0 && colon+1 < at {
				return out[:i+3] + auth[:colon+1] + maskedPassword + rest[at:]
			}
		}
		return out
	}
	// go-sql-driver's ParseDSN: the database name follows the last '/',
	// user[:password] precedes the last '@' before it, and the password
	// starts after the first ':'.
	slash := strings.LastIndexByte(out, '/')
	if slash < 0 {
		return out
	}
	at := strings.LastIndexByte(out[:slash], '@')
	if at < 0 {
		return out
	}
	if colon := strings.IndexByte(out[:at], ':'); colon >= 0 && colon+1 < at {
		return out[:colon+1] + maskedPassword + out[at:]
	}
	return out
}

// shown is the value of table entry i as it may leave the process.
func shown(i int, get string) string {
	if get != "" && isDSN(i) {
		return MaskDSN(get)
	}
	return get
}

// maskArgs masks the arguments of a DSN directive for an error text.
func maskArgs(name string, args []string) []string {
	e, ok := lookup(name)
	if !ok || !isDSN(e.idx) {
		return args
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = MaskDSN(a)
	}
	return out
}

// SetExternal sets directive name to value as a flag would, for a value
// from outside the configuration file (the environment). Rewrite never
// writes the directive: its lines in the file, if any, stay as they are,
// and none is appended. Hooks do not run; the error is a *FlagError.
func (c *Config) SetExternal(name, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := newLoader(c.load())
	if err := l.override([]string{name, value}); err != nil {
		return err
	}
	c.markExternalLocked(name)
	c.cur.Store(l.st)
	return nil
}

// markExternalLocked records that name's value came from outside the file.
func (c *Config) markExternalLocked(name string) {
	e, ok := lookup(name)
	if !ok {
		return
	}
	if c.external == nil {
		c.external = map[int]bool{}
	}
	c.external[e.idx] = true
}
