module houqin.dev/assets

go 1.26
