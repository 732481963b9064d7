package main

import (
	"os"

	"example.com/greeting"
	"golang.org/x/text/width"
)

func main() { os.Stdout.WriteString(width.Widen.String(greeting.Hello()) + "\n") }
