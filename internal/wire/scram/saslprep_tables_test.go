package scram

import "testing"

// TestTablesWellFormed checks that every range table is sorted, has no
// overlapping or empty ranges, and stays within Unicode.
func TestTablesWellFormed(t *testing.T) {
	tables := map[string]rangeTable{
		"A.1": tableA1, "B.1": tableB1, "C.1.2": tableC12, "C.2.1": tableC21,
		"C.2.2": tableC22, "C.3": tableC3, "C.4": tableC4, "C.5": tableC5,
		"C.6": tableC6, "C.7": tableC7, "C.8": tableC8, "C.9": tableC9,
		"D.1": tableD1, "D.2": tableD2,
	}
	for name, tab := range tables {
		if len(tab) == 0 {
			t.Errorf("table %s is empty", name)
		}
		for i, r := range tab {
			if r.lo > r.hi || r.lo < 0 || r.hi > 0x10FFFF {
				t.Errorf("table %s range %d %X..%X is invalid", name, i, r.lo, r.hi)
			}
			if i > 0 && tab[i-1].hi >= r.lo {
				t.Errorf("table %s range %d %X..%X is not after %X..%X", name, i, r.lo, r.hi, tab[i-1].lo, tab[i-1].hi)
			}
		}
	}
}

// TestTableSizes pins the number of code points in each table, as counted
// from RFC 3454's listings, so an accidental edit is caught.
func TestTableSizes(t *testing.T) {
	tests := []struct {
		name string
		tab  rangeTable
		want int
	}{
		{"A.1", tableA1, 879309},
		{"B.1", tableB1, 27},
		{"C.1.2", tableC12, 17},
		{"C.2.1", tableC21, 33},
		{"C.2.2", tableC22, 62},
		{"C.3", tableC3, 137468},
		{"C.4", tableC4, 66},
		{"C.5", tableC5, 2048},
		{"C.6", tableC6, 5},
		{"C.7", tableC7, 12},
		{"C.8", tableC8, 15},
		{"C.9", tableC9, 97},
		{"D.1", tableD1, 1044},
		{"D.2", tableD2, 229973},
	}
	for _, tt := range tests {
		n := 0
		for _, r := range tt.tab {
			n += int(r.hi-r.lo) + 1
		}
		if n != tt.want {
			t.Errorf("table %s has %d code points, want %d", tt.name, n, tt.want)
		}
	}
}

func TestTableMembership(t *testing.T) {
	tests := []struct {
		name string
		tab  rangeTable
		r    rune
		want bool
	}{
		{"A.1", tableA1, 0x0221, true},   // first entry
		{"A.1", tableA1, 0x0220, false},  // assigned in 3.2
		{"A.1", tableA1, 0x20AC, false},  // euro sign
		{"A.1", tableA1, 0x20B9, true},   // rupee sign, Unicode 6.0
		{"A.1", tableA1, 0x1F600, true},  // emoji, Unicode 6.1
		{"A.1", tableA1, 0xEFFFD, true},  // last entry
		{"A.1", tableA1, 0xEFFFE, false}, // non-character, table C.4
		{"A.1", tableA1, 0xFDD0, false},  // non-character, table C.4
		{"B.1", tableB1, 0x00AD, true},
		{"B.1", tableB1, 0xFE0F, true},
		{"B.1", tableB1, 0xFE10, false},
		{"C.1.2", tableC12, 0x200B, true},
		{"C.1.2", tableC12, 0x0020, false},
		{"C.2.1", tableC21, 0x0007, true},
		{"C.6", tableC6, 0xFFFD, true},
		{"C.8", tableC8, 0x0340, true},
		{"C.9", tableC9, 0xE0001, true},
		{"C.9", tableC9, 0xE0002, false},
		{"D.1", tableD1, 0x05D0, true}, // hebrew alef
		{"D.1", tableD1, 0x0627, true}, // arabic alef
		{"D.1", tableD1, 0x0041, false},
		{"D.2", tableD2, 0x0041, true},
		{"D.2", tableD2, 0x10FFFD, true},
		{"D.2", tableD2, 0x0031, false}, // digits are EN, not L
	}
	for _, tt := range tests {
		if got := tt.tab.contains(tt.r); got != tt.want {
			t.Errorf("table %s contains U+%04X = %v, want %v", tt.name, tt.r, got, tt.want)
		}
	}
}
