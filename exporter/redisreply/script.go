package redisreply

import (
	"errors"
	"fmt"
	"strconv"
)

// ScriptResult is what a Lua script returned: key/value pairs (Values), or
// Err, or nothing (Empty), as redis_exporter's script_result tells them
// apart (1, 0, 2).
type ScriptResult struct {
	Name   string
	Values map[string]float64
	Err    error
	Empty  bool
}

// ParseScriptResult reads the reply of the script called name (err is the
// command's error): a flat array of key, value pairs whose values are
// numbers. Script errors are the script's to fix and are reported in
// script_result, not remembered as refusals.
func ParseScriptResult(name string, reply any, err error) ScriptResult {
	r := ScriptResult{Name: name}
	if err != nil {
		r.Err = err
		return r
	}
	pairs, ok := reply.([]any)
	if !ok {
		r.Err = errors.New("the script did not return an array of key, value pairs")
		return r
	}
	if len(pairs) == 0 {
		r.Empty = true
		return r
	}
	r.Values = map[string]float64{}
	for i := 0; i+1 < len(pairs); i += 2 {
		k := fmt.Sprint(pairs[i])
		f, err := strconv.ParseFloat(fmt.Sprint(pairs[i+1]), 64)
		if err != nil {
			r.Err, r.Values = fmt.Errorf("value of %q is not a number", k), nil
			return r
		}
		r.Values[k] = f
	}
	return r
}
