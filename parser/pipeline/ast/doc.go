// Package ast is the syntax of a tubo pipeline file: one type per concept
// of the format (a stage, a param, an edge, a merge, …), each in a file of
// its own with an UnmarshalYAML(*yaml.Node) that reads its short and long
// forms, rejects unknown keys with a suggestion, and keeps the YAML nodes
// so that every later error can name FILE:LINE:COL.
//
// Decoding never stops at the first problem: each UnmarshalYAML returns
// an ErrorList with everything it found and fills in what it could, so
// one `tubo check` reports every mistake. Values stay as written:
// placeholders ({{name}}), references and paths are resolved by package
// pipeline, which turns a Pipeline into a graph.
//
// A new key goes into the concept's struct (with a comment that says what
// its absence means), its name into the concept's key list, and its
// decoding into that concept's UnmarshalYAML; a new concept gets a file.
package ast
