package web

import "io/fs"

// Embedded is the app's embedded file tree (static, templates, locales).
var Embedded fs.FS = files

// LoadFS builds the assets from a file tree laid out like the embedded one, as Load does from
// the embedded files: the upgrade test serves a second version of the app from it.
func LoadFS(fsys fs.FS) (*Assets, error) { return load(fsys) }
