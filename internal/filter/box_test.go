package filter

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"runtime/debug"
	"testing"
	"unsafe"
)

// TestBoxedLayout checks the interface layout box.go relies on: a value
// boxed by hand reads back as the value, with its type.
func TestBoxedLayout(t *testing.T) {
	s, n, num := "text", 12345, json.Number("1.50")
	if v, ok := boxed(stringType, unsafe.Pointer(&s)).(string); !ok || v != s {
		t.Errorf("boxed string = %v, %v", v, ok)
	}
	if v, ok := boxed(intType, unsafe.Pointer(&n)).(int); !ok || v != n {
		t.Errorf("boxed int = %v, %v", v, ok)
	}
	if v, ok := boxed(numberType, unsafe.Pointer(&num)).(json.Number); !ok || v != num {
		t.Errorf("boxed number = %v, %v", v, ok)
	}
}

// boxCases are values of every kind box.go builds, each as Go boxes it
// (want) and as a decoder that builds in place boxes it (box).
var boxCases = []struct {
	name string
	want any
	box  func(d *decoder) any
}{
	{"string", "text", func(d *decoder) any { return d.boxString("text") }},
	{"empty string", "", func(d *decoder) any { return d.boxString("") }},
	{"long string", "é" + fmt.Sprint(math.MaxInt64), func(d *decoder) any { return d.boxString("é" + fmt.Sprint(math.MaxInt64)) }},
	{"int", 12345, func(d *decoder) any { return d.boxInt(12345) }},
	{"negative int", -300, func(d *decoder) any { return d.boxInt(-300) }},
	{"largest int", math.MaxInt, func(d *decoder) any { return d.boxInt(math.MaxInt) }},
	{"small int, boxed by Go", 7, func(d *decoder) any { return d.boxInt(7) }},
	{"number", json.Number("1.50"), func(d *decoder) any { return d.boxNumber("1.50") }},
	{"big number", json.Number("123456789012345678901234567890"), func(d *decoder) any { return d.boxNumber("123456789012345678901234567890") }},
}

// TestBoxLayoutAssumptions: the interface values box.go builds by hand
// are indistinguishable from those Go builds: equal, of the same dynamic
// type, found by a type switch and by a map lookup, read back alike by
// reflect and fmt. Each failure names the runtime assumption that broke;
// box.go must then change with the runtime (or box as Go does).
func TestBoxLayoutAssumptions(t *testing.T) {
	checkIfaceLayout(t)
	for _, tc := range boxCases {
		t.Run(tc.name, func(t *testing.T) {
			d := decoder{reuse: &containers{}}
			checkBoxedLikeGo(t, tc.box(&d), tc.want)
		})
	}
	t.Run("decoded row", func(t *testing.T) {
		row := `["text", "esc\u00e9", 12345, -300, 7, 1.50, 123456789012345678901234567890]`
		var d decoder // builds in place, as rows are decoded
		got, err := d.decode([]byte(row), nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := DecodeJSON(row) // boxed by Go
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want.([]any) {
			checkBoxedLikeGo(t, got.([]any)[i], w)
		}
	})
}

// checkIfaceLayout checks iface against the runtime's interface values:
// two words, the type word first and the data word second, and a type
// word that is the same for every value of one type. Without these,
// nothing box.go builds can be read safely: the test stops there.
func checkIfaceLayout(t *testing.T) {
	t.Helper()
	var e any
	if got, want := unsafe.Sizeof(e), unsafe.Sizeof(iface{}); got != want {
		t.Fatalf("an interface value is %d bytes, box.go's iface %d: the runtime no longer lays an interface out as two words", got, want)
	}
	if off := unsafe.Offsetof(iface{}.data); off != unsafe.Sizeof(uintptr(0)) {
		t.Fatalf("iface's data word is at offset %d, not one word: box.go's iface no longer matches the runtime", off)
	}
	for _, c := range []struct {
		name      string
		typ       unsafe.Pointer
		one, more any
	}{
		{"string", stringType, "a", "b"},
		{"int", intType, 1000, -1000},
		{"json.Number", numberType, json.Number("1"), json.Number("2.5")},
	} {
		if typeWord(c.one) != typeWord(c.more) {
			t.Fatalf("two %s values have different type words: the type word is no longer one per type, so box.go cannot reuse it", c.name)
		}
		if typeWord(c.one) != c.typ {
			t.Fatalf("box.go's type word for %s is not the one Go writes in a %s's interface value", c.name, c.name)
		}
	}
}

// checkBoxedLikeGo checks that got, boxed by box.go, is the same interface
// value as want, boxed by Go.
func checkBoxedLikeGo(t *testing.T, got, want any) {
	t.Helper()
	if g, w := reflect.TypeOf(got), reflect.TypeOf(want); g != w {
		t.Fatalf("dynamic type %v, want %v: the type word box.go writes is not read as the type it was taken from", g, w)
	}
	if v, err := behindDataWord(want); err != nil || v != want {
		t.Errorf("Go's interface value for %#v does not point to the value (it reads %#v there, %v): the runtime no longer stores such values behind the data word, as box.go does", want, v, err)
	}
	if got != want {
		t.Errorf("%#v != %#v: interface comparison no longer reads the value through the data word", got, want)
	}
	if v := reflect.ValueOf(got).Interface(); v != want {
		t.Errorf("reflect reads %#v, want %#v: reflect no longer reads the value through the data word", v, want)
	}
	if g, w := fmt.Sprintf("%T %#v", got, got), fmt.Sprintf("%T %#v", want, want); g != w {
		t.Errorf("fmt prints %s, want %s", g, w)
	}
	if m := map[any]bool{want: true}; !m[got] {
		t.Errorf("a map keyed by %#v does not find the boxed value: hashing no longer reads the value through the data word", want)
	}
	if !sameBySwitch(got, want) {
		t.Errorf("a type switch on the boxed %#v does not find its type and value (as gojq's type switches must)", want)
	}
}

// behindDataWord reads the value v's data word points to, as box.go
// assumes it does: a data word that holds the value itself instead is
// reported as an error, not a crash.
func behindDataWord(v any) (read any, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading through the data word faulted: %v", r)
		}
	}()
	data := (*iface)(unsafe.Pointer(&v)).data
	return reflect.NewAt(reflect.TypeOf(v), data).Elem().Interface(), nil
}

