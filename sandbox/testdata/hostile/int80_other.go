//go:build !amd64

package main

func compat32() map[string]error { return nil }
