// Loads the inspector's WebAssembly; its `main` mounts the page.
import init from "/pkg/inspector.js";

init({ module_or_path: "/pkg/inspector_bg.wasm" });
