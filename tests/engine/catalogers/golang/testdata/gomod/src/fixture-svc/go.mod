module example.com/fixture-svc

go 1.19

require (
	example.com/localmod v0.0.0-00010101000000-000000000000
	github.com/dgrijalva/jwt-go v3.2.0+incompatible
	github.com/gin-gonic/gin v1.6.3
	github.com/old/lib v1.0.0
	golang.org/x/text v0.3.0
)

require (
	golang.org/x/net v0.0.0-20190620200207-3b0461eec859 // indirect
	gopkg.in/yaml.v2 v2.2.2 // indirect
)

replace github.com/old/lib => github.com/new/lib v1.2.0

replace example.com/localmod => ../localmod

exclude golang.org/x/net v0.0.0-20190620200207-3b0461eec859
