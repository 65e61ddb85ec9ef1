// Building values in place: a decoder takes the maps and slices it built
// for the previous row again, cleared, for the next one (their scalars
// boxed as box.go says), and after a huge row it forgets them, so that
// the row's memory goes back.

package filter

// containers are the maps and slices a decoder built for one value, in
// the order it built them: the next value of the same shape takes them
// again in the same order.
type containers struct {
	scalars
	maps   []map[string]any
	slices [][]any
	nm, ns int // taken so far for the value being built
}

// takeMap returns an empty map with room for n entries.
func (d *decoder) takeMap(n int) map[string]any {
	c := d.reuse
	if c == nil {
		return make(map[string]any, n)
	}
	if c.nm < len(c.maps) {
		m := c.maps[c.nm]
		c.nm++
		clear(m)
		return m
	}
	m := make(map[string]any, n)
	c.maps = append(c.maps, m)
	c.nm++
	return m
}

// takeSlice returns a slice of length n.
func (d *decoder) takeSlice(n int) []any {
	c := d.reuse
	if c == nil {
		return make([]any, n)
	}
	if c.ns < len(c.slices) && cap(c.slices[c.ns]) >= n {
		s := c.slices[c.ns][:n]
		c.ns++
		return s
	}
	s := make([]any, n, max(n, 4))
	if c.ns < len(c.slices) {
		c.slices[c.ns] = s
	} else {
		c.slices = append(c.slices, s)
	}
	c.ns++
	return s
}

// forget zeroes whatever still points into the last row: the scratch
// space beyond its length and the containers the next value may not take.
// Without it, a huge row would stay in memory after the pipeline dropped
// it, for as long as later rows are smaller (or hold no strings).
func (d *decoder) forget() {
	clear(d.kvs[:cap(d.kvs)])
	clear(d.vals[:cap(d.vals)])
	for _, m := range d.reuse.maps {
		clear(m)
	}
	for _, s := range d.reuse.slices {
		clear(s[:cap(s)])
	}
}
