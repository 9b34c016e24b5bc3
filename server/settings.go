package server

import (
	"time"

	"mullet/config"
)

// Settings are the directives the transport acts on, typed. CONFIG SET
// changes them while the server runs: New installs hooks that read them
// again (SettingsFrom) and swap them in at once, so every connection sees
// either the old or the new set.
type Settings struct {
	MaxClients  int64                    // maxclients: connections past it are refused
	IdleTimeout time.Duration            // timeout: idle clients are closed; 0: never
	MaxBulk     int64                    // proto-max-bulk-len, bytes
	MaxQuery    int64                    // client-query-buffer-limit, bytes
	Protected   bool                     // protected-mode: refuse non-loopback clients while no password is set
	KeepAlive   time.Duration            // tcp-keepalive; 0: off
	OutputLimit config.OutputBufferLimit // client-output-buffer-limit normal; zero: Redis's default
}

// settingsDirectives are the directives SettingsFrom reads.
var settingsDirectives = []string{"maxclients", "timeout", "proto-max-bulk-len",
	"client-query-buffer-limit", "protected-mode", "tcp-keepalive", "client-output-buffer-limit"}

// SettingsFrom reads the transport's settings from the configuration:
// the one place in server where directives are read by name (TLS's are
// read once, by TLSConfig).
func SettingsFrom(set *config.Config) Settings {
	out, _ := set.ClientOutputBufferLimit("normal")
	return Settings{
		MaxClients:  set.Int("maxclients"),
		IdleTimeout: time.Duration(set.Int("timeout")) * time.Second,
		MaxBulk:     set.Size("proto-max-bulk-len"),
		MaxQuery:    set.Size("client-query-buffer-limit"),
		Protected:   set.Bool("protected-mode"),
		KeepAlive:   time.Duration(set.Int("tcp-keepalive")) * time.Second,
		OutputLimit: out,
	}
}

// SetSettings replaces the transport's settings; new values apply to the
// next connection or batch of commands.
func (s *Server) SetSettings(st Settings) {
	if st.OutputLimit == (config.OutputBufferLimit{}) {
		st.OutputLimit = defaultNormalLimit
	}
	s.settings.Store(&st)
}

// cur returns the current settings.
func (s *Server) cur() *Settings { return s.settings.Load() }
