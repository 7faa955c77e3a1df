module github.com/witaj/witaj

go 1.26.0

require (
	github.com/goccy/go-yaml v1.19.2
	github.com/google/go-cmp v0.7.0
	golang.org/x/text v0.43.0
)

require github.com/nicksnyder/go-i18n/v2 v2.7.0

require github.com/sahilm/fuzzy v0.1.3 // indirect
