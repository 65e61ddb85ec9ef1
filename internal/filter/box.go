package filter

import (
	"encoding/json"
	"unsafe"
)

// Boxing scalars without an allocation each. Go stores a string, an int
// or a json.Number in an interface value as a pointer to a copy on the
// heap, which is most of the garbage a filter like .email makes per row.
// A decoder that builds values in place (see decoder) keeps those copies
// in slabs of its own instead, which the next value reuses: a boxed
// scalar is valid exactly as long as the maps and slices around it.
//
// A slab that must grow is copied into a larger one; the interface values
// made so far keep pointing into the old one, which is never written
// again and lives while they do.

// scalars are a decoder's slabs.
type scalars struct {
	strs []string
	ints []int
	nums []json.Number
}

// reset empties the slabs for the next value. The strings and numbers
// are zeroed, not just dropped: they point into the row's bytes, which
// must not stay reachable through the decoder once the row is done.
func (s *scalars) reset() {
	clear(s.strs)
	clear(s.nums)
	s.strs, s.ints, s.nums = s.strs[:0], s.ints[:0], s.nums[:0]
}

// The type words of interface values holding each kind of scalar.
var (
	stringType = typeWord("")
	intType    = typeWord(0)
	numberType = typeWord(json.Number(""))
)

// iface is the layout of an interface value: its type word and a pointer
// to the value. That is the runtime's layout, not a promise of the
// language: TestBoxLayoutAssumptions (box_test.go) fails, saying which
// assumption broke, if a Go release changes it.
type iface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func typeWord(v any) unsafe.Pointer { return (*iface)(unsafe.Pointer(&v)).typ }

// boxed returns the interface value of type typ whose value is at p.
func boxed(typ, p unsafe.Pointer) (v any) {
	e := (*iface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

// boxIn appends v to slab and returns the interface value of type typ
// that holds it there.
func boxIn[T any](slab *[]T, typ unsafe.Pointer, v T) any {
	*slab = append(*slab, v)
	return boxed(typ, unsafe.Pointer(&(*slab)[len(*slab)-1]))
}

// boxString returns s as an interface value, from the slab when the
// decoder builds in place.
func (d *decoder) boxString(s string) any {
	if d.reuse == nil {
		return s
	}
	return boxIn(&d.reuse.strs, stringType, s)
}

// boxInt returns n as an interface value; see boxString.
func (d *decoder) boxInt(n int) any {
	if d.reuse == nil || uint(n) < 256 {
		return n // Go boxes small integers without allocating
	}
	return boxIn(&d.reuse.ints, intType, n)
}

// boxNumber returns n as an interface value; see boxString.
func (d *decoder) boxNumber(n json.Number) any {
	if d.reuse == nil {
		return n
	}
	return boxIn(&d.reuse.nums, numberType, n)
}
