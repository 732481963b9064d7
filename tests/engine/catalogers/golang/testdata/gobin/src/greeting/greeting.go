package greeting

func Hello() string { return "hello" }
