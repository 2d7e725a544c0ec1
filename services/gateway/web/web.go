// Package web embeds the dashboard: static files only, no CDN, so it works offline.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Static is the dashboard's files, rooted at static/.
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}
