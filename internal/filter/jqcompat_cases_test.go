package filter

// jqUsers are the rows most jqCases run over: table rows as PostgreSQL's
// row_to_json gives them, with unsorted top-level keys, a nested object
// with sorted keys (so that to_entries and paths agree with jq 1.6, which
// keeps key order), non-ASCII text, escapes, small numbers and floats.
var jqUsers = []string{
	`{"id":1,"name":"Alice","email":"alice@example.com","age":34,"active":true,"tags":["admin","dev"],"address":{"city":"Paris","street":"1 Rue de Rivoli","zip":"75001"},"created_at":"2024-01-15T10:30:00Z","score":0.14}`,
	`{"id":2,"name":"Zoë Ünal","email":"ZOE@Example.org","age":27,"active":false,"tags":["dev"],"address":{"city":"Berlin","street":"Unter den Linden 5","zip":"10117"},"created_at":"2023-06-01T08:00:00Z","score":0.875,"note":"she said \"hi\"\tthen \\left"}`,
	`{"id":3,"name":"Bob","email":null,"age":45,"active":true,"tags":[],"address":{"city":"Paris","street":"8 Rue Oberkampf","zip":null},"created_at":"2022-12-31T23:59:59Z","score":1.5,"note":"日本語 \ud83d\ude00 caf\u00e9 a\/b"}`,
	` { "id" : 4 , "name":"Ça va","email":"cava@example.com","age":19,"active":true,"tags":["ops","dev","admin"],"address":{"city":"Montréal","zip":"H2X 1Y4"},"created_at":"2024-02-29T12:00:00Z","score":-2,"extra":{"nums":[3,1,2],"flag":null}} `,
	`{"id":5,"name":"Dave","email":"dave@example.com","age":52,"active":false,"tags":["ops"],"address":null,"created_at":"2021-03-04T05:06:07Z","score":100,"note":"line1\nline2"}`,
}

// jqEdges are rows of other shapes: empty, not objects, SQL NULL, number
// literals jq 1.6 rewrites, control characters and a repeated key.
var jqEdges = []string{
	`{}`,
	`[1,2,3,"x"]`,
	sqlNull,
	`"plain"`,
	`42`,
	`{"n":[1,1.0,2.50,-0,1e2,0.1,1E-7],"s":"\u0000\u001f\u007f\b\f\r tab\t","dup":1,"dup":2}`,
	`{"nested":{"a":{"b":[{"c":true},{"c":"x"}]}}}`,
}

var jqAll = append(append([]string{}, jqUsers...), jqEdges...)

// jqTricky are object rows for the decoder's partial decoding (demand.go):
// escaped keys, repeated keys whose values are objects, deep values, number
// literals and whitespace in the parts an expression skips or reads.
var jqTricky = append(append([]string{}, jqUsers...),
	`{"n\u0061me":"Esc","\u0069d":7,"address":{"c\u0069ty":"Lyon","zip":"69001"},"tags":["\u0061"]}`,
	`{"id":8,"address":{"city":"Lille"},"address":{"zip":"59000"},"name":"Dup"}`,
	`{"id":9,"address":{"city":{"nested":[1,{"deep":"v"}]},"zip":[]},"tags":["a"],"name":"Deep"}`,
	`{"skip":{"x":[1.0,2.50,-0,1e2,{"y":"\"}\\"}]},"id":10,"address":{},"name":"Skip","extra":{"nums":[1.0,2.50,1e2]}}`,
	`{"id":12,"\u0069d":13,"address":"str","address":{"city":"Last","city":"Wins"}}`,
	"{\n \"id\" : 11 ,\t\"address\" : { \"city\" : \"Nice\" , \"zip\":\"06000\" } , \"tags\" : [ ] \r\n}",
)

var jqOne = jqUsers[:1]

// jqBadUTF8 are rows with bytes that are not UTF-8 (a database in
// SQL_ASCII can send them): jq reads each such byte as U+FFFD.
var jqBadUTF8 = []string{"{\"s\":\"a\xffb\xc3\",\"k\xfe\":\"\\u00e9\xff\"}"}

