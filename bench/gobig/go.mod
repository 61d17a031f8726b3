module heapdiff.example/gobig

go 1.19
