// Package knowledge is witaj's FAQ: the entry type, loading entries from a
// directory of YAML files or from the copy embedded in the binary,
// validation that editors run as a linter, the knowledge-base version, and
// comparing two versions of the FAQ.
//
// Each topic lives in its own file, knowledge/faq/<category>/<id>.yaml,
// with every language side by side, so a translation that falls behind is
// visible in review. The package reads files and nothing else: no network,
// no clock (callers pass "today"), no environment.
package knowledge
