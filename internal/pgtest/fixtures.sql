-- Fixture relations shared by the Go tests, the testscripts and the demo.
-- Applied once per throwaway cluster by pgtest, as the superuser, in database fraise_test.

CREATE TABLE users (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO users
SELECT g, jsonb_build_object(
    'id', g,
    'name', 'user-' || lpad(g::text, 2, '0'),
    'email', 'user-' || lpad(g::text, 2, '0') || '@example.com',
    'active', g % 3 <> 0,
    'age', 20 + g,
    'tags', jsonb_build_array('t' || (g % 4), 'group-' || (g % 2)))
FROM generate_series(1, 20) AS g;

CREATE VIEW v_user AS SELECT data FROM users;
CREATE VIEW v_user_json AS SELECT data::json AS data FROM users;

CREATE SCHEMA "Odd Schema";
CREATE VIEW "Odd Schema"."MixedCase" AS SELECT data FROM users WHERE id <= 3;

-- Relations whose shape fraise must refuse before executing anything.
-- Two columns, neither named data: SELECT "data" finds no such column.
CREATE VIEW v_two_cols AS SELECT id, data AS payload FROM users;
CREATE VIEW v_int AS SELECT id AS data FROM users;
CREATE VIEW v_jsonb_array AS SELECT ARRAY[data] AS data FROM users;
CREATE VIEW v_text AS SELECT data::text AS data FROM users;

-- A domain over jsonb is accepted: it arrives as its base type.
CREATE DOMAIN jdoc AS jsonb CHECK (VALUE IS NOT NULL);
CREATE VIEW v_domain AS SELECT data::jdoc AS data FROM users;

-- JSON that tests exactness: escapes, unicode, big numbers, nesting, raw newlines, NULL.
CREATE TABLE tricky (id int PRIMARY KEY, data json);
INSERT INTO tricky VALUES
  (1, '{"s":"quote \" backslash \\ slash \/ tab \t nl \n uni \u00e9 \ud83d\ude00"}'),
  (2, '{"emoji":"😀","cjk":"漢字","rtl":"שלום","nul_escape":"a\u0000b"}'),
  (3, '{"big":123456789012345678901234567890,"dec":1.10,"exp":1e40,"negzero":-0.0,"beyond_float":9007199254740993}'),
  (4, E'{\n  "multi": "line",\r\n\t"list": [1,\n 2, \t3]\n}'),
  (5, (SELECT repeat('[', 200) || '"deep"' || repeat(']', 200))::json),
  (6, NULL),
  (7, '"just a string"'),
  (8, '42'),
  (9, 'null'),
  (10, '[]'),
  (11, '{}'),
  (12, '{"dup":1,"dup":2,  "spaced" :  [ 1 , 2 ] }');
CREATE VIEW v_tricky AS SELECT data FROM tricky ORDER BY id;
-- jsonb cannot hold \u0000: row 2 is left out of the jsonb twin.
CREATE VIEW v_tricky_jsonb AS SELECT data::jsonb AS data FROM tricky WHERE id <> 2 ORDER BY id;

-- A write that a read-only transaction must refuse, even through a volatile function.
CREATE TABLE t_write (x int);
CREATE FUNCTION f_write() RETURNS boolean VOLATILE LANGUAGE sql
  AS $$ INSERT INTO t_write VALUES (1) RETURNING true $$;
-- A table a hostile --where might try to drop (tests use the superuser, who could).
CREATE TABLE t_victim (x int);
INSERT INTO t_victim VALUES (1), (2), (3);

-- 100k rows for comparing with psql byte for byte.
CREATE TABLE seq (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO seq
SELECT g, jsonb_build_object('id', g, 'name', md5(g::text), 'score', (g * 7919) % 1000, 'even', g % 2 = 0)
FROM generate_series(1, 100000) AS g;
CREATE VIEW v_seq AS SELECT data FROM seq;

GRANT USAGE ON SCHEMA public, "Odd Schema" TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA public, "Odd Schema" TO PUBLIC;
-- Permission to write is granted on purpose: only the read-only transaction may stop it.
GRANT INSERT, DELETE, TRUNCATE ON t_write, t_victim TO PUBLIC;

ANALYZE;