// sameBySwitch type-switches got as gojq does on the values it is given.
func sameBySwitch(got, want any) bool {
	switch v := got.(type) {
	case string:
		return v == want
	case int:
		return v == want
	case json.Number:
		return v == want
	}
	return false
}

// TestBoxesOutliveTheirSlabGrowing: a slab that grows is copied into a
// larger one, and the values boxed before keep pointing into the old
// one, which the garbage collector must keep alive through their data
// words (interior pointers) alone.
func TestBoxesOutliveTheirSlabGrowing(t *testing.T) {
	d := decoder{reuse: &containers{}}
	var boxes []any
	for i := range 1000 {
		boxes = append(boxes, d.boxString(fmt.Sprint("s", i)), d.boxInt(1000+i), d.boxNumber(json.Number(fmt.Sprint(i, ".5"))))
	}
	d.reuse = nil // only boxes points into the slabs now
	runtime.GC()
	for i := range 1000 {
		want := []any{fmt.Sprint("s", i), 1000 + i, json.Number(fmt.Sprint(i, ".5"))}
		for j, w := range want {
			if got := boxes[3*i+j]; got != w {
				t.Fatalf("box %d reads %#v after the slab grew and a collection ran, want %#v: the old slab was not kept alive by its boxes", 3*i+j, got, w)
			}
		}
	}
}

// TestBehindDataWordSeesDirectValues: the check that Go keeps a value
// behind the data word fails for a value Go keeps in the data word itself
// (a pointer), as it would for strings or ints if the runtime changed.
func TestBehindDataWordSeesDirectValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v      any
		behind bool
	}{
		{"int", 12345, true},
		{"string", "text", true},
		{"pointer, held in the data word", new(int), false},
		{"channel, held in the data word", make(chan int), false},
	} {
		read, err := behindDataWord(tc.v)
		if got := err == nil && read == tc.v; got != tc.behind {
			t.Errorf("%s: read behind the data word: %#v, %v; same value %v, want %v", tc.name, read, err, got, tc.behind)
		}
	}
}
