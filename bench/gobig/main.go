// Command gobig writes a pair of large, real Go heap profiles for heapdiff's
// performance measurements: a call tree of 8 functions nested 6 deep under a
// recursive padding chain (like the deep stacks of a real service), every
// leaf allocating and keeping a buffer, profiled with MemProfileRate = 1 so
// that every distinct stack is a sample.
//
// The before profile is written after visiting a fraction of the leaves, the
// after profile after visiting all of them (so most lines grow and new ones
// appear).
//
//	gobig -out DIR [-levels 6] [-pad 16] [-leaves N]
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

var keep [][]byte

var fns [8]func(path []int, depth int)

func init() {
	fns = [8]func([]int, int){f0, f1, f2, f3, f4, f5, f6, f7}
}

//go:noinline
func step(id int, path []int, depth int) {
	if depth == len(path) {
		keep = append(keep, make([]byte, 48+16*id+path[0]))
		return
	}
	fns[path[depth]](path, depth+1)
}

//go:noinline
func f0(path []int, depth int) { step(0, path, depth) }

//go:noinline
func f1(path []int, depth int) { step(1, path, depth) }

//go:noinline
func f2(path []int, depth int) { step(2, path, depth) }

//go:noinline
func f3(path []int, depth int) { step(3, path, depth) }

//go:noinline
func f4(path []int, depth int) { step(4, path, depth) }

//go:noinline
func f5(path []int, depth int) { step(5, path, depth) }

//go:noinline
func f6(path []int, depth int) { step(6, path, depth) }

//go:noinline
func f7(path []int, depth int) { step(7, path, depth) }

//go:noinline
func pad(n int, path []int) {
	if n == 0 {
		step(0, path, 0)
		return
	}
	pad(n-1, path)
}

func visit(levels, padding, from, to int) {
	path := make([]int, levels)
	for i := from; i < to; i++ {
		x := i
		for d := range path {
			path[d] = x % 8
			x /= 8
		}
		pad(padding+i%4, path)
	}
}

func write(path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		log.Fatal(err)
	}
	f.Close()
}

func main() {
	runtime.MemProfileRate = 1
	out := flag.String("out", ".", "directory for before.pb.gz and after.pb.gz")
	levels := flag.Int("levels", 6, "nesting depth of the 8-way call tree")
	padding := flag.Int("pad", 16, "recursive frames above the call tree")
	leaves := flag.Int("leaves", 0, "leaves to visit (default: all 8^levels)")
	flag.Parse()
	n := 1
	for i := 0; i < *levels; i++ {
		n *= 8
	}
	if *leaves > 0 && *leaves < n {
		n = *leaves
	}
	visit(*levels, *padding, 0, n*2/5)
	write(filepath.Join(*out, "before.pb.gz"))
	visit(*levels, *padding, n*2/5, n)
	write(filepath.Join(*out, "after.pb.gz"))
}
