module houqin.dev/gateway

go 1.26
