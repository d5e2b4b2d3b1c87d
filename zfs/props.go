package zfs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// propSet is the properties of one dataset, snapshot or bookmark, in the
// order the command listed them.
type propSet struct {
	Name  string
	Props map[string]string
}

// parseGet reads the output of "zfs get -H -p -o name,property,value":
// one tab-separated line per property. Datasets keep their order of first
// appearance.
func parseGet(out []byte) ([]propSet, error) {
	var sets []propSet
	index := map[string]int{}
	for n, line := range strings.Split(string(out), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("zfs get: line %d: want name, property and value, got %q", n+1, line)
		}
		name, prop, value := f[0], f[1], f[2]
		i, ok := index[name]
		if !ok {
			i = len(sets)
			index[name] = i
			sets = append(sets, propSet{Name: name, Props: map[string]string{}})
		}
		sets[i].Props[prop] = value
	}
	return sets, nil
}

// jsonOutput is the shape of "zfs list -j" and "zfs get -j" (OpenZFS 2.3+).
type jsonOutput struct {
	OutputVersion struct {
		Command string `json:"command"`
	} `json:"output_version"`
	Datasets map[string]struct {
		Name       string `json:"name"`
		Type       string `json:"type"`
		Properties map[string]struct {
			Value json.RawMessage `json:"value"`
		} `json:"properties"`
	} `json:"datasets"`
}

// parseJSON reads "zfs list -j -p" / "zfs get -j -p" output, with or
// without --json-int. JSON objects have no order, so sets are returned
// sorted by name; callers sort by what they need.
func parseJSON(out []byte) ([]propSet, error) {
	var j jsonOutput
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("zfs json output: %w", err)
	}
	sets := make([]propSet, 0, len(j.Datasets))
	for key, d := range j.Datasets {
		name := d.Name
		if name == "" {
			name = key
		}
		ps := propSet{Name: name, Props: map[string]string{"name": name}}
		if d.Type != "" {
			ps.Props["type"] = strings.ToLower(d.Type)
		}
		for p, v := range d.Properties {
			s, err := jsonScalar(v.Value)
			if err != nil {
				return nil, fmt.Errorf("zfs json output: %s %s: %w", name, p, err)
			}
			ps.Props[p] = s
		}
		sets = append(sets, ps)
	}
	sortSets(sets)
	return sets, nil
}

// jsonScalar turns a JSON string, number or bool into zfs's text form.
func jsonScalar(raw json.RawMessage) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		if x {
			return "on", nil
		}
		return "off", nil
	case nil:
		return "-", nil
	}
	return "", fmt.Errorf("unexpected value %s", raw)
}

func sortSets(sets []propSet) {
	slices.SortFunc(sets, func(a, b propSet) int { return strings.Compare(a.Name, b.Name) })
}

// uintProp parses a -p number; "-" and "" (not applicable) give 0.
func uintProp(ps propSet, name string) (uint64, error) {
	v := ps.Props[name]
	if v == "" || v == "-" || v == "none" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: property %s: %w", ps.Name, name, err)
	}
	return n, nil
}

// timeProp parses creation, which -p gives as Unix seconds.
func timeProp(ps propSet, name string) (time.Time, error) {
	n, err := uintProp(ps, name)
	if err != nil || n == 0 {
		return time.Time{}, err
	}
	return time.Unix(int64(n), 0), nil
}

// strProp returns a property with "-" (not applicable) as "".
func strProp(ps propSet, name string) string {
	v := ps.Props[name]
	if v == "-" {
		return ""
	}
	return v
}
