//go:build darwin

package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
)

// newAutostart is a per-user LaunchAgent that runs `tollgate desktop` at login.
func newAutostart(args []string) (autostartEntry, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return autostartEntry{}, err
	}
	return autostartEntry{path: filepath.Join(home, "Library", "LaunchAgents", "dev.tollgate.desktop.plist"), args: args}, nil
}

func (e autostartEntry) enabled() bool { return fileExists(e.path) }

func (e autostartEntry) enable() error {
	exe, err := executable()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString("<plist version=\"1.0\"><dict>\n<key>Label</key><string>dev.tollgate.desktop</string>\n<key>ProgramArguments</key><array>")
	for _, a := range append([]string{exe}, e.args...) {
		b.WriteString("<string>")
		_ = xml.EscapeText(&b, []byte(a))
		b.WriteString("</string>")
	}
	b.WriteString("</array>\n<key>RunAtLoad</key><true/>\n</dict></plist>\n")
	if err := os.MkdirAll(filepath.Dir(e.path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(e.path, []byte(b.String()), 0o644)
}

func (e autostartEntry) disable() error { return removeIfExists(e.path) }
