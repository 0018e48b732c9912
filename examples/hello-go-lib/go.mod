module example.com/hello-go-lib

go 1.24
