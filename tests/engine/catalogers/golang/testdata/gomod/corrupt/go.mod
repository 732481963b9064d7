module example.com/broken

go 1.21

require (
	github.com/pkg/errors v0.9.1
	github.com/missing/version
	golang.org/x/text v0.3.0 // indirect

require golang.org/x/crypto v0.0.0-20190308221718-c2843e01d9a2
replace github.com/pkg/errors github.com/other/errors v1.0.0
frobnicate everything
