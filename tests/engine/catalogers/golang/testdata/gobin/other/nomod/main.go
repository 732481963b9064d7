package main

var version = "dev"

func main() { println("hi", version) }