// jqCases are expressions where fraise must print what jq prints.
var jqCases = []jqCase{
	// Whole rows and paths.
	{expr: ".", rows: jqAll},
	{expr: ".s | utf8bytelength, @base64, @uri, (. == \"a\\ufffdb\\ufffd\"), length", rows: jqBadUTF8},
	{expr: "keys, .", rows: jqBadUTF8},
	{expr: "type", rows: jqAll},
	{expr: "length", rows: jqAll},
	{expr: ".name"},
	{expr: ".address.city"},
	{expr: ".tags[0], .tags[-1]"},
	{expr: ".tags[1:3], .tags[:-1], .tags[-2:]"},
	{expr: `.["email"], ."created_at"`},
	{expr: ".name?", rows: jqAll},
	{expr: ".address?.zip?", rows: jqAll},
	{expr: ".[1:3]?", rows: jqAll},
	{expr: ".n?, .s?, .dup?", rows: jqAll},
	{expr: ".nested?.a.b[1].c", rows: jqAll},
	{expr: ".extra.nums[1], .extra.flag, .extra.missing"},
	{expr: "getpath([\"address\",\"city\"]), getpath([\"extra\",\"nums\",0])"},

	// Partial decoding: expressions that read only some fields.
	{expr: ".name, .id", rows: jqTricky},
	{expr: ".address.city, .address.zip", rows: jqTricky},
	{expr: ".address | .city, .zip", rows: jqTricky},
	{expr: `."address"."city", .["address"]["zip"]`, rows: jqTricky},
	{expr: ".address as $a | .name, $a.city", rows: jqTricky},
	{expr: ". as $r | $r.address.city", rows: jqTricky},
	{expr: `if .address then .address.city else "none" end`, rows: jqTricky},
	{expr: `.address | select(.city == "Paris") | .zip`, rows: jqTricky},
	{expr: ".address // {} | .city", rows: jqTricky},
	{expr: "[.address.city, .id], {id, city: .address.city}", rows: jqTricky},
	{expr: `try .address.city catch "x"`, rows: jqTricky},
	{expr: ".address | {city}", rows: jqTricky},
	{expr: "(.address | .city), .address", rows: jqTricky},
	{expr: ".address | .city as $c | .zip // $c", rows: jqTricky},
	{expr: `first(.address.city), (.address | getpath(["city"]))`, rows: jqTricky},
	{expr: ".address.city | objects | .nested[1].deep", rows: jqTricky},
	{expr: ".address | if .city then .city else .zip end", rows: jqTricky},
	{expr: "def f: .city; .address | f", rows: jqTricky},
	{expr: `.address | [.city] + [.zip], (.city? // "none")`, rows: jqTricky},
	{expr: "[.address | .. | strings]", rows: jqTricky},
	{expr: ".extra.nums // [] | map(. + 0), length", rows: jqTricky},
	{expr: "select(.id > 4) | .extra, .tags", rows: jqTricky},
	{expr: "{name} + {tags}", rows: jqTricky},

	// select.
	{expr: "select(.age > 30) | {id, email}"},
	{expr: "select(.active and (.tags | length) > 1) | .id"},
	{expr: `select(.age < 20 or .name == "Bob") | .name`},
	{expr: "select(.active | not) | .email"},
	{expr: "select(.email != null) | .email | ascii_downcase"},
	{expr: `select(.address.city == "Paris") | .id`},
	{expr: "select(.score >= 0.5) | [.id, .score]"},
	{expr: `select(.tags | index("dev")) | .id`},

	// Object and array construction, iteration, several outputs.
	{expr: "{id, email}"},
	{expr: `{a: .name, "b c": .address.city}`},
	{expr: "{(.name): .age}"},
	{expr: `{"id-\(.id)": .tags}`},
	{expr: "{(.tags[]): .id}"},
	{expr: `{id, x: (1, 2)}`},
	{expr: "{id, first: .tags[0], city: .address?.city}"},
	{expr: ".tags[]"},
	{expr: "[.tags[] | ascii_upcase]"},
	{expr: "[.tags[], .id]"},
	{expr: "empty"},
	{expr: ".id, .name"},
	{expr: "[.[] | type] | sort"},
	{expr: "[.. | numbers] | sort", rows: jqAll},
	{expr: "[paths] | length", rows: jqAll},
	{expr: "[.[]?] | sort", rows: jqAll},

	// Variables.
	{expr: "select(.address.city == $city) | .id", vars: []jqVar{jqArg("city", "Paris")}},
	{expr: "select(.age >= $min) | .name", vars: []jqVar{jqArgJSON("min", "30")}},
	{expr: "$ARGS", vars: []jqVar{jqArg("a", "x y"), jqArgJSON("b", `{"k":[1,2.50,null]}`)}},
	{expr: "$ARGS.named.b.k[1] + .id", vars: []jqVar{jqArgJSON("b", `{"k":[1,2.50,null]}`)}},
	{expr: "{id, tagged: (.tags | index($t))}", vars: []jqVar{jqArg("t", "dev")}},
	{expr: ".[$k]?", rows: jqAll, vars: []jqVar{jqArg("k", "name")}},
	{expr: "{$city, id}", vars: []jqVar{jqArg("city", "Zoë")}},
	{expr: "[.tags[] | select(IN($want[]))]", vars: []jqVar{jqArgJSON("want", `["dev","ops"]`)}},
	{expr: "$ENV.FRAISE_JQCOMPAT, env.TZ, $ENV", rows: jqOne},

	// Raw output.
	{expr: ".name", raw: true},
	{expr: ".note // empty", raw: true},
	{expr: ".name, .id, .score, .active, .email", raw: true},
	{expr: `"\(.id)-\(.name)"`, raw: true},
	{expr: `@text "\(.id): \(.tags) \(.score)"`, raw: true},
	{expr: `.tags | join(", ")`, raw: true},
	{expr: `[.id, .name, .email] | join("|")`, raw: true},
	{expr: ".tags[]", raw: true},
	{expr: "[.id, .name, .email, .score] | @csv", raw: true},
	{expr: "[.id, .name, .score] | @tsv", raw: true},
	{expr: ".name | @base64, (@base64 | @base64d)", raw: true},
	{expr: ".name | @uri", raw: true},
	{expr: "([.name, .id, .email] | @sh), (.tags | @sh)", raw: true},
	{expr: `.note // "" | @html`, raw: true},
	{expr: `@json "addr=\(.address)"`, raw: true},
	{expr: ". as {$name, tags: [$first]} | \"\\($name): \\($first)\"", raw: true},

	// Strings.
	{expr: `.email // "" | ascii_downcase, ascii_upcase`},
	{expr: `.email // "" | split("@")`},
	{expr: `.name | split(" "), [splits(" +")]`},
	{expr: ".name | .[0:3], .[-2:]"},
	{expr: `.name | test("^[A-Z]"), test("ë"), test("BOB"; "i")`},
	{expr: `.email // empty | match("([a-z]+)@(?<host>[a-z.]+)"; "i")`},
	{expr: `.email // empty | capture("(?<user>[^@]+)@(?<host>.+)")`},
	{expr: `.name | [match("[^a-z ]"; "g") | .offset], [scan("[A-Z]")]`},
	{expr: `.name | sub("[aeiou]"; "_"), gsub("[aeiou]"; "_")`},
	{expr: `.name | gsub("(?<v>[aeiou])"; "<\(.v | ascii_upcase)>")`},
	{expr: `.email // "" | sub("@.*"; ""), gsub("\\s+"; "-")`},
	{expr: `.email // "" | ltrimstr("alice@"), rtrimstr(".com"), startswith("a"), endswith(".org")`},
	{expr: ".name | length, utf8bytelength"},
	{expr: ".name | explode, (explode | implode)"},
	{expr: ".id, .score, .tags, .active, .email | tostring"},
	{expr: "tojson", rows: jqAll, nested: true},
	{expr: ".address | tostring", nested: true},
	{expr: `.note // "" | @json`, nested: true},
	{expr: ".address | tojson | fromjson"},
	{expr: ".s? // empty | explode, length", rows: jqAll},

	// Numbers.
	{expr: ".age / 3, .age % 7, .score * 2, -.age, (.score | floor), (.age | sqrt | floor)"},
	{expr: "[.age, .score] | max, min, add"},
	{expr: "pow(.id; 2), (.score * 100 | round), (.id | tostring | tonumber)"},
	{expr: `(.n? // empty) | add, sort, unique, map(. * 2)`, rows: jqAll},
	{expr: "[infinite, -infinite, nan], (nan | isnan), 1.0, 1e3, 1.50", rows: jqOne},

	// Arrays and objects.
	{expr: ".tags | sort, reverse, length"},
	{expr: ".tags | sort_by(length), group_by(length), unique_by(length)"},
	{expr: `.tags + ["dev", "zz"] | unique`},
	{expr: ".tags | map(length) | min, max, add"},
	{expr: ".tags | add, first, last"},
	{expr: ".tags | min_by(length), max_by(length)"},
	{expr: `.tags | index("dev"), rindex("dev"), indices("dev")`},
	{expr: "[.tags, [.id, [.age, [.score]]]] | flatten, flatten(1)"},
	{expr: `.tags | contains(["dev"]), inside(["admin", "dev", "ops"])`},
	{expr: `.tags | any(. == "admin"), all(length > 2), map(select(. != "dev"))`},
	{expr: `[.tags[] | select(startswith("a"))]`},
	{expr: "[.tags[] | {t: ., n: length}] | sort_by(.n, .t)"},
	{expr: "[.tags, [1, 2]] | [combinations], transpose"},
	{expr: "[.tags | tostream], ([.tags | tostream] | fromstream(.[]))"},
	{expr: ".tags | to_entries"},
	{expr: ".address // {} | to_entries, [paths], [paths(scalars)], [paths(type == \"string\")]"},
	{expr: `to_entries | map(select(.key | startswith("a"))) | from_entries`},
	{expr: `[{key: "a", value: .id}, {name: "b", value: .age}, {name: "c", value: .email}] | from_entries`},
	{expr: `with_entries(select(.value | type == "string"))`},
	{expr: "map_values(type)"},
	{expr: "keys", rows: append(append([]string{}, jqUsers...), jqEdges[0], jqEdges[1], jqEdges[5], jqEdges[6])},
	{expr: `has("note"), has("email")`},
	{expr: "del(.address, .tags, .extra)"},
	{expr: `del(.tags[0]) | .tags, (delpaths([["tags"], ["address", "zip"]]) | {tags, address})`},
	{expr: `setpath(["address", "zip"]; "x") | .address`},
	{expr: `[.address // {}, {country: "FR"}] | add`},
	{expr: `. * {address: {country: "X"}} | .address`},
	{expr: `.address.city |= ascii_upcase | .address`, rows: jqUsers[:4]},
	{expr: `walk(if type == "string" then ascii_upcase else . end) | {name, tags}`},
	{expr: "[.address | .. | type]"},

	// Conditionals and errors caught.
	{expr: `if .age < 20 then "teen" elif .age < 40 then "adult" else "senior" end`},
	{expr: "if .active then .id else empty end"},
	{expr: `.email // "none", (.address.zip // .address.city // "?")`},
	{expr: ".active and (.age > 30), (.active or false), (.email | not)"},
	{expr: `.email | try ascii_downcase catch "n/a"`},
	{expr: `try error("x") catch ., (try error({a: .id}) catch .a)`},
	{expr: `[.tags[] | tonumber?], (.foo?.bar?), ((.tags[] | select(. == "zz")) // "none")`},

	// reduce, foreach, label.
	{expr: "reduce .tags[] as $t (0; . + ($t | length))"},
	{expr: "reduce .tags[] as $t ({}; .[$t] += 1)"},
	{expr: "[foreach .tags[] as $t (0; . + 1; [$t, .])]"},
	{expr: "[foreach range(5) as $i (null; $i; select(. % 2 == 0))]"},
	{expr: "reduce range(.id) as $i ([]; . + [$i * $i])"},
	{expr: "[label $out | foreach .tags[] as $t (0; . + 1; if . > 1 then ., break $out else . end)]"},

	// Bindings and destructuring.
	{expr: `.id as $i | .tags | map("\($i):\(.)")`},
	{expr: ". as {id: $i, address: {city: $c}} | [$i, $c]"},
	{expr: ".tags as [$a, $b] | {a: $a, b: $b}"},
	{expr: `.tags[] as $t | select($t == "dev") | .id`},

	// Functions.
	{expr: `def initials: split(" ") | map(.[0:1]) | join(""); .name | initials`},
	{expr: "def inc(f): f + 1; inc(.age)"},
	{expr: "def fac: if . <= 1 then 1 else . * (. - 1 | fac) end; .id | fac"},
	{expr: "def add2($a; $b): $a + $b; add2(.id; .age)"},
	{expr: "def f: def g: 3; g * 2; f, (.tags | map(f))"},

	// Dates.
	{expr: ".created_at | fromdateiso8601"},
	{expr: ".created_at | fromdate | todate"},
	{expr: `.created_at | fromdate | strftime("%Y"), strftime("%Y-%m-%d %H:%M:%S %j %a %b")`},
	{expr: `.created_at | strptime("%Y-%m-%dT%H:%M:%SZ") | ., mktime`},
	{expr: ".created_at | fromdate | gmtime, (gmtime | mktime)"},
	{expr: ".id * 86400 * 365 | todate"},
	{expr: "now | type", rows: jqOne},

	// Generators.
	{expr: "[limit(2; .tags[])], [first(.tags[])], [range(3)], [range(1; 10; 3)], [range(.id)]"},
	{expr: "[.id | while(. < 20; . * 3)], (.id | until(. > 100; . * 2))"},
	{expr: "[.id | recurse(if . < 4 then . + 1 else empty end)]"},
}

