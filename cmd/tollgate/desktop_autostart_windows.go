//go:build windows

package main

import (
	"errors"
	"strings"

	"golang.org/x/sys/windows/registry"
)

const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

// newAutostart is the per-user Run registry value "Tollgate".
func newAutostart(args []string) (autostartEntry, error) {
	return autostartEntry{args: args}, nil
}

func (e autostartEntry) enabled() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	_, _, err = k.GetStringValue("Tollgate")
	return err == nil
}

func (e autostartEntry) enable() error {
	exe, err := executable()
	if err != nil {
		return err
	}
	parts := []string{`"` + exe + `"`}
	for _, a := range e.args {
		parts = append(parts, `"`+a+`"`)
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.SetStringValue("Tollgate", strings.Join(parts, " "))
}

func (e autostartEntry) disable() error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.DeleteValue("Tollgate"); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}
