module example.com/assay/gofixture

go 1.19

require (
	example.com/greeting v1.2.0
	golang.org/x/text v0.3.0
)

replace golang.org/x/text => golang.org/x/text v0.3.8

replace example.com/greeting => ./greeting