// jqErrCase is an expression jq fails on for failRows (1-based).
type jqErrCase struct {
	name, expr string
	rows       []string
	failRows   []int
}

var jqErrCases = []jqErrCase{
	{
		name: "ascii_downcase of non-strings", expr: ".name | ascii_downcase",
		rows:     []string{`{"name":"A"}`, `{"name":null}`, `{"name":"C"}`, `{"name":7}`, `{"name":"E"}`},
		failRows: []int{2, 4},
	},
	{
		name: "outputs before the error", expr: ".id, (.tags[] | ascii_upcase)",
		rows:     []string{`{"id":1,"tags":["a","b"]}`, `{"id":2,"tags":["c",5,"d"]}`, `{"id":3,"tags":5}`, `{"id":4,"tags":[]}`, `{"id":5,"tags":["e"]}`},
		failRows: []int{2, 3},
	},
	{
		name: "error()", expr: `if .id == 3 then error("boom \(.id)") else .id end`,
		rows: jqUsers, failRows: []int{3},
	},
	{
		name: "error with an object", expr: `select(.id == 2) | error({id, msg: "bad"})`,
		rows: jqUsers, failRows: []int{2},
	},
	{
		name: "adding a string and a number", expr: ".age + 1",
		rows:     []string{`{"age":1}`, `{"age":"x"}`, `{"age":null}`, `{"age":2.5}`},
		failRows: []int{2},
	},
	{
		name: "indexing a non-array", expr: ".[0]",
		rows:     []string{`[1]`, `[2]`, `{"a":1}`, `[4]`, `true`, `null`},
		failRows: []int{3, 5},
	},
	{
		name: "indexing a field of a non-object", expr: ".address.city",
		rows:     []string{`{"address":{"city":"P"}}`, `{"address":"str"}`, `{"address":null}`, `{"address":[1]}`, `{}`},
		failRows: []int{2, 4},
	},
	{
		name: "iterating SQL NULL", expr: ".tags[]",
		rows: []string{jqUsers[0], sqlNull, jqUsers[1]}, failRows: []int{2},
	},
	{
		name: "getpath through a string", expr: `getpath(["address", "city", "x"])`,
		rows: jqUsers, failRows: []int{1, 2, 3, 4},
	},
	{
		name: "invalid JSON rows", expr: ".a",
		rows: []string{`{"a":1}`, `{"a":`, "{\"a\":3,\"b\":\"x\ty\"}", `{"a":4,"b":"\x"}`,
			`{"a":5,"b":[1,,2]}`, `{"a":6,"b":[1,]}`, `{"a":7,"b":tru}`, `{"a":8,}`,
			`{"b":{"c":[1 2]},"a":9}`, `{"a":"x","b":{"c":[{"d":null}]}}`, `[1,]`,
			`{"a":12,"b":"\u00zz"}`, `{"a":13,"b":-}`, `{"a":14,"b":{"c":1 "d":2}}`, `{"b":"x","a":{"c":[1,{"e":[]}]}}`},
		failRows: []int{2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14},
	},
}

