// upper: copies stdin to stdout in upper case.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	s := bufio.NewScanner(os.Stdin)
	for s.Scan() {
		fmt.Println(strings.ToUpper(s.Text()))
	}
}
