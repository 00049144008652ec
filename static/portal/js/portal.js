// The portal's own small scripts, on every page. (ACC-3's idle notice is idle.js.)
