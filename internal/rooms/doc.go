// Package rooms holds no code. Its test keeps the project's rooms small
// enough for a newcomer to read at once: every Go file of internal/ and
// cmd/ (tests aside) under maxFileLines lines, every function under
// maxFuncLines. Declarative tables are variables, not functions, and are
// not counted.
package rooms
