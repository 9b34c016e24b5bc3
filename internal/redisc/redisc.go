// Package redisc holds the small routines of Redis's C code (util.c,
// strerror(3)) whose exact behaviour mullet reproduces in more than one
// package: glob matching (stringmatchlen), strict integer parsing
// (string2ll) and error texts (strerror). It imports no project package,
// so the engine (queue), the directive table (config) and the front end
// (server) can all use it.
package redisc