// jqKnownDiff is an expression where jq 1.6 and gojq differ by design: the
// test asserts what fraise prints, byte for byte.
type jqKnownDiff struct {
	expr   string
	rows   []string // nil: jqUsers
	raw    bool
	fraise []string
	why    string
	// compileErr says fraise rejects expr, as gojq lacks a builtin jq 1.6 has.
	compileErr bool
	// rowErr says fraise fails on the row (a *RowError).
	rowErr bool
}

var jqKnownDifferences = []jqKnownDiff{
	{
		expr: "to_entries | map(.key)", rows: []string{`{"b":1,"a":2,"c":3}`},
		fraise: []string{`["a","b","c"]`},
		why:    "gojq iterates objects in sorted key order; jq keeps insertion order (to_entries, .[], paths, ..)",
	},
	{
		expr: "[.[]]", rows: []string{`{"b":1,"a":2}`},
		fraise: []string{`[2,1]`},
		why:    "as above: jq 1.6 prints [1,2]",
	},
	{
		expr: "tostring, tojson", rows: []string{`{"b":1,"a":[2]}`}, raw: true,
		fraise: []string{`{"a":[2],"b":1}`, `{"a":[2],"b":1}`},
		why:    "gojq writes object keys sorted, in strings too; the values agree",
	},
	{
		expr: `tojson, tostring, "\(.)", .`, rows: []string{`1.0`, `2.50`, `1e2`}, raw: true,
		fraise: []string{`1.0`, `1.0`, `1.0`, `1.0`, `2.50`, `2.50`, `2.50`, `2.50`, `1e2`, `1e2`, `1e2`, `1e2`},
		why:    "fraise keeps a number it does not compute with as it was written; jq 1.6 prints 1, 2.5, 100",
	},
	{
		expr: `.name | index("a"), indices("a")`, rows: []string{`{"name":"Zoë Ünal"}`},
		fraise: []string{`6`, `[6]`},
		why:    "jq 1.6 gives string indices in bytes (8), gojq in code points",
	},
	{
		expr: `.name | [scan("\\w+")]`, rows: []string{`{"name":"Zoë Ünal"}`},
		fraise: []string{`["Zo","nal"]`},
		why:    `gojq uses Go's regexp, where \w is ASCII only; jq's Oniguruma matches "Zoë" and "Ünal"`,
	},
	{
		expr: "[limit(0; .[])]", rows: []string{`[1,2]`},
		fraise: []string{`[]`},
		why:    "jq 1.6 outputs one value for limit(0; f); jq 1.7 and gojq none",
	},
	{
		expr: ".", rows: []string{`"\ud800x"`},
		fraise: []string{"\"\uFFFDx\""},
		why:    "a lone surrogate escape becomes U+FFFD, as in jq 1.7 and encoding/json; jq 1.6 rejects the row",
	},
	{
		expr: ".[0], .[1:]", rows: []string{`"Zoë"`},
		fraise: []string{`"Z"`, `"oë"`},
		why:    "gojq indexes a string by code point; jq 1.6 fails: Cannot index string with number (it slices)",
	},
	{
		expr: "., . + 0", rows: []string{`1e400`, `100000000000000000001`},
		fraise: []string{`1e400`, `1.7976931348623157e+308`, `100000000000000000001`, `100000000000000000001`},
		why:    "fraise writes a number it does not compute with as it was read, and gojq adds big integers exactly; jq 1.6 reads every number as a double (1.7976931348623157e+308, 1e+20)",
	},
	{
		expr: ".a", rows: []string{`{"a":01}`}, rowErr: true,
		why: "jq 1.6 accepts some invalid number literals (01, +1, .5, 1.); fraise's decoder rejects them",
	},
	{
		expr: "@uri", rows: []string{`"a!*'()~b"`}, raw: true,
		fraise: []string{"a%21%2A%27%28%29~b"},
		why:    "jq 1.6 leaves !*'() unescaped; jq 1.7 and gojq keep only A-Za-z0-9-_.~",
	},
	{
		expr: `[splits("")]`, rows: []string{`"ab"`},
		fraise: []string{`["","a","b",""]`},
		why:    `jq 1.6 prints ["","a","b"]`,
	},
	{
		expr: "[.[1.7]]", rows: []string{`[1,2,3]`},
		fraise: []string{`[2]`},
		why:    "gojq truncates a fractional index as jq 1.7 does; jq 1.6 gives null",
	},
	{
		expr: `ltrimstr("a")`, rows: []string{`1`}, rowErr: true,
		why: "gojq 0.12.20 fails on ltrimstr and rtrimstr of a non-string; jq 1.6 outputs the input",
	},
	{
		expr: "[limit(-1; .[])]", rows: []string{`[1,2]`}, rowErr: true,
		why: "gojq fails on a negative limit; jq 1.6 outputs everything",
	},
	{
		expr: `test("a b"; "x")`, rows: []string{`"ab"`}, rowErr: true,
		why: "gojq's regexps have no x (extended) flag; jq 1.6 outputs true",
	},
	{
		expr: "input_line_number", rows: []string{`null`}, compileErr: true,
		why: "gojq has no input_line_number",
	},
	{
		expr: "keys_unsorted", rows: []string{`{"b":1,"a":2}`}, compileErr: true,
		why: "gojq has no keys_unsorted, having no key order to keep",
	},
	{
		expr: "[leaf_paths]", rows: []string{`{"a":[1]}`}, compileErr: true,
		why: "gojq has no leaf_paths, deprecated in jq; paths(scalars) is the same",
	},
}
