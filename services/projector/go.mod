module houqin.dev/projector

go 1.26
