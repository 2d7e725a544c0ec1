module houqin.dev/tools

go 1.26
